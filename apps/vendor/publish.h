/*
 * publish.h — the VendorService's domain events on NATS (API.md §6):
 * evt.vendor.created / evt.vendor.updated / evt.vendor.deleted, payload
 * venta.events.v1.VendorEvent.
 *
 * Events go out after the change has committed (each write is one autocommitted
 * statement, and publishing follows its success), so a subscriber never hears of a
 * change that did not happen. NATS core delivers at most once: an event published
 * while NATS is away waits in vt_bus's reconnect buffer, and one that cannot even be
 * buffered is counted in venta_vendor_events_failed_total and logged; the change
 * itself stands.
 */
#ifndef VENTA_VENDOR_PUBLISH_H
#define VENTA_VENDOR_PUBLISH_H

#include "vt_bus.h"
#include "vt_metrics.h"

#include <stdbool.h>

typedef enum { VENDOR_CREATED, VENDOR_UPDATED, VENDOR_DELETED } vendor_event_type;

typedef struct {
    vt_bus *bus;
    vt_counter *published[3], *failed[3];
} vendor_publisher;

void vendor_publisher_init(vendor_publisher *p, vt_bus *bus, vt_metrics *metrics);
/* Publish one event; request_id may be NULL. Returns the vt_bus status. */
int vendor_publish(vendor_publisher *p, vendor_event_type type, const char *vendor_id,
                   const char *owner_id, const char *name, bool is_open, const char *request_id);

#endif
