/*
 * location_cache.c — see location_cache.h.
 *
 * Two coalescing tables, swapped once per interval: NATS callbacks put into the
 * active one under `lock` (a hash probe and a copy), and the writer thread, which
 * owns its own PostgreSQL connection, swaps the tables under the lock, then writes
 * the full one without holding it and empties it. Since the writer swaps once per
 * interval and a table holds one entry per vendor, no vendor is written twice within
 * an interval. A batch that fails goes back into the active table where the vendor
 * has no newer position yet, to be retried at the next interval (which is thus also
 * the retry backoff); the connection reconnects by itself (vt_db_conn).
 *
 * Each table is a dense array of entries plus the mesh's id index (vt_index, hashed
 * with vt_hash_str) of slots at most half full; emptying it is a count reset and a
 * memset of the index.
 */
#include "location_cache.h"

#include "store.h"
#include "venta/events/v1/events.pb-c.h"
#include "vt_core.h"
#include "vt_events.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    vt_index index; /* vendor id -> item; at least 2 * cap slots, never grown */
    store_location *items;
    size_t count, cap;
} table;

typedef enum { PUT_ADDED, PUT_COALESCED, PUT_STALE, PUT_FULL } put_result;

struct location_cache {
    location_cache_opts opts;
    vt_bus_sub *sub;
    vt_db_conn *db;
    pthread_t writer;

    pthread_mutex_t lock; /* guards active, stopping */
    pthread_cond_t wake;
    table tables[2];
    table *active;
    bool stopping;

    vt_counter *received, *coalesced, *stale, *ignored, *invalid, *dropped, *batches, *rows,
        *written, *errors;
};

static bool item_is(const void *ctx, uint32_t i, const void *id)
{
    const table *t = ctx;
    return strcmp(t->items[i].vendor_id, id) == 0;
}

static bool table_init(table *t, size_t cap)
{
    t->items = malloc(cap * sizeof *t->items);
    t->count = 0;
    t->cap = cap;
    return vt_index_init(&t->index, cap * 2) == VT_OK && t->items;
}

static void table_free(table *t)
{
    vt_index_free(&t->index);
    free(t->items);
}

static void table_clear(table *t)
{
    vt_index_clear(&t->index);
    t->count = 0;
}

/* Keep the newest position (by the vendor's own timestamp) per vendor. */
static put_result table_put(table *t, const store_location *loc)
{
    size_t s = vt_index_seek(&t->index, vt_hash_str(loc->vendor_id), item_is, t, loc->vendor_id);
    uint32_t i = vt_index_at(&t->index, s);
    if (i == VT_INDEX_NONE) {
        if (t->count == t->cap)
            return PUT_FULL;
        t->items[t->count] = *loc;
        vt_index_fill(&t->index, s, (uint32_t)t->count++);
        return PUT_ADDED;
    }
    store_location *have = &t->items[i];
    if (loc->ts < have->ts)
        return PUT_STALE;
    *have = *loc;
    return PUT_COALESCED;
}

static void on_location(const char *subject, const void *data, size_t len, void *user)
{
    location_cache *lc = user;
    vt_counter_inc(lc->received);
    Venta__Events__V1__VendorLocation *msg =
        venta__events__v1__vendor_location__unpack(NULL, len, data);
    char err[128];
    if (!msg || vt_events_location_valid(msg, err, sizeof err) != VT_OK) {
        vt_counter_inc(lc->invalid);
        vt_debug(NULL, "location cache: dropped a malformed message on %s", subject);
        if (msg)
            venta__events__v1__vendor_location__free_unpacked(msg, NULL);
        return;
    }
    if (msg->left_cell) { /* a copy for the old cell of an update sent on the new one */
        vt_counter_inc(lc->ignored);
        venta__events__v1__vendor_location__free_unpacked(msg, NULL);
        return;
    }
    store_location loc = {.lat = msg->lat, .lng = msg->lng, .ts = msg->ts};
    snprintf(loc.vendor_id, sizeof loc.vendor_id, "%s", msg->vendor_id);
    venta__events__v1__vendor_location__free_unpacked(msg, NULL);

    pthread_mutex_lock(&lc->lock);
    put_result r = table_put(lc->active, &loc);
    pthread_mutex_unlock(&lc->lock);
    if (r == PUT_COALESCED)
        vt_counter_inc(lc->coalesced);
    else if (r == PUT_STALE)
        vt_counter_inc(lc->stale);
    else if (r == PUT_FULL)
        vt_counter_inc(lc->dropped);
}

/* Write every entry of t in batches; what fails goes back into the active table. */
static void write_table(location_cache *lc, table *t)
{
    for (size_t off = 0; off < t->count; off += lc->opts.batch_max) {
        size_t n = t->count - off < lc->opts.batch_max ? t->count - off : lc->opts.batch_max;
        char err[512];
        long written = 0;
        int rc = store_write_locations(lc->db, t->items + off, n, &written, err, sizeof err);
        if (rc == VT_OK) {
            for (size_t i = off; i < off + n; i++)
                profile_cache_forget(lc->opts.profiles, t->items[i].vendor_id);
            vt_counter_inc(lc->batches);
            vt_counter_add(lc->rows, n);
            vt_counter_add(lc->written, (uint64_t)written);
            continue;
        }
        vt_counter_inc(lc->errors);
        vt_warn(NULL, "location cache: writing %zu positions failed (%s): %s", n,
                vt_status_name(rc), err);
        uint64_t lost = 0;
        pthread_mutex_lock(&lc->lock);
        for (size_t i = off; i < t->count; i++) /* this batch and the ones after it */
            if (table_put(lc->active, &t->items[i]) == PUT_FULL)
                lost++;
        pthread_mutex_unlock(&lc->lock);
        vt_counter_add(lc->dropped, lost);
        break;
    }
    table_clear(t);
}

static void *writer_main(void *arg)
{
    location_cache *lc = arg;
    for (;;) {
        struct timespec until = vt_monotonic_deadline((int64_t)lc->opts.interval_ms * 1000000);
        pthread_mutex_lock(&lc->lock);
        while (!lc->stopping && pthread_cond_timedwait(&lc->wake, &lc->lock, &until) == 0)
            ; /* woken early only to stop */
        bool stopping = lc->stopping;
        table *full = lc->active;
        lc->active = full == &lc->tables[0] ? &lc->tables[1] : &lc->tables[0];
        pthread_mutex_unlock(&lc->lock);
        write_table(lc, full);
        if (stopping)
            break;
    }
    return NULL;
}

static double waiting(void *user)
{
    location_cache *lc = user;
    pthread_mutex_lock(&lc->lock);
    double n = (double)lc->active->count;
    pthread_mutex_unlock(&lc->lock);
    return n;
}

static void register_metrics(location_cache *lc, vt_metrics *m)
{
#define COUNTER(field, name, help)                                                                 \
    lc->field = vt_metrics_counter(m, "venta_vendor_location_cache_" name, help, NULL)
    COUNTER(received, "received_total", "Position messages received from loc.>.");
    COUNTER(coalesced, "coalesced_total", "Positions replaced by a newer one before writing.");
    COUNTER(stale, "stale_total", "Positions older than the waiting one, ignored.");
    COUNTER(ignored, "left_cell_total", "Left-cell copies, ignored.");
    COUNTER(invalid, "invalid_total", "Malformed or invalid messages, ignored.");
    COUNTER(dropped, "dropped_total", "Positions dropped because the cache was full.");
    COUNTER(batches, "batches_total", "Batched UPDATEs run.");
    COUNTER(rows, "writes_total",
            "Vendor positions sent to PostgreSQL (one per vendor per "
            "interval at most).");
    COUNTER(written, "rows_changed_total", "Vendor rows actually changed by those writes.");
    COUNTER(errors, "write_errors_total", "Batched UPDATEs that failed.");
#undef COUNTER
    vt_metrics_gauge_fn(m, "venta_vendor_location_cache_waiting",
                        "Vendor positions waiting for the next write.", NULL, waiting, lc);
}

int location_cache_start(const location_cache_opts *opts, location_cache **out, char *err,
                         size_t errlen)
{
    location_cache *lc = calloc(1, sizeof *lc);
    if (!lc) {
        snprintf(err, errlen, "out of memory");
        return VT_RESOURCE_EXHAUSTED;
    }
    lc->opts = *opts;
    if (lc->opts.interval_ms <= 0)
        lc->opts.interval_ms = 5000;
    if (!lc->opts.capacity)
        lc->opts.capacity = 100000;
    if (!lc->opts.batch_max)
        lc->opts.batch_max = 5000;
    bool ok = table_init(&lc->tables[0], lc->opts.capacity) &&
              table_init(&lc->tables[1], lc->opts.capacity);
    vt_db_conn_opts db = {.url = opts->database_url,
                          .statements = store_statements,
                          .statement_count = store_nstatements};
    if (!ok || vt_db_conn_new(&db, &lc->db, NULL, 0) != VT_OK) {
        snprintf(err, errlen, "out of memory for a location cache of %zu", lc->opts.capacity);
        table_free(&lc->tables[0]);
        table_free(&lc->tables[1]);
        free(lc);
        return VT_RESOURCE_EXHAUSTED;
    }
    lc->active = &lc->tables[0];
    pthread_mutex_init(&lc->lock, NULL);
    vt_cond_init_monotonic(&lc->wake);
    if (pthread_create(&lc->writer, NULL, writer_main, lc) != 0) {
        snprintf(err, errlen, "cannot start the location cache writer");
        vt_db_conn_free(lc->db);
        table_free(&lc->tables[0]);
        table_free(&lc->tables[1]);
        pthread_cond_destroy(&lc->wake);
        pthread_mutex_destroy(&lc->lock);
        free(lc);
        return VT_RESOURCE_EXHAUSTED;
    }
    register_metrics(lc, opts->metrics);
    int rc = vt_bus_subscribe(opts->bus, VT_EVENTS_LOC_ALL, VENDOR_LOCATION_QUEUE, 65536,
                              on_location, lc, &lc->sub);
    if (rc != VT_OK) {
        snprintf(err, errlen, "cannot subscribe to %s", VT_EVENTS_LOC_ALL);
        location_cache_stop(lc);
        return rc;
    }
    *out = lc;
    return VT_OK;
}

void location_cache_stop(location_cache *lc)
{
    if (!lc)
        return;
    vt_metrics_gauge_fn_detach(lc->opts.metrics, lc);
    if (lc->sub)
        vt_bus_unsubscribe(lc->sub);
    pthread_mutex_lock(&lc->lock);
    lc->stopping = true;
    pthread_mutex_unlock(&lc->lock);
    pthread_cond_signal(&lc->wake);
    pthread_join(lc->writer, NULL);
    vt_db_conn_free(lc->db);
    table_free(&lc->tables[0]);
    table_free(&lc->tables[1]);
    pthread_cond_destroy(&lc->wake);
    pthread_mutex_destroy(&lc->lock);
    free(lc);
}
