/*
 * sio_server.c — Engine.IO 4 (the transport layer of socket.io 4) on the gateway's
 * port, path /socket.io/, for the original Venta apps (docs/ws.md).
 *
 * The seam. A socket.io session is a conn like any /ws connection, so that fanout,
 * snapshot, streams, the per-connection queue with its slow-reader close, the limits,
 * presence and metrics all apply unchanged. What differs is only how bytes leave: a
 * session's transport changes in its life (polling, then perhaps WebSocket), and a
 * polling session has no socket at all between requests. So the conn carries a
 * conn_transport instead of being tied to a wsi: messages are encoded into socket.io
 * packets as they are queued (sio_client_encode, once per protocol and namespace), and
 * the queue is drained here — one packet per WebSocket frame (every queued packet that
 * fits, as whole frames, in one write, at the end of the loop iteration with /ws's
 * frames: conn_write_soon), or every queued packet joined with 0x1e into the body of
 * the held polling GET. While on WebSocket, c->wsi
 * is that socket, so conn_close and conn_close_frame close it as they do on /ws.
 *
 * Sessions. Every lws request of /socket.io/ gets a link (its per-session pointer): a
 * polling GET (held until a packet is queued; the heartbeat's ping answers it at the
 * latest), a POST (its body, decoded with vt_sio_eio_payload_next, then "ok"), or a
 * WebSocket. A POST finds its session again by sid when its body is complete, so no
 * pointer outlives a session; a held GET and a WebSocket are detached when their
 * session ends. Sessions are found by sid in a fanout_table (the mesh's vt_index over
 * vt_hash_str of the sid, as the fan-out's cells and vendors), so a polling request
 * costs the same with ten sessions or a hundred thousand. The heartbeat is one libuv
 * timer per session (sio_session.c's rules).
 *
 * Polling sessions need every request of a sid on the replica that holds it: sticky
 * routing by client IP in deploy/k8s (docs/operations.md).
 */
#include "sio_server.h"

#include "client.h"
#include "sio_client.h"
#include "sio_session.h"
#include "vt_auth.h"
#include "vt_http.h"
#include "vt_sio.h"
#include "ws_gateway.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_KEEPALIVE_S 5 /* as ws_server.c's answers */

typedef struct sio_session sio_session;

typedef struct sio_link {
    enum { LINK_GET, LINK_POST, LINK_WS, LINK_ANSWER } kind;
    struct lws *wsi;
    sio_session *s; /* GET and WebSocket links, until the session ends */
    char sid[VT_REQUEST_ID_LEN + 1];
    /* An HTTP answer: headers in one writeable callback, the body in the next. */
    unsigned status;
    const char *ctype;
    char *body; /* LWS_PRE + len */
    size_t len;
    bool answering, headers_sent, hang_up;
    vt_buf in; /* a POST body, or a WebSocket message in fragments */
    bool too_big;
    char pending[8]; /* "3probe", written before anything else */
} sio_link;

struct sio_session {
    fanout_node node; /* first: find() turns the table's node back into the session */
    sio_client cl;
    ws_gateway *g;
    conn *c;
    char sid[VT_REQUEST_ID_LEN + 1];
    uv_timer_t timer;
    sio_heartbeat hb;
    sio_tx tx;
    sio_link *get, *ws, *probe;
    bool ended;
};

typedef struct sio_server {
    fanout_table sessions; /* by sid */
    sio_cache cache;
} sio_server;

static sio_server *server(ws_gateway *g)
{
    if (!g->sio)
        g->sio = calloc(1, sizeof *g->sio);
    return g->sio;
}

static sio_session *find(ws_gateway *g, const char *sid)
{
    return g->sio ? (sio_session *)fanout_table_get(&g->sio->sessions, sid, vt_hash_str(sid))
                  : NULL;
}

static bool uri_is_ours(const char *uri)
{
    return strncmp(uri, "/socket.io", 10) == 0 && (uri[10] == '\0' || strcmp(uri + 10, "/") == 0);
}

bool sio_server_claims(struct lws *wsi, enum lws_callback_reasons reason, const void *in)
{
    if (reason == LWS_CALLBACK_HTTP)
        return in && uri_is_ours(in);
    if (reason != LWS_CALLBACK_HTTP_CONFIRM_UPGRADE && reason != LWS_CALLBACK_ESTABLISHED)
        return false;
    char uri[64];
    return lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) > 0 && uri_is_ours(uri);
}

/* ------------------------------------------------------------------ HTTP answers */

static int answer(sio_link *l, unsigned status, const char *ctype, const char *body, size_t len)
{
    l->body = malloc(LWS_PRE + len + 1);
    if (!l->body)
        return -1;
    memcpy(l->body + LWS_PRE, body, len);
    l->len = len;
    l->status = status;
    l->ctype = ctype;
    l->answering = true;
    lws_callback_on_writable(l->wsi);
    return 0;
}

static int answer_error(sio_link *l, int code)
{
    char body[96];
    int n = vt_sio_eio_error_body((vt_sio_eio_error)code, body, sizeof body);
    return answer(l, vt_sio_eio_error_status((vt_sio_eio_error)code), "application/json", body,
                  n > 0 ? (size_t)n : 0);
}

static void link_free(sio_link *l)
{
    free(l->body);
    vt_buf_free(&l->in);
    free(l);
}

/* --------------------------------------------------------------------- sessions */

static void on_timer_closed(uv_handle_t *h)
{
    free(h->data);
}

/* The session is over: its conn goes the way of every closed connection (viewport
 * and streams released), a held GET is answered with the close packet. */
static void session_end(sio_session *s)
{
    if (s->ended)
        return;
    s->ended = true;
    ws_gateway *g = s->g;
    fanout_table_del(&g->sio->sessions, &s->node);
    if (s->get) {
        sio_link *l = s->get;
        l->s = NULL;
        if (!l->answering)
            answer(l, 200, "text/plain; charset=UTF-8", "1", 1);
    }
    if (s->probe) {
        s->probe->s = NULL;
        vt_http_set_timeout(s->probe->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
    if (s->ws) {
        s->ws->s = NULL;
        if (!s->c->close_sent)
            vt_http_set_timeout(s->ws->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
    s->c->wsi = NULL;
    sio_client_done(&s->cl);
    client_closed(s->c);
    uv_timer_stop(&s->timer);
    uv_close((uv_handle_t *)&s->timer, on_timer_closed);
}

static void queue_text(sio_session *s, const char *text, size_t len)
{
    msgbuf *m = msg_new(len);
    if (!m)
        return;
    memcpy(m->data, text, len);
    m->len = (uint32_t)len;
    conn_send(s->c, m);
    msg_unref(m);
}

static void on_heartbeat(uv_timer_t *t)
{
    sio_session *s = t->data;
    int64_t wake;
    switch (sio_hb_step(&s->hb, vt_now_ms(), s->g->cfg.sio_ping_timeout_ms, &wake)) {
    case SIO_HB_PING:
        queue_text(s, "2", 1);
        break;
    case SIO_HB_TIMEOUT:
        conn_close(s->c, LWS_CLOSE_STATUS_NORMAL, "ping timeout");
        return;
    case SIO_HB_WAIT:
        break;
    }
    int64_t wait = wake - vt_now_ms();
    uv_timer_start(&s->timer, on_heartbeat, wait > 0 ? (uint64_t)wait : 1, 0);
}

/* conn_transport: messages were queued for c, or a close was asked. */
static void wake(conn *c)
{
    sio_session *s = c->tx_data;
    if (s->ended)
        return;
    if (s->tx == SIO_TX_WEBSOCKET) {
        conn_write_soon(c); /* with /ws's frames, at the end of this loop iteration */
        return;
    }
    if (s->get && !s->get->answering) {
        s->get->answering = true; /* its body is what is queued when it can be written */
        lws_callback_on_writable(s->get->wsi);
    } else if (!s->get && c->close_code) {
        session_end(s); /* nobody to tell: its next request gets "Session ID unknown" */
    }
}

static msgbuf *encode(conn *c, msgbuf *m)
{
    return sio_client_encode(&((sio_session *)c->tx_data)->cl, m);
}

static int flush_write(conn *c);
static const conn_transport transport = {.encode = encode, .wake = wake, .write = flush_write};

/* Authorization: Bearer, else ?token= (the CONNECT auth payload is sio_client.c's). */
static void handshake_token(struct lws *wsi, char *buf, size_t cap, const char **tok, size_t *len)
{
    char err[128];
    *tok = NULL;
    *len = 0;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION) > 0 &&
        lws_hdr_copy(wsi, buf, (int)cap, WSI_TOKEN_HTTP_AUTHORIZATION) > 0 &&
        vt_auth_bearer_token(buf, tok, len, err, sizeof err) == VT_OK)
        return;
    const char *q = lws_get_urlarg_by_name(wsi, "token=", buf, (int)cap);
    if (q) {
        *tok = q;
        *len = strlen(q);
    }
}

static sio_session *session_new(ws_gateway *g, struct lws *wsi, sio_tx tx)
{
    sio_server *sv = server(g);
    sio_session *s = sv ? calloc(1, sizeof *s) : NULL;
    char rid[VT_REQUEST_ID_LEN + 1];
    vt_request_id_new(rid);
    char traceparent[VT_TRACEPARENT_LEN + 2];
    conn *c =
        s ? conn_new(g, NULL, rid, conn_header_traceparent(wsi, traceparent, sizeof traceparent))
          : NULL;
    char *buf = malloc(VT_AUTH_TOKEN_MAX + 64);
    if (c && buf) {
        vt_request_id_new(s->sid);
        s->node = (fanout_node){.hash = vt_hash_str(s->sid), .key = s->sid};
    }
    if (!c || !buf || fanout_table_add(&sv->sessions, &s->node) != VT_OK) {
        if (c)
            client_closed(c);
        free(s);
        free(buf);
        return NULL;
    }
    const char *tok;
    size_t tlen;
    handshake_token(wsi, buf, VT_AUTH_TOKEN_MAX + 64, &tok, &tlen);
    s->g = g;
    s->c = c;
    s->tx = tx;
    c->tx = &transport;
    c->tx_data = s;
    sio_client_init(&s->cl, c, &sv->cache, tok, tlen);
    free(buf);
    uv_timer_init(g->loop, &s->timer);
    s->timer.data = s;
    sio_hb_start(&s->hb, vt_now_ms(), g->cfg.sio_ping_interval_ms);
    uv_timer_start(&s->timer, on_heartbeat, (uint64_t)g->cfg.sio_ping_interval_ms, 0);
    return s;
}

static int open_packet(const sio_session *s, bool upgrades, char *out, size_t outlen)
{
    vt_sio_eio_open_opts o = {.sid = s->sid,
                              .upgrade_to_websocket = upgrades,
                              .ping_interval_ms = s->g->cfg.sio_ping_interval_ms,
                              .ping_timeout_ms = s->g->cfg.sio_ping_timeout_ms,
                              .max_payload = s->g->cfg.max_frame};
    return vt_sio_eio_encode_open(&o, out, outlen);
}

/* One Engine.IO packet from the client, over either transport. */
static void on_packet(sio_session *s, const vt_sio_eio_packet *p)
{
    switch (p->type) {
    case VT_SIO_EIO_PONG:
        sio_hb_pong(&s->hb, vt_now_ms(), s->g->cfg.sio_ping_interval_ms);
        uv_timer_start(&s->timer, on_heartbeat, (uint64_t)s->g->cfg.sio_ping_interval_ms, 0);
        break;
    case VT_SIO_EIO_PING: /* EIO 3's direction; answered all the same */
        queue_text(s, "3", 1);
        break;
    case VT_SIO_EIO_MESSAGE:
        sio_client_message(&s->cl, p->data, p->len, p->binary);
        break;
    case VT_SIO_EIO_CLOSE:
        session_end(s);
        break;
    default: /* open, upgrade outside a probe, noop: nothing to do */
        break;
    }
}

/* ---------------------------------------------------------------------- polling */

/* A query parameter's value into buf, NULL when absent or longer than buf. lws copies
 * each "name=value" it looks at whole and gives up at one that does not fit (a JWT in
 * ?token=), so it looks with a buffer as big as the headers may be. */
static const char *arg(struct lws *wsi, const char *name, char *buf, int cap)
{
    char big[10240];
    const char *v = lws_get_urlarg_by_name(wsi, name, big, sizeof big);
    if (!v || (int)strlen(v) >= cap)
        return NULL;
    memcpy(buf, v, strlen(v) + 1);
    return buf;
}

static sio_method method_of(struct lws *wsi)
{
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI))
        return SIO_GET;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI))
        return SIO_POST;
    return SIO_OTHER_METHOD;
}

/* The check of sio_session.c for this request; -1 when it may go on, with *sp its
 * session (NULL for a handshake). */
static int check(ws_gateway *g, struct lws *wsi, bool websocket, char *sid, sio_session **sp)
{
    char eio[32], transport_name[48], sidbuf[VT_REQUEST_ID_LEN + 32];
    const char *sidarg = arg(wsi, "sid=", sidbuf, sizeof sidbuf);
    sio_session *s = sidarg ? find(g, sidarg) : NULL;
    sio_request r = {.method = websocket ? SIO_GET : method_of(wsi),
                     .websocket = websocket,
                     .eio = arg(wsi, "EIO=", eio, sizeof eio),
                     .transport = arg(wsi, "transport=", transport_name, sizeof transport_name),
                     .has_sid = sidarg != NULL,
                     .sid_known = s != NULL,
                     .session_tx = s ? s->tx : SIO_TX_POLLING};
    if (s)
        memcpy(sid, s->sid, sizeof s->sid);
    *sp = s;
    return sio_request_check(&r);
}

static int on_http(ws_gateway *g, struct lws *wsi, void **slot)
{
    sio_link *l = calloc(1, sizeof *l);
    if (!l)
        return -1;
    l->wsi = wsi;
    l->kind = LINK_ANSWER;
    *slot = l;
    sio_session *s;
    int err = check(g, wsi, false, l->sid, &s);
    /* A body we will not read would be taken for the next request: hang up after. */
    l->hang_up = method_of(wsi) != SIO_GET && (err >= 0 || !s);
    if (err >= 0)
        return answer_error(l, err);
    if (!s) { /* the handshake: a new session, answered with its open packet */
        char open[256];
        int n;
        if (g->stopping || !(s = session_new(g, wsi, SIO_TX_POLLING)) ||
            (n = open_packet(s, true, open, sizeof open)) < 0)
            return answer_error(l, VT_SIO_EIO_ERR_BAD_REQUEST);
        return answer(l, 200, "text/plain; charset=UTF-8", open, (size_t)n);
    }
    if (method_of(wsi) == SIO_POST) {
        char cl[24];
        l->kind = LINK_POST;
        /* Too big: read and dropped, then 413 (an answer before the body is read
         * would meet a client still writing it). */
        l->too_big = lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 &&
                     strtoll(cl, NULL, 10) > g->cfg.max_frame;
        return 0; /* the body follows */
    }
    if (s->get) { /* two GETs at once: socket.io closes such a session */
        conn_close(s->c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "overlapping polling requests");
        return answer_error(l, VT_SIO_EIO_ERR_BAD_REQUEST);
    }
    l->kind = LINK_GET;
    l->s = s;
    s->get = l;
    lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0); /* held until a packet or the ping */
    if (s->c->q.n || s->c->close_code || s->tx == SIO_TX_WEBSOCKET)
        wake(s->c);
    return 0;
}

static void on_body(ws_gateway *g, sio_link *l, const void *in, size_t len)
{
    if (l->too_big || l->in.len + len > (size_t)g->cfg.max_frame) {
        l->too_big = true;
        return;
    }
    vt_buf_put(&l->in, in, len);
}

static int on_body_done(ws_gateway *g, sio_link *l)
{
    sio_session *s = find(g, l->sid);
    l->kind = LINK_ANSWER;
    if (!s)
        return answer_error(l, VT_SIO_EIO_ERR_UNKNOWN_SID);
    if (l->too_big || l->in.oom) {
        conn_close(s->c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too big");
        return answer(l, 413, "application/json", "{\"code\":3,\"message\":\"Payload Too Large\"}",
                      40);
    }
    /* Refused whole when a packet is bad, as socket.io does (vt_sio.h). */
    size_t pos = 0;
    vt_sio_eio_packet p;
    char err[128];
    int rc;
    while ((rc = vt_sio_eio_payload_next(l->in.data, l->in.len, &pos, &p, err, sizeof err)) == 1)
        ;
    if (rc < 0 || l->in.len == 0) {
        conn_strike(s->c);
        return answer_error(l, VT_SIO_EIO_ERR_BAD_REQUEST);
    }
    pos = 0;
    while (!s->ended &&
           vt_sio_eio_payload_next(l->in.data, l->in.len, &pos, &p, err, sizeof err) == 1)
        on_packet(s, &p);
    return answer(l, 200, "text/html", "ok", 2);
}

/* The held GET's body: every queued packet, 0x1e between them (a noop once the
 * session went over to WebSocket; the close packet once it is closing). */
static void fill_get(sio_link *l)
{
    sio_session *s = l->s;
    vt_buf b = VT_BUF_INIT;
    if (s && s->tx != SIO_TX_WEBSOCKET) {
        msgbuf *m;
        while ((m = conn_take(s->c))) {
            if (b.len)
                vt_buf_putc(&b, VT_SIO_EIO_SEPARATOR);
            vt_buf_put(&b, m->data, m->len);
            msg_unref(m);
        }
        if (s->c->close_code)
            vt_buf_puts(&b, b.len ? "\x1e"
                                    "1"
                                  : "1");
    }
    if (!b.len)
        vt_buf_puts(&b, s && s->tx == SIO_TX_WEBSOCKET ? "6" : "1");
    if (s) {
        s->get = NULL;
        l->s = NULL;
        if (s->c->close_code && s->tx != SIO_TX_WEBSOCKET)
            session_end(s);
    }
    l->kind = LINK_ANSWER;
    answer(l, 200, "text/plain; charset=UTF-8", b.data ? b.data : "1", b.data ? b.len : 1);
    vt_buf_free(&b);
    vt_counter_inc(((ws_gateway *)lws_context_user(lws_get_context(l->wsi)))->m.frames_out);
}

static int on_http_writeable(sio_link *l, void **slot)
{
    if (l->kind == LINK_GET) {
        fill_get(l);
        return 0; /* answer() asked for the next writeable */
    }
    if (!l->body)
        return 0;
    if (!l->headers_sent) {
        unsigned char hdr[LWS_PRE + 512], *start = hdr + LWS_PRE, *p = start,
                                          *end = hdr + sizeof hdr - 1;
        if (lws_add_http_common_headers(l->wsi, l->status, l->ctype, (lws_filepos_t)l->len, &p,
                                        end) ||
            (l->hang_up ? lws_add_http_header_by_name(l->wsi, (const unsigned char *)"connection:",
                                                      (const unsigned char *)"close", 5, &p, end)
                        : vt_http_add_keepalive_hint(l->wsi, HTTP_KEEPALIVE_S, &p, end)) ||
            lws_finalize_write_http_header(l->wsi, start, &p, end))
            return -1;
        l->headers_sent = true;
        lws_callback_on_writable(l->wsi);
        return 0;
    }
    struct lws *wsi = l->wsi;
    bool hang_up = l->hang_up;
    int n = lws_write(wsi, (unsigned char *)l->body + LWS_PRE, l->len, LWS_WRITE_HTTP_FINAL);
    bool ok = n == (int)l->len;
    link_free(l);
    *slot = NULL; /* the next request of this keep-alive connection starts afresh */
    if (!ok || hang_up)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* -------------------------------------------------------------------- WebSocket */

static int confirm_upgrade(ws_gateway *g, struct lws *wsi)
{
    char sid[VT_REQUEST_ID_LEN + 1];
    sio_session *s;
    int err = check(g, wsi, true, sid, &s);
    if (err < 0 && !g->stopping)
        return 0;
    if (err < 0)
        err = VT_SIO_EIO_ERR_BAD_REQUEST;
    char body[96];
    int n = vt_sio_eio_error_body((vt_sio_eio_error)err, body, sizeof body);
    return vt_http_refuse_body_now(wsi, vt_sio_eio_error_status((vt_sio_eio_error)err), NULL, body,
                                   n > 0 ? (size_t)n : 0);
}

static int on_established(ws_gateway *g, struct lws *wsi, void **slot)
{
    sio_link *l = calloc(1, sizeof *l);
    if (!l)
        return -1;
    l->kind = LINK_WS;
    l->wsi = wsi;
    *slot = l;
    char sidbuf[VT_REQUEST_ID_LEN + 32];
    const char *sid = arg(wsi, "sid=", sidbuf, sizeof sidbuf);
    if (sid) { /* the upgrade of a polling session: a probe first */
        sio_session *s = find(g, sid);
        if (!s || s->tx != SIO_TX_POLLING || s->probe)
            return -1;
        l->s = s;
        s->probe = l;
        return 0;
    }
    sio_session *s = session_new(g, wsi, SIO_TX_WEBSOCKET);
    char open[256];
    int n = s ? open_packet(s, false, open, sizeof open) : -1;
    if (n < 0)
        return -1;
    l->s = s;
    s->ws = l;
    s->c->wsi = wsi;
    queue_text(s, open, (size_t)n);
    return 0;
}

/* The probe's packets: 2probe is answered 3probe (and a held GET with a noop, so that
 * the client's polling pauses); the upgrade packet moves the session over. */
static void on_probe(sio_link *l, const vt_sio_eio_packet *p)
{
    sio_session *s = l->s;
    if (p->type == VT_SIO_EIO_PING && p->len == 5 && memcmp(p->data, "probe", 5) == 0) {
        memcpy(l->pending, "3probe", 7);
        lws_callback_on_writable(l->wsi);
        s->tx = SIO_TX_UPGRADING;
        queue_text(s, "6", 1);
    } else if (p->type == VT_SIO_EIO_UPGRADE && s->tx == SIO_TX_UPGRADING) {
        s->tx = SIO_TX_WEBSOCKET;
        s->probe = NULL;
        s->ws = l;
        s->c->wsi = l->wsi;
        if (s->get && !s->get->answering)
            wake(s->c); /* the GET gets its noop; the write below takes the queue */
        s->c->write_requested = false;
        wake(s->c);
    }
}

static int on_receive(ws_gateway *g, sio_link *l, struct lws *wsi, const void *in, size_t len)
{
    sio_session *s = l->s;
    if (!s)
        return 0;
    if (lws_is_first_fragment(wsi))
        vt_buf_reset(&l->in);
    if (l->in.len + len > (size_t)g->cfg.max_frame) {
        vt_counter_inc(g->m.closes_too_big);
        if (s->ws == l) {
            conn_close(s->c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too big");
            return 0;
        }
        return -1;
    }
    vt_buf_put(&l->in, in, len);
    if (!lws_is_final_fragment(wsi))
        return 0;
    vt_sio_eio_packet p;
    char err[128];
    if (l->in.oom ||
        vt_sio_eio_decode_frame(l->in.data ? l->in.data : "", l->in.len, lws_frame_is_binary(wsi),
                                &p, err, sizeof err) != VT_OK) {
        conn_strike(s->c);
        return 0;
    }
    if (s->probe == l)
        on_probe(l, &p);
    else if (s->ws == l && s->c->state < CONN_CLOSING)
        on_packet(s, &p);
    return 0;
}

static int write_text(ws_gateway *g, struct lws *wsi, const char *data, size_t len)
{
    unsigned char *buf = len <= (size_t)g->cfg.frame_bytes ? g->wbuf : malloc(LWS_PRE + len);
    if (!buf)
        return -1;
    memcpy(buf + LWS_PRE, data, len);
    int n = lws_write(wsi, buf + LWS_PRE, len, LWS_WRITE_TEXT);
    if (buf != g->wbuf)
        free(buf);
    if (n < (int)len)
        return -1;
    vt_counter_inc(g->m.frames_out);
    return 0;
}

/* Write what is queued for s's WebSocket: every packet that fits, each its own frame,
 * in one write, so that a backlog costs one send() (the frames are whole: lws sends them
 * as they are). From its writeable callback, or the gateway's end-of-iteration flush. */
static int ws_write(ws_gateway *g, sio_session *s)
{
    conn *c = s->c;
    struct lws *wsi = s->ws->wsi;
    c->write_requested = false;
    if (c->close_sent)
        return 0;
    if (lws_partial_buffered(wsi) || s->ws->pending[0]) {
        c->write_requested = true;
        lws_callback_on_writable(wsi);
        return 0;
    }
    msgbuf *alone;
    uint32_t frames;
    size_t total =
        conn_take_frames(c, g->wbuf + LWS_PRE, (size_t)g->cfg.frame_bytes, &alone, &frames);
    int rc = 0;
    if (alone) {
        rc = write_text(g, wsi, alone->data, alone->len);
        msg_unref(alone);
    } else if (total) {
        if (lws_write(wsi, g->wbuf + LWS_PRE, total, LWS_WRITE_RAW) < (int)total)
            rc = -1;
        else
            vt_counter_add(g->m.frames_out, frames);
    } else {
        return c->close_code ? conn_close_frame(c) : 0;
    }
    if (c->q.n || c->close_code)
        wake(c);
    return rc;
}

/* conn_transport: the end-of-iteration flush of a session that asked for it. */
static int flush_write(conn *c)
{
    sio_session *s = c->tx_data;
    if (s->ended || s->tx != SIO_TX_WEBSOCKET || !s->ws) {
        c->write_requested = false;
        return 0;
    }
    return ws_write(s->g, s);
}

static int on_ws_writeable(ws_gateway *g, sio_link *l)
{
    if (l->pending[0]) {
        int rc = write_text(g, l->wsi, l->pending, strlen(l->pending));
        l->pending[0] = '\0';
        if (l->s && l->s->ws == l)
            lws_callback_on_writable(l->wsi);
        return rc;
    }
    sio_session *s = l->s;
    if (!s || s->ws != l)
        return 0;
    return ws_write(g, s);
}

static void on_ws_closed(sio_link *l)
{
    sio_session *s = l->s;
    if (s && s->probe == l) {
        s->probe = NULL;
        if (s->tx == SIO_TX_UPGRADING)
            s->tx = SIO_TX_POLLING;
    } else if (s && s->ws == l) {
        s->ws = NULL;
        s->c->wsi = NULL;
        session_end(s);
    }
}

int sio_server_callback(ws_gateway *g, struct lws *wsi, enum lws_callback_reasons reason,
                        void **slot, void *in, size_t len)
{
    if (reason == LWS_CALLBACK_HTTP_CONFIRM_UPGRADE)
        return confirm_upgrade(g, wsi);
    if (!slot)
        return -1;
    sio_link *l = *slot;
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return on_http(g, wsi, slot);
    case LWS_CALLBACK_HTTP_BODY:
        if (l && l->kind == LINK_POST)
            on_body(g, l, in, len);
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return l && l->kind == LINK_POST ? on_body_done(g, l) : 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return l ? on_http_writeable(l, slot) : 0;
    case LWS_CALLBACK_CLOSED_HTTP:
        if (l) {
            if (l->s && l->s->get == l)
                l->s->get = NULL;
            link_free(l);
            *slot = NULL;
        }
        return 0;
    case LWS_CALLBACK_ESTABLISHED:
        return on_established(g, wsi, slot);
    case LWS_CALLBACK_RECEIVE:
        return l ? on_receive(g, l, wsi, in, len) : -1;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return l ? on_ws_writeable(g, l) : 0;
    case LWS_CALLBACK_CLOSED:
        if (l) {
            on_ws_closed(l);
            link_free(l);
            *slot = NULL;
        }
        return 0;
    default:
        return 0;
    }
}

void sio_server_free(ws_gateway *g)
{
    if (!g->sio)
        return;
    fanout_table *t = &g->sio->sessions;
    while (t->n)
        session_end((sio_session *)t->items[t->n - 1]);
    fanout_table_free(t);
    sio_cache_clear(&g->sio->cache);
    free(g->sio);
    g->sio = NULL;
}
