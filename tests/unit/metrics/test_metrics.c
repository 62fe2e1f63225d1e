/*
 * Unit tests of libs/metrics: series registration, concurrent updates, the Prometheus
 * text format (families, labels, cumulative buckets), and the /metrics HTTP endpoint.
 */
#include "vt_metrics.h"
#include "vt_test.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

static double queue_depth(void *user)
{
    return *(int *)user;
}

static void test_render_format(void)
{
    vt_metrics *reg = vt_metrics_new();
    vt_counter *ok = vt_metrics_counter(reg, "venta_requests_total", "Requests.", "code=\"OK\"");
    vt_counter *nf =
        vt_metrics_counter(reg, "venta_requests_total", "Requests.", "code=\"NOT_FOUND\"");
    VT_CHECK(ok && nf && ok != nf);
    VT_CHECK(vt_metrics_counter(reg, "venta_requests_total", "x", "code=\"OK\"") == ok);
    VT_CHECK(vt_metrics_gauge(reg, "venta_requests_total", "clash", NULL) == NULL);
    VT_CHECK(vt_metrics_counter(reg, "bad name", "x", NULL) == NULL);
    vt_counter_add(ok, 3);
    vt_counter_inc(nf);
    vt_gauge *g = vt_metrics_gauge(reg, "venta_connections", "Open connections.", NULL);
    vt_gauge_set(g, 5);
    vt_gauge_add(g, -2);
    VT_CHECK_NEAR(vt_gauge_value(g), 3, 1e-9);
    int depth = 7;
    VT_CHECK_INT(vt_metrics_gauge_fn(reg, "venta_queue_depth", "Depth.", NULL, queue_depth, &depth),
                 VT_OK);
    const double bounds[] = {0.001, 0.01, 0.1};
    vt_histogram *h =
        vt_metrics_histogram(reg, "venta_latency_seconds", "Latency.", "m=\"Get\"", bounds, 3);
    vt_histogram_observe(h, 0.0005);
    vt_histogram_observe(h, 0.005);
    vt_histogram_observe(h, 0.005);
    vt_histogram_observe(h, 5);
    VT_CHECK_INT(vt_histogram_count(h), 4);

    char *text;
    size_t len = vt_metrics_render(reg, &text);
    VT_CHECK_INT(len, strlen(text));
    VT_CHECK(strstr(text, "# TYPE venta_requests_total counter\n"
                          "venta_requests_total{code=\"OK\"} 3\n"
                          "venta_requests_total{code=\"NOT_FOUND\"} 1\n") != NULL);
    VT_CHECK(strstr(text, "# TYPE venta_connections gauge\nventa_connections 3\n") != NULL);
    VT_CHECK(strstr(text, "venta_queue_depth 7\n") != NULL);
    VT_CHECK(strstr(text, "venta_latency_seconds_bucket{m=\"Get\",le=\"0.001\"} 1\n") != NULL);
    VT_CHECK(strstr(text, "venta_latency_seconds_bucket{m=\"Get\",le=\"0.01\"} 3\n") != NULL);
    VT_CHECK(strstr(text, "venta_latency_seconds_bucket{m=\"Get\",le=\"0.1\"} 3\n") != NULL);
    VT_CHECK(strstr(text, "venta_latency_seconds_bucket{m=\"Get\",le=\"+Inf\"} 4\n") != NULL);
    VT_CHECK(strstr(text, "venta_latency_seconds_count{m=\"Get\"} 4\n") != NULL);
    VT_CHECK(strstr(text, "venta_latency_seconds_sum{m=\"Get\"} 5.0105") != NULL);
    /* One HELP/TYPE per family. */
    VT_CHECK(strstr(strstr(text, "# TYPE venta_requests_total") + 1,
                    "# TYPE venta_requests_total") == NULL);
    free(text);
    vt_metrics_free(reg);
}

static double must_not_run(void *user)
{
    (void)user;
    VT_CHECK(!"a detached gauge function was called");
    return 0;
}

/* A component that frees what its gauge functions read detaches them first. */
static void test_gauge_fn_detach(void)
{
    vt_metrics *reg = vt_metrics_new();
    int a = 1, b = 2;
    VT_CHECK_INT(vt_metrics_gauge_fn(reg, "venta_a", "A.", NULL, must_not_run, &a), VT_OK);
    VT_CHECK_INT(vt_metrics_gauge_fn(reg, "venta_a2", "A2.", NULL, must_not_run, &a), VT_OK);
    VT_CHECK_INT(vt_metrics_gauge_fn(reg, "venta_b", "B.", NULL, queue_depth, &b), VT_OK);
    vt_metrics_gauge_fn_detach(reg, &a);
    vt_metrics_gauge_fn_detach(NULL, &a);
    char *text;
    vt_metrics_render(reg, &text);
    VT_CHECK(strstr(text, "venta_a 0\n") != NULL);
    VT_CHECK(strstr(text, "venta_a2 0\n") != NULL);
    VT_CHECK(strstr(text, "venta_b 2\n") != NULL);
    free(text);
    vt_metrics_free(reg);
}

static vt_counter *shared_counter;
static vt_histogram *shared_hist;
static void *hammer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100000; i++) {
        vt_counter_inc(shared_counter);
        vt_histogram_observe(shared_hist, 0.25); /* exact in binary: the sum is exact */
    }
    return NULL;
}

static void test_concurrent_updates(void)
{
    vt_metrics *reg = vt_metrics_new();
    shared_counter = vt_metrics_counter(reg, "hits_total", "Hits.", NULL);
    shared_hist = vt_metrics_histogram(reg, "lat_seconds", "Lat.", NULL, vt_metrics_latency_bounds,
                                       vt_metrics_latency_nbounds);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, hammer, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    VT_CHECK_INT(vt_counter_value(shared_counter), 400000);
    VT_CHECK_INT(vt_histogram_count(shared_hist), 400000);
    char *text;
    vt_metrics_render(reg, &text);
    VT_CHECK(strstr(text, "lat_seconds_sum 100000\n") != NULL);
    free(text);
    vt_metrics_free(reg);
}

static int http_get(int port, const char *request, char *out, size_t outlen)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        return -1;
    send(fd, request, strlen(request), 0);
    size_t used = 0;
    ssize_t n;
    while ((n = recv(fd, out + used, outlen - 1 - used, 0)) > 0)
        used += (size_t)n;
    out[used] = '\0';
    close(fd);
    return atoi(out + 9);
}

static void test_http_endpoint(void)
{
    vt_metrics *reg = vt_metrics_new();
    vt_counter_add(vt_metrics_counter(reg, "venta_up_total", "Up.", NULL), 2);
    vt_addr addr = {.host = "127.0.0.1", .port = 0};
    vt_metrics_server *srv = NULL;
    char err[256], out[8192];
    vt_metrics_server_opts o = {.reg = reg, .addr = addr};
    VT_REQUIRE(vt_metrics_server_new(&o, &srv, err, sizeof err) == VT_OK);
    VT_REQUIRE(vt_metrics_server_start(srv, err, sizeof err) == VT_OK);
    int port = vt_metrics_server_port(srv);
    VT_CHECK(port > 0);
    VT_CHECK_INT(http_get(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", out, sizeof out), 200);
    VT_CHECK(strstr(out, "Content-Type: text/plain; version=0.0.4") != NULL);
    VT_CHECK(strstr(out, "venta_up_total 2\n") != NULL);
    VT_CHECK_INT(http_get(port, "GET /healthz HTTP/1.1\r\n\r\n", out, sizeof out), 200);
    VT_CHECK_INT(http_get(port, "GET /nope HTTP/1.1\r\n\r\n", out, sizeof out), 404);
    /* No ready callback: no /readyz. */
    VT_CHECK_INT(http_get(port, "GET /readyz HTTP/1.1\r\n\r\n", out, sizeof out), 404);
    VT_CHECK_INT(http_get(port, "POST /metrics HTTP/1.1\r\n\r\n", out, sizeof out), 405);
    VT_CHECK_INT(http_get(port, "garbage\r\n\r\n", out, sizeof out), 400);
    /* The same address twice is refused with a clear error. */
    vt_addr taken = {.host = "127.0.0.1", .port = (uint16_t)port};
    vt_metrics_server *second = NULL;
    vt_metrics_server_opts o2 = {.reg = reg, .addr = taken};
    VT_REQUIRE(vt_metrics_server_new(&o2, &second, err, sizeof err) == VT_OK);
    VT_CHECK_INT(vt_metrics_server_start(second, err, sizeof err), VT_UNAVAILABLE);
    VT_CHECK(strstr(err, "cannot listen") != NULL);
    vt_metrics_server_free(second);
    vt_metrics_server_stop(srv);
    vt_metrics_server_free(srv);
    vt_metrics_free(reg);
}

static atomic_bool ready_now;

static bool ready_fn(void *user)
{
    return user == &ready_now && atomic_load(&ready_now);
}

/* GET /readyz follows the callback: 503 while it says no, 200 once it says yes. */
static void test_readyz(void)
{
    vt_metrics *reg = vt_metrics_new();
    vt_metrics_server *srv = NULL;
    char err[256], out[8192];
    vt_metrics_server_opts o = {.reg = reg,
                                .addr = {.host = "127.0.0.1", .port = 0},
                                .ready = ready_fn,
                                .ready_user = &ready_now};
    VT_REQUIRE(vt_metrics_server_new(&o, &srv, err, sizeof err) == VT_OK);
    VT_REQUIRE(vt_metrics_server_start(srv, err, sizeof err) == VT_OK);
    int port = vt_metrics_server_port(srv);
    VT_CHECK_INT(http_get(port, "GET /readyz HTTP/1.1\r\n\r\n", out, sizeof out), 503);
    VT_CHECK(strstr(out, "{\"status\":\"not ready\"}") != NULL);
    atomic_store(&ready_now, true);
    VT_CHECK_INT(http_get(port, "GET /readyz HTTP/1.1\r\n\r\n", out, sizeof out), 200);
    VT_CHECK(strstr(out, "{\"status\":\"ready\"}") != NULL);
    VT_CHECK_INT(http_get(port, "POST /readyz HTTP/1.1\r\n\r\n", out, sizeof out), 405);
    vt_metrics_server_free(srv);
    vt_metrics_free(reg);
}

int main(void)
{
    VT_RUN(test_render_format);
    VT_RUN(test_gauge_fn_detach);
    VT_RUN(test_concurrent_updates);
    VT_RUN(test_http_endpoint);
    VT_RUN(test_readyz);
    return VT_TEST_RESULT();
}
