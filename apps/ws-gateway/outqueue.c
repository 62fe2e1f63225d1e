/*
 * outqueue.c — what each connection still has to receive, and how it gets it.
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
 * updates. The frame is assembled in one buffer shared by every connection (we are
 * single-threaded and lws copies what the kernel does not take).
 *
 * When the writes happen: a connection that got messages is put on gw.flush, and a
 * libuv check handle (run once per loop iteration, after its I/O callbacks) writes one
 * frame to each of them directly. Asking lws for a writeable callback instead costs two
 * epoll_ctl per frame (libuv arms POLLOUT, lws disarms it after the write), which was a
 * fifth of the gateway's CPU under fan-out. Only a connection with more than one frame
 * waiting, or whose last frame the kernel did not take whole (lws holds the rest), waits
 * for POLLOUT and its writeable callback. Everything stays on the loop thread.
 *
 * Under load the flushes are paced: one that took at least flush_pace_min_us is
 * followed by flush_pace_pct % of its length before the next (a timer brings it if
 * nothing else wakes the loop). Without that, a saturated loop wrote a small frame to
 * every viewer on every turn, sends took the whole core, and the backlog (hence latency)
 * grew until frames were big enough; with it, fan-out to 1,000 viewers went from ~0.94M
 * to over 2.5M deliveries/s (docs/benchmarks.md).
 */
#include "gateway.h"

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
 * than the bound, every push coalescing). True when c was closed for it. */
static bool close_if_slow(conn *c)
{
    gw *g = c->g;
    outq *q = &c->q;
    uint32_t bound = (uint32_t)g->cfg.queue_max;
    if (q->n < bound)
        return false;
    int64_t now = vt_monotonic_ns();
    if (!q->behind_since_ns)
        q->behind_since_ns = now;
    bool stayed = now - q->behind_since_ns >= (int64_t)g->cfg.slow_ms * 1000000;
    if (!stayed && q->n < 16 * bound)
        return false;
    vt_counter_inc(g->m.slow_closes);
    vt_info(&(vt_log_ctx){.request_id = c->request_id, .user_id = c->user_id},
            "ws: closing a reader %u messages behind (1013)", q->n);
    outq_clear(c);
    conn_close(c, (enum lws_close_status)1013, "too slow: reader fell too far behind");
    return true;
}

bool outq_push(conn *c, msgbuf *m)
{
    gw *g = c->g;
    outq *q = &c->q;
    if (c->state >= CONN_CLOSING || !c->wsi) {
        vt_counter_inc(g->m.dropped_closed);
        return false;
    }
    if (close_if_slow(c))
        return false;
    if (m->coalesce) {
        for (uint32_t i = 0; i < q->n; i++) {
            msgbuf **slot = &q->v[(q->head + i) % q->cap];
            if ((*slot)->coalesce == m->coalesce) {
                msg_unref(*slot);
                *slot = msg_ref(m);
                vt_counter_inc(g->m.coalesced);
                return true;
            }
        }
    }
    if (q->n == q->cap && !grow(q, 16 * (uint32_t)g->cfg.queue_max)) {
        conn_close(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
        return false;
    }
    q->v[(q->head + q->n) % q->cap] = msg_ref(m);
    q->n++;
    g->queued++;
    conn_want_write(c);
    return true;
}

void outq_clear(conn *c)
{
    outq *q = &c->q;
    for (uint32_t i = 0; i < q->n; i++)
        msg_unref(q->v[(q->head + i) % q->cap]);
    c->g->queued -= q->n;
    free(q->v);
    memset(q, 0, sizeof *q);
}

int outq_close_frame(conn *c)
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
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_ACK, 3);
    return 0;
}

static msgbuf *pop(outq *q)
{
    msgbuf *m = q->v[q->head];
    q->head = (q->head + 1) % q->cap;
    q->n--;
    return m;
}

int outq_write(conn *c)
{
    gw *g = c->g;
    outq *q = &c->q;
    c->write_requested = false;
    if (c->close_sent)
        return 0;
    if (c->close_code && q->n == 0)
        return outq_close_frame(c);
    if (q->n == 0)
        return 0;
    if (lws_partial_buffered(c->wsi)) { /* the kernel has not taken the last frame yet */
        conn_want_write(c);
        return 0;
    }
    unsigned char *frame = g->wbuf + LWS_PRE, *big = NULL;
    size_t total = 0, count = 0, cap = (size_t)g->cfg.frame_bytes;
    int64_t now = vt_monotonic_ns();
    if (q->v[q->head]->len > cap) {
        /* One message larger than a frame (a big snapshot): send it alone. */
        msgbuf *m = pop(q);
        big = malloc(LWS_PRE + m->len);
        if (!big) {
            msg_unref(m);
            return -1;
        }
        frame = big + LWS_PRE;
        memcpy(frame, m->data, m->len);
        total = m->len;
        count = 1;
        msg_unref(m);
    } else {
        while (q->n > 0) {
            msgbuf *m = q->v[q->head];
            size_t need = m->len + (count ? 1 : 0);
            if (total + need > cap)
                break;
            if (count)
                frame[total++] = '\n';
            memcpy(frame + total, m->data, m->len);
            total += m->len;
            count++;
            if (m->t_in_ns)
                vt_histogram_observe(g->m.latency, (double)(now - m->t_in_ns) / 1e9);
            msg_unref(pop(q));
        }
    }
    g->queued -= count;
    if (q->n < (uint32_t)g->cfg.queue_max / 2)
        q->behind_since_ns = 0; /* caught up */
    int n = lws_write(c->wsi, frame, total, LWS_WRITE_TEXT);
    free(big);
    if (n < (int)total)
        return -1;
    vt_counter_add(g->m.msgs_out, count);
    vt_counter_inc(g->m.frames_out);
    vt_counter_add(g->m.bytes_out, total);
    if (q->n > 0 || c->close_code)
        conn_want_write(c);
    else if (q->cap > 64) { /* a burst is over: give its memory back */
        free(q->v);
        q->v = NULL;
        q->cap = 0;
        q->head = 0;
    }
    return 0;
}

/* Write one frame to every connection on gw.flush. */
static void flush_now(gw *g)
{
    int64_t start = vt_monotonic_ns();
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
        } else if (outq_write(c) < 0 && c->wsi) { /* (lws may have closed it already) */
            lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        }
        conn_unref(c);
    }
    g->flushing = false;
    /* Pacing: a flush long enough to matter is followed by at least pace_pct % of its
     * length for everything else. Messages that arrive meanwhile wait and go out
     * together, in bigger frames, instead of sends taking the whole core. */
    int64_t end = vt_monotonic_ns(), took = end - start;
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
    gw *g = h->data;
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

void outq_flush_start(gw *g)
{
    uv_check_init(g->loop, &g->flush_check);
    g->flush_check.data = g;
    uv_check_start(&g->flush_check, flush);
    uv_timer_init(g->loop, &g->flush_timer);
    g->flush_timer.data = g;
}

void outq_flush_stop(gw *g)
{
    flush_now(g); /* the last messages, e.g. 1001 closes, go the usual way */
    uv_check_stop(&g->flush_check);
    uv_close((uv_handle_t *)&g->flush_check, NULL);
    uv_close((uv_handle_t *)&g->flush_timer, NULL);
}
