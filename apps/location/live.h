/*
 * live.h — the live map (livemap.h) kept current for LocationService's box and radius
 * reads.
 *
 * Every replica subscribes to every position, presence and deletion (not in the
 * ingest's queue group: each replica needs all of them) and applies them to its map as
 * they arrive. Deletions come from a JetStream consumer of this process alone that
 * starts at the oldest evt.vendor.deleted the stream keeps: a replica that was down
 * (or that loaded the table before the service's durable consumer had removed the row)
 * still forgets every vendor deleted meanwhile. Applying a deletion twice is harmless.
 * Positions and presence stay on core NATS, so the map is as fresh as the live fan-out
 * and fresher than the table, which the ingest writes in batches. On start, after
 * every NATS reconnect (messages may have been missed meanwhile) and when presence
 * messages were dropped, the table is merged into the map in pages while new messages
 * keep arriving; presence changes and deletions received during the load are applied
 * again once it ends, and vendors the table no longer has are forgotten. Until the
 * first load ends live_in_bounds, live_nearby and live_get say VT_UNAVAILABLE and the
 * caller reads the table instead; after that the map serves, also while NATS is down
 * (the table, fed through NATS too, is no newer). Positions older than the TTL are
 * taken off the grid every few seconds.
 *
 * Threads: nats.c's callbacks write under a read-write lock (a few hundred
 * nanoseconds each); the rpc workers read under it; a loader thread of its own (with
 * its own PostgreSQL connection) loads, expires and watches the NATS connection.
 */
#ifndef VENTA_LOCATION_LIVE_H
#define VENTA_LOCATION_LIVE_H

#include "store.h"
#include "vt_bus.h"
#include "vt_geo.h"
#include "vt_metrics.h"

#include <stddef.h>

typedef struct live live;

typedef struct {
    vt_bus *bus;
    const char *database_url;
    vt_metrics *metrics;
    const vt_bus_stream_opts *stream; /* the stream of domain events (borrowed) */
    int ttl_s;                        /* VENTA_LOCATION_TTL_S */
    int page;                         /* rows per load query (default 5000) */
    int settle_ms; /* wait after a reconnect before loading again, for positions the
                      ingest still holds (persist interval) or is writing (250) */
} live_opts;

int live_start(const live_opts *opts, live **out, char *err, size_t errlen);
void live_stop(live *lv);

/* One vendor's live position: VT_OK; VT_NOT_FOUND when the map has no fresh one (the
 * table may still know an older one); VT_UNAVAILABLE while the map is not loaded. */
int live_get(live *lv, const char *vendor_id, store_position *out);
/* VT_OK with *n positions in out (room for limit), as livemap_in_bounds/_nearby say;
 * VT_UNAVAILABLE while the map is not loaded (read the table instead). */
int live_in_bounds(live *lv, const vt_geo_box *box, size_t limit, store_position *out, size_t *n);
int live_nearby(live *lv, double lat, double lng, double radius_m, size_t limit,
                store_position *out, size_t *n);

#endif
