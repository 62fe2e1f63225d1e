/*
 * live.c — see live.h.
 */
#include "live.h"

#include "livemap.h"
#include "messages.h"
#include "vt_core.h"
#include "vt_events.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLAY_MAX (1u << 20) /* presence changes kept during one load */
#define EXPIRE_VISIT 20000    /* vendors checked for expiry per loader tick */
#define MERGE_CHUNK 500       /* loaded rows merged per hold of the write lock */
#define TICK_MS 100

struct live {
    live_opts opts;
    atomic_bool ready;     /* loaded once (and not emptied since): reads may use the map */
    pthread_rwlock_t lock; /* guards everything below up to the loader's fields */
    livemap *map;
    bool loading; /* a load is under way: presence changes are also kept in replay */
    presence_change *replay;
    size_t nreplay, replay_cap;
    bool replay_lost; /* replay overflowed or could not grow: load again */
    bool out_of_memory;

    vt_bus_sub *loc_sub, *status_sub;
    vt_bus_consumer *deleted; /* evt.vendor.deleted, from the stream: see live.h */

    pthread_t loader;
    bool loader_started;
    pthread_mutex_t stop_lock; /* guards stopping */
    pthread_cond_t stop_cond;
    bool stopping;
    vt_db_conn *db; /* the loader's */
    size_t expire_cursor;
    int64_t presence_dropped; /* presence messages nats.c dropped, as of the last load */

    vt_counter *loads, *invalid, *reads;
};

/* ---- messages, on nats.c threads ---- */

static void on_location(const char *subject, const void *data, size_t len, void *user)
{
    live *lv = user;
    vt_events_position u;
    vt_events_loc_kind m = vt_events_decode_location(subject, data, len, &u);
    if (m == VT_EVENTS_LOC_INVALID)
        vt_counter_inc(lv->invalid);
    if (m != VT_EVENTS_LOC_POSITION) /* a left-cell copy repeats one from the new cell */
        return;
    int64_t now = vt_now_ms();
    pthread_rwlock_wrlock(&lv->lock);
    if (!livemap_put(lv->map, &u, now))
        lv->out_of_memory = true;
    pthread_rwlock_unlock(&lv->lock);
}

/* Apply a presence change now, and keep it for after the load when one is under way
 * (the table may not have had it yet when its page was read). */
static void apply_presence(live *lv, const presence_change *p)
{
    pthread_rwlock_wrlock(&lv->lock);
    if (!p->removed)
        livemap_set_online(lv->map, p->vendor_id, p->online, p->ts, p->last_ts);
    else if (!livemap_remove(lv->map, p->vendor_id))
        lv->out_of_memory = true;
    if (lv->loading && !lv->replay_lost) {
        if (lv->nreplay == lv->replay_cap) {
            size_t cap = lv->replay_cap ? lv->replay_cap * 2 : 1024;
            presence_change *grown =
                cap <= REPLAY_MAX ? realloc(lv->replay, cap * sizeof *grown) : NULL;
            if (grown) {
                lv->replay = grown;
                lv->replay_cap = cap;
            }
        }
        if (lv->nreplay < lv->replay_cap)
            lv->replay[lv->nreplay++] = *p;
        else
            lv->replay_lost = true;
    }
    pthread_rwlock_unlock(&lv->lock);
}

/* vendor.*.status and evt.vendor.deleted alike. */
static void on_presence(const char *subject, const void *data, size_t len, void *user)
{
    live *lv = user;
    presence_change p;
    if (message_presence(subject, data, len, &p))
        apply_presence(lv, &p);
    else
        vt_counter_inc(lv->invalid);
}

/* evt.vendor.deleted from this process's consumer of the stream. */
static vt_bus_verdict on_deleted(const char *subject, const void *data, size_t len, void *user)
{
    live *lv = user;
    presence_change p;
    if (!message_presence(subject, data, len, &p) || !p.removed) {
        vt_counter_inc(lv->invalid);
        return VT_BUS_REJECT;
    }
    apply_presence(lv, &p);
    return VT_BUS_DONE;
}

/* ---- the loader thread ---- */

/* Sleep up to ms; true when live_stop asked the loader to end. */
static bool stop_requested(live *lv, int ms)
{
    pthread_mutex_lock(&lv->stop_lock);
    if (!lv->stopping && ms > 0) {
        struct timespec until = vt_monotonic_deadline((int64_t)ms * 1000000);
        pthread_cond_timedwait(&lv->stop_cond, &lv->stop_lock, &until);
    }
    bool stopping = lv->stopping;
    pthread_mutex_unlock(&lv->stop_lock);
    return stopping;
}

static bool connection_unchanged(live *lv, uint64_t generation)
{
    return vt_bus_connected(lv->opts.bus) && vt_bus_connections(lv->opts.bus) == generation;
}

/* A load merges into the map as it is: readers keep being served from it, and what
 * arrives meanwhile stays. Presence changes arriving from here on are also kept to be
 * applied again at the end (the table may not have had them when their row was read). */
static void begin_load(live *lv)
{
    pthread_rwlock_wrlock(&lv->lock);
    lv->loading = true;
    lv->nreplay = 0;
    lv->replay_lost = false;
    livemap_begin_load(lv->map);
    pthread_rwlock_unlock(&lv->lock);
}

/* After an allocation failed the map may lack vendors: empty it and load anew; until
 * then reads go to the table. */
static void start_over(live *lv)
{
    atomic_store(&lv->ready, false);
    pthread_rwlock_wrlock(&lv->lock);
    livemap_clear(lv->map);
    lv->out_of_memory = false;
    lv->expire_cursor = 0;
    pthread_rwlock_unlock(&lv->lock);
}

/* Merge rows [from, to) of a page of positions (deleted: of deleted vendors' ids),
 * holding the write lock for one chunk at a time. */
static void merge_rows(live *lv, const PGresult *res, int from, int to, bool deleted)
{
    int64_t fresh_after = vt_now_ms() - (int64_t)lv->opts.ttl_s * 1000;
    store_live_row row;
    char id[VT_UUID_LEN + 1];
    pthread_rwlock_wrlock(&lv->lock);
    for (int i = from; i < to; i++) {
        bool ok;
        if (deleted) {
            vt_db_bin_uuid(res, i, 0, id);
            ok = livemap_remove(lv->map, id);
        } else {
            store_live_row_at(res, i, &row);
            ok = livemap_merge_row(lv->map, &row, fresh_after);
        }
        if (!ok)
            lv->out_of_memory = true;
    }
    pthread_rwlock_unlock(&lv->lock);
}

typedef int (*page_query)(vt_db_conn *c, const char *after, int limit, PGresult **res, char *err,
                          size_t errlen);

/* Read one table page by page into the map: the positions, or (deleted) the ids of
 * deleted vendors. */
static int load_pages(live *lv, uint64_t generation, bool deleted, size_t *rows)
{
    page_query query = deleted ? store_load_deleted : store_load_live;
    char after[VT_UUID_LEN + 1] = "";
    int page = lv->opts.page > 0 ? lv->opts.page : 5000;
    for (;;) {
        if (stop_requested(lv, 0) || !connection_unchanged(lv, generation))
            return VT_UNAVAILABLE;
        char err[256];
        PGresult *res = NULL;
        int rc = query(lv->db, after, page, &res, err, sizeof err);
        if (rc != VT_OK) {
            vt_warn(NULL, "live map: loading %s failed (%s): %s",
                    deleted ? "deleted vendors" : "positions", vt_status_name(rc), err);
            PQclear(res);
            return rc;
        }
        int n = PQntuples(res);
        for (int i = 0; i < n; i += MERGE_CHUNK)
            merge_rows(lv, res, i, i + MERGE_CHUNK < n ? i + MERGE_CHUNK : n, deleted);
        if (n > 0)
            vt_db_bin_uuid(res, n - 1, 0, after);
        PQclear(res);
        *rows += (size_t)n;
        if (n < page)
            return VT_OK;
    }
}

/* Apply what arrived during the load again, forget the vendors the table no longer
 * has, and open the map to readers; false when the load must be redone. */
static bool finish_load(live *lv, uint64_t generation, size_t *forgotten)
{
    /* Asked before taking the lock: nats.c answers under its connection lock, which it
     * holds while dialling a lost server, and readers (on the rpc worker that has the
     * turn) must not wait behind that. A change right after is the same as one right
     * after the load: the loader sees a new generation and loads again. */
    bool unchanged = connection_unchanged(lv, generation);
    pthread_rwlock_wrlock(&lv->lock);
    bool ok = !lv->replay_lost && !lv->out_of_memory && unchanged;
    for (size_t i = 0; ok && i < lv->nreplay; i++) {
        const presence_change *p = &lv->replay[i];
        if (p->removed)
            lv->out_of_memory |= !livemap_remove(lv->map, p->vendor_id);
        else
            livemap_set_online(lv->map, p->vendor_id, p->online, p->ts, p->last_ts);
    }
    *forgotten = ok ? livemap_end_load(lv->map) : 0;
    lv->loading = false;
    lv->nreplay = 0;
    pthread_rwlock_unlock(&lv->lock);
    if (ok)
        atomic_store(&lv->ready, true);
    return ok;
}

/* Presence changes and deletions dropped by nats.c for a slow callback (positions
 * repair themselves with the vendor's next fix; these do not). */
static int64_t presence_dropped(live *lv)
{
    return vt_bus_sub_dropped(lv->status_sub); /* the stream's consumer drops nothing */
}

/* One slice of the expiry sweep; false when the map lost a position to a failed
 * allocation and must be loaded anew. */
static bool expire_some(live *lv)
{
    int64_t before = vt_now_ms() - (int64_t)lv->opts.ttl_s * 1000;
    pthread_rwlock_wrlock(&lv->lock);
    lv->expire_cursor = livemap_expire(lv->map, before, lv->expire_cursor, EXPIRE_VISIT);
    bool whole = !lv->out_of_memory;
    pthread_rwlock_unlock(&lv->lock);
    return whole;
}

/* The loader: loads at start and after every NATS reconnect (messages may have been
 * missed meanwhile, for positions the table has from other replicas, and deletions),
 * and when presence messages were dropped; sweeps expired positions in between. While
 * NATS is down the map keeps serving what it has: the table, fed through NATS too, is
 * no newer. */
static void *loader_main(void *arg)
{
    live *lv = arg;
    uint64_t loaded = 0; /* the connection generation the map is complete for */
    int backoff_ms = 0;
    while (!stop_requested(lv, backoff_ms)) {
        backoff_ms = TICK_MS;
        uint64_t generation = vt_bus_connections(lv->opts.bus);
        if (!vt_bus_connected(lv->opts.bus))
            continue;
        if (loaded == generation) {
            bool whole = expire_some(lv);
            bool missed = presence_dropped(lv) != lv->presence_dropped;
            if (whole && !missed)
                continue;
            vt_warn(NULL, "live map: %s, loading again",
                    whole ? "presence messages were dropped" : "out of memory");
            if (!whole)
                start_over(lv);
        }
        int64_t t0 = vt_monotonic_ns();
        lv->presence_dropped = presence_dropped(lv);
        begin_load(lv);
        /* The first load starts from an empty map: nothing in it to wait for. */
        if (stop_requested(lv, loaded ? lv->opts.settle_ms : 0))
            break;
        size_t rows = 0, forgotten = 0;
        if (load_pages(lv, generation, false, &rows) == VT_OK &&
            load_pages(lv, generation, true, &rows) == VT_OK &&
            finish_load(lv, generation, &forgotten)) {
            loaded = generation;
            vt_counter_inc(lv->loads);
            vt_info(NULL, "live map: %zu stored positions read in %.0f ms, %zu vendors forgotten",
                    rows, (double)(vt_monotonic_ns() - t0) / 1e6, forgotten);
            continue;
        }
        pthread_rwlock_wrlock(&lv->lock);
        lv->loading = false;
        bool whole = !lv->out_of_memory;
        pthread_rwlock_unlock(&lv->lock);
        if (!whole)
            start_over(lv);
        backoff_ms = 1000;
    }
    return NULL;
}

/* ---- metrics ---- */

static double vendors(void *user)
{
    live *lv = user;
    pthread_rwlock_rdlock(&lv->lock);
    double n = (double)livemap_count(lv->map);
    pthread_rwlock_unlock(&lv->lock);
    return n;
}

static double dropped(void *user)
{
    live *lv = user;
    return (double)(vt_bus_sub_dropped(lv->loc_sub) + presence_dropped(lv));
}

static double ready(void *user)
{
    live *lv = user;
    return atomic_load(&lv->ready) ? 1 : 0;
}

/* ---- lifetime and reads ---- */

int live_start(const live_opts *opts, live **out, char *err, size_t errlen)
{
    live *lv = calloc(1, sizeof *lv);
    vt_db_conn_opts db = {.url = opts->database_url,
                          .statements = store_statements,
                          .statement_count = store_nstatements};
    if (!lv || !(lv->map = livemap_new()) || vt_db_conn_new(&db, &lv->db, NULL, 0) != VT_OK) {
        snprintf(err, errlen, "out of memory");
        if (lv)
            livemap_free(lv->map);
        free(lv);
        return VT_RESOURCE_EXHAUSTED;
    }
    lv->opts = *opts;
    if (lv->opts.settle_ms < 0)
        lv->opts.settle_ms = 0;
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&lv->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    pthread_mutex_init(&lv->stop_lock, NULL);
    vt_cond_init_monotonic(&lv->stop_cond);
    lv->loads = vt_metrics_counter(opts->metrics, "venta_location_live_loads_total",
                                   "Times the live map was (re)loaded from the table.", NULL);
    lv->invalid = vt_metrics_counter(opts->metrics, "venta_location_live_invalid_total",
                                     "Malformed messages the live map ignored.", NULL);
    lv->reads = vt_metrics_counter(opts->metrics, "venta_location_live_reads_total",
                                   "Reads answered from the live map (not the table).", NULL);
    int rc =
        vt_bus_subscribe(opts->bus, VT_EVENTS_LOC_ALL, NULL, 65536, on_location, lv, &lv->loc_sub);
    if (rc == VT_OK)
        rc = vt_bus_subscribe(opts->bus, VT_EVENTS_STATUS_ALL, NULL, 16384, on_presence, lv,
                              &lv->status_sub);
    vt_bus_consumer_opts co = {.stream = opts->stream,
                               .subject = VT_EVENTS_VENDOR_DELETED, /* durable NULL: ours */
                               .fn = on_deleted,
                               .user = lv};
    if (rc == VT_OK)
        rc = vt_bus_consumer_new(opts->bus, &co, &lv->deleted, err, errlen);
    if (rc == VT_OK) { /* after the subscriptions, which they read */
        vt_metrics_gauge_fn(opts->metrics, "venta_location_live_vendors",
                            "Vendors the live map knows (fresh or not, as the table).", NULL,
                            vendors, lv);
        vt_metrics_gauge_fn(opts->metrics, "venta_location_live_dropped",
                            "Messages NATS dropped before the live map read them (slow consumer).",
                            NULL, dropped, lv);
        vt_metrics_gauge_fn(opts->metrics, "venta_location_live_ready",
                            "1 when box and radius reads are served from the live map.", NULL,
                            ready, lv);
        rc = pthread_create(&lv->loader, NULL, loader_main, lv) == 0 ? VT_OK : VT_INTERNAL;
    }
    lv->loader_started = rc == VT_OK;
    if (rc != VT_OK) {
        snprintf(err, errlen, "cannot start the live map (subscribing to %s)", VT_EVENTS_LOC_ALL);
        live_stop(lv);
        return rc;
    }
    *out = lv;
    return VT_OK;
}

void live_stop(live *lv)
{
    if (!lv)
        return;
    vt_metrics_gauge_fn_detach(lv->opts.metrics, lv);
    /* The loader first: it reads the subscriptions' drop counters. */
    pthread_mutex_lock(&lv->stop_lock);
    lv->stopping = true;
    pthread_cond_signal(&lv->stop_cond);
    pthread_mutex_unlock(&lv->stop_lock);
    if (lv->loader_started)
        pthread_join(lv->loader, NULL);
    vt_bus_unsubscribe(lv->loc_sub); /* each waits for its callback to return */
    vt_bus_unsubscribe(lv->status_sub);
    vt_bus_consumer_free(lv->deleted);
    vt_db_conn_free(lv->db);
    livemap_free(lv->map);
    free(lv->replay);
    pthread_cond_destroy(&lv->stop_cond);
    pthread_mutex_destroy(&lv->stop_lock);
    pthread_rwlock_destroy(&lv->lock);
    free(lv);
}

static int64_t fresh_after(const live *lv)
{
    return vt_now_ms() - (int64_t)lv->opts.ttl_s * 1000;
}

/* A read of the map: false (and nothing held) while it is not loaded. Readers check
 * `ready` before taking the lock (a load holds it for a chunk of rows at a time) and
 * again under it (start_over empties the map under the lock). */
static bool begin_read(live *lv)
{
    if (!atomic_load(&lv->ready))
        return false;
    pthread_rwlock_rdlock(&lv->lock);
    if (atomic_load(&lv->ready))
        return true;
    pthread_rwlock_unlock(&lv->lock);
    return false;
}

/* answered: the map gave the answer (not a miss the table answers instead). */
static void end_read(live *lv, bool answered)
{
    pthread_rwlock_unlock(&lv->lock);
    if (answered)
        vt_counter_inc(lv->reads);
}

int live_get(live *lv, const char *vendor_id, store_position *out)
{
    if (!begin_read(lv))
        return VT_UNAVAILABLE;
    bool found = livemap_get(lv->map, vendor_id, fresh_after(lv), out);
    end_read(lv, found);
    return found ? VT_OK : VT_NOT_FOUND;
}

int live_in_bounds(live *lv, const vt_geo_box *box, size_t limit, store_position *out, size_t *n)
{
    if (!begin_read(lv))
        return VT_UNAVAILABLE;
    *n = livemap_in_bounds(lv->map, box, fresh_after(lv), limit, out);
    end_read(lv, true);
    return VT_OK;
}

int live_nearby(live *lv, double lat, double lng, double radius_m, size_t limit,
                store_position *out, size_t *n)
{
    if (!begin_read(lv))
        return VT_UNAVAILABLE;
    *n = livemap_nearby(lv->map, lat, lng, radius_m, fresh_after(lv), limit, out);
    end_read(lv, true);
    return VT_OK;
}
