/*
 * user_events.h — what venta-vendor does when a user goes away.
 *
 * Consumes evt.user.deleted (venta.events.v1.UserEvent, published by venta-user) in the
 * queue group vendor-service, so each event reaches one replica, and soft-deletes
 * (deleted_at) every live vendor of that owner — the event's user_id is the identity
 * provider's id, which is vendor.vendors.owner_id — then publishes evt.vendor.deleted
 * for each vendor it deleted. Deleted vendors disappear from every read.
 *
 * Events wait in a bounded queue for a thread with its own PostgreSQL connection; while
 * PostgreSQL is down the head of the queue is retried with backoff, so an event that
 * arrived is not lost to a database restart. Redelivery is harmless: a second delete of
 * the same owner finds nothing live and publishes nothing.
 */
#ifndef VENTA_VENDOR_USER_EVENTS_H
#define VENTA_VENDOR_USER_EVENTS_H

#include "publish.h"
#include "vt_bus.h"
#include "vt_metrics.h"

#include <stddef.h>

#define VENDOR_USER_EVENTS_SUBJECT "evt.user.deleted"
#define VENDOR_USER_EVENTS_QUEUE "vendor-service"

typedef struct user_events user_events;

typedef struct {
    vt_bus *bus;
    const char *database_url;
    vt_metrics *metrics;
    vt_outbox_relay *outbox; /* publishes the evt.vendor.deleted this writes */
    profile_cache *profiles; /* forgets the vendors this deletes (may be NULL) */
    size_t capacity;         /* users waiting at most (default 4096) */
} user_events_opts;

int user_events_start(const user_events_opts *opts, user_events **out, char *err, size_t errlen);
/* Stop consuming, handle what is queued while PostgreSQL answers (up to flush_ms),
 * stop the thread, free. */
void user_events_stop(user_events *ue, int flush_ms);

#endif
