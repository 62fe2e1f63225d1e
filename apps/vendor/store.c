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
 * Search (search_engine.c) is two statements over the inverted index of
 * prisma-free-sql/0011_search.sql: the candidate terms of the query's words, then the
 * vendors holding a verified term for every word, filtered and ranked in one pass. Its
 * pages are an offset (Algolia's pages are too), bounded by SEARCH_HITS_MAX.
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

/* Search: the query's verified matches (search_engine.c), one row per (term, word). */
#define SEARCH_MATCHES                                                                             \
    "m AS (SELECT * FROM unnest($1::text[], $2::int[], $3::int[], $4::bool[]) "                    \
    "AS m(term, i, typos, exact))"
/* One vendor's postings (term, field): an index-only range of
 * search_postings_vendor_terms_idx. OFFSET 0 keeps it a range joined to the hashed
 * matches (the planner would otherwise probe the primary key once per matched term). */
#define SEARCH_VENDOR_POSTINGS(vendor)                                                             \
    "(SELECT p.term, p.field FROM vendor.search_postings p WHERE p.vendor_id = " vendor " OFFSET " \
    "0)"
/* One vendor's text keys for the query (k.typos, names, exacts, and nwords: how many
 * query words it has), from its own postings. */
#define SEARCH_KEYS(vendor)                                                                        \
    "CROSS JOIN LATERAL (SELECT sum(w.typos)::int AS typos, "                                      \
    "count(*) FILTER (WHERE w.in_name) AS names, count(*) FILTER (WHERE w.exact) AS exacts, "      \
    "count(*) AS nwords FROM (SELECT m.i, min(m.typos) AS typos, "                                 \
    "bool_or(p.field = 0) AS in_name, bool_or(m.exact) AS exact "                                  \
    "FROM " SEARCH_VENDOR_POSTINGS(vendor) " p JOIN m ON m.term = p.term GROUP BY m.i) w) k "
/* SQL built from macros, laid out by hand: */
/* clang-format off */
/* A walked vendor v's keys (k.typos) when it is of the walked tier: in a name, $5
 * typos, exact as $6. */
#define SEARCH_TIER_KEYS \
    "CROSS JOIN LATERAL (SELECT min(m.typos) AS typos, bool_or(p.field = 0) AS in_name, " \
    "bool_or(m.exact) AS exact FROM " SEARCH_VENDOR_POSTINGS("v.id") " p " \
    "JOIN m ON m.term = p.term) k WHERE k.in_name AND k.typos = $5::int AND k.exact = $6::bool "
/* A walk's estimated total: the postings of the matched terms ($1), counted up to $10. */
#define SEARCH_ESTIMATE \
    "(SELECT count(*) FROM (SELECT 1 FROM vendor.search_postings p " \
    "WHERE p.term = ANY($1::text[]) LIMIT $10::int) x)"
/* The geography point at (lng, lat), as every distance here is measured from. */
#define SEARCH_POINT(lng, lat) \
    "ST_SetSRID(ST_MakePoint(" lng "::float8, " lat "::float8), 4326)::geography"
/* From s (vendor_id, typos, names, exacts), joined to its vendors by vendors_join: the
 * filtered, ranked page and the total. */
#define SEARCH_RANKED_PAGE(vendors_join) \
    "SELECT " VENDOR_COLUMNS ", s.typos, d.dist, count(*) OVER () AS total " \
    "FROM s " vendors_join " " \
    "CROSS JOIN LATERAL (SELECT CASE WHEN $6::bool THEN ST_Distance(v.last_location, " \
    SEARCH_POINT("$8", "$7") ", false) END AS dist) d " \
    "WHERE v.deleted_at IS NULL " \
    "AND ($9::float8 IS NULL OR ST_DWithin(v.last_location, " SEARCH_POINT("$8", "$7") ", " \
    "$9::float8)) " \
    "AND ($10::bool IS NOT TRUE OR (CASE WHEN $11::float8 <= $13::float8 " \
    "THEN v.last_location::geometry && ST_MakeEnvelope($11, $12, $13, $14, 4326) " \
    "ELSE v.last_location::geometry && ST_MakeEnvelope($11, $12, 180, $14, 4326) " \
    "OR v.last_location::geometry && ST_MakeEnvelope(-180, $12, $13, $14, 4326) END)) " \
    "AND ($15::bool IS NOT TRUE OR v.is_open) " \
    "AND ($16::float8 IS NULL OR v.last_live_at > now() - make_interval(secs => $16::float8)) " \
    "ORDER BY s.typos, s.names DESC, s.exacts DESC, d.dist NULLS LAST, " \
    "greatest(v.last_location_at, v.updated_at) DESC, v.id " \
    "OFFSET $17::int LIMIT $18::int"
/* clang-format on */

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
    /* Candidate terms of a query (search_engine.c): those sharing a deletion variant
     * with a query word ($1), and up to $3 terms starting with the last word ($2). */
    {"search_candidates",
     "SELECT v.term FROM vendor.search_variants v WHERE v.variant = ANY($1::text[]) "
     "UNION "
     "SELECT t.term FROM (SELECT term FROM vendor.search_terms "
     "WHERE term >= $2::text COLLATE \"C\" AND term < ($2::text || '{') COLLATE \"C\" "
     "ORDER BY term LIMIT $3::int) t"},
    /* Statements built from the SEARCH_ macros, laid out by hand: */
    /* clang-format off */
    /* Vendors holding a matched term for every query word, filtered and ranked: fewer
     * typos, more words in the name, more exact words, nearer, more recently active.
     * The keys come from aggregating every posting of every matched term. */
    {"search_rank",
     "WITH " SEARCH_MATCHES ", "
     "w AS (SELECT p.vendor_id, m.i, min(m.typos) AS typos, bool_or(p.field = 0) AS in_name, "
     "bool_or(m.exact) AS exact FROM m JOIN vendor.search_postings p ON p.term = m.term "
     "GROUP BY p.vendor_id, m.i), "
     "s AS (SELECT vendor_id, sum(typos)::int AS typos, "
     "count(*) FILTER (WHERE in_name) AS names, count(*) FILTER (WHERE exact) AS exacts "
     "FROM w GROUP BY vendor_id HAVING count(*) = $5::int) " SEARCH_RANKED_PAGE(
         "JOIN vendor.vendors v ON v.id = s.vendor_id")},
    /* The same page, from the vendors of one word ($19, the rarest) only: each one's keys
     * from its own postings, so the other words' postings are never read in full. The
     * vendors are probed by primary key for the survivors only (OFFSET 0: the planner
     * guesses thousands of survivors and would hash every vendor instead). */
    {"search_driven",
     "WITH " SEARCH_MATCHES ", "
     "c AS (SELECT DISTINCT p.vendor_id FROM m JOIN vendor.search_postings p ON p.term = m.term "
     "WHERE m.i = $19::int), "
     "s AS (SELECT c.vendor_id, k.typos, k.names, k.exacts FROM c " SEARCH_KEYS(
         "c.vendor_id") "WHERE k.nwords = $5::int) " SEARCH_RANKED_PAGE("CROSS JOIN LATERAL "
                                                                        "(SELECT * FROM "
                                                                        "vendor.vendors v WHERE "
                                                                        "v.id = s.vendor_id OFFSET "
                                                                        "0) v")},
    /* Postings of each query word's terms, counted up to $3: which word is rarest. */
    {"search_sizes",
     "SELECT g.i, (SELECT count(*) FROM (SELECT 1 FROM vendor.search_postings p "
     "WHERE p.term = ANY(g.terms) LIMIT $3::int) x) "
     "FROM (SELECT i, array_agg(term) AS terms FROM unnest($1::text[], $2::int[]) AS m(term, i) "
     "GROUP BY i) g ORDER BY g.i"},
    /* A one-word query's best text tier (in a name, typos $5, exact $6) in recency
     * order: the first $7 vendors of vendors_recency_idx, each one's keys from its own
     * postings, until the page (OFFSET $8 LIMIT $9) is full. recency is a column of the
     * walk, so the order is the index's: no sort, and it stops there. With every
     * posting of the terms counted up to $10 (an estimate of the total, a vendor
     * counted once per term and field). */
    {"search_walk",
     "WITH " SEARCH_MATCHES " "
     "SELECT " VENDOR_COLUMNS ", k.typos, NULL::float8 AS dist, " SEARCH_ESTIMATE " AS total "
     "FROM (SELECT v.*, greatest(v.last_location_at, v.updated_at) AS recency "
     "FROM vendor.vendors v WHERE v.deleted_at IS NULL "
     "ORDER BY greatest(v.last_location_at, v.updated_at) DESC, v.id LIMIT $7::int) v "
     SEARCH_TIER_KEYS
     "ORDER BY v.recency DESC, v.id OFFSET $8::int LIMIT $9::int"},
    /* The same tier near ($11, $12), within $13 metres if not NULL: the $7 nearest
     * vendors with a position (vendors_last_location_idx's distance order, the radius
     * applied after it, so the scan stays the index's), ranked as search_rank ranks
     * them (distance, recency, id). Every one of the $7 is read, so the caller grows $7
     * by rounds; far (the farthest of them), scanned (how many), within (how many in the
     * radius) and tier (the tier's among them) tell it whether a vendor not read could
     * still belong on the page, and how far to read next. */
    {"search_walk_near",
     "WITH " SEARCH_MATCHES ", "
     "s AS (SELECT v.*, greatest(v.last_location_at, v.updated_at) AS recency, "
     "ST_Distance(v.last_location, " SEARCH_POINT("$12", "$11") ", false) AS dist, "
     "($13::float8 IS NULL OR "
     "ST_DWithin(v.last_location, " SEARCH_POINT("$12", "$11") ", $13::float8)) AS inside "
     "FROM vendor.vendors v WHERE v.deleted_at IS NULL AND v.last_location IS NOT NULL "
     "ORDER BY v.last_location <-> " SEARCH_POINT("$12", "$11") " LIMIT $7::int), "
     "e AS (SELECT max(dist) AS far, count(*) AS scanned, "
     "count(*) FILTER (WHERE inside) AS within FROM s) "
     "SELECT " VENDOR_COLUMNS ", k.typos, v.dist, " SEARCH_ESTIMATE " AS total, "
     "e.far, e.scanned, e.within, count(*) OVER () AS tier "
     "FROM s v CROSS JOIN e "
     SEARCH_TIER_KEYS "AND v.inside "
     "ORDER BY v.dist, v.recency DESC, v.id OFFSET $8::int LIMIT $9::int"},
    /* clang-format on */
    {"write_locations",
     "UPDATE vendor.vendors v SET "
     "last_location = ST_SetSRID(ST_MakePoint(t.lng, t.lat), 4326)::geography, "
     "last_location_at = to_timestamp(t.ts / 1000.0), "
     /* The server's clock, not the phone's: online-now compares it with now(). */
     "last_live_at = CASE WHEN t.live THEN now() ELSE v.last_live_at END "
     "FROM unnest($1::uuid[], $2::float8[], $3::float8[], $4::int8[], $5::bool[]) "
     "AS t(id, lat, lng, ts, live) "
     "WHERE v.id = t.id AND v.deleted_at IS NULL "
     "AND (v.last_location_at IS NULL OR v.last_location_at < to_timestamp(t.ts / 1000.0))"},
};
const size_t store_nstatements = sizeof store_statements / sizeof store_statements[0];

/* No JIT: it compiles any plan whose estimated cost passes jit_above_cost, which the
 * search's driven statement's does (the planner guesses thousands of candidates where
 * there are tens): 50-250 ms of compiling measured for a statement of a few ms. None of
 * these statements is a long analytic query that compiling would pay for. */
const char *const store_session_sql = "SET jit = off";

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

int store_search_candidates(vt_db_conn *c, const char *variants, const char *prefix, int prefix_max,
                            PGresult **res, char *err, size_t errlen)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", prefix_max);
    const char *params[3] = {variants, prefix, lim};
    return vt_db_query(c, "search_candidates", 3, params, res, err, errlen);
}

int store_search_rank(vt_db_conn *c, const store_rank_args *a, PGresult **res, char *err,
                      size_t errlen)
{
    char num[12][32];
    snprintf(num[0], sizeof num[0], "%d", a->nwords);
    snprintf(num[1], sizeof num[1], "%.17g", a->lat);
    snprintf(num[2], sizeof num[2], "%.17g", a->lng);
    snprintf(num[3], sizeof num[3], "%.17g", a->radius_m);
    snprintf(num[4], sizeof num[4], "%.17g", a->sw_lng);
    snprintf(num[5], sizeof num[5], "%.17g", a->sw_lat);
    snprintf(num[6], sizeof num[6], "%.17g", a->ne_lng);
    snprintf(num[7], sizeof num[7], "%.17g", a->ne_lat);
    snprintf(num[8], sizeof num[8], "%.17g", a->online_window_s);
    snprintf(num[9], sizeof num[9], "%d", a->offset);
    snprintf(num[10], sizeof num[10], "%d", a->limit);
    snprintf(num[11], sizeof num[11], "%d", a->driver);
    const char *params[19] = {a->terms,
                              a->words,
                              a->typos,
                              a->exact,
                              num[0],
                              flag(a->near),
                              a->near ? num[1] : NULL,
                              a->near ? num[2] : NULL,
                              a->near && a->radius_m > 0 ? num[3] : NULL,
                              flag(a->box),
                              a->box ? num[4] : NULL,
                              a->box ? num[5] : NULL,
                              a->box ? num[6] : NULL,
                              a->box ? num[7] : NULL,
                              flag(a->open_now),
                              a->online_window_s > 0 ? num[8] : NULL,
                              num[9],
                              num[10],
                              num[11]};
    if (a->driver >= 0)
        return vt_db_query(c, "search_driven", 19, params, res, err, errlen);
    return vt_db_query(c, "search_rank", 18, params, res, err, errlen);
}

int store_search_sizes(vt_db_conn *c, const store_rank_args *a, long cap, PGresult **res, char *err,
                       size_t errlen)
{
    char num[24];
    snprintf(num, sizeof num, "%ld", cap);
    const char *params[3] = {a->terms, a->words, num};
    return vt_db_query(c, "search_sizes", 3, params, res, err, errlen);
}

/* A walk's first ten parameters (the matches, the tier, the budget, the page, the
 * estimate's cap), printed into num. */
static void walk_params(const store_rank_args *a, const store_walk_args *w, char num[5][24],
                        const char *params[10])
{
    snprintf(num[0], 24, "%d", w->typos);
    snprintf(num[1], 24, "%ld", w->budget);
    snprintf(num[2], 24, "%d", a->offset);
    snprintf(num[3], 24, "%d", a->limit);
    snprintf(num[4], 24, "%ld", w->count_cap);
    const char *p[10] = {a->terms,       a->words, a->typos, a->exact, num[0],
                         flag(w->exact), num[1],   num[2],   num[3],   num[4]};
    memcpy(params, p, sizeof p);
}

int store_search_walk(vt_db_conn *c, const store_rank_args *a, const store_walk_args *w,
                      PGresult **res, char *err, size_t errlen)
{
    char num[5][24];
    const char *params[10];
    walk_params(a, w, num, params);
    return vt_db_query(c, "search_walk", 10, params, res, err, errlen);
}

int store_search_walk_near(vt_db_conn *c, const store_rank_args *a, const store_walk_args *w,
                           PGresult **res, char *err, size_t errlen)
{
    char num[5][24], at[3][32];
    const char *params[13];
    walk_params(a, w, num, params);
    snprintf(at[0], sizeof at[0], "%.17g", a->lat);
    snprintf(at[1], sizeof at[1], "%.17g", a->lng);
    snprintf(at[2], sizeof at[2], "%.17g", a->radius_m);
    params[10] = at[0];
    params[11] = at[1];
    params[12] = a->radius_m > 0 ? at[2] : NULL;
    return vt_db_query(c, "search_walk_near", 13, params, res, err, errlen);
}

void store_walk_edge_row(PGresult *res, store_walk_edge *out)
{
    out->far_m = strtod(PQgetvalue(res, 0, NCOLUMNS + 3), NULL);
    out->scanned = atol(PQgetvalue(res, 0, NCOLUMNS + 4));
    out->within = atol(PQgetvalue(res, 0, NCOLUMNS + 5));
    out->tier = atol(PQgetvalue(res, 0, NCOLUMNS + 6));
}

void store_search_row(PGresult *res, int row, store_search_hit *out)
{
    out->typos = atoi(PQgetvalue(res, row, NCOLUMNS));
    out->has_distance = !PQgetisnull(res, row, NCOLUMNS + 1);
    out->distance_m = out->has_distance ? strtod(PQgetvalue(res, row, NCOLUMNS + 1), NULL) : 0;
    out->total = atol(PQgetvalue(res, row, NCOLUMNS + 2));
}

/* ---- the location cache's batch ---- */

int store_write_locations(vt_db_conn *c, const vt_events_position *rows, size_t n, long *written,
                          char *err, size_t errlen)
{
    if (written)
        *written = 0;
    if (n == 0)
        return VT_OK;
    vt_buf cols[5];
    bool ok = true;
    /* Sized up front for the common row, so a batch is built without regrowing. */
    for (int k = 0; k < 5; k++) {
        vt_buf_init(&cols[k]);
        ok = ok && vt_buf_reserve(&cols[k], n * (k == 0 ? 38 : 26) + 8) &&
             vt_buf_putc(&cols[k], '{');
    }
    for (size_t i = 0; i < n && ok; i++) {
        const char *sep = i ? "," : "";
        ok = vt_buf_printf(&cols[0], "%s%s", sep, rows[i].vendor_id) &&
             vt_buf_printf(&cols[1], "%s%.17g", sep, rows[i].lat) &&
             vt_buf_printf(&cols[2], "%s%.17g", sep, rows[i].lng) &&
             vt_buf_printf(&cols[3], "%s%lld", sep, (long long)rows[i].ts) &&
             vt_buf_printf(&cols[4], "%s%c", sep, rows[i].live ? 't' : 'f');
    }
    for (int k = 0; k < 5 && ok; k++)
        ok = vt_buf_putc(&cols[k], '}');
    int rc = VT_RESOURCE_EXHAUSTED;
    if (ok) {
        const char *params[5] = {cols[0].data, cols[1].data, cols[2].data, cols[3].data,
                                 cols[4].data};
        PGresult *res = NULL;
        rc = vt_db_query(c, "write_locations", 5, params, &res, err, errlen);
        if (rc == VT_OK && written)
            *written = strtol(PQcmdTuples(res), NULL, 10);
        PQclear(res);
    } else {
        snprintf(err, errlen, "out of memory building a batch of %zu positions", n);
    }
    for (int k = 0; k < 5; k++)
        vt_buf_free(&cols[k]);
    return rc;
}
