/*
 * test_rpc.c — libs/rpc, C client against C server on loopback: messages and metadata
 * both ways, every status code with its message, deadlines (visible, exceeded,
 * propagated), unknown methods, undecodable and oversized messages, async calls and
 * client cancellation, health Check. No timing is asserted beyond generous bounds.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "echo_service.h"
#include "grpc/health/v1/health.pb-c.h"
#include "vt_test.h"
#include "vt_test_rpc.h"

#define ECHO (&venta__test__v1__echo__descriptor)
#define HEALTH (&grpc__health__v1__health__descriptor)

static vt_rpc_server *srv;
static rpc_echo_state echo;
static vt_rpc_channel *ch;
static char target[64];

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* Waits up to 10 s for *v >= want. */
static bool wait_atomic(atomic_int *v, int want)
{
    for (int i = 0; i < 2000 && atomic_load(v) < want; i++)
        sleep_ms(5);
    return atomic_load(v) >= want;
}

static int echo_call(const Venta__Test__V1__EchoRequest *req, const vt_rpc_call_opts *o,
                     vt_rpc_reply **r)
{
    return vt_rpc_call_unary(ch, ECHO, "Unary", &req->base, o, r);
}

static const Venta__Test__V1__EchoResponse *resp_of(const vt_rpc_reply *r)
{
    return (const Venta__Test__V1__EchoResponse *)vt_rpc_reply_response(r);
}

static void test_roundtrip(void)
{
    Venta__Test__V1__EchoRequest req = VENTA__TEST__V1__ECHO_REQUEST__INIT;
    uint8_t bytes[3] = {0, 1, 255};
    req.message = "hello";
    req.payload.data = bytes;
    req.payload.len = 3;
    req.metadata_key = "x-extra";
    vt_rpc_md extra[] = {{"x-extra", "value-1"}};
    vt_rpc_call_opts o = {
        .request_id = "req-abc.1", .user_id = "user_2abc", .metadata = extra, .metadata_count = 1};
    vt_rpc_reply *r;
    VT_CHECK_INT(echo_call(&req, &o, &r), VT_OK);
    const Venta__Test__V1__EchoResponse *resp = resp_of(r);
    VT_REQUIRE(resp);
    VT_CHECK_STR(resp->message, "hello");
    VT_CHECK_INT(resp->payload.len, 3);
    VT_CHECK(memcmp(resp->payload.data, bytes, 3) == 0);
    VT_CHECK_STR(resp->request_id, "req-abc.1");
    VT_CHECK_STR(resp->user_id, "user_2abc");
    VT_CHECK_STR(resp->metadata_value, "value-1");
    VT_CHECK(resp->worker >= 0 && resp->worker < 3);
    VT_CHECK_STR(vt_rpc_reply_metadata(r, "x-echo-initial"), "initial");
    VT_CHECK_STR(vt_rpc_reply_metadata(r, "x-echo-trailer"), "trailer");
    VT_CHECK_STR(vt_rpc_reply_metadata(r, "x-request-id"), "req-abc.1");
    VT_CHECK_INT(vt_rpc_reply_attempts(r), 1);
    vt_rpc_reply_free(r);
}

/* traceparent metadata: the option's span, else the thread's current span, else none;
 * the server's context continues it (malformed ones are replaced: tests/unit/core). */
static void test_trace_metadata(void)
{
    Venta__Test__V1__EchoRequest req = VENTA__TEST__V1__ECHO_REQUEST__INIT;
    req.message = "traced";
    req.metadata_key = VT_TRACEPARENT_HEADER;
    vt_trace mine, current;
    vt_trace_child(NULL, &mine);
    vt_trace_child(NULL, &current);
    char want[VT_TRACEPARENT_LEN + 1], want_current[VT_TRACEPARENT_LEN + 1];
    vt_trace_format(&mine, want);
    vt_trace_format(&current, want_current);

    vt_rpc_call_opts o = {.trace = &mine};
    vt_rpc_reply *r;
    VT_CHECK_INT(echo_call(&req, &o, &r), VT_OK);
    VT_REQUIRE(resp_of(r));
    VT_CHECK_STR(resp_of(r)->metadata_value, want);
    vt_rpc_reply_free(r);

    const vt_trace *outer = vt_trace_set_current(&current);
    VT_CHECK_INT(echo_call(&req, NULL, &r), VT_OK);
    VT_REQUIRE(resp_of(r));
    VT_CHECK_STR(resp_of(r)->metadata_value, want_current);
    vt_rpc_reply_free(r);
    VT_CHECK_INT(echo_call(&req, &o, &r), VT_OK); /* the option wins over the thread's */
    VT_REQUIRE(resp_of(r));
    VT_CHECK_STR(resp_of(r)->metadata_value, want);
    vt_rpc_reply_free(r);
    vt_trace_set_current(outer);

    VT_CHECK_INT(echo_call(&req, NULL, &r), VT_OK);
    VT_REQUIRE(resp_of(r));
    VT_CHECK_STR(resp_of(r)->metadata_value, "");
    vt_rpc_reply_free(r);
}

/* Connection state for readiness reports: ready after calls; a port nobody listens on
 * ends "unavailable" (after its connect attempt fails), never blocking the caller. */
static void test_channel_state(void)
{
    VT_CHECK_STR(vt_rpc_channel_state(ch), "ready");
    int fd = socket(AF_INET, SOCK_STREAM, 0); /* a port that refuses: bound, not listening */
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    VT_REQUIRE(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
               getsockname(fd, (struct sockaddr *)&a, &alen) == 0);
    char dead[64];
    snprintf(dead, sizeof dead, "127.0.0.1:%d", ntohs(a.sin_port));
    vt_rpc_channel_opts no_target = {0};
    vt_rpc_channel *none = NULL;
    char why[128];
    VT_CHECK_INT(vt_rpc_channel_new(&no_target, &none, why, sizeof why), VT_INVALID_ARGUMENT);
    VT_CHECK_STR(why, "a channel needs a target");
    VT_CHECK(none == NULL);
    vt_rpc_channel *down = vt_test_channel(dead, NULL);
    const char *state = vt_rpc_channel_state(down); /* idle → starts connecting */
    VT_CHECK(strcmp(state, "idle") == 0 || strcmp(state, "connecting") == 0 ||
             strcmp(state, "unavailable") == 0);
    for (int i = 0; i < 200 && strcmp(state, "unavailable") != 0; i++) {
        usleep(10000);
        state = vt_rpc_channel_state(down);
    }
    VT_CHECK_STR(state, "unavailable");
    vt_rpc_channel_free(down);
    close(fd);
}

/* A second server on a port that is taken fails to listen (no SO_REUSEPORT sharing). */
static void test_port_taken(void)
{
    vt_rpc_server_opts so = {.threads = 1};
    vt_rpc_server *second = vt_test_server(&so);
    VT_REQUIRE(second);
    int port = 0;
    VT_CHECK(vt_rpc_server_listen(second, target, &port) != 0);
    vt_rpc_server_free(second);
}

static void test_request_id_generated(void)
{
    /* No id from the caller: the client generates one. An insane one ("bad id" has a
     * space, which metadata allows): the server replaces it with its own. Either way
     * the handler and the response metadata agree on one 32-hex-digit id. */
    const char *given[2] = {NULL, "bad id"};
    for (int i = 0; i < 2; i++) {
        Venta__Test__V1__EchoRequest req = VENTA__TEST__V1__ECHO_REQUEST__INIT;
        vt_rpc_call_opts o = {.request_id = given[i]};
        vt_rpc_reply *r;
        VT_CHECK_INT(echo_call(&req, &o, &r), VT_OK);
        const Venta__Test__V1__EchoResponse *resp = resp_of(r);
        VT_REQUIRE(resp);
        VT_CHECK_INT(strlen(resp->request_id), VT_REQUEST_ID_LEN);
        VT_CHECK(vt_request_id_sane(resp->request_id));
        VT_CHECK_STR(vt_rpc_reply_metadata(r, "x-request-id"), resp->request_id);
        VT_CHECK_STR(resp->user_id, "");
        vt_rpc_reply_free(r);
    }
}

static void test_every_status_code(void)
{
    for (int code = 1; code < VT_STATUS_COUNT; code++) {
        Venta__Test__V1__EchoRequest req = VENTA__TEST__V1__ECHO_REQUEST__INIT;
        char msg[64];
        snprintf(msg, sizeof msg, "failure %s (%d) ünïcode", vt_status_name(code), code);
        req.status_code = code;
        req.status_message = msg;
        vt_rpc_reply *r;
        int rc = echo_call(&req, NULL, &r);
        VT_CHECK_INT(rc, code);
        VT_CHECK_INT(vt_rpc_reply_status(r), code);
        VT_CHECK_STR(vt_rpc_reply_message(r), msg);
        VT_CHECK(vt_rpc_reply_response(r) == NULL);
        VT_CHECK_STR(vt_rpc_reply_metadata(r, "x-echo-trailer"), "trailer");
        vt_rpc_reply_free(r);
    }
}

static void test_deadline_visible(void)
{
    Venta__Test__V1__EchoRequest req = VENTA__TEST__V1__ECHO_REQUEST__INIT;
    vt_rpc_call_opts o = {.timeout_ms = 30000};
    vt_rpc_reply *r;
    VT_CHECK_INT(echo_call(&req, &o, &r), VT_OK);
    const Venta__Test__V1__EchoResponse *resp = resp_of(r);
    VT_REQUIRE(resp);
    /* grpc-timeout travels rounded up to a coarse unit (30 s arrives as ~30.1 s). */
    VT_CHECK(resp->deadline_ms > 20000 && resp->deadline_ms <= 31000);
    vt_rpc_reply_free(r);
}

static void test_deadline_exceeded(void)
{
    int before = atomic_load(&echo.cancelled);
    Venta__Test__V1__EchoRequest req = VENTA__TEST__V1__ECHO_REQUEST__INIT;
    req.sleep_ms = 20000;
    vt_rpc_call_opts o = {.timeout_ms = 300};
    vt_rpc_reply *r;
    VT_CHECK_INT(echo_call(&req, &o, &r), VT_DEADLINE_EXCEEDED);
    vt_rpc_reply_free(r);
    /* The handler noticed and stopped instead of sleeping 20 s. */
    VT_CHECK(wait_atomic(&echo.cancelled, before + 1));
}

/* A second server whose Unary handler calls the echo server with parent = ctx. */
static int proxy_unary(vt_rpc_ctx *ctx, const ProtobufCMessage *in, ProtobufCMessage *out,
                       void *user)
{
    vt_rpc_channel *down = user;
    const Venta__Test__V1__EchoRequest *req = (const void *)in;
    Venta__Test__V1__EchoResponse *resp = (void *)out;
    vt_rpc_call_opts o = {.parent = ctx, .timeout_ms = 60000};
    vt_rpc_reply *r;
    int rc = vt_rpc_call_unary(down, ECHO, "Unary", &req->base, &o, &r);
    if (rc != VT_OK) {
        rc = vt_rpc_ctx_error(ctx, rc, "downstream: %s", vt_rpc_reply_message(r));
        vt_rpc_reply_free(r);
        return rc;
    }
    const Venta__Test__V1__EchoResponse *d = (const void *)vt_rpc_reply_response(r);
    resp->deadline_ms = d->deadline_ms;
    resp->request_id = vt_rpc_ctx_strdup(ctx, d->request_id);
    resp->user_id = vt_rpc_ctx_strdup(ctx, d->user_id);
    resp->message = vt_rpc_ctx_strdup(ctx, d->message);
    resp->metadata_value = vt_rpc_ctx_strdup(ctx, d->metadata_value);
    VT_CHECK(vt_rpc_ctx_downstream_timeout_ms(ctx, 100) <= 100);
    VT_CHECK(vt_rpc_ctx_downstream_timeout_ms(ctx, 0) <= 5200); /* 5 s, rounded up on the wire */
    vt_rpc_reply_free(r);
    return VT_OK;
}

static void test_deadline_propagation(void)
{
    vt_rpc_server *proxy = vt_test_server(NULL);
    VT_REQUIRE(proxy);
    VT_REQUIRE(vt_rpc_server_add_method(proxy, ECHO, "Unary", proxy_unary, ch) == 0);
    int port = 0;
    VT_REQUIRE(vt_rpc_server_listen(proxy, "127.0.0.1:0", &port) == 0);
    VT_REQUIRE(vt_rpc_server_start(proxy) == 0);
    char t[64];
    snprintf(t, sizeof t, "127.0.0.1:%d", port);
    vt_rpc_channel *pch = vt_test_channel(t, NULL);

    Venta__Test__V1__EchoRequest req = VENTA__TEST__V1__ECHO_REQUEST__INIT;
    req.message = "via proxy";
    req.metadata_key = VT_TRACEPARENT_HEADER;
    vt_trace mine;
    vt_trace_child(NULL, &mine);
    vt_rpc_call_opts o = {
        .timeout_ms = 5000, .request_id = "trace-1", .user_id = "user_x", .trace = &mine};
    vt_rpc_reply *r;
    VT_CHECK_INT(vt_rpc_call_unary(pch, ECHO, "Unary", &req.base, &o, &r), VT_OK);
    const Venta__Test__V1__EchoResponse *resp = resp_of(r);
    VT_REQUIRE(resp);
    /* The downstream saw the caller's 5 s budget, not the proxy's own 60 s. */
    VT_CHECK(resp->deadline_ms > 0 && resp->deadline_ms <= 5200);
    VT_CHECK_STR(resp->request_id, "trace-1");
    VT_CHECK_STR(resp->user_id, "user_x");
    VT_CHECK_STR(resp->message, "via proxy");
    /* The trace too: the downstream call came from the proxy's span of it. */
    vt_trace downstream;
    VT_CHECK(vt_trace_parse(resp->metadata_value, strlen(resp->metadata_value), &downstream));
    VT_CHECK(memcmp(downstream.trace_id, mine.trace_id, 16) == 0);
    VT_CHECK(memcmp(downstream.span_id, mine.span_id, 8) != 0);
    vt_rpc_reply_free(r);

    /* The caller's deadline passes while downstream sleeps: DEADLINE_EXCEEDED. */
    req.sleep_ms = 20000;
    o.timeout_ms = 300;
    VT_CHECK_INT(vt_rpc_call_unary(pch, ECHO, "Unary", &req.base, &o, &r), VT_DEADLINE_EXCEEDED);
    vt_rpc_reply_free(r);

    vt_rpc_channel_free(pch);
    vt_rpc_server_shutdown(proxy, 5000);
    vt_rpc_server_free(proxy);
}

static void test_unimplemented(void)
{
    vt_rpc_reply *r;
    VT_CHECK_INT(vt_rpc_call_raw(ch, "/venta.test.v1.Echo/Nope", "", 0, NULL, &r),
                 VT_UNIMPLEMENTED);
    VT_CHECK(strstr(vt_rpc_reply_message(r), "/venta.test.v1.Echo/Nope") != NULL);
    vt_rpc_reply_free(r);
    VT_CHECK_INT(vt_rpc_call_raw(ch, "/no.such.Service/X", "\x0a\x01x", 3, NULL, &r),
                 VT_UNIMPLEMENTED);
    vt_rpc_reply_free(r);
    /* Unknown method names are refused by the client before sending. */
    Venta__Test__V1__EchoRequest req = VENTA__TEST__V1__ECHO_REQUEST__INIT;
    VT_CHECK_INT(vt_rpc_call_unary(ch, ECHO, "Nope", &req.base, NULL, &r), VT_INVALID_ARGUMENT);
    vt_rpc_reply_free(r);
}

static void test_invalid_request(void)
{
    /* Field 1 (string) claiming 100 bytes with 2 present; then a bad wire type. */
    static const char truncated[] = "\x0a\x64hi";
    static const char bad_wire[] = "\x0f\x01";
    vt_rpc_reply *r;
    VT_CHECK_INT(vt_rpc_call_raw(ch, "/venta.test.v1.Echo/Unary", truncated, 4, NULL, &r),
                 VT_INVALID_ARGUMENT);
    VT_CHECK(strstr(vt_rpc_reply_message(r), "venta.test.v1.EchoRequest") != NULL);
    vt_rpc_reply_free(r);
    VT_CHECK_INT(vt_rpc_call_raw(ch, "/venta.test.v1.Echo/Unary", bad_wire, 2, NULL, &r),
                 VT_INVALID_ARGUMENT);
    vt_rpc_reply_free(r);
    VT_CHECK_INT(vt_rpc_call_raw(ch, "/grpc.health.v1.Health/Check", truncated, 4, NULL, &r),
                 VT_INVALID_ARGUMENT);
    vt_rpc_reply_free(r);
    /* A valid empty message still works afterwards. */
    VT_CHECK_INT(vt_rpc_call_raw(ch, "/venta.test.v1.Echo/Unary", "", 0, NULL, &r), VT_OK);
    size_t len = 99;
    VT_CHECK(vt_rpc_reply_bytes(r, &len) != NULL);
    VT_CHECK(len > 0); /* request_id at least */
    vt_rpc_reply_free(r);
}

static void test_oversized(void)
{
    /* The server allows 64 KiB. */
    size_t big = 100 * 1024;
    uint8_t *buf = calloc(1, big);
    Venta__Test__V1__EchoRequest req = VENTA__TEST__V1__ECHO_REQUEST__INIT;
    req.payload.data = buf;
    req.payload.len = big;
    int calls = atomic_load(&echo.calls);
    vt_rpc_reply *r;
    VT_CHECK_INT(echo_call(&req, NULL, &r), VT_RESOURCE_EXHAUSTED);
    vt_rpc_reply_free(r);
    VT_CHECK_INT(atomic_load(&echo.calls), calls); /* rejected before any handler ran */

    /* A response over the limit fails the call, it is not cut. */
    req.payload.len = 10;
    req.response_size = 70 * 1024;
    VT_CHECK_INT(echo_call(&req, NULL, &r), VT_RESOURCE_EXHAUSTED);
    vt_rpc_reply_free(r);

    /* Just under the limit passes. */
    req.response_size = 0;
    req.payload.len = 60 * 1024;
    VT_CHECK_INT(echo_call(&req, NULL, &r), VT_OK);
    if (resp_of(r))
        VT_CHECK_INT(resp_of(r)->payload.len, 60 * 1024);
    vt_rpc_reply_free(r);

    /* The client's own limit (here 128 KiB) is checked before sending. */
    vt_rpc_channel_opts co = {.max_message_bytes = 128 * 1024};
    vt_rpc_channel *small = vt_test_channel(target, &co);
    req.payload.len = 0;
    uint8_t *huge = calloc(1, 200 * 1024);
    req.payload.data = huge;
    req.payload.len = 200 * 1024;
    VT_CHECK_INT(vt_rpc_call_unary(small, ECHO, "Unary", &req.base, NULL, &r),
                 VT_RESOURCE_EXHAUSTED);
    vt_rpc_reply_free(r);
    vt_rpc_channel_free(small);
    free(huge);
    free(buf);
}

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done, ok, status;
    char message[128];
} waiter;

static void on_done(vt_rpc_reply *r, void *user)
{
    waiter *w = user;
    pthread_mutex_lock(&w->mu);
    w->done++;
    w->status = vt_rpc_reply_status(r);
    snprintf(w->message, sizeof w->message, "%s", vt_rpc_reply_message(r));
    if (w->status == VT_OK) {
        const Venta__Test__V1__EchoResponse *resp = resp_of(r);
        if (resp && strcmp(resp->message, "async") == 0)
            w->ok++;
    }
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    vt_rpc_reply_free(r);
}

static bool wait_done(waiter *w, int n)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&w->mu);
    while (w->done < n)
        if (pthread_cond_timedwait(&w->cv, &w->mu, &until) != 0)
            break;
    bool ok = w->done >= n;
    pthread_mutex_unlock(&w->mu);
    return ok;
}

static void test_async(void)
{
    waiter w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    Venta__Test__V1__EchoRequest req = VENTA__TEST__V1__ECHO_REQUEST__INIT;
    req.message = "async";
    const int n = 300;
    for (int i = 0; i < n; i++)
        VT_CHECK_INT(vt_rpc_call_async(ch, ECHO, "Unary", &req.base, NULL, on_done, &w, NULL), 0);
    VT_CHECK(wait_done(&w, n));
    VT_CHECK_INT(w.ok, n);
    /* Bad arguments fail at once and never call back. */
    VT_CHECK_INT(vt_rpc_call_async(ch, ECHO, "Nope", &req.base, NULL, on_done, &w, NULL),
                 VT_INVALID_ARGUMENT);
    sleep_ms(50);
    VT_CHECK_INT(w.done, n);
}

static void test_client_cancel(void)
{
    waiter w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    int sleeping = atomic_load(&echo.sleeping);
    int cancelled = atomic_load(&echo.cancelled);
    Venta__Test__V1__EchoRequest req = VENTA__TEST__V1__ECHO_REQUEST__INIT;
    req.message = "async";
    req.sleep_ms = 20000;
    vt_rpc_call_opts o = {.timeout_ms = 60000};
    vt_rpc_async *h;
    VT_REQUIRE(vt_rpc_call_async(ch, ECHO, "Unary", &req.base, &o, on_done, &w, &h) == 0);
    VT_CHECK(wait_atomic(&echo.sleeping, sleeping + 1)); /* the handler is running */
    vt_rpc_async_cancel(h);
    VT_CHECK(wait_done(&w, 1));
    VT_CHECK_INT(w.status, VT_CANCELLED);
    /* The server saw the cancellation and stopped the handler. */
    VT_CHECK(wait_atomic(&echo.cancelled, cancelled + 1));
    vt_rpc_async_cancel(h); /* after completion: harmless */
    vt_rpc_async_free(h);
}

static int check(const char *service, int *status)
{
    Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    req.service = (char *)service;
    vt_rpc_reply *r;
    int rc = vt_rpc_call_unary(ch, HEALTH, "Check", &req.base, NULL, &r);
    const Grpc__Health__V1__HealthCheckResponse *resp = (const void *)vt_rpc_reply_response(r);
    *status = resp ? (int)resp->status : -1;
    vt_rpc_reply_free(r);
    return rc;
}

static void test_health_check(void)
{
    int st;
    VT_CHECK_INT(check("", &st), VT_OK);
    VT_CHECK_INT(st, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
    VT_CHECK_INT(check("venta.test.v1.Echo", &st), VT_OK);
    VT_CHECK_INT(st, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
    VT_CHECK_INT(check("venta.nope.v1.Nope", &st), VT_NOT_FOUND);

    vt_rpc_health_set_dependency(srv, "postgres", true);
    vt_rpc_health_set_dependency(srv, "nats", false);
    VT_CHECK_INT(check("", &st), VT_OK);
    VT_CHECK_INT(st, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING);
    VT_CHECK_INT(check("venta.test.v1.Echo", &st), VT_OK);
    VT_CHECK_INT(st, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING);
    VT_CHECK_INT(check("postgres", &st), VT_OK);
    VT_CHECK_INT(st, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
    VT_CHECK_INT(check("nats", &st), VT_OK);
    VT_CHECK_INT(st, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING);
    vt_rpc_health_set_dependency(srv, "nats", true);
    VT_CHECK_INT(check("", &st), VT_OK);
    VT_CHECK_INT(st, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);

    vt_rpc_health_set(srv, "venta.test.v1.Echo", VT_RPC_HEALTH_NOT_SERVING);
    VT_CHECK_INT(vt_rpc_health_get(srv, "venta.test.v1.Echo"), VT_RPC_HEALTH_NOT_SERVING);
    VT_CHECK_INT(vt_rpc_health_get(srv, ""), VT_RPC_HEALTH_SERVING);
    vt_rpc_health_set(srv, "venta.test.v1.Echo", VT_RPC_HEALTH_SERVING);
    VT_CHECK_INT(vt_rpc_health_get(srv, "nope"), VT_RPC_HEALTH_SERVICE_UNKNOWN);
}

static void test_api_misuse(void)
{
    /* Methods cannot be added once the server runs. */
    VT_CHECK_INT(vt_rpc_server_add_method(srv, HEALTH, "Check", proxy_unary, NULL),
                 VT_FAILED_PRECONDITION);
    vt_rpc_server *s = vt_test_server(NULL);
    VT_CHECK_INT(vt_rpc_server_add_method(s, ECHO, "Nope", proxy_unary, NULL), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_rpc_server_add_method(s, ECHO, "Unary", proxy_unary, NULL), 0);
    VT_CHECK_INT(vt_rpc_server_add_method(s, ECHO, "Unary", proxy_unary, NULL), VT_ALREADY_EXISTS);
    vt_rpc_server_free(s); /* never started */
    char path[64];
    VT_CHECK_INT(vt_rpc_method_path(ECHO, "Unary", path, sizeof path), 0);
    VT_CHECK_STR(path, "/venta.test.v1.Echo/Unary");
    VT_CHECK_INT(vt_rpc_method_path(ECHO, "Unary", path, 5), VT_INVALID_ARGUMENT);
}

static void *worker_init(int index, void *arg)
{
    atomic_int *inits = arg;
    atomic_fetch_add(inits, 1);
    return (void *)(intptr_t)(index + 100);
}

static void worker_fini(int index, void *worker, void *arg)
{
    atomic_int *inits = arg;
    if ((intptr_t)worker == index + 100)
        atomic_fetch_sub(inits, 1);
}

int main(void)
{
    vt_log_init("test-rpc", VT_LOG_WARN);
    static atomic_int inits;
    vt_rpc_server_opts so = {.threads = 3,
                             .max_message_bytes = 64 * 1024,
                             .worker_init = worker_init,
                             .worker_fini = worker_fini,
                             .worker_arg = &inits};
    srv = vt_test_server(&so);
    VT_REQUIRE(srv);
    VT_REQUIRE(rpc_echo_register(srv, &echo) == 0);
    int port = 0;
    VT_REQUIRE(vt_rpc_server_listen(srv, "127.0.0.1:0", &port) == 0 && port > 0);
    VT_REQUIRE(vt_rpc_server_start(srv) == 0);
    snprintf(target, sizeof target, "127.0.0.1:%d", port);
    ch = vt_test_channel(target, NULL);
    VT_REQUIRE(ch);

    VT_RUN(test_roundtrip);
    VT_RUN(test_trace_metadata);
    VT_RUN(test_channel_state);
    VT_RUN(test_port_taken);
    VT_RUN(test_request_id_generated);
    VT_RUN(test_every_status_code);
    VT_RUN(test_deadline_visible);
    VT_RUN(test_deadline_exceeded);
    VT_RUN(test_deadline_propagation);
    VT_RUN(test_unimplemented);
    VT_RUN(test_invalid_request);
    VT_RUN(test_oversized);
    VT_RUN(test_async);
    VT_RUN(test_client_cancel);
    VT_RUN(test_health_check);
    VT_RUN(test_api_misuse);

    vt_rpc_channel_free(ch);
    VT_CHECK(wait_atomic(&inits, 3));
    vt_rpc_server_shutdown(srv, 5000);
    VT_CHECK_INT(atomic_load(&inits), 0); /* every worker_fini ran */
    vt_rpc_server_free(srv);
    return VT_TEST_RESULT();
}
