/*
 * Integration tests of libs/bus against a real nats-server from the harness:
 * publish/subscribe, queue groups, bad subjects and URLs, starting while NATS is down,
 * and surviving a NATS restart with subscriptions intact.
 */
#include "vt_bus.h"
#include "vt_core.h"
#include "vt_harness.h"
#include "vt_test.h"
#include "vt_test_bus.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

typedef struct {
    atomic_int count;
    char last[128];
    pthread_mutex_t lock;
} inbox;

static void collect(const char *subject, const void *data, size_t len, void *user)
{
    inbox *in = user;
    pthread_mutex_lock(&in->lock);
    snprintf(in->last, sizeof in->last, "%s=%.*s", subject, (int)len, (const char *)data);
    pthread_mutex_unlock(&in->lock);
    atomic_fetch_add(&in->count, 1);
}

static bool wait_count(inbox *in, int want, int ms)
{
    for (int i = 0; i < ms / 10; i++) {
        if (atomic_load(&in->count) >= want)
            return true;
        usleep(10000);
    }
    return atomic_load(&in->count) >= want;
}

static void test_url_validation(void)
{
    char err[256];
    VT_CHECK_INT(vt_bus_urls_valid("nats://127.0.0.1:4222", err, sizeof err), VT_OK);
    VT_CHECK_INT(vt_bus_urls_valid("nats://a:1,nats://b:2,nats://u:p@c:3", err, sizeof err), VT_OK);
    const char *bad[] = {"",
                         "127.0.0.1:4222",
                         "http://x:1",
                         "nats://x",
                         "nats://x:1,",
                         "nats://x:1,,nats://y:2",
                         "nats://:4222",
                         NULL};
    char many[66 * 16] = "nats://a:1"; /* more servers than a pool takes */
    for (int i = 0; i < 64; i++)
        strcat(many, ",nats://a:1");
    bad[sizeof bad / sizeof *bad - 1] = many;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        VT_CHECK_INT(vt_bus_urls_valid(bad[i], err, sizeof err), VT_INVALID_ARGUMENT);
    vt_bus_opts o = {.urls = "redis://127.0.0.1:1"};
    vt_bus *bus = NULL;
    VT_CHECK_INT(vt_bus_new(&o, &bus, err, sizeof err), VT_INVALID_ARGUMENT);
    VT_CHECK(bus == NULL);
}

static void test_publish_subscribe_and_queue_groups(void)
{
    vt_bus *a = vt_test_bus_connect("test-a");
    vt_bus *b = vt_test_bus_connect("test-b");
    inbox all = {.lock = PTHREAD_MUTEX_INITIALIZER};
    inbox q1 = {.lock = PTHREAD_MUTEX_INITIALIZER}, q2 = {.lock = PTHREAD_MUTEX_INITIALIZER};
    vt_bus_sub *s_all, *s_q1, *s_q2;
    VT_REQUIRE(vt_bus_subscribe(b, "loc.>", NULL, 0, collect, &all, &s_all) == VT_OK);
    VT_REQUIRE(vt_bus_subscribe(a, "loc.>", "writers", 0, collect, &q1, &s_q1) == VT_OK);
    VT_REQUIRE(vt_bus_subscribe(b, "loc.>", "writers", 0, collect, &q2, &s_q2) == VT_OK);
    VT_CHECK_INT(vt_bus_flush(a, 5000), VT_OK);
    VT_CHECK_INT(vt_bus_flush(b, 5000), VT_OK);
    for (int i = 0; i < 100; i++)
        VT_CHECK_INT(vt_bus_publish(a, "loc.d.r.5.r.k.n.v1", "hi", 2), VT_OK);
    VT_CHECK_INT(vt_bus_flush(a, 5000), VT_OK);
    VT_CHECK(wait_count(&all, 100, 10000));
    VT_CHECK(wait_count(&q1, 1, 100) || wait_count(&q2, 1, 100));
    usleep(200000);
    VT_CHECK_INT(atomic_load(&q1.count) + atomic_load(&q2.count), 100); /* each once */
    VT_CHECK_STR(all.last, "loc.d.r.5.r.k.n.v1=hi");

    /* Bad subjects are refused before they reach the server. */
    VT_CHECK_INT(vt_bus_publish(a, "has space", "x", 1), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_bus_publish(a, "trailing.", "x", 1), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_bus_publish(a, "a..b", "x", 1), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_bus_publish(a, "", "x", 1), VT_INVALID_ARGUMENT);

    /* After unsubscribe nothing more arrives. */
    vt_bus_unsubscribe(s_all);
    int before = atomic_load(&all.count);
    vt_bus_publish(a, "loc.x", "late", 4);
    vt_bus_flush(a, 5000);
    usleep(200000);
    VT_CHECK_INT(atomic_load(&all.count), before);
    vt_bus_unsubscribe(s_q1);
    vt_bus_unsubscribe(s_q2);
    vt_bus_free(a, 2000);
    vt_bus_free(b, 2000);
}

/* API.md §1: VENTA_NATS_URL may list a cluster. A list with a dead server first or
 * last connects to the live one (it used to reach nats.c as one URL and never connect). */
static void test_cluster_list_connects(void)
{
    const char *live = vt_harness_env("VENTA_TEST_NATS_URL");
    char dead_first[600], dead_last[600];
    snprintf(dead_first, sizeof dead_first, "nats://127.0.0.1:1,%s", live);
    snprintf(dead_last, sizeof dead_last, "%s,nats://127.0.0.1:1", live);
    vt_bus_opts o1 = {.urls = dead_first, .name = "test-list-1"};
    vt_bus_opts o2 = {.urls = dead_last, .name = "test-list-2"};
    vt_bus *a = NULL, *b = NULL;
    char err[256];
    VT_REQUIRE(vt_bus_new(&o1, &a, err, sizeof err) == VT_OK);
    VT_REQUIRE(vt_bus_new(&o2, &b, err, sizeof err) == VT_OK);
    VT_CHECK(vt_test_bus_wait_connected(a, 10000));
    VT_CHECK(vt_test_bus_wait_connected(b, 10000));
    inbox in = {.lock = PTHREAD_MUTEX_INITIALIZER};
    vt_bus_sub *sub;
    VT_REQUIRE(vt_bus_subscribe(b, "evt.list", NULL, 0, collect, &in, &sub) == VT_OK);
    VT_CHECK_INT(vt_bus_flush(b, 5000), VT_OK);
    VT_CHECK_INT(vt_bus_publish(a, "evt.list", "one", 3), VT_OK);
    VT_CHECK_INT(vt_bus_flush(a, 5000), VT_OK);
    VT_CHECK(wait_count(&in, 1, 10000));
    VT_CHECK_STR(in.last, "evt.list=one");
    vt_bus_unsubscribe(sub);
    vt_bus_free(a, 2000);
    vt_bus_free(b, 2000);
}

typedef struct {
    atomic_int done, status;
} flushed;

static void on_flushed(int status, void *user)
{
    flushed *f = user;
    atomic_store(&f->status, status);
    atomic_store(&f->done, 1);
}

/* After vt_bus_flush_async reports, a subscription made before it is in force at the
 * server: a message from another connection reaches it without any waiting. */
static void test_flush_async_makes_subscriptions_effective(void)
{
    vt_bus *viewer = vt_test_bus_connect("test-viewer");
    vt_bus *vendor = vt_test_bus_connect("test-vendor");
    for (int round = 0; round < 20; round++) {
        inbox in = {.lock = PTHREAD_MUTEX_INITIALIZER};
        char subject[64];
        snprintf(subject, sizeof subject, "loc.flush.%d", round);
        vt_bus_sub *sub;
        VT_REQUIRE(vt_bus_subscribe(viewer, subject, NULL, 0, collect, &in, &sub) == VT_OK);
        flushed f = {0};
        VT_CHECK_INT(vt_bus_flush_async(viewer, 5000, on_flushed, &f), VT_OK);
        for (int i = 0; i < 500 && !atomic_load(&f.done); i++)
            usleep(10000);
        VT_CHECK_INT(atomic_load(&f.status), VT_OK);
        vt_bus_publish(vendor, subject, "x", 1);
        vt_bus_flush(vendor, 5000);
        VT_CHECK(wait_count(&in, 1, 5000));
        vt_bus_unsubscribe(sub);
    }
    vt_bus_free(viewer, 2000);
    vt_bus_free(vendor, 2000);
}

static atomic_int state_changes;
static void count_state(bool up, void *user)
{
    (void)up, (void)user;
    atomic_fetch_add(&state_changes, 1);
}

static void test_start_while_down_and_survive_restart(void)
{
    VT_REQUIRE(vt_harness_server("stop", "nats") == 0);
    vt_bus_opts o = {.urls = vt_harness_env("VENTA_TEST_NATS_URL"),
                     .name = "test-restart",
                     .on_state = count_state};
    vt_bus *bus = NULL;
    char err[256];
    VT_CHECK_INT(vt_bus_new(&o, &bus, err, sizeof err), VT_OK); /* starts anyway */
    VT_REQUIRE(bus != NULL);
    VT_CHECK(!vt_bus_connected(bus));
    VT_REQUIRE(vt_harness_server("start", "nats") == 0);
    VT_CHECK(vt_test_bus_wait_connected(bus, 15000));

    inbox in = {.lock = PTHREAD_MUTEX_INITIALIZER};
    vt_bus_sub *sub;
    VT_REQUIRE(vt_bus_subscribe(bus, "vendor.*.status", NULL, 0, collect, &in, &sub) == VT_OK);
    vt_bus_flush(bus, 5000);
    vt_bus_publish(bus, "vendor.v1.status", "on", 2);
    VT_CHECK(wait_count(&in, 1, 10000));

    uint64_t first = vt_bus_connections(bus);
    VT_CHECK(first >= 1);
    VT_REQUIRE(vt_harness_server("restart", "nats") == 0);
    /* Resubscribed by itself, and connected only once the server has the replayed
     * subscription: the first message published after that arrives. */
    VT_CHECK(vt_test_bus_wait_connected(bus, 15000));
    VT_CHECK(vt_bus_connections(bus) > first);
    vt_bus *other = vt_test_bus_connect("test-other");
    VT_CHECK_INT(vt_bus_publish(other, "vendor.v2.status", "off", 3), VT_OK);
    VT_CHECK_INT(vt_bus_flush(other, 5000), VT_OK);
    VT_CHECK(wait_count(&in, 2, 5000));
    VT_CHECK(atomic_load(&state_changes) >= 3); /* up, down, up */
    vt_bus_unsubscribe(sub);
    vt_bus_free(other, 2000);
    vt_bus_free(bus, 2000);
}

int main(void)
{
    vt_log_init("test-bus", VT_LOG_WARN);
    VT_RUN(test_url_validation);
    VT_RUN(test_publish_subscribe_and_queue_groups);
    VT_RUN(test_cluster_list_connects);
    VT_RUN(test_flush_async_makes_subscriptions_effective);
    VT_RUN(test_start_while_down_and_survive_restart);
    vt_bus_library_close();
    return VT_TEST_RESULT();
}
