/*
 * user_events.h — what venta-vendor does when a user goes away.
 *
 * Consumes evt.user.deleted (venta.events.v1.UserEvent, published by venta-user) from
 * the stream of domain events through the durable JetStream consumer
 * VT_EVENTS_VENDOR_USER_DELETED_CONSUMER, shared by the service's replicas, so each
 * event is handled once per service and one published while every replica was down
 * waits for the first one back. It soft-deletes (deleted_at) every live vendor of that
 * owner — the event's user_id is the identity provider's id, which is
 * vendor.vendors.owner_id — and writes evt.vendor.deleted for each into the outbox, in
 * one transaction. Deleted vendors disappear from every read.
 *
 * The consumer's thread handles one event at a time on a PostgreSQL connection of its
 * own and acknowledges it only after the commit; while PostgreSQL is down the event
 * comes again with backoff, so it is not lost to a database restart. Redelivery is
 * harmless: a second delete of the same owner finds nothing live and publishes nothing.
 */
#ifndef VENTA_VENDOR_USER_EVENTS_H
#define VENTA_VENDOR_USER_EVENTS_H

#include "publish.h"
#include "vt_bus.h"
#include "vt_metrics.h"

#include <stddef.h>

#define VENDOR_USER_EVENTS_SUBJECT "evt.user.deleted"

typedef struct user_events user_events;

typedef struct {
    vt_bus *bus;
    const vt_bus_stream_opts *stream; /* the stream of domain events (borrowed) */
    const char *database_url;
    vt_metrics *metrics;
    vt_outbox_relay *outbox; /* publishes the evt.vendor.deleted this writes */
    profile_cache *profiles; /* forgets the vendors this deletes (may be NULL) */
} user_events_opts;

int user_events_start(const user_events_opts *opts, user_events **out, char *err, size_t errlen);
/* Stop consuming (an event being handled finishes; the rest wait in the stream), free. */
void user_events_stop(user_events *ue);

#endif
