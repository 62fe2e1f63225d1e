/*
 * header_watch.c — the request-header timeout, without punishing a busy loop.
 *
 * libwebsockets closes a connection whose headers take longer than its timeout. It
 * checks from a timer, and libuv runs due timers before it reads sockets: after the
 * loop was busy for longer than the timeout (a flood of requests, a starved CPU), lws
 * hung up on connections whose complete request had been waiting in the kernel all
 * along — to the client, "socket hang up" for a request sent in time.
 *
 * So the gateways give lws a generous hard limit (vt_http_header_hard_timeout_s) and
 * keep the real one here: a connection still without its headers after timeout_ms is
 * closed only when nothing it sent is waiting unread (FIONREAD 0): then the client is
 * the slow one. Bytes waiting mean the loop is behind, and the connection is left for
 * the read that follows; lws's hard limit still bounds a client that trickles bytes.
 */
#include "vt_http.h"

#include <stdlib.h>
#include <sys/ioctl.h>

typedef struct {
    struct lws *wsi;
    int64_t since_ms;
    bool closing; /* its close is under way */
} watched;

struct vt_http_header_watch {
    uv_timer_t timer;
    int64_t timeout_ms;
    watched *v;
    size_t n, cap;
};

static void forget(vt_http_header_watch *w, struct lws *wsi)
{
    for (size_t i = 0; i < w->n; i++)
        if (w->v[i].wsi == wsi) {
            w->v[i] = w->v[--w->n];
            return;
        }
}

static bool unread_bytes(struct lws *wsi)
{
    int fd = lws_get_socket_fd(wsi), pending = 0;
    return fd >= 0 && ioctl(fd, FIONREAD, &pending) == 0 && pending > 0;
}

static void sweep(uv_timer_t *t)
{
    vt_http_header_watch *w = t->data;
    int64_t now = vt_monotonic_ns() / 1000000;
    for (size_t i = 0; i < w->n; i++)
        if (!w->v[i].closing && now - w->v[i].since_ms >= w->timeout_ms &&
            !unread_bytes(w->v[i].wsi)) {
            /* Closed by lws at its next service, which is safe outside a callback (a
             * close here is not); the close forgets the entry. */
            vt_http_set_timeout(w->v[i].wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
            w->v[i].closing = true;
        }
}

int vt_http_header_watch_new(uv_loop_t *loop, int timeout_s, vt_http_header_watch **out)
{
    vt_http_header_watch *w = calloc(1, sizeof *w);
    if (!w)
        return VT_RESOURCE_EXHAUSTED;
    w->timeout_ms = (int64_t)timeout_s * 1000;
    if (uv_timer_init(loop, &w->timer) != 0) {
        free(w);
        return VT_INTERNAL;
    }
    w->timer.data = w;
    uint64_t period = (uint64_t)(w->timeout_ms / 4 < 100 ? 100 : w->timeout_ms / 4);
    uv_timer_start(&w->timer, sweep, period, period);
    uv_unref((uv_handle_t *)&w->timer); /* never what keeps the loop running */
    *out = w;
    return VT_OK;
}

static void free_after_close(uv_handle_t *h)
{
    vt_http_header_watch *w = h->data;
    free(w->v);
    free(w);
}

void vt_http_header_watch_free(vt_http_header_watch *w)
{
    if (w)
        uv_close((uv_handle_t *)&w->timer, free_after_close);
}

int vt_http_header_hard_timeout_s(int timeout_s)
{
    return 3 * timeout_s + 10;
}

void vt_http_header_watch_event(vt_http_header_watch *w, struct lws *wsi, int reason)
{
    if (!w)
        return;
    switch (reason) {
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
        if (w->n == w->cap) {
            size_t cap = w->cap ? w->cap * 2 : 64;
            watched *grown = realloc(w->v, cap * sizeof *grown);
            if (!grown)
                return; /* unwatched: lws's hard limit still applies */
            w->v = grown;
            w->cap = cap;
        }
        w->v[w->n++] = (watched){wsi, vt_monotonic_ns() / 1000000, false};
        return;
    case LWS_CALLBACK_FILTER_HTTP_CONNECTION: /* the headers are in */
    case LWS_CALLBACK_HTTP:
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_WSI_DESTROY:
        forget(w, wsi);
        return;
    default:
        return;
    }
}
