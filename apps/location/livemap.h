/*
 * livemap.h — every vendor's latest position in memory, indexed by place, kept by the
 * same rules as location.vendor_locations.
 *
 * The reads LocationService answers most (VendorsInBounds, VendorsNearby) are served
 * from here: a box of a few kilometres is a handful of grid cells and a few hundred
 * comparisons, against an index scan and ~100 scattered heap pages in PostgreSQL. The
 * table stays the durable truth; this map is rebuilt from it and from NATS (live.c).
 *
 * Rules, mirroring store.c's statements:
 * - A position replaces the stored one unless it is older (by vendor timestamp; an
 *   equal one replaces it). A live one turns the vendor online unless it is not newer
 *   than the last offline's boundary (offline_through); others leave online as it was
 *   (false for a new vendor). The time it arrived is its freshness (updated).
 * - An offline with a boundary (last_ts > 0) applies unless a newer position is stored,
 *   and raises offline_through; without one it applies unless the position arrived
 *   after the status's time. An online always applies. A vendor with no position is
 *   left alone, as the UPDATE finds no row.
 * - A deleted vendor is gone, and stays gone: later positions for it are ignored.
 * - Every stored vendor is kept, fresh or not (its row is): a stale one is only off the
 *   grid, so the rules above still see its timestamp, presence and boundary.
 *
 * Positions are kept at the table's precision (heading, speed and accuracy are `real`
 * columns), so a reply reads the same from either source. Not thread-safe: live.c
 * wraps it in a read-write lock.
 */
#ifndef VENTA_LOCATION_LIVEMAP_H
#define VENTA_LOCATION_LIVEMAP_H

#include "vt_events.h"
#include "store.h"
#include "vt_geo.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct livemap livemap;

livemap *livemap_new(void);
void livemap_free(livemap *m);
/* Forget everything (when an allocation failed: the map is loaded anew). */
void livemap_clear(livemap *m);
/* Vendors known (fresh or not), and grid cells holding a fresh one. */
size_t livemap_count(const livemap *m);
size_t livemap_cells(const livemap *m);

/* A position that arrived at now_ms. false when out of memory. */
bool livemap_put(livemap *m, const vt_events_position *u, int64_t now_ms);
/* Presence from vendor.<id>.status (ts_ms: the status's time; last_ts_ms: its boundary
 * or 0). */
void livemap_set_online(livemap *m, const char *vendor_id, bool online, int64_t ts_ms,
                        int64_t last_ts_ms);
/* A deleted vendor (evt.vendor.deleted, or a row of location.deleted_vendors when
 * loading): off the map, and its positions are ignored from now on, as the table does.
 * false when out of memory. */
bool livemap_remove(livemap *m, const char *vendor_id);

/* Loading from the table while messages keep arriving: livemap_begin_load, then every
 * row through livemap_merge_row, then livemap_end_load. A merge keeps the newer
 * position, combines the offline boundaries, and takes the row's presence unless a
 * message decided it meanwhile; a row written before fresh_after_ms stays off the grid.
 * false when out of memory. */
void livemap_begin_load(livemap *m);
bool livemap_merge_row(livemap *m, const store_live_row *row, int64_t fresh_after_ms);
/* Forget the vendors the load did not see and no position named since it began (the
 * table no longer has them: deleted while messages were missed). Returns how many.
 * Deleted vendors stay: their deletion may have reached this map (its own JetStream
 * consumer) before the table's writer applied it, and a position must not bring them
 * back after a load that found neither their row nor their deleted_vendors row. */
size_t livemap_end_load(livemap *m);

/* Take vendors whose position arrived before before_ms off the grid (they stay known,
 * as their rows stay in the table), looking at up to max_visit slots from cursor (0 to
 * start); returns the cursor to continue from (0 after the last slot), so a large map
 * is swept a slice at a time. */
size_t livemap_expire(livemap *m, int64_t before_ms, size_t cursor, size_t max_visit);

/* One vendor's position if it arrived after fresh_after_ms, into out (distance_m 0);
 * false when the map has none that fresh. */
bool livemap_get(const livemap *m, const char *vendor_id, int64_t fresh_after_ms,
                 store_position *out);
/* Up to limit positions that arrived after fresh_after_ms and lie in box (edges
 * included, split across the antimeridian as vt_geo says), into out; returns how many.
 * distance_m is 0. */
size_t livemap_in_bounds(const livemap *m, const vt_geo_box *box, int64_t fresh_after_ms,
                         size_t limit, store_position *out);
/* The nearest (at most limit) positions that arrived after fresh_after_ms within
 * radius_m metres of (lat, lng) on the sphere, nearest first, with distance_m, into
 * out; returns how many. The point and radius must be valid (vt_geo_box_around). */
size_t livemap_nearby(const livemap *m, double lat, double lng, double radius_m,
                      int64_t fresh_after_ms, size_t limit, store_position *out);

#endif
