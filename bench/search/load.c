/*
 * load.c — vendor search latency at the gRPC client, beside the previous search and the
 * physical floor, in one run over one database (bench/search/run sets it up).
 *
 *   search-load TARGET DATABASE_URL [queries=2000] [seed=7]
 *
 * Queries are made from vendor names sampled from the database, in three shapes:
 *   single   one word of a name ("burrito")
 *   typo2    two words of a name, one typo each ("golfen burrrito": a substitution,
 *            an insertion, a deletion or a transposition, on words of 4+ letters)
 *   prefix   as a user types: a word, then the first 2-4 letters of the next
 *            ("golden bu"), or the letters alone
 * and each is run, one call at a time (latency, not throughput), against:
 *   new      VendorService.SearchVendors over gRPC (limit 20)
 *   old      the previous implementation's statement (main at ae66578: websearch
 *            full-text OR trigram word similarity on the name, threshold 0.4), run
 *            directly over libpq with the same text: no gRPC, so it is flattered
 *   floor    an indexed primary-key SELECT round trip over libpq
 * Prints one line per case:
 *   case=C shape=S calls=N p50_us=A p99_us=B mean_hits=H
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

static const char *const old_sql =
    "SELECT * FROM (SELECT v.id, v.name, "
    "(ts_rank(v.search_vector, q.tsq) + word_similarity($1::text, v.name))::float8 AS score "
    "FROM vendor.vendors v, (SELECT websearch_to_tsquery('english', $1::text) AS tsq) q "
    "WHERE v.deleted_at IS NULL AND (v.search_vector @@ q.tsq OR $1::text <% v.name)) s "
    "ORDER BY s.score DESC, s.id DESC LIMIT 21";

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
    if (shape == 0) {
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

typedef struct {
    vt_rpc_channel *ch;
    PGconn *pg;
} target;

/* One call of the case; the hits it found, or -1. */
static int run_one(target *t, const char *kase, const char *q, const char *id)
{
    if (strcmp(kase, "new") == 0) {
        Venta__Vendor__V1__SearchVendorsRequest req =
            VENTA__VENDOR__V1__SEARCH_VENDORS_REQUEST__INIT;
        req.q = (char *)q;
        req.limit = 20;
        vt_rpc_call_opts o = {.timeout_ms = 10000, .request_id = "bench"};
        vt_rpc_reply *reply;
        int rc = vt_rpc_call_unary(t->ch, SVC, "SearchVendors", &req.base, &o, &reply);
        int hits = -1;
        if (rc == VT_OK && vt_rpc_reply_response(reply))
            hits = (int)((const Venta__Vendor__V1__SearchVendorsResponse *)vt_rpc_reply_response(
                             reply))
                       ->n_vendors;
        else
            fprintf(stderr, "SearchVendors(%s): %s\n", q, vt_rpc_reply_message(reply));
        vt_rpc_reply_free(reply);
        return hits;
    }
    bool old = strcmp(kase, "old") == 0;
    const char *p[1] = {old ? q : id};
    PGresult *r = PQexecPrepared(t->pg, old ? "old" : "floor", 1, p, NULL, NULL, 0);
    int hits = PQresultStatus(r) == PGRES_TUPLES_OK ? PQntuples(r) : -1;
    if (hits < 0)
        fprintf(stderr, "%s: %s", kase, PQerrorMessage(t->pg));
    PQclear(r);
    return hits;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: search-load TARGET DATABASE_URL [queries] [seed]\n");
        return 2;
    }
    int nq = argc > 3 ? atoi(argv[3]) : 2000;
    rng = argc > 4 ? strtoull(argv[4], NULL, 10) : 7;
    if (nq < 10 || rng == 0)
        return 2;
    target t = {0};
    char err[256];
    vt_rpc_channel_opts co = {.target = argv[1]};
    if (vt_rpc_channel_new(&co, &t.ch, err, sizeof err) != VT_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    t.pg = PQconnectdb(argv[2]);
    PGresult *r = PQexec(t.pg, "SET pg_trgm.word_similarity_threshold = 0.4");
    PQclear(r);
    r = PQprepare(t.pg, "old", old_sql, 1, NULL);
    PQclear(r);
    r = PQprepare(t.pg, "floor", "SELECT id FROM vendor.vendors WHERE id = $1::uuid", 1, NULL);
    PQclear(r);
    r = PQexec(t.pg, "SELECT id::text, name FROM vendor.vendors TABLESAMPLE SYSTEM (5) LIMIT 5000");
    int nsample = PQresultStatus(r) == PGRES_TUPLES_OK ? PQntuples(r) : 0;
    if (nsample == 0) {
        fprintf(stderr, "no vendors: %s", PQerrorMessage(t.pg));
        return 1;
    }
    static const char *const shapes[] = {"single", "typo2", "prefix"};
    static const char *const cases[] = {"new", "old", "floor"};
    uint32_t *lat = malloc((size_t)nq * sizeof *lat);
    char(*qs)[96] = malloc((size_t)(nq + WARMUP) * sizeof *qs);
    for (int s = 0; s < 3; s++) {
        for (int i = 0; i < nq + WARMUP; i++)
            make_query(PQgetvalue(r, (int)rnd((unsigned)nsample), 1), s, qs[i], sizeof qs[i]);
        for (int c = 0; c < 3; c++) {
            if (c == 2 && s > 0)
                continue; /* the floor does not depend on the shape */
            long hits = 0;
            int errors = 0;
            for (int i = 0; i < nq + WARMUP; i++) {
                const char *id = PQgetvalue(r, i % nsample, 0);
                int64_t t0 = now_ns();
                int h = run_one(&t, cases[c], qs[i], id);
                int64_t us = (now_ns() - t0) / 1000;
                if (i < WARMUP)
                    continue;
                lat[i - WARMUP] = (uint32_t)us;
                if (h < 0)
                    errors++;
                else
                    hits += h;
            }
            qsort(lat, (size_t)nq, sizeof *lat, cmp_u32);
            printf("case=%s shape=%s calls=%d p50_us=%u p99_us=%u mean_hits=%.1f errors=%d "
                   "example=\"%s\"\n",
                   cases[c], c == 2 ? "pk-select" : shapes[s], nq, lat[nq / 2],
                   lat[(size_t)nq * 99 / 100], (double)hits / nq, errors, qs[WARMUP]);
            fflush(stdout);
        }
    }
    PQclear(r);
    PQfinish(t.pg);
    vt_rpc_channel_free(t.ch);
    free(lat);
    free(qs);
    return 0;
}
