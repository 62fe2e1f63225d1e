/*
 * messages.c — see messages.h.
 */
#include "messages.h"

#include "venta/events/v1/events.pb-c.h"
#include "vt_core.h"
#include "vt_events.h"

#include <string.h>

message_result message_location(const void *data, size_t len, loc_update *out)
{
    Venta__Events__V1__VendorLocation *msg =
        venta__events__v1__vendor_location__unpack(NULL, len, data);
    char err[128];
    message_result r = MESSAGE_OK;
    if (!msg || vt_events_location_valid(msg, err, sizeof err) != VT_OK)
        r = MESSAGE_INVALID;
    else if (msg->left_cell)
        r = MESSAGE_REPEAT;
    if (r == MESSAGE_OK) {
        *out = (loc_update){.lat = msg->lat, .lng = msg->lng, .heading = msg->heading,
                            .speed = msg->speed, .accuracy = msg->accuracy, .ts = msg->ts,
                            .live = msg->live};
        memcpy(out->vendor_id, msg->vendor_id, VT_UUID_LEN + 1);
    }
    if (msg)
        venta__events__v1__vendor_location__free_unpacked(msg, NULL);
    return r;
}

static bool message_status(const char *subject, const void *data, size_t len,
                           presence_change *out)
{
    char vendor_id[VT_UUID_LEN + 1];
    Venta__Events__V1__VendorStatus *msg = venta__events__v1__vendor_status__unpack(NULL, len, data);
    bool ok = msg && vt_events_parse_status_subject(subject, vendor_id) == VT_OK &&
              strcmp(msg->vendor_id, vendor_id) == 0;
    if (ok) {
        *out = (presence_change){.online = msg->online,
                                 .ts = msg->ts > 0 ? msg->ts : vt_now_ms(),
                                 .last_ts = msg->last_ts > 0 ? msg->last_ts : 0};
        memcpy(out->vendor_id, vendor_id, sizeof out->vendor_id);
    }
    if (msg)
        venta__events__v1__vendor_status__free_unpacked(msg, NULL);
    return ok;
}

static bool message_deleted(const void *data, size_t len, presence_change *out)
{
    Venta__Events__V1__VendorEvent *msg = venta__events__v1__vendor_event__unpack(NULL, len, data);
    bool ok = msg && vt_uuid_valid(msg->vendor_id);
    if (ok) {
        *out = (presence_change){.removed = true, .ts = vt_now_ms()};
        memcpy(out->vendor_id, msg->vendor_id, sizeof out->vendor_id);
    }
    if (msg)
        venta__events__v1__vendor_event__free_unpacked(msg, NULL);
    return ok;
}

bool message_presence(const char *subject, const void *data, size_t len, presence_change *out)
{
    return strcmp(subject, MESSAGE_DELETED_SUBJECT) == 0 ? message_deleted(data, len, out)
                                                         : message_status(subject, data, len, out);
}
