/*
 * store.h — venta-vendor's SQL over vendor.vendors (prisma-free-sql/0003_vendor.sql).
 *
 * Every statement is prepared on each connection (vt_db_statement) and takes bound
 * parameters only. Rows that are soft-deleted (deleted_at set) are invisible to every
 * read and write here. Reads return the columns that store_row decodes; functions
 * return 0 or a VT_* code with a message in err, and on success leave a PGresult in
 * *res for the caller to PQclear.
 */
#ifndef VENTA_VENDOR_STORE_H
#define VENTA_VENDOR_STORE_H

#include "vt_db.h"
#include "vt_events.h"

#include <stdbool.h>
#include <stdint.h>

extern const vt_db_statement store_statements[];
extern const size_t store_nstatements;
/* Session settings of the service's connections (vt_db_pool_set_session_sql). */
extern const char *const store_session_sql;

/* One decoded row; every string points into the PGresult. Optional profile fields
 * that are NULL in the table come back as "". */
typedef struct {
    const char *id, *owner_id, *name, *description, *email, *phone, *website, *profile_image;
    bool is_open;
    bool has_location;
    double lat, lng;
    const char *location_at; /* RFC 3339 with milliseconds, "" without a location */
    const char *created_at, *updated_at;
    const char *created_key; /* created_at with microseconds: List's exact sort key */
} store_vendor;

void store_row(PGresult *res, int row, store_vendor *out);
/* Where is_open is in a full vendor row (store_row's) and in a deleted vendor's row
 * (id, owner_id, name, is_open). */
#define STORE_IS_OPEN_COLUMN 8
#define STORE_DELETED_IS_OPEN_COLUMN 3

/* The profile fields of a create; "" means none for email, phone, website and
 * profile_image (stored as NULL). */
typedef struct {
    const char *name, *description, *email, *phone, *website, *profile_image;
    bool is_open;
} store_profile;

/* A partial update: a field changes only when its has_ flag is set. */
typedef struct {
    bool has_name, has_description, has_email, has_phone, has_website, has_profile_image,
        has_is_open;
    store_profile v;
} store_patch;

/* Inside a transaction. The new row, or no row when owner_id's user was deleted
 * (store_delete_by_owner remembers it). */
int store_insert(vt_db_conn *c, const char *owner_id, const store_profile *p, PGresult **res,
                 char *err, size_t errlen);
int store_get(vt_db_conn *c, const char *id, PGresult **res, char *err, size_t errlen);
/* Updates the live vendor id when owner_id owns it; no row when it is missing or owned
 * by someone else (store_owner tells which). */
int store_update(vt_db_conn *c, const char *id, const char *owner_id, const store_patch *p,
                 PGresult **res, char *err, size_t errlen);
/* Soft-deletes the live vendor id when owner_id owns it; returns the row (id, owner_id,
 * name, is_open) or no row. */
int store_delete(vt_db_conn *c, const char *id, const char *owner_id, PGresult **res, char *err,
                 size_t errlen);
/* Inside a transaction: soft-deletes every live vendor of owner_id, one row (id,
 * owner_id, name, is_open) each, and remembers the owner so that it creates no more. */
int store_delete_by_owner(vt_db_conn *c, const char *owner_id, PGresult **res, char *err,
                          size_t errlen);
/* Owner of the live vendor id: one row (owner_id), or none. */
int store_owner(vt_db_conn *c, const char *id, PGresult **res, char *err, size_t errlen);

/* Page of live vendors ordered by (created_at, id), after the key (after_created,
 * after_id) when after_id is non-NULL (after_created is a created_key); owner_id ""
 * means every owner. limit rows at most. */
int store_list(vt_db_conn *c, const char *owner_id, const char *after_created, const char *after_id,
               int limit, PGresult **res, char *err, size_t errlen);

/* Terms of the search vocabulary that share a variant with the array literal variants
 * ({a,b,...}), plus up to prefix_max terms starting with prefix (NULL for none), in
 * one column. */
int store_search_candidates(vt_db_conn *c, const char *variants, const char *prefix, int prefix_max,
                            PGresult **res, char *err, size_t errlen);

typedef struct {
    /* Array literals of equal length, one entry per (term, query word) match: the term,
     * the word's index, its typos, and whether it is exact (no typo, not a prefix). */
    const char *terms, *words, *typos, *exact;
    int nwords; /* a vendor must match every one of them */
    bool near;  /* rank by distance from (lat, lng); radius_m > 0 also filters */
    double lat, lng, radius_m;
    bool box; /* only inside the box (sw_lng > ne_lng crosses the antimeridian) */
    double sw_lat, sw_lng, ne_lat, ne_lng;
    bool open_now;
    double online_window_s; /* > 0: only vendors with a live position this recent */
    int offset, limit;
    /* -1: rank from every posting of every matched term; a word's index: from the vendors
     * holding that word only (the rarest one), each checked for the others. Same page. */
    int driver;
} store_rank_args;

/* The ranked page of vendors: store_row's columns, then store_search_row's. */
int store_search_rank(vt_db_conn *c, const store_rank_args *a, PGresult **res, char *err,
                      size_t errlen);

/* Per query word (rows ordered by word index: word, count), the postings of its matched
 * terms in a's arrays, counted up to cap. */
int store_search_sizes(vt_db_conn *c, const store_rank_args *a, long cap, PGresult **res, char *err,
                       size_t errlen);

typedef struct {
    int typos;      /* the tier walked: in the name, these typos, */
    bool exact;     /* and exact or not */
    long budget;    /* vendors looked at, at most, most recently active first */
    long count_cap; /* the estimated total counts postings up to this */
} store_walk_args;

/* a's page (a one-word query; offset and limit; its filters and position are not
 * applied: the caller walks only without them) among the vendors of one text tier, in
 * recency order, looking at the budget's most recent vendors only: fewer rows than the
 * limit when the tier ends or the budget runs out. The rows are store_search_rank's;
 * total is an estimate. */
int store_search_walk(vt_db_conn *c, const store_rank_args *a, const store_walk_args *w,
                      PGresult **res, char *err, size_t errlen);

/* The same tier near a's position (a->near; a->radius_m > 0 also filters; a's other
 * filters are not applied): w->budget vendors with a position, the nearest first, each
 * one read, ranked by distance, recency and id. The rows are store_search_walk's, and
 * then store_walk_edge_row's four columns. */
int store_search_walk_near(vt_db_conn *c, const store_rank_args *a, const store_walk_args *w,
                           PGresult **res, char *err, size_t errlen);

typedef struct {
    double far_m; /* the farthest vendor read */
    long scanned; /* vendors read: fewer than the budget when no other has a position */
    long within;  /* of them, those within the radius (all of them without one) */
    long tier;    /* of those, the tier's (the page is some of them) */
} store_walk_edge;

/* From a store_search_walk_near result with at least one row. */
void store_walk_edge_row(PGresult *res, store_walk_edge *out);

typedef struct {
    int typos;
    bool has_distance;
    double distance_m;
    long total; /* rows of the whole result, on every row */
} store_search_hit;

void store_search_row(PGresult *res, int row, store_search_hit *out);

/* One UPDATE for n positions (distinct vendor ids; lat, lng and ts are written, and a live
 * one stamps last_live_at with the server's time: online-now); a position older
 * than the stored one, or of a deleted or unknown vendor, changes nothing. *written (may be NULL)
 * receives the rows changed. */
int store_write_locations(vt_db_conn *c, const vt_events_position *rows, size_t n, long *written,
                          char *err, size_t errlen);

#endif
