/*
 * query.c — the read side of the location benchmark: seed data and a load generator
 * for LocationService.VendorsInBounds and VendorsNearby.
 *
 *   loc-query seed-sql VENDORS
 *       prints the SQL that fills location.vendor_locations with VENDORS stored vendors:
 *       90 % scattered around the cities of cities.h (a city is picked by weight, then a
 *       Gaussian offset of BENCH_CITY_SIGMA_KM), 10 % uniform over inhabited latitudes;
 *       updated_at = now(). generate_series does the work inside PostgreSQL; this
 *       program only contributes the city table, so the seed and the load agree.
 *   loc-query load TARGET bounds|nearby SECONDS THREADS [seed=1]
 *       THREADS closed-loop callers (blocking unary calls, a channel each) for SECONDS
 *       after a 1 s warm-up. bounds: a map viewport 0.5–5 km wide (aspect 0.6–1) centred
 *       where the vendors are (a city by weight plus the same Gaussian offset), limit
 *       100. nearby: the same kind of centre, radius 200 m–2 km, limit 100. Every
 *       latency of the measured window is kept and sorted for exact percentiles.
 *       Prints: calls=N seconds=S calls_per_s=R p50_us=A p99_us=B max_us=C
 *               mean_results=M full_pct=F errors=E   (full: calls that hit the limit)
 */
#include "cities.h"
#include "venta/location/v1/location.pb-c.h"
#include "vt_core.h"
#include "vt_rpc.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIMIT 100
#define MAX_SAMPLES_PER_THREAD (4 * 1024 * 1024)

static const ProtobufCServiceDescriptor *svc = &venta__location__v1__location_service__descriptor;

/* ---- seed SQL ---- */

static int seed_sql(long n)
{
    int total = 0;
    for (int i = 0; i < BENCH_NCITIES; i++)
        total += bench_cities[i].weight;
    printf("\\set ON_ERROR_STOP on\n"
           "SELECT setseed(0.42);\n"
           "CREATE TEMP TABLE bench_city (lat float8, lng float8, lo float8, hi float8);\n"
           "INSERT INTO bench_city VALUES\n");
    int cum = 0;
    for (int i = 0; i < BENCH_NCITIES; i++) {
        const bench_city *c = &bench_cities[i];
        printf("  (%.4f, %.4f, %.6f, %.6f)%s -- %s\n", c->lat, c->lng, (double)cum / total,
               i == BENCH_NCITIES - 1 ? 1.000001 : (double)(cum + c->weight) / total,
               i == BENCH_NCITIES - 1 ? ";" : ",", c->name);
        cum += c->weight;
    }
    /* The index is dropped for the bulk load and rebuilt with the migration's exact
     * definition: a sorted GiST build is far faster than 1M index inserts. */
    printf("TRUNCATE location.vendor_locations;\n"
           "DROP INDEX location.vendor_locations_cell_idx;\n"
           "INSERT INTO location.vendor_locations\n"
           "  (vendor_id, position, heading, speed, accuracy, online, reported_at, updated_at)\n"
           "SELECT vid, ST_SetSRID(ST_MakePoint(lng - 360 * floor((lng + 180) / 360), "
           "greatest(-89.9, least(89.9, lat))), 4326),\n"
           "       (r3 * 360)::real, (r3 * 8)::real, (5 + r3 * 10)::real, true, now(), now()\n"
           "FROM (\n"
           "  SELECT ('c0000000-0000-4000-8000-' || lpad(s.g::text, 12, '0'))::uuid AS vid, s.r3,\n"
           "    CASE WHEN s.r4 < 0.1 THEN -55 + 120 * s.r5\n"
           "         ELSE c.lat + sqrt(-2 * ln(1 - s.r1)) * cos(2 * pi() * s.r2) * %.3f / 111.32 "
           "END AS lat,\n"
           "    CASE WHEN s.r4 < 0.1 THEN -180 + 360 * s.r6\n"
           "         ELSE c.lng + sqrt(-2 * ln(1 - s.r1)) * sin(2 * pi() * s.r2) * %.3f\n"
           "                      / (111.32 * cos(radians(c.lat))) END AS lng\n"
           "  FROM (SELECT g, random() AS u, random() AS r1, random() AS r2, random() AS r3,\n"
           "               random() AS r4, random() AS r5, random() AS r6\n"
           "        FROM generate_series(1, %ld) AS g) AS s\n"
           "  JOIN bench_city AS c ON s.u >= c.lo AND s.u < c.hi\n"
           ") AS x;\n"
           "CREATE INDEX vendor_locations_cell_idx ON location.vendor_locations USING gist "
           "(cell);\n"
           "VACUUM ANALYZE location.vendor_locations;\n",
           BENCH_CITY_SIGMA_KM, BENCH_CITY_SIGMA_KM, n);
    return 0;
}

/* ---- load ---- */

typedef struct {
    const char *target;
    bool nearby;
    uint64_t rng;
    atomic_bool *measuring, *stopping;
    uint32_t *samples;
    size_t n;
    long results, full, errors;
} worker;

static double rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

/* A point where vendors are: a city by weight, plus the seed's Gaussian offset. */
static void somewhere(uint64_t *s, double *lat, double *lng)
{
    int total = 0, i = 0;
    for (int k = 0; k < BENCH_NCITIES; k++)
        total += bench_cities[k].weight;
    int x = (int)(rnd(s) * total);
    while ((x -= bench_cities[i].weight) >= 0)
        i++;
    const bench_city *c = &bench_cities[i];
    double r = sqrt(-2 * log(1 - rnd(s))), a = 2 * M_PI * rnd(s);
    *lat = c->lat + r * cos(a) * BENCH_CITY_SIGMA_KM / 111.32;
    *lng = c->lng + r * sin(a) * BENCH_CITY_SIGMA_KM / (111.32 * cos(c->lat * M_PI / 180));
    if (*lng > 180)
        *lng -= 360;
    if (*lng < -180)
        *lng += 360;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    vt_rpc_channel_opts co = {.target = w->target};
    vt_rpc_channel *ch = NULL;
    char err[256];
    if (vt_rpc_channel_new(&co, &ch, err, sizeof err) != VT_OK) {
        fprintf(stderr, "loc-query: %s\n", err);
        return NULL;
    }
    vt_rpc_call_opts o = {.timeout_ms = 5000, .request_id = "bench"};
    while (!atomic_load(w->stopping)) {
        double lat, lng;
        somewhere(&w->rng, &lat, &lng);
        vt_rpc_reply *reply;
        int rc;
        int64_t t0 = vt_monotonic_ns();
        if (w->nearby) {
            Venta__Location__V1__VendorsNearbyRequest req =
                VENTA__LOCATION__V1__VENDORS_NEARBY_REQUEST__INIT;
            req.lat = lat;
            req.lng = lng;
            req.radius_meters = 200 + rnd(&w->rng) * 1800;
            req.limit = LIMIT;
            rc = vt_rpc_call_unary(ch, svc, "VendorsNearby", &req.base, &o, &reply);
        } else {
            double wkm = 0.5 + rnd(&w->rng) * 4.5, hkm = wkm * (0.6 + rnd(&w->rng) * 0.4);
            double dlat = hkm / 2 / 111.32, dlng = wkm / 2 / (111.32 * cos(lat * M_PI / 180));
            Venta__Location__V1__VendorsInBoundsRequest req =
                VENTA__LOCATION__V1__VENDORS_IN_BOUNDS_REQUEST__INIT;
            req.ne_lat = fmin(lat + dlat, 90);
            req.sw_lat = fmax(lat - dlat, -90);
            req.ne_lng = lng + dlng > 180 ? lng + dlng - 360 : lng + dlng;
            req.sw_lng = lng - dlng < -180 ? lng - dlng + 360 : lng - dlng;
            req.limit = LIMIT;
            rc = vt_rpc_call_unary(ch, svc, "VendorsInBounds", &req.base, &o, &reply);
        }
        int64_t us = (vt_monotonic_ns() - t0) / 1000;
        if (atomic_load(w->measuring)) {
            if (rc != VT_OK) {
                if (w->errors++ < 3)
                    fprintf(stderr, "loc-query: %s\n", vt_rpc_reply_message(reply));
            } else {
                /* Both responses are { repeated VendorPosition vendors = 1; }. */
                const Venta__Location__V1__VendorsNearbyResponse *r =
                    (const void *)vt_rpc_reply_response(reply);
                w->results += (long)r->n_vendors;
                w->full += r->n_vendors >= LIMIT;
                if (w->n < MAX_SAMPLES_PER_THREAD)
                    w->samples[w->n++] = (uint32_t)us;
            }
        }
        vt_rpc_reply_free(reply);
    }
    vt_rpc_channel_free(ch);
    return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void sleep_s(double s)
{
    struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static int load(const char *target, const char *method, double seconds, int threads, uint64_t seed)
{
    bool nearby = strcmp(method, "nearby") == 0;
    if (!nearby && strcmp(method, "bounds") != 0) {
        fprintf(stderr, "loc-query: method is bounds or nearby\n");
        return 2;
    }
    static atomic_bool measuring, stopping;
    worker *ws = calloc((size_t)threads, sizeof *ws);
    pthread_t *tids = calloc((size_t)threads, sizeof *tids);
    for (int i = 0; i < threads; i++) {
        ws[i] = (worker){.target = target,
                         .nearby = nearby,
                         .rng = seed * 7919 + (uint64_t)i,
                         .measuring = &measuring,
                         .stopping = &stopping,
                         .samples = malloc(MAX_SAMPLES_PER_THREAD * sizeof(uint32_t))};
        pthread_create(&tids[i], NULL, worker_main, &ws[i]);
    }
    sleep_s(1);
    int64_t t0 = vt_monotonic_ns();
    atomic_store(&measuring, true);
    sleep_s(seconds);
    atomic_store(&measuring, false);
    int64_t t1 = vt_monotonic_ns();
    atomic_store(&stopping, true);
    size_t n = 0;
    long results = 0, full = 0, errors = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(tids[i], NULL);
        n += ws[i].n;
        results += ws[i].results;
        full += ws[i].full;
        errors += ws[i].errors;
    }
    uint32_t *all = malloc((n ? n : 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < threads; i++) {
        memcpy(all + k, ws[i].samples, ws[i].n * sizeof *all);
        k += ws[i].n;
        free(ws[i].samples);
    }
    qsort(all, n, sizeof *all, cmp_u32);
    double secs = (double)(t1 - t0) / 1e9;
    printf("calls=%zu seconds=%.2f calls_per_s=%.0f p50_us=%u p99_us=%u max_us=%u "
           "mean_results=%.1f full_pct=%.1f errors=%ld\n",
           n, secs, (double)n / secs, n ? all[n / 2] : 0, n ? all[(size_t)((double)n * 0.99)] : 0,
           n ? all[n - 1] : 0, n ? (double)results / (double)n : 0,
           n ? 100.0 * (double)full / (double)n : 0, errors);
    free(all);
    free(ws);
    free(tids);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "seed-sql") == 0)
        return seed_sql(atol(argv[2]));
    if (argc >= 6 && strcmp(argv[1], "load") == 0) {
        vt_log_init("loc-query", VT_LOG_ERROR);
        int threads = atoi(argv[5]);
        double secs = atof(argv[4]);
        if (threads < 1 || threads > 64 || secs <= 0) {
            fprintf(stderr, "loc-query: bad arguments\n");
            return 2;
        }
        return load(argv[2], argv[3], secs, threads, argc > 6 ? strtoull(argv[6], NULL, 10) : 1);
    }
    fprintf(stderr, "usage: loc-query seed-sql VENDORS | "
                    "loc-query load TARGET bounds|nearby SECONDS THREADS [seed]\n");
    return 2;
}
