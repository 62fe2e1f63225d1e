/*
 * profile_sync.h — keeps every replica's profile cache coherent with writes made by
 * the others.
 *
 * Subscribes to evt.vendor.> (every replica gets every event: no queue group) and
 * forgets the event's vendor. It also says which cached reads may still be served: the
 * epoch changes whenever events may have been missed — a NATS disconnect (while
 * disconnected the epoch is 0, so nothing is cached), a reconnect, a message nats.c
 * dropped for a slow callback, an event that could not be decoded.
 */
#ifndef VENTA_VENDOR_PROFILE_SYNC_H
#define VENTA_VENDOR_PROFILE_SYNC_H

#include "profile_cache.h"
#include "vt_bus.h"
#include "vt_metrics.h"

#include <stddef.h>
#include <stdint.h>

#define PROFILE_SYNC_SUBJECT "evt.vendor.>"

typedef struct profile_sync profile_sync;

int profile_sync_start(vt_bus *bus, profile_cache *cache, vt_metrics *metrics, profile_sync **out,
                       char *err, size_t errlen);
/* The epoch reads must be cached under now; 0 when nothing may be cached. */
uint64_t profile_sync_epoch(profile_sync *ps);
void profile_sync_stop(profile_sync *ps);

#endif
