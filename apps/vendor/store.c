/*
 * store.c — see store.h.
 *
 * Ownership is part of the write itself (WHERE id = $1 AND owner_id = $2), so a check
 * and the change cannot be separated by a concurrent delete or transfer; only when no
 * row comes back does the handler ask who owns the vendor, to tell NOT_FOUND from
 * PERMISSION_DENIED. A partial update passes a presence flag and a value per field and
 * lets CASE keep the old value for absent fields: one statement for every combination.
 *
 * Sort keys travel in page tokens as text that PostgreSQL parses back exactly:
 * created_at with microseconds for List, the float8 rank (printed shortest-exact, so
 * it round-trips) for Search; ids compare as uuid, never as collated text.
 *
 * Search matches a websearch_to_tsquery on the weighted search_vector (name A,
 * description B), or a trigram word similarity of the query to the name (`<%`, which
 * the GIN trigram index serves) for typos: "tacso" has a word similarity of 0.5 to
 * "Tacos El Gordo". The threshold is a session setting (store_session_sql), set on
 * every connection as it is made. The rank adds ts_rank and the word similarity.
 *
 * The location cache writes last_location with one UPDATE … FROM unnest(arrays) per
 * batch, like venta-location's upsert: one round trip for thousands of vendors. Every
 * such UPDATE rewrites the row and its index entries (last_location is indexed, so it
 * is never a HOT update), which is why the cache coalesces so heavily upstream.
 */
#include "store.h"

#include "vt_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TS_MS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
#define TS_US(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
#define VENDOR_COLUMNS                                                                             \
    "v.id::text, v.owner_id, v.name, v.description, coalesce(v.email, ''), "                       \
    "coalesce(v.phone, ''), coalesce(v.website, ''), coalesce(v.profile_image, ''), "              \
    "v.is_open, ST_Y(v.last_location::geometry), ST_X(v.last_location::geometry), "                \
    "coalesce(" TS_MS("v.last_location_at") ", ''), " TS_MS("v.created_at") ", " TS_MS(            \
        "v.updated_at") ", " TS_US("v.created_at")
#define NCOLUMNS 15
#define EVENT_COLUMNS "v.id::text, v.owner_id, v.name, v.is_open"

/* The word similarity above which a name matches a query despite typos. */
#define SIMILARITY_THRESHOLD "0.4"

const vt_db_statement store_statements[] = {
    /* Creation and deletion by owner serialise per owner (0009_deleted_owners.sql). */
    {"lock_owner", "SELECT pg_advisory_xact_lock(hashtext('vendor.owner'), hashtext($1::text))"},
    {"insert",
     "INSERT INTO vendor.vendors AS v (owner_id, name, description, email, phone, website, "
     "profile_image, is_open) SELECT $1::text, $2::text, $3::text, nullif($4::text, ''), "
     "nullif($5::text, ''), nullif($6::text, ''), nullif($7::text, ''), $8::bool "
     "WHERE NOT EXISTS (SELECT 1 FROM vendor.deleted_owners d WHERE d.owner_id = $1::text) "
     "RETURNING " VENDOR_COLUMNS},
    {"get", "SELECT " VENDOR_COLUMNS " FROM vendor.vendors v WHERE v.id = $1::uuid "
            "AND v.deleted_at IS NULL"},
    {"owner", "SELECT owner_id FROM vendor.vendors WHERE id = $1::uuid AND deleted_at IS NULL"},
    {"update",
     "UPDATE vendor.vendors v SET "
     "name = CASE WHEN $3::bool THEN $4::text ELSE v.name END, "
     "description = CASE WHEN $5::bool THEN $6::text ELSE v.description END, "
     "email = CASE WHEN $7::bool THEN nullif($8::text, '') ELSE v.email END, "
     "phone = CASE WHEN $9::bool THEN nullif($10::text, '') ELSE v.phone END, "
     "website = CASE WHEN $11::bool THEN nullif($12::text, '') ELSE v.website END, "
     "profile_image = CASE WHEN $13::bool THEN nullif($14::text, '') ELSE v.profile_image END, "
     "is_open = CASE WHEN $15::bool THEN $16::bool ELSE v.is_open END, "
     "updated_at = now() "
     "WHERE v.id = $1::uuid AND v.owner_id = $2::text AND v.deleted_at IS NULL "
     "RETURNING " VENDOR_COLUMNS},
    {"delete", "UPDATE vendor.vendors v SET deleted_at = now(), updated_at = now() "
               "WHERE v.id = $1::uuid AND v.owner_id = $2::text AND v.deleted_at IS NULL "
               "RETURNING " EVENT_COLUMNS},
    {"delete_by_owner",
     "WITH remembered AS (INSERT INTO vendor.deleted_owners (owner_id) VALUES ($1::text) "
     "ON CONFLICT (owner_id) DO NOTHING) "
     "UPDATE vendor.vendors v SET deleted_at = now(), updated_at = now() "
     "WHERE v.owner_id = $1::text AND v.deleted_at IS NULL RETURNING " EVENT_COLUMNS},
    {"list_owner",
     "SELECT " VENDOR_COLUMNS " FROM vendor.vendors v WHERE v.owner_id = $1::text "
     "AND v.deleted_at IS NULL AND (v.created_at, v.id) > ($2::timestamptz, $3::uuid) "
     "ORDER BY v.created_at, v.id LIMIT $4::int"},
    {"list_all", "SELECT " VENDOR_COLUMNS " FROM vendor.vendors v WHERE v.deleted_at IS NULL "
                 "AND (v.created_at, v.id) > ($1::timestamptz, $2::uuid) "
                 "ORDER BY v.created_at, v.id LIMIT $3::int"},
    {"search",
     "SELECT * FROM (SELECT " VENDOR_COLUMNS ", "
     "(ts_rank(v.search_vector, q.tsq) + word_similarity($1::text, v.name))::float8 AS score, "
     "v.id AS key_id "
     "FROM vendor.vendors v, (SELECT websearch_to_tsquery('english', $1::text) AS tsq) q "
     "WHERE v.deleted_at IS NULL AND (v.search_vector @@ q.tsq OR $1::text <% v.name) "
     "AND ($2::bool IS NOT TRUE OR ST_DWithin(v.last_location, "
     "ST_SetSRID(ST_MakePoint($4::float8, $3::float8), 4326)::geography, $5::float8))) s "
     "WHERE ($6::float8 IS NULL OR (s.score, s.key_id) < ($6::float8, $7::uuid)) "
     "ORDER BY s.score DESC, s.key_id DESC LIMIT $8::int"},
    {"write_locations",
     "UPDATE vendor.vendors v SET "
     "last_location = ST_SetSRID(ST_MakePoint(t.lng, t.lat), 4326)::geography, "
     "last_location_at = to_timestamp(t.ts / 1000.0) "
     "FROM unnest($1::uuid[], $2::float8[], $3::float8[], $4::int8[]) AS t(id, lat, lng, ts) "
     "WHERE v.id = t.id AND v.deleted_at IS NULL "
     "AND (v.last_location_at IS NULL OR v.last_location_at < to_timestamp(t.ts / 1000.0))"},
};
const size_t store_nstatements = sizeof store_statements / sizeof store_statements[0];
const char *const store_session_sql =
    "SET pg_trgm.word_similarity_threshold = " SIMILARITY_THRESHOLD;

void store_row(PGresult *res, int row, store_vendor *out)
{
    out->id = PQgetvalue(res, row, 0);
    out->owner_id = PQgetvalue(res, row, 1);
    out->name = PQgetvalue(res, row, 2);
    out->description = PQgetvalue(res, row, 3);
    out->email = PQgetvalue(res, row, 4);
    out->phone = PQgetvalue(res, row, 5);
    out->website = PQgetvalue(res, row, 6);
    out->profile_image = PQgetvalue(res, row, 7);
    out->is_open = PQgetvalue(res, row, STORE_IS_OPEN_COLUMN)[0] == 't';
    out->has_location = !PQgetisnull(res, row, 9);
    out->lat = out->has_location ? strtod(PQgetvalue(res, row, 9), NULL) : 0;
    out->lng = out->has_location ? strtod(PQgetvalue(res, row, 10), NULL) : 0;
    out->location_at = PQgetvalue(res, row, 11);
    out->created_at = PQgetvalue(res, row, 12);
    out->updated_at = PQgetvalue(res, row, 13);
    out->created_key = PQgetvalue(res, row, 14);
    out->score = PQnfields(res) > NCOLUMNS ? PQgetvalue(res, row, NCOLUMNS) : "";
}

/* Within the caller's transaction: wait for any other creation or deletion by owner_id. */
static int lock_owner(vt_db_conn *c, const char *owner_id, char *err, size_t errlen)
{
    const char *params[1] = {owner_id};
    PGresult *res = NULL;
    int rc = vt_db_query(c, "lock_owner", 1, params, &res, err, errlen);
    PQclear(res);
    return rc;
}

int store_insert(vt_db_conn *c, const char *owner_id, const store_profile *p, PGresult **res,
                 char *err, size_t errlen)
{
    const char *params[8] = {owner_id, p->name,    p->description,   p->email,
                             p->phone, p->website, p->profile_image, p->is_open ? "true" : "false"};
    int rc = lock_owner(c, owner_id, err, errlen);
    return rc == VT_OK ? vt_db_query(c, "insert", 8, params, res, err, errlen) : rc;
}

int store_get(vt_db_conn *c, const char *id, PGresult **res, char *err, size_t errlen)
{
    const char *params[1] = {id};
    return vt_db_query(c, "get", 1, params, res, err, errlen);
}

int store_owner(vt_db_conn *c, const char *id, PGresult **res, char *err, size_t errlen)
{
    const char *params[1] = {id};
    return vt_db_query(c, "owner", 1, params, res, err, errlen);
}

static const char *flag(bool b)
{
    return b ? "true" : "false";
}

int store_update(vt_db_conn *c, const char *id, const char *owner_id, const store_patch *p,
                 PGresult **res, char *err, size_t errlen)
{
    const char *params[16] = {
        id,
        owner_id,
        flag(p->has_name),
        p->has_name ? p->v.name : "",
        flag(p->has_description),
        p->has_description ? p->v.description : "",
        flag(p->has_email),
        p->has_email ? p->v.email : "",
        flag(p->has_phone),
        p->has_phone ? p->v.phone : "",
        flag(p->has_website),
        p->has_website ? p->v.website : "",
        flag(p->has_profile_image),
        p->has_profile_image ? p->v.profile_image : "",
        flag(p->has_is_open),
        flag(p->has_is_open && p->v.is_open),
    };
    return vt_db_query(c, "update", 16, params, res, err, errlen);
}

int store_delete(vt_db_conn *c, const char *id, const char *owner_id, PGresult **res, char *err,
                 size_t errlen)
{
    const char *params[2] = {id, owner_id};
    return vt_db_query(c, "delete", 2, params, res, err, errlen);
}

int store_delete_by_owner(vt_db_conn *c, const char *owner_id, PGresult **res, char *err,
                          size_t errlen)
{
    const char *params[1] = {owner_id};
    int rc = lock_owner(c, owner_id, err, errlen);
    return rc == VT_OK ? vt_db_query(c, "delete_by_owner", 1, params, res, err, errlen) : rc;
}

int store_list(vt_db_conn *c, const char *owner_id, const char *after_created, const char *after_id,
               int limit, PGresult **res, char *err, size_t errlen)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    const char *created = after_id ? after_created : "-infinity";
    const char *id = after_id ? after_id : "00000000-0000-0000-0000-000000000000";
    if (owner_id && *owner_id) {
        const char *params[4] = {owner_id, created, id, lim};
        return vt_db_query(c, "list_owner", 4, params, res, err, errlen);
    }
    const char *params[3] = {created, id, lim};
    return vt_db_query(c, "list_all", 3, params, res, err, errlen);
}

int store_search(vt_db_conn *c, const store_search_args *a, PGresult **res, char *err,
                 size_t errlen)
{
    char lat[32], lng[32], radius[32], lim[16];
    snprintf(lat, sizeof lat, "%.17g", a->lat);
    snprintf(lng, sizeof lng, "%.17g", a->lng);
    snprintf(radius, sizeof radius, "%.17g", a->radius_m);
    snprintf(lim, sizeof lim, "%d", a->limit);
    const char *params[8] = {a->q,
                             flag(a->near),
                             a->near ? lat : NULL,
                             a->near ? lng : NULL,
                             a->near ? radius : NULL,
                             a->after_id ? a->after_score : NULL,
                             a->after_id,
                             lim};
    return vt_db_query(c, "search", 8, params, res, err, errlen);
}

/* ---- the location cache's batch ---- */

int store_write_locations(vt_db_conn *c, const vt_events_position *rows, size_t n, long *written,
                          char *err, size_t errlen)
{
    if (written)
        *written = 0;
    if (n == 0)
        return VT_OK;
    vt_buf cols[4];
    bool ok = true;
    /* Sized up front for the common row, so a batch is built without regrowing. */
    for (int k = 0; k < 4; k++) {
        vt_buf_init(&cols[k]);
        ok = ok && vt_buf_reserve(&cols[k], n * (k == 0 ? 38 : 26) + 8) &&
             vt_buf_putc(&cols[k], '{');
    }
    for (size_t i = 0; i < n && ok; i++) {
        const char *sep = i ? "," : "";
        ok = vt_buf_printf(&cols[0], "%s%s", sep, rows[i].vendor_id) &&
             vt_buf_printf(&cols[1], "%s%.17g", sep, rows[i].lat) &&
             vt_buf_printf(&cols[2], "%s%.17g", sep, rows[i].lng) &&
             vt_buf_printf(&cols[3], "%s%lld", sep, (long long)rows[i].ts);
    }
    for (int k = 0; k < 4 && ok; k++)
        ok = vt_buf_putc(&cols[k], '}');
    int rc = VT_RESOURCE_EXHAUSTED;
    if (ok) {
        const char *params[4] = {cols[0].data, cols[1].data, cols[2].data, cols[3].data};
        PGresult *res = NULL;
        rc = vt_db_query(c, "write_locations", 4, params, &res, err, errlen);
        if (rc == VT_OK && written)
            *written = strtol(PQcmdTuples(res), NULL, 10);
        PQclear(res);
    } else {
        snprintf(err, errlen, "out of memory building a batch of %zu positions", n);
    }
    for (int k = 0; k < 4; k++)
        vt_buf_free(&cols[k]);
    return rc;
}
