/*
 * receive.c — the consumer's side of API.md §6: decoding and checking what arrives on
 * loc.>, vendor.<id>.status and evt.vendor.deleted (see vt_events.h).
 *
 * Every consumer (the location ingest and live map, the vendor's location cache, the
 * WebSocket fan-out) used to unpack and check these on its own, each a little
 * differently. Here the checks are the strictest any of them made: a position passes
 * vt_events_position_valid (what the publishers check, so a message on the bus that
 * fails it did not come through vt_events_publish_location) and, given its subject,
 * must be the subject's vendor; a status must be its subject's vendor.
 * The protobuf message lives only inside these functions: callers get plain structs.
 */
#include "vt_events.h"

#include <string.h>

vt_events_loc_kind vt_events_decode_location(const char *subject, const void *data, size_t len,
                                             vt_events_position *out)
{
    char cell[VT_EVENTS_CELL_PRECISION + 1] = "", subject_id[VT_UUID_LEN + 1];
    if (subject && vt_events_parse_loc_subject(subject, cell, subject_id) != VT_OK)
        return VT_EVENTS_LOC_INVALID;
    Venta__Events__V1__VendorLocation *msg =
        venta__events__v1__vendor_location__unpack(NULL, len, data);
    if (!msg)
        return VT_EVENTS_LOC_INVALID;
    vt_events_loc_kind kind = VT_EVENTS_LOC_INVALID;
    /* vt_uuid_valid first: it bounds the id before the copy. */
    if (vt_uuid_valid(msg->vendor_id) && (!subject || strcmp(msg->vendor_id, subject_id) == 0)) {
        *out = (vt_events_position){.lat = msg->lat,
                                    .lng = msg->lng,
                                    .heading = msg->heading,
                                    .speed = msg->speed,
                                    .accuracy = msg->accuracy,
                                    .ts = msg->ts,
                                    .live = msg->live,
                                    .left_cell = msg->left_cell};
        memcpy(out->vendor_id, msg->vendor_id, sizeof out->vendor_id);
        memcpy(out->cell, cell, sizeof out->cell);
        char err[128];
        if (vt_events_position_valid(out, err, sizeof err) == VT_OK)
            kind = out->left_cell ? VT_EVENTS_LOC_LEFT_CELL : VT_EVENTS_LOC_POSITION;
    }
    venta__events__v1__vendor_location__free_unpacked(msg, NULL);
    return kind;
}

int vt_events_decode_status(const char *subject, const void *data, size_t len,
                            vt_events_status *out)
{
    char vendor_id[VT_UUID_LEN + 1];
    if (!subject || vt_events_parse_status_subject(subject, vendor_id) != VT_OK)
        return VT_INVALID_ARGUMENT;
    Venta__Events__V1__VendorStatus *msg =
        venta__events__v1__vendor_status__unpack(NULL, len, data);
    if (!msg)
        return VT_INVALID_ARGUMENT;
    bool ok = msg->vendor_id && strcmp(msg->vendor_id, vendor_id) == 0;
    if (ok) {
        *out = (vt_events_status){.online = msg->online, .ts = msg->ts, .last_ts = msg->last_ts};
        memcpy(out->vendor_id, vendor_id, sizeof out->vendor_id);
    }
    venta__events__v1__vendor_status__free_unpacked(msg, NULL);
    return ok ? VT_OK : VT_INVALID_ARGUMENT;
}

int vt_events_decode_deleted(const void *data, size_t len, char *vendor_id)
{
    Venta__Events__V1__VendorEvent *msg = venta__events__v1__vendor_event__unpack(NULL, len, data);
    if (!msg)
        return VT_INVALID_ARGUMENT;
    bool ok = vt_uuid_valid(msg->vendor_id);
    if (ok)
        memcpy(vendor_id, msg->vendor_id, VT_UUID_LEN + 1);
    venta__events__v1__vendor_event__free_unpacked(msg, NULL);
    return ok ? VT_OK : VT_INVALID_ARGUMENT;
}
