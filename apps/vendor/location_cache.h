/*
 * location_cache.h — the vendor's last known position, kept fresh from loc.>.
 *
 * venta-location owns live positions; venta-vendor keeps only a last-known copy on
 * the vendor row (vendor.vendors.last_location) for search-near and profile views.
 * It consumes loc.> in its own queue group, vendor-location-cache (so each position
 * reaches one vendor replica, independently of location-writers), keeps the newest
 * position per vendor in memory, and writes at most once per vendor per interval
 * (VENTA_VENDOR_LOCATION_INTERVAL_MS, default 5000) with one batched UPDATE: a vendor
 * reporting every second costs one row write per five seconds, not five. Memory is
 * bounded: at most `capacity` vendors wait for a write; positions of further vendors
 * are dropped (counted) until the next flush makes room, and their next report, seconds
 * later, repairs it. The left_cell copies of API.md §6 repeat a position sent on the
 * new cell and are ignored.
 */
#ifndef VENTA_VENDOR_LOCATION_CACHE_H
#define VENTA_VENDOR_LOCATION_CACHE_H

#include "profile_cache.h"
#include "vt_bus.h"
#include "vt_metrics.h"

#include <stddef.h>

#define VENDOR_LOCATION_QUEUE "vendor-location-cache"

typedef struct location_cache location_cache;

typedef struct {
    vt_bus *bus;
    const char *database_url;
    vt_metrics *metrics;
    profile_cache *profiles; /* forgets the vendors each batch wrote (may be NULL) */
    int interval_ms;         /* default 5000 */
    size_t capacity;         /* vendors waiting for a write at most (default 100000) */
    size_t batch_max;        /* rows per UPDATE at most (default 5000) */
} location_cache_opts;

int location_cache_start(const location_cache_opts *opts, location_cache **out, char *err,
                         size_t errlen);
/* Stop consuming, write what is waiting (one attempt), stop the writer, free. */
void location_cache_stop(location_cache *lc);

#endif
