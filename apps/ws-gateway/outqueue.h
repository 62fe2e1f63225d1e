/*
 * outqueue.h — what one connection still has to receive: a bounded ring of shared
 * messages with per-vendor coalescing, packed into frames on the way out.
 *
 * Pure data structure: no socket, no connection, no clock of its own beyond
 * vt_monotonic_ns. It answers with a verdict — queued (the caller asks for a write),
 * coalesced, or close the connection — and conn.c acts on it; the unit tests
 * (tests/unit/ws) drive it directly.
 */
#ifndef VENTA_WS_OUTQUEUE_H
#define VENTA_WS_OUTQUEUE_H

#include "vt_metrics.h"
#include "ws_messages.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    msgbuf **v;
    uint32_t head, n, cap;
    int64_t behind_since_ns; /* when the queue last went over queue_max; 0 = not behind */
} outq;

/* The bounds of every queue: over queue_max a reader is behind; behind for slow_ms, or
 * 16 × queue_max messages deep, it is too slow. */
typedef struct {
    uint32_t queue_max;
    int64_t slow_ns;
} outq_limits;

#define OUTQ_HARD_CAP_FACTOR 16

typedef enum {
    OUTQ_QUEUED,    /* a new slot: the connection wants a write */
    OUTQ_COALESCED, /* replaced the vendor's waiting location: nothing more to do */
    OUTQ_TOO_SLOW,  /* close with 1013 (nothing was queued) */
    OUTQ_NO_MEMORY, /* close with 1011 (nothing was queued) */
} outq_result;

/* Queue m (takes a reference unless the verdict is a close). */
outq_result outq_push(outq *q, msgbuf *m, const outq_limits *lim);

/* How packed messages are joined. */
typedef enum {
    OUTQ_JOIN_LINES,     /* '\n' between them: the payload of one text frame (/ws) */
    OUTQ_JOIN_WS_FRAMES, /* each one a whole unmasked WebSocket text frame, header first:
                            bytes for one send() where the protocol wants one message per
                            frame (socket.io over WebSocket) */
} outq_join;

/* Take the messages at the head that fit in cap bytes, joined as join says, into frame,
 * and return the bytes written; *count is how many were taken. A head message larger
 * than cap (with its frame header) is taken alone instead: it is returned in *alone (the
 * caller's reference) and nothing is written to frame. Each message with t_in_ns is
 * observed in latency (may be NULL) at now_ns. Clears the behind mark once fewer than
 * queue_max / 2 remain. */
size_t outq_pack(outq *q, outq_join join, char *frame, size_t cap, const outq_limits *lim,
                 vt_histogram *latency, int64_t now_ns, msgbuf **alone, uint32_t *count);

/* An empty queue that grew past its small size gives the memory back (a burst is over). */
void outq_trim(outq *q);

/* Drop every message; returns how many there were. */
uint32_t outq_clear(outq *q);

#endif
