/*
 * outqueue.c — what each connection still has to receive, and how it is packed.
 *
 * A ring of msgbuf pointers per connection, bounded by queue_max. A location message
 * for a vendor that already has one waiting replaces it in place (latest wins, keeping
 * the older slot so per-vendor order holds); other messages (enter, leave, status,
 * replies) are never merged. So a client that reads slowly receives fewer, fresher
 * positions instead of an ever longer backlog, and its memory stays bounded. A reader
 * is "behind" while more than queue_max messages wait for it; one that stays behind
 * for slow_ms (a burst of enter/leave passes in well under that), or whose backlog
 * reaches the hard cap of 16 × queue_max (memory), is closed with 1013. Nobody else
 * waits for it, because nothing on the loop ever blocks on a socket.
 *
 * Each write packs as many queued messages as fit in frame_bytes into one text frame,
 * separated by '\n' (API.md §4): with a backlog, one syscall carries hundreds of
 * updates. socket.io wants one packet per WebSocket frame, so its writes pack whole
 * frames instead (OUTQ_JOIN_WS_FRAMES): still one syscall for the backlog.
 *
 * This file only keeps the queue and says what happened (outq_result): conn.c counts
 * it, asks for the write or closes the connection, and writes the packed frames. So the
 * rules above are tested without a socket (tests/unit/ws/test_outqueue.c).
 */
#include "outqueue.h"

#include <stdlib.h>
#include <string.h>

static bool grow(outq *q, uint32_t max)
{
    uint32_t cap = q->cap ? q->cap * 2 : 8;
    if (cap > max)
        cap = max;
    msgbuf **v = malloc(cap * sizeof *v);
    if (!v)
        return false;
    for (uint32_t i = 0; i < q->n; i++)
        v[i] = q->v[(q->head + i) % q->cap];
    free(q->v);
    q->v = v;
    q->head = 0;
    q->cap = cap;
    return true;
}

/* Behind: over the bound. A burst passes; staying behind does not, whether the
 * backlog grows or only its latest positions change (a reader behind on more vendors
 * than the bound, every push coalescing). The clock is read only when behind. */
static bool too_slow(outq *q, const outq_limits *lim)
{
    if (q->n < lim->queue_max)
        return false;
    int64_t now = vt_monotonic_ns();
    if (!q->behind_since_ns)
        q->behind_since_ns = now;
    return now - q->behind_since_ns >= lim->slow_ns ||
           q->n >= OUTQ_HARD_CAP_FACTOR * lim->queue_max;
}

outq_result outq_push(outq *q, msgbuf *m, const outq_limits *lim)
{
    if (too_slow(q, lim))
        return OUTQ_TOO_SLOW;
    if (m->coalesce) {
        for (uint32_t i = 0; i < q->n; i++) {
            msgbuf **slot = &q->v[(q->head + i) % q->cap];
            if ((*slot)->coalesce == m->coalesce) {
                msg_unref(*slot);
                *slot = msg_ref(m);
                return OUTQ_COALESCED;
            }
        }
    }
    if (q->n == q->cap && !grow(q, OUTQ_HARD_CAP_FACTOR * lim->queue_max))
        return OUTQ_NO_MEMORY;
    q->v[(q->head + q->n) % q->cap] = msg_ref(m);
    q->n++;
    return OUTQ_QUEUED;
}

uint32_t outq_clear(outq *q)
{
    uint32_t n = q->n;
    for (uint32_t i = 0; i < q->n; i++)
        msg_unref(q->v[(q->head + i) % q->cap]);
    free(q->v);
    memset(q, 0, sizeof *q);
    return n;
}

static msgbuf *pop(outq *q)
{
    msgbuf *m = q->v[q->head];
    q->head = (q->head + 1) % q->cap;
    q->n--;
    return m;
}

/* The bytes that go before message m (the n-th of a pack) when joined as join says;
 * writes them to at when it is not NULL. */
static size_t joint(outq_join join, const msgbuf *m, uint32_t n, char *at)
{
    if (join == OUTQ_JOIN_LINES) {
        if (n && at)
            at[0] = '\n';
        return n ? 1 : 0;
    }
    /* RFC 6455 §5.2: FIN + text, then the length in 7, 7+16 or 7+64 bits, no mask. */
    size_t h = m->len < 126 ? 2 : m->len < 65536 ? 4 : 10;
    if (at) {
        unsigned char *p = (unsigned char *)at;
        p[0] = 0x81;
        if (h == 2)
            p[1] = (unsigned char)m->len;
        else if (h == 4) {
            p[1] = 126;
            p[2] = (unsigned char)(m->len >> 8);
            p[3] = (unsigned char)m->len;
        } else {
            p[1] = 127;
            for (int i = 0; i < 8; i++)
                p[2 + i] = (unsigned char)((uint64_t)m->len >> (8 * (7 - i)));
        }
    }
    return h;
}

size_t outq_pack(outq *q, outq_join join, char *frame, size_t cap, const outq_limits *lim,
                 vt_histogram *latency, int64_t now_ns, msgbuf **alone, uint32_t *count)
{
    /* Locals, not *count: the copies into frame (char) could alias it, and this loop
     * runs once per message delivered. */
    size_t total = 0;
    uint32_t n = 0;
    *alone = NULL;
    if (q->n > 0 && joint(join, q->v[q->head], 0, NULL) + q->v[q->head]->len > cap) {
        /* One message larger than a frame (a big snapshot): it goes alone. */
        *alone = pop(q);
        n = 1;
    } else {
        while (q->n > 0) {
            msgbuf *m = q->v[q->head];
            size_t sep = joint(join, m, n, NULL);
            if (total + sep + m->len > cap)
                break;
            total += joint(join, m, n, frame + total);
            memcpy(frame + total, m->data, m->len);
            total += m->len;
            n++;
            if (m->t_in_ns)
                vt_histogram_observe(latency, (double)(now_ns - m->t_in_ns) / 1e9);
            msg_unref(pop(q));
        }
    }
    if (q->n < lim->queue_max / 2)
        q->behind_since_ns = 0; /* caught up */
    *count = n;
    return total;
}

void outq_trim(outq *q)
{
    if (q->n == 0 && q->cap > 64) {
        free(q->v);
        q->v = NULL;
        q->cap = 0;
        q->head = 0;
    }
}
