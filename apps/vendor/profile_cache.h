/*
 * profile_cache.h — vendor rows recently read, kept in memory so that GetVendor (the
 * read behind every GET /api/v1/vendors/{id}) mostly skips PostgreSQL.
 *
 * The table stays the truth; an entry is only served while nothing can have changed
 * the row without this replica hearing of it:
 * - A write on this replica forgets the rows it changed right after its commit
 *   (vendor_write, and the location cache after each batch it writes).
 * - A write on another replica arrives as evt.vendor.* and forgets the vendor
 *   (profile_sync.c).
 * - Every entry carries the epoch of that event stream it was read under
 *   (profile_sync_epoch): a NATS disconnect, a reconnect or a dropped event changes
 *   the epoch, and no older entry is served again; epoch 0 (NATS down) caches nothing.
 * - An entry is served for at most ttl_ms after its read began (the ticket): another replica's
 *   last-known-location writes announce no event, so the cached location may lag by
 *   that much more than the table's.
 * - A read racing a write: take a ticket before the query; profile_cache_put refuses
 *   the row when the vendor was forgotten in between.
 *
 * Direct-mapped: `slots` entries (rounded up to a power of two), each guarded by one of
 * a fixed set of striped locks; a read replaces whatever occupied its slot. Ids are
 * matched case-insensitively (a UUID in any case names the same row). Thread-safe.
 */
#ifndef VENTA_VENDOR_PROFILE_CACHE_H
#define VENTA_VENDOR_PROFILE_CACHE_H

#include "store.h"
#include "vt_metrics.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct profile_cache profile_cache;

/* NULL when out of memory. metrics may be NULL; otherwise registers
 * venta_vendor_profile_cache_{hits,misses,forgotten}_total. */
profile_cache *profile_cache_new(size_t slots, int ttl_ms, vt_metrics *metrics);
void profile_cache_free(profile_cache *pc);

/* On a hit, calls use(row, arg) under the slot's lock (copy what you need; the strings
 * live in the cache) and returns true. epoch 0 always misses. */
bool profile_cache_get(profile_cache *pc, const char *id, uint64_t epoch,
                       void (*use)(const store_vendor *row, void *arg), void *arg);
/* Taken before reading id from the table: when the read began (the entry's age counts
 * from there, query time included), what profile_cache_put needs to detect a forget
 * that happened meanwhile, and whether this read is the one others wait for. */
typedef struct {
    uint64_t gen;
    int64_t read_ns;
    bool fills; /* claimed the slot's fill: end it with put or release */
} profile_ticket;
profile_ticket profile_cache_ticket(profile_cache *pc, const char *id);
/* GetVendor's lookup, single flight: a hit as profile_cache_get; on a miss while another
 * caller reads the same vendor, waits (up to a second) for that read and serves it;
 * otherwise returns false with *ticket taken for this caller's own read, which must
 * end in profile_cache_put or profile_cache_release. */
bool profile_cache_lookup(profile_cache *pc, const char *id, uint64_t epoch,
                          void (*use)(const store_vendor *row, void *arg), void *arg,
                          profile_ticket *ticket);
/* Keep row (copied) as id's, read under epoch, unless id was forgotten since ticket;
 * ends the ticket's fill either way. */
void profile_cache_put(profile_cache *pc, const char *id, uint64_t epoch, profile_ticket ticket,
                       const store_vendor *row);
/* The read of ticket put nothing (not found, an error): end its fill, so that callers
 * waiting for it read the table themselves. */
void profile_cache_release(profile_cache *pc, const char *id, profile_ticket ticket);
/* The row of id changed or may have: never serve what was read before. */
void profile_cache_forget(profile_cache *pc, const char *id);

#endif
