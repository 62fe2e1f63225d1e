/*
 * Unit tests of the live map (apps/location/livemap.c): the table's rules for
 * positions, presence and deletion; merging a loaded row; expiry a slice at a time;
 * box reads across the antimeridian, at the poles and over the whole world; radius
 * reads nearest first; and a randomized comparison of both reads, through moves,
 * removals and expiry, with a brute-force scan of a plain array.
 */
#include "livemap.h"
#include "vt_test.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static vt_events_position at(int vendor, double lat, double lng, int64_t ts, bool live)
{
    vt_events_position u = {.lat = lat, .lng = lng, .ts = ts, .live = live};
    snprintf(u.vendor_id, sizeof u.vendor_id, "00000000-0000-4000-8000-%012d", vendor);
    return u;
}

static const char *id(int vendor)
{
    static char buf[4][VT_UUID_LEN + 1];
    static int k;
    char *out = buf[k++ % 4];
    snprintf(out, VT_UUID_LEN + 1, "00000000-0000-4000-8000-%012d", vendor);
    return out;
}

static const vt_geo_box WORLD = {.ne = {90, 180}, .sw = {-90, -180}};

/* The one stored position of vendor, found through a world box; false when absent. */
static bool lookup(const livemap *m, int vendor, int64_t fresh_after, store_position *out)
{
    store_position all[64];
    size_t n = livemap_in_bounds(m, &WORLD, fresh_after, 64, all);
    for (size_t i = 0; i < n; i++)
        if (strcmp(all[i].vendor_id, id(vendor)) == 0) {
            *out = all[i];
            return true;
        }
    return false;
}

static void test_positions_latest_wins(void)
{
    livemap *m = livemap_new();
    vt_events_position a = at(1, 10, 20, 1000, false);
    a.heading = 0.1; /* the table keeps `real` */
    VT_CHECK(livemap_put(m, &a, 5000));
    store_position p;
    VT_CHECK(lookup(m, 1, 0, &p));
    VT_CHECK_NEAR(p.lat, 10, 0);
    VT_CHECK(p.heading == (double)(float)0.1);
    VT_CHECK(!p.online); /* a new vendor from REST is not online */
    VT_CHECK_INT(p.ts, 1000);
    vt_events_position older = at(1, 11, 21, 999, true);
    VT_CHECK(livemap_put(m, &older, 6000));
    VT_CHECK(lookup(m, 1, 0, &p));
    VT_CHECK_NEAR(p.lat, 10, 0);
    VT_CHECK(!p.online);
    VT_CHECK(!lookup(m, 1, 5000, &p)); /* its freshness is still the first arrival */
    vt_events_position same = at(1, 12, 22, 1000, true); /* an equal timestamp replaces */
    VT_CHECK(livemap_put(m, &same, 7000));
    VT_CHECK(lookup(m, 1, 6500, &p));
    VT_CHECK_NEAR(p.lat, 12, 0);
    VT_CHECK(p.online);
    VT_CHECK_INT(livemap_count(m), 1);
    store_position one;
    VT_CHECK(livemap_get(m, id(1), 6500, &one) && one.lat == 12 && one.online);
    VT_CHECK_STR(one.vendor_id, id(1));
    VT_CHECK(!livemap_get(m, id(1), 7000, &one)); /* not fresh enough */
    VT_CHECK(!livemap_get(m, id(9), 0, &one));    /* unknown */
    VT_CHECK(!livemap_get(m, "00000000-0000-4000-8000-00000000000Z", 0, &one));
    /* Upper-case ids name the same vendor; replies are lower case, as the table's. */
    vt_events_position upper = at(0, 1, 1, 1, false);
    snprintf(upper.vendor_id, sizeof upper.vendor_id, "ABCDEF00-0000-4000-8000-00000000000A");
    VT_CHECK(livemap_put(m, &upper, 7000));
    VT_CHECK(livemap_get(m, "abcdef00-0000-4000-8000-00000000000a", 0, &one));
    VT_CHECK_STR(one.vendor_id, "abcdef00-0000-4000-8000-00000000000a");
    VT_CHECK(livemap_remove(m, "abcdef00-0000-4000-8000-00000000000A"));
    /* A move to the other side of the world leaves the old place. */
    vt_events_position far = at(1, -33.9, 151.2, 2000, true);
    VT_CHECK(livemap_put(m, &far, 8000));
    vt_geo_box old_place = {.ne = {13, 23}, .sw = {11, 21}};
    VT_CHECK_INT(livemap_in_bounds(m, &old_place, 0, 10, &p), 0);
    vt_geo_box sydney = {.ne = {-33, 152}, .sw = {-34, 151}};
    VT_CHECK_INT(livemap_in_bounds(m, &sydney, 0, 10, &p), 1);
    livemap_free(m);
}

static void test_presence_rules(void)
{
    livemap *m = livemap_new();
    store_position p;
    livemap_set_online(m, id(2), true, 1, 0); /* no position: nothing to update */
    VT_CHECK_INT(livemap_count(m), 0);

    vt_events_position fix = at(2, 1, 1, 1000, true);
    VT_CHECK(livemap_put(m, &fix, 10000));
    VT_CHECK(lookup(m, 2, 0, &p) && p.online);
    /* The offline of a connection whose last fix was 1001, before that fix arrives. */
    livemap_set_online(m, id(2), false, 10500, 1001);
    VT_CHECK(lookup(m, 2, 0, &p) && !p.online);
    vt_events_position last = at(2, 1.1, 1.1, 1001, true);
    VT_CHECK(livemap_put(m, &last, 10600));
    VT_CHECK(lookup(m, 2, 0, &p) && !p.online && p.ts == 1001);
    vt_events_position next = at(2, 1.2, 1.2, 1002, true); /* a new connection */
    VT_CHECK(livemap_put(m, &next, 10700));
    VT_CHECK(lookup(m, 2, 0, &p) && p.online);
    /* An offline whose boundary is older than the stored fix does not apply. */
    livemap_set_online(m, id(2), false, 10800, 1001);
    VT_CHECK(lookup(m, 2, 0, &p) && p.online);
    /* A fix that is not live leaves presence alone. */
    vt_events_position rest = at(2, 1.3, 1.3, 1003, false);
    VT_CHECK(livemap_put(m, &rest, 10900));
    VT_CHECK(lookup(m, 2, 0, &p) && p.online);
    /* An expired presence (no boundary) applies unless the position arrived later. */
    livemap_set_online(m, id(2), false, 10899, 0);
    VT_CHECK(lookup(m, 2, 0, &p) && p.online);
    livemap_set_online(m, id(2), false, 10900, 0);
    VT_CHECK(lookup(m, 2, 0, &p) && !p.online);
    livemap_set_online(m, id(2), true, 1, 0); /* an online always applies */
    VT_CHECK(lookup(m, 2, 0, &p) && p.online);

    VT_CHECK(livemap_remove(m, id(2)));
    VT_CHECK(!lookup(m, 2, 0, &p));
    VT_CHECK(!livemap_get(m, id(2), 0, &p));
    VT_CHECK(livemap_remove(m, id(2)));
    VT_CHECK(livemap_remove(m, "not-a-uuid"));
    /* Deleted stays deleted: a position on its way after the deletion is ignored, and
     * so is one for a vendor deleted before the map ever saw it. */
    vt_events_position late = at(2, 1.4, 1.4, 2000, true);
    VT_CHECK(livemap_put(m, &late, 11000));
    VT_CHECK(!lookup(m, 2, 0, &p));
    VT_CHECK(livemap_remove(m, id(3)));
    vt_events_position never = at(3, 1, 1, 1, true);
    VT_CHECK(livemap_put(m, &never, 11000));
    VT_CHECK(!lookup(m, 3, 0, &p));
    livemap_set_online(m, id(3), true, 11000, 0);
    VT_CHECK(!lookup(m, 3, 0, &p));
    livemap_free(m);
}

static store_live_row row(int vendor, double lat, int64_t ts, bool online, int64_t through,
                          int64_t updated)
{
    store_live_row r = {.position = {.lat = lat, .ts = ts, .online = online},
                        .offline_through = through,
                        .updated = updated};
    snprintf(r.position.vendor_id, sizeof r.position.vendor_id, "%s", id(vendor));
    return r;
}

static void test_merging_loaded_rows(void)
{
    livemap *m = livemap_new();
    store_position p;
    store_live_row a = row(3, 5, 1000, true, 0, 9000);
    VT_CHECK(livemap_merge_row(m, &a, 0));
    VT_CHECK(lookup(m, 3, 8999, &p) && p.online && p.lat == 5);
    VT_CHECK(!lookup(m, 3, 9000, &p));
    /* A newer position arrived during the load; the row is older: the position stays. */
    vt_events_position fresh = at(4, 6, 0, 2000, true);
    VT_CHECK(livemap_put(m, &fresh, 9500));
    store_live_row old = row(4, 7, 1500, false, 0, 9400);
    VT_CHECK(livemap_merge_row(m, &old, 0));
    VT_CHECK(lookup(m, 4, 0, &p) && p.lat == 6 && p.online);
    /* A fix that arrived during the load but predates the offline the table knew. */
    vt_events_position late = at(5, 8, 0, 3000, true);
    VT_CHECK(livemap_put(m, &late, 9600));
    store_live_row knew = row(5, 8.5, 2900, false, 3000, 9550);
    VT_CHECK(livemap_merge_row(m, &knew, 0));
    VT_CHECK(lookup(m, 5, 0, &p) && p.lat == 8 && !p.online);
    vt_events_position after = at(5, 8.1, 0, 3001, true);
    VT_CHECK(livemap_put(m, &after, 9700));
    VT_CHECK(lookup(m, 5, 0, &p) && p.online);
    /* A newer row replaces an older position. */
    vt_events_position stale = at(6, 1, 1, 100, true);
    VT_CHECK(livemap_put(m, &stale, 9000));
    store_live_row newer = row(6, 2, 200, false, 0, 8000);
    VT_CHECK(livemap_merge_row(m, &newer, 0));
    VT_CHECK(lookup(m, 6, 7500, &p) && p.lat == 2 && !p.online); /* the table's time */
    livemap_free(m);
}

static void test_expiry_in_slices(void)
{
    livemap *m = livemap_new();
    for (int v = 0; v < 1000; v++) {
        vt_events_position u = at(v, 40 + v * 0.001, -74, 1, true);
        VT_CHECK(livemap_put(m, &u, v < 600 ? 100 : 200));
    }
    size_t cells = livemap_cells(m);
    VT_CHECK(cells > 1);
    size_t cursor = 0;
    int slices = 0;
    do {
        cursor = livemap_expire(m, 150, cursor, 128);
        slices++;
    } while (cursor != 0);
    VT_CHECK_INT(slices, 8);
    VT_CHECK_INT(livemap_count(m), 1000); /* still known, as their rows are */
    store_position all[1000];
    VT_CHECK_INT(livemap_in_bounds(m, &WORLD, 0, 1000, all), 400); /* off the grid */
    VT_CHECK(livemap_cells(m) < cells);                            /* emptied cells are dropped */
    /* Back on the grid with a new position. */
    for (int v = 0; v < 600; v++) {
        vt_events_position u = at(v, 40, -74 + v * 0.0001, 2, true);
        VT_CHECK(livemap_put(m, &u, 300));
    }
    VT_CHECK_INT(livemap_count(m), 1000);
    VT_CHECK_INT(livemap_in_bounds(m, &WORLD, 0, 1000, all), 1000);
    /* Everyone in one place: one cell is left. */
    for (int v = 0; v < 1000; v++) {
        vt_events_position u = at(v, 10.001, 10.001, 3, true);
        VT_CHECK(livemap_put(m, &u, 400));
    }
    VT_CHECK_INT(livemap_cells(m), 1);
    vt_geo_box spot = {.ne = {10.002, 10.002}, .sw = {10, 10}};
    VT_CHECK_INT(livemap_in_bounds(m, &spot, 0, 1000, all), 1000);
    livemap_clear(m);
    VT_CHECK_INT(livemap_count(m), 0);
    VT_CHECK_INT(livemap_in_bounds(m, &WORLD, 0, 1000, all), 0);
    livemap_free(m);
}

/* A vendor whose position went stale is still known: the rules compare with what is
 * stored, as the table does with the row it keeps. */
static void test_stale_vendors_keep_their_rules(void)
{
    livemap *m = livemap_new();
    store_position p;
    vt_events_position yesterday = at(7, 1, 1, 1000, true);
    VT_CHECK(livemap_put(m, &yesterday, 100));
    VT_CHECK_INT(livemap_expire(m, 200, 0, 100), 0);
    VT_CHECK(!livemap_get(m, id(7), 150, &p));
    /* It comes back: its connection's offline overtakes the last fix. */
    livemap_set_online(m, id(7), false, 300, 2000);
    vt_events_position last = at(7, 1.1, 1.1, 2000, true);
    VT_CHECK(livemap_put(m, &last, 310));
    VT_CHECK(livemap_get(m, id(7), 150, &p) && !p.online); /* the table says offline too */
    /* A position older than the stored one is ignored although that one went stale. */
    VT_CHECK_INT(livemap_expire(m, 400, 0, 100), 0);
    vt_events_position older = at(7, 2, 2, 1500, true);
    VT_CHECK(livemap_put(m, &older, 500));
    VT_CHECK(!livemap_get(m, id(7), 400, &p));
    /* A REST position (not live) keeps the presence the vendor had. */
    livemap_set_online(m, id(7), true, 600, 0);
    vt_events_position rest = at(7, 3, 3, 3000, false);
    VT_CHECK(livemap_put(m, &rest, 700));
    VT_CHECK(livemap_get(m, id(7), 650, &p) && p.online && p.lat == 3);
    livemap_free(m);
}

/* A load merges into what arrived meanwhile and forgets what the table lost. */
static void test_loads(void)
{
    livemap *m = livemap_new();
    store_position p;
    vt_events_position gone = at(1, 1, 1, 10, true); /* deleted while messages were missed */
    VT_CHECK(livemap_put(m, &gone, 100));
    vt_events_position kept = at(2, 2, 2, 10, true);
    VT_CHECK(livemap_put(m, &kept, 100));
    livemap_begin_load(m);
    /* During the load: a REST position of vendor 3, whose row says online. */
    vt_events_position rest = at(3, 3, 3, 20, false);
    VT_CHECK(livemap_put(m, &rest, 150));
    store_live_row r3 = row(3, 3.5, 15, true, 0, 140);
    VT_CHECK(livemap_merge_row(m, &r3, 0));
    VT_CHECK(livemap_get(m, id(3), 0, &p) && p.lat == 3 && p.online);
    store_live_row r2 = row(2, 2, 10, true, 0, 120);
    VT_CHECK(livemap_merge_row(m, &r2, 0));
    store_live_row stale = row(4, 4, 5, true, 0, 50); /* written before fresh_after */
    VT_CHECK(livemap_merge_row(m, &stale, 60));
    VT_CHECK(!livemap_get(m, id(4), 0, &p) || p.ts == 5);
    vt_geo_box around4 = {.ne = {4.5, 0.5}, .sw = {3.5, -0.5}};
    VT_CHECK_INT(livemap_in_bounds(m, &around4, 0, 10, &p), 0); /* known, not on the grid */
    /* Deleted during the load (the table's deleted_vendors rows come the same way). */
    VT_CHECK(livemap_remove(m, id(5)));
    store_live_row r5 = row(5, 5, 30, true, 0, 160); /* read before the deletion */
    VT_CHECK(livemap_merge_row(m, &r5, 0));
    VT_CHECK(!livemap_get(m, id(5), 0, &p));
    VT_CHECK_INT(livemap_end_load(m), 1); /* vendor 1 */
    VT_CHECK(!livemap_get(m, id(1), 0, &p));
    VT_CHECK(livemap_get(m, id(2), 0, &p) && livemap_get(m, id(3), 0, &p));
    VT_CHECK_INT(livemap_count(m), 4); /* 2, 3, 4 and 5's tombstone */
    vt_events_position after = at(5, 5, 5, 40, true);
    VT_CHECK(livemap_put(m, &after, 170));
    VT_CHECK(!livemap_get(m, id(5), 0, &p));
    /* A deletion the table has not applied yet (its writer is behind this map's own
     * consumer): a load that finds the row merges it, the next load finds neither the
     * row nor a deleted_vendors row; the tombstone stays through both. */
    VT_CHECK(livemap_remove(m, id(6)));
    livemap_begin_load(m);
    store_live_row r6 = row(6, 6, 30, true, 0, 160);
    VT_CHECK(livemap_merge_row(m, &r6, 0));
    VT_CHECK(livemap_merge_row(m, &r2, 0));
    VT_CHECK(livemap_merge_row(m, &r3, 0));
    VT_CHECK(livemap_merge_row(m, &stale, 60));
    VT_CHECK_INT(livemap_end_load(m), 0);
    livemap_begin_load(m);
    VT_CHECK(livemap_merge_row(m, &r2, 0));
    VT_CHECK(livemap_merge_row(m, &r3, 0));
    VT_CHECK(livemap_merge_row(m, &stale, 60));
    VT_CHECK_INT(livemap_end_load(m), 0);
    vt_events_position late = at(6, 6, 6, 50, true);
    VT_CHECK(livemap_put(m, &late, 180));
    VT_CHECK(!livemap_get(m, id(6), 0, &p));
    VT_CHECK(!livemap_get(m, id(5), 0, &p));
    livemap_free(m);
}

static bool has(const store_position *p, size_t n, int vendor)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(p[i].vendor_id, id(vendor)) == 0)
            return true;
    return false;
}

static void test_boxes(void)
{
    livemap *m = livemap_new();
    const double places[][2] = {{40.75, -73.99}, {40.60, -73.80}, {-16.5, 179.5}, {-16.5, -179.5},
                                {-16.5, 0.0},    {89.95, 45.0},   {90.0, -120.0}, {-90, 180},
                                {0, 180},        {0, -180},       {10, 10},       {10.5, 10.5}};
    for (int v = 0; v < 12; v++) {
        vt_events_position u = at(v, places[v][0], places[v][1], 1, true);
        VT_CHECK(livemap_put(m, &u, 100));
    }
    store_position p[16];
    vt_geo_box manhattan = {.ne = {40.80, -73.95}, .sw = {40.70, -74.05}};
    VT_CHECK_INT(livemap_in_bounds(m, &manhattan, 0, 16, p), 1);
    VT_CHECK(has(p, 1, 0));
    vt_geo_box fiji = {.ne = {-16, -179}, .sw = {-17, 179}}; /* across the antimeridian */
    size_t n = livemap_in_bounds(m, &fiji, 0, 16, p);
    VT_CHECK_INT(n, 2);
    VT_CHECK(has(p, n, 2) && has(p, n, 3));
    vt_geo_box between = {.ne = {-16, 179}, .sw = {-17, -179}}; /* not across: the world */
    n = livemap_in_bounds(m, &between, 0, 16, p);
    VT_CHECK(has(p, n, 4) && !has(p, n, 2) && !has(p, n, 3));
    vt_geo_box cap = {.ne = {90, 180}, .sw = {89.9, -180}};
    n = livemap_in_bounds(m, &cap, 0, 16, p);
    VT_CHECK_INT(n, 2);
    VT_CHECK(has(p, n, 5) && has(p, n, 6));
    vt_geo_box east_edge = {.ne = {1, 180}, .sw = {-1, 179}}; /* 180 and -180 are apart */
    n = livemap_in_bounds(m, &east_edge, 0, 16, p);
    VT_CHECK_INT(n, 1);
    VT_CHECK(has(p, n, 8));
    vt_geo_box edges = {.ne = {10.5, 10.5}, .sw = {10, 10}}; /* edges included */
    VT_CHECK_INT(livemap_in_bounds(m, &edges, 0, 16, p), 2);
    VT_CHECK_INT(livemap_in_bounds(m, &WORLD, 0, 16, p), 12);
    VT_CHECK_INT(livemap_in_bounds(m, &WORLD, 0, 3, p), 3);    /* limit */
    VT_CHECK_INT(livemap_in_bounds(m, &WORLD, 100, 16, p), 0); /* none fresh */
    livemap_free(m);
}

static void test_nearby(void)
{
    livemap *m = livemap_new();
    for (int k = 5; k >= 1; k--) { /* 1..5 km north of a point in Paris, far first */
        vt_events_position u = at(20 + k, 48.8566 + k * 0.009, 2.3522, 1, true);
        VT_CHECK(livemap_put(m, &u, 100));
    }
    vt_events_position across = at(30, 0.0, 179.999, 1, true);
    VT_CHECK(livemap_put(m, &across, 100));
    store_position p[8];
    size_t n = livemap_nearby(m, 48.8566, 2.3522, 3500, 0, 8, p);
    VT_CHECK_INT(n, 3);
    VT_CHECK_STR(p[0].vendor_id, id(21));
    VT_CHECK_STR(p[2].vendor_id, id(23));
    VT_CHECK(p[0].distance_m > 990 && p[0].distance_m < 1010);
    for (size_t i = 1; i < n; i++)
        VT_CHECK(p[i].distance_m > p[i - 1].distance_m);
    n = livemap_nearby(m, 48.8566, 2.3522, 10000, 0, 2, p); /* the nearest two */
    VT_CHECK_INT(n, 2);
    VT_CHECK_STR(p[0].vendor_id, id(21));
    VT_CHECK_STR(p[1].vendor_id, id(22));
    n = livemap_nearby(m, 0.0, -179.999, 1000, 0, 8, p);
    VT_CHECK_INT(n, 1);
    VT_CHECK_STR(p[0].vendor_id, id(30));
    VT_CHECK_INT(livemap_nearby(m, 48.8566, 2.3522, 3500, 100, 8, p), 0); /* none fresh */
    livemap_free(m);
}

/* ---- randomized comparison with a plain array ---- */

typedef struct {
    bool present; /* known (not deleted) */
    bool listed;  /* on the grid (not expired) */
    bool deleted; /* its later positions are ignored */
    double lat, lng;
    int64_t updated;
} model_vendor;

#define VENDORS 20000

static double uniform(double lo, double hi)
{
    return lo + (hi - lo) * ((double)rand() / RAND_MAX);
}

static void random_place(double *lat, double *lng)
{
    static const double cities[][2] = {{40.7, -74.0}, {51.5, -0.1}, {-16.5, 179.9},
                                       {35.7, 139.7}, {89.99, 0},   {-33.9, 151.2}};
    if (rand() % 10 == 0) {
        *lat = uniform(-90, 90);
        *lng = uniform(-180, 180);
        return;
    }
    const double *c = cities[rand() % 6];
    *lat = fmax(-90, fmin(90, c[0] + uniform(-0.1, 0.1)));
    *lng = c[1] + uniform(-0.1, 0.1);
    if (*lng > 180)
        *lng -= 360;
}

static void random_box(vt_geo_box *b)
{
    double lat, lng;
    random_place(&lat, &lng);
    double h = rand() % 20 == 0 ? uniform(1, 60) : uniform(0.005, 0.1);
    double w = h * uniform(0.5, 2);
    b->sw.lat = fmax(-90, lat - h);
    b->ne.lat = fmin(90, lat + h);
    b->sw.lng = lng - w < -180 ? lng - w + 360 : lng - w;
    b->ne.lng = lng + w > 180 ? lng + w - 360 : lng + w;
}

static int vendor_index(const char *vendor_id)
{
    return atoi(vendor_id + 24);
}

static void compare_once(const livemap *m, const model_vendor *model, int64_t fresh_after)
{
    static store_position got[VENDORS];
    vt_geo_box b;
    random_box(&b);
    size_t n = livemap_in_bounds(m, &b, fresh_after, VENDORS, got);
    size_t expected = 0;
    for (int v = 0; v < VENDORS; v++)
        if (model[v].listed && model[v].updated > fresh_after &&
            vt_geo_box_contains(&b, model[v].lat, model[v].lng))
            expected++;
    VT_CHECK_INT(n, expected);
    for (size_t i = 0; i < n; i++) {
        const model_vendor *mv = &model[vendor_index(got[i].vendor_id)];
        VT_CHECK(mv->listed && mv->lat == got[i].lat && mv->lng == got[i].lng);
    }

    double lat, lng;
    random_place(&lat, &lng);
    double radius = uniform(100, 20000);
    size_t limit = 50;
    n = livemap_nearby(m, lat, lng, radius, fresh_after, limit, got);
    size_t within = 0;
    static double d[VENDORS];
    for (int v = 0; v < VENDORS; v++) {
        if (!model[v].listed || model[v].updated <= fresh_after)
            continue;
        double dist;
        vt_geo_distance_m(lat, lng, model[v].lat, model[v].lng, &dist);
        if (dist <= radius)
            d[within++] = dist;
    }
    VT_CHECK_INT(n, within < limit ? within : limit);
    for (size_t i = 0; i < n; i++) {
        size_t closer = 0;
        for (size_t j = 0; j < within; j++)
            closer += d[j] < got[i].distance_m;
        VT_CHECK(closer <= i); /* the i-th result has at most i strictly nearer */
        const model_vendor *mv = &model[vendor_index(got[i].vendor_id)];
        double own;
        vt_geo_distance_m(lat, lng, mv->lat, mv->lng, &own);
        VT_CHECK(mv->listed && own == got[i].distance_m && own <= radius); /* its own */
        if (i > 0)
            VT_CHECK(got[i].distance_m >= got[i - 1].distance_m);
    }
}

static void test_randomized_against_a_scan(void)
{
    srand(7);
    static model_vendor model[VENDORS];
    memset(model, 0, sizeof model);
    livemap *m = livemap_new();
    int64_t now = 1000;
    for (int round = 0; round < 6; round++) {
        for (int k = 0; k < VENDORS; k++) {
            int v = rand() % VENDORS;
            now++;
            if (rand() % 50 == 0) {
                VT_REQUIRE(livemap_remove(m, id(v)));
                model[v].present = model[v].listed = false;
                model[v].deleted = true;
                continue;
            }
            double lat, lng;
            random_place(&lat, &lng);
            vt_events_position u = at(v, lat, lng, now, true);
            VT_REQUIRE(livemap_put(m, &u, now));
            if (model[v].deleted)
                continue;
            model[v] = (model_vendor){
                .present = true, .listed = true, .lat = lat, .lng = lng, .updated = now};
        }
        int64_t cutoff = now - VENDORS / 2;
        for (int q = 0; q < 40; q++)
            compare_once(m, model, q % 2 ? cutoff : 0);
        if (round % 2 == 1) { /* expire the older half in slices */
            size_t cursor = 0;
            do
                cursor = livemap_expire(m, cutoff, cursor, 3000);
            while (cursor != 0);
            for (int v = 0; v < VENDORS; v++)
                if (model[v].listed && model[v].updated < cutoff)
                    model[v].listed = false; /* still known */
        }
        size_t present = 0;
        for (int v = 0; v < VENDORS; v++)
            present += model[v].present || model[v].deleted; /* tombstones are kept */
        VT_CHECK_INT(livemap_count(m), present);
    }
    livemap_free(m);
}

int main(void)
{
    VT_RUN(test_positions_latest_wins);
    VT_RUN(test_presence_rules);
    VT_RUN(test_merging_loaded_rows);
    VT_RUN(test_expiry_in_slices);
    VT_RUN(test_stale_vendors_keep_their_rules);
    VT_RUN(test_loads);
    VT_RUN(test_boxes);
    VT_RUN(test_nearby);
    VT_RUN(test_randomized_against_a_scan);
    return VT_TEST_RESULT();
}
