/*
 * store.h — venta-location's SQL: the batched upsert of live positions, presence, and
 * the box, radius and single-vendor reads. Every statement is prepared on each
 * connection (vt_db_statement) and takes bound parameters only.
 */
#ifndef VENTA_LOCATION_STORE_H
#define VENTA_LOCATION_STORE_H

#include "vt_events.h"
#include "vt_db.h"
#include "vt_geo.h"

extern const vt_db_statement store_statements[];
extern const size_t store_nstatements;
/* Session settings of the connections that run the reads (vt_db_pool_set_session_sql). */
extern const char *const store_read_session_sql;

/* One row of get/in_bounds/nearby (see store_row). */
typedef struct {
    char vendor_id[VT_UUID_LEN + 1];
    double lat, lng, heading, speed, accuracy, distance_m;
    int64_t ts;
    int64_t updated; /* when it was written (table) or arrived (live map), ms */
    bool online;
} store_position;

/* One stored vendor as the live map loads it (store_load_live, store_live_row_at). */
typedef struct {
    store_position position; /* online as stored (not cut by the TTL); distance_m 0 */
    int64_t offline_through; /* ms, 0 when none */
    int64_t updated;         /* when it was written, ms since the epoch */
} store_live_row;

/* One multi-row upsert; rows must have distinct vendor ids. Updates older than the
 * stored position (by vendor timestamp) leave it as it is. A live row marks the vendor
 * online unless it is not newer than the last offline's boundary; others leave online
 * as it was (false for a new vendor). */
int store_upsert_batch(vt_db_conn *c, const vt_events_position *rows, size_t n, char *err,
                       size_t errlen);
/* Presence from vendor.<id>.status. An offline with last_ts_ms (> 0) wins over the
 * positions up to it, stored or still to come; without one, over positions stored
 * before ts_ms. */
int store_set_online(vt_db_conn *c, const char *vendor_id, bool online, int64_t ts_ms,
                     int64_t last_ts_ms, char *err, size_t errlen);
/* A deleted vendor leaves the live map at once, and is remembered: later positions for
 * it are not stored (store_upsert_batch skips them). */
int store_remove(vt_db_conn *c, const char *vendor_id, char *err, size_t errlen);
/* Remove rows of vendors deleted in the last ten minutes that a batch racing the
 * deletion stored anyway (see store.c). */
int store_sweep_deleted(vt_db_conn *c, char *err, size_t errlen);
int store_ping(vt_db_conn *c, char *err, size_t errlen);

/* Reads: *res holds the rows (decode with store_row, then PQclear). ttl_s bounds how old
 * a stored position may be to count as live. */
int store_get(vt_db_conn *c, const char *vendor_id, int ttl_s, PGresult **res, char *err,
              size_t errlen);
int store_in_bounds(vt_db_conn *c, const vt_geo_box *box, int ttl_s, int limit, PGresult **res,
                    char *err, size_t errlen);
int store_nearby(vt_db_conn *c, double lat, double lng, double radius_m, int ttl_s, int limit,
                 PGresult **res, char *err, size_t errlen);
void store_row(const PGresult *res, int row, store_position *out);
/* A page of the stored positions, fresh or not, in vendor id order: up to limit rows
 * with ids after `after` ("" for the first page). Decode with store_live_row_at. */
int store_load_live(vt_db_conn *c, const char *after, int limit, PGresult **res, char *err,
                    size_t errlen);
void store_live_row_at(const PGresult *res, int row, store_live_row *out);
/* A page of deleted vendors' ids (uuid, binary) in id order, as store_load_live. */
int store_load_deleted(vt_db_conn *c, const char *after, int limit, PGresult **res, char *err,
                       size_t errlen);

#endif
