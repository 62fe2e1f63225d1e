/*
 * location_cache.c — see location_cache.h.
 *
 * Two coalescing tables (the mesh's vt_events_latest), swapped once per interval: NATS
 * callbacks put into the active one under `lock` (a hash probe and a copy, never
 * dropping another vendor to make room), and the writer thread, which owns its own
 * PostgreSQL connection, swaps the tables under the lock, then takes the full one's
 * positions out in batches without holding it and writes them. Since the writer swaps once per
 * interval and a table holds one entry per vendor, no vendor is written twice within
 * an interval. A batch that fails goes back into the active table where the vendor
 * has no newer position yet, to be retried at the next interval (which is thus also
 * the retry backoff); the connection reconnects by itself (vt_db_conn).
 */
#include "location_cache.h"

#include "store.h"
#include "vt_core.h"
#include "vt_events.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct location_cache {
    location_cache_opts opts;
    vt_bus_sub *sub;
    vt_db_conn *db;
    pthread_t writer;

    pthread_mutex_t lock; /* guards active, stopping */
    pthread_cond_t wake;
    vt_events_latest *tables[2];
    vt_events_latest *active;
    vt_events_position *batch; /* the writer's: batch_max positions */
    bool stopping;

    vt_counter *received, *coalesced, *stale, *ignored, *invalid, *dropped, *batches, *rows,
        *written, *errors;
};

static void on_location(const char *subject, const void *data, size_t len, void *user)
{
    location_cache *lc = user;
    vt_counter_inc(lc->received);
    vt_events_position loc;
    vt_events_loc_kind kind = vt_events_decode_location(subject, data, len, &loc);
    if (kind == VT_EVENTS_LOC_INVALID) {
        vt_counter_inc(lc->invalid);
        vt_debug(NULL, "location cache: dropped a malformed message on %s", subject);
        return;
    }
    if (kind == VT_EVENTS_LOC_LEFT_CELL) { /* a copy for the old cell of one sent on the new */
        vt_counter_inc(lc->ignored);
        return;
    }
    vt_events_log_position("last-known location", &loc);
    pthread_mutex_lock(&lc->lock);
    vt_events_latest_result r = vt_events_latest_put_if_room(lc->active, &loc);
    pthread_mutex_unlock(&lc->lock);
    if (r == VT_EVENTS_LATEST_COALESCED)
        vt_counter_inc(lc->coalesced);
    else if (r == VT_EVENTS_LATEST_STALE)
        vt_counter_inc(lc->stale);
    else if (r == VT_EVENTS_LATEST_FULL)
        vt_counter_inc(lc->dropped);
}

/* Write every position of t in batches, oldest arrival first; what fails goes back into
 * the active table. t is empty afterwards. */
static void write_table(location_cache *lc, vt_events_latest *t)
{
    vt_events_position *batch = lc->batch;
    size_t n;
    while ((n = vt_events_latest_take(t, batch, lc->opts.batch_max)) > 0) {
        char err[512];
        long written = 0;
        int rc = store_write_locations(lc->db, batch, n, &written, err, sizeof err);
        if (rc == VT_OK) {
            for (size_t i = 0; i < n; i++)
                profile_cache_forget(lc->opts.profiles, batch[i].vendor_id);
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
        do { /* this batch and the ones after it */
            for (size_t i = 0; i < n; i++)
                if (vt_events_latest_put_if_room(lc->active, &batch[i]) == VT_EVENTS_LATEST_FULL)
                    lost++;
        } while ((n = vt_events_latest_take(t, batch, lc->opts.batch_max)) > 0);
        pthread_mutex_unlock(&lc->lock);
        vt_counter_add(lc->dropped, lost);
        break;
    }
}

static void free_tables(location_cache *lc)
{
    vt_events_latest_free(lc->tables[0]);
    vt_events_latest_free(lc->tables[1]);
    free(lc->batch);
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
        vt_events_latest *full = lc->active;
        lc->active = full == lc->tables[0] ? lc->tables[1] : lc->tables[0];
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
    double n = (double)vt_events_latest_count(lc->active);
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
    vt_events_latest_opts topts = {.capacity = lc->opts.capacity};
    int rc = vt_events_latest_new(&topts, &lc->tables[0], err, errlen);
    if (rc == VT_OK)
        rc = vt_events_latest_new(&topts, &lc->tables[1], err, errlen);
    lc->batch = rc == VT_OK ? malloc(lc->opts.batch_max * sizeof *lc->batch) : NULL;
    vt_db_conn_opts db = {.url = opts->database_url,
                          .statements = store_statements,
                          .statement_count = store_nstatements};
    if (!lc->batch || vt_db_conn_new(&db, &lc->db, NULL, 0) != VT_OK) {
        if (rc == VT_OK)
            snprintf(err, errlen, "out of memory for a location cache of %zu", lc->opts.capacity);
        free_tables(lc);
        free(lc);
        return rc == VT_OK ? VT_RESOURCE_EXHAUSTED : rc;
    }
    lc->active = lc->tables[0];
    pthread_mutex_init(&lc->lock, NULL);
    vt_cond_init_monotonic(&lc->wake);
    if (pthread_create(&lc->writer, NULL, writer_main, lc) != 0) {
        snprintf(err, errlen, "cannot start the location cache writer");
        vt_db_conn_free(lc->db);
        free_tables(lc);
        pthread_cond_destroy(&lc->wake);
        pthread_mutex_destroy(&lc->lock);
        free(lc);
        return VT_RESOURCE_EXHAUSTED;
    }
    register_metrics(lc, opts->metrics);
    rc = vt_bus_subscribe(opts->bus, VT_EVENTS_LOC_ALL, VENDOR_LOCATION_QUEUE, 65536, on_location,
                          lc, &lc->sub);
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
    free_tables(lc);
    pthread_cond_destroy(&lc->wake);
    pthread_mutex_destroy(&lc->lock);
    free(lc);
}
