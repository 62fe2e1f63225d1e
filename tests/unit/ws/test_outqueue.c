/*
 * Unit tests of a connection's outgoing queue (apps/ws-gateway/outqueue.c), driven
 * directly as conn.c drives it: coalescing (the latest location per vendor wins, in the
 * older slot; enter, leave, status and replies are never merged), packing into frames
 * (at most frame_bytes, '\n'-separated or as whole WebSocket frames for socket.io, a
 * message larger than a frame alone), and the slow-reader verdict (behind for slow_ms,
 * or 16 × queue_max deep, → close, which conn.c sends as 1013). A randomized run compares the queue
 * with a plain list that applies the same rules the obvious way.
 */
#include "outqueue.h"
#include "vt_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Stand-ins for fanout.c's vendors: only their addresses matter (the coalescing key). */
static char vendors[64];

/* A message with text; coalesce: the vendor index for a location, -1 for none. */
static msgbuf *mk(const char *text, int vendor)
{
    size_t len = strlen(text);
    msgbuf *m = msg_new(len);
    memcpy(m->data, text, len);
    m->len = (uint32_t)len;
    m->coalesce = vendor >= 0 ? &vendors[vendor] : NULL;
    return m;
}

/* Push and drop our own reference, as fanout.c does once every viewer has it. */
static outq_result push(outq *q, const outq_limits *lim, const char *text, int vendor)
{
    msgbuf *m = mk(text, vendor);
    outq_result r = outq_push(q, m, lim);
    msg_unref(m);
    return r;
}

/* Every message left, packed into frames of cap bytes, split back on '\n', joined with
 * '|' (messages larger than a frame count as one frame of their own). */
static void drain(outq *q, size_t cap, const outq_limits *lim, char *out, size_t outlen)
{
    char *frame = malloc(cap);
    size_t used = 0;
    out[0] = '\0';
    while (q->n) {
        msgbuf *alone;
        uint32_t count;
        size_t n = outq_pack(q, OUTQ_JOIN_LINES, frame, cap, lim, NULL, 0, &alone, &count);
        VT_CHECK(count > 0);
        if (alone) {
            VT_CHECK(n == 0 && count == 1 && alone->len > cap);
            used += (size_t)snprintf(out + used, outlen - used, "%s%.*s", used ? "|" : "",
                                     (int)alone->len, alone->data);
            msg_unref(alone);
            continue;
        }
        VT_CHECK(n <= cap);
        uint32_t parts = 1;
        for (size_t i = 0; i < n; i++)
            parts += frame[i] == '\n';
        VT_CHECK_INT(parts, count);
        for (size_t i = 0; i < n; i++)
            out[used + (used ? 1 : 0) + i] = frame[i] == '\n' ? '|' : frame[i];
        if (used)
            out[used] = '|';
        used += n + (used ? 1 : 0);
        out[used] = '\0';
    }
    free(frame);
}

static const outq_limits LIM = {.queue_max = 1024, .slow_ns = 10 * 1000000000LL};

static void test_latest_location_wins_in_its_slot(void)
{
    outq q = {0};
    VT_CHECK_INT(push(&q, &LIM, "a1", 0), OUTQ_QUEUED);
    VT_CHECK_INT(push(&q, &LIM, "b1", 1), OUTQ_QUEUED);
    VT_CHECK_INT(push(&q, &LIM, "ack", -1), OUTQ_QUEUED);
    VT_CHECK_INT(push(&q, &LIM, "a2", 0), OUTQ_COALESCED);
    VT_CHECK_INT(push(&q, &LIM, "a3", 0), OUTQ_COALESCED);
    VT_CHECK_INT(q.n, 3);
    char out[256];
    drain(&q, 1000, &LIM, out, sizeof out);
    VT_CHECK_STR(out, "a3|b1|ack"); /* a keeps its first place: per-vendor order holds */
    outq_clear(&q);
}

static void test_enter_leave_status_never_merged(void)
{
    outq q = {0};
    /* Only locations carry a vendor to coalesce on (fanout.c sets it for "location"). */
    VT_CHECK_INT(push(&q, &LIM, "enter-a", -1), OUTQ_QUEUED);
    VT_CHECK_INT(push(&q, &LIM, "a1", 0), OUTQ_QUEUED);
    VT_CHECK_INT(push(&q, &LIM, "status-a", -1), OUTQ_QUEUED);
    VT_CHECK_INT(push(&q, &LIM, "leave-a", -1), OUTQ_QUEUED);
    VT_CHECK_INT(push(&q, &LIM, "enter-a", -1), OUTQ_QUEUED);
    VT_CHECK_INT(push(&q, &LIM, "a2", 0), OUTQ_COALESCED);
    char out[256];
    drain(&q, 1000, &LIM, out, sizeof out);
    VT_CHECK_STR(out, "enter-a|a2|status-a|leave-a|enter-a");
    outq_clear(&q);
}

static void test_packing(void)
{
    outq q = {0};
    /* 10-byte messages in 32-byte frames: three fit (10+1+10+1+10 = 32), not four. */
    for (int i = 0; i < 7; i++) {
        char t[16];
        snprintf(t, sizeof t, "message-%02d", i);
        push(&q, &LIM, t, -1);
    }
    char frame[32];
    msgbuf *alone;
    uint32_t count;
    size_t n = outq_pack(&q, OUTQ_JOIN_LINES, frame, sizeof frame, &LIM, NULL, 0, &alone, &count);
    VT_CHECK(!alone);
    VT_CHECK_INT(count, 3);
    VT_CHECK_INT(n, 32);
    VT_CHECK(memcmp(frame, "message-00\nmessage-01\nmessage-02", 32) == 0);
    VT_CHECK_INT(q.n, 4);
    /* A message larger than a frame goes alone, whole, and only when it is first. */
    push(&q, &LIM, "a-message-longer-than-one-whole-frame", -1);
    char out[512];
    drain(&q, sizeof frame, &LIM, out, sizeof out);
    VT_CHECK_STR(out, "message-03|message-04|message-05|message-06|"
                      "a-message-longer-than-one-whole-frame");
    outq_clear(&q);
    /* A frame holds exactly cap bytes; one byte less splits it. */
    push(&q, &LIM, "0123456789", -1);
    push(&q, &LIM, "abcdefghi", -1);
    n = outq_pack(&q, OUTQ_JOIN_LINES, frame, 20, &LIM, NULL, 0, &alone, &count);
    VT_CHECK_INT(count, 2);
    VT_CHECK_INT(n, 20);
    push(&q, &LIM, "0123456789", -1);
    push(&q, &LIM, "abcdefghi", -1);
    n = outq_pack(&q, OUTQ_JOIN_LINES, frame, 19, &LIM, NULL, 0, &alone, &count);
    VT_CHECK_INT(count, 1);
    VT_CHECK_INT(n, 10);
    outq_clear(&q);
}

/* OUTQ_JOIN_WS_FRAMES (socket.io: one packet per frame): each message a whole unmasked
 * text frame, read back here as a client would; the header counts against cap, and a
 * message too big with its header goes alone. */
static void test_packing_ws_frames(void)
{
    outq q = {0};
    char big[300];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    push(&q, &LIM, "42/user,[\"vendor_sync\",{}]", -1); /* 26 bytes: 2-byte header */
    push(&q, &LIM, big, -1);                            /* 299: 4-byte header */
    push(&q, &LIM, "3", -1);
    unsigned char frame[400];
    msgbuf *alone;
    uint32_t count;
    size_t n = outq_pack(&q, OUTQ_JOIN_WS_FRAMES, (char *)frame, sizeof frame, &LIM, NULL, 0,
                         &alone, &count);
    VT_CHECK(!alone);
    VT_CHECK_INT(count, 3);
    VT_CHECK_INT(n, 2 + 26 + 4 + 299 + 2 + 1);
    size_t at = 0;
    const char *want[] = {"42/user,[\"vendor_sync\",{}]", big, "3"};
    for (int i = 0; i < 3; i++) {
        VT_CHECK_INT(frame[at], 0x81); /* FIN, text */
        size_t len = frame[at + 1] & 0x7f, h = 2;
        VT_CHECK(!(frame[at + 1] & 0x80)); /* a server does not mask */
        if (len == 126) {
            len = (size_t)frame[at + 2] << 8 | frame[at + 3];
            h = 4;
        }
        VT_CHECK_INT(len, strlen(want[i]));
        VT_CHECK(memcmp(frame + at + h, want[i], len) == 0);
        at += h + len;
    }
    VT_CHECK_INT(at, n);
    /* The header counts: 26 + 2 = 28 bytes fit in 28; "3" + 2 do not fit in 2 (alone). */
    push(&q, &LIM, "42/user,[\"vendor_sync\",{}]", -1);
    push(&q, &LIM, "3", -1);
    n = outq_pack(&q, OUTQ_JOIN_WS_FRAMES, (char *)frame, 28, &LIM, NULL, 0, &alone, &count);
    VT_CHECK(!alone && count == 1 && n == 28);
    n = outq_pack(&q, OUTQ_JOIN_WS_FRAMES, (char *)frame, 2, &LIM, NULL, 0, &alone, &count);
    VT_CHECK(alone && count == 1 && n == 0 && alone->len == 1);
    msg_unref(alone);
    VT_CHECK_INT(q.n, 0);
    /* A message of 65,536 bytes or more takes the 64-bit length. */
    char *huge = malloc(70000);
    memset(huge, 'h', 69999);
    huge[69999] = '\0';
    push(&q, &LIM, huge, -1);
    unsigned char *hframe = malloc(70010);
    n = outq_pack(&q, OUTQ_JOIN_WS_FRAMES, (char *)hframe, 70010, &LIM, NULL, 0, &alone, &count);
    VT_CHECK(!alone && count == 1 && n == 10 + 69999);
    VT_CHECK(hframe[1] == 127 && !hframe[2] && !hframe[3] && !hframe[4] && !hframe[5] &&
             !hframe[6] && hframe[7] == ((69999 >> 16) & 0xff) &&
             hframe[8] == ((69999 >> 8) & 0xff) && hframe[9] == (69999 & 0xff));
    free(hframe);
    free(huge);
    outq_clear(&q);
}

/* The latency of each packed message is observed (NATS arrival → packed). */
static void test_pack_observes_latency(void)
{
    outq q = {0};
    vt_metrics *reg = vt_metrics_new();
    static const double bounds[] = {0.001, 1};
    vt_histogram *h = vt_metrics_histogram(reg, "t_latency", "test", NULL, bounds, 2);
    msgbuf *m = mk("x", -1);
    m->t_in_ns = 1000;
    outq_push(&q, m, &LIM);
    msg_unref(m);
    push(&q, &LIM, "not-measured", -1);
    char frame[64];
    msgbuf *alone;
    uint32_t count;
    outq_pack(&q, OUTQ_JOIN_LINES, frame, sizeof frame, &LIM, h, 1000 + 500000000, &alone, &count);
    VT_CHECK_INT(count, 2);
    VT_CHECK_INT(vt_histogram_count(h), 1);
    outq_clear(&q);
    vt_metrics_free(reg);
}

static void test_slow_reader_hard_cap(void)
{
    outq_limits lim = {.queue_max = 16, .slow_ns = 3600 * 1000000000LL};
    outq q = {0};
    int queued = 0;
    outq_result r;
    while ((r = push(&q, &lim, "enter", -1)) == OUTQ_QUEUED)
        queued++;
    /* A burst passes until the backlog reaches 16 × queue_max. */
    VT_CHECK_INT(r, OUTQ_TOO_SLOW);
    VT_CHECK_INT(queued, OUTQ_HARD_CAP_FACTOR * 16);
    VT_CHECK_INT(q.n, OUTQ_HARD_CAP_FACTOR * 16);
    /* The refused message was not kept. */
    msgbuf *m = mk("one more", -1);
    VT_CHECK_INT(outq_push(&q, m, &lim), OUTQ_TOO_SLOW);
    VT_CHECK_INT(m->refs, 1);
    msg_unref(m);
    VT_CHECK_INT(outq_clear(&q), OUTQ_HARD_CAP_FACTOR * 16);
    VT_CHECK_INT(q.n, 0);
}

static void test_slow_reader_behind_too_long(void)
{
    outq_limits lim = {.queue_max = 16, .slow_ns = 3600 * 1000000000LL};
    outq q = {0};
    for (int i = 0; i < 15; i++)
        VT_CHECK_INT(push(&q, &lim, "enter", -1), OUTQ_QUEUED);
    VT_CHECK(!q.behind_since_ns); /* under the bound: not behind */
    VT_CHECK_INT(push(&q, &lim, "enter", -1), OUTQ_QUEUED);
    VT_CHECK_INT(push(&q, &lim, "enter", -1), OUTQ_QUEUED); /* 16 waiting: behind now */
    VT_CHECK(q.behind_since_ns > 0);
    /* Reading below half the bound clears it: a burst that is read passes. Five
     * messages of 5 bytes fill 29 bytes. */
    char frame[29];
    msgbuf *alone;
    uint32_t count;
    outq_pack(&q, OUTQ_JOIN_LINES, frame, sizeof frame, &lim, NULL, 0, &alone, &count);
    VT_CHECK_INT(q.n, 12);
    VT_CHECK(q.behind_since_ns > 0); /* under the bound, not yet under half of it */
    outq_pack(&q, OUTQ_JOIN_LINES, frame, sizeof frame, &lim, NULL, 0, &alone, &count);
    VT_CHECK_INT(q.n, 7);
    VT_CHECK(!q.behind_since_ns);
    while (q.n < 16)
        push(&q, &lim, "enter", -1);
    VT_CHECK_INT(push(&q, &lim, "enter", -1), OUTQ_QUEUED);
    /* Behind for slow_ms (the clock moved on by pushing the mark back) → close. */
    q.behind_since_ns -= lim.slow_ns - 1000000000LL;
    VT_CHECK_INT(push(&q, &lim, "enter", -1), OUTQ_QUEUED);
    q.behind_since_ns -= 1000000000LL;
    VT_CHECK_INT(push(&q, &lim, "enter", -1), OUTQ_TOO_SLOW);
    outq_clear(&q);
}

/* Behind on more vendors than the bound: every push coalesces, the backlog never grows,
 * and the reader is still closed once it stayed behind. */
static void test_slow_reader_even_when_coalescing(void)
{
    outq_limits lim = {.queue_max = 16, .slow_ns = 3600 * 1000000000LL};
    outq q = {0};
    for (int v = 0; v < 16; v++)
        VT_CHECK_INT(push(&q, &lim, "pos", v), OUTQ_QUEUED);
    VT_CHECK_INT(push(&q, &lim, "pos", 3), OUTQ_COALESCED);
    VT_CHECK_INT(q.n, 16);
    q.behind_since_ns -= lim.slow_ns;
    VT_CHECK_INT(push(&q, &lim, "pos", 3), OUTQ_TOO_SLOW);
    outq_clear(&q);
}

/* Random pushes (locations of a few vendors among other messages) and random partial
 * reads, against a list where a location replaces its vendor's waiting one. */
static void test_random_against_a_list(void)
{
    srand(7);
    for (int round = 0; round < 200; round++) {
        outq q = {0};
        char model[400][16];
        int mvendor[400], nm = 0, next = 0;
        char got[8192], want[8192];
        size_t glen = 0, wlen = 0;
        got[0] = want[0] = '\0';
        size_t cap = 8 + (size_t)(rand() % 40);
        for (int step = 0; step < 300; step++) {
            if (rand() % 4 == 0 && q.n) { /* the reader takes one frame */
                char frame[64];
                msgbuf *alone;
                uint32_t count;
                size_t n =
                    outq_pack(&q, OUTQ_JOIN_LINES, frame, cap, &LIM, NULL, 0, &alone, &count);
                VT_CHECK(!alone && n <= cap);
                for (size_t i = 0; i < n; i++)
                    got[glen++] = frame[i] == '\n' ? '|' : frame[i];
                got[glen++] = '|';
                for (uint32_t i = 0; i < count; i++)
                    wlen += (size_t)sprintf(want + wlen, "%s|", model[i]);
                memmove(model, model[count], (size_t)(nm - (int)count) * sizeof model[0]);
                memmove(mvendor, mvendor + count, (size_t)(nm - (int)count) * sizeof mvendor[0]);
                nm -= (int)count;
                continue;
            }
            int vendor = rand() % 3 == 0 ? -1 : rand() % 5;
            char t[16];
            snprintf(t, sizeof t, "%c%d", vendor < 0 ? 'x' : 'a' + vendor, next++);
            outq_result r = push(&q, &LIM, t, vendor);
            int k = -1;
            for (int i = 0; vendor >= 0 && i < nm && k < 0; i++)
                if (mvendor[i] == vendor)
                    k = i;
            VT_CHECK_INT(r, k >= 0 ? OUTQ_COALESCED : OUTQ_QUEUED);
            if (k < 0) {
                k = nm++;
                mvendor[k] = vendor;
            }
            snprintf(model[k], sizeof model[k], "%s", t);
            VT_CHECK_INT(q.n, nm);
        }
        got[glen] = '\0';
        want[wlen] = '\0';
        VT_CHECK_STR(got, want);
        VT_CHECK_INT(outq_clear(&q), nm);
    }
}

static void test_trim_gives_memory_back(void)
{
    outq q = {0};
    for (int i = 0; i < 100; i++)
        push(&q, &LIM, "enter", -1);
    VT_CHECK(q.cap >= 100);
    outq_trim(&q); /* not empty: kept */
    VT_CHECK(q.v != NULL);
    char frame[1024];
    msgbuf *alone;
    uint32_t count;
    outq_pack(&q, OUTQ_JOIN_LINES, frame, sizeof frame, &LIM, NULL, 0, &alone, &count);
    VT_CHECK_INT(q.n, 0);
    outq_trim(&q);
    VT_CHECK(q.v == NULL && q.cap == 0);
    VT_CHECK_INT(push(&q, &LIM, "again", -1), OUTQ_QUEUED);
    outq_clear(&q);
}

int main(void)
{
    VT_RUN(test_latest_location_wins_in_its_slot);
    VT_RUN(test_enter_leave_status_never_merged);
    VT_RUN(test_packing);
    VT_RUN(test_packing_ws_frames);
    VT_RUN(test_pack_observes_latency);
    VT_RUN(test_slow_reader_hard_cap);
    VT_RUN(test_slow_reader_behind_too_long);
    VT_RUN(test_slow_reader_even_when_coalescing);
    VT_RUN(test_random_against_a_list);
    VT_RUN(test_trim_gives_memory_back);
    return VT_TEST_RESULT();
}
