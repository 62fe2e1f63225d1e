/*
 * vt_events.h — the NATS side of the contract (API.md §6): subjects and payloads.
 *
 * Live positions travel on loc.<g1>.<g2>.<g3>.<g4>.<g5>.<g6>.<vendorId>, one geohash
 * character per token, so a subscriber chooses its precision with a prefix
 * (loc.d.r.5.>). Whoever accepts a position — the WebSocket edge or
 * LocationService.UpdateVendorLocation — publishes it through
 * vt_events_publish_location, so there is one way onto the bus: when the vendor moved
 * to another cell, a copy flagged left_cell also goes to the old cell, so that viewers
 * of that cell see it leave.
 *
 * The receive side matches it: every consumer of loc.>, vendor.<id>.status and
 * evt.vendor.deleted decodes and checks them with vt_events_decode_*, into one position
 * struct (vt_events_position) that the apps keep, compare and store as it is, and
 * coalesces positions per vendor in the one table, vt_events_latest (latest.c).
 */
#ifndef VT_EVENTS_H
#define VT_EVENTS_H

#include "venta/events/v1/events.pb-c.h"
#include "vt_bus.h"
#include "vt_core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VT_EVENTS_CELL_PRECISION 6
#define VT_EVENTS_SUBJECT_MAX 128
#define VT_EVENTS_LOC_ALL "loc.>"
#define VT_EVENTS_STATUS_ALL "vendor.*.status"
#define VT_EVENTS_LOCATION_QUEUE "location-writers"

/* "loc.d.r.5.r.k.n.<vendorId>". vendor_id must be a UUID; cell 6 geohash characters. */
int vt_events_loc_subject(const char *cell, const char *vendor_id, char *out, size_t outlen);
/* The subscription subject for every vendor in cell (any precision 1..6): "loc.d.r.>". */
int vt_events_cell_subject(const char *cell, char *out, size_t outlen);
/* "vendor.<vendorId>.status". */
int vt_events_status_subject(const char *vendor_id, char *out, size_t outlen);
/* Split a loc subject into its cell (7 bytes) and vendor id (VT_UUID_LEN + 1 bytes). */
int vt_events_parse_loc_subject(const char *subject, char *cell, char *vendor_id);
/* Vendor id of a "vendor.<id>.status" subject (VT_UUID_LEN + 1 bytes). */
int vt_events_parse_status_subject(const char *subject, char *vendor_id);

/* A vendor's position as the mesh holds it, from the bus or from an edge: one struct
 * for the publishers, the decoders, the coalescing table and the apps' maps, so that a
 * position is copied whole and never field by field between look-alike types. */
typedef struct {
    char vendor_id[VT_UUID_LEN + 1];
    double lat, lng, heading, speed, accuracy;
    int64_t ts;     /* the vendor's fix time, Unix epoch ms */
    bool live;      /* from a live vendor connection (VendorLocation.live) */
    bool left_cell; /* decoded: the old cell's copy of a move (API.md §6) */
    char cell[VT_EVENTS_CELL_PRECISION + 1]; /* decoded: the subject's cell */
} vt_events_position;

/* The VendorLocation of p (its vendor id is borrowed, not copied; geohash and left-cell
 * fields are the publisher's to fill). */
Venta__Events__V1__VendorLocation vt_events_location(const vt_events_position *p);

/* How far ahead of this process's clock a position's ts may be (phone clocks drift). */
#define VT_EVENTS_MAX_AHEAD_MS 300000
/* Check a position before it goes anywhere: vendor id a UUID, coordinates valid, heading
 * in [0,360) or unset, speed and accuracy finite and >= 0, ts > 0 and at most
 * VT_EVENTS_MAX_AHEAD_MS ahead of now. */
int vt_events_position_valid(const vt_events_position *p, char *err, size_t errlen);

/* Check pos (vt_events_position_valid) and publish it on its cell and, when
 * previous_cell (may be NULL or "") differs, a left_cell copy on that old cell. Its
 * left_cell and cell fields are ignored. cell_out (7 bytes, may be NULL) receives the
 * new cell. */
int vt_events_publish_location(vt_bus *bus, const vt_events_position *pos,
                               const char *previous_cell, char *cell_out);
/* vendor.<id>.status with online and ts; last_ts_ms: see VendorStatus.last_ts (0 for an
 * online status or when unknown). */
int vt_events_publish_status(vt_bus *bus, const char *vendor_id, bool online, int64_t ts_ms,
                             int64_t last_ts_ms);
/* Any protobuf message on subject (domain events evt.*). */
int vt_events_publish_message(vt_bus *bus, const char *subject, const ProtobufCMessage *msg);

/* ---- the stream of domain events (events.c) ---- */

/* Domain events (evt.>) are kept in one JetStream stream, so that a service that was
 * away reads what it missed (docs/events.md); live positions and presence stay on core
 * NATS (the next fix repairs a lost one). */
#define VT_EVENTS_STREAM "VENTA_EVENTS"
#define VT_EVENTS_STREAM_SUBJECTS "evt.>"
/* Durable consumers, one per service and purpose, shared by the service's replicas. */
#define VT_EVENTS_LOCATION_DELETED_CONSUMER "location-vendor-deleted"
#define VT_EVENTS_VENDOR_USER_DELETED_CONSUMER "vendor-user-deleted"

/* The stream's settings: VT_EVENTS_STREAM on VT_EVENTS_STREAM_SUBJECTS, file storage,
 * kept 7 days and at most 1 GiB or 1,000,000 events (oldest dropped first), duplicates
 * dropped within 2 minutes, on `replicas` servers (VENTA_EVENTS_REPLICAS; 0 means 1). */
vt_bus_stream_opts vt_events_stream(int replicas);

/* ---- receiving (receive.c) ---- */

/* The subject of vendor deletions (a VendorEvent). */
#define VT_EVENTS_VENDOR_DELETED "evt.vendor.deleted"

/* What a message on loc.> turned out to be. */
typedef enum {
    VT_EVENTS_LOC_INVALID = 0, /* malformed, out of range, or not its subject's */
    VT_EVENTS_LOC_POSITION,    /* a position to apply */
    VT_EVENTS_LOC_LEFT_CELL,   /* the copy of a move sent on the old cell: every consumer
                                * that is not a viewer of that cell has the position
                                * already, from the new cell */
} vt_events_loc_kind;

/* Decode and check a VendorLocation that arrived on subject (NULL: not checked). The
 * checks are vt_events_position_valid's and, with a subject, that it is a loc subject
 * naming the message's vendor; out->cell is then the subject's cell ("" without).
 * out is filled unless the result is VT_EVENTS_LOC_INVALID. */
vt_events_loc_kind vt_events_decode_location(const char *subject, const void *data, size_t len,
                                             vt_events_position *out);

/* A hop's line about a fix it took (what: "location ingest"), under the thread's current
 * span (libs/bus makes one per message from its traceparent): at vt_trace_hop_level, so
 * info for a sampled fix, else debug; nothing is formatted when that level is off, so a
 * subscriber can call it per message (docs/tracing.md). */
void vt_events_log_position(const char *what, const vt_events_position *p);

/* A decoded VendorStatus; ts and last_ts as sent (0 when the sender left them out). */
typedef struct {
    char vendor_id[VT_UUID_LEN + 1];
    bool online;
    int64_t ts, last_ts;
} vt_events_status;

/* Decode a VendorStatus on subject ("vendor.<id>.status", its id the message's):
 * 0 or VT_INVALID_ARGUMENT. */
int vt_events_decode_status(const char *subject, const void *data, size_t len,
                            vt_events_status *out);
/* The vendor id (a UUID, as sent) of a VendorEvent on VT_EVENTS_VENDOR_DELETED into
 * vendor_id[VT_UUID_LEN + 1]: 0 or VT_INVALID_ARGUMENT. */
int vt_events_decode_deleted(const void *data, size_t len, char *vendor_id);

/* ---- vt_events_latest: the latest position per vendor (latest.c) ---- */

/* A bounded, coalescing table: at most one position per vendor (the one with the
 * newest ts) and at most `capacity` vendors, taken out oldest arrival first. A
 * coalesced position keeps its vendor's place in arrival order: it has waited longest.
 * When full, vt_events_latest_put drops the oldest arrival to make room (the newest
 * positions are the valuable ones, and a dropped vendor reports again within seconds),
 * while vt_events_latest_put_if_room refuses (to put back a batch that failed).
 * Memory is allocated once, at creation. Not thread-safe: callers hold their own lock.
 * It is the ingest's hot path (bench/location): one hash, one probe, one copy. */
typedef struct vt_events_latest vt_events_latest;

typedef enum {
    VT_EVENTS_LATEST_ADDED,     /* a vendor not yet in the table */
    VT_EVENTS_LATEST_COALESCED, /* replaced an older (or same-ts) position of the vendor */
    VT_EVENTS_LATEST_STALE,     /* older than the one held: ignored */
    VT_EVENTS_LATEST_FULL,      /* only from put_if_room: no room, not added */
} vt_events_latest_result;

typedef struct {
    size_t capacity; /* vendors held at most: 1 .. 2^30 */
} vt_events_latest_opts;

int vt_events_latest_new(const vt_events_latest_opts *opts, vt_events_latest **out, char *err,
                         size_t errlen);
void vt_events_latest_free(vt_events_latest *t);
size_t vt_events_latest_count(const vt_events_latest *t);
size_t vt_events_latest_capacity(const vt_events_latest *t);
/* Add or coalesce; when full, the oldest arrival is dropped first (*dropped += 1;
 * dropped may be NULL). */
vt_events_latest_result vt_events_latest_put(vt_events_latest *t, const vt_events_position *p,
                                             uint64_t *dropped);
/* The same with the arrival time given (ms on any clock that only goes forward; put
 * uses vt_monotonic_ns): a vendor added now arrived at arrived_ms, and a coalesced one
 * keeps the time it first arrived. Times must not go backwards between calls. */
vt_events_latest_result vt_events_latest_put_at(vt_events_latest *t, const vt_events_position *p,
                                                int64_t arrived_ms, uint64_t *dropped);
/* The same, but never drops anything to make room. */
vt_events_latest_result vt_events_latest_put_if_room(vt_events_latest *t,
                                                     const vt_events_position *p);
/* Move up to max positions, oldest arrival first, into out; returns how many. */
size_t vt_events_latest_take(vt_events_latest *t, vt_events_position *out, size_t max);
/* The same, but only vendors that first arrived at or before arrived_by_ms: what has
 * waited a whole interval (the location ingest writes each vendor at most once per
 * interval this way). */
size_t vt_events_latest_take_due(vt_events_latest *t, int64_t arrived_by_ms,
                                 vt_events_position *out, size_t max);
/* Move vendor_id's position, if one is held, into *out: true when there was one. */
bool vt_events_latest_take_vendor(vt_events_latest *t, const char *vendor_id,
                                  vt_events_position *out);
/* When the oldest arrival still held arrived (ms, as put_at), or -1 when empty. */
int64_t vt_events_latest_oldest_arrival(const vt_events_latest *t);

#endif
