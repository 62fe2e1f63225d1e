/*
 * test_search_paths.c — the search's three paths (apps/vendor/search_engine.c: walk,
 * driven, aggregate) give the page the single aggregating statement gives, on a real
 * PostgreSQL: the same vendors in the same order, the same typos, the same total (or,
 * from a walk, an estimate flagged as one and never below the count).
 *
 * The engine is called in-process on a database of 3,000 vendors from a small vocabulary
 * (every word common, as bench/search's stress shape) with recency ties (updated_at on
 * the hour, so the id decides), deleted vendors, open ones and positions; the walk's
 * threshold is lowered so that it runs at this size. Each query is asked for several
 * pages and filters with plan `aggregate` (the reference) and with the paths, and the
 * test checks that each path really ran (a test of the walk that never walks proves
 * nothing).
 */
#define VT_TEST_COUNTERS_HERE
#include "search_engine.h"
#include "store.h"
#include "vt_harness.h"
#include "vt_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static vt_db_conn *conn;
static int path_runs[4];
static int near_walks; /* walks near a position */

static const char *const populate =
    "SELECT setseed(0.42); "
    "WITH w AS (SELECT "
    "'{golden,spicy,fresh,happy,urban,smoky,sweet,royal}'::text[] AS adj, "
    "'{taco,tacos,burrito,burger,bus,bun,noodle,pizza,pastor}'::text[] AS food, "
    "'{truck,cart,stand,bar,bus}'::text[] AS kind, "
    "'{fresh,spicy,tacos,buns,butter,salsa,verde,al,pastor,lime,rice,beans,late,night,"
    "coffee,sweet,tacoz,burritos,noodles,grill}'::text[] AS descw) "
    "INSERT INTO vendor.vendors (owner_id, name, description, is_open, updated_at) "
    "SELECT 'paths_' || (g % 300), "
    "initcap(adj[1 + floor(random() * 8)::int] || ' ' || food[1 + floor(random() * 9)::int] "
    "|| ' ' || kind[1 + floor(random() * 5)::int]), "
    "(SELECT string_agg(descw[1 + floor(random() * 20)::int + 0 * k], ' ') "
    "FROM generate_series(1, 3 + (g % 6)) AS k), "
    "random() < 0.4, date_trunc('hour', now()) - floor(random() * 200) * interval '1 hour' "
    "FROM w, generate_series(1, 3000) AS g; "
    /* two thirds with positions, some live, ten on one spot (ties of distance); some
     * deleted */
    "UPDATE vendor.vendors SET last_location = ST_SetSRID(ST_MakePoint(2 + random(), "
    "48 + random()), 4326)::geography, last_location_at = updated_at + interval '1 minute', "
    "last_live_at = CASE WHEN random() < 0.5 THEN now() END "
    "WHERE substr(owner_id, 7)::int % 3 <> 0; "
    "UPDATE vendor.vendors SET last_location = ST_SetSRID(ST_MakePoint(2.5, 48.5), "
    "4326)::geography WHERE owner_id = 'paths_10'; "
    "UPDATE vendor.vendors SET deleted_at = now() WHERE owner_id IN ('paths_7', 'paths_8'); "
    "ANALYZE vendor.vendors; ANALYZE vendor.search_postings";

static search_result run(const char *q, int offset, int limit, const search_plan *plan,
                         void (*filters)(search_request *))
{
    search_request r = {.q = q, .offset = offset, .limit = limit, .plan = *plan};
    if (filters)
        filters(&r);
    search_result sr;
    char err[256] = "";
    int rc = search_engine_run(conn, &r, &sr, err, sizeof err);
    if (rc != VT_OK)
        fprintf(stderr, "  search \"%s\": %d %s\n", q, rc, err);
    VT_CHECK_INT(rc, VT_OK);
    return sr;
}

static int rows(const search_result *sr)
{
    return sr->res ? PQntuples(sr->res) : 0;
}

static void near_paris(search_request *r);
static void near_paris_20km(search_request *r);

/* The paths' answer to (q, page, filters) is the aggregate's. */
static void same_page(const char *q, int offset, int limit, void (*filters)(search_request *))
{
    static const search_plan reference = {.aggregate = true};
    static const search_plan paths = {.walk_min = 50, .walk_budget = 3000};
    search_result want = run(q, offset, limit, &reference, filters);
    search_result got = run(q, offset, limit, &paths, filters);
    path_runs[got.path]++;
    near_walks += got.path == SEARCH_PATH_WALK && filters &&
                  (filters == near_paris || filters == near_paris_20km);
    VT_CHECK_INT(want.path == SEARCH_PATH_AGGREGATE || want.path == SEARCH_PATH_NONE, 1);
    bool same = rows(&want) == rows(&got);
    for (int i = 0; same && i < rows(&want); i++) {
        store_search_hit a, b;
        store_search_row(want.res, i, &a);
        store_search_row(got.res, i, &b);
        same = strcmp(PQgetvalue(want.res, i, 0), PQgetvalue(got.res, i, 0)) == 0 &&
               a.typos == b.typos && a.has_distance == b.has_distance &&
               (!a.has_distance || a.distance_m == b.distance_m);
    }
    if (!same)
        fprintf(stderr, "  \"%s\" offset %d limit %d: path %d gives %d rows, aggregate %d\n", q,
                offset, limit, (int)got.path, rows(&got), rows(&want));
    VT_CHECK(same);
    if (got.estimated) {
        VT_CHECK_INT(got.path, SEARCH_PATH_WALK);
        VT_CHECK(got.total >= want.total); /* every vendor has a posting of a term */
    } else {
        VT_CHECK_INT(got.total, want.total);
    }
    VT_CHECK(!want.estimated);
    PQclear(want.res);
    PQclear(got.res);
}

static void open_now(search_request *r)
{
    r->open_now = true;
}

static void near_paris(search_request *r)
{
    r->near = true, r->lat = 48.5, r->lng = 2.5;
}

static void near_paris_20km(search_request *r)
{
    near_paris(r);
    r->radius_m = 20000;
}

static void in_box(search_request *r)
{
    r->box = true, r->sw_lat = 48.2, r->sw_lng = 2.2, r->ne_lat = 48.8, r->ne_lng = 2.8;
}

static void online(search_request *r)
{
    r->online_window_s = 60;
}

static void test_same_pages(void)
{
    /* common and rare single words, typos, prefixes (the last word), several words */
    const char *const queries[] = {"taco",
                                   "tacos",
                                   "bus",
                                   "bu",
                                   "b",
                                   "fresh",
                                   "pastr",
                                   "pastor",
                                   "tako",
                                   "burito",
                                   "noodle",
                                   "grill",
                                   "verde",
                                   "golden taco",
                                   "golfen tacos",
                                   "spicy bu",
                                   "fresh bus",
                                   "taco truck",
                                   "sweet",
                                   "royal pizza c",
                                   "late night",
                                   "al pastor",
                                   "happy bun b",
                                   "zzz",
                                   "salsa verde lime",
                                   "urban noodle stand",
                                   "sm"};
    void (*const filters[])(search_request *) = {NULL,   open_now,        near_paris,
                                                 in_box, near_paris_20km, online};
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        same_page(queries[i], 0, 20, NULL);
        same_page(queries[i], 20, 20, NULL);
        same_page(queries[i], 7, 7, NULL);
        same_page(queries[i], 990, 10, NULL); /* the last reachable page */
        for (size_t f = 1; f < sizeof filters / sizeof filters[0]; f++)
            same_page(queries[i], 0, 20, filters[f]);
        /* near: the tied spot's pages, a page deep enough for rounds, past the radius */
        same_page(queries[i], 3, 5, near_paris);
        same_page(queries[i], 60, 20, near_paris);
        same_page(queries[i], 200, 20, near_paris_20km);
    }
    /* Each path ran, and the walk more than once (one word, no filter). */
    VT_CHECK(path_runs[SEARCH_PATH_WALK] >= 5);
    VT_CHECK(path_runs[SEARCH_PATH_DRIVEN] >= 5);
    VT_CHECK(path_runs[SEARCH_PATH_AGGREGATE] >= 5);
    VT_CHECK(near_walks >= 5);
    fprintf(stderr, "  paths: walk %d (near %d), driven %d, aggregate %d, none %d\n",
            path_runs[SEARCH_PATH_WALK], near_walks, path_runs[SEARCH_PATH_DRIVEN],
            path_runs[SEARCH_PATH_AGGREGATE], path_runs[SEARCH_PATH_NONE]);
}

/* A word found only in descriptions: its best possible tier (in a name) is empty, so the
 * walk runs out of budget and the exact path answers, with an exact total. */
static void test_walk_falls_back(void)
{
    static const search_plan paths = {.walk_min = 50, .walk_budget = 3000};
    search_result sr = run("salsa", 0, 20, &paths, NULL);
    VT_CHECK_INT(sr.path, SEARCH_PATH_AGGREGATE);
    VT_CHECK(!sr.estimated);
    VT_CHECK_INT(rows(&sr), 20);
    PQclear(sr.res);
    /* the same word below the threshold is not walked at all */
    static const search_plan high = {.walk_min = 100000, .walk_budget = 3000};
    sr = run("taco", 0, 20, &high, NULL);
    VT_CHECK_INT(sr.path, SEARCH_PATH_AGGREGATE);
    PQclear(sr.res);
}

int main(void)
{
    vt_log_init("test-search-paths", VT_LOG_ERROR);
    char *url = vt_harness_db_new_migrated("searchpaths");
    vt_db_conn_opts o = {
        .url = url, .statements = store_statements, .statement_count = store_nstatements};
    char err[256];
    VT_REQUIRE(vt_db_conn_new(&o, &conn, err, sizeof err) == VT_OK);
    VT_REQUIRE(vt_db_conn_set_session_sql(conn, store_session_sql) == VT_OK);
    VT_REQUIRE(vt_db_conn_ensure(conn, err, sizeof err) == VT_OK);
    VT_REQUIRE(vt_db_exec(vt_db_conn_pg(conn), populate, err, sizeof err) == VT_OK);
    VT_RUN(test_same_pages);
    VT_RUN(test_walk_falls_back);
    vt_db_conn_free(conn);
    free(url);
    return VT_TEST_RESULT();
}
