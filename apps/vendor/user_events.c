/*
 * user_events.c — see user_events.h.
 *
 * The handler decodes and checks the event, then runs the soft delete and its outbox
 * rows in one transaction on the consumer's thread: DONE after the commit; RETRY for a
 * failure that retrying can cure (UNAVAILABLE, ABORTED: the consumer backs off, doubling
 * up to 10 s); REJECT for a malformed event or any other failure, logged, so one
 * poisoned event cannot stall the rest.
 */
#include "user_events.h"

#include "store.h"
#include "validate.h"
#include "venta/events/v1/events.pb-c.h"
#include "vt_core.h"
#include "vt_events.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char owner_id[VENDOR_OWNER_MAX + 1];
    char request_id[VT_REQUEST_ID_LEN * 4 + 1];
} pending_user;

struct user_events {
    user_events_opts opts;
    vt_bus_consumer *consumer;
    vt_db_conn *db; /* the consumer thread's */
    vt_counter *received, *invalid, *handled, *vendors_deleted, *errors;
};

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

static vt_bus_verdict on_user_deleted(const char *subject, const void *data, size_t len, void *user)
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
        return VT_BUS_REJECT;
    }
    pending_user p;
    snprintf(p.owner_id, sizeof p.owner_id, "%s", msg->user_id);
    snprintf(p.request_id, sizeof p.request_id, "%s",
             vt_request_id_sane(msg->request_id) ? msg->request_id : "");
    venta__events__v1__user_event__free_unpacked(msg, NULL);
    int rc = handle(ue, &p);
    if (rc == VT_OK)
        return VT_BUS_DONE;
    return rc == VT_UNAVAILABLE || rc == VT_ABORTED ? VT_BUS_RETRY : VT_BUS_REJECT;
}

static void register_metrics(user_events *ue, vt_metrics *m)
{
    ue->received =
        vt_metrics_counter(m, "venta_vendor_user_deleted_received_total",
                           "evt.user.deleted messages received (repeats included).", NULL);
    ue->invalid = vt_metrics_counter(m, "venta_vendor_user_deleted_invalid_total",
                                     "evt.user.deleted messages that could not be decoded.", NULL);
    ue->handled = vt_metrics_counter(m, "venta_vendor_user_deleted_handled_total",
                                     "Deleted users whose vendors were soft-deleted.", NULL);
    ue->vendors_deleted = vt_metrics_counter(m, "venta_vendor_user_deleted_vendors_total",
                                             "Vendors soft-deleted because their owner was.", NULL);
    ue->errors = vt_metrics_counter(m, "venta_vendor_user_deleted_errors_total",
                                    "Failed attempts to soft-delete a user's vendors.", NULL);
}

int user_events_start(const user_events_opts *opts, user_events **out, char *err, size_t errlen)
{
    user_events *ue = calloc(1, sizeof *ue);
    if (!ue) {
        snprintf(err, errlen, "out of memory");
        return VT_RESOURCE_EXHAUSTED;
    }
    ue->opts = *opts;
    size_t nstatements;
    const vt_db_statement *statements = vendor_statements_with_outbox(&nstatements);
    vt_db_conn_opts db = {
        .url = opts->database_url, .statements = statements, .statement_count = nstatements};
    if (vt_db_conn_new(&db, &ue->db, NULL, 0) != VT_OK) {
        snprintf(err, errlen, "out of memory");
        free(ue);
        return VT_RESOURCE_EXHAUSTED;
    }
    register_metrics(ue, opts->metrics);
    vt_bus_consumer_opts co = {.stream = opts->stream,
                               .durable = VT_EVENTS_VENDOR_USER_DELETED_CONSUMER,
                               .subject = VENDOR_USER_EVENTS_SUBJECT,
                               .fn = on_user_deleted,
                               .user = ue};
    int rc = vt_bus_consumer_new(opts->bus, &co, &ue->consumer, err, errlen);
    if (rc != VT_OK) {
        vt_db_conn_free(ue->db);
        free(ue);
        return rc;
    }
    *out = ue;
    return VT_OK;
}

void user_events_stop(user_events *ue)
{
    if (!ue)
        return;
    vt_bus_consumer_free(ue->consumer); /* joins its thread: nothing uses db after this */
    vt_db_conn_free(ue->db);
    free(ue);
}
