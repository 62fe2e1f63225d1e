/*
 * gateway.h — the private types of venta-gateway, shared by its files.
 *
 * One libuv loop thread runs everything: libwebsockets' HTTP server, the Redis
 * connection (vt_kv) and the handoff that brings gRPC completions back from the rpc
 * queue thread. A request is a refcounted gw_req: the connection holds one reference
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
 *   gw_metrics.c  request/latency/upstream metrics
 *   main.c        configuration, loop, signals, drain
 */
#ifndef GATEWAY_H
#define GATEWAY_H

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

#define GW_MAX_BODY (64 * 1024)
/* A declared body above this is refused at once and the connection closed; below it
 * an oversized body is read and dropped so the 413 reaches the client cleanly. */
#define GW_MAX_DISCARD (4 * 1024 * 1024)
#define GW_MAX_HEADERS (16 * 1024)
#define GW_ID_MAX 128
#define GW_MAX_ORIGINS 32

typedef enum {
    GW_UP_USER = 0,
    GW_UP_VENDOR,
    GW_UP_LOCATION,
    GW_UP_COUNT,
} gw_upstream;

typedef enum {
    GW_GET = 0,
    GW_POST,
    GW_PUT,
    GW_PATCH,
    GW_DELETE,
    GW_OPTIONS,
    GW_HEAD,
    GW_METHOD_COUNT,
    GW_METHOD_OTHER = -1,
} gw_method;

const char *gw_method_name(int m);

typedef struct gw_route gw_route;
typedef struct gw_req gw_req;
typedef struct gw_metrics gw_metrics;

typedef struct {
    vt_addr addr;
    vt_addr upstream_addr[GW_UP_COUNT];
    const char *redis_url;
    int64_t upstream_timeout_ms;
    long rate_ip, rate_user, rate_window_s;
    bool trust_forwarded;
    int header_timeout_s, body_timeout_s, keepalive_s;
    int64_t grace_ms;
    char *origins[GW_MAX_ORIGINS];
    int norigins;
    bool origin_any;
    vt_auth_svix_key svix_key;
    bool svix_configured;
    const char *revenuecat_auth; /* NULL when unconfigured */
} gw_config;

typedef struct gw_app {
    gw_config cfg;
    uv_loop_t *loop;
    struct lws_context *lws;
    struct lws_vhost *vhost;
    int port;
    vt_auth_verifier *verifier;
    vt_rpc_channel *up[GW_UP_COUNT];
    vt_handoff *handoff;
    vt_kv *kv;
    vt_metrics *metrics;
    gw_metrics *m;
    int inflight; /* requests between accept of headers and response written */
    bool draining;
} gw_app;

/* ---- one HTTP request ---- */

#define GW_HDR_MAX 8
typedef struct {
    char name[40]; /* lower case, no colon */
    char *value;
} gw_header;

typedef void (*gw_rpc_done)(gw_req *req, vt_rpc_reply *reply);

struct gw_req {
    int refs;
    gw_app *app;
    struct lws *wsi; /* NULL once the connection is gone */
    int method;
    char *path;
    char *query; /* raw "a=b&c=d" as lws decoded it, NULL-separated pairs not used */
    const gw_route *route;
    int route_index; /* for metrics; -1 for none */
    char id[GW_ID_MAX + 1];
    char request_id[129];
    char user_id[VT_AUTH_SUB_MAX + 1];
    char client_ip[64];
    char origin[256];
    bool cors_ok;
    char *authorization;
    gw_header hdrs[GW_HDR_MAX];
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
    char *ready_result[GW_UP_COUNT + 1];
    /* response */
    bool responded;
    int status;
    const char *content_type;
    char *resp;
    size_t resp_len, resp_sent;
    bool headers_sent;
    char extra[1024]; /* extra header lines "name:\0value\0" pairs, see gw_req_header */
    size_t extra_len;
};

gw_req *gw_req_new(gw_app *app, struct lws *wsi);
void gw_req_ref(gw_req *req);
void gw_req_unref(gw_req *req);
/* Copy of a request header captured at LWS_CALLBACK_HTTP (lower-case name), or NULL. */
const char *gw_req_header(gw_req *req, const char *name);

/* ---- responses (errors.c) ---- */

/* Queue the response: takes ownership of body (malloc'd, may be NULL). */
void gw_respond(gw_req *req, int http_status, const char *content_type, char *body,
                size_t len);
void gw_respond_json(gw_req *req, int http_status, const char *literal_json);
/* The API.md §3 error body for a gRPC code (status from vt_status_http). */
void gw_respond_error(gw_req *req, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same with an explicit HTTP status (413, 405, 408...). */
void gw_respond_error_http(gw_req *req, int http_status, const char *code, const char *fmt,
                           ...) __attribute__((format(printf, 4, 5)));
/* Add a response header (name without colon). */
void gw_add_header(gw_req *req, const char *name, const char *value);

/* ---- routes (routes.c) ---- */

typedef struct {
    const char *param; /* query parameter name */
    const char *field; /* request message field (either spelling) */
    bool required;     /* absent or empty → 400 naming it */
} gw_query_map;

typedef enum {
    GW_H_RPC = 0,       /* plain transcoded call */
    GW_H_LOCATION_PUT,  /* owner check, then LocationService.UpdateVendorLocation */
    GW_H_VENDOR_GET,    /* GetVendor, then its live position (vendor_get.c) */
    GW_H_HEALTHZ,
    GW_H_READYZ,
    GW_H_METRICS,
    GW_H_WEBHOOK_CLERK,
    GW_H_WEBHOOK_REVENUECAT,
    GW_H_STATIC, /* a file of the live map page (static.c) */
} gw_handler_kind;

struct gw_route {
    int method;
    const char *path; /* template, "{id}" for the one path parameter */
    gw_handler_kind kind;
    bool auth;
    gw_upstream upstream;
    const ProtobufCServiceDescriptor *svc;
    const char *rpc;
    bool body;                     /* JSON body decoded into the request message */
    const char *const *required;   /* body keys that must be present */
    const char *id_field;          /* path {id} goes here */
    const char *user_field;        /* caller's sub goes here */
    const gw_query_map *query;     /* {NULL, NULL}-terminated */
    int ok_status;                 /* 200, 201, 204 */
    const char *file;              /* GW_H_STATIC: which file of web/ */
};

extern const gw_route gw_routes[];
extern const int gw_nroutes;

typedef enum { GW_MATCH_NONE = 0, GW_MATCH_OK, GW_MATCH_METHOD } gw_match_result;

/* Find the route for method+path. OK: *route and id filled. METHOD: the path exists
 * but not for this method; allow receives "GET, PATCH" (allowlen bytes). */
gw_match_result gw_route_match(int method, const char *path, const gw_route **route,
                               char *id, size_t idlen, char *allow, size_t allowlen);

/* Set the query parameters of map (a route's, {NULL}-terminated) into msg from the
 * request's decoded "name=value" fragments; the first fragment of a name counts.
 * 0, or VT_INVALID_ARGUMENT with the reason for the client in err: a required parameter
 * absent or empty, or a value its field refuses (msg may then hold the parameters set
 * before it). */
int gw_query_apply(const gw_query_map *map, char *const *qargs, int nqargs, ProtobufCMessage *msg,
                   char *err, size_t errlen);

/* ---- dispatch.c ---- */

/* The request's headers (and body, if any) are complete: do the work. */
void gw_dispatch(gw_req *req);

/* ---- upstream.c ---- */

int gw_upstream_call(gw_req *req, gw_upstream up, const ProtobufCServiceDescriptor *svc,
                     const char *method, ProtobufCMessage *msg, gw_rpc_done done);
void gw_readyz_start(gw_req *req);
/* Respond for a non-OK rpc reply with the error body (and count it). */
/* The request's id and caller for log lines about it. */
vt_log_ctx gw_log_ctx(const gw_req *req);
/* An upstream's failure as the error body: its status and message, except for the
 * codes a transport failure produces, answered in our words naming the service. */
void gw_respond_rpc_error(gw_req *req, gw_upstream up, vt_rpc_reply *reply);

/* ---- vendor_get.c ---- */

/* GET /api/v1/vendors/{id} with get_vendor (a GetVendorRequest, owned from here). */
void gw_vendor_get(gw_req *req, ProtobufCMessage *get_vendor);

/* ---- webhooks.c ---- */

/* ---- the live map page (static.c) ---- */

/* Read web/'s files into memory; returns how many were found. */
int gw_static_load(const char *dir);
void gw_static_free(void);
void gw_static_serve(gw_req *req, const char *name);

void gw_webhook_clerk(gw_req *req);
void gw_webhook_revenuecat(gw_req *req);

/* ---- ratelimit.c ---- */

/* Checks (and counts) the request against the IP and, when user_id is non-empty, the
 * user window; then calls next(req, allowed). Fails open when Redis is away. */
void gw_ratelimit_check(gw_req *req, void (*next)(gw_req *req, bool allowed));

/* ---- cors.c ---- */

/* Record whether the request's Origin is allowed (req->cors_ok). */
void gw_cors_classify(gw_req *req);
/* An OPTIONS request with Access-Control-Request-Method: answer it. allow is the
 * route's method list. */
void gw_cors_preflight(gw_req *req, const char *allow);

/* ---- gw_metrics.c ---- */

gw_metrics *gw_metrics_new(vt_metrics *reg);
void gw_metrics_free(gw_metrics *m);
void gw_metrics_request(gw_metrics *m, int route_index, int status, double seconds);
void gw_metrics_upstream_error(gw_metrics *m, gw_upstream up, int code);
void gw_metrics_ratelimit_failopen(gw_metrics *m);
void gw_metrics_ratelimited(gw_metrics *m, bool user);
void gw_metrics_auth_failure(gw_metrics *m);
void gw_metrics_webhook(gw_metrics *m, const char *provider, const char *outcome);
const char *gw_upstream_name(gw_upstream up);

/* ---- server.c ---- */

int gw_server_start(gw_app *app, char *err, size_t errlen);
/* Stop listening; when every connection is gone, on_idle runs. */
void gw_server_drain(gw_app *app);
void gw_server_destroy(gw_app *app);

#endif
