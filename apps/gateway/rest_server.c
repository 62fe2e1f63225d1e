/*
 * rest_server.c — the HTTP server: libwebsockets on the process's libuv loop.
 *
 * lws parses HTTP/1.1 (request line, headers up to 16 KiB, keep-alive) and calls
 * callback_http. At LWS_CALLBACK_HTTP we capture what the request needs (method, path,
 * query fragments, the few headers we read) into a rest_req, because lws may recycle its
 * header storage once the body starts; then either dispatch at once or collect the
 * body (LWS_CALLBACK_HTTP_BODY) up to 64 KiB (10 MiB + framing on the image
 * upload routes: a route's max_body). A larger body is read and dropped (a
 * declared one over REST_MAX_DISCARD is refused at once and the connection closed), so
 * the 413 reaches clients that write their whole body before reading.
 *
 * Responses are written from LWS_CALLBACK_HTTP_WRITEABLE: headers in one callback,
 * then the body in slices, one lws_write per callback as lws asks; then the
 * transaction completes and the connection waits for the next request (keep-alive).
 *
 * Slow clients: lws closes a connection whose headers do not arrive within
 * VENTA_HTTP_HEADER_TIMEOUT_S (its "ah idle" timeout). Answers advertise
 * `Keep-Alive: timeout=VENTA_HTTP_KEEPALIVE_S`, and an idle keep-alive connection is
 * closed a grace period after that (libs/http/keepalive.c: never while a client may
 * still reuse it, even with the loop busy); a body that does not arrive within
 * VENTA_HTTP_BODY_TIMEOUT_S closes the connection (PENDING_TIMEOUT_HTTP_CONTENT).
 */
#include "rest_server.h"
#include "rest_metrics.h"
#include "rest_cors.h"
#include "rest_dispatch.h"
#include "rest_req.h"
#include "vt_http.h"

#include <libwebsockets.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A declared body more than this above its route's limit (rest_route_body_limit) is
 * refused at once and the connection closed; below it an oversized body is read and
 * dropped so the 413 reaches the client cleanly. */
#define REST_MAX_DISCARD (4 * 1024 * 1024)
#define REST_MAX_HEADERS (16 * 1024)

typedef struct {
    rest_req *req;
} pss_t;

/* ---- request lifetime ---- */

/* The connection is done with req (response written or connection closed). */
static void req_detach(rest_req *req)
{
    if (!req->wsi)
        return;
    req->wsi = NULL;
    req->app->inflight--;
    if (req->pending)
        vt_rpc_async_cancel(req->pending);
    rest_req_unref(req);
}

/* ---- capturing the request ---- */

static char *hdr_dup(struct lws *wsi, enum lws_token_indexes t)
{
    int n = lws_hdr_total_length(wsi, t);
    if (n <= 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s)
        return NULL;
    if (lws_hdr_copy(wsi, s, n + 1, t) < 0) {
        free(s);
        return NULL;
    }
    return s;
}

static void capture_custom(rest_req *req, struct lws *wsi, const char *name)
{
    char key[32];
    int kl = snprintf(key, sizeof key, "%s:", name);
    int n = lws_hdr_custom_length(wsi, key, kl);
    if (n <= 0 || req->nhdrs >= REST_HDR_MAX)
        return;
    char *v = malloc((size_t)n + 1);
    if (!v)
        return;
    if (lws_hdr_custom_copy(wsi, v, n + 1, key, kl) < 0) {
        free(v);
        return;
    }
    rest_header *h = &req->hdrs[req->nhdrs++];
    snprintf(h->name, sizeof h->name, "%s", name);
    h->value = v;
}

static void capture_token(rest_req *req, struct lws *wsi, const char *name,
                          enum lws_token_indexes t)
{
    if (req->nhdrs >= REST_HDR_MAX)
        return;
    char *v = hdr_dup(wsi, t);
    if (!v)
        return;
    rest_header *h = &req->hdrs[req->nhdrs++];
    snprintf(h->name, sizeof h->name, "%s", name);
    h->value = v;
}

static int detect_method(struct lws *wsi)
{
    static const struct {
        enum lws_token_indexes t;
        int m;
    } map[] = {
        {WSI_TOKEN_GET_URI, REST_GET},       {WSI_TOKEN_POST_URI, REST_POST},
        {WSI_TOKEN_PUT_URI, REST_PUT},       {WSI_TOKEN_PATCH_URI, REST_PATCH},
        {WSI_TOKEN_DELETE_URI, REST_DELETE}, {WSI_TOKEN_OPTIONS_URI, REST_OPTIONS},
        {WSI_TOKEN_HEAD_URI, REST_HEAD},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (lws_hdr_total_length(wsi, map[i].t) > 0)
            return map[i].m;
    return REST_METHOD_OTHER;
}

static void capture_query(rest_req *req, struct lws *wsi)
{
    char frag[2048];
    for (int i = 0; i < 64; i++) {
        int n = lws_hdr_copy_fragment(wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n < 0)
            break;
        char **grown = realloc(req->qargs, sizeof(char *) * (size_t)(req->nqargs + 1));
        if (!grown)
            break;
        req->qargs = grown;
        req->qargs[req->nqargs] = strdup(frag);
        if (!req->qargs[req->nqargs])
            break;
        req->nqargs++;
    }
}

static void client_ip(rest_req *req, struct lws *wsi)
{
    req->client_ip[0] = '\0';
    if (req->app->cfg.trust_forwarded) {
        char *xff = hdr_dup(wsi, WSI_TOKEN_X_FORWARDED_FOR);
        if (xff) {
            /* The last entry is the address our own proxy saw. */
            char *last = strrchr(xff, ',');
            last = last ? last + 1 : xff;
            while (*last == ' ')
                last++;
            size_t n = strcspn(last, " ");
            if (n > 0 && n < sizeof req->client_ip) {
                memcpy(req->client_ip, last, n);
                req->client_ip[n] = '\0';
            }
            free(xff);
        }
    }
    if (!req->client_ip[0])
        lws_get_peer_simple(wsi, req->client_ip, sizeof req->client_ip);
}

static int on_http(rest_app *app, struct lws *wsi, pss_t *pss, const char *uri)
{
    if (pss->req) { /* a previous transaction never finished: drop it */
        rest_req *old = pss->req;
        pss->req = NULL;
        req_detach(old);
    }
    rest_req *req = rest_req_new(app, wsi);
    if (!req)
        return -1;
    app->inflight++; /* until req_detach: main.c's drain waits for it to reach 0 */
    pss->req = req;
    req->method = detect_method(wsi);
    req->path = strdup(uri ? uri : "/");
    req->authorization = hdr_dup(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
    char *origin = hdr_dup(wsi, WSI_TOKEN_ORIGIN);
    if (origin) {
        snprintf(req->origin, sizeof req->origin, "%s", origin);
        free(origin);
    }
    static const char *const custom[] = {
        "x-request-id",      VT_TRACEPARENT_HEADER, "svix-id",
        "svix-timestamp",    "svix-signature",      "webhook-id",
        "webhook-timestamp", "webhook-signature",   "access-control-request-method",
        "x-algolia-api-key"};
    for (size_t i = 0; i < sizeof custom / sizeof custom[0]; i++)
        capture_custom(req, wsi, custom[i]);
    capture_token(req, wsi, "access-control-request-headers", WSI_TOKEN_HTTP_AC_REQUEST_HEADERS);
    /* For the images: the multipart boundary, WebP negotiation, revalidation, and the
     * host uploads' URLs are made on when VENTA_PUBLIC_URL is unset. */
    capture_token(req, wsi, "content-type", WSI_TOKEN_HTTP_CONTENT_TYPE);
    capture_token(req, wsi, "accept", WSI_TOKEN_HTTP_ACCEPT);
    capture_token(req, wsi, "if-none-match", WSI_TOKEN_HTTP_IF_NONE_MATCH);
    capture_token(req, wsi, "host", WSI_TOKEN_HOST);
    capture_query(req, wsi);
    client_ip(req, wsi);
    const char *rid = rest_req_header(req, "x-request-id");
    if (rid && vt_request_id_sane(rid))
        snprintf(req->request_id, sizeof req->request_id, "%s", rid);
    else
        vt_request_id_new(req->request_id);
    /* This request's span: the client's trace continued, or a new one when it sent no
     * traceparent or a malformed one (docs/tracing.md). */
    const char *traceparent = rest_req_header(req, VT_TRACEPARENT_HEADER);
    vt_trace_start(traceparent, traceparent ? strlen(traceparent) : 0, &req->trace);
    req->cors_ok = rest_cors_allowed(&app->cfg, req->origin);
    if (!req->path)
        return -1;

    /* Body: Content-Length decides. A chunked body cannot be framed here (libwebsockets
     * hands it over undecoded): refuse it rather than read it as empty, and close,
     * since where it ends is unknown. */
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
        req->close_after = true;
        rest_respond_error_http(req, 411, "INVALID_ARGUMENT",
                                "Transfer-Encoding is not supported: send the body with "
                                "Content-Length");
        return 0;
    }
    char cl[32];
    long long declared = 0;
    if (lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0) {
        char *end = NULL;
        declared = strtoll(cl, &end, 10);
        if (!end || *end || declared < 0) {
            req->close_after = true;
            rest_respond_error_http(req, 400, "INVALID_ARGUMENT", "malformed Content-Length");
            return 0;
        }
    }
    req->body_limit = rest_route_body_limit(req->method, req->path);
    if (declared > (long long)(req->body_limit + REST_MAX_DISCARD)) {
        req->close_after = true;
        rest_respond_error_http(req, 413, "RESOURCE_EXHAUSTED",
                                "request body of %lld bytes exceeds the limit of %zu bytes",
                                declared, req->body_limit);
        return 0;
    }
    /* Each upload body is up to 10 MiB of memory: bound how many are held at once, so
     * that many connections declaring big bodies cannot take the process's memory
     * before a single token is checked. One over the bound is read and dropped like
     * an oversized body, then answered 503 (on_body_done). */
    if (declared > REST_MAX_BODY && declared <= (long long)req->body_limit) {
        if (app->upload_bodies >= app->cfg.max_upload_bodies) {
            req->no_upload_slot = true;
        } else {
            app->upload_bodies++;
            rest_metrics_upload_bodies(app->m, app->upload_bodies);
            req->holds_upload_slot = true;
        }
    }
    if (declared > 0) {
        req->expect_body = true;
        req->body_expected = (size_t)declared;
        if (declared > (long long)req->body_limit || req->no_upload_slot)
            req->body_too_large = true;
        else {
            req->body = malloc((size_t)declared + 1);
            if (!req->body)
                return -1;
            req->body_cap = (size_t)declared;
        }
        /* A 10 MiB photo from a phone takes longer than a JSON body. */
        vt_http_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT,
                            req->body_limit > REST_MAX_BODY ? app->cfg.upload_timeout_s
                                                            : app->cfg.body_timeout_s);
        return 0;
    }
    rest_dispatch(req);
    return 0;
}

static void on_body(rest_req *req, const void *in, size_t len)
{
    if (req->body_too_large || req->responded || !req->body || len == 0)
        return;
    if (req->body_len + len > req->body_cap) {
        req->body_too_large = true;
        return;
    }
    memcpy(req->body + req->body_len, in, len);
    req->body_len += len;
    req->body[req->body_len] = '\0';
}

static void on_body_done(rest_req *req)
{
    if (req->wsi)
        lws_set_timeout(req->wsi, NO_PENDING_TIMEOUT, 0);
    if (req->responded)
        return;
    if (req->no_upload_slot) {
        rest_add_header(req, "retry-after", "1");
        rest_respond_error(req, VT_UNAVAILABLE, "too many uploads in progress (%d), retry shortly",
                           req->app->upload_bodies);
        return;
    }
    if (req->body_too_large) {
        rest_respond_error_http(req, 413, "RESOURCE_EXHAUSTED",
                                "request body exceeds the limit of %zu bytes", req->body_limit);
        return;
    }
    rest_dispatch(req);
}

/* ---- writing the response ---- */

/* Small responses (the common case) go out as one write: status line, headers and
 * body in one buffer, so one syscall per response. The content length is written by
 * name, so lws does not count body bytes against it; we complete the transaction
 * ourselves. Larger bodies get headers first and the body in later callbacks. */
#define REST_INLINE_MAX 12288

static int write_headers(struct lws *wsi, rest_req *req)
{
    unsigned char buf[LWS_PRE + 4096 + REST_INLINE_MAX];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + LWS_PRE + 4096 - 1;
    /* HEAD gets GET's headers, Content-Length included, and no body. */
    bool head = req->method == REST_HEAD;
    bool no_body = req->status == 204 || req->status == 304;
    bool inline_body = !no_body && (head || req->resp_len <= REST_INLINE_MAX);
    if (lws_add_http_header_status(wsi, (unsigned int)req->status, &p, end))
        return -1;
    if (!no_body) {
        const char *ct = req->content_type ? req->content_type : "application/json";
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)"content-type:",
                                        (const unsigned char *)ct, (int)strlen(ct), &p, end))
            return -1;
        if (inline_body) {
            char cl[32];
            int n = snprintf(cl, sizeof cl, "%zu", req->resp_len);
            if (lws_add_http_header_by_name(wsi, (const unsigned char *)"content-length:",
                                            (const unsigned char *)cl, n, &p, end))
                return -1;
        } else if (lws_add_http_header_content_length(wsi, req->resp_len, &p, end)) {
            return -1;
        }
    }
#define ADD(name, value)                                                                           \
    do {                                                                                           \
        const char *v_ = (value);                                                                  \
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)(name),                        \
                                        (const unsigned char *)v_, (int)strlen(v_), &p, end))      \
            return -1;                                                                             \
    } while (0)
    ADD("x-request-id:", req->request_id);
    char traceparent[VT_TRACEPARENT_LEN + 1];
    vt_trace_format(&req->trace, traceparent);
    ADD("traceparent:", traceparent);
    if (req->rl_have) {
        char v[32];
        snprintf(v, sizeof v, "%ld", req->rl_limit);
        ADD("x-ratelimit-limit:", v);
        snprintf(v, sizeof v, "%ld", req->rl_remaining);
        ADD("x-ratelimit-remaining:", v);
        snprintf(v, sizeof v, "%ld", req->rl_reset_s);
        ADD("x-ratelimit-reset:", v);
    }
    if (req->cors_ok) {
        ADD("access-control-allow-origin:", req->origin);
        ADD("vary:", "Origin");
        ADD("access-control-expose-headers:",
            "X-Request-ID, traceparent, X-RateLimit-Limit, X-RateLimit-Remaining, "
            "X-RateLimit-Reset, Retry-After");
    }
    for (size_t off = 0; off < req->extra_len;) {
        const char *name = req->extra + off;
        const char *value = name + strlen(name) + 1;
        char key[64];
        size_t kn = strlen(name);
        if (kn + 2 > sizeof key)
            return -1;
        memcpy(key, name, kn);
        memcpy(key + kn, ":", 2);
        ADD(key, value);
        off += strlen(name) + 1 + strlen(value) + 1;
    }
    if (req->close_after || req->app->draining)
        ADD("connection:", "close");
    else if (vt_http_add_keepalive_hint(wsi, req->app->cfg.keepalive_s, &p, end))
        return -1;
#undef ADD
    if (!inline_body)
        return lws_finalize_write_http_header(wsi, start, &p, end) ? -1 : 0;
    if (lws_finalize_http_header(wsi, &p, end))
        return -1;
    if (req->resp_len && !head) {
        memcpy(p, req->resp, req->resp_len);
        p += req->resp_len;
    }
    req->resp_sent = req->resp_len;
    size_t n = (size_t)(p - start);
    return lws_write(wsi, start, n, LWS_WRITE_HTTP_FINAL) == (int)n ? 0 : -1;
}

/* After the last byte: 0 to keep the connection for the next request, -1 to close. */
static int finish(struct lws *wsi, pss_t *pss)
{
    rest_req *req = pss->req;
    bool close_it = req->close_after || req->app->draining;
    pss->req = NULL;
    req_detach(req);
    if (close_it)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int on_writeable(struct lws *wsi, pss_t *pss)
{
    rest_req *req = pss->req;
    if (!req || !req->responded)
        return 0;
    if (!req->headers_sent) {
        if (write_headers(wsi, req))
            return -1;
        req->headers_sent = true;
        if (req->resp_sent < req->resp_len && req->method != REST_HEAD && req->status != 204) {
            lws_callback_on_writable(wsi);
            return 0;
        }
        return finish(wsi, pss);
    }
    unsigned char buf[LWS_PRE + 16384];
    size_t n = req->resp_len - req->resp_sent;
    if (n > sizeof buf - LWS_PRE)
        n = sizeof buf - LWS_PRE;
    memcpy(buf + LWS_PRE, req->resp + req->resp_sent, n);
    bool last = req->resp_sent + n == req->resp_len;
    if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
        return -1;
    req->resp_sent += n;
    if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    return finish(wsi, pss);
}

static int callback_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
    pss_t *pss = user;
    struct lws_context *ctx = lws_get_context(wsi);
    rest_app *app = ctx ? lws_context_user(ctx) : NULL;
    vt_http_header_watch_event(app ? app->header_watch : NULL, wsi, (int)reason);
    switch (reason) {
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: /* REST only: the WebSocket edge is its own */
        return vt_http_refuse_now(wsi, HTTP_STATUS_BAD_REQUEST, "INVALID_ARGUMENT",
                                  "this REST endpoint does not upgrade to WebSocket (the "
                                  "WebSocket edge is GET /ws on venta-ws-gateway)");
    case LWS_CALLBACK_HTTP:
        return on_http(app, wsi, pss, in);
    case LWS_CALLBACK_HTTP_BODY:
        if (pss->req)
            on_body(pss->req, in, len);
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (pss->req)
            on_body_done(pss->req);
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return pss ? on_writeable(wsi, pss) : 0;
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (pss && pss->req) {
            rest_req *req = pss->req;
            pss->req = NULL;
            req_detach(req);
        }
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static const struct lws_protocols protocols[] = {
    {"http", callback_http, sizeof(pss_t), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void response_ready(rest_req *req)
{
    lws_callback_on_writable(req->wsi);
}

int rest_server_start(rest_app *app, char *err, size_t errlen)
{
    app->response_ready = response_ready;
    vt_http_route_lws_log();
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    void *foreign[1] = {app->loop};
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DISABLE_IPV6 |
                   LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    info.foreign_loops = foreign;
    info.protocols = protocols;
    info.user = app;
    info.gid = -1;
    info.uid = -1;
    info.count_threads = 1;
    info.max_http_header_data = REST_MAX_HEADERS;
    info.max_http_header_pool = 0;
    /* The header timeout itself is header_watch's (libs/http); lws's "ah idle" keeps the
     * hard bound. Its timeout_secs stays the header timeout: lws also arms it for a
     * body (PENDING_TIMEOUT_HTTP_CONTENT) after our callback, as it always did. */
    if (vt_http_header_watch_new(app->loop, app->cfg.header_timeout_s, &app->header_watch) !=
        VT_OK) {
        snprintf(err, errlen, "cannot start the header timeout");
        return VT_RESOURCE_EXHAUSTED;
    }
    info.timeout_secs_ah_idle =
        (unsigned int)vt_http_header_hard_timeout_s(app->cfg.header_timeout_s);
    info.timeout_secs = (unsigned int)app->cfg.header_timeout_s;
    info.keepalive_timeout = vt_http_keepalive_close_s(app->cfg.keepalive_s);
    info.server_string = "venta-gateway";
    info.pt_serv_buf_size = 32 * 1024;
    vt_http_tls_apply(app->cfg.http_tls, &info);
    app->lws = lws_create_context(&info);
    if (!app->lws) {
        snprintf(err, errlen, "libwebsockets: cannot create context");
        return VT_INTERNAL;
    }
    info.port = app->cfg.addr.port;
    info.iface = app->cfg.addr.host;
    info.vhost_name = "default";
    app->vhost = lws_create_vhost(app->lws, &info);
    app->port = app->vhost ? lws_get_vhost_listen_port(app->vhost) : 0;
    if (app->port <= 0) { /* lws may create a vhost that listens nowhere */
        snprintf(err, errlen,
                 "VENTA_GATEWAY_ADDR: cannot listen on %s:%u (in use, or not an address of "
                 "this machine)",
                 app->cfg.addr.host, app->cfg.addr.port);
        return VT_UNAVAILABLE;
    }
    return 0;
}

static int on_deprecated(void)
{
    return 0;
}

void rest_server_drain(rest_app *app)
{
    if (app->lws)
        lws_context_deprecate(app->lws, on_deprecated);
}

void rest_server_destroy(rest_app *app)
{
    if (app->lws) {
        lws_context_destroy(app->lws);
        app->lws = NULL;
    }
    vt_http_header_watch_free(app->header_watch);
    app->header_watch = NULL;
}
