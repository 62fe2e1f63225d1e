/*
 * rest_req.h — one HTTP request of the REST gateway (rest_req.c): its record, its
 * reference count, and the response it queues, including the error body of API.md §3.
 *
 * A request is refcounted: the connection holds one reference while it is open
 * (rest_server.c), every asynchronous step in flight (an rpc, a Redis command) holds
 * another. A client that disconnects early only drops the connection's reference and
 * clears wsi; the step still completes, sees wsi == NULL, and the last unref frees it.
 *
 * Responding only records status, headers and body and asks the connection for a
 * writeable callback; rest_server.c writes them. The modules that answer requests
 * (dispatch, cors, upstream, ...) call these functions and nothing in the server, so
 * no file calls back into the one that called it.
 */
#ifndef REST_REQ_H
#define REST_REQ_H

#include "rest_routes.h"
#include "vt_auth.h"
#include "vt_core.h"
#include "vt_rpc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lws;
typedef struct rest_app rest_app;

#define REST_HDR_MAX 16
typedef struct {
    char name[40]; /* lower case, no colon */
    char *value;
} rest_header;

typedef struct rest_req {
    int refs;
    rest_app *app;
    struct lws *wsi; /* NULL once the connection is gone */
    int method;
    char *path;
    const rest_route *route;
    int route_index; /* for metrics; -1 for none */
    char id[REST_ID_MAX + 1];
    char request_id[129];
    vt_trace trace; /* this request's span: its calls and log lines carry it */
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
    size_t body_limit;      /* the route's (rest_route_body_limit) */
    bool holds_upload_slot; /* counted in app->upload_bodies until freed */
    bool no_upload_slot;    /* an upload over VENTA_HTTP_MAX_UPLOADS: dropped, then 503 */
    bool expect_body, body_too_large, close_after;
    int64_t start_ns;
    /* async step in flight */
    vt_rpc_async *pending;    /* the main call, cancelled when the client goes */
    int64_t pending_id;       /* which call pending belongs to */
    ProtobufCMessage *held;   /* a message kept for a later step (PUT location) */
    vt_rpc_reply *held_reply; /* a reply kept for a later step (GET vendor) */
    char *auth_error;         /* why the bearer token was refused, NULL when accepted */
    void *held_state; /* a handler's own state over several calls (Algolia, /user/vendors) */
    void (*held_state_free)(void *state);
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
    char extra[1024]; /* extra header lines "name\0value\0" pairs, see rest_add_header */
    size_t extra_len;
} rest_req;

/* A request with one reference (the caller's), route_index -1, the clock started. */
rest_req *rest_req_new(rest_app *app, struct lws *wsi);
void rest_req_ref(rest_req *req);
void rest_req_unref(rest_req *req);
/* Copy of a request header captured when the headers arrived (lower-case name), or NULL. */
const char *rest_req_header(const rest_req *req, const char *name);
/* The request's id and caller for log lines about it. */
vt_log_ctx rest_log_ctx(const rest_req *req);

/* Add a response header (name without colon); dropped when extra is full. */
void rest_add_header(rest_req *req, const char *name, const char *value);
/* Queue the response: takes ownership of body (malloc'd, may be NULL). Only the first
 * response of a request counts; later ones are freed. */
void rest_respond(rest_req *req, int http_status, const char *content_type, char *body, size_t len);
void rest_respond_json(rest_req *req, int http_status, const char *literal_json);
/* Respond with the buffer's contents (taken; b is left empty), or the error body for
 * RESOURCE_EXHAUSTED when building it ran out of memory. */
void rest_respond_buf(rest_req *req, int http_status, const char *content_type, vt_buf *b);
/* The API.md §3 error body for a gRPC code (status from vt_status_http). */
void rest_respond_error(rest_req *req, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same with an explicit HTTP status (413, 405, 408...). */
void rest_respond_error_http(rest_req *req, int http_status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
