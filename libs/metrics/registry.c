/*
 * registry.c — metric series and their Prometheus text rendering.
 *
 * Series live in one array in registration order, never move (the array holds
 * pointers) and are freed only with the registry, so handles stay valid without
 * reference counts. Values are atomics: counters and histogram buckets are uint64,
 * gauges and histogram sums are doubles stored as their bit patterns and updated by
 * compare-and-swap. Rendering groups series by name so each family has one HELP/TYPE,
 * into the one builder (vt_buf).
 */
#include "vt_metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BOUNDS 32

typedef enum { KIND_COUNTER, KIND_GAUGE, KIND_GAUGE_FN, KIND_HISTOGRAM } series_kind;

typedef struct series {
    series_kind kind;
    char *name;
    char *help;
    char *labels;           /* "" when none */
    _Atomic uint64_t count; /* counter value, or histogram observation count */
    _Atomic uint64_t bits;  /* gauge value or histogram sum, as double bits */
    double bounds[MAX_BOUNDS];
    size_t nbounds;
    _Atomic uint64_t buckets[MAX_BOUNDS + 1]; /* non-cumulative; last is +Inf */
    double (*fn)(void *);
    void *fn_user;
} series;

struct vt_metrics {
    pthread_mutex_t lock;
    series **items;
    size_t count, cap;
};

const double vt_metrics_latency_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                            0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                            1,      2.5,     5,      10};
const size_t vt_metrics_latency_nbounds =
    sizeof vt_metrics_latency_bounds / sizeof vt_metrics_latency_bounds[0];

static uint64_t to_bits(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static double from_bits(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

static void atomic_add_double(_Atomic uint64_t *bits, double delta)
{
    uint64_t old = atomic_load(bits);
    while (!atomic_compare_exchange_weak(bits, &old, to_bits(from_bits(old) + delta)))
        ;
}

vt_metrics *vt_metrics_new(void)
{
    vt_metrics *reg = calloc(1, sizeof *reg);
    if (reg)
        pthread_mutex_init(&reg->lock, NULL);
    return reg;
}

void vt_metrics_free(vt_metrics *reg)
{
    if (!reg)
        return;
    for (size_t i = 0; i < reg->count; i++) {
        free(reg->items[i]->name);
        free(reg->items[i]->help);
        free(reg->items[i]->labels);
        free(reg->items[i]);
    }
    free(reg->items);
    pthread_mutex_destroy(&reg->lock);
    free(reg);
}

static bool valid_name(const char *name)
{
    if (!name || !*name || (name[0] >= '0' && name[0] <= '9'))
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == ':'))
            return false;
    return true;
}

/* Find or add a series; NULL on a kind clash, a bad name or no memory. */
static series *lookup(vt_metrics *reg, series_kind kind, const char *name, const char *help,
                      const char *labels)
{
    if (!valid_name(name))
        return NULL;
    labels = labels ? labels : "";
    series *found = NULL;
    pthread_mutex_lock(&reg->lock);
    for (size_t i = 0; i < reg->count; i++) {
        series *s = reg->items[i];
        if (strcmp(s->name, name) != 0)
            continue;
        bool same_family = s->kind == kind || (s->kind == KIND_GAUGE && kind == KIND_GAUGE_FN) ||
                           (s->kind == KIND_GAUGE_FN && kind == KIND_GAUGE);
        if (!same_family)
            goto out;
        if (strcmp(s->labels, labels) == 0) {
            found = s;
            goto out;
        }
    }
    if (reg->count == reg->cap) {
        size_t cap = reg->cap ? reg->cap * 2 : 32;
        series **grown = realloc(reg->items, cap * sizeof *grown);
        if (!grown)
            goto out;
        reg->items = grown;
        reg->cap = cap;
    }
    series *s = calloc(1, sizeof *s);
    if (!s)
        goto out;
    s->kind = kind;
    s->name = strdup(name);
    s->help = strdup(help ? help : "");
    s->labels = strdup(labels);
    if (!s->name || !s->help || !s->labels) {
        free(s->name), free(s->help), free(s->labels), free(s);
        goto out;
    }
    reg->items[reg->count++] = s;
    found = s;
out:
    pthread_mutex_unlock(&reg->lock);
    return found;
}

vt_counter *vt_metrics_counter(vt_metrics *reg, const char *name, const char *help,
                               const char *labels)
{
    return (vt_counter *)lookup(reg, KIND_COUNTER, name, help, labels);
}

vt_gauge *vt_metrics_gauge(vt_metrics *reg, const char *name, const char *help, const char *labels)
{
    series *s = lookup(reg, KIND_GAUGE, name, help, labels);
    return s && s->kind == KIND_GAUGE ? (vt_gauge *)s : NULL;
}

int vt_metrics_gauge_fn(vt_metrics *reg, const char *name, const char *help, const char *labels,
                        double (*fn)(void *user), void *user)
{
    series *s = lookup(reg, KIND_GAUGE_FN, name, help, labels);
    if (!s || s->kind != KIND_GAUGE_FN)
        return VT_INVALID_ARGUMENT;
    pthread_mutex_lock(&reg->lock); /* a scrape may be rendering meanwhile */
    s->fn_user = user;
    s->fn = fn;
    pthread_mutex_unlock(&reg->lock);
    return VT_OK;
}

void vt_metrics_gauge_fn_detach(vt_metrics *reg, const void *user)
{
    if (!reg)
        return;
    pthread_mutex_lock(&reg->lock); /* rendering holds it while it calls the functions */
    for (size_t i = 0; i < reg->count; i++)
        if (reg->items[i]->kind == KIND_GAUGE_FN && reg->items[i]->fn_user == user)
            reg->items[i]->fn = NULL;
    pthread_mutex_unlock(&reg->lock);
}

vt_histogram *vt_metrics_histogram(vt_metrics *reg, const char *name, const char *help,
                                   const char *labels, const double *bounds, size_t nbounds)
{
    if (nbounds == 0 || nbounds > MAX_BOUNDS)
        return NULL;
    for (size_t i = 1; i < nbounds; i++)
        if (!(bounds[i] > bounds[i - 1]))
            return NULL;
    series *s = lookup(reg, KIND_HISTOGRAM, name, help, labels);
    if (s && s->nbounds == 0) {
        memcpy(s->bounds, bounds, nbounds * sizeof *bounds);
        s->nbounds = nbounds;
    }
    return (vt_histogram *)s;
}

void vt_counter_add(vt_counter *c, uint64_t n)
{
    if (c)
        atomic_fetch_add(&((series *)c)->count, n);
}

uint64_t vt_counter_value(const vt_counter *c)
{
    return c ? atomic_load(&((series *)c)->count) : 0;
}

void vt_gauge_set(vt_gauge *g, double v)
{
    if (g)
        atomic_store(&((series *)g)->bits, to_bits(v));
}

void vt_gauge_add(vt_gauge *g, double delta)
{
    if (g)
        atomic_add_double(&((series *)g)->bits, delta);
}

double vt_gauge_value(const vt_gauge *g)
{
    return g ? from_bits(atomic_load(&((series *)g)->bits)) : 0;
}

void vt_histogram_observe(vt_histogram *h, double v)
{
    series *s = (series *)h;
    if (!s)
        return;
    size_t i = 0;
    while (i < s->nbounds && v > s->bounds[i])
        i++;
    atomic_fetch_add(&s->buckets[i], 1);
    atomic_fetch_add(&s->count, 1);
    atomic_add_double(&s->bits, v);
}

uint64_t vt_histogram_count(const vt_histogram *h)
{
    return h ? atomic_load(&((series *)h)->count) : 0;
}

/* ---- rendering ---- */

static const char *type_name(series_kind k)
{
    switch (k) {
    case KIND_COUNTER:
        return "counter";
    case KIND_HISTOGRAM:
        return "histogram";
    default:
        return "gauge";
    }
}

/* Labels with an extra one appended, e.g. {route="x",le="0.5"}. */
static void put_labels(vt_buf *t, const char *labels, const char *extra)
{
    bool a = labels && *labels, b = extra && *extra;
    if (!a && !b)
        return;
    vt_buf_printf(t, "{%s%s%s}", a ? labels : "", a && b ? "," : "", b ? extra : "");
}

static void render_series(vt_buf *t, const series *s)
{
    switch (s->kind) {
    case KIND_COUNTER:
        vt_buf_puts(t, s->name);
        put_labels(t, s->labels, NULL);
        vt_buf_printf(t, " %llu\n", (unsigned long long)atomic_load(&s->count));
        break;
    case KIND_GAUGE:
    case KIND_GAUGE_FN: {
        double v = s->kind == KIND_GAUGE ? from_bits(atomic_load(&s->bits))
                   : s->fn               ? s->fn(s->fn_user)
                                         : 0;
        vt_buf_puts(t, s->name);
        put_labels(t, s->labels, NULL);
        vt_buf_printf(t, " %.17g\n", v);
        break;
    }
    case KIND_HISTOGRAM: {
        uint64_t cumulative = 0;
        char le[48];
        for (size_t i = 0; i <= s->nbounds; i++) {
            cumulative += atomic_load(&s->buckets[i]);
            if (i < s->nbounds)
                snprintf(le, sizeof le, "le=\"%g\"", s->bounds[i]);
            else
                snprintf(le, sizeof le, "le=\"+Inf\"");
            vt_buf_printf(t, "%s_bucket", s->name);
            put_labels(t, s->labels, le);
            vt_buf_printf(t, " %llu\n", (unsigned long long)cumulative);
        }
        vt_buf_printf(t, "%s_sum", s->name);
        put_labels(t, s->labels, NULL);
        vt_buf_printf(t, " %.17g\n", from_bits(atomic_load(&s->bits)));
        vt_buf_printf(t, "%s_count", s->name);
        put_labels(t, s->labels, NULL);
        /* The count line uses the bucket total so one scrape is self-consistent. */
        vt_buf_printf(t, " %llu\n", (unsigned long long)cumulative);
        break;
    }
    }
}

size_t vt_metrics_render(vt_metrics *reg, char **out)
{
    vt_buf t = VT_BUF_INIT;
    pthread_mutex_lock(&reg->lock);
    bool *done = calloc(reg->count ? reg->count : 1, sizeof *done);
    for (size_t i = 0; done && i < reg->count; i++) {
        if (done[i])
            continue;
        const series *first = reg->items[i];
        vt_buf_printf(&t, "# HELP %s %s\n# TYPE %s %s\n", first->name, first->help, first->name,
                      type_name(first->kind));
        for (size_t j = i; j < reg->count; j++) {
            if (!done[j] && strcmp(reg->items[j]->name, first->name) == 0) {
                render_series(&t, reg->items[j]);
                done[j] = true;
            }
        }
    }
    pthread_mutex_unlock(&reg->lock);
    free(done);
    size_t len = 0;
    *out = vt_buf_take(&t, &len);
    if (!*out) /* out of memory: an empty scrape rather than half a family */
        *out = strdup("");
    return len;
}
