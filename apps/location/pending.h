/*
 * pending.h — the bounded, coalescing buffer between NATS and PostgreSQL.
 *
 * Holds at most one update per vendor (the one with the latest vendor timestamp) and
 * at most `capacity` vendors. When it is full, the update that arrived longest ago is
 * dropped to make room: the newest positions are the valuable ones, and the vendor
 * whose update was dropped sends another within seconds. Not thread-safe: the
 * ingest wraps it in its own lock.
 */
#ifndef VENTA_LOCATION_PENDING_H
#define VENTA_LOCATION_PENDING_H

#include "vt_core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char vendor_id[VT_UUID_LEN + 1];
    double lat, lng, heading, speed, accuracy;
    int64_t ts; /* vendor's fix time, ms */
    bool live;  /* from a live vendor connection (VendorLocation.live) */
} loc_update;

typedef enum {
    PENDING_ADDED,     /* a vendor not yet pending */
    PENDING_COALESCED, /* replaced an older pending update of the same vendor */
    PENDING_STALE,     /* older than the pending one: ignored */
    PENDING_FULL,      /* only from pending_put_if_room: no room, not added */
} pending_result;

typedef struct pending pending;

pending *pending_new(size_t capacity);
void pending_free(pending *p);
size_t pending_count(const pending *p);
size_t pending_capacity(const pending *p);

/* Add or coalesce; when full, the oldest arrival is dropped first (*dropped += 1). */
pending_result pending_put(pending *p, const loc_update *u, uint64_t *dropped);
/* The same, but never drops anything to make room (used to put back a failed batch). */
pending_result pending_put_if_room(pending *p, const loc_update *u);
/* Move up to max updates, oldest arrival first, into out; returns how many. */
size_t pending_take(pending *p, loc_update *out, size_t max);

#endif
