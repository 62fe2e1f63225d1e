/*
 * deletions.h — venta-location's durable consumer of evt.vendor.deleted: the table side
 * of a vendor's deletion.
 *
 * The service's replicas share the durable JetStream consumer
 * VT_EVENTS_LOCATION_DELETED_CONSUMER, so each deletion is applied once per service, by
 * one replica, and one published while every replica was down waits in the stream until
 * one is back. Applying it drops the vendor's row and remembers the vendor in
 * location.deleted_vendors (store_remove, one idempotent statement); the message is
 * acknowledged only after that committed, and delivered again (with backoff) while
 * PostgreSQL is away. Each replica's live map reads the deletions on its own (live.h).
 */
#ifndef VENTA_LOCATION_DELETIONS_H
#define VENTA_LOCATION_DELETIONS_H

#include "vt_bus.h"
#include "vt_metrics.h"

#include <stddef.h>

typedef struct deletions deletions;

typedef struct {
    vt_bus *bus;
    const vt_bus_stream_opts *stream; /* the stream of domain events (borrowed) */
    const char *database_url;
    vt_metrics *metrics;
} deletions_opts;

int deletions_start(const deletions_opts *opts, deletions **out, char *err, size_t errlen);
/* Stop consuming (a deletion being applied finishes; the rest wait in the stream), free. */
void deletions_stop(deletions *d);

#endif
