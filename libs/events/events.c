/*
 * events.c — building, checking and publishing the NATS subjects and payloads of
 * API.md §6 (see vt_events.h). Payloads are packed on the stack when small (a
 * VendorLocation is under 200 bytes) so the hot publish path does not allocate.
 */
#include "vt_events.h"

#include "vt_core.h"
#include "vt_geo.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int vt_events_cell_subject(const char *cell, char *out, size_t outlen)
{
    size_t n = cell ? strlen(cell) : 0;
    if (n < 1 || n > VT_EVENTS_CELL_PRECISION || !vt_geo_hash_valid(cell))
        return VT_INVALID_ARGUMENT;
    char tokens[2 * VT_EVENTS_CELL_PRECISION + 1];
    if (vt_geo_subject_tokens(cell, tokens, sizeof tokens) != VT_OK)
        return VT_INVALID_ARGUMENT;
    /* A full-precision cell still needs ".>" before nothing: the vendor id follows. */
    int w = snprintf(out, outlen, "loc.%s.>", tokens);
    return w > 0 && (size_t)w < outlen ? VT_OK : VT_OUT_OF_RANGE;
}

int vt_events_loc_subject(const char *cell, const char *vendor_id, char *out, size_t outlen)
{
    if (!cell || strlen(cell) != VT_EVENTS_CELL_PRECISION || !vt_geo_hash_valid(cell) ||
        !vt_uuid_valid(vendor_id))
        return VT_INVALID_ARGUMENT;
    char tokens[2 * VT_EVENTS_CELL_PRECISION + 1];
    vt_geo_subject_tokens(cell, tokens, sizeof tokens);
    int w = snprintf(out, outlen, "loc.%s.%s", tokens, vendor_id);
    return w > 0 && (size_t)w < outlen ? VT_OK : VT_OUT_OF_RANGE;
}

int vt_events_status_subject(const char *vendor_id, char *out, size_t outlen)
{
    if (!vt_uuid_valid(vendor_id))
        return VT_INVALID_ARGUMENT;
    int w = snprintf(out, outlen, "vendor.%s.status", vendor_id);
    return w > 0 && (size_t)w < outlen ? VT_OK : VT_OUT_OF_RANGE;
}

int vt_events_parse_loc_subject(const char *subject, char *cell, char *vendor_id)
{
    /* loc. + 6 × "c." + uuid */
    if (!subject || strncmp(subject, "loc.", 4) != 0 ||
        strlen(subject) != 4 + 2 * VT_EVENTS_CELL_PRECISION + VT_UUID_LEN)
        return VT_INVALID_ARGUMENT;
    const char *p = subject + 4;
    for (int i = 0; i < VT_EVENTS_CELL_PRECISION; i++) {
        if (p[2 * i + 1] != '.')
            return VT_INVALID_ARGUMENT;
        cell[i] = p[2 * i];
    }
    cell[VT_EVENTS_CELL_PRECISION] = '\0';
    const char *id = p + 2 * VT_EVENTS_CELL_PRECISION;
    if (!vt_geo_hash_valid(cell) || !vt_uuid_valid(id))
        return VT_INVALID_ARGUMENT;
    memcpy(vendor_id, id, VT_UUID_LEN + 1);
    return VT_OK;
}

int vt_events_parse_status_subject(const char *subject, char *vendor_id)
{
    if (!subject || strlen(subject) != 7 + VT_UUID_LEN + 7 || strncmp(subject, "vendor.", 7) != 0 ||
        strcmp(subject + 7 + VT_UUID_LEN, ".status") != 0)
        return VT_INVALID_ARGUMENT;
    memcpy(vendor_id, subject + 7, VT_UUID_LEN);
    vendor_id[VT_UUID_LEN] = '\0';
    return vt_uuid_valid(vendor_id) ? VT_OK : VT_INVALID_ARGUMENT;
}

Venta__Events__V1__VendorLocation vt_events_location(const vt_events_position *p)
{
    Venta__Events__V1__VendorLocation loc = VENTA__EVENTS__V1__VENDOR_LOCATION__INIT;
    loc.vendor_id = (char *)p->vendor_id;
    loc.lat = p->lat;
    loc.lng = p->lng;
    loc.heading = p->heading;
    loc.speed = p->speed;
    loc.accuracy = p->accuracy;
    loc.ts = p->ts;
    loc.live = p->live;
    return loc;
}

int vt_events_position_valid(const vt_events_position *p, char *err, size_t errlen)
{
    if (!vt_uuid_valid(p->vendor_id)) {
        snprintf(err, errlen, "vendorId must be a UUID");
        return VT_INVALID_ARGUMENT;
    }
    if (!vt_geo_point_valid(p->lat, p->lng)) {
        snprintf(err, errlen, "lat must be in [-90, 90] and lng in [-180, 180]");
        return VT_INVALID_ARGUMENT;
    }
    if (!isfinite(p->heading) || p->heading < 0 || p->heading >= 360) {
        snprintf(err, errlen, "heading must be in [0, 360)");
        return VT_INVALID_ARGUMENT;
    }
    if (!isfinite(p->speed) || p->speed < 0 || p->speed > 1000) {
        snprintf(err, errlen, "speed must be between 0 and 1000 m/s");
        return VT_INVALID_ARGUMENT;
    }
    if (!isfinite(p->accuracy) || p->accuracy < 0 || p->accuracy > 1e6) {
        snprintf(err, errlen, "accuracy must be between 0 and 1000000 m");
        return VT_INVALID_ARGUMENT;
    }
    if (p->ts <= 0 || p->ts > INT64_C(32503680000000)) { /* before year 3000 */
        snprintf(err, errlen, "ts must be Unix epoch milliseconds");
        return VT_INVALID_ARGUMENT;
    }
    /* A fix from the future would win over every real one after it (newer wins) and
     * stay fresh for as long: a phone with a wrong clock must not freeze its vendor. */
    if (p->ts > vt_now_ms() + VT_EVENTS_MAX_AHEAD_MS) {
        snprintf(err, errlen, "ts must not be more than %d s ahead of the server's clock",
                 VT_EVENTS_MAX_AHEAD_MS / 1000);
        return VT_INVALID_ARGUMENT;
    }
    return VT_OK;
}

int vt_events_publish_message(vt_bus *bus, const char *subject, const ProtobufCMessage *msg)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    unsigned char stack[512];
    unsigned char *buf = len <= sizeof stack ? stack : malloc(len);
    if (!buf)
        return VT_RESOURCE_EXHAUSTED;
    protobuf_c_message_pack(msg, buf);
    int rc = vt_bus_publish(bus, subject, buf, len);
    if (buf != stack)
        free(buf);
    return rc;
}

int vt_events_publish_location(vt_bus *bus, const vt_events_position *pos,
                               const char *previous_cell, char *cell_out)
{
    char err[128];
    int rc = vt_events_position_valid(pos, err, sizeof err);
    if (rc != VT_OK)
        return rc;
    char cell[VT_EVENTS_CELL_PRECISION + 1], subject[VT_EVENTS_SUBJECT_MAX];
    vt_geo_hash_encode(pos->lat, pos->lng, VT_EVENTS_CELL_PRECISION, cell);
    if (cell_out)
        memcpy(cell_out, cell, sizeof cell);
    Venta__Events__V1__VendorLocation loc = vt_events_location(pos);
    loc.geohash = cell;
    rc = vt_events_loc_subject(cell, pos->vendor_id, subject, sizeof subject);
    if (rc == VT_OK)
        rc = vt_events_publish_message(bus, subject, &loc.base);
    bool moved =
        previous_cell && *previous_cell && strcmp(previous_cell, cell) != 0 &&
        vt_events_loc_subject(previous_cell, pos->vendor_id, subject, sizeof subject) == VT_OK;
    if (rc == VT_OK && moved) {
        loc.left_cell = true;
        loc.previous_cell = (char *)previous_cell;
        rc = vt_events_publish_message(bus, subject, &loc.base);
    }
    return rc;
}

int vt_events_publish_status(vt_bus *bus, const char *vendor_id, bool online, int64_t ts_ms,
                             int64_t last_ts_ms)
{
    char subject[VT_EVENTS_SUBJECT_MAX];
    int rc = vt_events_status_subject(vendor_id, subject, sizeof subject);
    if (rc != VT_OK)
        return rc;
    Venta__Events__V1__VendorStatus st = VENTA__EVENTS__V1__VENDOR_STATUS__INIT;
    st.vendor_id = (char *)vendor_id;
    st.online = online;
    st.ts = ts_ms;
    st.last_ts = last_ts_ms;
    return vt_events_publish_message(bus, subject, &st.base);
}

vt_bus_stream_opts vt_events_stream(int replicas)
{
    return (vt_bus_stream_opts){.name = VT_EVENTS_STREAM,
                                .subjects = VT_EVENTS_STREAM_SUBJECTS,
                                .max_age_ms = 7LL * 24 * 3600 * 1000,
                                .max_bytes = 1LL << 30,
                                .max_msgs = 1000000,
                                .replicas = replicas > 0 ? replicas : 1,
                                .duplicate_window_ms = 120000};
}

void vt_events_log_position(const char *what, const vt_events_position *p)
{
    vt_log_level level = vt_trace_hop_level(vt_trace_current());
    if (vt_log_enabled(level))
        vt_log(level, NULL, "%s: vendor %s fix ts %lld on cell %s", what, p->vendor_id,
               (long long)p->ts, p->cell);
}
