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
 */
#ifndef VT_EVENTS_H
#define VT_EVENTS_H

#include "venta/events/v1/events.pb-c.h"
#include "vt_bus.h"

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

/* A VendorLocation holding these fields (vendor_id is borrowed, not copied). */
Venta__Events__V1__VendorLocation vt_events_location(const char *vendor_id, double lat, double lng,
                                                     double heading, double speed,
                                                     double accuracy, int64_t ts_ms);

/* How far ahead of this process's clock a position's ts may be (phone clocks drift). */
#define VT_EVENTS_MAX_AHEAD_MS 300000
/* Check a position before it goes anywhere: vendor id a UUID, coordinates valid, heading
 * in [0,360) or unset, speed and accuracy finite and >= 0, ts > 0 and at most
 * VT_EVENTS_MAX_AHEAD_MS ahead of now. */
int vt_events_location_valid(const Venta__Events__V1__VendorLocation *loc, char *err,
                             size_t errlen);

/* Publish loc (its geohash and left-cell fields are filled in here) on its cell and,
 * when previous_cell (may be NULL or "") differs, a left_cell copy on that old cell.
 * cell_out (7 bytes, may be NULL) receives the new cell. */
int vt_events_publish_location(vt_bus *bus, Venta__Events__V1__VendorLocation *loc,
                               const char *previous_cell, char *cell_out);
/* vendor.<id>.status with online and ts; last_ts_ms: see VendorStatus.last_ts (0 for an
 * online status or when unknown). */
int vt_events_publish_status(vt_bus *bus, const char *vendor_id, bool online, int64_t ts_ms,
                             int64_t last_ts_ms);
/* Any protobuf message on subject (domain events evt.*). */
int vt_events_publish_message(vt_bus *bus, const char *subject, const ProtobufCMessage *msg);

#endif
