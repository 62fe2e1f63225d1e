/*
 * rest_req.c — one request's record and lifetime, how every response is queued, and
 * the error body of API.md §3:
 *
 *     {"error":{"code":"NOT_FOUND","message":"vendor 123 not found","requestId":"…"}}
 *
 * A response is only recorded here (status, headers, body) and the connection asked
 * for a writeable callback (app->response_ready); rest_server.c writes it. When the client has
 * already gone (req->wsi == NULL) the body is dropped. Metrics count the response either way, so a
 * disconnect mid-call still shows up by route and status.
 */
#include "rest_algolia_shapes.h"
#include "rest_req.h"
#include "rest_app.h"
#include "rest_metrics.h"
#include "vt_json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the record ---- */

rest_req *rest_req_new(rest_app *app, struct lws *wsi)
{
    rest_req *req = calloc(1, sizeof *req);
    if (!req)
        return NULL;
    req->refs = 1;
    req->app = app;
    req->wsi = wsi;
    req->route_index = -1;
    req->start_ns = vt_monotonic_ns();
    return req;
}

void rest_req_ref(rest_req *req)
{
    req->refs++;
}

static void req_free(rest_req *req)
{
    if (req->holds_upload_slot) {
        req->app->upload_bodies--;
        rest_metrics_upload_bodies(req->app->m, req->app->upload_bodies);
    }
    free(req->path);
    free(req->authorization);
    for (int i = 0; i < req->nhdrs; i++)
        free(req->hdrs[i].value);
    for (int i = 0; i < req->nqargs; i++)
        free(req->qargs[i]);
    free(req->qargs);
    free(req->body);
    free(req->resp);
    free(req->auth_error);
    if (req->held_state && req->held_state_free)
        req->held_state_free(req->held_state);
    if (req->held)
        protobuf_c_message_free_unpacked(req->held, NULL);
    if (req->held_reply)
        vt_rpc_reply_free(req->held_reply);
    for (int i = 0; i <= REST_UP_COUNT; i++)
        free(req->ready_result[i]);
    if (req->pending)
        vt_rpc_async_free(req->pending);
    free(req);
}

void rest_req_unref(rest_req *req)
{
    if (--req->refs == 0)
        req_free(req);
}

const char *rest_req_header(const rest_req *req, const char *name)
{
    if (strcmp(name, "authorization") == 0)
        return req->authorization;
    for (int i = 0; i < req->nhdrs; i++)
        if (strcmp(req->hdrs[i].name, name) == 0)
            return req->hdrs[i].value;
    return NULL;
}

/* ---- the response ---- */

void rest_add_header(rest_req *req, const char *name, const char *value)
{
    size_t nl = strlen(name) + 1, vl = strlen(value) + 1;
    if (req->extra_len + nl + vl > sizeof req->extra)
        return;
    memcpy(req->extra + req->extra_len, name, nl);
    memcpy(req->extra + req->extra_len + nl, value, vl);
    req->extra_len += nl + vl;
}

vt_log_ctx rest_log_ctx(const rest_req *req)
{
    return (vt_log_ctx){.request_id = req->request_id,
                        .user_id = req->user_id[0] ? req->user_id : NULL,
                        .trace = &req->trace};
}

void rest_respond(rest_req *req, int http_status, const char *content_type, char *body, size_t len)
{
    if (req->responded) {
        free(body);
        return;
    }
    req->responded = true;
    req->status = http_status;
    req->content_type = content_type;
    req->resp = body;
    req->resp_len = body ? len : 0;
    double secs = (double)(vt_monotonic_ns() - req->start_ns) / 1e9;
    rest_metrics_request(req->app->m, req->route_index, http_status, secs);
    vt_log_level level = vt_trace_hop_level(&req->trace);
    if (vt_log_enabled(level)) {
        vt_log_ctx lc = rest_log_ctx(req);
        vt_log(level, &lc, "%s %s -> %d", rest_method_name(req->method), req->path ? req->path : "",
               http_status);
    }
    if (req->wsi && req->app->response_ready)
        req->app->response_ready(req);
}

void rest_respond_json(rest_req *req, int http_status, const char *literal_json)
{
    size_t n = strlen(literal_json);
    char *b = malloc(n + 1);
    if (b)
        memcpy(b, literal_json, n + 1);
    rest_respond(req, http_status, "application/json", b, b ? n : 0);
}

/* The original backend's error type for an HTTP status, as its exception filter
 * derives it. */
void rest_respond_buf(rest_req *req, int http_status, const char *content_type, vt_buf *b)
{
    if (b->oom) {
        vt_buf_free(b);
        rest_respond_error(req, VT_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    size_t len = 0;
    char *text = vt_buf_take(b, &len);
    rest_respond(req, http_status, content_type, text, text ? len : 0);
}

static const char *legacy_error_type(int http_status)
{
    switch (http_status) {
    case 400:
    case 413:
    case 415:
    case 422:
        return "VALIDATION";
    case 401:
        return "AUTHENTICATION";
    case 403:
        return "AUTHORIZATION";
    case 404:
        return "NOT_FOUND";
    case 409:
        return "CONFLICT";
    case 429:
        return "RATE_LIMIT";
    case 502:
    case 503:
    case 504:
        return "EXTERNAL_SERVICE";
    default:
        return "INTERNAL";
    }
}

/* On the original's routes (route->legacy) its envelope: {"error":{"type","code",
 * "message","path","requestId","timestamp"}}; our code names stay (the original's
 * clients read message and the status). Elsewhere API.md §3's. */
static void put_error_body(vt_buf *b, const rest_req *req, int http_status, const char *code,
                           const char *msg)
{
    if (req->route && req->route->algolia) {
        rest_algolia_error_json(http_status, msg, b);
        return;
    }
    bool legacy = req->route && req->route->legacy;
    vt_buf_puts(b, "{\"error\":{");
    if (legacy) {
        vt_buf_puts(b, "\"type\":\"");
        vt_buf_puts(b, legacy_error_type(http_status));
        vt_buf_puts(b, "\",");
    }
    vt_buf_puts(b, "\"code\":");
    vt_json_buf_put_string(b, code, strlen(code));
    vt_buf_puts(b, ",\"message\":");
    vt_json_buf_put_string(b, msg, strlen(msg));
    vt_buf_puts(b, ",\"requestId\":");
    vt_json_buf_put_string(b, req->request_id, strlen(req->request_id));
    if (legacy) {
        const char *path = req->path ? req->path : "";
        vt_buf_puts(b, ",\"path\":");
        vt_json_buf_put_string(b, path, strlen(path));
        char ts[VT_RFC3339_MS_LEN + 1];
        vt_rfc3339_ms(vt_now_ms(), ts);
        vt_buf_puts(b, ",\"timestamp\":");
        vt_json_buf_put_string(b, ts, strlen(ts));
    }
    vt_buf_puts(b, "}}");
}

static void respond_error_v(rest_req *req, int http_status, const char *code, const char *fmt,
                            va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    vt_buf b;
    vt_buf_init(&b);
    put_error_body(&b, req, http_status, code, msg);
    size_t len = 0;
    char *text = vt_buf_take(&b, &len);
    if (http_status >= 500) {
        vt_log_ctx lc = rest_log_ctx(req);
        vt_warn(&lc, "%s %s -> %d %s: %s", rest_method_name(req->method),
                req->path ? req->path : "", http_status, code, msg);
    }
    rest_respond(req, http_status, "application/json", text, text ? len : 0);
}

void rest_respond_error(rest_req *req, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    respond_error_v(req, vt_status_http(code), vt_status_name(code), fmt, ap);
    va_end(ap);
}

void rest_respond_error_http(rest_req *req, int http_status, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    respond_error_v(req, http_status, code, fmt, ap);
    va_end(ap);
}
