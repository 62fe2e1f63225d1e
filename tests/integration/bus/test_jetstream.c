/*
 * Integration tests of libs/bus's JetStream side (jetstream.c) against the harness's
 * nats-server -js, on a stream of their own (TEST_BUS_JS on testjs.>): bad options;
 * ensuring a stream twice and with new limits; a publish repeated with the same message
 * id stored once; RETRY delivered again, REJECT never; a durable consumer shared by two
 * connections handles each message once; consumers of one process each see every
 * message, from the oldest; a durable consumer started after the messages were
 * published (its service was down) gets them all.
 */
#include "vt_bus.h"
#include "vt_core.h"
#include "vt_harness.h"
#include "vt_test.h"
#include "vt_test_bus.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define STREAM "TEST_BUS_JS"
#define MAX_SEEN 512

static vt_bus *bus;
static int64_t run_started_ms;
static const vt_bus_stream_opts stream = {.name = STREAM, .subjects = "testjs.>"};

/* What one consumer saw, in order. */
typedef struct {
    pthread_mutex_t lock;
    int n;
    char payload[MAX_SEEN][32];
    /* The handler's answer for a payload starting with "retry" (first delivery only)
     * or "reject". */
    atomic_int retried;
} seen;

static vt_bus_verdict record(const char *subject, const void *data, size_t len, void *user)
{
    (void)subject;
    seen *s = user;
    char p[32];
    snprintf(p, sizeof p, "%.*s", (int)(len < 31 ? len : 31), (const char *)data);
    if (strncmp(p, "retry", 5) == 0 && atomic_fetch_add(&s->retried, 1) == 0)
        return VT_BUS_RETRY; /* not recorded: comes again */
    pthread_mutex_lock(&s->lock);
    if (s->n < MAX_SEEN)
        snprintf(s->payload[s->n++], sizeof s->payload[0], "%s", p);
    pthread_mutex_unlock(&s->lock);
    return strncmp(p, "reject", 6) == 0 ? VT_BUS_REJECT : VT_BUS_DONE;
}

static int times_seen(seen *s, const char *payload)
{
    int k = 0;
    pthread_mutex_lock(&s->lock);
    for (int i = 0; i < s->n; i++)
        k += strcmp(s->payload[i], payload) == 0;
    pthread_mutex_unlock(&s->lock);
    return k;
}

static bool wait_seen(seen *s, const char *payload, int ms)
{
    for (int i = 0; i < ms / 10; i++) {
        if (times_seen(s, payload) > 0)
            return true;
        usleep(10000);
    }
    return false;
}

static void publish(const char *subject, const char *payload, const char *msg_id)
{
    char err[256];
    VT_CHECK_INT(vt_bus_stream_publish(bus, subject, payload, strlen(payload), msg_id, 5000, err,
                                       sizeof err),
                 VT_OK);
}

static vt_bus_consumer *consume(vt_bus *b, const char *durable, const char *subject, seen *s,
                                int ack_wait_ms)
{
    vt_bus_consumer_opts o = {.stream = &stream,
                              .durable = durable,
                              .subject = subject,
                              .fn = record,
                              .user = s,
                              .ack_wait_ms = ack_wait_ms,
                              .retry_max_ms = 250};
    vt_bus_consumer *c = NULL;
    char err[256];
    VT_REQUIRE(vt_bus_consumer_new(b, &o, &c, err, sizeof err) == VT_OK);
    for (int i = 0; i < 1000 && !vt_bus_consumer_attached(c); i++)
        usleep(10000);
    VT_REQUIRE(vt_bus_consumer_attached(c));
    return c;
}

static void test_bad_options(void)
{
    char err[256];
    vt_bus_stream_opts bad = {.name = "has.dot", .subjects = "x.>"};
    VT_CHECK_INT(vt_bus_stream_ensure(bus, &bad, err, sizeof err), VT_INVALID_ARGUMENT);
    bad = (vt_bus_stream_opts){.name = "OK", .subjects = "x.>", .replicas = 9};
    VT_CHECK_INT(vt_bus_stream_ensure(bus, &bad, err, sizeof err), VT_INVALID_ARGUMENT);
    VT_CHECK(strstr(err, "replicas") != NULL);
    VT_CHECK_INT(vt_bus_stream_publish(bus, "testjs.*", "x", 1, NULL, 1000, err, sizeof err),
                 VT_INVALID_ARGUMENT);
    vt_bus_consumer_opts o = {.stream = &stream, .subject = "testjs.a", .fn = NULL};
    vt_bus_consumer *c = NULL;
    VT_CHECK_INT(vt_bus_consumer_new(bus, &o, &c, err, sizeof err), VT_INVALID_ARGUMENT);
    o = (vt_bus_consumer_opts){
        .stream = &stream, .durable = "a.b", .subject = "testjs.a", .fn = record};
    VT_CHECK_INT(vt_bus_consumer_new(bus, &o, &c, err, sizeof err), VT_INVALID_ARGUMENT);
    VT_CHECK(c == NULL);
    /* A subject no stream takes: not stored, so not acknowledged. */
    VT_CHECK_INT(vt_bus_stream_publish(bus, "nostream.x", "x", 1, NULL, 1000, err, sizeof err),
                 VT_UNAVAILABLE);
}

static void test_ensure_is_idempotent(void)
{
    char err[256];
    VT_CHECK_INT(vt_bus_stream_ensure(bus, &stream, err, sizeof err), VT_OK);
    VT_CHECK_INT(vt_bus_stream_ensure(bus, &stream, err, sizeof err), VT_OK);
    vt_bus_stream_opts changed = stream;
    changed.max_msgs = 5000; /* another setting: updated, not refused */
    VT_CHECK_INT(vt_bus_stream_ensure(bus, &changed, err, sizeof err), VT_OK);
    VT_CHECK_INT(vt_bus_stream_ensure(bus, &stream, err, sizeof err), VT_OK);
    VT_CHECK_INT(vt_bus_stream_purge(bus, STREAM, err, sizeof err), VT_OK);
}

/* A message id of this run (the stream remembers ids for two minutes, across runs). */
static const char *run_id(int row, char *out, size_t n)
{
    snprintf(out, n, "row:%d:%lld", row, (long long)run_started_ms);
    return out;
}

static void test_same_message_id_stored_once(void)
{
    static seen s = {.lock = PTHREAD_MUTEX_INITIALIZER};
    vt_bus_consumer *c = consume(bus, "test-dedup", "testjs.dedup", &s, 0);
    char id[64];
    publish("testjs.dedup", "once", run_id(1, id, sizeof id));
    publish("testjs.dedup", "once", run_id(1, id, sizeof id)); /* a relay's repeat */
    publish("testjs.dedup", "twice", run_id(2, id, sizeof id));
    publish("testjs.dedup", "twice", run_id(3, id, sizeof id)); /* another row */
    publish("testjs.dedup", "end", run_id(4, id, sizeof id));
    VT_CHECK(wait_seen(&s, "end", 10000)); /* in stream order: the rest came before */
    VT_CHECK_INT(times_seen(&s, "once"), 1);
    VT_CHECK_INT(times_seen(&s, "twice"), 2);
    vt_bus_consumer_free(c);
}

static void test_retry_comes_again_reject_does_not(void)
{
    static seen s = {.lock = PTHREAD_MUTEX_INITIALIZER};
    vt_bus_consumer *c = consume(bus, "test-verdicts", "testjs.verdicts", &s, 500);
    publish("testjs.verdicts", "retry-me", NULL);
    publish("testjs.verdicts", "reject-me", NULL);
    VT_CHECK(wait_seen(&s, "retry-me", 10000)); /* the second delivery */
    VT_CHECK(atomic_load(&s.retried) >= 2);
    VT_CHECK(wait_seen(&s, "reject-me", 10000));
    /* Four ack waits later a rejected message has still not come back. */
    usleep(2000000);
    VT_CHECK_INT(times_seen(&s, "reject-me"), 1);
    VT_CHECK_INT(times_seen(&s, "retry-me"), 1);
    vt_bus_consumer_free(c);
}

static void test_durable_shared_by_replicas(void)
{
    static seen a = {.lock = PTHREAD_MUTEX_INITIALIZER}, b = {.lock = PTHREAD_MUTEX_INITIALIZER};
    vt_bus *other = vt_test_bus_connect("test-jetstream-replica");
    vt_bus_consumer *ca = consume(bus, "test-shared", "testjs.shared", &a, 0);
    vt_bus_consumer *cb = consume(other, "test-shared", "testjs.shared", &b, 0);
    enum { N = 100 };
    for (int i = 0; i < N; i++) {
        char p[16];
        snprintf(p, sizeof p, "m%d", i);
        publish("testjs.shared", p, NULL);
    }
    int both = 0;
    for (int t = 0; t < 1000; t++) {
        pthread_mutex_lock(&a.lock);
        pthread_mutex_lock(&b.lock);
        both = a.n + b.n;
        pthread_mutex_unlock(&b.lock);
        pthread_mutex_unlock(&a.lock);
        if (both >= N)
            break;
        usleep(10000);
    }
    VT_CHECK_INT(both, N);
    for (int i = 0; i < N; i++) {
        char p[16];
        snprintf(p, sizeof p, "m%d", i);
        VT_CHECK_INT(times_seen(&a, p) + times_seen(&b, p), 1);
    }
    vt_bus_consumer_free(ca);
    vt_bus_consumer_free(cb);
    vt_bus_free(other, 1000);
}

static void test_per_process_consumers_see_everything_from_the_oldest(void)
{
    publish("testjs.all", "before-1", NULL); /* before any consumer exists */
    publish("testjs.all", "before-2", NULL);
    static seen a = {.lock = PTHREAD_MUTEX_INITIALIZER}, b = {.lock = PTHREAD_MUTEX_INITIALIZER};
    vt_bus_consumer *ca = consume(bus, NULL, "testjs.all", &a, 0);
    vt_bus_consumer *cb = consume(bus, NULL, "testjs.all", &b, 0);
    publish("testjs.all", "after", NULL);
    VT_CHECK(wait_seen(&a, "after", 10000));
    VT_CHECK(wait_seen(&b, "after", 10000));
    VT_CHECK_INT(times_seen(&a, "before-1") + times_seen(&a, "before-2"), 2);
    VT_CHECK_INT(times_seen(&b, "before-1") + times_seen(&b, "before-2"), 2);
    vt_bus_consumer_free(ca);
    vt_bus_consumer_free(cb);
}

/* The service was down when these were published; its durable consumer existed. */
static void test_durable_gets_what_was_published_while_away(void)
{
    static seen s = {.lock = PTHREAD_MUTEX_INITIALIZER};
    vt_bus_consumer *c = consume(bus, "test-away", "testjs.away", &s, 0);
    publish("testjs.away", "first", NULL);
    VT_CHECK(wait_seen(&s, "first", 10000));
    vt_bus_consumer_free(c); /* every replica down */
    publish("testjs.away", "while-away-1", NULL);
    VT_REQUIRE(vt_harness_server("restart", "nats") == 0); /* and NATS restarted */
    VT_REQUIRE(vt_test_bus_wait_connected(bus, 15000));
    char err[256];
    int rc = VT_UNAVAILABLE; /* JetStream may still be recovering its store */
    for (int i = 0; i < 100 && rc != VT_OK; i++)
        if ((rc = vt_bus_stream_publish(bus, "testjs.away", "while-away-2", 12, NULL, 2000, err,
                                        sizeof err)) != VT_OK)
            usleep(100000);
    VT_CHECK_INT(rc, VT_OK);
    c = consume(bus, "test-away", "testjs.away", &s, 0);
    VT_CHECK(wait_seen(&s, "while-away-2", 10000));
    VT_CHECK_INT(times_seen(&s, "while-away-1"), 1);
    VT_CHECK_INT(times_seen(&s, "first"), 1);
    vt_bus_consumer_free(c);
}

int main(void)
{
    vt_log_init("test-jetstream", VT_LOG_ERROR);
    bus = vt_test_bus_connect("test-jetstream");
    run_started_ms = vt_now_ms();
    vt_test_bus_purge(bus, STREAM); /* what an earlier run under this harness left */
    VT_RUN(test_bad_options);
    VT_RUN(test_ensure_is_idempotent);
    VT_RUN(test_same_message_id_stored_once);
    VT_RUN(test_retry_comes_again_reject_does_not);
    VT_RUN(test_durable_shared_by_replicas);
    VT_RUN(test_per_process_consumers_see_everything_from_the_oldest);
    VT_RUN(test_durable_gets_what_was_published_while_away);
    char err[256];
    vt_bus_stream_purge(bus, STREAM, err, sizeof err);
    vt_bus_free(bus, 1000);
    vt_bus_library_close();
    return VT_TEST_RESULT();
}
