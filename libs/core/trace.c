/*
 * trace.c — W3C trace context (https://www.w3.org/TR/trace-context/): parsing and
 * writing `traceparent`, new spans, and the calling thread's current span.
 *
 * Parsing is exact for version 00 and nothing else: a header from outside the mesh is
 * either a well-formed, non-zero trace that we continue, or it is replaced by a trace of
 * our own (vt_trace_start); a malformed one is never half-trusted. Of the flags only
 * the sampled bit is kept, as version 00 asks of a participant that does not know the
 * others.
 *
 * Span and trace ids come from a per-thread xoshiro256** generator seeded once per
 * thread from getrandom: ids must be unique, not secret, and a span is made per request
 * and per vendor fix, so a system call each would cost more than the rest of the span.
 *
 * The current span is a thread-local pointer set around a piece of work (a gRPC
 * handler, a NATS message callback, a fix on the WebSocket edge's loop): the logger
 * reads it for lines that carry no trace of their own, libs/rpc and libs/bus send it on.
 */
#include "vt_core.h"

#include <stdatomic.h>

static _Thread_local const vt_trace *current;

/* ---- ids ---- */

typedef struct {
    uint64_t s[4];
    bool seeded;
} id_rng;

static _Thread_local id_rng rng;

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(void)
{
    if (!rng.seeded) {
        do
            vt_random_bytes(rng.s, sizeof rng.s);
        while (!(rng.s[0] | rng.s[1] | rng.s[2] | rng.s[3]));
        rng.seeded = true;
    }
    uint64_t *s = rng.s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* n random bytes (a multiple of 8), never all zero: zero ids are invalid. */
static void random_id(uint8_t *out, size_t n)
{
    bool zero;
    do {
        zero = true;
        for (size_t i = 0; i < n; i += 8) {
            uint64_t v = rng_next();
            memcpy(out + i, &v, 8);
            zero = zero && v == 0;
        }
    } while (zero);
}

/* ---- traceparent ---- */

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1; /* upper case too: the header is lowercase by definition */
}

/* n bytes from 2n lowercase hex digits; false on any other character. */
static bool hex_bytes(const char *text, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        int hi = hex_value(text[2 * i]), lo = hex_value(text[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static bool all_zero(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

bool vt_trace_parse(const char *text, size_t len, vt_trace *out)
{
    if (!text || len != VT_TRACEPARENT_LEN)
        return false;
    if (text[0] != '0' || text[1] != '0' || text[2] != '-' || text[35] != '-' || text[52] != '-')
        return false;
    vt_trace t = {0};
    uint8_t flags;
    if (!hex_bytes(text + 3, 16, t.trace_id) || !hex_bytes(text + 36, 8, t.span_id) ||
        !hex_bytes(text + 53, 1, &flags))
        return false;
    if (all_zero(t.trace_id, 16) || all_zero(t.span_id, 8))
        return false;
    t.flags = flags & VT_TRACE_SAMPLED;
    *out = t;
    return true;
}

void vt_trace_child(const vt_trace *from, vt_trace *out)
{
    vt_trace t = {0};
    if (from) {
        memcpy(t.trace_id, from->trace_id, sizeof t.trace_id);
        memcpy(t.parent_id, from->span_id, sizeof t.parent_id);
        t.flags = from->flags;
    } else {
        random_id(t.trace_id, sizeof t.trace_id);
    }
    random_id(t.span_id, sizeof t.span_id);
    *out = t;
}

bool vt_trace_start(const char *traceparent, size_t len, vt_trace *out)
{
    vt_trace remote;
    bool continued = vt_trace_parse(traceparent, len, &remote);
    vt_trace_child(continued ? &remote : NULL, out);
    return continued;
}

void vt_trace_format(const vt_trace *t, char *out)
{
    memcpy(out, "00-", 3);
    vt_hex_encode(t->trace_id, 16, out + 3);
    out[35] = '-';
    vt_hex_encode(t->span_id, 8, out + 36);
    out[52] = '-';
    vt_hex_encode(&t->flags, 1, out + 53);
}

void vt_trace_ids(const vt_trace *t, char *trace_hex, char *span_hex)
{
    vt_hex_encode(t->trace_id, 16, trace_hex);
    vt_hex_encode(t->span_id, 8, span_hex);
}

/* ---- the thread's current span ---- */

const vt_trace *vt_trace_current(void)
{
    return current;
}

const vt_trace *vt_trace_set_current(const vt_trace *t)
{
    const vt_trace *previous = current;
    current = t;
    return previous;
}

/* ---- the level of per-hop lines ---- */

/* Promotions of sampled lines in the current second (a metrics-like counter: only
 * ever approximate, never a lock on a hot path). */
static atomic_llong promoted_second;
static atomic_int promoted_count;

vt_log_level vt_trace_hop_level(const vt_trace *t)
{
    if (!t || !(t->flags & VT_TRACE_SAMPLED))
        return VT_LOG_DEBUG;
    long long second = (long long)(vt_monotonic_ns() / 1000000000);
    if (atomic_load_explicit(&promoted_second, memory_order_relaxed) != second) {
        atomic_store_explicit(&promoted_second, second, memory_order_relaxed);
        atomic_store_explicit(&promoted_count, 0, memory_order_relaxed);
    }
    if (atomic_fetch_add_explicit(&promoted_count, 1, memory_order_relaxed) >=
        VT_TRACE_SAMPLED_LINES_PER_S)
        return VT_LOG_DEBUG;
    return VT_LOG_INFO;
}
