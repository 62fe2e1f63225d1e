/*
 * Integration tests of libs/bus's trace headers (trace_headers.c) against the harness's
 * nats-server: a publish made inside a span reaches the subscriber, and a JetStream
 * consumer, as a child span of it (same trace, the publisher's span as parent, sampled
 * flag kept); a publish outside any span reaches it as the root of a new trace; the
 * publisher's thread keeps its own current span. Subjects carry a random id of the run,
 * so that copies of this test side by side (meson test --repeat), or earlier runs in the
 * stream, never meet each other's messages.
 */
#include "vt_bus.h"
#include "vt_core.h"
#include "vt_harness.h"
#include "vt_test.h"
#include "vt_test_bus.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#define STREAM "TEST_BUS_TRACE"

static char core_subject[64], stream_subject[64]; /* this run's, set in main */

/* The span a callback ran under, as the callback saw it. */
typedef struct {
    atomic_int count;
    pthread_mutex_t lock;
    bool had_span;
    vt_trace span;
} seen;

static void remember(seen *s)
{
    const vt_trace *t = vt_trace_current();
    pthread_mutex_lock(&s->lock);
    s->had_span = t != NULL;
    if (t)
        s->span = *t;
    pthread_mutex_unlock(&s->lock);
    atomic_fetch_add(&s->count, 1);
}

static void on_msg(const char *subject, const void *data, size_t len, void *user)
{
    (void)subject, (void)data, (void)len;
    remember(user);
}

static vt_bus_verdict on_event(const char *subject, const void *data, size_t len, void *user)
{
    (void)subject, (void)data, (void)len;
    remember(user);
    return VT_BUS_DONE;
}

static bool wait_count(seen *s, int want)
{
    for (int i = 0; i < 1000 && atomic_load(&s->count) < want; i++)
        usleep(10000);
    return atomic_load(&s->count) >= want;
}

static void check_child(const seen *s, const vt_trace *parent)
{
    VT_CHECK(s->had_span);
    VT_CHECK(memcmp(s->span.trace_id, parent->trace_id, 16) == 0);
    VT_CHECK(memcmp(s->span.parent_id, parent->span_id, 8) == 0);
    VT_CHECK(memcmp(s->span.span_id, parent->span_id, 8) != 0);
    VT_CHECK_INT(s->span.flags, parent->flags);
}

static void test_core_publish_carries_the_span(void)
{
    vt_bus *pub = vt_test_bus_connect("test-trace-pub"),
           *sub = vt_test_bus_connect("test-trace-sub");
    seen in = {.lock = PTHREAD_MUTEX_INITIALIZER};
    vt_bus_sub *s;
    VT_REQUIRE(vt_bus_subscribe(sub, core_subject, NULL, 0, on_msg, &in, &s) == VT_OK);
    VT_CHECK_INT(vt_bus_flush(sub, 5000), VT_OK);

    const char *tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    vt_trace mine;
    VT_REQUIRE(vt_trace_start(tp, strlen(tp), &mine));
    const vt_trace *outer = vt_trace_set_current(&mine);
    VT_CHECK_INT(vt_bus_publish(pub, core_subject, "x", 1), VT_OK);
    VT_CHECK(vt_trace_current() == &mine); /* the publisher's thread keeps its span */
    vt_trace_set_current(outer);
    VT_CHECK_INT(vt_bus_flush(pub, 5000), VT_OK);
    VT_REQUIRE(wait_count(&in, 1));
    check_child(&in, &mine);

    /* Outside any span: the message starts a trace of its own on arrival. */
    VT_CHECK_INT(vt_bus_publish(pub, core_subject, "y", 1), VT_OK);
    VT_CHECK_INT(vt_bus_flush(pub, 5000), VT_OK);
    VT_REQUIRE(wait_count(&in, 2));
    static const uint8_t zero[8];
    VT_CHECK(in.had_span);
    VT_CHECK(memcmp(in.span.trace_id, mine.trace_id, 16) != 0);
    VT_CHECK(memcmp(in.span.parent_id, zero, 8) == 0);
    VT_CHECK_INT(in.span.flags, 0);

    vt_bus_unsubscribe(s);
    vt_bus_free(pub, 2000);
    vt_bus_free(sub, 2000);
}

static void test_stream_publish_reaches_the_consumer_traced(void)
{
    vt_bus *bus = vt_test_bus_connect("test-trace-js");
    static const vt_bus_stream_opts stream = {.name = STREAM, .subjects = "tracejs.>"};
    char err[256];
    VT_REQUIRE(vt_bus_stream_ensure(bus, &stream, err, sizeof err) == VT_OK);
    seen in = {.lock = PTHREAD_MUTEX_INITIALIZER};
    vt_bus_consumer_opts co = {
        .stream = &stream, .subject = stream_subject, .fn = on_event, .user = &in};
    vt_bus_consumer *c = NULL;
    VT_REQUIRE(vt_bus_consumer_new(bus, &co, &c, err, sizeof err) == VT_OK);

    vt_trace mine;
    vt_trace_child(NULL, &mine);
    const vt_trace *outer = vt_trace_set_current(&mine);
    VT_CHECK_INT(vt_bus_stream_publish(bus, stream_subject, "e", 1, NULL, 5000, err, sizeof err),
                 VT_OK);
    vt_trace_set_current(outer);
    VT_REQUIRE(wait_count(&in, 1));
    check_child(&in, &mine);

    vt_bus_consumer_free(c);
    vt_bus_free(bus, 2000);
}

int main(void)
{
    vt_log_init("test-bus-trace", VT_LOG_WARN);
    char run[VT_REQUEST_ID_LEN + 1];
    vt_request_id_new(run);
    snprintf(core_subject, sizeof core_subject, "trace.core.%s", run);
    snprintf(stream_subject, sizeof stream_subject, "tracejs.%s", run);
    VT_RUN(test_core_publish_carries_the_span);
    VT_RUN(test_stream_publish_reaches_the_consumer_traced);
    return VT_TEST_RESULT();
}
