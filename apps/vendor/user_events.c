/*
 * user_events.c — see user_events.h.
 *
 * The NATS callback only decodes, checks and appends the owner id to a ring under
 * `lock`; the worker thread takes the head, runs the soft delete outside the lock,
 * publishes the evt.vendor.deleted events and only then drops the head. A failure that
 * retrying can cure (UNAVAILABLE, ABORTED) keeps the head and backs off, doubling from
 * 100 ms to 5 s; any other failure is logged and the event dropped, so one poisoned
 * event cannot stall the queue.
 */
#include "user_events.h"

#include "store.h"
#include "validate.h"
#include "venta/events/v1/events.pb-c.h"
#include "vt_core.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    char owner_id[VENDOR_OWNER_MAX + 1];
    char request_id[VT_REQUEST_ID_LEN * 4 + 1];
} pending_user;

struct user_events {
    user_events_opts opts;
    vt_bus_sub *sub;
    vt_db_conn *db;
    pthread_t worker;

    pthread_mutex_t lock; /* guards the ring and stopping */
    pthread_cond_t wake;
    pending_user *ring;
    size_t head, count;
    bool stopping;
    int flush_ms;

    vt_counter *received, *invalid, *dropped, *handled, *vendors_deleted, *errors;
};

static void on_user_deleted(const char *subject, const void *data, size_t len, void *user)
{
    user_events *ue = user;
    vt_counter_inc(ue->received);
    Venta__Events__V1__UserEvent *msg = venta__events__v1__user_event__unpack(NULL, len, data);
    char err[128];
    if (!msg || validate_owner_id("user_id", msg->user_id, err, sizeof err) != VT_OK) {
        vt_counter_inc(ue->invalid);
        vt_warn(NULL, "user events: ignored a malformed message on %s", subject);
        if (msg)
            venta__events__v1__user_event__free_unpacked(msg, NULL);
        return;
    }
    pending_user p;
    snprintf(p.owner_id, sizeof p.owner_id, "%s", msg->user_id);
    snprintf(p.request_id, sizeof p.request_id, "%s",
             vt_request_id_sane(msg->request_id) ? msg->request_id : "");
    venta__events__v1__user_event__free_unpacked(msg, NULL);

    pthread_mutex_lock(&ue->lock);
    bool full = ue->count == ue->opts.capacity;
    if (!full) {
        ue->ring[(ue->head + ue->count) % ue->opts.capacity] = p;
        ue->count++;
    }
    pthread_mutex_unlock(&ue->lock);
    if (full) {
        vt_counter_inc(ue->dropped);
        vt_error(NULL, "user events: queue full, vendors of %s were not deleted", p.owner_id);
        return;
    }
    pthread_cond_signal(&ue->wake);
}

static int write_delete_by_owner(vt_db_conn *c, const void *owner_id, PGresult **res, char *err,
                                 size_t errlen)
{
    return store_delete_by_owner(c, owner_id, res, err, errlen);
}

/* Soft-delete one owner's vendors and announce each (one transaction). */
static int handle(user_events *ue, const pending_user *p)
{
    char err[512];
    PGresult *res = NULL;
    int rc = vendor_write(ue->db, ue->opts.outbox, ue->opts.profiles, write_delete_by_owner,
                          p->owner_id, VENDOR_DELETED, STORE_DELETED_IS_OPEN_COLUMN,
                          *p->request_id ? p->request_id : NULL, &res, err, sizeof err);
    if (rc != VT_OK) {
        vt_counter_inc(ue->errors);
        vt_warn(NULL, "user events: deleting the vendors of %s failed (%s): %s", p->owner_id,
                vt_status_name(rc), err);
        return rc;
    }
    int n = PQntuples(res);
    PQclear(res);
    vt_counter_inc(ue->handled);
    vt_counter_add(ue->vendors_deleted, (uint64_t)n);
    vt_log_ctx log = {.request_id = *p->request_id ? p->request_id : NULL, .user_id = p->owner_id};
    vt_info(&log, "user deleted: %d vendor(s) soft-deleted", n);
    return VT_OK;
}

static void *worker_main(void *arg)
{
    user_events *ue = arg;
    int backoff_ms = 0;
    int64_t stop_by = 0;
    for (;;) {
        pthread_mutex_lock(&ue->lock);
        if (!ue->stopping && (ue->count == 0 || backoff_ms > 0)) {
            struct timespec until =
                vt_monotonic_deadline((int64_t)(backoff_ms > 0 ? backoff_ms : 1000) * 1000000);
            pthread_cond_timedwait(&ue->wake, &ue->lock, &until);
        }
        if (ue->stopping && stop_by == 0)
            stop_by = vt_monotonic_ns() + (int64_t)ue->flush_ms * 1000000;
        bool have = ue->count > 0;
        pending_user p;
        if (have)
            p = ue->ring[ue->head];
        pthread_mutex_unlock(&ue->lock);

        if (stop_by && (!have || vt_monotonic_ns() > stop_by))
            break;
        if (!have)
            continue;
        int rc = handle(ue, &p);
        bool retry = rc == VT_UNAVAILABLE || rc == VT_ABORTED;
        if (!retry) {
            pthread_mutex_lock(&ue->lock);
            ue->head = (ue->head + 1) % ue->opts.capacity;
            ue->count--;
            pthread_mutex_unlock(&ue->lock);
        }
        backoff_ms =
            retry ? (backoff_ms ? (backoff_ms * 2 > 5000 ? 5000 : backoff_ms * 2) : 100) : 0;
        if (retry && stop_by)
            break; /* the database is away and we are leaving: nothing more to do */
    }
    pthread_mutex_lock(&ue->lock);
    if (ue->count)
        vt_error(NULL, "user events: stopping with %zu deleted user(s) not processed", ue->count);
    pthread_mutex_unlock(&ue->lock);
    return NULL;
}

static double queued(void *user)
{
    user_events *ue = user;
    pthread_mutex_lock(&ue->lock);
    double n = (double)ue->count;
    pthread_mutex_unlock(&ue->lock);
    return n;
}

static void register_metrics(user_events *ue, vt_metrics *m)
{
    ue->received = vt_metrics_counter(m, "venta_vendor_user_deleted_received_total",
                                      "evt.user.deleted messages received.", NULL);
    ue->invalid = vt_metrics_counter(m, "venta_vendor_user_deleted_invalid_total",
                                     "evt.user.deleted messages that could not be decoded.", NULL);
    ue->dropped = vt_metrics_counter(m, "venta_vendor_user_deleted_dropped_total",
                                     "evt.user.deleted messages dropped: queue full.", NULL);
    ue->handled = vt_metrics_counter(m, "venta_vendor_user_deleted_handled_total",
                                     "Deleted users whose vendors were soft-deleted.", NULL);
    ue->vendors_deleted = vt_metrics_counter(m, "venta_vendor_user_deleted_vendors_total",
                                             "Vendors soft-deleted because their owner was.", NULL);
    ue->errors = vt_metrics_counter(m, "venta_vendor_user_deleted_errors_total",
                                    "Failed attempts to soft-delete a user's vendors.", NULL);
    vt_metrics_gauge_fn(m, "venta_vendor_user_deleted_queued",
                        "Deleted users waiting to be processed.", NULL, queued, ue);
}

int user_events_start(const user_events_opts *opts, user_events **out, char *err, size_t errlen)
{
    user_events *ue = calloc(1, sizeof *ue);
    if (!ue) {
        snprintf(err, errlen, "out of memory");
        return VT_RESOURCE_EXHAUSTED;
    }
    ue->opts = *opts;
    if (!ue->opts.capacity)
        ue->opts.capacity = 4096;
    ue->ring = calloc(ue->opts.capacity, sizeof *ue->ring);
    size_t nstatements;
    const vt_db_statement *statements = vendor_statements_with_outbox(&nstatements);
    vt_db_conn_opts db = {
        .url = opts->database_url, .statements = statements, .statement_count = nstatements};
    if (!ue->ring || vt_db_conn_new(&db, &ue->db, NULL, 0) != VT_OK) {
        snprintf(err, errlen, "out of memory");
        free(ue->ring);
        free(ue);
        return VT_RESOURCE_EXHAUSTED;
    }
    pthread_mutex_init(&ue->lock, NULL);
    vt_cond_init_monotonic(&ue->wake);
    if (pthread_create(&ue->worker, NULL, worker_main, ue) != 0) {
        snprintf(err, errlen, "cannot start the user events thread");
        vt_db_conn_free(ue->db);
        pthread_cond_destroy(&ue->wake);
        pthread_mutex_destroy(&ue->lock);
        free(ue->ring);
        free(ue);
        return VT_RESOURCE_EXHAUSTED;
    }
    register_metrics(ue, opts->metrics);
    int rc = vt_bus_subscribe(opts->bus, VENDOR_USER_EVENTS_SUBJECT, VENDOR_USER_EVENTS_QUEUE,
                              16384, on_user_deleted, ue, &ue->sub);
    if (rc != VT_OK) {
        snprintf(err, errlen, "cannot subscribe to %s", VENDOR_USER_EVENTS_SUBJECT);
        user_events_stop(ue, 0);
        return rc;
    }
    *out = ue;
    return VT_OK;
}

void user_events_stop(user_events *ue, int flush_ms)
{
    if (!ue)
        return;
    vt_metrics_gauge_fn_detach(ue->opts.metrics, ue);
    if (ue->sub)
        vt_bus_unsubscribe(ue->sub);
    pthread_mutex_lock(&ue->lock);
    ue->stopping = true;
    ue->flush_ms = flush_ms;
    pthread_mutex_unlock(&ue->lock);
    pthread_cond_signal(&ue->wake);
    pthread_join(ue->worker, NULL);
    vt_db_conn_free(ue->db);
    pthread_cond_destroy(&ue->wake);
    pthread_mutex_destroy(&ue->lock);
    free(ue->ring);
    free(ue);
}
