/*
 * search_engine.c — see search_engine.h.
 *
 * The variants of every query word go in one array; the vocabulary answers with every
 * term sharing one, plus the terms the last word starts. Each candidate is then checked
 * against each word by search_words_match (the distance decides, not the variant), and
 * the matches (term, word, typos, exact) go to the ranking statements as arrays. A word
 * with no match means no vendor can match them all: nothing more is asked.
 *
 * Then the page, by the cheapest path that gives the same page (search_engine.h): the
 * postings per word decide between the walk (one word, many postings), the driven
 * statement (one word much rarer than the rest) and the aggregate. The walk stops at
 * its budget without a full page when its tier is sparse; the exact path answers then.
 * Near a position the walk cannot stop inside one statement (distance, recency and id
 * order the tier, and the index gives distance alone), so it reads the nearest vendors
 * in rounds until the page is full and provably complete.
 *
 * Array literals are safe to build by hand here: folded terms are [a-z0-9] only.
 */
#include "search_engine.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Postings of all words over the rarest word's, from which ranking from the rarest
 * word's vendors is cheaper. Measured at 100,000 vendors: even at 3 (1,700 against
 * 5,000 postings), twice as fast at 13 (2,500 against 32,000). */
#define SEARCH_DRIVEN_RATIO 8
/* A walk near a position first reads this many of the nearest vendors per hit wanted
 * (a tier holding one vendor in eight fills its page in one round). */
#define SEARCH_NEAR_SCAN 8
/* Distances closer than this are a tie: the index's distance and ST_Distance's may
 * differ in their last bits. */
#define SEARCH_NEAR_TIE_M 0.01
/* The scan orders by distance on a sphere, the radius is on the spheroid: they differ by
 * under 0.5%, so a scan past the radius by 1% has read every vendor within it. */
#define SEARCH_NEAR_SPHEROID 1.01

typedef struct {
    vt_buf terms, words, typos, exact;
    int n;
    int min_typos;  /* over every match: the best tier's typos (one word) */
    bool any_exact; /* a match is exact */
} matches;

static bool add_match(matches *m, const char *term, size_t i, const search_match *sm)
{
    const char *sep = m->n ? "," : "";
    m->n++;
    if (sm->typos < m->min_typos)
        m->min_typos = sm->typos;
    m->any_exact = m->any_exact || (!sm->prefix && sm->typos == 0);
    return vt_buf_printf(&m->terms, "%s%s", sep, term) &&
           vt_buf_printf(&m->words, "%s%zu", sep, i) &&
           vt_buf_printf(&m->typos, "%s%d", sep, sm->typos) &&
           vt_buf_printf(&m->exact, "%s%c", sep, !sm->prefix && sm->typos == 0 ? 't' : 'f');
}

/* {v1,v2,...} of every word's variants. */
static bool variants_literal(const search_query *q, vt_buf *out)
{
    char(*v)[SEARCH_WORD_MAX + 1] = malloc(SEARCH_VARIANTS_MAX * sizeof *v);
    if (!v)
        return false;
    bool ok = vt_buf_putc(out, '{');
    bool first = true;
    for (size_t i = 0; i < q->n && ok; i++) {
        size_t n = search_words_deletes(q->words[i], q->lens[i], v);
        for (size_t k = 0; k < n && ok; k++, first = false)
            ok = vt_buf_printf(out, "%s%s", first ? "" : ",", v[k]);
    }
    free(v);
    return ok && vt_buf_putc(out, '}');
}

static void matches_free(matches *m)
{
    vt_buf_free(&m->terms);
    vt_buf_free(&m->words);
    vt_buf_free(&m->typos);
    vt_buf_free(&m->exact);
}

/* Verify each candidate term against each word; which words found any. */
static bool verify(const search_query *q, PGresult *cands, matches *m, bool found[])
{
    bool ok = vt_buf_putc(&m->terms, '{') && vt_buf_putc(&m->words, '{') &&
              vt_buf_putc(&m->typos, '{') && vt_buf_putc(&m->exact, '{');
    for (int r = 0; r < PQntuples(cands) && ok; r++) {
        const char *term = PQgetvalue(cands, r, 0);
        size_t tlen = (size_t)PQgetlength(cands, r, 0);
        for (size_t i = 0; i < q->n && ok; i++) {
            search_match sm =
                search_words_match(q->words[i], q->lens[i], i + 1 == q->n, term, tlen);
            if (sm.matched) {
                found[i] = true;
                ok = add_match(m, term, i, &sm);
            }
        }
    }
    return ok && vt_buf_putc(&m->terms, '}') && vt_buf_putc(&m->words, '}') &&
           vt_buf_putc(&m->typos, '}') && vt_buf_putc(&m->exact, '}');
}

/* The walks keep no filter but the position and its radius: a filter would make their
 * estimated total (postings counted) far above the true one. */
static bool walkable(const search_request *r)
{
    return !r->box && !r->open_now && r->online_window_s <= 0;
}

/* Per word, its matched terms' postings (counted up to cap) into sizes[]. */
static int word_sizes(vt_db_conn *c, const store_rank_args *a, long cap, long sizes[], char *err,
                      size_t errlen)
{
    PGresult *res = NULL;
    int rc = store_search_sizes(c, a, cap, &res, err, errlen);
    for (int i = 0; rc == VT_OK && i < PQntuples(res); i++) {
        int word = atoi(PQgetvalue(res, i, 0));
        if (word >= 0 && word < a->nwords)
            sizes[word] = atol(PQgetvalue(res, i, 1));
    }
    PQclear(res);
    return rc;
}

/* The best text tier the matches allow: fewest typos, in the name, exact if a term is. */
static store_walk_args best_tier(const search_plan *p, const matches *m)
{
    store_walk_args w = {.typos = m->min_typos,
                         .exact = m->any_exact,
                         .budget = p->walk_budget,
                         .count_cap = SEARCH_ESTIMATE_CAP};
    return w;
}

/* The page is a walk's: out takes res, with the estimated total (at most cap). */
static void walked(PGresult *res, const store_rank_args *a, long cap, search_result *out)
{
    store_search_hit h;
    store_search_row(res, 0, &h);
    long found = (long)a->offset + a->limit;
    long total = h.total < cap ? h.total : cap;
    out->res = res;
    out->total = total > found ? total : found;
    out->estimated = true;
    out->path = SEARCH_PATH_WALK;
}

/* The best tier near the position, by rounds of the nearest vendors: SEARCH_NEAR_SCAN
 * per hit wanted at first, then as many as the tier's share among those read says the
 * page needs (at least twice as many), up to the budget. The page is found when it is
 * full and its last hit is nearer than the farthest vendor read, since a vendor not
 * read is farther still; or when every vendor within reach was read: all with a
 * position, or all within the radius (the scan passed it; their count then caps the
 * estimated total). */
static int walk_near(vt_db_conn *c, const search_request *r, const store_rank_args *a,
                     store_walk_args *w, search_result *out, char *err, size_t errlen)
{
    long budget = w->budget, want = (long)a->offset + a->limit;
    long scan = want * SEARCH_NEAR_SCAN;
    for (;;) {
        w->budget = scan < budget ? scan : budget;
        PGresult *res = NULL;
        int rc = store_search_walk_near(c, a, w, &res, err, errlen);
        int n = rc == VT_OK ? PQntuples(res) : 0;
        store_walk_edge e = {.scanned = w->budget};
        store_search_hit last = {0};
        if (n > 0) {
            store_walk_edge_row(res, &e);
            store_search_row(res, n - 1, &last);
        }
        bool past_radius = r->radius_m > 0 && e.far_m > r->radius_m * SEARCH_NEAR_SPHEROID;
        bool all_read = e.scanned < w->budget || past_radius;
        if (n == a->limit && (all_read || last.distance_m < e.far_m - SEARCH_NEAR_TIE_M)) {
            walked(res, a, all_read && r->radius_m > 0 ? e.within : LONG_MAX, out);
            return VT_OK;
        }
        PQclear(res);
        if (rc != VT_OK || all_read || w->budget == budget)
            return rc;
        long needed = e.tier > 0 ? want * e.scanned / e.tier + want : 0;
        scan = needed > 2 * w->budget ? needed : 2 * w->budget;
    }
}

/* One word of many postings, no filter but a position: its best tier in recency order,
 * or near the position. VT_OK with out->res set when that tier filled the page; else
 * nothing is set. */
static int try_walk(vt_db_conn *c, const search_request *r, const store_rank_args *a,
                    const matches *m, search_result *out, char *err, size_t errlen)
{
    long size = 0;
    int rc = word_sizes(c, a, r->plan.walk_min + 1, &size, err, errlen);
    if (rc != VT_OK || size <= r->plan.walk_min)
        return rc;
    store_walk_args w = best_tier(&r->plan, m);
    if (r->near)
        return walk_near(c, r, a, &w, out, err, errlen);
    PGresult *res = NULL;
    rc = store_search_walk(c, a, &w, &res, err, errlen);
    if (rc == VT_OK && PQntuples(res) == a->limit) {
        walked(res, a, LONG_MAX, out);
        return VT_OK;
    }
    PQclear(res);
    return rc;
}

/* The word to rank from: the rarest, when the postings of all are at least
 * SEARCH_DRIVEN_RATIO times its own, or another word has more than sizes count
 * (SEARCH_SIZES_CAP) and the rarest at most that over the ratio; else -1. */
static int driver_word(const long sizes[], int n)
{
    int best = 0;
    long sum = 0;
    bool capped = false;
    for (int i = 0; i < n; i++) {
        sum += sizes[i];
        capped = capped || sizes[i] >= SEARCH_SIZES_CAP;
        if (sizes[i] < sizes[best])
            best = i;
    }
    bool cheaper = sum >= SEARCH_DRIVEN_RATIO * sizes[best] ||
                   (capped && sizes[best] <= SEARCH_SIZES_CAP / SEARCH_DRIVEN_RATIO);
    return cheaper ? best : -1;
}

/* The exact page and total: every posting aggregated, or (several words, one of them
 * much rarer) from the rarest word's vendors. */
static int exact_page(vt_db_conn *c, const search_request *r, store_rank_args *a,
                      search_result *out, char *err, size_t errlen)
{
    int rc = VT_OK;
    if (!r->plan.aggregate && a->nwords > 1) {
        long sizes[SEARCH_QUERY_WORDS_MAX] = {0};
        rc = word_sizes(c, a, SEARCH_SIZES_CAP, sizes, err, errlen);
        a->driver = driver_word(sizes, a->nwords);
    }
    out->path = a->driver >= 0 ? SEARCH_PATH_DRIVEN : SEARCH_PATH_AGGREGATE;
    if (rc == VT_OK)
        rc = store_search_rank(c, a, &out->res, err, errlen);
    PGresult *counted = NULL;
    /* A page past the end has no row to carry the total: count with the first. */
    if (rc == VT_OK && PQntuples(out->res) == 0 && a->offset > 0) {
        store_rank_args first = *a;
        first.offset = 0, first.limit = 1;
        rc = store_search_rank(c, &first, &counted, err, errlen);
    }
    PGresult *with_total = counted ? counted : out->res;
    if (rc == VT_OK && PQntuples(with_total) > 0) {
        store_search_hit h;
        store_search_row(with_total, 0, &h);
        out->total = h.total;
    }
    PQclear(counted);
    return rc;
}

int search_engine_run(vt_db_conn *c, const search_request *r, search_result *out, char *err,
                      size_t errlen)
{
    memset(out, 0, sizeof *out);
    search_query_parse(r->q, &out->query);
    const search_query *q = &out->query;
    if (q->n == 0 || r->offset >= SEARCH_HITS_MAX)
        return VT_OK;
    vt_buf variants = VT_BUF_INIT;
    if (!variants_literal(q, &variants)) {
        vt_buf_free(&variants);
        snprintf(err, errlen, "out of memory");
        return VT_RESOURCE_EXHAUSTED;
    }
    PGresult *cands = NULL;
    int rc = store_search_candidates(c, variants.data, q->words[q->n - 1], SEARCH_PREFIX_TERMS_MAX,
                                     &cands, err, errlen);
    vt_buf_free(&variants);
    if (rc != VT_OK)
        return rc;
    matches m = {.min_typos = SEARCH_TYPOS_NONE};
    bool found[SEARCH_QUERY_WORDS_MAX] = {false};
    bool ok = verify(q, cands, &m, found);
    PQclear(cands);
    bool all = ok;
    for (size_t i = 0; i < q->n; i++)
        all = all && found[i];
    if (!ok) {
        snprintf(err, errlen, "out of memory");
        rc = VT_RESOURCE_EXHAUSTED;
    } else if (all) {
        int limit = r->offset + r->limit > SEARCH_HITS_MAX ? SEARCH_HITS_MAX - r->offset : r->limit;
        store_rank_args a = {.terms = m.terms.data,
                             .words = m.words.data,
                             .typos = m.typos.data,
                             .exact = m.exact.data,
                             .nwords = (int)q->n,
                             .near = r->near,
                             .lat = r->lat,
                             .lng = r->lng,
                             .radius_m = r->radius_m,
                             .box = r->box,
                             .sw_lat = r->sw_lat,
                             .sw_lng = r->sw_lng,
                             .ne_lat = r->ne_lat,
                             .ne_lng = r->ne_lng,
                             .open_now = r->open_now,
                             .online_window_s = r->online_window_s,
                             .offset = r->offset,
                             .limit = limit,
                             .driver = -1};
        if (!r->plan.aggregate && q->n == 1 && r->plan.walk_min > 0 && walkable(r))
            rc = try_walk(c, r, &a, &m, out, err, errlen);
        if (rc == VT_OK && !out->res)
            rc = exact_page(c, r, &a, out, err, errlen);
    }
    matches_free(&m);
    if (rc != VT_OK) {
        PQclear(out->res);
        out->res = NULL;
    }
    return rc;
}
