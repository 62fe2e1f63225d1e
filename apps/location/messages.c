/*
 * messages.c — see messages.h. The decoding and its checks are libs/events'; what is
 * venta-location's own is the arrival time standing in for a status without one.
 */
#include "messages.h"

#include "vt_events.h"

#include <string.h>

bool message_presence(const char *subject, const void *data, size_t len, presence_change *out)
{
    if (strcmp(subject, VT_EVENTS_VENDOR_DELETED) == 0) {
        *out = (presence_change){.removed = true, .ts = vt_now_ms()};
        return vt_events_decode_deleted(data, len, out->vendor_id) == VT_OK;
    }
    vt_events_status st;
    if (vt_events_decode_status(subject, data, len, &st) != VT_OK)
        return false;
    *out = (presence_change){.online = st.online,
                             .ts = st.ts > 0 ? st.ts : vt_now_ms(),
                             .last_ts = st.last_ts > 0 ? st.last_ts : 0};
    memcpy(out->vendor_id, st.vendor_id, sizeof out->vendor_id);
    return true;
}
