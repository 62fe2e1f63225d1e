/*
 * handlers.c — UpsertUser, DeleteUser, GetUser and ListUserVendors (API.md §3, §5), the
 * outbox of domain events (§6) and the registration of every method.
 *
 * Clerk webhooks. Each one is a READ COMMITTED transaction: record the svix id in
 * account.webhook_events (ON CONFLICT DO NOTHING), then apply the effect. When the
 * record already existed the delivery is a duplicate and nothing else happens, so a
 * redelivery changes nothing and, because the record commits with the effect, a crash
 * before the commit loses nothing (the sender retries and finds no record).
 *
 * Ordering. Clerk sends the whole user each time with its updated_at; the row keeps the
 * updated_at it was built from (clerk_updated_at) and an older profile is not applied.
 * A deleted user stays as a tombstone (deleted_at, personal data cleared, subscription
 * removed): GetUser answers NOT_FOUND, user.updated changes nothing (UpsertUser then
 * answers OK without a user, so that Clerk stops retrying), and only a
 * user.created whose timestamp is newer than the deletion revives the row (a
 * redelivered user.created from before the deletion therefore cannot undo it). A
 * user.deleted for an id never seen leaves a tombstone for the same reason.
 *
 * Events: evt.user.created when a call creates or revives a row, evt.user.updated when it
 * changes a live one, evt.user.deleted when a user (or an unknown id) becomes deleted —
 * venta-vendor takes the owner's vendors offline on it. Published after the commit;
 * duplicates and stale events publish nothing.
 */
#include "user_service.h"

#include "store.h"
#include "validate.h"
#include "venta/vendor/v1/vendor.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const event_subjects[EV_COUNT] = {
    "evt.user.created",
    "evt.user.updated",
    "evt.user.deleted",
    "evt.subscription.changed",
};

static vt_db_conn *db(vt_rpc_ctx *ctx)
{
    return vt_rpc_ctx_worker(ctx);
}

/* SQL NULL for an absent (empty) optional string. */
static const char *nullable(const char *s)
{
    return s && *s ? s : NULL;
}

/* ---- reading users ---- */

static char *col(vt_rpc_ctx *ctx, PGresult *res, int c)
{
    return vt_rpc_ctx_strdup(ctx, PQgetvalue(res, 0, c));
}

int user_load(vt_rpc_ctx *ctx, vt_db_conn *c, const char *id, Venta__User__V1__User **out,
              int64_t *expires_ms, char *err, size_t errlen)
{
    *out = NULL;
    PGresult *res;
    const char *params[] = {id};
    int rc = vt_db_query(c, "user_get", 1, params, &res, err, errlen);
    if (rc != VT_OK)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        snprintf(err, errlen, "user %s not found", id);
        return VT_NOT_FOUND;
    }
    Venta__User__V1__User *u = vt_rpc_ctx_alloc(ctx, sizeof *u);
    venta__user__v1__user__init(u);
    u->id = col(ctx, res, STORE_U_ID);
    u->email = col(ctx, res, STORE_U_EMAIL);
    u->first_name = col(ctx, res, STORE_U_FIRST_NAME);
    u->last_name = col(ctx, res, STORE_U_LAST_NAME);
    u->image_url = col(ctx, res, STORE_U_IMAGE_URL);
    u->created_at = col(ctx, res, STORE_U_CREATED_AT);
    u->updated_at = col(ctx, res, STORE_U_UPDATED_AT);
    u->entitled = strcmp(PQgetvalue(res, 0, STORE_S_ENTITLED), "t") == 0;

    Venta__User__V1__Subscription *s = vt_rpc_ctx_alloc(ctx, sizeof *s);
    venta__user__v1__subscription__init(s);
    s->status = col(ctx, res, STORE_S_STATUS);
    s->product_id = col(ctx, res, STORE_S_PRODUCT_ID);
    s->expires_at = col(ctx, res, STORE_S_EXPIRES_AT);
    s->purchased_at = col(ctx, res, STORE_S_PURCHASED_AT);
    s->period_type = col(ctx, res, STORE_S_PERIOD_TYPE);
    s->store = col(ctx, res, STORE_S_STORE);
    s->environment = col(ctx, res, STORE_S_ENVIRONMENT);
    s->updated_at = col(ctx, res, STORE_S_UPDATED_AT);
    const char *literal = PQgetvalue(res, 0, STORE_S_ENTITLEMENT_IDS);
    size_t len = strlen(literal);
    char *buf = vt_rpc_ctx_alloc(ctx, len + 1);
    char **items = vt_rpc_ctx_alloc(ctx, (len / 2 + 1) * sizeof *items);
    long n = store_text_array_decode(literal, buf, items);
    if (n > 0) {
        s->n_entitlement_ids = (size_t)n;
        s->entitlement_ids = items;
        s->entitlement = items[0];
    }
    if (expires_ms)
        *expires_ms = strtoll(PQgetvalue(res, 0, STORE_S_EXPIRES_MS), NULL, 10);
    u->subscription = s;
    PQclear(res);
    *out = u;
    return VT_OK;
}

/* ---- the outbox ---- */

static bool outbox_add(outbox *o, int kind, ProtobufCMessage *msg)
{
    if (o->n >= sizeof o->msgs / sizeof o->msgs[0]) {
        o->dropped++;
        return false;
    }
    o->kinds[o->n] = kind;
    o->msgs[o->n++] = msg;
    return true;
}

void outbox_user_event(vt_rpc_ctx *ctx, outbox *o, int kind, const char *user_id,
                       const Venta__User__V1__User *profile)
{
    static const char *const types[] = {"created", "updated", "deleted"};
    Venta__Events__V1__UserEvent *e = vt_rpc_ctx_alloc(ctx, sizeof *e);
    venta__events__v1__user_event__init(e);
    e->type = (char *)types[kind];
    e->user_id = vt_rpc_ctx_strdup(ctx, user_id);
    if (profile) {
        e->email = profile->email;
        e->first_name = profile->first_name;
        e->last_name = profile->last_name;
    }
    e->ts = vt_now_ms();
    e->request_id = (char *)vt_rpc_ctx_request_id(ctx);
    outbox_add(o, kind, &e->base);
}

void outbox_subscription_changed(vt_rpc_ctx *ctx, outbox *o, const Venta__User__V1__User *user,
                                 int64_t expires_ms, const char *event_type,
                                 const char *provider_event_id)
{
    Venta__Events__V1__SubscriptionChanged *e = vt_rpc_ctx_alloc(ctx, sizeof *e);
    venta__events__v1__subscription_changed__init(e);
    e->user_id = user->id;
    e->status = user->subscription->status;
    e->product_id = user->subscription->product_id;
    e->n_entitlement_ids = user->subscription->n_entitlement_ids;
    e->entitlement_ids = user->subscription->entitlement_ids;
    e->entitled = user->entitled;
    e->expires_at_ms = expires_ms;
    e->event_type = vt_rpc_ctx_strdup(ctx, event_type);
    e->provider_event_id = vt_rpc_ctx_strdup(ctx, provider_event_id);
    e->ts = vt_now_ms();
    e->request_id = (char *)vt_rpc_ctx_request_id(ctx);
    outbox_add(o, EV_SUBSCRIPTION_CHANGED, &e->base);
}

typedef struct {
    vt_db_tx_fn fn;
    void *job;
    outbox *ob;
} outbox_tx;

/* One attempt: fn with an empty outbox, then its events into account.outbox. */
static int outbox_tx_attempt(vt_db_conn *c, void *arg, char *err, size_t errlen)
{
    outbox_tx *t = arg;
    t->ob->n = t->ob->dropped = 0;
    int rc = t->fn(c, t->job, err, errlen);
    for (size_t i = 0; rc == VT_OK && i < t->ob->n; i++)
        rc = vt_outbox_put(c, event_subjects[t->ob->kinds[i]], t->ob->msgs[i], err, errlen);
    return rc;
}

int user_tx(vt_rpc_ctx *ctx, vt_db_tx_fn fn, void *job, outbox *ob, char *err, size_t errlen)
{
    outbox_tx t = {.fn = fn, .job = job, .ob = ob};
    return vt_db_tx(vt_rpc_ctx_worker(ctx), "READ COMMITTED", 5, outbox_tx_attempt, &t, err,
                    errlen);
}

void outbox_committed(user_service *svc, vt_rpc_ctx *ctx, const outbox *o)
{
    if (o->n)
        vt_outbox_relay_kick(svc->outbox);
    if (o->dropped)
        vt_error(vt_rpc_ctx_log(ctx), "outbox full: %zu events not recorded", o->dropped);
}

/* ---- shared checks ---- */

static int check_clerk_event(vt_rpc_ctx *ctx, const char *event_id, const char *provider)
{
    char err[160];
    if (validate_id("webhookEventId", event_id, EVENT_ID_MAX, true, err, sizeof err) != VT_OK)
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT, "%s", err);
    if (*provider && strcmp(provider, "clerk") != 0)
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT, "provider must be \"clerk\"");
    return VT_OK;
}

int user_record_event(vt_db_conn *c, const char *provider, const char *event_id, const char *type,
                      bool *first, char *err, size_t errlen)
{
    const char *params[] = {provider, event_id, type};
    PGresult *res;
    int rc = vt_db_query(c, "event_record", 3, params, &res, err, errlen);
    if (rc != VT_OK)
        return rc;
    *first = PQntuples(res) == 1;
    PQclear(res);
    return VT_OK;
}

int user_lock_row(vt_db_conn *c, const char *clerk_id, char *row_id, bool *deleted,
                  int64_t *deleted_ms, int64_t *version_ms, char *err, size_t errlen)
{
    const char *params[] = {clerk_id};
    PGresult *res;
    int rc = vt_db_query(c, "user_lock", 1, params, &res, err, errlen);
    if (rc != VT_OK)
        return rc;
    if (PQntuples(res) != 1) { /* rows are never removed; a tombstone at least is there */
        PQclear(res);
        snprintf(err, errlen, "user %s vanished while locking it", clerk_id);
        return VT_INTERNAL;
    }
    snprintf(row_id, VT_UUID_LEN + 1, "%s", PQgetvalue(res, 0, 0));
    *deleted = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
    *deleted_ms = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
    *version_ms = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
    PQclear(res);
    return VT_OK;
}

/* ---- UpsertUser ---- */

typedef struct {
    vt_rpc_ctx *ctx;
    const Venta__User__V1__UpsertUserRequest *req;
    outbox ob;
    bool duplicate;
    Venta__User__V1__User *user; /* NULL when the user is deleted */
} upsert_job;

static int upsert_tx(vt_db_conn *c, void *arg, char *err, size_t errlen)
{
    upsert_job *job = arg;
    const Venta__User__V1__UpsertUserRequest *req = job->req;
    job->duplicate = false;
    job->user = NULL;

    bool first;
    int rc =
        user_record_event(c, "clerk", req->webhook_event_id,
                          *req->event_type ? req->event_type : "user.updated", &first, err, errlen);
    if (rc != VT_OK)
        return rc;
    if (!first) {
        job->duplicate = true;
        rc = user_load(job->ctx, c, req->id, &job->user, NULL, err, errlen);
        return rc == VT_NOT_FOUND ? VT_OK : rc;
    }

    int64_t version = req->updated_at_ms > 0 ? req->updated_at_ms : req->created_at_ms;
    char version_text[24], created_text[24];
    const char *params[] = {
        req->id,
        nullable(req->email),
        nullable(req->first_name),
        nullable(req->last_name),
        nullable(req->image_url),
        store_ms(version, version_text),
        store_ms(req->created_at_ms, created_text),
    };
    PGresult *res;
    rc = vt_db_query(c, "user_insert", 7, params, &res, err, errlen);
    if (rc != VT_OK)
        return rc;
    bool created = PQntuples(res) == 1;
    PQclear(res);

    int kind = EV_USER_CREATED;
    if (!created) {
        char row_id[VT_UUID_LEN + 1];
        bool deleted;
        int64_t deleted_ms, stored_ms;
        rc = user_lock_row(c, req->id, row_id, &deleted, &deleted_ms, &stored_ms, err, errlen);
        if (rc != VT_OK)
            return rc;
        bool apply;
        if (deleted) {
            apply = strcmp(req->event_type, "user.created") == 0 && version > deleted_ms;
            kind = EV_USER_CREATED;
        } else {
            apply = version <= 0 || stored_ms <= 0 || version >= stored_ms;
            kind = EV_USER_UPDATED;
        }
        if (!apply) {
            vt_info(vt_rpc_ctx_log(job->ctx),
                    "user %s: %s event %s is older than the stored "
                    "state, not applied",
                    req->id, deleted ? "deleted user," : "stale", req->webhook_event_id);
            if (!deleted) {
                rc = user_load(job->ctx, c, req->id, &job->user, NULL, err, errlen);
                return rc;
            }
            return VT_OK;
        }
        const char *update[] = {row_id,    params[1], params[2], params[3],
                                params[4], params[5], params[6]};
        rc = vt_db_query(c, "user_update", 7, update, &res, err, errlen);
        if (rc != VT_OK)
            return rc;
        PQclear(res);
    }
    rc = user_load(job->ctx, c, req->id, &job->user, NULL, err, errlen);
    if (rc != VT_OK)
        return rc;
    outbox_user_event(job->ctx, &job->ob, kind, req->id, job->user);
    return VT_OK;
}

static int upsert_user(vt_rpc_ctx *ctx, const ProtobufCMessage *in_msg, ProtobufCMessage *out_msg,
                       void *user)
{
    user_service *svc = user;
    const Venta__User__V1__UpsertUserRequest *req = (const void *)in_msg;
    Venta__User__V1__UpsertUserResponse *out = (void *)out_msg;
    int rc = check_clerk_event(ctx, req->webhook_event_id, req->provider);
    if (rc != VT_OK)
        return rc;
    char err[512];
    if (validate_id("id", req->id, USER_ID_MAX, true, err, sizeof err) != VT_OK ||
        validate_email("email", req->email, err, sizeof err) != VT_OK ||
        validate_text("firstName", req->first_name, NAME_MAX_CHARS, err, sizeof err) != VT_OK ||
        validate_text("lastName", req->last_name, NAME_MAX_CHARS, err, sizeof err) != VT_OK ||
        validate_text("imageUrl", req->image_url, IMAGE_URL_MAX, err, sizeof err) != VT_OK)
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT, "%s", err);
    if (*req->event_type && strcmp(req->event_type, "user.created") != 0 &&
        strcmp(req->event_type, "user.updated") != 0)
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT,
                                "eventType must be \"user.created\" or \"user.updated\"");
    if (req->created_at_ms < 0 || req->updated_at_ms < 0)
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT,
                                "createdAt and updatedAt must not be negative");

    upsert_job job = {.ctx = ctx, .req = req};
    rc = user_tx(ctx, upsert_tx, &job, &job.ob, err, sizeof err);
    if (rc != VT_OK)
        return vt_service_db_error(ctx, "user store", rc, err);
    if (job.duplicate)
        vt_counter_inc(svc->duplicates[0]);
    outbox_committed(svc, ctx, &job.ob);
    out->user = job.user;
    out->duplicate = job.duplicate;
    return VT_OK;
}

/* ---- DeleteUser ---- */

typedef struct {
    vt_rpc_ctx *ctx;
    const Venta__User__V1__DeleteUserRequest *req;
    outbox ob;
    bool duplicate, deleted;
} delete_job;

static int delete_tx(vt_db_conn *c, void *arg, char *err, size_t errlen)
{
    delete_job *job = arg;
    const char *id = job->req->id;
    job->duplicate = job->deleted = false;

    bool first;
    int rc = user_record_event(c, "clerk", job->req->webhook_event_id, "user.deleted", &first, err,
                               errlen);
    if (rc != VT_OK || !first) {
        job->duplicate = rc == VT_OK;
        return rc;
    }
    const char *params[] = {id};
    PGresult *res;
    rc = vt_db_query(c, "user_tombstone", 1, params, &res, err, errlen);
    if (rc != VT_OK)
        return rc;
    bool unknown = PQntuples(res) == 1;
    PQclear(res);
    if (!unknown) {
        char row_id[VT_UUID_LEN + 1];
        bool deleted;
        int64_t deleted_ms, version_ms;
        rc = user_lock_row(c, id, row_id, &deleted, &deleted_ms, &version_ms, err, errlen);
        if (rc != VT_OK || deleted)
            return rc; /* already deleted: nothing changes, nothing to announce */
        const char *row[] = {row_id};
        rc = vt_db_query(c, "user_delete", 1, row, &res, err, errlen);
        if (rc != VT_OK)
            return rc;
        PQclear(res);
        rc = vt_db_query(c, "sub_delete_all", 1, row, &res, err, errlen);
        if (rc != VT_OK)
            return rc;
        PQclear(res);
        job->deleted = true;
    }
    /* Also for an id we never saw: venta-vendor may hold vendors of that owner. */
    outbox_user_event(job->ctx, &job->ob, EV_USER_DELETED, id, NULL);
    return VT_OK;
}

static int delete_user(vt_rpc_ctx *ctx, const ProtobufCMessage *in_msg, ProtobufCMessage *out_msg,
                       void *user)
{
    user_service *svc = user;
    const Venta__User__V1__DeleteUserRequest *req = (const void *)in_msg;
    Venta__User__V1__DeleteUserResponse *out = (void *)out_msg;
    int rc = check_clerk_event(ctx, req->webhook_event_id, req->provider);
    if (rc != VT_OK)
        return rc;
    char err[512];
    if (validate_id("id", req->id, USER_ID_MAX, true, err, sizeof err) != VT_OK)
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT, "%s", err);
    delete_job job = {.ctx = ctx, .req = req};
    rc = user_tx(ctx, delete_tx, &job, &job.ob, err, sizeof err);
    if (rc != VT_OK)
        return vt_service_db_error(ctx, "user store", rc, err);
    if (job.duplicate)
        vt_counter_inc(svc->duplicates[0]);
    outbox_committed(svc, ctx, &job.ob);
    out->deleted = job.deleted;
    out->duplicate = job.duplicate;
    return VT_OK;
}

/* ---- GetUser ---- */

static int get_user(vt_rpc_ctx *ctx, const ProtobufCMessage *in_msg, ProtobufCMessage *out_msg,
                    void *user)
{
    const Venta__User__V1__GetUserRequest *req = (const void *)in_msg;
    char err[512];
    if (validate_id("id", req->id, USER_ID_MAX, true, err, sizeof err) != VT_OK)
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT, "%s", err);
    Venta__User__V1__User *u;
    int rc = user_load(ctx, db(ctx), req->id, &u, NULL, err, sizeof err);
    if (rc == VT_NOT_FOUND)
        return vt_rpc_ctx_error(ctx, rc, "user %s not found", req->id);
    if (rc != VT_OK)
        return vt_service_db_error(ctx, "user store", rc, err);
    /* The response message is pre-initialised; copy the fields over. */
    Venta__User__V1__User *out = (void *)out_msg;
    ProtobufCMessage base = out->base;
    *out = *u;
    out->base = base;
    return VT_OK;
}

/* ---- ListUserVendors ---- */

static int list_user_vendors(vt_rpc_ctx *ctx, const ProtobufCMessage *in_msg,
                             ProtobufCMessage *out_msg, void *user)
{
    user_service *svc = user;
    const Venta__User__V1__ListUserVendorsRequest *req = (const void *)in_msg;
    Venta__User__V1__ListUserVendorsResponse *out = (void *)out_msg;
    char err[512];
    if (validate_id("userId", req->user_id, USER_ID_MAX, true, err, sizeof err) != VT_OK)
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT, "%s", err);
    if (req->page_size < 0)
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT, "pageSize must not be negative");

    /* Ownership lives with the vendors: a caller with no user row yet (its Clerk
     * webhook still on its way) may already own some, and a stranger owns none. */
    Venta__Vendor__V1__ListVendorsRequest lv = VENTA__VENDOR__V1__LIST_VENDORS_REQUEST__INIT;
    lv.owner_id = req->user_id;
    lv.page_size = req->page_size;
    lv.page_token = req->page_token;
    /* The caller's deadline and request id travel on (parent); a read is safe to retry
     * while the vendor service restarts, within that deadline. The default five attempts
     * (pauses 25 ms doubling, ~0.4–0.75 s in all) outlast grpc's first reconnect backoff
     * (100 ms): a failed first connection, as a just-started venta-user's can be under
     * load, is then tried again before the call gives up. Three did not. */
    /* The owner travels in the request; x-user-id does not travel on: with mTLS only
     * the gateways may say on whose behalf a call is made (docs/security.md). */
    vt_rpc_call_opts o = {
        .timeout_ms = svc->vendor_timeout_ms, .parent = ctx, .user_id = "", .idempotent = true};
    vt_rpc_reply *reply;
    int rc = vt_rpc_call_unary(svc->vendor, &venta__vendor__v1__vendor_service__descriptor,
                               "ListVendors", &lv.base, &o, &reply);
    if (rc != VT_OK) {
        vt_warn(vt_rpc_ctx_log(ctx), "vendor service ListVendors: %s %s", vt_status_name(rc),
                vt_rpc_reply_message(reply));
        switch (rc) {
        case VT_UNAVAILABLE:
        case VT_DEADLINE_EXCEEDED:
        case VT_CANCELLED:
        case VT_RESOURCE_EXHAUSTED:
            rc = vt_rpc_ctx_error(ctx, rc, "vendor service: %s", vt_rpc_reply_message(reply));
            break;
        case VT_INVALID_ARGUMENT: /* the caller's paging input: its own words, as they were */
            rc = vt_rpc_ctx_error(ctx, rc, "%s", vt_rpc_reply_message(reply));
            break;
        default:
            rc = vt_rpc_ctx_error(ctx, VT_INTERNAL, "vendor service failed (%s)",
                                  vt_status_name(rc));
        }
        vt_rpc_reply_free(reply);
        return rc;
    }
    /* The reply is freed here; the response must live in the call's arena. */
    const ProtobufCMessage *resp = vt_rpc_reply_response(reply);
    size_t len = protobuf_c_message_get_packed_size(resp);
    uint8_t *bytes = vt_rpc_ctx_alloc(ctx, len ? len : 1);
    protobuf_c_message_pack(resp, bytes);
    vt_rpc_reply_free(reply);
    Venta__Vendor__V1__ListVendorsResponse *copy =
        venta__vendor__v1__list_vendors_response__unpack(vt_rpc_ctx_allocator(ctx), len, bytes);
    if (!copy)
        return vt_rpc_ctx_error(ctx, VT_INTERNAL, "cannot copy the vendor list");
    out->n_vendors = copy->n_vendors;
    out->vendors = copy->vendors;
    out->next_page_token = copy->next_page_token;
    return VT_OK;
}

/* ---- registration ---- */

int user_service_register(user_service *app, vt_service *svc)
{
    app->outbox = svc->outbox;
    app->duplicates[0] =
        vt_metrics_counter(svc->metrics, "venta_user_webhook_duplicates_total",
                           "Webhook events delivered again and ignored.", "provider=\"clerk\"");
    app->duplicates[1] = vt_metrics_counter(svc->metrics, "venta_user_webhook_duplicates_total",
                                            "Webhook events delivered again and ignored.",
                                            "provider=\"revenuecat\"");
    if (!app->duplicates[0] || !app->duplicates[1])
        return VT_INTERNAL;
    static const vt_rpc_method_entry table[] = {
        {"UpsertUser", upsert_user, 0, NULL},
        {"DeleteUser", delete_user, 0, NULL},
        {"GetUser", get_user, 0, NULL},
        {"ApplySubscriptionEvent", apply_subscription_event, 0, NULL},
        {"ListUserVendors", list_user_vendors, 0, NULL},
        {NULL, NULL, 0, NULL},
    };
    return vt_service_add_methods(svc, &venta__user__v1__user_service__descriptor, table, app);
}
