/*
 * subscriptions.c — ApplySubscriptionEvent: RevenueCat webhook events as a state machine
 * over account.subscriptions (API.md §3).
 *
 *   INITIAL_PURCHASE, RENEWAL, NON_RENEWING_PURCHASE  → active; a new period, so product,
 *                                  entitlements and expiry are replaced (a purchase
 *                                  without expiry never expires)
 *   UNCANCELLATION, SUBSCRIPTION_EXTENDED              → active (expiry moves when given)
 *   CANCELLATION                 → cancelled: still entitled until it expires
 *   BILLING_ISSUE                → billing_issue: entitled until it expires
 *   SUBSCRIPTION_PAUSED          → paused: entitled until it expires
 *   EXPIRATION                   → expired: the entitlement ends here
 *   PRODUCT_CHANGE               → product becomes new_product_id, status unchanged
 *   TRANSFER                     → the subscription moves from transferred_from to
 *                                  transferred_to (receiving users are created); those
 *                                  it leaves keep an expired record
 *   TEST, any other type         → recorded and answered "ignored", never an error, so
 *                                  RevenueCat does not retry it forever
 *
 * Fields an event does not carry keep their stored values. Entitlement is computed when
 * read: status in (active, cancelled, billing_issue, paused) and expiry unset or ahead.
 *
 * Each event is one transaction: the event id is recorded in account.webhook_events
 * first, so a redelivery is answered "duplicate" and changes nothing. The user named by
 * app_user_id (else original_app_user_id) is created when unknown; a deleted user is
 * left alone ("ignored"). An event older (event_timestamp_ms) than the last one applied
 * to a subscription does not change it ("ignored"), so late deliveries cannot regress
 * the state.
 */
#include "user_service.h"

#include "store.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { T_APPLY, T_TRANSFER, T_IGNORE } transition_kind;

typedef struct {
    const char *type;
    transition_kind kind;
    const char *status;  /* NULL: unchanged (a new row starts active) */
    bool new_period;     /* replace the expiry, even with "none" */
    bool product_change; /* the product is new_product_id, not product_id */
} transition;

static const transition transitions[] = {
    {"INITIAL_PURCHASE", T_APPLY, "active", true, false},
    {"RENEWAL", T_APPLY, "active", true, false},
    {"NON_RENEWING_PURCHASE", T_APPLY, "active", true, false},
    {"UNCANCELLATION", T_APPLY, "active", false, false},
    {"SUBSCRIPTION_EXTENDED", T_APPLY, "active", false, false},
    {"CANCELLATION", T_APPLY, "cancelled", false, false},
    {"BILLING_ISSUE", T_APPLY, "billing_issue", false, false},
    {"SUBSCRIPTION_PAUSED", T_APPLY, "paused", false, false},
    {"EXPIRATION", T_APPLY, "expired", false, false},
    {"PRODUCT_CHANGE", T_APPLY, NULL, false, true},
    {"TRANSFER", T_TRANSFER, NULL, false, false},
    {"TEST", T_IGNORE, NULL, false, false},
};

static const transition unknown_type = {"", T_IGNORE, NULL, false, false};

static const transition *transition_for(const char *type)
{
    for (size_t i = 0; i < sizeof transitions / sizeof transitions[0]; i++)
        if (strcmp(transitions[i].type, type) == 0)
            return &transitions[i];
    return &unknown_type;
}

typedef struct {
    vt_rpc_ctx *ctx;
    const Venta__User__V1__ApplySubscriptionEventRequest *req;
    const transition *t;
    const char *event_id;
    const char *user_id; /* app_user_id, else original_app_user_id */
    int64_t ts;          /* the event's time, ms */
    outbox ob;
    const char *result;
    /* users whose subscription changed, by Clerk id */
    const char *changed[2 * TRANSFER_USERS_MAX + 1];
    Venta__User__V1__User *users[2 * TRANSFER_USERS_MAX + 1]; /* as committed */
    size_t nchanged;
} apply_job;

static const char *const R_APPLIED = "applied", *const R_DUPLICATE = "duplicate",
                         *const R_IGNORED = "ignored";

static void mark_changed(apply_job *job, const char *clerk_id)
{
    for (size_t i = 0; i < job->nchanged; i++)
        if (strcmp(job->changed[i], clerk_id) == 0)
            return;
    if (job->nchanged < sizeof job->changed / sizeof job->changed[0])
        job->changed[job->nchanged++] = clerk_id;
}

/* The user's row id, creating the user when unknown; *deleted when it is a tombstone. */
static int ensure_user(apply_job *job, vt_db_conn *c, const char *clerk_id, char *row_id,
                       bool *deleted, char *err, size_t errlen)
{
    const char *params[] = {clerk_id};
    PGresult *res;
    int rc = vt_db_query(c, "user_from_subscription", 1, params, &res, err, errlen);
    if (rc != VT_OK)
        return rc;
    *deleted = false;
    if (PQntuples(res) == 1) {
        snprintf(row_id, VT_UUID_LEN + 1, "%s", PQgetvalue(res, 0, 0));
        PQclear(res);
        outbox_user_event(job->ctx, &job->ob, EV_USER_CREATED, clerk_id, NULL);
        return VT_OK;
    }
    PQclear(res);
    int64_t deleted_ms, version_ms;
    return user_lock_row(c, clerk_id, row_id, deleted, &deleted_ms, &version_ms, err, errlen);
}

static int refresh_entitled(vt_db_conn *c, const char *sub_id, char *err, size_t errlen)
{
    const char *params[] = {sub_id};
    PGresult *res;
    int rc = vt_db_query(c, "sub_entitled", 1, params, &res, err, errlen);
    PQclear(res);
    return rc;
}

/* A text[] literal of items, in the call's arena. */
static char *text_array(vt_rpc_ctx *ctx, char *const *items, size_t n)
{
    size_t len = store_text_array_encode(items, n, NULL, 0);
    char *out = vt_rpc_ctx_alloc(ctx, len + 1);
    store_text_array_encode(items, n, out, len + 1);
    return out;
}

static int apply_one(apply_job *job, vt_db_conn *c, char *err, size_t errlen)
{
    const Venta__User__V1__ApplySubscriptionEventRequest *req = job->req;
    char row_id[VT_UUID_LEN + 1];
    bool deleted;
    int rc = ensure_user(job, c, job->user_id, row_id, &deleted, err, errlen);
    if (rc != VT_OK)
        return rc;
    if (deleted) {
        vt_info(vt_rpc_ctx_log(job->ctx), "subscription event %s for deleted user %s ignored",
                job->event_id, job->user_id);
        return VT_OK;
    }
    const char *product = job->t->product_change ? req->new_product_id : req->product_id;
    char purchased[24], expires[24], ts[24];
    const char *params[] = {
        row_id,
        *product ? product : NULL,
        req->n_entitlement_ids ? text_array(job->ctx, req->entitlement_ids, req->n_entitlement_ids)
                               : NULL,
        job->t->status,
        *req->period_type ? req->period_type : NULL,
        *req->store ? req->store : NULL,
        *req->environment ? req->environment : NULL,
        store_ms(req->purchased_at_ms, purchased),
        store_ms(req->expiration_at_ms, expires),
        job->t->new_period ? "true" : "false",
        job->event_id,
        req->type,
        store_ms(job->ts, ts),
    };
    PGresult *res;
    rc = vt_db_query(c, "sub_apply", 13, params, &res, err, errlen);
    if (rc != VT_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        vt_info(vt_rpc_ctx_log(job->ctx),
                "subscription event %s (%s) for %s is older than the last applied, ignored",
                job->event_id, req->type, job->user_id);
        return VT_OK;
    }
    char sub_id[VT_UUID_LEN + 1];
    snprintf(sub_id, sizeof sub_id, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    rc = refresh_entitled(c, sub_id, err, errlen);
    if (rc != VT_OK)
        return rc;
    mark_changed(job, job->user_id);
    return VT_OK;
}

static bool listed(char *const *items, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(items[i], id) == 0)
            return true;
    return false;
}

static int apply_transfer(apply_job *job, vt_db_conn *c, char *err, size_t errlen)
{
    const Venta__User__V1__ApplySubscriptionEventRequest *req = job->req;
    const char *from = text_array(job->ctx, req->transferred_from, req->n_transferred_from);
    PGresult *res;
    int rc = vt_db_query(c, "sub_transfer_source", 1, &from, &res, err, errlen);
    if (rc != VT_OK)
        return rc;
    char source[VT_UUID_LEN + 1] = "";
    if (PQntuples(res) == 1)
        snprintf(source, sizeof source, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    char ts[24];
    store_ms(job->ts, ts);

    for (size_t i = 0; i < req->n_transferred_to; i++) {
        const char *to = req->transferred_to[i];
        if (listed(req->transferred_to, i, to) ||
            listed(req->transferred_from, req->n_transferred_from, to))
            continue; /* said twice, or on both sides: nothing moves */
        char row_id[VT_UUID_LEN + 1];
        bool deleted;
        rc = ensure_user(job, c, to, row_id, &deleted, err, errlen);
        if (rc != VT_OK)
            return rc;
        if (deleted || !*source)
            continue;
        const char *params[] = {row_id, source, job->event_id, ts};
        rc = vt_db_query(c, "sub_transfer_to", 4, params, &res, err, errlen);
        if (rc != VT_OK)
            return rc;
        char sub_id[VT_UUID_LEN + 1] = "";
        if (PQntuples(res) == 1)
            snprintf(sub_id, sizeof sub_id, "%s", PQgetvalue(res, 0, 0));
        PQclear(res);
        if (!*sub_id)
            continue; /* the receiver's subscription is newer than this event */
        rc = refresh_entitled(c, sub_id, err, errlen);
        if (rc != VT_OK)
            return rc;
        mark_changed(job, to);
    }
    if (!*source)
        return VT_OK;
    for (size_t i = 0; i < req->n_transferred_from; i++) {
        const char *id = req->transferred_from[i];
        if (listed(req->transferred_to, req->n_transferred_to, id))
            continue;
        const char *params[] = {id, job->event_id, ts};
        rc = vt_db_query(c, "sub_transfer_from", 3, params, &res, err, errlen);
        if (rc != VT_OK)
            return rc;
        bool changed = PQntuples(res) > 0;
        PQclear(res);
        if (changed)
            mark_changed(job, id);
    }
    return VT_OK;
}

static int apply_tx(vt_db_conn *c, void *arg, char *err, size_t errlen)
{
    apply_job *job = arg;
    const Venta__User__V1__ApplySubscriptionEventRequest *req = job->req;
    job->nchanged = 0;
    job->result = R_IGNORED;

    bool first;
    int rc = user_record_event(c, "revenuecat", job->event_id, *req->type ? req->type : "UNKNOWN",
                               &first, err, errlen);
    if (rc != VT_OK)
        return rc;
    if (!first) {
        job->result = R_DUPLICATE;
        return VT_OK;
    }
    if (job->t->kind == T_IGNORE)
        return VT_OK;
    rc = job->t->kind == T_TRANSFER ? apply_transfer(job, c, err, errlen)
                                    : apply_one(job, c, err, errlen);
    if (rc != VT_OK)
        return rc;
    if (job->nchanged > 0 || job->ob.n > 0)
        job->result = R_APPLIED;
    /* Announce each changed subscription as it now reads, entitlement included. */
    for (size_t i = 0; i < job->nchanged; i++) {
        Venta__User__V1__User *u;
        int64_t expires_ms = 0;
        rc = user_load(job->ctx, c, job->changed[i], &u, &expires_ms, err, errlen);
        if (rc != VT_OK)
            return rc;
        job->users[i] = u;
        outbox_subscription_changed(job->ctx, &job->ob, u, expires_ms, req->type, job->event_id);
    }
    return VT_OK;
}

static int check_ids(vt_rpc_ctx *ctx, const char *field, char *const *ids, size_t n, char *err,
                     size_t errlen)
{
    if (n > TRANSFER_USERS_MAX)
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT, "%s must list at most %d users", field,
                                TRANSFER_USERS_MAX);
    for (size_t i = 0; i < n; i++)
        if (validate_id(field, ids[i], USER_ID_MAX, true, err, errlen) != VT_OK)
            return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT, "%s", err);
    return VT_OK;
}

static int check_request(vt_rpc_ctx *ctx, const Venta__User__V1__ApplySubscriptionEventRequest *req,
                         const transition *t)
{
    char err[256];
    if (validate_text("type", req->type, 64, err, sizeof err) != VT_OK ||
        validate_text("productId", req->product_id, SHORT_TEXT_MAX, err, sizeof err) != VT_OK ||
        validate_text("newProductId", req->new_product_id, SHORT_TEXT_MAX, err, sizeof err) !=
            VT_OK ||
        validate_text("periodType", req->period_type, 64, err, sizeof err) != VT_OK ||
        validate_text("store", req->store, 64, err, sizeof err) != VT_OK ||
        validate_text("environment", req->environment, 64, err, sizeof err) != VT_OK ||
        validate_text("cancelReason", req->cancel_reason, SHORT_TEXT_MAX, err, sizeof err) !=
            VT_OK ||
        validate_text("expirationReason", req->expiration_reason, SHORT_TEXT_MAX, err,
                      sizeof err) != VT_OK)
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT, "%s", err);
    if (req->n_entitlement_ids > ENTITLEMENTS_MAX)
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT,
                                "entitlementIds must list at most %d entitlements",
                                ENTITLEMENTS_MAX);
    for (size_t i = 0; i < req->n_entitlement_ids; i++)
        if (validate_text("entitlementIds", req->entitlement_ids[i], 128, err, sizeof err) != VT_OK)
            return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT, "%s", err);
    if (req->purchased_at_ms < 0 || req->expiration_at_ms < 0 || req->event_timestamp_ms < 0)
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT,
                                "purchasedAtMs, expirationAtMs and eventTimestampMs must not "
                                "be negative");
    if (t->kind == T_TRANSFER) {
        if (req->n_transferred_to == 0)
            return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT,
                                    "transferredTo is required for TRANSFER");
        if (check_ids(ctx, "transferredFrom", req->transferred_from, req->n_transferred_from, err,
                      sizeof err) != VT_OK ||
            check_ids(ctx, "transferredTo", req->transferred_to, req->n_transferred_to, err,
                      sizeof err) != VT_OK)
            return VT_INVALID_ARGUMENT;
    } else if (t->kind == T_APPLY) {
        const char *user = *req->app_user_id ? req->app_user_id : req->original_app_user_id;
        if (validate_id(*req->app_user_id ? "appUserId" : "appUserId (or originalAppUserId)", user,
                        USER_ID_MAX, true, err, sizeof err) != VT_OK)
            return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT, "%s", err);
    }
    return VT_OK;
}

int apply_subscription_event(vt_rpc_ctx *ctx, const ProtobufCMessage *in_msg,
                             ProtobufCMessage *out_msg, void *user)
{
    user_service *svc = user;
    const Venta__User__V1__ApplySubscriptionEventRequest *req = (const void *)in_msg;
    Venta__User__V1__ApplySubscriptionEventResponse *out = (void *)out_msg;
    const char *event_id = *req->provider_event_id ? req->provider_event_id : req->id;
    char err[512];
    if (validate_id(*req->provider_event_id ? "providerEventId" : "providerEventId (or id)",
                    event_id, EVENT_ID_MAX, true, err, sizeof err) != VT_OK)
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT, "%s", err);
    const transition *t = transition_for(req->type);
    int rc = check_request(ctx, req, t);
    if (rc != VT_OK)
        return rc;

    apply_job *job = vt_rpc_ctx_alloc(ctx, sizeof *job);
    memset(job, 0, sizeof *job);
    job->ctx = ctx;
    job->req = req;
    job->t = t;
    job->event_id = event_id;
    job->user_id = *req->app_user_id ? req->app_user_id : req->original_app_user_id;
    job->ts = req->event_timestamp_ms > 0 ? req->event_timestamp_ms : vt_now_ms();
    rc = user_tx(ctx, apply_tx, job, &job->ob, err, sizeof err);
    if (rc != VT_OK)
        return vt_service_db_error(ctx, "user store", rc, err);
    if (job->result == R_DUPLICATE)
        vt_counter_inc(svc->duplicates[1]);
    outbox_committed(svc, ctx, &job->ob);

    out->result = (char *)job->result;
    out->n_users = job->nchanged;
    out->users = job->nchanged ? job->users : NULL;
    return VT_OK;
}
