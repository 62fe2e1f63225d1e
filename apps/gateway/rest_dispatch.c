/*
 * rest_dispatch.c — one request's way through the gateway once its headers (and body) are
 * in: route, then for API routes verify the bearer token, count the request against
 * the rate limits, build the gRPC request from body + path + query + caller with the
 * generic transcoder, call, and transcode the reply (defaults emitted).
 *
 * The order matters: the rate limit counts a request before a bad token is refused,
 * so guessing tokens costs the guesser its IP budget; the token is verified first
 * only because the user's own window needs its `sub`.
 */
#include "rest_dispatch.h"
#include "rest_algolia.h"
#include "rest_app.h"
#include "rest_cors.h"
#include "rest_legacy.h"
#include "rest_images.h"
#include "rest_metrics.h"
#include "rest_ratelimit.h"
#include "rest_req.h"
#include "rest_routes.h"
#include "rest_static.h"
#include "rest_upstream.h"
#include "rest_vendor_get.h"
#include "rest_webhooks.h"
#include "vt_auth.h"
#include "vt_json.h"

#include "venta/location/v1/location.pb-c.h"
#include "venta/vendor/v1/vendor.pb-c.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void on_api_reply(rest_req *req, vt_rpc_reply *reply)
{
    if (vt_rpc_reply_status(reply) != VT_OK) {
        rest_respond_rpc_error(req, req->route->upstream, reply);
        vt_rpc_reply_free(reply);
        return;
    }
    const rest_route *r = req->route;
    if (r->ok_status == 204) {
        vt_rpc_reply_free(reply);
        rest_respond(req, 204, NULL, NULL, 0);
        return;
    }
    char *out = NULL;
    size_t len = 0;
    const ProtobufCMessage *resp = vt_rpc_reply_response(reply);
    int rc = resp ? vt_json_encode(resp, NULL, &out, &len) : VT_INTERNAL;
    vt_rpc_reply_free(reply);
    if (rc != VT_OK) {
        rest_respond_error(req, VT_INTERNAL, "cannot encode the response");
        return;
    }
    rest_respond(req, r->ok_status, "application/json", out, len);
}

/* Every key in required must be present (and not null) in the body object. */
static const char *missing_key(const rest_req *req, const char *const *required)
{
    json_error_t jerr;
    json_t *root = json_loadb(req->body, req->body_len, 0, &jerr);
    const char *missing = NULL;
    for (const char *const *k = required; *k && !missing; k++) {
        json_t *v = root ? json_object_get(root, *k) : NULL;
        if (!v || json_is_null(v))
            missing = *k;
    }
    json_decref(root);
    return missing;
}

/* Build the method's request message; on failure the error response is sent. */
static ProtobufCMessage *build_request(rest_req *req, const ProtobufCServiceDescriptor *svc,
                                       const char *rpc)
{
    const rest_route *r = req->route;
    const ProtobufCMethodDescriptor *md =
        protobuf_c_service_descriptor_get_method_by_name(svc, rpc);
    if (!md) {
        rest_respond_error(req, VT_INTERNAL, "route %s has no method %s", r->path, rpc);
        return NULL;
    }
    char err[256];
    ProtobufCMessage *msg = NULL;
    if (r->body && svc == r->svc) {
        if (req->body_len == 0) {
            rest_respond_error(req, VT_INVALID_ARGUMENT, "a JSON object body is required");
            return NULL;
        }
        int rc = vt_json_decode(md->input, req->body, req->body_len, NULL, &msg, err, sizeof err);
        if (rc != VT_OK) {
            rest_respond_error(req, rc, "%s", err);
            return NULL;
        }
        if (r->required) {
            const char *missing = missing_key(req, r->required);
            if (missing) {
                protobuf_c_message_free_unpacked(msg, NULL);
                rest_respond_error(req, VT_INVALID_ARGUMENT, "%s is required", missing);
                return NULL;
            }
        }
    } else {
        msg = malloc(md->input->sizeof_message);
        if (!msg) {
            rest_respond_error(req, VT_RESOURCE_EXHAUSTED, "out of memory");
            return NULL;
        }
        protobuf_c_message_init(md->input, msg);
    }
    if (svc == r->svc &&
        rest_query_apply(r->query, req->qargs, req->nqargs, msg, err, sizeof err) != VT_OK) {
        protobuf_c_message_free_unpacked(msg, NULL);
        rest_respond_error(req, VT_INVALID_ARGUMENT, "%s", err);
        return NULL;
    }
    const char *id_field = svc == r->svc ? r->id_field : "id";
    const char *user_field = svc == r->svc ? r->user_field : NULL;
    if ((id_field && vt_json_set_field(msg, id_field, req->id, NULL, err, sizeof err)) ||
        (user_field && vt_json_set_field(msg, user_field, req->user_id, NULL, err, sizeof err))) {
        protobuf_c_message_free_unpacked(msg, NULL);
        rest_respond_error(req, VT_INVALID_ARGUMENT, "%s", err);
        return NULL;
    }
    return msg;
}

/* PUT /api/v1/vendors/{id}/location, step 2: the vendor exists; is it the caller's? */
static void on_owner_reply(rest_req *req, vt_rpc_reply *reply)
{
    if (vt_rpc_reply_status(reply) != VT_OK) {
        rest_respond_rpc_error(req, REST_UP_VENDOR, reply);
        vt_rpc_reply_free(reply);
        return;
    }
    const Venta__Vendor__V1__Vendor *v =
        (const Venta__Vendor__V1__Vendor *)vt_rpc_reply_response(reply);
    bool owner = v && v->owner_id && strcmp(v->owner_id, req->user_id) == 0;
    vt_rpc_reply_free(reply);
    if (!owner) {
        rest_respond_error(req, VT_PERMISSION_DENIED, "vendor %s is not owned by the caller",
                           req->id);
        return;
    }
    ProtobufCMessage *msg = req->held;
    req->held = NULL;
    rest_upstream_call_or_fail(req, REST_UP_LOCATION, req->route->svc, req->route->rpc, msg,
                               on_api_reply);
}

static void api_call(rest_req *req)
{
    const rest_route *r = req->route;
    if (r->kind == REST_H_LEGACY_VENDOR_CREATE || r->kind == REST_H_LEGACY_VENDOR_UPDATE ||
        r->kind == REST_H_LEGACY_USER_VENDORS) {
        rest_legacy_call(req); /* the original's bodies are not our messages */
        return;
    }
    if (r->kind == REST_H_IMAGE_UPLOAD) {
        rest_image_upload(req);
        return;
    }
    if (r->kind == REST_H_VENDOR_IMAGE) {
        rest_vendor_image_put(req);
        return;
    }
    ProtobufCMessage *msg = build_request(req, r->svc, r->rpc);
    if (!msg)
        return;
    if (r->kind == REST_H_LOCATION_PUT) {
        req->held = msg;
        ProtobufCMessage *get =
            build_request(req, &venta__vendor__v1__vendor_service__descriptor, "GetVendor");
        if (!get)
            return;
        rest_upstream_call_or_fail(req, REST_UP_VENDOR,
                                   &venta__vendor__v1__vendor_service__descriptor, "GetVendor", get,
                                   on_owner_reply);
        return;
    }
    if (r->kind == REST_H_VENDOR_GET) {
        rest_vendor_get(req, msg);
        return;
    }
    rest_upstream_call_or_fail(req, r->upstream, r->svc, r->rpc, msg, on_api_reply);
}

static void after_ratelimit(rest_req *req, bool allowed)
{
    if (!req->wsi || req->responded)
        return;
    if (!allowed) {
        rest_respond_error(req, VT_RESOURCE_EXHAUSTED, "rate limit exceeded, retry after %ld s",
                           req->rl_reset_s);
        return;
    }
    if (req->auth_error) {
        rest_metrics_auth_failure(req->app->m);
        rest_add_header(req, "www-authenticate", "Bearer");
        rest_respond_error(req, VT_UNAUTHENTICATED, "%s", req->auth_error);
        return;
    }
    api_call(req);
}

static void api_start(rest_req *req)
{
    char err[256] = "";
    const char *token = NULL;
    size_t len = 0;
    int rc;
    if (!req->authorization)
        rc = VT_UNAUTHENTICATED, snprintf(err, sizeof err, "missing Authorization header");
    else
        rc = vt_auth_bearer_token(req->authorization, &token, &len, err, sizeof err);
    if (rc == VT_OK) {
        vt_auth_identity id;
        rc = vt_auth_verify(req->app->verifier, token, len, (int64_t)time(NULL), &id, err,
                            sizeof err);
        if (rc == VT_OK)
            snprintf(req->user_id, sizeof req->user_id, "%s", id.sub);
    }
    if (rc != VT_OK) {
        req->auth_error = strdup(err[0] ? err : "invalid token");
        if (!req->auth_error) {
            rest_respond_error(req, VT_UNAUTHENTICATED, "invalid token");
            return;
        }
    }
    rest_ratelimit_check(req, after_ratelimit);
}

static void serve_metrics(rest_req *req)
{
    char *text = NULL;
    size_t len = vt_metrics_render(req->app->metrics, &text);
    rest_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, text ? len : 0);
}

void rest_dispatch(rest_req *req)
{
    if (req->responded)
        return;
    if (req->app->draining) {
        req->close_after = true;
        rest_respond_error(req, VT_UNAVAILABLE, "the gateway is shutting down");
        return;
    }
    char allow[128];
    const rest_route *r = NULL;
    switch (rest_route_match(req->method, req->path, &r, req->id, sizeof req->id, allow,
                             sizeof allow)) {
    case REST_MATCH_NONE:
        rest_respond_error(req, VT_NOT_FOUND, "no route for %s %s", rest_method_name(req->method),
                           req->path);
        return;
    case REST_MATCH_METHOD:
        if (req->method == REST_OPTIONS) {
            rest_cors_preflight(req, allow);
            return;
        }
        rest_add_header(req, "allow", allow);
        rest_respond_error_http(req, 405, "UNIMPLEMENTED", "method %s is not allowed on %s",
                                rest_method_name(req->method), req->path);
        return;
    case REST_MATCH_OK:
        break;
    }
    req->route = r;
    req->route_index = (int)(r - rest_routes);
    switch (r->kind) {
    case REST_H_HEALTHZ:
        rest_respond_json(req, 200, "{\"status\":\"ok\"}");
        return;
    case REST_H_STATIC:
        rest_static_serve(req, r->file);
        return;
    case REST_H_READYZ:
        rest_readyz_start(req);
        return;
    case REST_H_METRICS:
        serve_metrics(req);
        return;
    case REST_H_WEBHOOK_CLERK:
        rest_webhook_clerk(req);
        return;
    case REST_H_WEBHOOK_REVENUECAT:
        rest_webhook_revenuecat(req);
        return;
    case REST_H_LEGACY_HEALTH:
        rest_legacy_health(req);
        return;
    case REST_H_IMAGE_GET:
        rest_image_get(req);
        return;
    case REST_H_ALGOLIA_QUERY:
    case REST_H_ALGOLIA_QUERIES:
        rest_algolia_start(req);
        return;
    case REST_H_RPC:
    case REST_H_LOCATION_PUT:
    case REST_H_VENDOR_GET:
    case REST_H_LEGACY_VENDOR_CREATE:
    case REST_H_LEGACY_VENDOR_UPDATE:
    case REST_H_LEGACY_USER_VENDORS:
    case REST_H_IMAGE_UPLOAD:
    case REST_H_VENDOR_IMAGE:
        api_start(req);
        return;
    }
}
