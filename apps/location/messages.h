/*
 * messages.h — presence as venta-location applies it: a vendor's status
 * (vendor.<id>.status) or its deletion (evt.vendor.deleted), decoded by libs/events
 * and turned into one change. Both the ingest (queue group, into the table) and the
 * live map (every message, into memory) read them the same way through this; positions
 * they decode with vt_events_decode_location directly.
 */
#ifndef VENTA_LOCATION_MESSAGES_H
#define VENTA_LOCATION_MESSAGES_H

#include "vt_core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A presence change, or (removed) a deleted vendor to take off the map. */
typedef struct {
    char vendor_id[VT_UUID_LEN + 1];
    bool online;
    bool removed;
    int64_t ts;      /* the status's time, ms (arrival time when it carries none) */
    int64_t last_ts; /* offline: VendorStatus.last_ts, the connection's last fix; 0 none */
} presence_change;

/* A presence change: a VendorStatus on vendor.<id>.status (its id must be the
 * subject's), or a VendorEvent on VT_EVENTS_VENDOR_DELETED (removed). false when
 * malformed. */
bool message_presence(const char *subject, const void *data, size_t len, presence_change *out);

#endif
