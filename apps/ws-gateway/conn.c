/*
 * conn.c — one WebSocket connection as an object, and the way out to its socket.
 *
 * The object is refcounted: lws holds one reference until LWS_CALLBACK_CLOSED, each
 * gRPC call or Redis write in flight holds another, and so does the flush list while c
 * is on it, so completions arriving after the socket closed find a live (if inert)
 * object. Everything above sends through conn_send: outqueue.c keeps the queue and says
 * what a push did, and this file acts on it (a write, or a close with 1013).
 *
 * When the writes happen: a connection that got messages is put on the flush list, and a
 * libuv check handle (run once per loop iteration, after its I/O callbacks) writes one
 * frame to each of them directly. Asking lws for a writeable callback instead costs two
 * epoll_ctl per frame (libuv arms POLLOUT, lws disarms it after the write), which was a
 * fifth of the gateway's CPU under fan-out. Only a connection with more than one frame
 * waiting, or whose last frame the kernel did not take whole (lws holds the rest), waits
 * for POLLOUT and its writeable callback. Everything stays on the loop thread.
 *
 * Under load the flushes are paced: one that took at least flush_pace_min_us of CPU is
 * followed by flush_pace_pct % of that before the next (a timer brings it if nothing
 * else wakes the loop). Without that, a saturated loop wrote a small frame to every
 * viewer on every turn, sends took the whole core, and the backlog (hence latency) grew
 * until frames were big enough; with it, fan-out to 1,000 viewers went from ~0.94M to
 * over 2.5M deliveries/s (docs/benchmarks.md). The flush is measured in the loop
 * thread's CPU time, not on the wall clock: a flush that was preempted (a busy machine,
 * a CPU limit) did not take the core, and waiting for its wall-clock length made a
 * starved gateway idle while its viewers waited.
 */
#include "conn.h"

#include "ws_gateway.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

vt_log_ctx conn_log_ctx(const conn *c)
{
    return (vt_log_ctx){.request_id = c->request_id, .user_id = c->user_id, .trace = &c->trace};
}

const char *conn_header_traceparent(struct lws *wsi, char *out, size_t outlen)
{
    int n = wsi ? lws_hdr_custom_copy(wsi, out, (int)outlen, "traceparent:", 12) : -1;
    return n > 0 && (size_t)n < outlen ? out : NULL;
}

conn *conn_new(ws_gateway *g, struct lws *wsi, const char *request_id, const char *traceparent)
{
    conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->wsi = wsi;
    c->g = g;
    c->refs = 1;
    c->state = CONN_AUTH_WAIT;
    c->role = ROLE_PENDING;
    c->proto = wsi ? PROTO_VENTA : PROTO_SOCKETIO;
    c->tokens = g->cfg.rate_burst;
    c->tokens_ms = vt_now_ms();
    vt_request_id_new(c->conn_id);
    snprintf(c->request_id, sizeof c->request_id, "%s", request_id);
    vt_trace_start(traceparent, traceparent ? strlen(traceparent) : 0, &c->trace);
    c->next = g->conns;
    if (g->conns)
        g->conns->prev = c;
    g->conns = c;
    g->nconns++;
    vt_gauge_add(g->m.connections[ROLE_PENDING][c->proto], 1);
    return c;
}

void conn_ref(conn *c)
{
    c->refs++;
}

void conn_unref(conn *c)
{
    if (--c->refs > 0)
        return;
    free(c->user_id);
    free(c);
}

void conn_set_role(conn *c, enum conn_role role)
{
    /* A connection that streams a vendor counts as a vendor even if it also watches. */
    if (c->role == role || c->role == ROLE_VENDOR)
        return;
    vt_gauge_add(c->g->m.connections[c->role][c->proto], -1);
    vt_gauge_add(c->g->m.connections[role][c->proto], 1);
    c->role = role;
}

bool conn_closed(conn *c)
{
    ws_gateway *g = c->g;
    if (c->state == CONN_GONE)
        return false;
    c->state = CONN_GONE;
    c->wsi = NULL;
    vt_gauge_add(g->m.connections[c->role][c->proto], -1);
    if (c->prev)
        c->prev->next = c->next;
    else
        g->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    g->nconns--;
    g->queued -= outq_clear(&c->q);
    free(c->rx);
    c->rx = NULL;
    return true;
}

/* c has something to send: it goes out at the end of this loop iteration (flush_now),
 * or, when that cannot take it all, from a writeable callback. */
void conn_write_soon(conn *c)
{
    if (!c->wsi || c->write_requested)
        return;
    c->write_requested = true;
    ws_gateway *g = c->g;
    if (g->flushing || !uv_is_active((uv_handle_t *)&g->flush_check)) {
        lws_callback_on_writable(c->wsi); /* more than one frame, or shutting down */
        return;
    }
    if (c->flush_listed)
        return;
    c->flush_listed = true;
    conn_ref(c);
    c->flush_next = g->flush;
    g->flush = c;
}

static void want_write(conn *c)
{
    if (c->tx)
        c->tx->wake(c);
    else
        conn_write_soon(c);
}

void conn_close(conn *c, int code, const char *reason)
{
    if (c->close_code || c->state == CONN_GONE)
        return;
    c->close_code = (uint16_t)code;
    c->close_reason = reason;
    c->state = CONN_CLOSING;
    if (code == LWS_CLOSE_STATUS_POLICY_VIOLATION)
        vt_counter_inc(c->g->m.closes_policy);
    vt_log_ctx lc = conn_log_ctx(c);
    vt_debug(&lc, "ws: closing %d: %s", code, reason);
    if (c->wsi) {
        c->write_requested = true;
        lws_callback_on_writable(c->wsi);
    } else if (c->tx) {
        c->tx->wake(c);
    }
}

static outq_limits limits(const ws_gateway *g)
{
    return (outq_limits){.queue_max = (uint32_t)g->cfg.queue_max,
                         .slow_ns = (int64_t)g->cfg.slow_ms * 1000000};
}

static bool push(conn *c, msgbuf *m)
{
    ws_gateway *g = c->g;
    outq_limits lim = limits(g);
    switch (outq_push(&c->q, m, &lim)) {
    case OUTQ_QUEUED:
        g->queued++;
        want_write(c);
        return true;
    case OUTQ_COALESCED:
        vt_counter_inc(g->m.coalesced);
        return true;
    case OUTQ_TOO_SLOW: {
        vt_counter_inc(g->m.slow_closes);
        vt_log_ctx lc = conn_log_ctx(c);
        vt_info(&lc, "ws: closing a reader %u messages behind (1013)", c->q.n);
        g->queued -= outq_clear(&c->q);
        conn_close(c, (enum lws_close_status)1013, "too slow: reader fell too far behind");
        return false;
    }
    case OUTQ_NO_MEMORY:
        conn_close(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
        return false;
    }
    return false;
}

bool conn_send(conn *c, msgbuf *m)
{
    if (c->state >= CONN_CLOSING || (!c->wsi && !c->tx)) {
        vt_counter_inc(c->g->m.dropped_closed);
        return false;
    }
    if (!c->tx)
        return push(c, m);
    msgbuf *own = c->tx->encode(c, m); /* once per protocol: the transport caches it */
    if (!own)
        return true;
    bool ok = push(c, own);
    msg_unref(own);
    return ok;
}

size_t conn_take_frames(conn *c, unsigned char *buf, size_t cap, msgbuf **alone, uint32_t *count)
{
    ws_gateway *g = c->g;
    *alone = NULL;
    *count = 0;
    if (c->q.n == 0)
        return 0;
    outq_limits lim = limits(g);
    int64_t now = vt_monotonic_ns();
    size_t total = outq_pack(&c->q, OUTQ_JOIN_WS_FRAMES, (char *)buf, cap, &lim, g->m.latency, now,
                             alone, count);
    g->queued -= *count;
    if (*alone && (*alone)->t_in_ns)
        vt_histogram_observe(g->m.latency, (double)(now - (*alone)->t_in_ns) / 1e9);
    vt_counter_add(g->m.msgs_out, *count);
    vt_counter_add(g->m.bytes_out, *alone ? (*alone)->len : total);
    outq_trim(&c->q);
    return total;
}

msgbuf *conn_take(conn *c)
{
    /* A buffer of no bytes: the head message comes back alone, whatever its size. */
    msgbuf *m;
    uint32_t count;
    conn_take_frames(c, NULL, 0, &m, &count);
    return m;
}

/* Send m, the caller's own (a reply), and drop it. */
static void send_own(conn *c, msgbuf *m)
{
    if (!m)
        return;
    conn_send(c, m);
    msg_unref(m);
}

void conn_send_error(conn *c, const char *code, const char *message, const char *ref)
{
    vt_counter_inc(c->g->m.errors_sent);
    send_own(c, msg_encode_error(code, message, ref));
}

void conn_send_ack(conn *c, const char *ref)
{
    send_own(c, msg_encode_ack(ref));
}

void conn_strike(conn *c)
{
    if (++c->strikes > c->g->cfg.max_strikes)
        conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "too many bad messages");
}

int conn_close_frame(conn *c)
{
    /* Written by hand: lws 4.1 drops the socket without a close frame when a writeable
     * (or timer) callback returns -1 after lws_close_reason, and the client would see
     * 1006 instead of our code and reason. Opcode 4 is lws's internal "close". */
    unsigned char buf[LWS_PRE + 125];
    size_t rlen = c->close_reason ? strlen(c->close_reason) : 0;
    if (rlen > 120)
        rlen = 120;
    buf[LWS_PRE] = (unsigned char)(c->close_code >> 8);
    buf[LWS_PRE + 1] = (unsigned char)(c->close_code & 0xff);
    if (rlen)
        memcpy(buf + LWS_PRE + 2, c->close_reason, rlen);
    lws_write(c->wsi, buf + LWS_PRE, rlen + 2, (enum lws_write_protocol)4);
    c->close_sent = true;
    /* Wait for the client's close before dropping the socket: closing with unread
     * input (a client still flooding us) sends a RST, which can destroy our close
     * frame in flight and leave the client with 1006. lws ends it on the client's
     * close, or on this timeout. */
    vt_http_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_ACK, 3);
    return 0;
}

int conn_write(conn *c)
{
    ws_gateway *g = c->g;
    outq *q = &c->q;
    c->write_requested = false;
    if (c->close_sent)
        return 0;
    if (c->close_code && q->n == 0)
        return conn_close_frame(c);
    if (q->n == 0)
        return 0;
    if (lws_partial_buffered(c->wsi)) { /* the kernel has not taken the last frame yet */
        want_write(c);
        return 0;
    }
    /* The frame is assembled in one buffer shared by every connection (we are
     * single-threaded and lws copies what the kernel does not take). */
    unsigned char *frame = g->wbuf + LWS_PRE, *big = NULL;
    outq_limits lim = limits(g);
    msgbuf *alone;
    uint32_t count;
    size_t total = outq_pack(q, OUTQ_JOIN_LINES, (char *)frame, (size_t)g->cfg.frame_bytes, &lim,
                             g->m.latency, vt_monotonic_ns(), &alone, &count);
    if (alone) {
        big = malloc(LWS_PRE + alone->len);
        if (!big) {
            msg_unref(alone);
            return -1;
        }
        frame = big + LWS_PRE;
        memcpy(frame, alone->data, alone->len);
        total = alone->len;
        msg_unref(alone);
    }
    g->queued -= count;
    int n = lws_write(c->wsi, frame, total, LWS_WRITE_TEXT);
    free(big);
    if (n < (int)total)
        return -1;
    vt_counter_add(g->m.msgs_out, count);
    vt_counter_inc(g->m.frames_out);
    vt_counter_add(g->m.bytes_out, total);
    if (q->n > 0 || c->close_code)
        want_write(c);
    else
        outq_trim(q);
    return 0;
}

/* Write one frame to every connection on the flush list. */
static void flush_now(ws_gateway *g)
{
    int64_t start_cpu = vt_thread_cpu_ns();
    uv_timer_stop(&g->flush_timer);
    conn *list = g->flush;
    g->flush = NULL;
    g->flushing = true; /* what is still left after a frame waits for POLLOUT */
    while (list) {
        conn *c = list;
        list = c->flush_next;
        c->flush_next = NULL;
        c->flush_listed = false;
        if (!c->wsi || !c->write_requested) {
            /* gone, or a writeable callback came first */
        } else if (c->close_code) {
            lws_callback_on_writable(c->wsi); /* the close frame goes from the callback */
        } else if ((c->tx ? c->tx->write(c) : conn_write(c)) < 0 &&
                   c->wsi) { /* (lws may have closed it already) */
            vt_http_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        }
        conn_unref(c);
    }
    g->flushing = false;
    /* Pacing: a flush long enough to matter is followed by at least pace_pct % of its
     * CPU time for everything else. Messages that arrive meanwhile wait and go out
     * together, in bigger frames, instead of sends taking the whole core. */
    int64_t end = vt_monotonic_ns(), took = vt_thread_cpu_ns() - start_cpu;
    g->flush_not_before_ns = took >= (int64_t)g->cfg.flush_pace_min_us * 1000
                                 ? end + took * g->cfg.flush_pace_pct / 100
                                 : 0;
}

static void on_flush_timer(uv_timer_t *t)
{
    flush_now(t->data);
}

static void flush(uv_check_t *h)
{
    ws_gateway *g = h->data;
    if (!g->flush)
        return;
    int64_t wait_ns = g->flush_not_before_ns - vt_monotonic_ns();
    if (wait_ns <= 0) {
        flush_now(g);
    } else if (!uv_is_active((uv_handle_t *)&g->flush_timer)) {
        /* The loop may have nothing else to wake it: a timer brings the flush. */
        uv_timer_start(&g->flush_timer, on_flush_timer, (uint64_t)(wait_ns + 999999) / 1000000, 0);
    }
}

void conn_flush_start(ws_gateway *g)
{
    uv_check_init(g->loop, &g->flush_check);
    g->flush_check.data = g;
    uv_check_start(&g->flush_check, flush);
    uv_timer_init(g->loop, &g->flush_timer);
    g->flush_timer.data = g;
}

void conn_flush_stop(ws_gateway *g)
{
    flush_now(g); /* the last messages, e.g. 1001 closes, go the usual way */
    uv_check_stop(&g->flush_check);
    uv_close((uv_handle_t *)&g->flush_check, NULL);
    uv_close((uv_handle_t *)&g->flush_timer, NULL);
}
