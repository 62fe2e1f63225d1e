/*
 * messages.h — the NATS messages venta-location consumes, decoded and checked: a
 * vendor's position (loc.>), its presence (vendor.<id>.status) and its deletion
 * (evt.vendor.deleted). Both the ingest (queue group, into the table) and the live map
 * (every message, into memory) read them the same way through these.
 */
#ifndef VENTA_LOCATION_MESSAGES_H
#define VENTA_LOCATION_MESSAGES_H

#include "pending.h"

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

typedef enum {
    MESSAGE_OK,
    MESSAGE_INVALID, /* malformed or out of range: count it and drop it */
    MESSAGE_REPEAT,  /* the old cell's copy of a move (left_cell), sent on the new one too */
} message_result;

message_result message_location(const void *data, size_t len, loc_update *out);
/* The subject of vendor deletions (evt.vendor.deleted). */
#define MESSAGE_DELETED_SUBJECT "evt.vendor.deleted"
/* A presence change: a VendorStatus on vendor.<id>.status (its id must be the
 * subject's), or a VendorEvent on MESSAGE_DELETED_SUBJECT (removed). false when
 * malformed. */
bool message_presence(const char *subject, const void *data, size_t len, presence_change *out);

#endif
