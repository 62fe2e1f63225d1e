/*
 * import_write.c — see import_write.h.
 *
 * Each row is decided under a row lock (SELECT … FOR UPDATE of our row, or the insert
 * that creates it), so a service writing the same row meanwhile waits for the batch,
 * and the comparison and the write see one state. The decisions:
 *
 *   users          keyed by clerk_id. New: inserted (created_at from the original).
 *                  Existing: created_at moves to the original's when earlier, else
 *                  unchanged. A user deleted here stays deleted (skipped).
 *   vendors        keyed by id, owned by the clerkId of the user with the same id.
 *                  New: inserted, unless the owner was deleted here (vendor.deleted_owners,
 *                  as CreateVendor refuses). Existing: skipped when deleted here or owned
 *                  by someone else; unchanged when equal; skipped (ours kept) when our
 *                  row changed after the original's updatedAt; otherwise updated, and
 *                  updated_at becomes the original's. Creation takes the owner's advisory
 *                  lock, as venta-vendor's does.
 *   locations      lat/long → vendor.vendors.last_location and location.vendor_locations
 *                  (offline, reported and stored at the vendor's updatedAt: a last known
 *                  position, not a live one). An older one never replaces a newer one,
 *                  and a vendor venta-location saw deleted gets none.
 *   subscriptions  one per user (provider revenuecat). last_event_at is the original
 *                  row's updatedAt; a subscription here with a newer event is kept.
 *   integrations   each RevenueCat event id becomes an account.webhook_events row, so a
 *                  redelivery of that INITIAL_PURCHASE is a duplicate here too.
 */
#include "import_write.h"

#include "venta/events/v1/events.pb-c.h"
#include "vt_db.h"
#include "vt_outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TS(p) "to_timestamp(" p "::int8 / 1000.0)"
#define POINT "ST_SetSRID(ST_MakePoint($3::float8, $2::float8), 4326)"
/* The same expression as venta-user's (apps/user/store.c). */
#define ENTITLED(s)                                                                                \
    "(" s ".status IN ('active', 'cancelled', 'billing_issue', 'paused') AND (" s                  \
    ".expires_at IS NULL OR " s ".expires_at > now()))"

enum { N_ACCOUNT = 9, N_VENDOR = 7 };

static const vt_db_statement account_sql[N_ACCOUNT - 1] = {
    {"user_insert", "INSERT INTO account.users (clerk_id, created_at) VALUES ($1::text, " TS(
                        "$2") ") ON CONFLICT (clerk_id) DO NOTHING RETURNING id::text"},
    /* id, deleted?, is the original's created_at earlier than ours? */
    {"user_lock", "SELECT id::text, deleted_at IS NOT NULL, created_at > " TS(
                      "$2") " "
                            "FROM account.users WHERE clerk_id = $1::text FOR UPDATE"},
    {"user_created_at",
     "UPDATE account.users SET created_at = " TS("$2") ", updated_at = now() WHERE id = $1::uuid"},
    /* $1 row id, $2 status, $3 product, $4 transaction, $5 event id, $6 expires ms,
     * $7 the original's updatedAt ms: id, has a newer event?, equal? */
    {"sub_lock",
     "SELECT s.id::text, s.last_event_at IS NOT NULL AND s.last_event_at > " TS(
         "$7") ", "
               "(s.status, s.product_id, s.original_transaction_id, s.last_event_id, s.expires_at) "
               "IS NOT DISTINCT FROM ($2::text, $3::text, $4::text, $5::text, " TS(
                   "$6") ") "
                         "FROM account.subscriptions s WHERE s.user_id = $1::uuid AND s.provider = "
                         "'revenuecat' "
                         "FOR UPDATE"},
    {"sub_insert",
     "INSERT INTO account.subscriptions (user_id, provider, status, product_id, "
     "original_transaction_id, last_event_id, expires_at, last_event_type, last_event_at) "
     "VALUES ($1::uuid, 'revenuecat', $2::text, $3::text, $4::text, $5::text, " TS(
         "$6") ", "
               "'IMPORT', " TS("$7") ") RETURNING id::text"},
    {"sub_update", "UPDATE account.subscriptions SET status = $2::text, product_id = $3::text, "
                   "original_transaction_id = $4::text, last_event_id = $5::text, expires_at = " TS(
                       "$6") ", "
                             "last_event_type = 'IMPORT', last_event_at = " TS(
                                 "$7") ", updated_at = now() "
                                       "WHERE id = $1::uuid RETURNING id::text"},
    {"sub_entitled", "UPDATE account.subscriptions s SET entitled = " ENTITLED(
                         "s") " "
                              "WHERE s.id = $1::uuid RETURNING s.entitled"},
    {"event_record",
     "INSERT INTO account.webhook_events (provider, event_id, event_type, received_at, "
     "processed_at) VALUES ('revenuecat', $1::text, 'INITIAL_PURCHASE', " TS("$2") ", " TS(
         "$2") ") ON CONFLICT (provider, event_id) DO NOTHING RETURNING 1"},
};

#define VENDOR_EVENT_COLUMNS "v.id::text, v.owner_id, v.name, v.is_open"
#define PROFILE_PARAMS                                                                             \
    "$3::text, $4::text, nullif($5::text, ''), nullif($6::text, ''), nullif($7::text, ''), "       \
    "nullif($8::text, ''), $9::bool"

static const vt_db_statement vendor_sql[N_VENDOR - 1] = {
    /* venta-vendor's lock_owner (apps/vendor/store.c). */
    {"lock_owner", "SELECT pg_advisory_xact_lock(hashtext('vendor.owner'), hashtext($1::text))"},
    /* $1 id, $2 owner, $3..$9 profile, $10 the original's updatedAt ms: owner, deleted?,
     * changed here after it?, equal? */
    {"vendor_lock",
     "SELECT v.owner_id, v.deleted_at IS NOT NULL, v.updated_at > " TS(
         "$10") ", "
                "(v.owner_id, v.name, v.description, v.email, v.phone, v.website, v.profile_image, "
                "v.is_open) IS NOT DISTINCT FROM ($2::text, " PROFILE_PARAMS ") "
                "FROM vendor.vendors v WHERE v.id = $1::uuid FOR UPDATE"},
    /* As venta-vendor's insert, with the id and times given; $11 createdAt ms. */
    {"vendor_insert",
     "INSERT INTO vendor.vendors AS v (id, owner_id, name, description, email, phone, website, "
     "profile_image, is_open, created_at, updated_at) SELECT $1::uuid, $2::text, " PROFILE_PARAMS
     ", " TS("$11") ", " TS("$10") " WHERE NOT EXISTS (SELECT 1 FROM vendor.deleted_owners d "
                                   "WHERE d.owner_id = $2::text) "
                                   "ON CONFLICT (id) DO NOTHING RETURNING " VENDOR_EVENT_COLUMNS},
    {"vendor_update",
     "UPDATE vendor.vendors v SET name = $3::text, description = $4::text, "
     "email = nullif($5::text, ''), phone = nullif($6::text, ''), website = nullif($7::text, ''), "
     "profile_image = nullif($8::text, ''), is_open = $9::bool, updated_at = " TS(
         "$10") " "
                "WHERE v.id = $1::uuid AND v.owner_id = $2::text AND v.deleted_at IS NULL "
                "RETURNING " VENDOR_EVENT_COLUMNS},
    /* $1 id, $2 lat, $3 lng, $4 ms: venta-vendor's write_locations for one vendor. */
    {"last_location",
     "UPDATE vendor.vendors v SET last_location = " POINT "::geography, "
     "last_location_at = " TS("$4") " WHERE v.id = $1::uuid AND v.deleted_at IS NULL "
                                    "AND (v.last_location_at IS NULL OR v.last_location_at < " TS(
                                        "$4") ") RETURNING 1"},
    /* venta-location's upsert for one offline position: inserted? (false: updated). */
    {"location_upsert",
     "INSERT INTO location.vendor_locations AS l (vendor_id, position, online, reported_at, "
     "updated_at) SELECT $1::uuid, " POINT ", false, " TS("$4") ", " TS(
         "$4") " "
               "WHERE NOT EXISTS (SELECT 1 FROM location.deleted_vendors d WHERE d.vendor_id = "
               "$1::uuid) "
               "ON CONFLICT (vendor_id) DO UPDATE SET position = EXCLUDED.position, heading = "
               "NULL, "
               "speed = NULL, accuracy = NULL, reported_at = EXCLUDED.reported_at, "
               "updated_at = EXCLUDED.updated_at WHERE l.reported_at < EXCLUDED.reported_at "
               "RETURNING l.xmax = 0"},
};

struct import_write {
    vt_db_conn *conn[2];
    vt_db_statement statements[2][N_ACCOUNT];
    char outbox_sql[2][160];
    char request_id[80];
    import_report *report;
};

/* A statement table with the outbox's insert for table appended. */
static int statements_for(import_write *w, int k, const vt_db_statement *base, size_t n,
                          const char *table, char *err, size_t errlen)
{
    memcpy(w->statements[k], base, n * sizeof *base);
    if (vt_outbox_put_statement(table, w->outbox_sql[k], sizeof w->outbox_sql[k],
                                &w->statements[k][n]) != VT_OK) {
        snprintf(err, errlen, "bad outbox table %s", table);
        return VT_INTERNAL;
    }
    return VT_OK;
}

int import_write_new(const import_write_opts *opts, import_write **out, char *err, size_t errlen)
{
    import_write *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return VT_RESOURCE_EXHAUSTED;
    }
    w->report = opts->report;
    snprintf(w->request_id, sizeof w->request_id, "%s", opts->request_id ? opts->request_id : "");
    int rc = statements_for(w, IMPORT_ACCOUNT, account_sql, N_ACCOUNT - 1, "account.outbox", err,
                            errlen);
    if (rc == VT_OK)
        rc = statements_for(w, IMPORT_VENDOR_SCHEMA, vendor_sql, N_VENDOR - 1, "vendor.outbox", err,
                            errlen);
    size_t counts[2] = {N_ACCOUNT, N_VENDOR};
    for (int k = 0; k < 2 && rc == VT_OK; k++) {
        vt_db_conn_opts o = {
            .url = opts->url, .statements = w->statements[k], .statement_count = counts[k]};
        rc = vt_db_conn_new(&o, &w->conn[k], err, errlen);
        if (rc == VT_OK)
            rc = vt_db_conn_ensure(w->conn[k], err, errlen);
    }
    if (rc != VT_OK) {
        import_write_free(w);
        return rc;
    }
    *out = w;
    return VT_OK;
}

void import_write_free(import_write *w)
{
    if (!w)
        return;
    for (int k = 0; k < 2; k++)
        vt_db_conn_free(w->conn[k]);
    free(w);
}

int import_write_begin(import_write *w, import_schema s, char *err, size_t errlen)
{
    PGconn *pg = vt_db_conn_pg(w->conn[s]);
    if (!pg) {
        snprintf(err, errlen, "our database connection is down");
        return VT_UNAVAILABLE;
    }
    return vt_db_exec(pg, "BEGIN ISOLATION LEVEL READ COMMITTED", err, errlen);
}

int import_write_end(import_write *w, import_schema s, bool commit, char *err, size_t errlen)
{
    PGconn *pg = vt_db_conn_pg(w->conn[s]);
    if (!pg) {
        snprintf(err, errlen, "our database connection is down");
        return VT_UNAVAILABLE;
    }
    return vt_db_exec(pg, commit ? "COMMIT" : "ROLLBACK", err, errlen);
}

/* ---- helpers ---- */

static const char *ms_text(int64_t ms, char out[24])
{
    snprintf(out, 24, "%lld", (long long)ms);
    return out;
}

/* Run a statement; *res holds its rows (PQclear), or NULL when res is NULL. */
static int run(import_write *w, import_schema s, const char *name, int n, const char *const *p,
               PGresult **res, char *err, size_t errlen)
{
    PGresult *r = NULL;
    int rc = vt_db_query(w->conn[s], name, n, p, &r, err, errlen);
    if (rc != VT_OK || !res)
        PQclear(r);
    if (res)
        *res = rc == VT_OK ? r : NULL;
    return rc;
}

static int put_user_event(import_write *w, const char *type, const char *clerk_id, char *err,
                          size_t errlen)
{
    char subject[32];
    snprintf(subject, sizeof subject, "evt.user.%s", type);
    Venta__Events__V1__UserEvent ev = VENTA__EVENTS__V1__USER_EVENT__INIT;
    ev.type = (char *)type;
    ev.user_id = (char *)clerk_id;
    ev.ts = vt_now_ms();
    ev.request_id = w->request_id;
    return vt_outbox_put(w->conn[IMPORT_ACCOUNT], subject, &ev.base, err, errlen);
}

static int put_vendor_event(import_write *w, const char *type, PGresult *row, char *err,
                            size_t errlen)
{
    char subject[32];
    snprintf(subject, sizeof subject, "evt.vendor.%s", type);
    Venta__Events__V1__VendorEvent ev = VENTA__EVENTS__V1__VENDOR_EVENT__INIT;
    ev.type = (char *)type;
    ev.vendor_id = PQgetvalue(row, 0, 0);
    ev.owner_id = PQgetvalue(row, 0, 1);
    ev.name = PQgetvalue(row, 0, 2);
    ev.is_open = PQgetvalue(row, 0, 3)[0] == 't';
    ev.ts = vt_now_ms();
    ev.request_id = w->request_id;
    return vt_outbox_put(w->conn[IMPORT_VENDOR_SCHEMA], subject, &ev.base, err, errlen);
}

/* ---- users ---- */

int import_write_user(import_write *w, const import_user_row *u, char *err, size_t errlen)
{
    import_report *r = w->report;
    char why[IMPORT_WHY_LEN], created[24];
    if (import_check_clerk_id(u->clerk_id, why, sizeof why) != VT_OK) {
        import_report_skip(r, IMPORT_USERS, u->id, why);
        return VT_OK;
    }
    const char *p[2] = {u->clerk_id, ms_text(u->created_ms, created)};
    PGresult *res;
    int rc = run(w, IMPORT_ACCOUNT, "user_insert", 2, p, &res, err, errlen);
    if (rc != VT_OK)
        return rc;
    bool inserted = PQntuples(res) == 1;
    PQclear(res);
    if (inserted) {
        import_report_count(r, IMPORT_USERS, IMPORT_INSERTED);
        return put_user_event(w, "created", u->clerk_id, err, errlen);
    }
    rc = run(w, IMPORT_ACCOUNT, "user_lock", 2, p, &res, err, errlen);
    if (rc != VT_OK)
        return rc;
    if (PQntuples(res) != 1) { /* deleted meanwhile by nobody: users are soft-deleted */
        PQclear(res);
        snprintf(err, errlen, "user %s vanished during the import", u->clerk_id);
        return VT_ABORTED;
    }
    char row_id[VT_UUID_LEN + 1];
    snprintf(row_id, sizeof row_id, "%s", PQgetvalue(res, 0, 0));
    bool deleted = PQgetvalue(res, 0, 1)[0] == 't';
    bool earlier = PQgetvalue(res, 0, 2)[0] == 't';
    PQclear(res);
    if (deleted) {
        import_report_skip(r, IMPORT_USERS, u->id,
                           "the user was deleted in Venta mesh, and stays deleted");
        return VT_OK;
    }
    if (!earlier) {
        import_report_count(r, IMPORT_USERS, IMPORT_UNCHANGED);
        return VT_OK;
    }
    const char *q[2] = {row_id, created};
    rc = run(w, IMPORT_ACCOUNT, "user_created_at", 2, q, NULL, err, errlen);
    if (rc != VT_OK)
        return rc;
    import_report_count(r, IMPORT_USERS, IMPORT_UPDATED);
    return put_user_event(w, "updated", u->clerk_id, err, errlen);
}

/* ---- vendors and their last known location ---- */

static int write_location(import_write *w, const import_vendor *v, int64_t at_ms, char *err,
                          size_t errlen)
{
    char lat[32], lng[32], at[24];
    snprintf(lat, sizeof lat, "%.17g", v->lat);
    snprintf(lng, sizeof lng, "%.17g", v->lng);
    const char *p[4] = {v->id, lat, lng, ms_text(at_ms, at)};
    PGresult *res;
    int rc = run(w, IMPORT_VENDOR_SCHEMA, "last_location", 4, p, &res, err, errlen);
    if (rc != VT_OK)
        return rc;
    bool profile_changed = PQntuples(res) > 0;
    PQclear(res);
    rc = run(w, IMPORT_VENDOR_SCHEMA, "location_upsert", 4, p, &res, err, errlen);
    if (rc != VT_OK)
        return rc;
    import_outcome o = IMPORT_UNCHANGED;
    if (PQntuples(res) == 1)
        o = PQgetvalue(res, 0, 0)[0] == 't' ? IMPORT_INSERTED : IMPORT_UPDATED;
    else if (profile_changed)
        o = IMPORT_UPDATED;
    PQclear(res);
    import_report_count(w->report, IMPORT_LOCATIONS, o);
    return VT_OK;
}

/* Insert, or decide about the row we hold; *imported when the vendor is ours now. */
static int write_profile(import_write *w, const import_vendor *v, const import_vendor_row *row,
                         bool *imported, char *err, size_t errlen)
{
    import_report *r = w->report;
    char updated[24], created[24];
    const char *p[11] = {v->id,
                         v->owner_id,
                         v->name,
                         v->description,
                         v->email,
                         v->phone,
                         v->website,
                         v->profile_image,
                         v->is_open ? "true" : "false",
                         ms_text(row->updated_ms, updated),
                         ms_text(row->created_ms, created)};
    *imported = false;
    int rc = run(w, IMPORT_VENDOR_SCHEMA, "lock_owner", 1, &v->owner_id, NULL, err, errlen);
    PGresult *res;
    if (rc == VT_OK)
        rc = run(w, IMPORT_VENDOR_SCHEMA, "vendor_lock", 10, p, &res, err, errlen);
    if (rc != VT_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        rc = run(w, IMPORT_VENDOR_SCHEMA, "vendor_insert", 11, p, &res, err, errlen);
        if (rc != VT_OK)
            return rc;
        if (PQntuples(res) == 0) {
            PQclear(res);
            import_report_skip(r, IMPORT_VENDORS, row->id,
                               "its owner was deleted in Venta mesh, and creates no vendors");
            return VT_OK;
        }
        rc = put_vendor_event(w, "created", res, err, errlen);
        PQclear(res);
        import_report_count(r, IMPORT_VENDORS, IMPORT_INSERTED);
        *imported = rc == VT_OK;
        return rc;
    }
    bool same_owner = strcmp(PQgetvalue(res, 0, 0), v->owner_id) == 0;
    bool deleted = PQgetvalue(res, 0, 1)[0] == 't';
    bool ours_newer = PQgetvalue(res, 0, 2)[0] == 't';
    bool equal = PQgetvalue(res, 0, 3)[0] == 't';
    PQclear(res);
    if (deleted || !same_owner) {
        import_report_skip(r, IMPORT_VENDORS, row->id,
                           deleted ? "the vendor was deleted in Venta mesh, and stays deleted"
                                   : "Venta mesh has a vendor with this id and another owner");
        return VT_OK;
    }
    *imported = true;
    if (equal) {
        import_report_count(r, IMPORT_VENDORS, IMPORT_UNCHANGED);
        return VT_OK;
    }
    if (ours_newer) {
        import_report_skip(r, IMPORT_VENDORS, row->id,
                           "changed in Venta mesh after the original's last update; kept ours");
        return VT_OK;
    }
    rc = run(w, IMPORT_VENDOR_SCHEMA, "vendor_update", 10, p, &res, err, errlen);
    if (rc != VT_OK)
        return rc;
    if (PQntuples(res) == 1)
        rc = put_vendor_event(w, "updated", res, err, errlen);
    PQclear(res);
    import_report_count(r, IMPORT_VENDORS, IMPORT_UPDATED);
    return rc;
}

int import_write_vendor(import_write *w, const import_vendor_row *row, char *err, size_t errlen)
{
    import_report *r = w->report;
    import_vendor v;
    char why[IMPORT_WHY_LEN];
    if (import_map_vendor(row, &v, why, sizeof why) != VT_OK) {
        import_report_skip(r, IMPORT_VENDORS, row->id, why);
        return VT_OK;
    }
    bool imported;
    int rc = write_profile(w, &v, row, &imported, err, errlen);
    if (rc != VT_OK || !imported)
        return rc;
    for (int i = 0; i < v.nnotes; i++) {
        bool location = strncmp(v.notes[i], "location", 8) == 0;
        if (location) {
            import_report_read(r, IMPORT_LOCATIONS);
            import_report_skip(r, IMPORT_LOCATIONS, v.id, v.notes[i]);
        } else {
            import_report_note(r, IMPORT_VENDORS, v.id, v.notes[i]);
        }
    }
    if (!v.has_location)
        return VT_OK;
    import_report_read(r, IMPORT_LOCATIONS);
    return write_location(w, &v, row->updated_ms, err, errlen);
}

/* ---- subscriptions ---- */

/* A row that belongs to a user (by the original's userId) can only follow that user:
 * false, with the skip reported, when the user is missing or not importable. */
static bool user_importable(import_report *r, import_table t, const char *id, bool exists,
                            const char *clerk_id)
{
    char why[IMPORT_WHY_LEN], cause[IMPORT_WHY_LEN - 80];
    if (!exists) {
        import_report_skip(r, t, id, "its user does not exist");
        return false;
    }
    if (import_check_clerk_id(clerk_id, cause, sizeof cause) != VT_OK) {
        snprintf(why, sizeof why, "its user cannot be imported: %s", cause);
        import_report_skip(r, t, id, why);
        return false;
    }
    return true;
}

/* The user's row id by Clerk id, locked; "" with a skip reason in why when there is none
 * to attach a subscription to. */
static int subscriber(import_write *w, const char *clerk_id, char *row_id, char *why, size_t whylen,
                      char *err, size_t errlen)
{
    PGresult *res;
    const char *p[2] = {clerk_id, "0"};
    int rc = run(w, IMPORT_ACCOUNT, "user_lock", 2, p, &res, err, errlen);
    if (rc != VT_OK)
        return rc;
    *row_id = '\0';
    if (PQntuples(res) == 0)
        snprintf(why, whylen, "its user %s is not in Venta mesh (skipped above?)", clerk_id);
    else if (PQgetvalue(res, 0, 1)[0] == 't')
        snprintf(why, whylen, "its user %s was deleted in Venta mesh", clerk_id);
    else
        snprintf(row_id, VT_UUID_LEN + 1, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return VT_OK;
}

static int put_subscription_event(import_write *w, const char *clerk_id, const char *status,
                                  const char *product, bool entitled, int64_t expires_ms,
                                  const char *event_id, char *err, size_t errlen)
{
    Venta__Events__V1__SubscriptionChanged ev = VENTA__EVENTS__V1__SUBSCRIPTION_CHANGED__INIT;
    ev.user_id = (char *)clerk_id;
    ev.status = (char *)status;
    ev.product_id = (char *)(product ? product : "");
    ev.entitled = entitled;
    ev.expires_at_ms = expires_ms;
    ev.event_type = "IMPORT";
    ev.provider_event_id = (char *)(event_id ? event_id : "");
    ev.ts = vt_now_ms();
    ev.request_id = w->request_id;
    return vt_outbox_put(w->conn[IMPORT_ACCOUNT], "evt.subscription.changed", &ev.base, err,
                         errlen);
}

int import_write_subscription(import_write *w, const import_subscription_row *s, char *err,
                              size_t errlen)
{
    import_report *r = w->report;
    char why[IMPORT_WHY_LEN], cause[IMPORT_WHY_LEN - 80];
    if (!user_importable(r, IMPORT_SUBSCRIPTIONS, s->id, s->user_exists, s->clerk_id))
        return VT_OK;
    const import_status *st = import_status_for(s->status);
    if (!st) {
        char shown[128];
        import_printable(s->status, shown, sizeof shown);
        snprintf(why, sizeof why, "unknown subscription status \"%s\"", shown);
        import_report_skip(r, IMPORT_SUBSCRIPTIONS, s->id, why);
        return VT_OK;
    }
    import_revenuecat_ids ids;
    bool have_ids = false;
    if (s->rc_id) {
        have_ids = import_parse_revenuecat(s->rc_data, &ids, cause, sizeof cause) == VT_OK;
        if (!have_ids) {
            snprintf(why, sizeof why, "ids of integration %.40s left out: %s", s->rc_id, cause);
            import_report_note(r, IMPORT_SUBSCRIPTIONS, s->id, why);
        }
    }
    /* The original stored the product id as providerId too. */
    const char *product = have_ids ? ids.product_id : NULL;
    if (!product && s->rc_provider_id && *s->rc_provider_id &&
        strlen(s->rc_provider_id) <= IMPORT_PRODUCT_ID_MAX)
        product = s->rc_provider_id;

    char row_id[VT_UUID_LEN + 1];
    int rc = subscriber(w, s->clerk_id, row_id, why, sizeof why, err, errlen);
    if (rc != VT_OK)
        return rc;
    if (!*row_id) {
        import_report_skip(r, IMPORT_SUBSCRIPTIONS, s->id, why);
        return VT_OK;
    }
    char expires[24], at[24];
    const char *p[7] = {row_id,
                        st->status,
                        product,
                        have_ids ? ids.transaction_id : NULL,
                        have_ids ? ids.event_id : NULL,
                        st->ends_at_update ? ms_text(s->updated_ms, expires) : NULL,
                        ms_text(s->updated_ms, at)};
    PGresult *res;
    rc = run(w, IMPORT_ACCOUNT, "sub_lock", 7, p, &res, err, errlen);
    if (rc != VT_OK)
        return rc;
    const char *statement = "sub_insert";
    import_outcome outcome = IMPORT_INSERTED;
    if (PQntuples(res) == 1) {
        bool newer = PQgetvalue(res, 0, 1)[0] == 't', equal = PQgetvalue(res, 0, 2)[0] == 't';
        p[0] = PQgetvalue(res, 0, 0) /* the subscription's id, for sub_update */;
        snprintf(row_id, sizeof row_id, "%s", p[0]);
        p[0] = row_id;
        PQclear(res);
        if (equal) {
            import_report_count(r, IMPORT_SUBSCRIPTIONS, IMPORT_UNCHANGED);
            return VT_OK;
        }
        if (newer) {
            import_report_skip(r, IMPORT_SUBSCRIPTIONS, s->id,
                               "Venta mesh holds a newer RevenueCat event for it; kept ours");
            return VT_OK;
        }
        statement = "sub_update";
        outcome = IMPORT_UPDATED;
    } else {
        PQclear(res);
    }
    rc = run(w, IMPORT_ACCOUNT, statement, 7, p, &res, err, errlen);
    if (rc != VT_OK)
        return rc;
    char sub_id[VT_UUID_LEN + 1];
    snprintf(sub_id, sizeof sub_id, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    const char *q[1] = {sub_id};
    rc = run(w, IMPORT_ACCOUNT, "sub_entitled", 1, q, &res, err, errlen);
    if (rc != VT_OK)
        return rc;
    bool entitled = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    import_report_count(r, IMPORT_SUBSCRIPTIONS, outcome);
    return put_subscription_event(w, s->clerk_id, st->status, product, entitled,
                                  st->ends_at_update ? s->updated_ms : 0,
                                  have_ids ? ids.event_id : NULL, err, errlen);
}

/* ---- integrations ---- */

int import_write_integration(import_write *w, const import_integration_row *i, char *err,
                             size_t errlen)
{
    import_report *r = w->report;
    char why[IMPORT_WHY_LEN];
    if (strcmp(i->type, "RevenueCat") != 0) {
        char shown[64];
        import_printable(i->type, shown, sizeof shown);
        snprintf(why, sizeof why, "%s integration: nothing in it that Venta mesh keeps%s", shown,
                 strcmp(i->type, "Clerk") == 0 ? " (Clerk holds the account)" : "");
        import_report_skip(r, IMPORT_INTEGRATIONS, i->id, why);
        return VT_OK;
    }
    if (!user_importable(r, IMPORT_INTEGRATIONS, i->id, i->user_exists, i->clerk_id))
        return VT_OK;
    import_revenuecat_ids ids;
    if (import_parse_revenuecat(i->data, &ids, why, sizeof why) != VT_OK) {
        import_report_skip(r, IMPORT_INTEGRATIONS, i->id, why);
        return VT_OK;
    }
    char at[24];
    const char *p[2] = {ids.event_id, ms_text(i->created_ms, at)};
    PGresult *res;
    int rc = run(w, IMPORT_ACCOUNT, "event_record", 2, p, &res, err, errlen);
    if (rc != VT_OK)
        return rc;
    import_report_count(r, IMPORT_INTEGRATIONS,
                        PQntuples(res) == 1 ? IMPORT_INSERTED : IMPORT_UNCHANGED);
    PQclear(res);
    return VT_OK;
}
