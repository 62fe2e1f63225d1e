/*
 * gateway.h — the private types of venta-gateway, shared by its files.
 *
 * One libuv loop thread runs everything: libwebsockets' HTTP server, the Redis
 * connection (vt_kv) and the handoff that brings gRPC completions back from the rpc
 * queue thread. A request is a refcounted rest_req: the connection holds one reference
 * while it is open, and every asynchronous step in flight (an rpc, a Redis command)
 * holds another. A client that disconnects early only drops the connection's
 * reference and detaches the wsi; the step still completes, sees req->wsi == NULL,
 * and frees the request when the last reference goes. Nothing else is shared.
 *
 *   server.c      lws context on the uv loop, HTTP callbacks, bodies, limits, timeouts
 *   routes.c      the route table: method + path template -> gRPC method and fields
 *   dispatch.c    one request's life: auth, rate limit, transcoding, rpc, response
 *   upstream.c    async rpc -> handoff -> loop; readiness checks
 *   webhooks.c    Clerk (Svix) and RevenueCat webhooks -> UserService
 *   ratelimit.c   fixed-window counters in Redis with one EVAL
 *   cors.c        allowed origins and preflight
 *   errors.c      the error body and response helpers
 *   rest_metrics.c  request/latency/upstream metrics
 *   main.c        configuration, loop, signals, drain
 */
#ifndef REST_APP_H
#define REST_APP_H

#include "vt_auth.h"
#include "vt_core.h"
#include "vt_handoff.h"
#include "vt_json.h"
#include "vt_kv.h"
#include "vt_metrics.h"
#include "vt_rpc.h"

#include <libwebsockets.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#define REST_MAX_BODY (64 * 1024)
/* A declared body above this is refused at once and the connection closed; below it
 * an oversized body is read and dropped so the 413 reaches the client cleanly. */
#define REST_MAX_DISCARD (4 * 1024 * 1024)
#define REST_MAX_HEADERS (16 * 1024)
#define REST_ID_MAX 128
#define REST_MAX_ORIGINS 32

typedef enum {
    REST_UP_USER = 0,
    REST_UP_VENDOR,
    REST_UP_LOCATION,
    REST_UP_COUNT,
} rest_upstream;

typedef enum {
    REST_GET = 0,
    REST_POST,
    REST_PUT,
    REST_PATCH,
    REST_DELETE,
    REST_OPTIONS,
    REST_HEAD,
    REST_METHOD_COUNT,
    REST_METHOD_OTHER = -1,
} rest_method;

const char *rest_method_name(int m);

typedef struct rest_route rest_route;
typedef struct rest_req rest_req;
typedef struct rest_metrics rest_metrics;

typedef struct {
    vt_addr addr;
    vt_addr upstream_addr[REST_UP_COUNT];
    const char *redis_url;
    int64_t upstream_timeout_ms;
    long rate_ip, rate_user, rate_window_s;
    bool trust_forwarded;
    int header_timeout_s, body_timeout_s, keepalive_s;
    int64_t grace_ms;
    char *origins[REST_MAX_ORIGINS];
    int norigins;
    bool origin_any;
    vt_auth_svix_key svix_key;
    bool svix_configured;
    const char *revenuecat_auth; /* NULL when unconfigured */
} rest_config;

typedef struct rest_app {
    rest_config cfg;
    uv_loop_t *loop;
    struct lws_context *lws;
    struct lws_vhost *vhost;
    int port;
    vt_auth_verifier *verifier;
    vt_rpc_channel *up[REST_UP_COUNT];
    vt_handoff *handoff;
    vt_kv *kv;
    vt_metrics *metrics;
    rest_metrics *m;
    int inflight; /* requests between accept of headers and response written */
    bool draining;
} rest_app;

/* ---- one HTTP request ---- */

#define REST_HDR_MAX 8
typedef struct {
    char name[40]; /* lower case, no colon */
    char *value;
} rest_header;

typedef void (*rest_rpc_done)(rest_req *req, vt_rpc_reply *reply);

struct rest_req {
    int refs;
    rest_app *app;
    struct lws *wsi; /* NULL once the connection is gone */
    int method;
    char *path;
    char *query; /* raw "a=b&c=d" as lws decoded it, NULL-separated pairs not used */
    const rest_route *route;
    int route_index; /* for metrics; -1 for none */
    char id[REST_ID_MAX + 1];
    char request_id[129];
    char user_id[VT_AUTH_SUB_MAX + 1];
    char client_ip[64];
    char origin[256];
    bool cors_ok;
    char *authorization;
    rest_header hdrs[REST_HDR_MAX];
    int nhdrs;
    char **qargs; /* decoded "name=value" fragments */
    int nqargs;
    /* body */
    char *body;
    size_t body_len, body_cap, body_expected;
    bool expect_body, body_too_large, close_after;
    int64_t start_ns;
    /* async step in flight */
    vt_rpc_async *pending; /* the main call, cancelled when the client goes */
    int64_t pending_id;    /* which call pending belongs to */
    ProtobufCMessage *held; /* a message kept for a later step (PUT location) */
    vt_rpc_reply *held_reply; /* a reply kept for a later step (GET vendor) */
    char *auth_error;       /* why the bearer token was refused, NULL when accepted */
    /* rate limit outcome, for headers */
    bool rl_have;
    long rl_limit, rl_remaining, rl_reset_s;
    /* readiness */
    int ready_pending;
    char *ready_result[REST_UP_COUNT + 1];
    /* response */
    bool responded;
    int status;
    const char *content_type;
    char *resp;
    size_t resp_len, resp_sent;
    bool headers_sent;
    char extra[1024]; /* extra header lines "name:\0value\0" pairs, see rest_req_header */
    size_t extra_len;
};

rest_req *rest_req_new(rest_app *app, struct lws *wsi);
void rest_req_ref(rest_req *req);
void rest_req_unref(rest_req *req);
/* Copy of a request header captured at LWS_CALLBACK_HTTP (lower-case name), or NULL. */
const char *rest_req_header(rest_req *req, const char *name);

/* ---- responses (errors.c) ---- */

/* Queue the response: takes ownership of body (malloc'd, may be NULL). */
void rest_respond(rest_req *req, int http_status, const char *content_type, char *body,
                size_t len);
void rest_respond_json(rest_req *req, int http_status, const char *literal_json);
/* The API.md §3 error body for a gRPC code (status from vt_status_http). */
void rest_respond_error(rest_req *req, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same with an explicit HTTP status (413, 405, 408...). */
void rest_respond_error_http(rest_req *req, int http_status, const char *code, const char *fmt,
                           ...) __attribute__((format(printf, 4, 5)));
/* Add a response header (name without colon). */
void rest_add_header(rest_req *req, const char *name, const char *value);

/* ---- routes (routes.c) ---- */

typedef struct {
    const char *param; /* query parameter name */
    const char *field; /* request message field (either spelling) */
    bool required;     /* absent or empty → 400 naming it */
} rest_query_map;

typedef enum {
    REST_H_RPC = 0,       /* plain transcoded call */
    REST_H_LOCATION_PUT,  /* owner check, then LocationService.UpdateVendorLocation */
    REST_H_VENDOR_GET,    /* GetVendor, then its live position (vendor_get.c) */
    REST_H_HEALTHZ,
    REST_H_READYZ,
    REST_H_METRICS,
    REST_H_WEBHOOK_CLERK,
    REST_H_WEBHOOK_REVENUECAT,
    REST_H_STATIC, /* a file of the live map page (static.c) */
} rest_handler_kind;

struct rest_route {
    int method;
    const char *path; /* template, "{id}" for the one path parameter */
    rest_handler_kind kind;
    bool auth;
    rest_upstream upstream;
    const ProtobufCServiceDescriptor *svc;
    const char *rpc;
    bool body;                     /* JSON body decoded into the request message */
    const char *const *required;   /* body keys that must be present */
    const char *id_field;          /* path {id} goes here */
    const char *user_field;        /* caller's sub goes here */
    const rest_query_map *query;     /* {NULL, NULL}-terminated */
    int ok_status;                 /* 200, 201, 204 */
    const char *file;              /* REST_H_STATIC: which file of web/ */
};

extern const rest_route rest_routes[];
extern const int rest_nroutes;

typedef enum { REST_MATCH_NONE = 0, REST_MATCH_OK, REST_MATCH_METHOD } rest_match_result;

/* Find the route for method+path. OK: *route and id filled. METHOD: the path exists
 * but not for this method; allow receives "GET, PATCH" (allowlen bytes). */
rest_match_result rest_route_match(int method, const char *path, const rest_route **route,
                               char *id, size_t idlen, char *allow, size_t allowlen);

/* Set the query parameters of map (a route's, {NULL}-terminated) into msg from the
 * request's decoded "name=value" fragments; the first fragment of a name counts.
 * 0, or VT_INVALID_ARGUMENT with the reason for the client in err: a required parameter
 * absent or empty, or a value its field refuses (msg may then hold the parameters set
 * before it). */
int rest_query_apply(const rest_query_map *map, char *const *qargs, int nqargs, ProtobufCMessage *msg,
                   char *err, size_t errlen);

/* ---- dispatch.c ---- */

/* The request's headers (and body, if any) are complete: do the work. */
void rest_dispatch(rest_req *req);

/* ---- upstream.c ---- */

int rest_upstream_call(rest_req *req, rest_upstream up, const ProtobufCServiceDescriptor *svc,
                     const char *method, ProtobufCMessage *msg, rest_rpc_done done);
void rest_readyz_start(rest_req *req);
/* Respond for a non-OK rpc reply with the error body (and count it). */
/* The request's id and caller for log lines about it. */
vt_log_ctx rest_log_ctx(const rest_req *req);
/* An upstream's failure as the error body: its status and message, except for the
 * codes a transport failure produces, answered in our words naming the service. */
void rest_respond_rpc_error(rest_req *req, rest_upstream up, vt_rpc_reply *reply);

/* ---- vendor_get.c ---- */

/* GET /api/v1/vendors/{id} with get_vendor (a GetVendorRequest, owned from here). */
void rest_vendor_get(rest_req *req, ProtobufCMessage *get_vendor);

/* ---- webhooks.c ---- */

/* ---- the live map page (static.c) ---- */

/* Read web/'s files into memory; returns how many were found. */
int rest_static_load(const char *dir);
void rest_static_free(void);
void rest_static_serve(rest_req *req, const char *name);

void rest_webhook_clerk(rest_req *req);
void rest_webhook_revenuecat(rest_req *req);

/* ---- ratelimit.c ---- */

/* Checks (and counts) the request against the IP and, when user_id is non-empty, the
 * user window; then calls next(req, allowed). Fails open when Redis is away. */
void rest_ratelimit_check(rest_req *req, void (*next)(rest_req *req, bool allowed));

/* ---- cors.c ---- */

/* Record whether the request's Origin is allowed (req->cors_ok). */
void rest_cors_classify(rest_req *req);
/* An OPTIONS request with Access-Control-Request-Method: answer it. allow is the
 * route's method list. */
void rest_cors_preflight(rest_req *req, const char *allow);

/* ---- rest_metrics.c ---- */

rest_metrics *rest_metrics_new(vt_metrics *reg);
void rest_metrics_free(rest_metrics *m);
void rest_metrics_request(rest_metrics *m, int route_index, int status, double seconds);
void rest_metrics_upstream_error(rest_metrics *m, rest_upstream up, int code);
void rest_metrics_ratelimit_failopen(rest_metrics *m);
void rest_metrics_ratelimited(rest_metrics *m, bool user);
void rest_metrics_auth_failure(rest_metrics *m);
void rest_metrics_webhook(rest_metrics *m, const char *provider, const char *outcome);
const char *rest_upstream_name(rest_upstream up);

/* ---- server.c ---- */

int rest_server_start(rest_app *app, char *err, size_t errlen);
/* Stop listening; when every connection is gone, on_idle runs. */
void rest_server_drain(rest_app *app);
void rest_server_destroy(rest_app *app);

#endif
