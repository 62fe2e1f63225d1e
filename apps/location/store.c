/*
 * store.c — see store.h.
 *
 * The batch upsert sends each column as one array parameter and unnests it server-side:
 * one statement, one round trip and one WAL flush for thousands of positions, which is
 * what lets ingest keep up with tens of thousands of updates a second. The WHERE on
 * the conflict branch makes an out-of-order update a no-op instead of a regression.
 *
 * A deleted vendor is remembered in location.deleted_vendors (its row goes), and the
 * upsert skips positions for such vendors: one still on its way after the deletion
 * must not put the vendor back on the map. Under READ COMMITTED one race is left: a
 * batch whose statement began before the deletion committed, inserting the vendor's
 * first row, commits after the deletion's DELETE looked (it cannot see, nor wait for,
 * an uncommitted new row). store_sweep_deleted, run every second, removes such rows:
 * its snapshot is after that batch's commit, which came after the deletion's.
 *
 * Boxes are `&&` against ST_MakeEnvelope, split in two across the antimeridian, on the
 * GiST index of the position's grid cell (not of the position: then every fix changed
 * an indexed value and no update was HOT) and then on the position itself; radius queries prefilter
 * with the same index (a box around the circle from libs/geo), then ST_DWithin on geography is
 * exact and `<->` on geography orders nearest first in metres. Distances are on the sphere
 * (use_spheroid false, as `<->` is): within 0.5% of the ellipsoid, and about half the cost per
 * candidate row. The
 * `<->` distance is also the reply's distance, named once in the select list and
 * sorted by that name, so each candidate pays for it once (ST_Distance beside it
 * computed the same number a second time).
 *
 * Reads come back in binary (uuid, float8, int8, bool as they are stored): printing a
 * hundred rows of shortest-round-trip doubles in the server and parsing them back here
 * cost more than the index scan. And the read connections use generic plans: with
 * custom plans PostgreSQL re-plans every execution, and PostGIS's selectivity estimate
 * (decompressing the column's statistics) cost about as much as running the query.
 */
#include "store.h"

#include "vt_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POSITION_COLUMNS                                                                           \
    "vendor_id, ST_Y(position), ST_X(position), coalesce(heading, 0)::float8, "                    \
    "coalesce(speed, 0)::float8, coalesce(accuracy, 0)::float8, "                                  \
    "(extract(epoch FROM reported_at) * 1000)::int8, "                                             \
    "online AND updated_at > now() - make_interval(secs => $1::float8), "                          \
    "(extract(epoch FROM updated_at) * 1000)::int8"
#define FRESH " updated_at > now() - make_interval(secs => $1::float8) "
/* The index is on cell, the position snapped to a 0.01° grid (0012_location_cells.sql):
 * a position in the box has its cell in the box widened by half a cell (0.006 leaves
 * room for rounding); the position itself is then checked exactly. */
#define ENVELOPE(a, b, c, d)                                                                       \
    " (cell && ST_Expand(ST_MakeEnvelope(" a ", " b ", " c ", " d ", 4326), 0.006) AND "           \
    "position && ST_MakeEnvelope(" a ", " b ", " c ", " d ", 4326)) "

const vt_db_statement store_statements[] = {
    {"upsert",
     "INSERT INTO location.vendor_locations AS l "
     "(vendor_id, position, heading, speed, accuracy, online, reported_at, updated_at) "
     "SELECT t.v, ST_SetSRID(ST_MakePoint(t.lng, t.lat), 4326), t.h, t.s, t.a, t.live, "
     "to_timestamp(t.ts / 1000.0), now() "
     "FROM unnest($1::uuid[], $2::float8[], $3::float8[], $4::real[], $5::real[], $6::real[], "
     "$7::int8[], $8::bool[]) WITH ORDINALITY AS t(v, lat, lng, h, s, a, ts, live, n) "
     "WHERE NOT EXISTS (SELECT 1 FROM location.deleted_vendors d WHERE d.vendor_id = t.v) "
     "ORDER BY t.n "
     "ON CONFLICT (vendor_id) DO UPDATE SET position = EXCLUDED.position, "
     "heading = EXCLUDED.heading, speed = EXCLUDED.speed, accuracy = EXCLUDED.accuracy, "
     "online = CASE WHEN EXCLUDED.online THEN l.offline_through IS NULL "
     "OR EXCLUDED.reported_at > l.offline_through ELSE l.online END, "
     "reported_at = EXCLUDED.reported_at, updated_at = EXCLUDED.updated_at "
     "WHERE l.reported_at <= EXCLUDED.reported_at"},
    /* An offline with last_ts ($4) applies unless a newer position is stored, and
     * remembers the boundary for positions still on their way; without one (an expired
     * presence) it applies unless the row was written after the status ($3). */
    {"set_online", "UPDATE location.vendor_locations SET online = $2::bool, offline_through = CASE "
                   "WHEN $2::bool OR $4::int8 <= 0 THEN offline_through "
                   "ELSE greatest(offline_through, to_timestamp($4::int8 / 1000.0)) END "
                   "WHERE vendor_id = $1::uuid AND ($2::bool OR CASE WHEN $4::int8 > 0 "
                   "THEN reported_at <= to_timestamp($4::int8 / 1000.0) "
                   "ELSE updated_at <= to_timestamp($3::int8 / 1000.0) END)"},
    {"remove",
     "WITH gone AS (DELETE FROM location.vendor_locations WHERE vendor_id = $1::uuid) "
     "INSERT INTO location.deleted_vendors (vendor_id) VALUES ($1::uuid) ON CONFLICT DO NOTHING"},
    {"load_deleted", "SELECT vendor_id FROM location.deleted_vendors WHERE vendor_id > $1::uuid "
                     "ORDER BY vendor_id LIMIT $2::int"},
    {"ping", "SELECT 1"},
    {"sweep_deleted",
     "DELETE FROM location.vendor_locations l USING location.deleted_vendors d "
     "WHERE l.vendor_id = d.vendor_id AND d.deleted_at > now() - interval '10 minutes'"},
    {"get",
     "SELECT " POSITION_COLUMNS " FROM location.vendor_locations WHERE vendor_id = $2::uuid"},
    {"load_live", "SELECT vendor_id, ST_Y(position), ST_X(position), coalesce(heading, 0)::float8, "
                  "coalesce(speed, 0)::float8, coalesce(accuracy, 0)::float8, "
                  "(extract(epoch FROM reported_at) * 1000)::int8, online, "
                  "(extract(epoch FROM updated_at) * 1000)::int8, "
                  "coalesce((extract(epoch FROM offline_through) * 1000)::int8, 0) "
                  "FROM location.vendor_locations "
                  "WHERE vendor_id > $1::uuid ORDER BY vendor_id LIMIT $2::int"},
    {"in_bounds",
     "SELECT " POSITION_COLUMNS " FROM location.vendor_locations WHERE" ENVELOPE(
         "$2::float8", "$3::float8", "$4::float8", "$5::float8") "AND" FRESH "LIMIT $6::int"},
    {"in_bounds_split",
     "SELECT " POSITION_COLUMNS " FROM location.vendor_locations WHERE (" ENVELOPE(
         "$2::float8", "$3::float8", "$4::float8",
         "$5::float8") "OR" ENVELOPE("$6::float8", "$7::float8", "$8::float8",
                                     "$9::float8") ") "
                                                   "AND" FRESH "LIMIT $10::int"},
    {"nearby",
     "WITH c AS (SELECT ST_SetSRID(ST_MakePoint($11::float8, $10::float8), 4326)::geography AS g) "
     "SELECT " POSITION_COLUMNS ", position::geography <-> c.g AS distance_m "
     "FROM location.vendor_locations, c WHERE (" ENVELOPE(
         "$2::float8", "$3::float8", "$4::float8",
         "$5::float8") "OR" ENVELOPE("$6::float8", "$7::float8", "$8::float8",
                                     "$9::float8") ") "
                                                   "AND ST_DWithin(position::geography, c.g, "
                                                   "$12::float8, false) AND" FRESH
                                                   "ORDER BY distance_m LIMIT $13::int"},
};
const size_t store_nstatements = sizeof store_statements / sizeof store_statements[0];
const char *const store_read_session_sql = "SET plan_cache_mode = force_generic_plan";

/* ---- text arrays for the batch upsert ---- */

/* Append one element of a text array, a comma before all but the first. */
static bool add_double(vt_buf *b, double v, bool first)
{
    return vt_buf_printf(b, "%s%.17g", first ? "" : ",", v);
}

int store_upsert_batch(vt_db_conn *c, const vt_events_position *rows, size_t n, char *err,
                       size_t errlen)
{
    if (n == 0)
        return VT_OK;
    vt_buf cols[8];
    bool ok = true;
    /* Sized up front for the common row, so a batch is built without regrowing. */
    for (int k = 0; k < 8; k++) {
        vt_buf_init(&cols[k]);
        ok = ok && vt_buf_reserve(&cols[k], n * (k == 0 ? 38 : 26) + 4) &&
             vt_buf_putc(&cols[k], '{');
    }
    for (size_t i = 0; i < n && ok; i++) {
        const vt_events_position *r = &rows[i];
        bool first = i == 0;
        /* heading, speed and accuracy are `real`: rounded to float here, once, as the
         * live map rounds them (text of the double would be rounded again by float4in). */
        ok = (first || vt_buf_putc(&cols[0], ',')) && vt_buf_puts(&cols[0], r->vendor_id) &&
             add_double(&cols[1], r->lat, first) && add_double(&cols[2], r->lng, first) &&
             add_double(&cols[3], (float)r->heading, first) &&
             add_double(&cols[4], (float)r->speed, first) &&
             add_double(&cols[5], (float)r->accuracy, first) &&
             vt_buf_printf(&cols[6], "%s%lld", first ? "" : ",", (long long)r->ts) &&
             (first || vt_buf_putc(&cols[7], ',')) && vt_buf_putc(&cols[7], r->live ? 't' : 'f');
    }
    const char *params[8];
    for (int k = 0; k < 8 && ok; k++) {
        ok = vt_buf_putc(&cols[k], '}');
        params[k] = cols[k].data;
    }
    int rc = VT_RESOURCE_EXHAUSTED;
    if (ok) {
        PGresult *res;
        rc = vt_db_query(c, "upsert", 8, params, &res, err, errlen);
        PQclear(res);
    } else {
        snprintf(err, errlen, "out of memory building a batch of %zu", n);
    }
    for (int k = 0; k < 8; k++)
        vt_buf_free(&cols[k]);
    return rc;
}

int store_set_online(vt_db_conn *c, const char *vendor_id, bool online, int64_t ts_ms,
                     int64_t last_ts_ms, char *err, size_t errlen)
{
    char ts[24], last_ts[24];
    snprintf(ts, sizeof ts, "%lld", (long long)ts_ms);
    snprintf(last_ts, sizeof last_ts, "%lld", (long long)last_ts_ms);
    const char *params[4] = {vendor_id, online ? "true" : "false", ts, last_ts};
    PGresult *res;
    int rc = vt_db_query(c, "set_online", 4, params, &res, err, errlen);
    PQclear(res);
    return rc;
}

int store_remove(vt_db_conn *c, const char *vendor_id, char *err, size_t errlen)
{
    const char *params[1] = {vendor_id};
    PGresult *res;
    int rc = vt_db_query(c, "remove", 1, params, &res, err, errlen);
    PQclear(res);
    return rc;
}

int store_sweep_deleted(vt_db_conn *c, char *err, size_t errlen)
{
    PGresult *res;
    int rc = vt_db_query(c, "sweep_deleted", 0, NULL, &res, err, errlen);
    PQclear(res);
    return rc;
}

int store_ping(vt_db_conn *c, char *err, size_t errlen)
{
    PGresult *res;
    int rc = vt_db_query(c, "ping", 0, NULL, &res, err, errlen);
    PQclear(res);
    return rc;
}

static void fmt_double(char *out, double v)
{
    snprintf(out, 32, "%.17g", v);
}

int store_get(vt_db_conn *c, const char *vendor_id, int ttl_s, PGresult **res, char *err,
              size_t errlen)
{
    char ttl[16];
    snprintf(ttl, sizeof ttl, "%d", ttl_s);
    const char *params[2] = {ttl, vendor_id};
    return vt_db_query_binary(c, "get", 2, params, res, err, errlen);
}

/* Envelope parameters xmin, ymin, xmax, ymax of up to two boxes into v[1..8]. */
static size_t envelopes(const vt_geo_box *box, char v[][32])
{
    vt_geo_box parts[2];
    size_t n = 1;
    vt_geo_box_split_antimeridian(box, parts, &n);
    for (size_t i = 0; i < 2; i++) {
        const vt_geo_box *b = &parts[i < n ? i : 0];
        fmt_double(v[1 + 4 * i], b->sw.lng);
        fmt_double(v[2 + 4 * i], b->sw.lat);
        fmt_double(v[3 + 4 * i], b->ne.lng);
        fmt_double(v[4 + 4 * i], b->ne.lat);
    }
    return n;
}

int store_in_bounds(vt_db_conn *c, const vt_geo_box *box, int ttl_s, int limit, PGresult **res,
                    char *err, size_t errlen)
{
    char v[10][32];
    snprintf(v[0], 32, "%d", ttl_s);
    size_t parts = envelopes(box, v);
    const char *params[10];
    for (int i = 0; i < 10; i++)
        params[i] = v[i];
    if (parts == 1) {
        snprintf(v[5], 32, "%d", limit);
        return vt_db_query_binary(c, "in_bounds", 6, params, res, err, errlen);
    }
    snprintf(v[9], 32, "%d", limit);
    return vt_db_query_binary(c, "in_bounds_split", 10, params, res, err, errlen);
}

int store_nearby(vt_db_conn *c, double lat, double lng, double radius_m, int ttl_s, int limit,
                 PGresult **res, char *err, size_t errlen)
{
    vt_geo_box box;
    if (vt_geo_box_around(lat, lng, radius_m, &box) != VT_OK) {
        snprintf(err, errlen, "bad point or radius");
        return VT_INVALID_ARGUMENT;
    }
    char v[13][32];
    snprintf(v[0], 32, "%d", ttl_s);
    envelopes(&box, v);
    fmt_double(v[9], lat);
    fmt_double(v[10], lng);
    fmt_double(v[11], radius_m);
    snprintf(v[12], 32, "%d", limit);
    const char *params[13];
    for (int i = 0; i < 13; i++)
        params[i] = v[i];
    return vt_db_query_binary(c, "nearby", 13, params, res, err, errlen);
}

void store_row(const PGresult *res, int row, store_position *out)
{
    vt_db_bin_uuid(res, row, 0, out->vendor_id);
    out->lat = vt_db_bin_float8(res, row, 1);
    out->lng = vt_db_bin_float8(res, row, 2);
    out->heading = vt_db_bin_float8(res, row, 3);
    out->speed = vt_db_bin_float8(res, row, 4);
    out->accuracy = vt_db_bin_float8(res, row, 5);
    out->ts = vt_db_bin_int8(res, row, 6);
    out->online = vt_db_bin_bool(res, row, 7);
    out->updated = vt_db_bin_int8(res, row, 8);
    int distance = PQfnumber(res, "distance_m"); /* nearby only */
    out->distance_m = distance >= 0 ? vt_db_bin_float8(res, row, distance) : 0;
}

/* A page of ids after `after` from a paging statement ($1 after, $2 limit). */
static int load_page(vt_db_conn *c, const char *statement, const char *after, int limit,
                     PGresult **res, char *err, size_t errlen)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    const char *params[2] = {*after ? after : "00000000-0000-0000-0000-000000000000", lim};
    return vt_db_query_binary(c, statement, 2, params, res, err, errlen);
}

int store_load_live(vt_db_conn *c, const char *after, int limit, PGresult **res, char *err,
                    size_t errlen)
{
    return load_page(c, "load_live", after, limit, res, err, errlen);
}

void store_live_row_at(const PGresult *res, int row, store_live_row *out)
{
    store_row(res, row, &out->position);
    out->offline_through = vt_db_bin_int8(res, row, 9);
    out->updated = out->position.updated;
}

int store_load_deleted(vt_db_conn *c, const char *after, int limit, PGresult **res, char *err,
                       size_t errlen)
{
    return load_page(c, "load_deleted", after, limit, res, err, errlen);
}
