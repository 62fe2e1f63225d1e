/*
 * ws_server.c — libwebsockets on our libuv loop: one port for GET /ws (the WebSocket
 * edge), GET /metrics, /healthz and /readyz; /socket.io/ (socket.io 4 for the original
 * apps) is handed whole to sio_server.c.
 *
 * One protocol, "venta.v1.json", is listed first, so it is also what a client gets
 * when it asks for no subprotocol (API.md §4: it is the default). Its callback
 * answers the plain HTTP routes itself and hands WebSocket events to client.c and
 * conn.c. The per-session data is a pointer to our conn, allocated by us so that
 * it can outlive the socket while gRPC calls for it are in flight.
 *
 * Idle connections: lws's validity policy pings a connection silent for ping_s and
 * hangs up when nothing (a pong included) came back within 2 × ping_s. Idle HTTP
 * keep-alive connections advertise HTTP_KEEPALIVE_S and are closed a grace period
 * later, so that a client reusing one never meets our close (libs/http/keepalive.c).
 */
#include "ws_server.h"

#include "client.h"
#include "sio_server.h"
#include "vt_http.h"
#include "ws_gateway.h"

#include <libwebsockets.h>

#include <stdlib.h>
#include <string.h>

#define PROTOCOL "venta.v1.json"

/* The idle keep-alive timeout the HTTP answers advertise (/metrics scrapes, probes);
 * lws closes idle connections a grace period later (vt_http.h). */
#define HTTP_KEEPALIVE_S 5
/* Seconds a new connection has to send its complete request (upgrade or HTTP). */
#define HEADER_TIMEOUT_S 10

typedef struct {
    conn *c;
    unsigned char *body; /* LWS_PRE + len, for HTTP answers */
    size_t len;
    char request_id[129]; /* chosen when the upgrade is answered, echoed there */
    void *sio;            /* sio_server.c's, for a /socket.io/ request */
} pss_t;

/* The upgrade's X-Request-ID when sane (API.md §2), else a new one. */
static void choose_request_id(struct lws *wsi, char *out, size_t outlen)
{
    char rid[130];
    int n = lws_hdr_custom_copy(wsi, rid, sizeof rid, "x-request-id:", 13);
    if (n > 0 && (size_t)n < outlen && vt_request_id_sane(rid))
        memcpy(out, rid, (size_t)n + 1);
    else
        vt_request_id_new(out);
}

static int http_answer(struct lws *wsi, pss_t *pss, unsigned int status, const char *ctype,
                       char *text, size_t len)
{
    unsigned char hdr[LWS_PRE + 512], *start = hdr + LWS_PRE, *p = start,
                                      *end = hdr + sizeof hdr - 1;
    pss->body = malloc(LWS_PRE + len + 1);
    if (!pss->body)
        return -1;
    memcpy(pss->body + LWS_PRE, text, len);
    pss->len = len;
    if (lws_add_http_common_headers(wsi, status, ctype, (lws_filepos_t)len, &p, end) ||
        vt_http_add_keepalive_hint(wsi, HTTP_KEEPALIVE_S, &p, end) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    lws_callback_on_writable(wsi);
    return 0;
}

/* Whether the offered subprotocols (a comma list, or none: then the default) include ours. */
static bool offers_our_protocol(struct lws *wsi)
{
    char offered[256];
    int n = lws_hdr_copy(wsi, offered, sizeof offered, WSI_TOKEN_PROTOCOL);
    if (n <= 0)
        return n == 0 || lws_hdr_total_length(wsi, WSI_TOKEN_PROTOCOL) == 0;
    for (char *save = NULL, *one = strtok_r(offered, ", \t", &save); one;
         one = strtok_r(NULL, ", \t", &save))
        if (strcmp(one, PROTOCOL) == 0)
            return true;
    return false;
}

/* Before lws answers 101: only GET /ws upgrades, and only to our subprotocol. A refusal
 * is a plain HTTP answer in the error shape (lws would otherwise switch protocols and
 * then drop the socket, which a client sees as 1006 with no reason). */
static int confirm_upgrade(struct lws *wsi)
{
    char uri[64];
    if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 || strcmp(uri, "/ws") != 0)
        return vt_http_refuse_now(wsi, HTTP_STATUS_NOT_FOUND, "NOT_FOUND",
                                  "no such route: WebSocket upgrades are at GET /ws");
    if (!offers_our_protocol(wsi))
        return vt_http_refuse_now(wsi, HTTP_STATUS_BAD_REQUEST, "INVALID_ARGUMENT",
                                  "unsupported WebSocket subprotocol: this edge speaks " PROTOCOL);
    return 0;
}

static int on_http(ws_gateway *g, struct lws *wsi, pss_t *pss, const char *uri)
{
    if (strcmp(uri, "/metrics") == 0) {
        char *text = NULL;
        size_t n = vt_metrics_render(g->reg, &text);
        int rc = http_answer(wsi, pss, HTTP_STATUS_OK, "text/plain; version=0.0.4", text, n);
        free(text);
        return rc;
    }
    if (strcmp(uri, "/healthz") == 0) {
        char ok[] = "{\"status\":\"ok\"}";
        return http_answer(wsi, pss, HTTP_STATUS_OK, "application/json", ok, strlen(ok));
    }
    if (strcmp(uri, "/readyz") == 0) {
        /* Ready follows NATS and Redis: without them nothing is delivered. The
         * upstreams are named but do not take the edge out of rotation: with one down,
         * live fan-out goes on (only new vendor streams or snapshots fail). */
        char text[256];
        bool nats = vt_bus_connected(g->bus), redis = vt_kv_connected(g->kv);
        int n = snprintf(text, sizeof text,
                         "{\"status\":\"%s\",\"nats\":%s,\"redis\":%s,\"vendor\":\"%s\","
                         "\"location\":\"%s\"}",
                         nats && redis && !g->stopping ? "ok" : "unavailable",
                         nats ? "true" : "false", redis ? "true" : "false",
                         vt_rpc_channel_state(g->vendor_ch), vt_rpc_channel_state(g->location_ch));
        return http_answer(wsi, pss, nats && redis && !g->stopping ? HTTP_STATUS_OK : 503,
                           "application/json", text, (size_t)n);
    }
    if (strcmp(uri, "/ws") == 0) {
        char text[] = "{\"error\":{\"code\":\"INVALID_ARGUMENT\",\"message\":\"GET /ws upgrades to "
                      "a WebSocket (subprotocol venta.v1.json)\"}}";
        return http_answer(wsi, pss, 426, "application/json", text, strlen(text));
    }
    char text[] = "{\"error\":{\"code\":\"NOT_FOUND\",\"message\":\"no such route\"}}";
    return http_answer(wsi, pss, HTTP_STATUS_NOT_FOUND, "application/json", text, strlen(text));
}

/* client.c refused what came in: the close frame goes now when it has a code (and lws
 * then waits for the client's close); without one, lws drops the socket. */
static int refused(conn *c)
{
    if (!c->close_code)
        return -1;
    conn_close_frame(c);
    return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    ws_gateway *g = lws_context_user(lws_get_context(wsi));
    pss_t *pss = user;
    vt_http_header_watch_event(g->header_watch, wsi, (int)reason);
    if ((pss && pss->sio) || sio_server_claims(wsi, reason, in)) /* socket.io 4 (docs/ws.md) */
        return sio_server_callback(g, wsi, reason, pss ? &pss->sio : NULL, in, len);
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return on_http(g, wsi, pss, in ? (const char *)in : "");
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!pss || !pss->body)
            return 0;
        if (lws_write(wsi, pss->body + LWS_PRE, pss->len, LWS_WRITE_HTTP_FINAL) != (int)pss->len) {
            free(pss->body);
            pss->body = NULL;
            return -1;
        }
        free(pss->body);
        pss->body = NULL;
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    case LWS_CALLBACK_CLOSED_HTTP:
        if (pss && pss->body) {
            free(pss->body);
            pss->body = NULL;
        }
        return 0;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return confirm_upgrade(wsi);
    case LWS_CALLBACK_ADD_HEADERS: { /* the 101 answer to an upgrade: echo the id */
        struct lws_process_html_args *args = in;
        choose_request_id(wsi, pss->request_id, sizeof pss->request_id);
        if (lws_add_http_header_by_name(
                wsi, (const unsigned char *)"x-request-id:", (const unsigned char *)pss->request_id,
                (int)strlen(pss->request_id), (unsigned char **)&args->p,
                (unsigned char *)args->p + args->max_len))
            return 1;
        return 0;
    }
    case LWS_CALLBACK_ESTABLISHED: {
        if (!pss->request_id[0])
            choose_request_id(wsi, pss->request_id, sizeof pss->request_id);
        char traceparent[VT_TRACEPARENT_LEN + 2];
        pss->c = conn_new(g, wsi, pss->request_id,
                          conn_header_traceparent(wsi, traceparent, sizeof traceparent));
        if (!pss->c)
            return -1;
        return client_established(pss->c) < 0 ? refused(pss->c) : 0;
    }
    case LWS_CALLBACK_RECEIVE:
        if (!pss->c)
            return -1;
        if (client_receive(pss->c, in, len, lws_is_first_fragment(wsi), lws_is_final_fragment(wsi),
                           lws_frame_is_binary(wsi)) < 0)
            return refused(pss->c);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return pss->c ? conn_write(pss->c) : -1;
    case LWS_CALLBACK_TIMER:
        return pss->c ? client_timer(pss->c) : 0;
    case LWS_CALLBACK_CLOSED:
        if (pss->c)
            client_closed(pss->c);
        pss->c = NULL;
        return 0;
    default:
        break;
    }
    return 0;
}

static struct lws_protocols protocols[] = {
    {PROTOCOL, callback, sizeof(pss_t), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static lws_retry_bo_t idle_policy;

int ws_server_start(ws_gateway *g, char *err, size_t errlen)
{
    vt_http_route_lws_log();
    protocols[0].rx_buffer_size = (size_t)g->cfg.rx_buffer;
    /* Without it lws caps every send() at rx_buffer_size (256 bytes by default) and
     * buffers the rest of a frame for later writeable callbacks: a batched frame of a
     * few KiB then costs a dozen round trips through the event loop. One send per frame. */
    protocols[0].tx_packet_size = (size_t)g->cfg.frame_bytes + LWS_PRE + 16;
    idle_policy.secs_since_valid_ping = (uint16_t)g->cfg.ping_s;
    idle_policy.secs_since_valid_hangup = (uint16_t)(2 * g->cfg.ping_s);
    static void *loops[1];
    loops[0] = g->loop;
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = g->cfg.addr.port;
    info.iface = g->cfg.addr.host;
    info.protocols = protocols;
    info.options =
        LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_IPV6;
    info.foreign_loops = loops;
    info.user = g;
    info.max_http_header_data = 10240; /* a JWT in a header or the query string */
    info.retry_and_idle_policy = &idle_policy;
    /* The header timeout itself is header_watch's (libs/http); lws's "ah idle" keeps the
     * hard bound. */
    if (vt_http_header_watch_new(g->loop, HEADER_TIMEOUT_S, &g->header_watch) != VT_OK) {
        snprintf(err, errlen, "cannot start the header timeout");
        return VT_RESOURCE_EXHAUSTED;
    }
    info.timeout_secs = HEADER_TIMEOUT_S;
    info.timeout_secs_ah_idle = (unsigned int)vt_http_header_hard_timeout_s(HEADER_TIMEOUT_S);
    info.keepalive_timeout = vt_http_keepalive_close_s(HTTP_KEEPALIVE_S);
    vt_http_tls_apply(g->cfg.http_tls, &info);
    g->lws = lws_create_context(&info);
    struct lws_vhost *vh = g->lws ? lws_get_vhost_by_name(g->lws, "default") : NULL;
    if (!vh || lws_get_vhost_listen_port(vh) <= 0) { /* lws carries on without a listener */
        snprintf(err, errlen,
                 "VENTA_WS_ADDR: cannot listen on %s:%u (in use, or not an address of this "
                 "machine)",
                 g->cfg.addr.host, g->cfg.addr.port);
        return VT_UNAVAILABLE;
    }
    return VT_OK;
}

void ws_server_close_all(ws_gateway *g)
{
    for (conn *c = g->conns; c; c = c->next)
        conn_close(c, LWS_CLOSE_STATUS_GOINGAWAY, "server shutting down");
}

/* With a foreign libuv loop, lws_context_destroy only starts: it closes lws's handles,
 * and once the loop has run their close callbacks a second call frees the context
 * (ws_server_free, after uv_run returns). */
void ws_server_destroy(ws_gateway *g)
{
    if (g->lws)
        lws_context_destroy(g->lws);
    vt_http_header_watch_free(g->header_watch);
    g->header_watch = NULL;
}

void ws_server_free(ws_gateway *g)
{
    if (g->lws)
        lws_context_destroy(g->lws);
    g->lws = NULL;
}
