/*
 * rest_webhooks.c — Clerk (Svix-signed) and RevenueCat webhooks into UserService.
 *
 * These payloads are the senders' formats, not our protos, so they are read with
 * jansson and mapped field by field into the UserService request. Both endpoints are
 * idempotent on the event id (UserService keeps the ledger), answer 200 only after the
 * service has committed the change ({"status":"ok"}, or "duplicate" for a redelivery,
 * "ignored" for an event type nothing acts on) and answer 503 when the service cannot
 * be reached, so the sender retries and nothing is lost. A payload that can never
 * succeed (not JSON, no event id) is a 400.
 */
#include "rest_webhooks.h"
#include "rest_app.h"
#include "rest_metrics.h"
#include "rest_req.h"
#include "rest_upstream.h"

#include "venta/user/v1/user.pb-c.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define USER_SVC (&venta__user__v1__user_service__descriptor)

static const char *jstr(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int64_t jint(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    if (json_is_real(v))
        return (int64_t)json_real_value(v);
    return 0;
}

/* Set a protobuf-c string field to a malloc'd copy (left at its default when absent). */
static bool set_str(char **field, const char *v)
{
    if (!v || !v[0])
        return true;
    char *s = strdup(v);
    if (!s)
        return false;
    *field = s;
    return true;
}

static bool set_strs(size_t *n, char ***arr, json_t *v)
{
    if (json_is_string(v)) {
        *arr = calloc(1, sizeof(char *));
        if (!*arr || !((*arr)[0] = strdup(json_string_value(v))))
            return false;
        *n = 1;
        return true;
    }
    if (!json_is_array(v) || json_array_size(v) == 0)
        return true;
    size_t cnt = json_array_size(v);
    *arr = calloc(cnt, sizeof(char *));
    if (!*arr)
        return false;
    for (size_t i = 0; i < cnt; i++) {
        json_t *e = json_array_get(v, i);
        if (!json_is_string(e))
            continue;
        if (!((*arr)[*n] = strdup(json_string_value(e))))
            return false;
        (*n)++;
    }
    return true;
}

static void respond_status(rest_req *req, const char *status)
{
    char body[64];
    snprintf(body, sizeof body, "{\"status\":\"%s\"}", status);
    rest_metrics_webhook(req->app->m,
                         req->route->kind == REST_H_WEBHOOK_CLERK ? "clerk" : "revenuecat", status);
    rest_respond_json(req, 200, body);
}

/* A failed UserService call: 400 when retrying cannot help, else 503 for a retry. */
static void respond_upstream_failure(rest_req *req, vt_rpc_reply *reply)
{
    int code = vt_rpc_reply_status(reply);
    const char *msg = vt_rpc_reply_message(reply);
    rest_metrics_webhook(
        req->app->m, req->route->kind == REST_H_WEBHOOK_CLERK ? "clerk" : "revenuecat", "failed");
    if (code == VT_INVALID_ARGUMENT) {
        rest_respond_error(req, code, "%s", msg && msg[0] ? msg : "invalid event");
        return;
    }
    vt_log_ctx lc = rest_log_ctx(req);
    vt_warn(&lc, "user service: %s: %s", vt_status_name(code), msg && msg[0] ? msg : "failed");
    rest_respond_error(req, VT_UNAVAILABLE, "user service could not apply the event, retry later");
}

static json_t *parse_body(rest_req *req)
{
    json_error_t jerr;
    json_t *root = req->body_len ? json_loadb(req->body, req->body_len, 0, &jerr) : NULL;
    if (!root) {
        rest_respond_error(req, VT_INVALID_ARGUMENT, "malformed JSON: %s",
                           req->body_len ? jerr.text : "empty body");
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        rest_respond_error(req, VT_INVALID_ARGUMENT, "the body must be a JSON object");
        return NULL;
    }
    return root;
}

/* ---- Clerk ---- */

static const char *header_fn(void *ud, const char *name)
{
    return rest_req_header(ud, name);
}

static void on_clerk_reply(rest_req *req, vt_rpc_reply *reply)
{
    if (vt_rpc_reply_status(reply) != VT_OK) {
        respond_upstream_failure(req, reply);
        vt_rpc_reply_free(reply);
        return;
    }
    const ProtobufCMessage *m = vt_rpc_reply_response(reply);
    bool dup = false;
    if (m && m->descriptor == &venta__user__v1__upsert_user_response__descriptor)
        dup = ((const Venta__User__V1__UpsertUserResponse *)m)->duplicate;
    else if (m && m->descriptor == &venta__user__v1__delete_user_response__descriptor)
        dup = ((const Venta__User__V1__DeleteUserResponse *)m)->duplicate;
    vt_rpc_reply_free(reply);
    respond_status(req, dup ? "duplicate" : "ok");
}

static const char *primary_email(json_t *data)
{
    const char *primary = jstr(data, "primary_email_address_id");
    json_t *list = json_object_get(data, "email_addresses");
    size_t i;
    json_t *e;
    if (!json_is_array(list))
        return NULL;
    json_array_foreach(list, i, e)
    {
        const char *id = jstr(e, "id");
        if (primary && id && strcmp(id, primary) == 0)
            return jstr(e, "email_address");
    }
    return NULL;
}

void rest_webhook_clerk(rest_req *req)
{
    const rest_config *cfg = &req->app->cfg;
    if (!cfg->svix_configured) {
        rest_respond_error(req, VT_UNAVAILABLE, "Clerk webhooks are not configured");
        return;
    }
    char err[256];
    int rc =
        vt_auth_svix_verify_headers(&cfg->svix_key, header_fn, req, req->body, req->body_len,
                                    (int64_t)time(NULL), VT_AUTH_SVIX_TOLERANCE_S, err, sizeof err);
    if (rc != VT_OK) {
        rest_metrics_webhook(req->app->m, "clerk", "unauthenticated");
        rest_respond_error(req, VT_UNAUTHENTICATED, "%s", err);
        return;
    }
    const char *event_id = rest_req_header(req, "svix-id");
    if (!event_id || !rest_req_header(req, "svix-signature"))
        event_id = rest_req_header(req, "webhook-id");
    json_t *root = parse_body(req);
    if (!root)
        return;
    const char *type = jstr(root, "type");
    json_t *data = json_object_get(root, "data");
    const char *uid = json_is_object(data) ? jstr(data, "id") : NULL;
    bool upsert = type && (!strcmp(type, "user.created") || !strcmp(type, "user.updated"));
    bool del = type && !strcmp(type, "user.deleted");
    if (!upsert && !del) {
        json_decref(root);
        respond_status(req, "ignored");
        return;
    }
    if (!uid || !uid[0]) {
        json_decref(root);
        rest_respond_error(req, VT_INVALID_ARGUMENT, "data.id is required");
        return;
    }
    bool ok = true;
    ProtobufCMessage *msg;
    if (upsert) {
        Venta__User__V1__UpsertUserRequest *m = malloc(sizeof *m);
        if (!m)
            goto oom;
        venta__user__v1__upsert_user_request__init(m);
        msg = &m->base;
        ok = set_str(&m->webhook_event_id, event_id) && set_str(&m->provider, "clerk") &&
             set_str(&m->id, uid) && set_str(&m->email, primary_email(data)) &&
             set_str(&m->first_name, jstr(data, "first_name")) &&
             set_str(&m->last_name, jstr(data, "last_name")) &&
             set_str(&m->image_url, jstr(data, "image_url") ? jstr(data, "image_url")
                                                            : jstr(data, "profile_image_url")) &&
             set_str(&m->event_type, type);
        m->created_at_ms = jint(data, "created_at");
        m->updated_at_ms = jint(data, "updated_at");
    } else {
        Venta__User__V1__DeleteUserRequest *m = malloc(sizeof *m);
        if (!m)
            goto oom;
        venta__user__v1__delete_user_request__init(m);
        msg = &m->base;
        ok = set_str(&m->webhook_event_id, event_id) && set_str(&m->provider, "clerk") &&
             set_str(&m->id, uid);
    }
    json_decref(root);
    if (!ok) {
        protobuf_c_message_free_unpacked(msg, NULL);
        rest_respond_error(req, VT_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    rest_upstream_call_or_fail(req, REST_UP_USER, USER_SVC, upsert ? "UpsertUser" : "DeleteUser",
                               msg, on_clerk_reply);
    return;
oom:
    json_decref(root);
    rest_respond_error(req, VT_RESOURCE_EXHAUSTED, "out of memory");
}

/* ---- RevenueCat ---- */

static void on_revenuecat_reply(rest_req *req, vt_rpc_reply *reply)
{
    if (vt_rpc_reply_status(reply) != VT_OK) {
        respond_upstream_failure(req, reply);
        vt_rpc_reply_free(reply);
        return;
    }
    const Venta__User__V1__ApplySubscriptionEventResponse *r =
        (const Venta__User__V1__ApplySubscriptionEventResponse *)vt_rpc_reply_response(reply);
    const char *status = "ok";
    if (r && r->result && !strcmp(r->result, "duplicate"))
        status = "duplicate";
    else if (r && r->result && !strcmp(r->result, "ignored"))
        status = "ignored";
    vt_rpc_reply_free(reply);
    respond_status(req, status);
}

void rest_webhook_revenuecat(rest_req *req)
{
    const rest_config *cfg = &req->app->cfg;
    if (!cfg->revenuecat_auth) {
        rest_respond_error(req, VT_UNAVAILABLE, "RevenueCat webhooks are not configured");
        return;
    }
    if (!vt_auth_bearer_equal(req->authorization, cfg->revenuecat_auth)) {
        rest_metrics_webhook(req->app->m, "revenuecat", "unauthenticated");
        rest_respond_error(req, VT_UNAUTHENTICATED, "invalid Authorization");
        return;
    }
    json_t *root = parse_body(req);
    if (!root)
        return;
    json_t *ev = json_object_get(root, "event");
    const char *id = json_is_object(ev) ? jstr(ev, "id") : NULL;
    if (!id || !id[0]) {
        json_decref(root);
        rest_respond_error(req, VT_INVALID_ARGUMENT, "event.id is required");
        return;
    }
    Venta__User__V1__ApplySubscriptionEventRequest *m = malloc(sizeof *m);
    if (!m) {
        json_decref(root);
        rest_respond_error(req, VT_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    venta__user__v1__apply_subscription_event_request__init(m);
    json_t *ents = json_object_get(ev, "entitlement_ids");
    if (!json_is_array(ents))
        ents = json_object_get(ev, "entitlement_id");
    bool ok =
        set_str(&m->provider_event_id, id) && set_str(&m->id, id) &&
        set_str(&m->type, jstr(ev, "type")) && set_str(&m->app_user_id, jstr(ev, "app_user_id")) &&
        set_str(&m->original_app_user_id, jstr(ev, "original_app_user_id")) &&
        set_strs(&m->n_aliases, &m->aliases, json_object_get(ev, "aliases")) &&
        set_str(&m->product_id, jstr(ev, "product_id")) &&
        set_strs(&m->n_entitlement_ids, &m->entitlement_ids, ents) &&
        set_str(&m->period_type, jstr(ev, "period_type")) &&
        set_str(&m->store, jstr(ev, "store")) &&
        set_str(&m->environment, jstr(ev, "environment")) &&
        set_strs(&m->n_transferred_from, &m->transferred_from,
                 json_object_get(ev, "transferred_from")) &&
        set_strs(&m->n_transferred_to, &m->transferred_to, json_object_get(ev, "transferred_to")) &&
        set_str(&m->cancel_reason, jstr(ev, "cancel_reason")) &&
        set_str(&m->expiration_reason, jstr(ev, "expiration_reason")) &&
        set_str(&m->new_product_id, jstr(ev, "new_product_id"));
    /* The original's path (/webhook/subscription) named the user by the subscriber
     * attribute its apps set, clerkUserId ({value, updated_at_ms}), before app_user_id. */
    const char *clerk =
        jstr(json_object_get(json_object_get(ev, "subscriber_attributes"), "clerkUserId"), "value");
    if (ok && req->route->legacy && clerk && clerk[0]) {
        if (m->app_user_id != protobuf_c_empty_string)
            free(m->app_user_id);
        ok = (m->app_user_id = strdup(clerk)) != NULL;
    }
    m->purchased_at_ms = jint(ev, "purchased_at_ms");
    m->expiration_at_ms = jint(ev, "expiration_at_ms");
    m->event_timestamp_ms = jint(ev, "event_timestamp_ms");
    json_decref(root);
    if (!ok) {
        protobuf_c_message_free_unpacked(&m->base, NULL);
        rest_respond_error(req, VT_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    rest_upstream_call_or_fail(req, REST_UP_USER, USER_SVC, "ApplySubscriptionEvent", &m->base,
                               on_revenuecat_reply);
}
