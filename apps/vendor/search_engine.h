/*
 * search_engine.h — one vendor search over the inverted index (search_engine.c): the
 * query's words, their candidate terms, the verified matches, the ranked page.
 *
 * Two round trips on the caller's connection: the candidate terms (store_search_
 * candidates), then the ranked vendors (store_search_rank). Nothing is cached between
 * searches; every replica sees every write at once.
 */
#ifndef VENTA_VENDOR_SEARCH_ENGINE_H
#define VENTA_VENDOR_SEARCH_ENGINE_H

#include "search_words.h"
#include "store.h"
#include "vt_db.h"

/* Prefix expansions of the last word looked at, in term order. */
#define SEARCH_PREFIX_TERMS_MAX 500
/* Hits reachable by paging, as Algolia's default paginationLimitedTo. */
#define SEARCH_HITS_MAX 1000

typedef struct {
    const char *q;
    /* filters and position: store_rank_args' fields of the same names */
    bool near;
    double lat, lng, radius_m;
    bool box;
    double sw_lat, sw_lng, ne_lat, ne_lng;
    bool open_now;
    double online_window_s;
    int offset, limit;
} search_request;

typedef struct {
    search_query query; /* the parsed words, for highlighting */
    PGresult *res;      /* store_search_rank's rows; NULL when nothing can match */
    long total;         /* hits in all */
} search_result;

/* Run r on c. 0 with *out filled (PQclear out->res), or a VT_* code with err. */
int search_engine_run(vt_db_conn *c, const search_request *r, search_result *out, char *err,
                      size_t errlen);

#endif
