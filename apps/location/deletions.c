/*
 * deletions.c — see deletions.h.
 *
 * The handler runs on the consumer's thread with a PostgreSQL connection of its own:
 * deletions are rare, so one statement per message, acknowledged after it, is all the
 * batching they need.
 */
#include "deletions.h"

#include "messages.h"
#include "store.h"
#include "vt_core.h"
#include "vt_events.h"

#include <stdio.h>
#include <stdlib.h>

struct deletions {
    vt_bus_consumer *consumer;
    vt_db_conn *db; /* the consumer thread's */
    vt_counter *applied, *invalid, *retried;
};

static vt_bus_verdict on_deleted(const char *subject, const void *data, size_t len, void *user)
{
    deletions *d = user;
    presence_change p;
    if (!message_presence(subject, data, len, &p) || !p.removed) {
        vt_counter_inc(d->invalid);
        vt_warn(NULL, "deletions: ignored a malformed message on %s", subject);
        return VT_BUS_REJECT;
    }
    char err[256];
    int rc = store_remove(d->db, p.vendor_id, err, sizeof err);
    if (rc == VT_OK) {
        vt_counter_inc(d->applied);
        vt_info(NULL, "deletions: vendor %s removed", p.vendor_id);
        return VT_BUS_DONE;
    }
    vt_counter_inc(d->retried);
    vt_warn(NULL, "deletions: removing vendor %s failed (%s): %s; it comes again", p.vendor_id,
            vt_status_name(rc), err);
    return rc == VT_INVALID_ARGUMENT ? VT_BUS_REJECT : VT_BUS_RETRY;
}

int deletions_start(const deletions_opts *opts, deletions **out, char *err, size_t errlen)
{
    deletions *d = calloc(1, sizeof *d);
    vt_db_conn_opts db = {.url = opts->database_url,
                          .statements = store_statements,
                          .statement_count = store_nstatements};
    if (!d || vt_db_conn_new(&db, &d->db, err, errlen) != VT_OK) {
        if (!d)
            snprintf(err, errlen, "out of memory");
        free(d);
        return VT_RESOURCE_EXHAUSTED;
    }
    d->applied =
        vt_metrics_counter(opts->metrics, "venta_location_deletions_applied_total",
                           "Vendor deletions applied to the table (evt.vendor.deleted).", NULL);
    d->invalid = vt_metrics_counter(opts->metrics, "venta_location_deletions_invalid_total",
                                    "Malformed evt.vendor.deleted messages, dropped.", NULL);
    d->retried = vt_metrics_counter(opts->metrics, "venta_location_deletions_retried_total",
                                    "Deletions that failed to apply and come again.", NULL);
    vt_bus_consumer_opts co = {.stream = opts->stream,
                               .durable = VT_EVENTS_LOCATION_DELETED_CONSUMER,
                               .subject = VT_EVENTS_VENDOR_DELETED,
                               .fn = on_deleted,
                               .user = d};
    int rc = vt_bus_consumer_new(opts->bus, &co, &d->consumer, err, errlen);
    if (rc != VT_OK) {
        vt_db_conn_free(d->db);
        free(d);
        return rc;
    }
    *out = d;
    return VT_OK;
}

void deletions_stop(deletions *d)
{
    if (!d)
        return;
    vt_bus_consumer_free(d->consumer); /* joins its thread: nothing uses db after this */
    vt_db_conn_free(d->db);
    free(d);
}
