/*
 * Unit tests of libs/events' receive side (receive.c): each consumer of loc.>,
 * vendor.<id>.status and evt.vendor.deleted now decodes through these, so they are
 * checked here against real packed payloads: a valid message of each kind, every field
 * out of range, a payload not its subject's, truncated and garbage protobuf, and the
 * left-cell classification.
 */
#include "vt_events.h"
#include "vt_test.h"

#include <math.h>
#include <string.h>

#define VID "0a1b2c3d-0000-4000-8000-00000000002a"
#define OTHER "0a1b2c3d-0000-4000-8000-00000000002b"
#define CELL "u09tvw"

static uint8_t buf[512];

static vt_events_position good(void)
{
    vt_events_position p = {.vendor_id = VID,
                            .lat = 48.8566,
                            .lng = 2.3522,
                            .heading = 90,
                            .speed = 3.5,
                            .accuracy = 5,
                            .ts = vt_now_ms() - 1000,
                            .live = true};
    return p;
}

static size_t pack_position(const vt_events_position *p, bool left_cell)
{
    Venta__Events__V1__VendorLocation l = vt_events_location(p);
    l.left_cell = left_cell;
    l.geohash = (char *)CELL;
    return venta__events__v1__vendor_location__pack(&l, buf);
}

static const char *subject_for(const char *cell, const char *vendor_id)
{
    static char subject[VT_EVENTS_SUBJECT_MAX];
    VT_REQUIRE(vt_events_loc_subject(cell, vendor_id, subject, sizeof subject) == VT_OK);
    return subject;
}

static vt_events_loc_kind decode(const vt_events_position *p)
{
    vt_events_position out;
    size_t n = pack_position(p, false);
    return vt_events_decode_location(subject_for(CELL, VID), buf, n, &out);
}

static void test_location_valid(void)
{
    vt_events_position in = good(), out;
    memset(&out, 0x55, sizeof out);
    size_t n = pack_position(&in, false);
    VT_CHECK_INT(vt_events_decode_location(subject_for(CELL, VID), buf, n, &out),
                 VT_EVENTS_LOC_POSITION);
    VT_CHECK_STR(out.vendor_id, VID);
    VT_CHECK(out.lat == in.lat && out.lng == in.lng && out.heading == in.heading);
    VT_CHECK(out.speed == in.speed && out.accuracy == in.accuracy);
    VT_CHECK_INT(out.ts, in.ts);
    VT_CHECK(out.live && !out.left_cell);
    VT_CHECK_STR(out.cell, CELL); /* the subject's */
    /* Without a subject nothing is checked against one and the cell is empty. */
    VT_CHECK_INT(vt_events_decode_location(NULL, buf, n, &out), VT_EVENTS_LOC_POSITION);
    VT_CHECK_STR(out.cell, "");
    /* Edges that are still valid. */
    in.heading = 359.99;
    in.speed = 1000;
    in.accuracy = 1e6;
    in.lat = -90;
    in.lng = 180;
    in.ts = vt_now_ms() + VT_EVENTS_MAX_AHEAD_MS - 10000;
    VT_CHECK_INT(decode(&in), VT_EVENTS_LOC_POSITION);
}

static void test_location_left_cell(void)
{
    vt_events_position in = good(), out;
    size_t n = pack_position(&in, true);
    /* Sent on the old cell: classified, and filled in like a position. */
    VT_CHECK_INT(vt_events_decode_location(subject_for("gcpvj0", VID), buf, n, &out),
                 VT_EVENTS_LOC_LEFT_CELL);
    VT_CHECK(out.left_cell);
    VT_CHECK_STR(out.cell, "gcpvj0");
    VT_CHECK_INT(out.ts, in.ts);
    /* An invalid copy is invalid, not a left-cell copy. */
    in.lat = 91;
    n = pack_position(&in, true);
    VT_CHECK_INT(vt_events_decode_location(subject_for("gcpvj0", VID), buf, n, &out),
                 VT_EVENTS_LOC_INVALID);
}

static void test_location_invalid_fields(void)
{
    vt_events_position p;
#define BAD(stmt)                                                                                  \
    do {                                                                                           \
        p = good();                                                                                \
        stmt;                                                                                      \
        VT_CHECK_INT(decode(&p), VT_EVENTS_LOC_INVALID);                                           \
    } while (0)
    BAD(snprintf(p.vendor_id, sizeof p.vendor_id, "not-a-uuid"));
    BAD(p.vendor_id[0] = '\0');
    BAD(p.vendor_id[8] = 'x');
    BAD(p.lat = 90.0001);
    BAD(p.lat = -91);
    BAD(p.lat = NAN);
    BAD(p.lng = 180.5);
    BAD(p.lng = -181);
    BAD(p.lng = INFINITY);
    BAD(p.heading = 360);
    BAD(p.heading = -0.5);
    BAD(p.heading = NAN);
    BAD(p.speed = -1);
    BAD(p.speed = 1000.5);
    BAD(p.speed = INFINITY);
    BAD(p.accuracy = -0.1);
    BAD(p.accuracy = 1e6 + 1);
    BAD(p.accuracy = NAN);
    BAD(p.ts = 0);
    BAD(p.ts = -5);
    BAD(p.ts = INT64_C(32503680000001));
    BAD(p.ts = vt_now_ms() + VT_EVENTS_MAX_AHEAD_MS + 60000);
#undef BAD
}

static void test_location_not_its_subject(void)
{
    vt_events_position in = good(), out;
    size_t n = pack_position(&in, false);
    VT_CHECK_INT(vt_events_decode_location(subject_for(CELL, OTHER), buf, n, &out),
                 VT_EVENTS_LOC_INVALID);
    VT_CHECK_INT(vt_events_decode_location("loc.u.0.9", buf, n, &out), VT_EVENTS_LOC_INVALID);
    VT_CHECK_INT(vt_events_decode_location("vendor." VID ".status", buf, n, &out),
                 VT_EVENTS_LOC_INVALID);
    VT_CHECK_INT(vt_events_decode_location("", buf, n, &out), VT_EVENTS_LOC_INVALID);
}

static void test_location_garbage(void)
{
    vt_events_position in = good(), out;
    in.live = false;
    /* ts is then the last field packed: every truncation breaks a field or loses ts. */
    Venta__Events__V1__VendorLocation l = vt_events_location(&in);
    size_t n = venta__events__v1__vendor_location__pack(&l, buf);
    const char *subject = subject_for(CELL, VID);
    VT_CHECK_INT(vt_events_decode_location(subject, buf, n, &out), VT_EVENTS_LOC_POSITION);
    for (size_t cut = 1; cut < n; cut++)
        VT_CHECK_INT(vt_events_decode_location(subject, buf, n - cut, &out), VT_EVENTS_LOC_INVALID);
    VT_CHECK_INT(vt_events_decode_location(subject, "\xff\xff\xff garbage", 12, &out),
                 VT_EVENTS_LOC_INVALID);
    VT_CHECK_INT(vt_events_decode_location(subject, "", 0, &out), VT_EVENTS_LOC_INVALID);
    /* A message of another kind: its fields land in the wrong places. */
    Venta__Events__V1__VendorStatus st = VENTA__EVENTS__V1__VENDOR_STATUS__INIT;
    st.vendor_id = (char *)VID;
    st.online = true;
    n = venta__events__v1__vendor_status__pack(&st, buf);
    VT_CHECK_INT(vt_events_decode_location(subject, buf, n, &out), VT_EVENTS_LOC_INVALID);
}

static size_t pack_status(const char *vendor_id, bool online, int64_t ts, int64_t last_ts)
{
    Venta__Events__V1__VendorStatus st = VENTA__EVENTS__V1__VENDOR_STATUS__INIT;
    st.vendor_id = (char *)vendor_id;
    st.online = online;
    st.ts = ts;
    st.last_ts = last_ts;
    return venta__events__v1__vendor_status__pack(&st, buf);
}

static void test_status(void)
{
    vt_events_status out;
    const char *subject = "vendor." VID ".status";
    size_t n = pack_status(VID, false, 1000, 900);
    VT_CHECK_INT(vt_events_decode_status(subject, buf, n, &out), VT_OK);
    VT_CHECK_STR(out.vendor_id, VID);
    VT_CHECK(!out.online);
    VT_CHECK_INT(out.ts, 1000);
    VT_CHECK_INT(out.last_ts, 900);
    n = pack_status(VID, true, 0, 0); /* times left out: passed on as 0 */
    VT_CHECK_INT(vt_events_decode_status(subject, buf, n, &out), VT_OK);
    VT_CHECK(out.online);
    VT_CHECK_INT(out.ts, 0);
    n = pack_status(OTHER, true, 1000, 0);
    VT_CHECK_INT(vt_events_decode_status(subject, buf, n, &out), VT_INVALID_ARGUMENT);
    n = pack_status(VID, true, 1000, 0);
    VT_CHECK_INT(vt_events_decode_status("vendor.x.status", buf, n, &out), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_events_decode_status("vendor." VID ".online", buf, n, &out),
                 VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_events_decode_status(NULL, buf, n, &out), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_events_decode_status(subject, buf, n - 1, &out), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_events_decode_status(subject, "\xff\xff\xff garbage", 12, &out),
                 VT_INVALID_ARGUMENT);
}

static size_t pack_event(const char *vendor_id)
{
    Venta__Events__V1__VendorEvent ev = VENTA__EVENTS__V1__VENDOR_EVENT__INIT;
    ev.type = (char *)"vendor.deleted";
    ev.vendor_id = (char *)vendor_id;
    ev.ts = 1000;
    return venta__events__v1__vendor_event__pack(&ev, buf);
}

static void test_deleted(void)
{
    char id[VT_UUID_LEN + 1];
    size_t n = pack_event(VID);
    VT_CHECK_INT(vt_events_decode_deleted(buf, n, id), VT_OK);
    VT_CHECK_STR(id, VID);
    n = pack_event("ABCDEF00-0000-4000-8000-000000000003"); /* as sent: case is the caller's */
    VT_CHECK_INT(vt_events_decode_deleted(buf, n, id), VT_OK);
    VT_CHECK_STR(id, "ABCDEF00-0000-4000-8000-000000000003");
    n = pack_event("not-a-uuid");
    VT_CHECK_INT(vt_events_decode_deleted(buf, n, id), VT_INVALID_ARGUMENT);
    n = pack_event("");
    VT_CHECK_INT(vt_events_decode_deleted(buf, n, id), VT_INVALID_ARGUMENT);
    n = pack_event(VID);
    VT_CHECK_INT(vt_events_decode_deleted(buf, n - 4, id), VT_INVALID_ARGUMENT); /* into the id */
    VT_CHECK_INT(vt_events_decode_deleted("\xff\xff\xff garbage", 12, id), VT_INVALID_ARGUMENT);
}

int main(void)
{
    VT_RUN(test_location_valid);
    VT_RUN(test_location_left_cell);
    VT_RUN(test_location_invalid_fields);
    VT_RUN(test_location_not_its_subject);
    VT_RUN(test_location_garbage);
    VT_RUN(test_status);
    VT_RUN(test_deleted);
    return VT_TEST_RESULT();
}
