/*
 * search_engine.h — one vendor search over the inverted index (search_engine.c): the
 * query's words, their candidate terms, the verified matches, the ranked page.
 *
 * Round trips on the caller's connection: the candidate terms (store_search_candidates),
 * then, unless the plan is `aggregate`, how many postings each word has
 * (store_search_sizes), then the page by one of three paths (docs/search.md, "How
 * fast"): one word with many postings walks its best text tier in recency order
 * (store_search_walk), or nearest first when a position is given
 * (store_search_walk_near, in rounds), its total estimated; several words rank from the rarest
 * word's vendors (store_search_rank with a driver); the rest aggregate every posting
 * (store_search_rank). All three give the same page. Nothing is cached between
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
/* Postings counted per word to find the rarest one (an index-only count: 20,000 cost
 * a few ms on a loaded machine, against the 100+ ms ranking from the wrong word does). */
#define SEARCH_SIZES_CAP 20000
/* Postings counted for a walk's estimated total. */
#define SEARCH_ESTIMATE_CAP 20000
/* More typos than any match has. */
#define SEARCH_TYPOS_NONE 1000

/* How searches are run (VENTA_VENDOR_SEARCH_* in main.c). */
typedef struct {
    /* Every search by the one aggregating statement, as before 0012 (the bench's
     * baseline, and a way back). */
    bool aggregate;
    /* A one-word search whose terms have more postings than this, without filters (a
     * position and its radius are not filters here), walks its best tier in recency
     * order, or nearest first (0: never). */
    long walk_min;
    /* Vendors a walk looks at, at most, before the exact path takes over. */
    long walk_budget;
} search_plan;
#define SEARCH_PLAN_DEFAULT                                                                        \
    {                                                                                              \
        .aggregate = false, .walk_min = 2000, .walk_budget = 4000                                  \
    }

typedef enum {
    SEARCH_PATH_NONE,      /* no word, or a word without a match: nothing ran */
    SEARCH_PATH_AGGREGATE, /* every posting aggregated (store_search_rank) */
    SEARCH_PATH_DRIVEN,    /* from the rarest word's vendors */
    SEARCH_PATH_WALK,      /* the best tier by recency or distance; total estimated */
} search_path;

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
    search_plan plan;
} search_request;

typedef struct {
    search_query query; /* the parsed words, for highlighting */
    PGresult *res;      /* store_search_rank's rows; NULL when nothing can match */
    long total;         /* hits in all */
    bool estimated;     /* total is an estimate (Algolia's exhaustiveNbHits: false) */
    search_path path;   /* how the page was found */
} search_result;

/* Run r on c. 0 with *out filled (PQclear out->res), or a VT_* code with err. */
int search_engine_run(vt_db_conn *c, const search_request *r, search_result *out, char *err,
                      size_t errlen);

#endif
