/*
 * test_geo.c — unit tests of libs/geo: known geohash values, decoding, strict validation,
 * neighbours, subject tokens, boxes across the antimeridian, haversine distances, and
 * covers, the last both against hand-checked cases and against a brute-force oracle and a
 * randomized completeness property (fixed seed, so a failure reproduces).
 */
#include "vt_geo.h"
#include "vt_test.h"

#include <float.h>
#include <stdint.h>

/* ---- helpers ---- */

static uint64_t rng_state = 0x5eed0fc0ffee1234ull;

static uint64_t rng_next(void)
{
    /* splitmix64: tiny, good enough, and the same sequence everywhere */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi], both ends reachable often enough to matter. */
static double rng_range(double lo, double hi)
{
    uint64_t r = rng_next();
    if (r % 64 == 0)
        return lo;
    if (r % 64 == 1)
        return hi;
    double u = (double)(rng_next() >> 11) / (double)(1ull << 53);
    double v = lo + (hi - lo) * u;
    return v < lo ? lo : v > hi ? hi : v;
}

static vt_geo_box box_of(double sw_lat, double sw_lng, double ne_lat, double ne_lng)
{
    vt_geo_box b = {.ne = {ne_lat, ne_lng}, .sw = {sw_lat, sw_lng}};
    return b;
}

/* Does a decoded cell include the point, with geohash's edge rule (south and west edges
 * included; north and east too for the top row and east column)? */
static bool cell_has(const vt_geo_box *c, double lat, double lng)
{
    bool lat_ok = lat >= c->sw.lat && (lat < c->ne.lat || (c->ne.lat == 90.0 && lat == 90.0));
    bool lng_ok = lng >= c->sw.lng && (lng < c->ne.lng || (c->ne.lng == 180.0 && lng == 180.0));
    return lat_ok && lng_ok;
}

/* Does the closed interval [lo, hi] meet the cell's [w, e) (or [w, e] at the top)? */
static bool meets(double lo, double hi, double w, double e, double top)
{
    return hi >= w && (e == top ? lo <= e : lo < e);
}

/* Independent oracle: does the cell named by hash meet the box? */
static bool cell_meets_box(const char *hash, const vt_geo_box *b)
{
    vt_geo_box c;
    if (vt_geo_hash_decode(hash, &c, NULL) != 0)
        return false;
    if (!meets(b->sw.lat, b->ne.lat, c.sw.lat, c.ne.lat, 90.0))
        return false;
    if (b->sw.lng <= b->ne.lng)
        return meets(b->sw.lng, b->ne.lng, c.sw.lng, c.ne.lng, 180.0);
    return meets(b->sw.lng, 180.0, c.sw.lng, c.ne.lng, 180.0) ||
           meets(-180.0, b->ne.lng, c.sw.lng, c.ne.lng, 180.0);
}

static const char alphabet[] = "0123456789bcdefghjkmnpqrstuvwxyz";

/* Every hash of a precision (<= 3) whose cell meets the box, in alphabet (= sorted) order. */
static size_t oracle_cover(const vt_geo_box *b, int precision, vt_geo_cell *out, size_t cap)
{
    size_t total = (size_t)1 << (5 * precision), n = 0;
    for (size_t i = 0; i < total; i++) {
        char h[4];
        for (int c = 0; c < precision; c++)
            h[c] = alphabet[(i >> (5 * (precision - 1 - c))) & 31];
        h[precision] = '\0';
        if (cell_meets_box(h, b)) {
            if (n < cap)
                memcpy(out[n].hash, h, (size_t)precision + 1);
            n++;
        }
    }
    return n;
}

static int cell_cmp(const void *a, const void *b)
{
    return strcmp(((const vt_geo_cell *)a)->hash, ((const vt_geo_cell *)b)->hash);
}

static bool cover_has_point(const vt_geo_cell *cells, size_t n, int precision, double lat,
                            double lng)
{
    vt_geo_cell key;
    if (vt_geo_hash_encode(lat, lng, precision, key.hash) != 0)
        return false;
    return bsearch(&key, cells, n, sizeof *cells, cell_cmp) != NULL;
}

/* ---- geohash ---- */

static void test_encode_known(void)
{
    char h[VT_GEO_HASH_MAX + 1];
    VT_CHECK_INT(vt_geo_hash_encode(57.64911, 10.40744, 11, h), 0);
    VT_CHECK_STR(h, "u4pruydqqvj");
    VT_CHECK_INT(vt_geo_hash_encode(42.6, -5.6, 5, h), 0);
    VT_CHECK_STR(h, "ezs42");
    VT_CHECK_INT(vt_geo_hash_encode(-25.382708, -49.265506, 12, h), 0);
    VT_CHECK_STR(h, "6gkzwgjzn820");
    VT_CHECK_INT(vt_geo_hash_encode(0, 0, 1, h), 0);
    VT_CHECK_STR(h, "s");
    VT_CHECK_INT(vt_geo_hash_encode(-90, -180, 12, h), 0);
    VT_CHECK_STR(h, "000000000000");
    VT_CHECK_INT(vt_geo_hash_encode(90, 180, 12, h), 0);
    VT_CHECK_STR(h, "zzzzzzzzzzzz");
    VT_CHECK_INT(vt_geo_hash_encode(-90, 180, 3, h), 0);
    VT_CHECK_STR(h, "pbp");
    VT_CHECK_INT(vt_geo_hash_encode(90, -180, 3, h), 0);
    VT_CHECK_STR(h, "bpb");
    /* The four cells that meet at (0, 0), just off the origin in each direction. */
    VT_CHECK_INT(vt_geo_hash_encode(-1e-300, -1e-300, 6, h), 0);
    VT_CHECK_STR(h, "7zzzzz");
    VT_CHECK_INT(vt_geo_hash_encode(-1e-300, 0, 6, h), 0);
    VT_CHECK_STR(h, "kpbpbp");
    VT_CHECK_INT(vt_geo_hash_encode(0, -DBL_MIN, 6, h), 0);
    VT_CHECK_STR(h, "ebpbpb");
    VT_CHECK_INT(vt_geo_hash_encode(0, 0, 6, h), 0);
    VT_CHECK_STR(h, "s00000");
    /* Precision is honoured exactly and nothing is written past out[precision]. */
    memset(h, 'X', sizeof h);
    VT_CHECK_INT(vt_geo_hash_encode(57.64911, 10.40744, 4, h), 0);
    VT_CHECK_STR(h, "u4pr");
    VT_CHECK(h[5] == 'X');
}

static void test_encode_invalid(void)
{
    char h[VT_GEO_HASH_MAX + 1] = "untouched";
    const double bad[][2] = {
        {NAN, 0},
        {0, NAN},
        {INFINITY, 0},
        {-INFINITY, 0},
        {0, INFINITY},
        {0, -INFINITY},
        {90.0001, 0},
        {-90.0001, 0},
        {0, -180.5},
        {0, 180.0001},
        {nextafter(90, 100), 0},
        {0, nextafter(-180, -200)},
        {1e300, 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        VT_CHECK_INT(vt_geo_hash_encode(bad[i][0], bad[i][1], 6, h), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_geo_hash_encode(0, 0, 0, h), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_geo_hash_encode(0, 0, -1, h), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_geo_hash_encode(0, 0, VT_GEO_HASH_MAX + 1, h), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_geo_hash_encode(0, 0, 6, NULL), VT_INVALID_ARGUMENT);
    VT_CHECK_STR(h, "untouched");
}

static void test_decode_known(void)
{
    vt_geo_box cell;
    vt_geo_point c;
    VT_CHECK_INT(vt_geo_hash_decode("ezs42", &cell, &c), 0);
    VT_CHECK_NEAR(c.lat, 42.60498046875, 1e-12);
    VT_CHECK_NEAR(c.lng, -5.60302734375, 1e-12);
    VT_CHECK_NEAR(cell.sw.lat, 42.583007812, 1e-9);
    VT_CHECK_NEAR(cell.ne.lat, 42.626953125, 1e-9);
    VT_CHECK_NEAR(cell.sw.lng, -5.625, 1e-12);
    VT_CHECK_NEAR(cell.ne.lng, -5.5810546875, 1e-12);
    VT_CHECK_INT(vt_geo_hash_decode("u4pruydqqvj", NULL, &c), 0);
    VT_CHECK_NEAR(c.lat, 57.64911, 1e-5);
    VT_CHECK_NEAR(c.lng, 10.40744, 1e-5);
    VT_CHECK_INT(vt_geo_hash_decode("s", &cell, NULL), 0);
    VT_CHECK(cell.sw.lat == 0 && cell.ne.lat == 45 && cell.sw.lng == 0 && cell.ne.lng == 45);
    VT_CHECK_INT(vt_geo_hash_decode("0", &cell, NULL), 0);
    VT_CHECK(cell.sw.lat == -90 && cell.sw.lng == -180);
    VT_CHECK_INT(vt_geo_hash_decode("zzzzzzzzzzzz", &cell, NULL), 0);
    VT_CHECK(cell.ne.lat == 90 && cell.ne.lng == 180);
    VT_CHECK_INT(vt_geo_hash_decode("s", NULL, NULL), 0);
}

static void test_decode_invalid(void)
{
    const char *bad[] = {"",
                         "a",
                         "i",
                         "l",
                         "o",
                         "ezs4a",
                         "EZS42",
                         "ezs 42",
                         "ezs42\n",
                         "\xff",
                         "-",
                         "0000000000000",
                         "u4pruydqqvjzz"};
    vt_geo_box cell = box_of(1, 2, 3, 4);
    vt_geo_point c = {5, 6};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        VT_CHECK_INT(vt_geo_hash_decode(bad[i], &cell, &c), VT_INVALID_ARGUMENT);
        VT_CHECK(!vt_geo_hash_valid(bad[i]));
    }
    VT_CHECK_INT(vt_geo_hash_decode(NULL, &cell, &c), VT_INVALID_ARGUMENT);
    VT_CHECK(!vt_geo_hash_valid(NULL));
    /* Outputs are untouched on failure. */
    VT_CHECK(cell.sw.lat == 1 && c.lat == 5);
    VT_CHECK(vt_geo_hash_valid("0123456789bc"));
    VT_CHECK(vt_geo_hash_valid("defg"));
    VT_CHECK(vt_geo_hash_valid("hjkmnpqrstuv"));
    VT_CHECK(vt_geo_hash_valid("wxyz"));
}

static void test_round_trip(void)
{
    for (int i = 0; i < 20000; i++) {
        double lat = rng_range(-90, 90), lng = rng_range(-180, 180);
        int precision = 1 + (int)(rng_next() % VT_GEO_HASH_MAX);
        char h[VT_GEO_HASH_MAX + 1], again[VT_GEO_HASH_MAX + 1], full[VT_GEO_HASH_MAX + 1];
        VT_REQUIRE(vt_geo_hash_encode(lat, lng, precision, h) == 0);
        VT_CHECK_INT(strlen(h), precision);
        vt_geo_box cell;
        vt_geo_point c;
        VT_CHECK_INT(vt_geo_hash_decode(h, &cell, &c), 0);
        if (!cell_has(&cell, lat, lng)) {
            VT_CHECK(!"decoded cell holds the point");
            fprintf(stderr, "  %.17g,%.17g -> %s\n", lat, lng, h);
        }
        /* The centre encodes back to the same hash. */
        VT_CHECK_INT(vt_geo_hash_encode(c.lat, c.lng, precision, again), 0);
        VT_CHECK_STR(again, h);
        /* Prefix property: what subscriptions by cell rely on. */
        VT_CHECK_INT(vt_geo_hash_encode(lat, lng, VT_GEO_HASH_MAX, full), 0);
        VT_CHECK(strncmp(full, h, (size_t)precision) == 0);
    }
}

static void test_neighbor(void)
{
    char h[VT_GEO_HASH_MAX + 1];
    VT_CHECK_INT(vt_geo_hash_neighbor("0", 1, 0, h), 0);
    VT_CHECK_STR(h, "2");
    VT_CHECK_INT(vt_geo_hash_neighbor("0", 0, 1, h), 0);
    VT_CHECK_STR(h, "1");
    VT_CHECK_INT(vt_geo_hash_neighbor("0", 0, -1, h), 0); /* wraps west to the east column */
    VT_CHECK_STR(h, "p");
    VT_CHECK_INT(vt_geo_hash_neighbor("s", 1, 1, h), 0);
    VT_CHECK_STR(h, "v");
    VT_CHECK_INT(vt_geo_hash_neighbor("s", 0, 0, h), 0);
    VT_CHECK_STR(h, "s");
    VT_CHECK_INT(vt_geo_hash_neighbor("s", 0, 8, h), 0); /* all the way round */
    VT_CHECK_STR(h, "s");
    VT_CHECK_INT(vt_geo_hash_neighbor("s", 0, -8000001, h), 0); /* = 1 west */
    VT_CHECK_STR(h, "e");
    VT_CHECK_INT(vt_geo_hash_neighbor("0", -1, 0, h), VT_OUT_OF_RANGE);
    VT_CHECK_INT(vt_geo_hash_neighbor("zzzzzz", 1, 0, h), VT_OUT_OF_RANGE);
    VT_CHECK_INT(vt_geo_hash_neighbor("s", -2147483647 - 1, 0, h), VT_OUT_OF_RANGE);
    VT_CHECK_INT(vt_geo_hash_neighbor("s", 0, -2147483647 - 1, h), 0);
    VT_CHECK_INT(vt_geo_hash_neighbor("zzzzzz", 0, 1, h), 0);
    VT_CHECK_STR(h, "bpbpbp");
    VT_CHECK_INT(vt_geo_hash_neighbor("a", 0, 1, h), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_geo_hash_neighbor("s", 0, 1, NULL), VT_INVALID_ARGUMENT);

    /* Geometric check: each neighbour shares an edge with the cell it came from. */
    for (int i = 0; i < 2000; i++) {
        double lat = rng_range(-89, 89), lng = rng_range(-180, 180);
        int precision = 1 + (int)(rng_next() % VT_GEO_HASH_MAX);
        char base[VT_GEO_HASH_MAX + 1], n[VT_GEO_HASH_MAX + 1];
        vt_geo_box a, b;
        VT_REQUIRE(vt_geo_hash_encode(lat, lng, precision, base) == 0);
        VT_REQUIRE(vt_geo_hash_decode(base, &a, NULL) == 0);
        if (vt_geo_hash_neighbor(base, 1, 0, n) == 0) {
            VT_CHECK_INT(vt_geo_hash_decode(n, &b, NULL), 0);
            VT_CHECK(b.sw.lat == a.ne.lat && b.sw.lng == a.sw.lng);
        } else {
            VT_CHECK(a.ne.lat == 90.0);
        }
        VT_CHECK_INT(vt_geo_hash_neighbor(base, 0, 1, n), 0);
        VT_CHECK_INT(vt_geo_hash_decode(n, &b, NULL), 0);
        VT_CHECK(b.sw.lat == a.sw.lat &&
                 (b.sw.lng == a.ne.lng || (a.ne.lng == 180.0 && b.sw.lng == -180.0)));
        VT_CHECK_INT(strlen(n), precision);
    }
}

static void test_subject_tokens(void)
{
    char t[VT_GEO_TOKENS_MAX];
    VT_CHECK_INT(vt_geo_subject_tokens("dr5rkn", t, sizeof t), 0);
    VT_CHECK_STR(t, "d.r.5.r.k.n");
    VT_CHECK_INT(vt_geo_subject_tokens("s", t, sizeof t), 0);
    VT_CHECK_STR(t, "s");
    VT_CHECK_INT(vt_geo_subject_tokens("zzzzzzzzzzzz", t, sizeof t), 0);
    VT_CHECK_STR(t, "z.z.z.z.z.z.z.z.z.z.z.z");
    VT_CHECK_INT(vt_geo_subject_tokens("dr5rkn", t, 12), 0); /* exactly enough */
    VT_CHECK_STR(t, "d.r.5.r.k.n");
    VT_CHECK_INT(vt_geo_subject_tokens("dr5rkn", t, 11), VT_OUT_OF_RANGE);
    VT_CHECK_STR(t, "");
    VT_CHECK_INT(vt_geo_subject_tokens("dr5rkn", t, 0), VT_OUT_OF_RANGE);
    VT_CHECK_INT(vt_geo_subject_tokens("dr5a", t, sizeof t), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_geo_subject_tokens("", t, sizeof t), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_geo_subject_tokens("d.r", t, sizeof t), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_geo_subject_tokens("dr>", t, sizeof t), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_geo_subject_tokens(NULL, t, sizeof t), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_geo_subject_tokens("dr", NULL, 8), VT_INVALID_ARGUMENT);
}

/* ---- boxes ---- */

static void test_point_and_box_valid(void)
{
    VT_CHECK(vt_geo_point_valid(0, 0));
    VT_CHECK(vt_geo_point_valid(90, 180));
    VT_CHECK(vt_geo_point_valid(-90, -180));
    VT_CHECK(!vt_geo_point_valid(NAN, 0));
    VT_CHECK(!vt_geo_point_valid(0, NAN));
    VT_CHECK(!vt_geo_point_valid(INFINITY, 0));
    VT_CHECK(!vt_geo_point_valid(0, -INFINITY));
    VT_CHECK(!vt_geo_point_valid(90.0001, 0));
    VT_CHECK(!vt_geo_point_valid(-90.0001, 0));
    VT_CHECK(!vt_geo_point_valid(0, -180.5));
    VT_CHECK(!vt_geo_point_valid(0, 180.0001));

    vt_geo_box b = box_of(40, -74, 41, -73);
    VT_CHECK(vt_geo_box_valid(&b));
    VT_CHECK(!vt_geo_box_crosses_antimeridian(&b));
    b = box_of(40, 170, 41, -170);
    VT_CHECK(vt_geo_box_valid(&b));
    VT_CHECK(vt_geo_box_crosses_antimeridian(&b));
    b = box_of(41, -74, 40, -73); /* ne south of sw */
    VT_CHECK(!vt_geo_box_valid(&b));
    VT_CHECK(!vt_geo_box_crosses_antimeridian(&b));
    b = box_of(40, -74, 40, -74); /* a point is a box */
    VT_CHECK(vt_geo_box_valid(&b));
    b = box_of(NAN, -74, 41, -73);
    VT_CHECK(!vt_geo_box_valid(&b));
    b = box_of(40, -74, 41, INFINITY);
    VT_CHECK(!vt_geo_box_valid(&b));
    b = box_of(-91, -74, 41, -73);
    VT_CHECK(!vt_geo_box_valid(&b));
    b = box_of(40, -181, 41, -73);
    VT_CHECK(!vt_geo_box_valid(&b));
    VT_CHECK(!vt_geo_box_valid(NULL));
}

static void test_box_contains(void)
{
    vt_geo_box b = box_of(40, -74, 41, -73);
    VT_CHECK(vt_geo_box_contains(&b, 40.5, -73.5));
    VT_CHECK(vt_geo_box_contains(&b, 40, -74)); /* edges included */
    VT_CHECK(vt_geo_box_contains(&b, 41, -73));
    VT_CHECK(!vt_geo_box_contains(&b, 41.0001, -73.5));
    VT_CHECK(!vt_geo_box_contains(&b, 40.5, -72.9));
    VT_CHECK(!vt_geo_box_contains(&b, NAN, -73.5));

    vt_geo_box am = box_of(-10, 170, 10, -170);
    VT_CHECK(vt_geo_box_contains(&am, 0, 175));
    VT_CHECK(vt_geo_box_contains(&am, 0, 180));
    VT_CHECK(vt_geo_box_contains(&am, 0, -180));
    VT_CHECK(vt_geo_box_contains(&am, 0, -175));
    VT_CHECK(vt_geo_box_contains(&am, 10, 170));
    VT_CHECK(vt_geo_box_contains(&am, -10, -170));
    VT_CHECK(!vt_geo_box_contains(&am, 0, 0));
    VT_CHECK(!vt_geo_box_contains(&am, 0, 169.9));
    VT_CHECK(!vt_geo_box_contains(&am, 0, -169.9));
    VT_CHECK(!vt_geo_box_contains(&am, 10.1, 175));

    vt_geo_box world = box_of(-90, -180, 90, 180);
    VT_CHECK(vt_geo_box_contains(&world, 90, 180));
    VT_CHECK(vt_geo_box_contains(&world, -90, -180));
    VT_CHECK(!vt_geo_box_contains(&world, 0, 180.5));
    vt_geo_box bad = box_of(41, -74, 40, -73);
    VT_CHECK(!vt_geo_box_contains(&bad, 40.5, -73.5));
    VT_CHECK(!vt_geo_box_contains(NULL, 0, 0));
}

static void test_box_split(void)
{
    vt_geo_box out[2];
    size_t n = 99;
    vt_geo_box b = box_of(40, -74, 41, -73);
    VT_CHECK_INT(vt_geo_box_split_antimeridian(&b, out, &n), 0);
    VT_CHECK_INT(n, 1);
    VT_CHECK(memcmp(&out[0], &b, sizeof b) == 0);

    b = box_of(-10, 170, 10, -170);
    VT_CHECK_INT(vt_geo_box_split_antimeridian(&b, out, &n), 0);
    VT_CHECK_INT(n, 2);
    VT_CHECK(out[0].sw.lat == -10 && out[0].sw.lng == 170 && out[0].ne.lat == 10 &&
             out[0].ne.lng == 180);
    VT_CHECK(out[1].sw.lat == -10 && out[1].sw.lng == -180 && out[1].ne.lat == 10 &&
             out[1].ne.lng == -170);
    VT_CHECK(!vt_geo_box_crosses_antimeridian(&out[0]));
    VT_CHECK(!vt_geo_box_crosses_antimeridian(&out[1]));

    /* The halves contain exactly what the box contains. */
    for (int i = 0; i < 5000; i++) {
        double lat = rng_range(-12, 12), lng = rng_range(-180, 180);
        bool whole = vt_geo_box_contains(&b, lat, lng);
        bool halves =
            vt_geo_box_contains(&out[0], lat, lng) || vt_geo_box_contains(&out[1], lat, lng);
        VT_CHECK(whole == halves);
    }

    b = box_of(41, -74, 40, -73);
    n = 7;
    VT_CHECK_INT(vt_geo_box_split_antimeridian(&b, out, &n), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(n, 0);
    b = box_of(40, -74, 41, -73);
    VT_CHECK_INT(vt_geo_box_split_antimeridian(&b, NULL, &n), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_geo_box_split_antimeridian(&b, out, NULL), VT_INVALID_ARGUMENT);
}

/* ---- distance ---- */

static void test_distance(void)
{
    const double R = VT_GEO_EARTH_RADIUS_M, pi = 3.14159265358979323846;
    double d = -1;
    VT_CHECK_INT(vt_geo_distance_m(0, 0, 0, 0, &d), 0);
    VT_CHECK(d == 0);
    VT_CHECK_INT(vt_geo_distance_m(0, 0, 0, 180, &d), 0);
    VT_CHECK_NEAR(d, pi * R, 1e-6);
    VT_CHECK_INT(vt_geo_distance_m(90, 0, -90, 0, &d), 0);
    VT_CHECK_NEAR(d, pi * R, 1e-6);
    VT_CHECK_INT(vt_geo_distance_m(0, 0, 90, 123, &d), 0);
    VT_CHECK_NEAR(d, pi * R / 2, 1e-6);
    VT_CHECK_INT(vt_geo_distance_m(0, 0, 1, 0, &d), 0); /* one degree of latitude */
    VT_CHECK_NEAR(d, 111195.08, 0.01);
    /* Across the antimeridian the short way round: 2 degrees, not 358. */
    VT_CHECK_INT(vt_geo_distance_m(0, 179, 0, -179, &d), 0);
    VT_CHECK_NEAR(d, 2 * 111195.08, 0.02);
    /* Nashville BNA to Los Angeles LAX: 2887.2599506 km on a sphere of 6372.8 km
     * (the classic haversine example), scaled to our radius. */
    VT_CHECK_INT(vt_geo_distance_m(36.12, -86.67, 33.94, -118.40, &d), 0);
    VT_CHECK_NEAR(d, 2887259.9506 * (R / 6372800.0), 0.5);
    /* Symmetric, and a few metres stay a few metres. */
    double back;
    VT_CHECK_INT(vt_geo_distance_m(33.94, -118.40, 36.12, -86.67, &back), 0);
    VT_CHECK_NEAR(back, d, 1e-6);
    VT_CHECK_INT(vt_geo_distance_m(40.0, -74.0, 40.0 + 1e-5, -74.0, &d), 0);
    VT_CHECK_NEAR(d, 1.1119508, 1e-6);
    /* Near-antipodes do not produce NaN. */
    VT_CHECK_INT(vt_geo_distance_m(10, 20, -10, -160 + 1e-12, &d), 0);
    VT_CHECK(isfinite(d) && d <= pi * R + 1e-6);

    d = 42;
    VT_CHECK_INT(vt_geo_distance_m(NAN, 0, 0, 0, &d), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_geo_distance_m(0, 0, 0, INFINITY, &d), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_geo_distance_m(90.0001, 0, 0, 0, &d), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_geo_distance_m(0, 0, 0, -180.5, &d), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_geo_distance_m(0, 0, 0, 0, NULL), VT_INVALID_ARGUMENT);
    VT_CHECK(d == 42);
}

/* ---- covers ---- */

static void test_cover_known(void)
{
    vt_geo_cell cells[1024];
    size_t n = 0;
    int p = 0;

    /* Whole world: 32 cells at precision 1, 1024 at precision 2. */
    vt_geo_box world = box_of(-90, -180, 90, 180);
    VT_CHECK_INT(vt_geo_cover(&world, 32, cells, &n, &p), 0);
    VT_CHECK_INT(p, 1);
    VT_CHECK_INT(n, 32);
    for (size_t i = 0; i < n && i < 32; i++)
        VT_CHECK(cells[i].hash[0] == alphabet[i] && cells[i].hash[1] == '\0');
    VT_CHECK_INT(vt_geo_cover(&world, 1023, cells, &n, &p), 0);
    VT_CHECK_INT(p, 1);
    VT_CHECK_INT(vt_geo_cover(&world, 1024, cells, &n, &p), 0);
    VT_CHECK_INT(p, 2);
    VT_CHECK_INT(n, 1024);
    n = 5;
    p = 5;
    VT_CHECK_INT(vt_geo_cover(&world, 31, cells, &n, &p), VT_OUT_OF_RANGE);
    VT_CHECK_INT(n, 0);
    VT_CHECK_INT(p, 0);

    /* A point: one cell at the finest precision, the one its vendor publishes on. */
    vt_geo_box pt = box_of(57.64911, 10.40744, 57.64911, 10.40744);
    VT_CHECK_INT(vt_geo_cover(&pt, 1, cells, &n, &p), 0);
    VT_CHECK_INT(p, 6);
    VT_CHECK_INT(n, 1);
    VT_CHECK_STR(cells[0].hash, "u4pruy");

    /* A tiny box on the origin touches the four cells that meet there. */
    vt_geo_box origin = box_of(-1e-9, -1e-9, 1e-9, 1e-9);
    VT_CHECK_INT(vt_geo_cover(&origin, 4, cells, &n, &p), 0);
    VT_CHECK_INT(p, 6);
    VT_CHECK_INT(n, 4);
    if (n == 4) {
        VT_CHECK_STR(cells[0].hash, "7zzzzz");
        VT_CHECK_STR(cells[1].hash, "ebpbpb");
        VT_CHECK_STR(cells[2].hash, "kpbpbp");
        VT_CHECK_STR(cells[3].hash, "s00000");
    }
    /* ... and at every coarser precision too, so 3 cells can never do. */
    VT_CHECK_INT(vt_geo_cover(&origin, 3, cells, &n, &p), VT_OUT_OF_RANGE);
    VT_CHECK_INT(n, 0);
    VT_CHECK_INT(p, 0);

    /* Lower Manhattan at precision 4: "dr5r" and the cell north of it ("dr72"). */
    vt_geo_box nyc = box_of(40.70, -74.02, 40.80, -73.93);
    VT_CHECK_INT(vt_geo_cover_at(&nyc, 4, 32, cells, &n), 0);
    VT_CHECK_INT(n, 2);
    if (n == 2) {
        VT_CHECK_STR(cells[0].hash, "dr5r");
        VT_CHECK_STR(cells[1].hash, "dr72");
    }
    VT_CHECK_INT(vt_geo_cover_at(&nyc, 4, 1, cells, &n), VT_OUT_OF_RANGE);
    VT_CHECK_INT(n, 0);

    /* Across the antimeridian: the two sides, never the world in between. */
    vt_geo_box am = box_of(-10, 170, 10, -170);
    VT_CHECK_INT(vt_geo_cover_at(&am, 1, 32, cells, &n), 0);
    VT_CHECK_INT(n, 4);
    if (n == 4) {
        VT_CHECK_STR(cells[0].hash, "2");
        VT_CHECK_STR(cells[1].hash, "8");
        VT_CHECK_STR(cells[2].hash, "r");
        VT_CHECK_STR(cells[3].hash, "x");
    }

    /* North pole cap: one row, 32 columns at precision 2. The second character's grid is
     * 4 columns by 8 rows, whose top row is p, r, x, z. */
    vt_geo_box cap = box_of(85, -180, 90, 180);
    VT_CHECK_INT(vt_geo_cover(&cap, 32, cells, &n, &p), 0);
    VT_CHECK_INT(p, 2);
    VT_CHECK_INT(n, 32);
    for (size_t i = 0; i < n; i++)
        VT_CHECK(strchr("bcfguvyz", cells[i].hash[0]) && strchr("prxz", cells[i].hash[1]));
    /* A box along the pole itself, as thin as a box can be. */
    vt_geo_box pole = box_of(90, -180, 90, 180);
    VT_CHECK_INT(vt_geo_cover(&pole, 32, cells, &n, &p), 0);
    VT_CHECK_INT(p, 2);
    vt_geo_box south = box_of(-90, 170, -89.9, -170);
    VT_CHECK_INT(vt_geo_cover(&south, 32, cells, &n, &p), 0);
    VT_CHECK(p >= 2 && n <= 32);

    /* A box wrapping nearly all the way round is the whole band, each cell once. */
    vt_geo_box wrap = box_of(0, -10, 1, -10.000001);
    VT_CHECK_INT(vt_geo_cover_at(&wrap, 2, 1024, cells, &n), 0);
    VT_CHECK_INT(n, 32);

    /* Bad arguments. */
    vt_geo_box bad = box_of(41, -74, 40, -73);
    VT_CHECK_INT(vt_geo_cover(&bad, 32, cells, &n, &p), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_geo_cover(NULL, 32, cells, &n, &p), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_geo_cover(&nyc, 0, cells, &n, &p), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_geo_cover(&nyc, 32, NULL, &n, &p), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_geo_cover(&nyc, 32, cells, NULL, &p), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_geo_cover(&nyc, 32, cells, &n, NULL), VT_INVALID_ARGUMENT);
    vt_geo_box nan_box = box_of(NAN, 0, 1, 1);
    VT_CHECK_INT(vt_geo_cover(&nan_box, 32, cells, &n, &p), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_geo_cover_at(&nyc, 0, 32, cells, &n), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_geo_cover_at(&nyc, 13, 32, cells, &n), VT_INVALID_ARGUMENT);
    /* Precision 12 over the world: 2^60 cells, counted without overflow and refused. */
    VT_CHECK_INT(vt_geo_cover_at(&world, 12, 1024, cells, &n), VT_OUT_OF_RANGE);
}

/* A random valid box of one of several shapes. */
static vt_geo_box random_box(int kind)
{
    double lat_c = rng_range(-90, 90), lng_c = rng_range(-180, 180);
    double h, w;
    switch (kind) {
    case 0: /* ordinary, any size from metres to continents */
        h = pow(10, rng_range(-6, 2));
        w = pow(10, rng_range(-6, 2.3));
        break;
    case 1: /* tiny */
        h = rng_range(0, 1e-6);
        w = rng_range(0, 1e-6);
        break;
    case 2: { /* across the antimeridian */
        double sw_lng = rng_range(60, 180), ne_lng = rng_range(-180, -60);
        double a = rng_range(-90, 90), b = rng_range(-90, 90);
        return box_of(fmin(a, b), sw_lng, fmax(a, b), ne_lng);
    }
    case 3: { /* polar: reaching or nearly reaching a pole */
        /* One draw per statement: argument evaluation order differs between compilers,
         * and the sequence must be the same everywhere for a failure to reproduce. */
        bool north = rng_next() & 1;
        double edge = north ? rng_range(75, 90) : rng_range(-90, -75);
        double far = north ? rng_range(edge, 90) : rng_range(-90, edge);
        double west = rng_range(-180, 180);
        double east = rng_range(-180, 180);
        return north ? box_of(edge, west, far, east) : box_of(far, west, edge, east);
    }
    case 4: { /* whole world, or wrapping nearly all the way round */
        if (rng_next() & 1)
            return box_of(-90, -180, 90, 180);
        w = rng_range(0, 1e-3);
        lng_c = rng_range(-179, 180);
        double s = rng_range(-90, 0);
        double n = rng_range(0, 90);
        return box_of(s, lng_c, n, lng_c - w);
    }
    default: { /* corners on cell edges at some precision */
        int bits = 1 + (int)(rng_next() % 15);
        double lat_step = ldexp(180.0, -bits), lng_step = ldexp(360.0, -bits);
        double a = -90 + lat_step * (double)(rng_next() % ((uint64_t)1 << bits));
        double b = -90 + lat_step * (double)(rng_next() % ((uint64_t)1 << bits));
        double c = -180 + lng_step * (double)(rng_next() % ((uint64_t)1 << bits));
        double d = -180 + lng_step * (double)(rng_next() % ((uint64_t)1 << bits));
        return box_of(fmin(a, b), c, fmax(a, b), d); /* may cross the antimeridian */
    }
    }
    double sw_lat = fmax(-90, lat_c - h / 2), ne_lat = fmin(90, lat_c + h / 2);
    double sw_lng = lng_c - w / 2, ne_lng = lng_c + w / 2;
    if (sw_lng < -180)
        sw_lng += 360; /* now crosses */
    if (ne_lng > 180)
        ne_lng -= 360;
    return box_of(sw_lat, sw_lng, ne_lat, ne_lng);
}

/* A point the box contains: corners and edges sometimes, interior otherwise. */
static void random_point_in(const vt_geo_box *b, double *lat, double *lng)
{
    *lat = rng_range(b->sw.lat, b->ne.lat);
    if (b->sw.lng <= b->ne.lng) {
        *lng = rng_range(b->sw.lng, b->ne.lng);
    } else if (rng_next() & 1) {
        *lng = rng_range(b->sw.lng, 180);
    } else {
        *lng = rng_range(-180, b->ne.lng);
    }
}

static void test_cover_property(void)
{
    enum { CAP = 1024 };
    static vt_geo_cell cells[CAP], oracle[CAP];
    static const size_t maxes[] = {1, 2, 3, 4, 8, 9, 16, 31, 32, 33, 64, 100, 256, 1024};
    int boxes = 0, fitted = 0, refused = 0, crossing = 0;
    for (int iter = 0; iter < 6000; iter++) {
        int kind = iter % 6;
        vt_geo_box b = random_box(kind);
        VT_REQUIRE(vt_geo_box_valid(&b));
        boxes++;
        crossing += vt_geo_box_crosses_antimeridian(&b);
        size_t max = maxes[rng_next() % (sizeof maxes / sizeof maxes[0])];
        size_t n = 0;
        int p = 0;
        int rc = vt_geo_cover(&b, max, cells, &n, &p);
        if (rc == VT_OUT_OF_RANGE) {
            refused++;
            /* Only allowed when precision 1 really needs more than max cells. */
            VT_CHECK(max < 32);
            VT_CHECK(oracle_cover(&b, 1, oracle, CAP) > max);
            continue;
        }
        VT_CHECK_INT(rc, 0);
        if (rc != 0)
            continue;
        fitted++;
        VT_CHECK(p >= 1 && p <= VT_GEO_COVER_MAX_PRECISION);
        VT_CHECK(n >= 1 && n <= max);
        bool ok = true;
        for (size_t i = 0; i < n; i++) {
            ok &= vt_geo_hash_valid(cells[i].hash) && strlen(cells[i].hash) == (size_t)p;
            ok &= i == 0 || strcmp(cells[i - 1].hash, cells[i].hash) < 0; /* sorted, unique */
            ok &= cell_meets_box(cells[i].hash, &b);                      /* no waste */
        }
        VT_CHECK(ok);
        /* Complete: points the box contains encode into the cover. */
        for (int k = 0; k < 64; k++) {
            double lat, lng;
            random_point_in(&b, &lat, &lng);
            VT_REQUIRE(vt_geo_box_contains(&b, lat, lng));
            if (!cover_has_point(cells, n, p, lat, lng)) {
                VT_CHECK(!"point in box is in the cover");
                fprintf(stderr, "  box sw %.17g,%.17g ne %.17g,%.17g p %d point %.17g,%.17g\n",
                        b.sw.lat, b.sw.lng, b.ne.lat, b.ne.lng, p, lat, lng);
                break;
            }
        }
        /* Exact against brute force where brute force is affordable. */
        if (p <= 3) {
            size_t want = oracle_cover(&b, p, oracle, CAP);
            VT_CHECK_INT(n, want);
            bool same = n == want;
            for (size_t i = 0; same && i < n; i++)
                same = strcmp(cells[i].hash, oracle[i].hash) == 0;
            VT_CHECK(same);
        }
        /* Deterministic: the same answer twice. */
        static vt_geo_cell again[CAP];
        size_t n2 = 0;
        int p2 = 0;
        VT_CHECK_INT(vt_geo_cover(&b, max, again, &n2, &p2), 0);
        bool same = n2 == n && p2 == p;
        for (size_t i = 0; same && i < n; i++)
            same = strcmp(cells[i].hash, again[i].hash) == 0;
        VT_CHECK(same);
        /* Finest: the next precision would not have fitted. */
        if (p < VT_GEO_COVER_MAX_PRECISION) {
            size_t m = 0;
            VT_CHECK_INT(vt_geo_cover_at(&b, p + 1, max, cells, &m), VT_OUT_OF_RANGE);
            if (p + 1 <= 3)
                VT_CHECK(oracle_cover(&b, p + 1, oracle, CAP) > max);
        }
    }
    fprintf(stderr, "  %d boxes (%d crossing the antimeridian): %d covered, %d refused\n", boxes,
            crossing, fitted, refused);
    VT_CHECK(fitted > 4000 && refused > 0 && crossing > 1000);
}

/* Every point within the radius lies in vt_geo_box_around's box: random centres
 * (including near the poles and the antimeridian) and radii from metres to 3000 km. */
static void test_box_around_contains_the_circle(void)
{
    uint64_t seed = 7;
    int checked = 0;
    for (int i = 0; i < 3000; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        double lat = ((double)(seed >> 11) / 9007199254740992.0) * 180 - 90;
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        double lng = ((double)(seed >> 11) / 9007199254740992.0) * 360 - 180;
        if (i % 10 == 0)
            lng = i % 20 ? 179.99 : -179.99;
        if (i % 15 == 0)
            lat = i % 30 ? 89.5 : -89.5;
        double radius = pow(10, 1 + (i % 6)) * 3; /* 30 m .. 3000 km */
        vt_geo_box box;
        VT_CHECK_INT(vt_geo_box_around(lat, lng, radius, &box), VT_OK);
        VT_CHECK(vt_geo_box_valid(&box));
        for (int k = 0; k < 64; k++) {
            /* A point at a random bearing, at up to the radius, by the sphere formula. */
            double b = k * (2 * M_PI / 64), d = radius * (k % 4 + 1) / 4 / VT_GEO_EARTH_RADIUS_M;
            double la = lat * M_PI / 180, lo = lng * M_PI / 180;
            double la2 = asin(sin(la) * cos(d) + cos(la) * sin(d) * cos(b));
            double lo2 = lo + atan2(sin(b) * sin(d) * cos(la), cos(d) - sin(la) * sin(la2));
            double plat = la2 * 180 / M_PI, plng = fmod(lo2 * 180 / M_PI + 540, 360) - 180;
            if (!vt_geo_box_contains(&box, plat, plng))
                fprintf(stderr, "centre %.6f,%.6f r=%g: %.6f,%.6f outside\n", lat, lng, radius,
                        plat, plng);
            VT_CHECK(vt_geo_box_contains(&box, plat, plng));
            checked++;
        }
    }
    VT_CHECK(checked > 0);
    vt_geo_box box;
    VT_CHECK_INT(vt_geo_box_around(40.7, -74.0, 1000, &box), VT_OK);
    VT_CHECK(box.ne.lat - box.sw.lat < 0.02); /* about 2 km tall, not the world */
    VT_CHECK(!vt_geo_box_crosses_antimeridian(&box));
    VT_CHECK_INT(vt_geo_box_around(0, 179.999, 1000, &box), VT_OK);
    VT_CHECK(vt_geo_box_crosses_antimeridian(&box));
    VT_CHECK_INT(vt_geo_box_around(NAN, 0, 10, &box), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_geo_box_around(0, 0, 0, &box), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_geo_box_around(0, 0, -5, &box), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_geo_box_around(0, 0, INFINITY, &box), VT_INVALID_ARGUMENT);
}

int main(void)
{
    VT_RUN(test_box_around_contains_the_circle);
    VT_RUN(test_encode_known);
    VT_RUN(test_encode_invalid);
    VT_RUN(test_decode_known);
    VT_RUN(test_decode_invalid);
    VT_RUN(test_round_trip);
    VT_RUN(test_neighbor);
    VT_RUN(test_subject_tokens);
    VT_RUN(test_point_and_box_valid);
    VT_RUN(test_box_contains);
    VT_RUN(test_box_split);
    VT_RUN(test_distance);
    VT_RUN(test_cover_known);
    VT_RUN(test_cover_property);
    return VT_TEST_RESULT();
}
