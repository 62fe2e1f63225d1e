/*
 * load.c — vendor search latency at the gRPC client: the search's paths beside the
 * single aggregating statement they replace and the physical floor, in one run over one
 * database (bench/search/run sets it up).
 *
 *   search-load NEW_TARGET CURRENT_TARGET DATABASE_URL [queries=2000] [seed=7]
 *
 * Queries are made from vendor names sampled from the database, in three shapes:
 *   single   one word of a name ("burrito")
 *   typo2    two words of a name, one typo each ("golfen burrrito": a substitution,
 *            an insertion, a deletion or a transposition, on words of 4+ letters)
 *   prefix   as a user types: a word, then the first 2-4 letters of the next
 *            ("golden bu"), or the letters alone
 *   near     one word, as single, from a point in the city (aroundLatLng: nearest
 *            first among the best matches; bench/search/run gives every vendor a
 *            position in the city's box, CITY_* below)
 *   near-5km the same within 5 km of the point (aroundRadius)
 * and each query is run, one call at a time (latency, not throughput), against both:
 *   new      VendorService.SearchVendors of a venta-vendor with the default plan
 *            (walk / driven / aggregate paths, docs/search.md "How fast")
 *   current  the same RPC of a venta-vendor with VENTA_VENDOR_SEARCH_PLAN=aggregate:
 *            main's one ranking statement before this change
 * alternating, so both meet the same cache; their pages must hold the same vendors in
 * the same order (a difference is counted and printed). Then:
 *   floor    an indexed primary-key SELECT round trip over libpq
 * SEARCH_LOAD_TRACE=1 prints each query's two latencies on stderr. Prints one line per
 * case:
 *   case=C shape=S calls=N p50_us=A p99_us=B mean_hits=H estimated=E differ=D
 */
#include "venta/vendor/v1/vendor.pb-c.h"
#include "vt_core.h"
#include "vt_rpc.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SVC (&venta__vendor__v1__vendor_service__descriptor)
#define WARMUP 100
/* The city the vendors are placed in by bench/search/run (about 22 x 22 km). */
#define CITY_LAT 48.75
#define CITY_LNG 2.2
#define CITY_SPAN_LAT 0.2
#define CITY_SPAN_LNG 0.3
#define NEAR_RADIUS_M 5000
#define SHAPE_NEAR 3

static uint64_t rng;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* One typo in w (4+ letters), in place (w has room for one more letter). */
static void typo(char *w)
{
    size_t n = strlen(w);
    if (n < 4)
        return;
    size_t i = 1 + rnd((unsigned)n - 2);
    switch (rnd(4)) {
    case 0:
        w[i] = (char)('a' + rnd(26));
        break;
    case 1: /* insertion */
        memmove(w + i + 1, w + i, n - i + 1);
        w[i] = w[i - 1];
        break;
    case 2: /* deletion */
        memmove(w + i, w + i + 1, n - i);
        break;
    default: { /* transposition */
        char t = w[i];
        w[i] = w[i + 1];
        w[i + 1] = t;
    }
    }
}

/* The words of a name, lower-cased, at most 8 of 31 letters. */
static int words_of(const char *name, char w[8][32])
{
    int n = 0;
    const char *s = name;
    while (*s && n < 8) {
        while (*s == ' ')
            s++;
        size_t len = strcspn(s, " ");
        if (len > 0 && len < 31) {
            for (size_t i = 0; i < len; i++)
                w[n][i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
            w[n][len] = '\0';
            n++;
        }
        s += len;
    }
    return n;
}

static void make_query(const char *name, int shape, char *out, size_t outlen)
{
    char w[8][32];
    int n = words_of(name, w);
    if (n == 0) {
        snprintf(out, outlen, "taco");
        return;
    }
    int a = (int)rnd((unsigned)n);
    if (shape == 0 || shape >= SHAPE_NEAR) {
        snprintf(out, outlen, "%s", w[a]);
    } else if (shape == 1) {
        int b = a + 1 < n ? a + 1 : (a > 0 ? a - 1 : a);
        typo(w[a]);
        if (b != a)
            typo(w[b]);
        snprintf(out, outlen, "%s %s", w[a < b ? a : b], w[a < b ? b : a]);
    } else {
        int b = a + 1 < n ? a + 1 : a;
        size_t cut = 2 + rnd(3);
        if (strlen(w[b]) > cut)
            w[b][cut] = '\0';
        if (b != a && rnd(2))
            snprintf(out, outlen, "%s %s", w[a], w[b]);
        else
            snprintf(out, outlen, "%s", w[b]);
    }
}

/* The ids of one page, joined, to compare the two implementations' answers. */
typedef struct {
    char ids[20 * 37 + 1];
    int hits;
    bool estimated;
} page;

/* A query and, for the near shapes, where it is asked from. */
typedef struct {
    char q[96];
    double lat, lng, radius_m; /* radius_m: 0 for none; lat and lng unset when shape < near */
    bool near;
} query;

static int64_t search(vt_rpc_channel *ch, const query *qu, page *out)
{
    Venta__Vendor__V1__SearchVendorsRequest req = VENTA__VENDOR__V1__SEARCH_VENDORS_REQUEST__INIT;
    const char *q = qu->q;
    req.q = (char *)q;
    req.limit = 20;
    if (qu->near) {
        req.opt_lat_case = VENTA__VENDOR__V1__SEARCH_VENDORS_REQUEST__OPT_LAT_LAT;
        req.lat = qu->lat;
        req.opt_lng_case = VENTA__VENDOR__V1__SEARCH_VENDORS_REQUEST__OPT_LNG_LNG;
        req.lng = qu->lng;
    }
    if (qu->radius_m > 0) {
        req.opt_radius_meters_case =
            VENTA__VENDOR__V1__SEARCH_VENDORS_REQUEST__OPT_RADIUS_METERS_RADIUS_METERS;
        req.radius_meters = qu->radius_m;
    }
    vt_rpc_call_opts o = {.timeout_ms = 10000, .request_id = "bench"};
    vt_rpc_reply *reply;
    int64_t t0 = now_ns();
    int rc = vt_rpc_call_unary(ch, SVC, "SearchVendors", &req.base, &o, &reply);
    int64_t us = (now_ns() - t0) / 1000;
    const Venta__Vendor__V1__SearchVendorsResponse *res =
        rc == VT_OK ? (const void *)vt_rpc_reply_response(reply) : NULL;
    out->hits = res ? (int)res->n_vendors : -1;
    out->estimated = res && res->total_estimated;
    out->ids[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; res && i < res->n_vendors && i < 20; i++)
        used +=
            (size_t)snprintf(out->ids + used, sizeof out->ids - used, "%s ", res->vendors[i]->id);
    if (!res)
        fprintf(stderr, "SearchVendors(%s): %s\n", q, vt_rpc_reply_message(reply));
    vt_rpc_reply_free(reply);
    return us;
}

static void report(const char *kase, const char *shape, uint32_t *lat, int nq, long hits,
                   int estimated, int differ, int errors, const char *example)
{
    qsort(lat, (size_t)nq, sizeof *lat, cmp_u32);
    printf("case=%s shape=%s calls=%d p50_us=%u p99_us=%u mean_hits=%.1f estimated=%d differ=%d "
           "errors=%d example=\"%s\"\n",
           kase, shape, nq, lat[nq / 2], lat[(size_t)nq * 99 / 100], (double)hits / nq, estimated,
           differ, errors, example);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: search-load NEW_TARGET CURRENT_TARGET DATABASE_URL [queries] "
                        "[seed]\n");
        return 2;
    }
    int nq = argc > 4 ? atoi(argv[4]) : 2000;
    rng = argc > 5 ? strtoull(argv[5], NULL, 10) : 7;
    if (nq < 10 || rng == 0)
        return 2;
    vt_rpc_channel *ch[2];
    char err[256];
    for (int k = 0; k < 2; k++) {
        vt_rpc_channel_opts co = {.target = argv[1 + k]};
        if (vt_rpc_channel_new(&co, &ch[k], err, sizeof err) != VT_OK) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
    }
    PGconn *pg = PQconnectdb(argv[3]);
    PGresult *r =
        PQprepare(pg, "floor", "SELECT id FROM vendor.vendors WHERE id = $1::uuid", 1, NULL);
    PQclear(r);
    r = PQexec(pg, "SELECT id::text, name FROM vendor.vendors TABLESAMPLE SYSTEM (5) LIMIT 5000");
    int nsample = PQresultStatus(r) == PGRES_TUPLES_OK ? PQntuples(r) : 0;
    if (nsample == 0) {
        fprintf(stderr, "no vendors: %s", PQerrorMessage(pg));
        return 1;
    }
    static const char *const shapes[] = {"single", "typo2", "prefix", "near", "near-5km"};
    const int nshapes = (int)(sizeof shapes / sizeof shapes[0]);
    /* SEARCH_LOAD_TRACE=1: every query's two latencies on stderr */
    bool trace = getenv("SEARCH_LOAD_TRACE") && *getenv("SEARCH_LOAD_TRACE") == '1';
    uint32_t *lat[2] = {malloc((size_t)nq * sizeof(uint32_t)),
                        malloc((size_t)nq * sizeof(uint32_t))};
    query *qs = calloc((size_t)(nq + WARMUP), sizeof *qs);
    for (int s = 0; s < nshapes; s++) {
        for (int i = 0; i < nq + WARMUP; i++) {
            make_query(PQgetvalue(r, (int)rnd((unsigned)nsample), 1), s, qs[i].q, sizeof qs[i].q);
            qs[i].near = s >= SHAPE_NEAR; /* (drawn only then: the other shapes' queries
                                           * stay those of earlier runs) */
            if (qs[i].near) {
                qs[i].lat = CITY_LAT + CITY_SPAN_LAT * rnd(10000) / 10000.0;
                qs[i].lng = CITY_LNG + CITY_SPAN_LNG * rnd(10000) / 10000.0;
                qs[i].radius_m = s > SHAPE_NEAR ? NEAR_RADIUS_M : 0;
            }
        }
        long hits[2] = {0, 0};
        int errors[2] = {0, 0}, estimated[2] = {0, 0}, differ = 0;
        for (int i = 0; i < nq + WARMUP; i++) {
            page pg2[2];
            int64_t us[2];
            for (int k = 0; k < 2; k++)
                us[k] = search(ch[k], &qs[i], &pg2[k]);
            if (i < WARMUP)
                continue;
            if (trace)
                fprintf(stderr, "trace %s \"%s\" new_us=%lld current_us=%lld\n", shapes[s], qs[i].q,
                        (long long)us[0], (long long)us[1]);
            bool same = strcmp(pg2[0].ids, pg2[1].ids) == 0;
            if (!same && differ++ < 5)
                fprintf(stderr, "differ on \"%s\":\n  new     %s\n  current %s\n", qs[i].q,
                        pg2[0].ids, pg2[1].ids);
            for (int k = 0; k < 2; k++) {
                lat[k][i - WARMUP] = (uint32_t)us[k];
                if (pg2[k].hits < 0)
                    errors[k]++;
                else
                    hits[k] += pg2[k].hits;
                estimated[k] += pg2[k].estimated;
            }
        }
        for (int k = 0; k < 2; k++)
            report(k == 0 ? "new" : "current", shapes[s], lat[k], nq, hits[k], estimated[k], differ,
                   errors[k], qs[WARMUP].q);
    }
    /* The floor does not depend on the shape. */
    for (int i = 0; i < nq + WARMUP; i++) {
        const char *p[1] = {PQgetvalue(r, i % nsample, 0)};
        int64_t t0 = now_ns();
        PGresult *f = PQexecPrepared(pg, "floor", 1, p, NULL, NULL, 0);
        int64_t us = (now_ns() - t0) / 1000;
        PQclear(f);
        if (i >= WARMUP)
            lat[0][i - WARMUP] = (uint32_t)us;
    }
    report("floor", "pk-select", lat[0], nq, nq, 0, 0, 0, "");
    PQclear(r);
    PQfinish(pg);
    for (int k = 0; k < 2; k++) {
        vt_rpc_channel_free(ch[k]);
        free(lat[k]);
    }
    free(qs);
    return 0;
}
