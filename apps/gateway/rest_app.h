/*
 * rest_app.h — the state of one venta-gateway process: its configuration, read once
 * at start by main.c, and the handles every module reaches through req->app.
 *
 * One libuv loop thread runs everything: libwebsockets' HTTP server, the Redis
 * connection (vt_kv) and the handoff that brings gRPC completions back from the rpc
 * queue thread; so nothing here needs a lock. The modules, each with its own header,
 * and who calls whom (no file calls back into one that calls it):
 *
 *   main.c              configuration, loop, signals, drain          → server, static
 *   rest_server.c       lws on the loop: capture, bodies, writing    → dispatch, cors, req
 *   rest_dispatch.c     route, auth, rate limit, transcode, call     → everything below
 *   rest_vendor_get.c   GET /vendors/{id}: vendor, then live position → upstream, req
 *   rest_webhooks.c     Clerk (Svix) and RevenueCat → UserService    → upstream, req
 *   rest_images.c       image uploads and GET /images → MediaService → upstream, req, multipart
 *   rest_multipart.c    one field of a multipart/form-data body      (a leaf)
 *   rest_algolia.c      Algolia's query API → SearchVendors          → algolia_shapes, upstream
 *   rest_upstream.c     async rpc → handoff → loop; /readyz          → req, metrics
 *   rest_ratelimit.c    fixed-window counters in Redis, one EVAL     → req, metrics
 *   rest_cors.c         allowed origins and preflight                → req
 *   rest_static.c       the live map page from memory                → req
 *   rest_req.c          the request record, its response, errors     → metrics, routes
 *   rest_metrics.c      request/latency/upstream metrics             → routes
 *   rest_routes.c       the route table, matching, query parameters  (a leaf)
 */
#ifndef REST_APP_H
#define REST_APP_H

#include "rest_metrics.h"
#include "rest_routes.h"
#include "vt_auth.h"
#include "vt_core.h"
#include "vt_handoff.h"
#include "vt_http.h"
#include "vt_kv.h"
#include "vt_metrics.h"
#include "vt_rpc.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct lws_context;
struct lws_vhost;
typedef struct rest_req rest_req;

#define REST_MAX_ORIGINS 32

typedef struct {
    vt_addr addr;
    vt_addr upstream_addr[REST_UP_COUNT];
    const char *redis_url;
    vt_http_tls http_tls_files;
    const vt_http_tls *http_tls; /* VENTA_HTTP_TLS_*: HTTPS at this edge; NULL: plaintext */
    const char *redis_user, *redis_password; /* VENTA_REDIS_USER/PASSWORD; NULL: none */
    int64_t upstream_timeout_ms;
    long rate_ip, rate_user, rate_window_s; /* 0 turns a limit off */
    bool trust_forwarded;
    int header_timeout_s, body_timeout_s, keepalive_s;
    int upload_timeout_s;   /* the body of an image upload */
    int max_upload_bodies;  /* upload bodies held at once (each up to 10 MiB) */
    const char *public_url; /* VENTA_PUBLIC_URL: where /images is served; NULL: from Host */
    int64_t grace_ms;
    char *origins[REST_MAX_ORIGINS];
    int norigins;
    bool origin_any;
    vt_auth_svix_key svix_key;
    bool svix_configured;
    const char *revenuecat_auth;    /* NULL when unconfigured */
    const char *algolia_search_key; /* VENTA_ALGOLIA_SEARCH_KEY; NULL: only JWTs search */
    vt_rpc_tls tls_files;
    const vt_rpc_tls *tls; /* VENTA_TLS_*: mTLS to the services; NULL: plaintext */
} rest_config;

struct rest_app {
    rest_config cfg;
    uv_loop_t *loop;
    struct lws_context *lws;
    struct lws_vhost *vhost;
    vt_http_header_watch *header_watch; /* VENTA_HTTP_HEADER_TIMEOUT_S (libs/http) */
    int port;
    vt_auth_verifier *verifier;
    vt_rpc_channel *up[REST_UP_COUNT];
    vt_handoff *handoff;
    vt_kv *kv;
    vt_metrics *metrics;
    rest_metrics *m;
    int inflight;      /* requests between their headers and their response written */
    int upload_bodies; /* requests holding an upload body (rest_server.c) */
    bool draining;
    /* A response was queued for a request whose connection is open: rest_server.c
     * asks lws to write it. A callback, so that rest_req.c needs no server (and unit
     * tests can stand in for the connection). */
    void (*response_ready)(rest_req *req);
};
/* rest_req.h declares the name for the modules that only pass the app along. */
typedef struct rest_app rest_app;

#endif
