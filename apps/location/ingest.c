/*
 * ingest.c — see ingest.h.
 *
 * Threads: nats.c delivers each subscription's messages on its own thread; those
 * callbacks only decode, validate and put into a shard's buffer under that shard's
 * lock (a few hundred nanoseconds). Vendors are split over `writers` shards by a hash
 * of their id, so one vendor always lands in the same shard and its updates stay in
 * order. Each shard has one writer thread owning one PostgreSQL connection: it sleeps
 * until the batch window passes (or, without a persist interval, its buffer holds a
 * full batch), takes the arrivals that are due (first arrived persist_ms ago or more:
 * arrival order is time order, so that is a walk from the oldest) out under the lock,
 * and writes them without holding it, so NATS delivery never waits on the database.
 * A vendor that keeps sending keeps its first arrival, so it is written once per
 * interval with its latest fix, never postponed for good. When fewer are due than the
 * buffer's share of a window, vendors that have waited half an interval go too (see
 * take_batch): a wave of arrivals is written spread out instead of all at once. A presence change
 * first writes its vendor's held position, so the table sees them in the order they came. Several
 * shards write in parallel, because one backend tops out at a few tens of thousands of row versions
 * a second. A failed batch goes back into its buffer where there is room (newer positions that
 * arrived meanwhile win), and that writer backs off.
 *
 * The writers' sessions run with synchronous_commit off: a crash of PostgreSQL may
 * lose its last fraction of a second of commits (wal_writer_delay, 200 ms by default,
 * at most three times over), small beside the persist interval a crash of this
 * process may lose, and every vendor's next fix replaces either; the rest of the
 * system keeps full durability.
 */
#include "ingest.h"

#include "messages.h"
#include "store.h"
#include "vt_core.h"
#include "vt_events.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#define STATUS_QUEUE 4096

typedef struct shard {
    struct ingest *in;
    pthread_mutex_t lock; /* guards buffer, statuses and stopping */
    pthread_cond_t wake;
    vt_events_latest *buffer;
    presence_change statuses[STATUS_QUEUE]; /* ring: presence changes to apply */
    size_t status_head, status_count;
    bool stopping;

    pthread_t writer;
    bool started;
    vt_db_conn *db; /* the writer thread's alone */
    bool db_up;
} shard;

struct ingest {
    ingest_opts opts;
    vt_bus_sub *loc_sub, *status_sub;
    shard *shards;
    size_t nshards;
    int flush_ms;
    pthread_mutex_t state_lock; /* guards shards_down (writers report from their threads) */
    size_t shards_down;

    vt_counter *received, *coalesced, *stale, *invalid, *dropped, *batches, *rows, *errors;
    vt_counter *status_received;
    vt_histogram *batch_size, *write_seconds;
};

static const double batch_bounds[] = {1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000};

static double buffered(void *user)
{
    ingest *in = user;
    double n = 0;
    for (size_t i = 0; i < in->nshards; i++) {
        pthread_mutex_lock(&in->shards[i].lock);
        n += (double)vt_events_latest_count(in->shards[i].buffer);
        pthread_mutex_unlock(&in->shards[i].lock);
    }
    return n;
}

static int64_t monotonic_ms(void)
{
    return vt_monotonic_ns() / 1000000;
}

/* How long ago the oldest position not yet written arrived: what a crash would lose. */
static double unwritten_age(void *user)
{
    ingest *in = user;
    int64_t oldest = -1;
    for (size_t i = 0; i < in->nshards; i++) {
        pthread_mutex_lock(&in->shards[i].lock);
        int64_t t = vt_events_latest_oldest_arrival(in->shards[i].buffer);
        pthread_mutex_unlock(&in->shards[i].lock);
        if (t >= 0 && (oldest < 0 || t < oldest))
            oldest = t;
    }
    return oldest < 0 ? 0 : (double)(monotonic_ms() - oldest) / 1000;
}

static shard *shard_of(ingest *in, const char *vendor_id)
{
    return &in->shards[vt_hash_str(vendor_id) % in->nshards];
}

static void on_location(const char *subject, const void *data, size_t len, void *user)
{
    ingest *in = user;
    vt_counter_inc(in->received);
    vt_events_position u;
    vt_events_loc_kind m = vt_events_decode_location(subject, data, len, &u);
    if (m == VT_EVENTS_LOC_INVALID) {
        vt_counter_inc(in->invalid);
        vt_debug(NULL, "ingest: dropped a malformed message on %s", subject);
    }
    if (m != VT_EVENTS_LOC_POSITION) /* a left-cell copy repeats one from the new cell */
        return;
    vt_events_log_position("location ingest", &u);
    uint64_t dropped = 0;
    shard *sh = shard_of(in, u.vendor_id);
    pthread_mutex_lock(&sh->lock);
    vt_events_latest_result r = vt_events_latest_put_at(sh->buffer, &u, monotonic_ms(), &dropped);
    bool full_batch =
        in->opts.persist_ms == 0 && vt_events_latest_count(sh->buffer) >= in->opts.batch_max;
    pthread_mutex_unlock(&sh->lock);
    if (full_batch)
        pthread_cond_signal(&sh->wake);
    if (r == VT_EVENTS_LATEST_COALESCED)
        vt_counter_inc(in->coalesced);
    else if (r == VT_EVENTS_LATEST_STALE)
        vt_counter_inc(in->stale);
    if (dropped)
        vt_counter_add(in->dropped, dropped);
}

static void enqueue_status(ingest *in, const presence_change *s)
{
    shard *sh = shard_of(in, s->vendor_id); /* same shard as the vendor's positions */
    pthread_mutex_lock(&sh->lock);
    if (sh->status_count == STATUS_QUEUE) { /* full: the oldest change is the least useful */
        sh->status_head = (sh->status_head + 1) % STATUS_QUEUE;
        sh->status_count--;
        vt_counter_inc(in->dropped);
    }
    sh->statuses[(sh->status_head + sh->status_count) % STATUS_QUEUE] = *s;
    sh->status_count++;
    pthread_mutex_unlock(&sh->lock);
}

/* vendor.*.status (deletions are deletions.c's). */
static void on_presence(const char *subject, const void *data, size_t len, void *user)
{
    ingest *in = user;
    presence_change s;
    if (message_presence(subject, data, len, &s) && !s.removed) {
        vt_counter_inc(in->status_received);
        enqueue_status(in, &s);
    } else {
        vt_counter_inc(in->invalid);
    }
}

/* A shard's writer reports its connection; the callback hears when all writers can
 * write again or when the first one cannot. */
static void set_db_state(shard *sh, bool up)
{
    if (sh->db_up == up)
        return;
    sh->db_up = up;
    ingest *in = sh->in;
    pthread_mutex_lock(&in->state_lock);
    size_t before = in->shards_down;
    in->shards_down = up ? in->shards_down - 1 : in->shards_down + 1;
    bool changed = (before == 0) != (in->shards_down == 0);
    bool all_up = in->shards_down == 0;
    pthread_mutex_unlock(&in->state_lock);
    if (changed && in->opts.on_database)
        in->opts.on_database(all_up, in->opts.user);
}

static int by_vendor(const void *a, const void *b)
{
    return strcmp(((const vt_events_position *)a)->vendor_id,
                  ((const vt_events_position *)b)->vendor_id);
}

/* Write one batch; on failure put it back where there is room. Rows go in vendor id
 * order, so two replicas upserting overlapping vendors lock rows in the same order
 * and cannot deadlock each other. */
static int write_batch(shard *sh, vt_events_position *batch, size_t n)
{
    ingest *in = sh->in;
    char err[512];
    qsort(batch, n, sizeof *batch, by_vendor);
    int64_t t0 = vt_monotonic_ns();
    int rc = store_upsert_batch(sh->db, batch, n, err, sizeof err);
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
    pthread_mutex_lock(&sh->lock);
    for (size_t i = 0; i < n; i++)
        if (vt_events_latest_put_if_room(sh->buffer, &batch[i]) == VT_EVENTS_LATEST_FULL)
            lost++;
    pthread_mutex_unlock(&sh->lock);
    vt_counter_add(in->dropped, lost);
    return rc;
}

/* Write vendor_id's held position now, ahead of its turn: a presence change must not
 * overtake it (an offline for a vendor whose first row is still held found no row to
 * update, and the row then came online). */
static int write_held(shard *sh, const char *vendor_id)
{
    vt_events_position p;
    pthread_mutex_lock(&sh->lock);
    bool held = vt_events_latest_take_vendor(sh->buffer, vendor_id, &p);
    pthread_mutex_unlock(&sh->lock);
    return held ? write_batch(sh, &p, 1) : VT_OK;
}

static int apply_statuses(shard *sh)
{
    presence_change batch[64];
    for (;;) {
        size_t n = 0;
        pthread_mutex_lock(&sh->lock);
        while (n < 64 && sh->status_count > 0) {
            batch[n++] = sh->statuses[sh->status_head];
            sh->status_head = (sh->status_head + 1) % STATUS_QUEUE;
            sh->status_count--;
        }
        pthread_mutex_unlock(&sh->lock);
        if (n == 0)
            return VT_OK;
        for (size_t i = 0; i < n; i++) {
            char err[256];
            int rc = write_held(sh, batch[i].vendor_id);
            if (rc == VT_OK)
                rc = store_set_online(sh->db, batch[i].vendor_id, batch[i].online, batch[i].ts,
                                      batch[i].last_ts, err, sizeof err);
            if (rc == VT_UNAVAILABLE)
                return rc; /* presence is rebuilt by the next position anyway */
        }
    }
}

/* Under the shard's lock: what is due, and on a window's first take (not when
 * continuing after a full batch) at least the buffer's share of this window, count *
 * batch_ms / persist_ms, from vendors that have waited half an interval. Due times
 * come in waves when many vendors arrive at once (a fleet switched on, a replica
 * restarted, a NATS reconnect): a whole interval's writes due within a second or two,
 * more than the writers can take then. Starting on the wave early, at the rate that
 * writes the buffer once per interval, spreads it over the half interval before. */
static size_t take_batch(shard *sh, vt_events_position *batch, bool continuing)
{
    ingest *in = sh->in;
    int64_t now = monotonic_ms();
    size_t count = vt_events_latest_count(sh->buffer);
    size_t n =
        vt_events_latest_take_due(sh->buffer, now - in->opts.persist_ms, batch, in->opts.batch_max);
    if (in->opts.persist_ms == 0 || continuing || n == in->opts.batch_max)
        return n;
    size_t share = (count * (size_t)in->opts.batch_ms + (size_t)in->opts.persist_ms - 1) /
                   (size_t)in->opts.persist_ms;
    if (share > in->opts.batch_max)
        share = in->opts.batch_max;
    if (share > n)
        n += vt_events_latest_take_due(sh->buffer, now - in->opts.persist_ms / 2, batch + n,
                                       share - n);
    return n;
}

static void *writer_main(void *arg)
{
    shard *sh = arg;
    ingest *in = sh->in;
    vt_events_position *batch = malloc(in->opts.batch_max * sizeof *batch);
    if (!batch)
        abort();
    int backoff_ms = 0;
    int64_t last_ping = 0, last_sweep = 0;
    size_t n = 0;
    for (;;) {
        pthread_mutex_lock(&sh->lock);
        /* A full batch last time: more may be due, take it without waiting. */
        bool more = backoff_ms == 0 && n == in->opts.batch_max;
        if (!sh->stopping && !more &&
            (in->opts.persist_ms > 0 || vt_events_latest_count(sh->buffer) < in->opts.batch_max)) {
            struct timespec until = vt_monotonic_deadline(
                (int64_t)(backoff_ms > 0 ? backoff_ms : in->opts.batch_ms) * 1000000);
            pthread_cond_timedwait(&sh->wake, &sh->lock, &until);
        }
        bool stopping = sh->stopping;
        n = take_batch(sh, batch, more);
        pthread_mutex_unlock(&sh->lock);

        int rc = VT_OK;
        if (n > 0)
            rc = write_batch(sh, batch, n);
        if (rc == VT_OK)
            rc = apply_statuses(sh);
        /* One shard sweeps the rows that raced a deletion (store.c), busy or not. */
        if (rc == VT_OK && sh == in->shards && vt_monotonic_ns() - last_sweep > 1000000000) {
            char err[256];
            rc = store_sweep_deleted(sh->db, err, sizeof err);
            last_sweep = vt_monotonic_ns();
        }
        if (rc == VT_OK && n == 0 && vt_monotonic_ns() - last_ping > 1000000000) {
            char err[256];
            rc = store_ping(sh->db, err, sizeof err);
            last_ping = vt_monotonic_ns();
        }
        set_db_state(sh, rc == VT_OK || (rc != VT_UNAVAILABLE && vt_db_conn_ok(sh->db)));
        backoff_ms =
            rc == VT_OK ? 0 : (backoff_ms ? (backoff_ms * 2 > 2000 ? 2000 : backoff_ms * 2) : 100);
        if (stopping) {
            /* Final flush: write what is buffered while time allows, retrying a failed
             * write (it was put back): the connection may still be on its way back
             * from a database restart, and what is not written now is lost. */
            int64_t until = vt_monotonic_ns() + (int64_t)in->flush_ms * 1000000;
            while (vt_monotonic_ns() < until) {
                if (rc != VT_OK)
                    usleep(50000);
                pthread_mutex_lock(&sh->lock);
                n = vt_events_latest_take(sh->buffer, batch, in->opts.batch_max);
                pthread_mutex_unlock(&sh->lock);
                rc = n > 0 ? write_batch(sh, batch, n) : apply_statuses(sh);
                if (rc == VT_OK && n == 0)
                    break;
            }
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
    in->batch_size =
        vt_metrics_histogram(m, "venta_location_ingest_batch_size", "Positions per written batch.",
                             NULL, batch_bounds, sizeof batch_bounds / sizeof batch_bounds[0]);
    in->write_seconds =
        vt_metrics_histogram(m, "venta_location_ingest_write_seconds", "Time to write one batch.",
                             NULL, vt_metrics_latency_bounds, vt_metrics_latency_nbounds);
    vt_metrics_gauge_fn(m, "venta_location_ingest_buffered", "Positions waiting to be written.",
                        NULL, buffered, in);
    vt_metrics_gauge_fn(m, "venta_location_ingest_unwritten_age_seconds",
                        "How long ago the oldest position not yet written arrived (at most "
                        "the persist interval when the writers keep up).",
                        NULL, unwritten_age, in);
}

static void shard_free(shard *sh)
{
    vt_db_conn_free(sh->db);
    vt_events_latest_free(sh->buffer);
    pthread_cond_destroy(&sh->wake);
    pthread_mutex_destroy(&sh->lock);
}

static int shard_init(ingest *in, shard *sh, size_t capacity)
{
    sh->in = in;
    sh->db_up = true; /* counted down on the first failure, see set_db_state */
    char err[128];
    vt_events_latest_new(&(vt_events_latest_opts){.capacity = capacity}, &sh->buffer, err,
                         sizeof err);
    vt_db_conn_opts db = {.url = in->opts.database_url,
                          .statements = store_statements,
                          .statement_count = store_nstatements};
    pthread_mutex_init(&sh->lock, NULL);
    vt_cond_init_monotonic(&sh->wake);
    if (!sh->buffer || vt_db_conn_new(&db, &sh->db, NULL, 0) != VT_OK ||
        vt_db_conn_set_session_sql(sh->db, "SET synchronous_commit = off") != VT_OK)
        return VT_RESOURCE_EXHAUSTED;
    return VT_OK;
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
    if (in->opts.persist_ms < 0)
        in->opts.persist_ms = 0;
    if (!in->opts.batch_max)
        in->opts.batch_max = 5000;
    in->nshards = in->opts.writers > 0 ? (size_t)in->opts.writers : 2;
    pthread_mutex_init(&in->state_lock, NULL);
    in->shards = calloc(in->nshards, sizeof *in->shards);
    size_t per_shard = (in->opts.capacity + in->nshards - 1) / in->nshards;
    int rc = in->shards ? VT_OK : VT_RESOURCE_EXHAUSTED;
    for (size_t i = 0; rc == VT_OK && i < in->nshards; i++)
        rc = shard_init(in, &in->shards[i], per_shard);
    if (rc != VT_OK) {
        snprintf(err, errlen, "out of memory for an ingest buffer of %zu", in->opts.capacity);
        for (size_t i = 0; in->shards && i < in->nshards; i++)
            shard_free(&in->shards[i]);
        free(in->shards);
        pthread_mutex_destroy(&in->state_lock);
        free(in);
        return rc;
    }
    register_metrics(in, opts->metrics);
    for (size_t i = 0; i < in->nshards; i++)
        in->shards[i].started =
            pthread_create(&in->shards[i].writer, NULL, writer_main, &in->shards[i]) == 0;

    rc = vt_bus_subscribe(opts->bus, VT_EVENTS_LOC_ALL, VT_EVENTS_LOCATION_QUEUE, 65536,
                          on_location, in, &in->loc_sub);
    if (rc == VT_OK)
        rc = vt_bus_subscribe(opts->bus, VT_EVENTS_STATUS_ALL, VT_EVENTS_LOCATION_QUEUE, 16384,
                              on_presence, in, &in->status_sub);
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
    vt_metrics_gauge_fn_detach(in->opts.metrics, in);
    /* Messages NATS already routed to this member of the queue group go to no other
     * member: take them in before the final flush (a plain unsubscribe dropped the
     * ones still in flight, and their positions were never stored). */
    int drain_ms = flush_ms > 0 ? flush_ms / 2 : 0;
    if (drain_ms > 0) {
        vt_bus_unsubscribe_drained(in->loc_sub, drain_ms);
        vt_bus_unsubscribe_drained(in->status_sub, drain_ms);
    } else {
        vt_bus_unsubscribe(in->loc_sub);
        vt_bus_unsubscribe(in->status_sub);
    }
    in->flush_ms = flush_ms;
    for (size_t i = 0; i < in->nshards; i++) {
        shard *sh = &in->shards[i];
        pthread_mutex_lock(&sh->lock);
        sh->stopping = true;
        pthread_mutex_unlock(&sh->lock);
        pthread_cond_signal(&sh->wake);
    }
    for (size_t i = 0; i < in->nshards; i++) {
        if (in->shards[i].started)
            pthread_join(in->shards[i].writer, NULL);
        shard_free(&in->shards[i]);
    }
    free(in->shards);
    pthread_mutex_destroy(&in->state_lock);
    free(in);
}
