/*
 * ingest.c — see ingest.h.
 *
 * Threads: nats.c delivers each subscription's messages on its own thread; those
 * callbacks only decode, validate and put into the buffer under `lock` (a few hundred
 * nanoseconds). One writer thread owns the PostgreSQL connection: it sleeps until the
 * batch window passes (or the buffer holds a full batch), takes the oldest arrivals
 * out under the lock, and writes them without holding it, so NATS delivery never
 * waits on the database. A failed batch goes back into the buffer where there is room
 * (newer positions that arrived meanwhile win), and the writer backs off.
 */
#include "ingest.h"

#include "pending.h"
#include "store.h"
#include "venta/events/v1/events.pb-c.h"
#include "vt_core.h"
#include "vt_events.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STATUS_QUEUE 4096

/* A presence change, or (removed) a deleted vendor to take off the map. */
typedef struct {
    char vendor_id[VT_UUID_LEN + 1];
    bool online;
    bool removed;
    int64_t ts;
} status_update;

struct ingest {
    ingest_opts opts;
    vt_bus_sub *loc_sub, *status_sub, *deleted_sub;
    vt_db_conn *db;

    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t wake;
    pending *buffer;
    status_update statuses[STATUS_QUEUE]; /* ring: presence changes to apply */
    size_t status_head, status_count;
    bool stopping;

    pthread_t writer;
    bool db_up;
    int flush_ms;

    vt_counter *received, *coalesced, *stale, *invalid, *dropped, *batches, *rows, *errors;
    vt_counter *status_received;
    vt_histogram *batch_size, *write_seconds;
};

static const double batch_bounds[] = {1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000};

static double buffered(void *user)
{
    ingest *in = user;
    pthread_mutex_lock(&in->lock);
    double n = (double)pending_count(in->buffer);
    pthread_mutex_unlock(&in->lock);
    return n;
}

static void on_location(const char *subject, const void *data, size_t len, void *user)
{
    ingest *in = user;
    vt_counter_inc(in->received);
    Venta__Events__V1__VendorLocation *msg =
        venta__events__v1__vendor_location__unpack(NULL, len, data);
    char err[128];
    if (!msg || vt_events_location_valid(msg, err, sizeof err) != VT_OK) {
        vt_counter_inc(in->invalid);
        vt_debug(NULL, "ingest: dropped a malformed message on %s", subject);
        if (msg)
            venta__events__v1__vendor_location__free_unpacked(msg, NULL);
        return;
    }
    if (msg->left_cell) {
        /* The announcement on the old cell repeats an update also sent on the new one. */
        venta__events__v1__vendor_location__free_unpacked(msg, NULL);
        return;
    }
    loc_update u = {.lat = msg->lat, .lng = msg->lng, .heading = msg->heading,
                    .speed = msg->speed, .accuracy = msg->accuracy, .ts = msg->ts};
    memcpy(u.vendor_id, msg->vendor_id, VT_UUID_LEN + 1);
    venta__events__v1__vendor_location__free_unpacked(msg, NULL);

    uint64_t dropped = 0;
    pthread_mutex_lock(&in->lock);
    pending_result r = pending_put(in->buffer, &u, &dropped);
    bool full_batch = pending_count(in->buffer) >= in->opts.batch_max;
    pthread_mutex_unlock(&in->lock);
    if (full_batch)
        pthread_cond_signal(&in->wake);
    if (r == PENDING_COALESCED)
        vt_counter_inc(in->coalesced);
    else if (r == PENDING_STALE)
        vt_counter_inc(in->stale);
    if (dropped)
        vt_counter_add(in->dropped, dropped);
}

static void enqueue_status(ingest *in, const status_update *s)
{
    pthread_mutex_lock(&in->lock);
    if (in->status_count == STATUS_QUEUE) { /* full: the oldest change is the least useful */
        in->status_head = (in->status_head + 1) % STATUS_QUEUE;
        in->status_count--;
        vt_counter_inc(in->dropped);
    }
    in->statuses[(in->status_head + in->status_count) % STATUS_QUEUE] = *s;
    in->status_count++;
    pthread_mutex_unlock(&in->lock);
}

static void on_status(const char *subject, const void *data, size_t len, void *user)
{
    ingest *in = user;
    vt_counter_inc(in->status_received);
    char vendor_id[VT_UUID_LEN + 1];
    Venta__Events__V1__VendorStatus *msg = venta__events__v1__vendor_status__unpack(NULL, len, data);
    if (!msg || vt_events_parse_status_subject(subject, vendor_id) != VT_OK ||
        strcmp(msg->vendor_id, vendor_id) != 0) {
        vt_counter_inc(in->invalid);
        if (msg)
            venta__events__v1__vendor_status__free_unpacked(msg, NULL);
        return;
    }
    status_update s = {.online = msg->online, .ts = msg->ts > 0 ? msg->ts : vt_now_ms()};
    memcpy(s.vendor_id, vendor_id, sizeof s.vendor_id);
    venta__events__v1__vendor_status__free_unpacked(msg, NULL);
    enqueue_status(in, &s);
}

static void on_vendor_deleted(const char *subject, const void *data, size_t len, void *user)
{
    (void)subject;
    ingest *in = user;
    Venta__Events__V1__VendorEvent *msg = venta__events__v1__vendor_event__unpack(NULL, len, data);
    if (!msg || !vt_uuid_valid(msg->vendor_id)) {
        vt_counter_inc(in->invalid);
        if (msg)
            venta__events__v1__vendor_event__free_unpacked(msg, NULL);
        return;
    }
    status_update s = {.removed = true, .ts = vt_now_ms()};
    memcpy(s.vendor_id, msg->vendor_id, sizeof s.vendor_id);
    venta__events__v1__vendor_event__free_unpacked(msg, NULL);
    enqueue_status(in, &s);
}

static void set_db_state(ingest *in, bool up)
{
    if (in->db_up == up)
        return;
    in->db_up = up;
    if (in->opts.on_database)
        in->opts.on_database(up, in->opts.user);
}

static int by_vendor(const void *a, const void *b)
{
    return strcmp(((const loc_update *)a)->vendor_id, ((const loc_update *)b)->vendor_id);
}

/* Write one batch; on failure put it back where there is room. Rows go in vendor id
 * order, so two replicas upserting overlapping vendors lock rows in the same order
 * and cannot deadlock each other. */
static int write_batch(ingest *in, loc_update *batch, size_t n)
{
    char err[512];
    qsort(batch, n, sizeof *batch, by_vendor);
    int64_t t0 = vt_monotonic_ns();
    int rc = store_upsert_batch(in->db, batch, n, err, sizeof err);
    if (rc == VT_OK) {
        vt_counter_inc(in->batches);
        vt_counter_add(in->rows, n);
        vt_histogram_observe(in->batch_size, (double)n);
        vt_histogram_observe(in->write_seconds, (double)(vt_monotonic_ns() - t0) / 1e9);
        return VT_OK;
    }
    vt_counter_inc(in->errors);
    vt_warn(NULL, "ingest: writing %zu positions failed (%s): %s", n, vt_status_name(rc), err);
    uint64_t lost = 0;
    pthread_mutex_lock(&in->lock);
    for (size_t i = 0; i < n; i++)
        if (pending_put_if_room(in->buffer, &batch[i]) == PENDING_FULL)
            lost++;
    pthread_mutex_unlock(&in->lock);
    vt_counter_add(in->dropped, lost);
    return rc;
}

static int apply_statuses(ingest *in)
{
    status_update batch[64];
    for (;;) {
        size_t n = 0;
        pthread_mutex_lock(&in->lock);
        while (n < 64 && in->status_count > 0) {
            batch[n++] = in->statuses[in->status_head];
            in->status_head = (in->status_head + 1) % STATUS_QUEUE;
            in->status_count--;
        }
        pthread_mutex_unlock(&in->lock);
        if (n == 0)
            return VT_OK;
        for (size_t i = 0; i < n; i++) {
            char err[256];
            int rc = batch[i].removed
                         ? store_remove(in->db, batch[i].vendor_id, err, sizeof err)
                         : store_set_online(in->db, batch[i].vendor_id, batch[i].online,
                                            batch[i].ts, err, sizeof err);
            if (rc == VT_UNAVAILABLE)
                return rc; /* presence is rebuilt by the next position anyway */
        }
    }
}

static void deadline_in(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_nsec += (long)(ms % 1000) * 1000000;
    ts->tv_sec += ms / 1000 + ts->tv_nsec / 1000000000;
    ts->tv_nsec %= 1000000000;
}

static void *writer_main(void *arg)
{
    ingest *in = arg;
    loc_update *batch = malloc(in->opts.batch_max * sizeof *batch);
    if (!batch)
        abort();
    int backoff_ms = 0;
    int64_t last_ping = 0;
    for (;;) {
        pthread_mutex_lock(&in->lock);
        if (!in->stopping && pending_count(in->buffer) < in->opts.batch_max) {
            struct timespec until;
            deadline_in(&until, backoff_ms > 0 ? backoff_ms : in->opts.batch_ms);
            pthread_cond_timedwait(&in->wake, &in->lock, &until);
        }
        bool stopping = in->stopping;
        size_t n = pending_take(in->buffer, batch, in->opts.batch_max);
        pthread_mutex_unlock(&in->lock);

        int rc = VT_OK;
        if (n > 0)
            rc = write_batch(in, batch, n);
        if (rc == VT_OK)
            rc = apply_statuses(in);
        if (rc == VT_OK && n == 0 && vt_monotonic_ns() - last_ping > 1000000000) {
            char err[256];
            rc = store_ping(in->db, err, sizeof err);
            last_ping = vt_monotonic_ns();
        }
        set_db_state(in, rc == VT_OK || (rc != VT_UNAVAILABLE && vt_db_conn_ok(in->db)));
        backoff_ms = rc == VT_OK ? 0 : (backoff_ms ? (backoff_ms * 2 > 2000 ? 2000 : backoff_ms * 2)
                                                   : 100);
        if (stopping) {
            /* Final flush: keep writing while it works and time allows. */
            int64_t until = vt_monotonic_ns() + (int64_t)in->flush_ms * 1000000;
            while (rc == VT_OK && vt_monotonic_ns() < until) {
                pthread_mutex_lock(&in->lock);
                n = pending_take(in->buffer, batch, in->opts.batch_max);
                pthread_mutex_unlock(&in->lock);
                if (n == 0)
                    break;
                rc = write_batch(in, batch, n);
            }
            if (rc == VT_OK)
                apply_statuses(in);
            break;
        }
    }
    free(batch);
    return NULL;
}

static void register_metrics(ingest *in, vt_metrics *m)
{
    in->received = vt_metrics_counter(m, "venta_location_ingest_received_total",
                                      "Position messages received from NATS.", NULL);
    in->coalesced = vt_metrics_counter(m, "venta_location_ingest_coalesced_total",
                                       "Positions replaced by a newer one before writing.", NULL);
    in->stale = vt_metrics_counter(m, "venta_location_ingest_stale_total",
                                   "Positions older than the buffered one, ignored.", NULL);
    in->invalid = vt_metrics_counter(m, "venta_location_ingest_invalid_total",
                                     "Malformed or invalid messages, ignored.", NULL);
    in->dropped = vt_metrics_counter(m, "venta_location_ingest_dropped_total",
                                     "Updates dropped because the buffer was full.", NULL);
    in->batches = vt_metrics_counter(m, "venta_location_ingest_batches_total",
                                     "Batches written to PostgreSQL.", NULL);
    in->rows = vt_metrics_counter(m, "venta_location_ingest_rows_total",
                                  "Positions written to PostgreSQL.", NULL);
    in->errors = vt_metrics_counter(m, "venta_location_ingest_write_errors_total",
                                    "Batches that failed to write.", NULL);
    in->status_received = vt_metrics_counter(m, "venta_location_status_received_total",
                                             "Vendor status messages received.", NULL);
    in->batch_size = vt_metrics_histogram(m, "venta_location_ingest_batch_size",
                                          "Positions per written batch.", NULL, batch_bounds,
                                          sizeof batch_bounds / sizeof batch_bounds[0]);
    in->write_seconds = vt_metrics_histogram(m, "venta_location_ingest_write_seconds",
                                             "Time to write one batch.", NULL,
                                             vt_metrics_latency_bounds, vt_metrics_latency_nbounds);
    vt_metrics_gauge_fn(m, "venta_location_ingest_buffered", "Positions waiting to be written.",
                        NULL, buffered, in);
}

int ingest_start(const ingest_opts *opts, ingest **out, char *err, size_t errlen)
{
    ingest *in = calloc(1, sizeof *in);
    if (!in) {
        snprintf(err, errlen, "out of memory");
        return VT_RESOURCE_EXHAUSTED;
    }
    in->opts = *opts;
    if (!in->opts.capacity)
        in->opts.capacity = 200000;
    if (in->opts.batch_ms <= 0)
        in->opts.batch_ms = 50;
    if (!in->opts.batch_max)
        in->opts.batch_max = 5000;
    in->buffer = pending_new(in->opts.capacity);
    in->db = vt_db_conn_new(opts->database_url, store_statements, store_nstatements);
    if (!in->buffer || !in->db) {
        snprintf(err, errlen, "out of memory for an ingest buffer of %zu", in->opts.capacity);
        pending_free(in->buffer);
        vt_db_conn_free(in->db);
        free(in);
        return VT_RESOURCE_EXHAUSTED;
    }
    pthread_mutex_init(&in->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&in->wake, &ca);
    pthread_condattr_destroy(&ca);
    register_metrics(in, opts->metrics);
    pthread_create(&in->writer, NULL, writer_main, in);

    int rc = vt_bus_subscribe(opts->bus, VT_EVENTS_LOC_ALL, VT_EVENTS_LOCATION_QUEUE, 65536,
                              on_location, in, &in->loc_sub);
    if (rc == VT_OK)
        rc = vt_bus_subscribe(opts->bus, VT_EVENTS_STATUS_ALL, VT_EVENTS_LOCATION_QUEUE, 16384,
                              on_status, in, &in->status_sub);
    if (rc == VT_OK)
        rc = vt_bus_subscribe(opts->bus, "evt.vendor.deleted", VT_EVENTS_LOCATION_QUEUE, 16384,
                              on_vendor_deleted, in, &in->deleted_sub);
    if (rc != VT_OK) {
        snprintf(err, errlen, "cannot subscribe to %s", VT_EVENTS_LOC_ALL);
        ingest_stop(in, 0);
        return rc;
    }
    *out = in;
    return VT_OK;
}

void ingest_stop(ingest *in, int flush_ms)
{
    if (!in)
        return;
    vt_bus_unsubscribe(in->loc_sub);
    vt_bus_unsubscribe(in->status_sub);
    vt_bus_unsubscribe(in->deleted_sub);
    pthread_mutex_lock(&in->lock);
    in->stopping = true;
    in->flush_ms = flush_ms;
    pthread_mutex_unlock(&in->lock);
    pthread_cond_signal(&in->wake);
    pthread_join(in->writer, NULL);
    vt_db_conn_free(in->db);
    pending_free(in->buffer);
    pthread_cond_destroy(&in->wake);
    pthread_mutex_destroy(&in->lock);
    free(in);
}
