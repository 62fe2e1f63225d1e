/*
 * test_trace.c — vt_trace: W3C traceparent parsed exactly, bad input replaced, spans
 * chained hop to hop, and the trace in every log line.
 */
#include "vt_core.h"
#include "vt_test.h"

#define GOOD "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

static void test_parse_and_format_round_trip(void)
{
    vt_trace t;
    VT_CHECK(vt_trace_parse(GOOD, strlen(GOOD), &t));
    char out[VT_TRACEPARENT_LEN + 1];
    vt_trace_format(&t, out);
    VT_CHECK_STR(out, GOOD);
    VT_CHECK_INT(t.flags, VT_TRACE_SAMPLED);
    char trace_hex[33], span_hex[17];
    vt_trace_ids(&t, trace_hex, span_hex);
    VT_CHECK_STR(trace_hex, "4bf92f3577b34da6a3ce929d0e0e4736");
    VT_CHECK_STR(span_hex, "00f067aa0ba902b7");

    /* Unknown flags are dropped when the trace is sent on; sampled stays. */
    const char *flags = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff";
    VT_CHECK(vt_trace_parse(flags, strlen(flags), &t));
    vt_trace_format(&t, out);
    VT_CHECK_STR(out + 53, "01");
    const char *unsampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
    VT_CHECK(vt_trace_parse(unsampled, strlen(unsampled), &t));
    VT_CHECK_INT(t.flags, 0);
}

static void test_parse_refuses_bad_input(void)
{
    static const char *const bad[] = {
        "",
        "00",
        /* all-zero trace id, all-zero parent id */
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        /* other versions, the forbidden ff among them */
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        /* upper case hex is not the header's form */
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A",
        /* wrong lengths and separators */
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
        /* not hex, spaces, a NUL inside */
        "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
        " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0 ",
        NULL,
    };
    vt_trace t;
    memset(&t, 0x5a, sizeof t);
    for (int i = 0; bad[i]; i++) {
        VT_CHECK(!vt_trace_parse(bad[i], strlen(bad[i]), &t));
        VT_CHECK_INT(t.flags, 0x5a); /* untouched */
    }
    char nul[VT_TRACEPARENT_LEN + 1];
    memcpy(nul, GOOD, sizeof nul);
    nul[10] = '\0';
    VT_CHECK(!vt_trace_parse(nul, VT_TRACEPARENT_LEN, &t));
    VT_CHECK(!vt_trace_parse(NULL, 0, &t));
    /* A length that cuts a good header short. */
    VT_CHECK(!vt_trace_parse(GOOD, strlen(GOOD) - 1, &t));
}

static void test_start_continues_or_replaces(void)
{
    vt_trace remote, hop;
    VT_CHECK(vt_trace_parse(GOOD, strlen(GOOD), &remote));
    VT_CHECK(vt_trace_start(GOOD, strlen(GOOD), &hop));
    VT_CHECK(memcmp(hop.trace_id, remote.trace_id, 16) == 0);
    VT_CHECK(memcmp(hop.parent_id, remote.span_id, 8) == 0);
    VT_CHECK(memcmp(hop.span_id, remote.span_id, 8) != 0);
    VT_CHECK_INT(hop.flags, VT_TRACE_SAMPLED);

    /* The next hop: same trace, this hop's span as parent. */
    vt_trace next;
    vt_trace_child(&hop, &next);
    VT_CHECK(memcmp(next.trace_id, remote.trace_id, 16) == 0);
    VT_CHECK(memcmp(next.parent_id, hop.span_id, 8) == 0);

    /* A bad header starts a new trace of our own, not sampled, with no parent. */
    const char *bad = "00-00000000000000000000000000000000-00f067aa0ba902b7-01";
    vt_trace fresh;
    VT_CHECK(!vt_trace_start(bad, strlen(bad), &fresh));
    VT_CHECK(memcmp(fresh.trace_id, remote.trace_id, 16) != 0);
    static const uint8_t zero[16];
    VT_CHECK(memcmp(fresh.trace_id, zero, 16) != 0);
    VT_CHECK(memcmp(fresh.span_id, zero, 8) != 0);
    VT_CHECK(memcmp(fresh.parent_id, zero, 8) == 0);
    VT_CHECK_INT(fresh.flags, 0);
    VT_CHECK(!vt_trace_start(NULL, 0, &fresh));

    /* What we send parses back to the span we sent it from. */
    char out[VT_TRACEPARENT_LEN + 1];
    vt_trace_format(&fresh, out);
    vt_trace back;
    VT_CHECK(vt_trace_parse(out, strlen(out), &back));
    VT_CHECK(memcmp(back.trace_id, fresh.trace_id, 16) == 0);
    VT_CHECK(memcmp(back.span_id, fresh.span_id, 8) == 0);

    /* New traces differ. */
    vt_trace a, b;
    vt_trace_child(NULL, &a);
    vt_trace_child(NULL, &b);
    VT_CHECK(memcmp(a.trace_id, b.trace_id, 16) != 0);
}

static void test_current_and_hop_level(void)
{
    VT_CHECK(vt_trace_current() == NULL);
    vt_trace a, b;
    vt_trace_child(NULL, &a);
    vt_trace_child(&a, &b);
    VT_CHECK(vt_trace_set_current(&a) == NULL);
    VT_CHECK(vt_trace_current() == &a);
    VT_CHECK(vt_trace_set_current(&b) == &a);
    VT_CHECK(vt_trace_set_current(NULL) == &b);
    VT_CHECK(vt_trace_current() == NULL);

    VT_CHECK_INT(vt_trace_hop_level(NULL), VT_LOG_DEBUG);
    VT_CHECK_INT(vt_trace_hop_level(&a), VT_LOG_DEBUG);
    a.flags = VT_TRACE_SAMPLED;
    /* Sampled lines are promoted up to the per-second cap, not beyond. */
    int info = 0;
    for (int i = 0; i < 3 * VT_TRACE_SAMPLED_LINES_PER_S; i++)
        info += vt_trace_hop_level(&a) == VT_LOG_INFO;
    VT_CHECK(info >= 1);
    VT_CHECK(info <= 2 * VT_TRACE_SAMPLED_LINES_PER_S); /* a second may turn mid-loop */
}

static void log_traced_lines(void)
{
    vt_log_init("svc", VT_LOG_INFO);
    vt_trace t;
    vt_trace_start(GOOD, strlen(GOOD), &t);
    vt_log_ctx ctx = {.request_id = "req-1", .trace = &t};
    vt_info(&ctx, "with the context's trace");
    vt_info(NULL, "without any trace");
    vt_trace_set_current(&t);
    vt_info(NULL, "with the thread's trace");
}

static int count_lines_with(const char *text, const char *needle)
{
    int n = 0;
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char buf[4096];
        snprintf(buf, sizeof buf, "%.*s", (int)len, line);
        n += strstr(buf, needle) != NULL;
        line = end ? end + 1 : NULL;
    }
    return n;
}

static void test_log_lines_carry_the_trace(void)
{
    char out[4096];
    VT_CHECK_INT(vt_test_run_child(log_traced_lines, out, sizeof out), 0);
    VT_CHECK_INT(count_lines_with(out, "\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\""), 2);
    VT_CHECK_INT(count_lines_with(out, "\"parent_span_id\":\"00f067aa0ba902b7\""), 2);
    /* Three lines, the one written outside any trace with the process's own: a trace
     * of its own, a root span (no parent). */
    VT_CHECK_INT(count_lines_with(out, "\"msg\""), 3);
    VT_CHECK_INT(count_lines_with(out, "\"trace_id\":\""), 3);
    VT_CHECK_INT(count_lines_with(out, "\"span_id\":\""), 3);
    VT_CHECK_INT(count_lines_with(out, "parent_span_id"), 2);
}

int main(void)
{
    VT_RUN(test_parse_and_format_round_trip);
    VT_RUN(test_parse_refuses_bad_input);
    VT_RUN(test_start_continues_or_replaces);
    VT_RUN(test_current_and_hop_level);
    VT_RUN(test_log_lines_carry_the_trace);
    return VT_TEST_RESULT();
}
