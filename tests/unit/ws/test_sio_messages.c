/*
 * Unit tests of the translation between the original Venta apps' socket.io events and
 * venta.v1.json (apps/ws-gateway/sio_messages.c), both ways, on the real code of each
 * side of it.
 *
 * In: an app's event argument goes through sio_msg_to_ws, and its /ws text through
 * msg_parse (ws_messages.c, what client.c runs on it), so a test sees what the gateway
 * would act on: the box of a watch.bounds, the position of a location, or the refusal.
 * A refusal is then sent the way sio_client.c and client.c send it (msg_encode_error
 * with the request's ref, through sio_msg_from_ws), so the test checks the exact error
 * event an app receives: 42<nsp>,["error",{"code":…,"message":…}].
 *
 * Out: server messages are made by the gateway's own encoders (msg_encode_position,
 * _leave, _status, _ack, _error, and a snapshot as snapshot.c writes it) and the test
 * compares the whole Engine.IO message text with what the original server sent.
 */
#include "sio_messages.h"
#include "vt_core.h"
#include "vt_sio.h"
#include "vt_test.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define V1 "6f1c1a52-3b8e-4c1e-9a57-2b9d3c4e5f60"
#define V2 "0b7e8d2a-9c41-4f3b-8e2d-5a6b7c8d9e0f"
#define V3 "a3f0c9e1-2d4b-4c6a-8b7e-1f2a3b4c5d6e"

/* ----------------------------------------------------------------- helpers */

static char text_of_buf[4096];

/* m's text (NUL-terminated, in a static buffer), "(null)" for NULL; m is released. */
static const char *text_of(msgbuf *m)
{
    if (!m)
        return "(null)";
    snprintf(text_of_buf, sizeof text_of_buf, "%.*s", (int)m->len, m->data);
    msg_unref(m);
    return text_of_buf;
}

/* A /ws server message from its JSON text, as snapshot.c and the encoders make them. */
static msgbuf *ws(const char *text)
{
    size_t len = strlen(text);
    msgbuf *m = msg_new(len);
    VT_REQUIRE(m);
    memcpy(m->data, text, len);
    m->len = (uint32_t)len;
    return m;
}

/* sio_msg_from_ws of m, m released: the Engine.IO text the app receives. */
static const char *out(msgbuf *m, const char *viewer_nsp)
{
    VT_REQUIRE(m);
    msgbuf *o = sio_msg_from_ws(m, viewer_nsp);
    msg_unref(m);
    return text_of(o);
}

/* The error event for a refused request (code, message, the request's ref string), as
 * sio_client.c's refuse and client.c send it. */
static const char *refusal(const char *code, const char *message, const char *ref)
{
    char jref[128];
    snprintf(jref, sizeof jref, "\"%s\"", ref);
    return out(msg_encode_error(code, message, jref), "/user");
}

typedef struct {
    int status;     /* of sio_msg_to_ws */
    int parse;      /* of msg_parse, when sio_msg_to_ws gave text */
    client_msg msg; /* what client.c acts on */
    json_t *doc;    /* the /ws text, parsed */
    char err[200];
} inbound;

/* An app's event with argument arg_json (NULL: none) through sio_msg_to_ws and then
 * msg_parse, with ref "<nsp>#<ack>". */
static void in(inbound *r, const char *event, const char *arg_json, const char *vendor_default,
               const char *ref)
{
    *r = (inbound){.parse = -1};
    json_t *arg = arg_json ? json_loads(arg_json, JSON_DECODE_ANY, NULL) : NULL;
    VT_REQUIRE(!arg_json || arg);
    char *text = sio_msg_to_ws(event, arg, vendor_default, ref, &r->status, r->err, sizeof r->err);
    json_decref(arg);
    VT_CHECK((text != NULL) == (r->status == VT_OK));
    if (!text)
        return;
    r->doc = json_loads(text, 0, NULL);
    VT_CHECK(r->doc != NULL);
    r->parse = msg_parse(text, strlen(text), &r->msg, r->err, sizeof r->err);
    free(text);
}

static void in_done(inbound *r)
{
    if (r->parse >= 0)
        msg_parse_done(&r->msg);
    json_decref(r->doc);
}

/* ------------------------------------------------------------- small pieces */

static void test_ref(void)
{
    char ref[64];
    sio_msg_ref("/user", 5, ref, sizeof ref);
    VT_CHECK_STR(ref, "/user#5");
    sio_msg_ref("/", 0, ref, sizeof ref);
    VT_CHECK_STR(ref, "/#0");
    sio_msg_ref("/vendor", -1, ref, sizeof ref);
    VT_CHECK_STR(ref, "/vendor#");
}

static void test_event_and_error_json(void)
{
    VT_CHECK_STR(text_of(sio_msg_event("/user", "vendor_disconnect", "{\"id\":\"x\"}", 10)),
                 "42/user,[\"vendor_disconnect\",{\"id\":\"x\"}]");
    VT_CHECK_STR(text_of(sio_msg_event("/", "e", "[]", 2)), "42[\"e\",[]]");
    char *e = sio_msg_error_json("NOT_FOUND", "no \"such\" vendor");
    VT_CHECK_STR(e, "{\"code\":\"NOT_FOUND\",\"message\":\"no \\\"such\\\" vendor\"}");
    free(e);
    e = sio_msg_error_json(NULL, NULL);
    VT_CHECK_STR(e, "{\"code\":\"INTERNAL\",\"message\":\"\"}");
    free(e);
}

/* ------------------------------------------------------------------------- in */

static void test_update_user_location(void)
{
    inbound r;
    in(&r, "updateUserLocation",
       "{\"neLocation\":{\"lat\":40.8,\"long\":-73.9},\"swLocation\":{\"lat\":40.7,\"long\":-74.1}"
       "}",
       NULL, "/user#3");
    VT_CHECK_INT(r.status, VT_OK);
    VT_CHECK_INT(r.parse, VT_OK);
    VT_CHECK_INT(r.msg.op, OP_WATCH_BOUNDS);
    VT_CHECK_NEAR(r.msg.box.ne.lat, 40.8, 0);
    VT_CHECK_NEAR(r.msg.box.ne.lng, -73.9, 0);
    VT_CHECK_NEAR(r.msg.box.sw.lat, 40.7, 0);
    VT_CHECK_NEAR(r.msg.box.sw.lng, -74.1, 0);
    VT_CHECK_STR(r.msg.ref, "\"/user#3\""); /* the ref rides through /ws as JSON text */
    /* long → lng: no `long` is left in what /ws sees */
    VT_CHECK(json_object_get(json_object_get(r.doc, "ne"), "long") == NULL);
    VT_CHECK_STR(json_string_value(json_object_get(r.doc, "op")), "watch.bounds");
    in_done(&r);

    /* `lng` as the apps' later builds send it, integers as numbers */
    in(&r, "updateUserLocation",
       "{\"neLocation\":{\"lat\":1,\"lng\":2},\"swLocation\":{\"lat\":0,\"lng\":1}}", NULL, "/#");
    VT_CHECK_INT(r.parse, VT_OK);
    VT_CHECK_NEAR(r.msg.box.ne.lng, 2, 0);
    VT_CHECK_NEAR(r.msg.box.sw.lat, 0, 0);
    in_done(&r);
}

static void test_update_user_location_malformed(void)
{
    static const char *const bad_args[] = {
        NULL, /* no argument */
        "[]",
        "\"40.7,-74\"",
        "{}",
        "{\"neLocation\":{\"lat\":1,\"long\":2}}",
        "{\"swLocation\":{\"lat\":1,\"long\":2}}",
        "{\"neLocation\":{\"lat\":\"1\",\"long\":2},\"swLocation\":{\"lat\":0,\"long\":1}}",
        "{\"neLocation\":{\"lat\":1,\"long\":null},\"swLocation\":{\"lat\":0,\"long\":1}}",
        "{\"neLocation\":{\"lat\":1},\"swLocation\":{\"lat\":0,\"long\":1}}",
        "{\"neLocation\":[1,2],\"swLocation\":{\"lat\":0,\"long\":1}}",
        "{\"neLocation\":{\"lat\":1,\"long\":2},\"swLocation\":{\"lat\":true,\"long\":1}}",
    };
    for (size_t i = 0; i < sizeof bad_args / sizeof bad_args[0]; i++) {
        inbound r;
        in(&r, "updateUserLocation", bad_args[i], NULL, "/user#4");
        VT_CHECK_INT(r.status, VT_INVALID_ARGUMENT);
        if (r.status != VT_INVALID_ARGUMENT)
            fprintf(stderr, "  arg: %s\n", bad_args[i] ? bad_args[i] : "(none)");
        VT_CHECK(strstr(r.err, "neLocation") != NULL);
        in_done(&r);
    }
    VT_CHECK_STR(refusal("INVALID_ARGUMENT", "updateUserLocation needs neLocation", "/user#4"),
                 "42/user,[\"error\",{\"code\":\"INVALID_ARGUMENT\","
                 "\"message\":\"updateUserLocation needs neLocation\"}]");
}

/* Numbers that are numbers but not places: sio_msg_to_ws passes them on and /ws's
 * own checks refuse them, with the message an app then receives. */
static void test_out_of_range(void)
{
    static const struct {
        const char *event, *arg, *says;
    } cases[] = {
        {"updateUserLocation",
         "{\"neLocation\":{\"lat\":91,\"long\":0},\"swLocation\":{\"lat\":0,\"long\":0}}",
         "ne must have lat in [-90, 90]"},
        {"updateUserLocation",
         "{\"neLocation\":{\"lat\":1,\"long\":0},\"swLocation\":{\"lat\":0,\"long\":-180.5}}",
         "sw must have lat in [-90, 90]"},
        {"updateUserLocation",
         "{\"neLocation\":{\"lat\":1,\"long\":0},\"swLocation\":{\"lat\":2,\"long\":0}}",
         "ne.lat must be >= sw.lat"},
        {"updateVendorLocation", "{\"lat\":-90.01,\"long\":0,\"vendorId\":\"" V1 "\"}", "lat"},
        {"updateVendorLocation", "{\"lat\":0,\"long\":181,\"vendorId\":\"" V1 "\"}", "lng"},
        {"updateVendorLocation", "{\"lat\":0,\"long\":0,\"vendorId\":\"not-a-uuid\"}", "vendorId"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        inbound r;
        in(&r, cases[i].event, cases[i].arg, NULL, "/vendor#9");
        VT_CHECK_INT(r.status, VT_OK);
        VT_CHECK_INT(r.parse, VT_INVALID_ARGUMENT);
        VT_CHECK(strstr(r.err, cases[i].says) != NULL);
        if (r.parse != VT_INVALID_ARGUMENT || !strstr(r.err, cases[i].says))
            fprintf(stderr, "  case %zu: %s\n", i, r.err);
        in_done(&r);
    }
    /* The answer: the error event on the request's namespace, not an ack. */
    const char *e = refusal("INVALID_ARGUMENT", "lat must be in [-90, 90]", "/vendor#9");
    VT_CHECK_STR(e, "42/vendor,[\"error\",{\"code\":\"INVALID_ARGUMENT\","
                    "\"message\":\"lat must be in [-90, 90]\"}]");
}

/* NaN, Infinity and overflowing numbers are not JSON: the event itself is refused
 * before any translation (vt_sio_event_decode, as sio_client.c runs it). */
static void test_not_numbers(void)
{
    static const char *const packets[] = {
        "2/vendor,5[\"updateVendorLocation\",{\"lat\":NaN,\"long\":0}]",
        "2/vendor,5[\"updateVendorLocation\",{\"lat\":Infinity,\"long\":0}]",
        "2/vendor,5[\"updateVendorLocation\",{\"lat\":1e400,\"long\":0}]",
    };
    for (size_t i = 0; i < sizeof packets / sizeof packets[0]; i++) {
        vt_sio_packet p;
        char err[200], name[64];
        json_t *args = NULL;
        int rc = vt_sio_decode(packets[i], strlen(packets[i]), &p, err, sizeof err);
        if (rc == VT_OK)
            rc = vt_sio_event_decode(&p, name, sizeof name, &args, err, sizeof err);
        VT_CHECK_INT(rc, VT_INVALID_ARGUMENT);
        json_decref(args);
    }
}

static void test_update_vendor_location(void)
{
    inbound r;
    in(&r, "updateVendorLocation", "{\"lat\":40.75,\"long\":-73.98,\"vendorId\":\"" V1 "\"}", V2,
       "/vendor#1");
    VT_CHECK_INT(r.parse, VT_OK);
    VT_CHECK_INT(r.msg.op, OP_LOCATION);
    VT_CHECK_STR(r.msg.pos.vendor_id, V1); /* its own vendorId wins over the registered one */
    VT_CHECK_NEAR(r.msg.pos.lat, 40.75, 0);
    VT_CHECK_NEAR(r.msg.pos.lng, -73.98, 0);
    VT_CHECK_STR(r.msg.ref, "\"/vendor#1\"");
    VT_CHECK(json_object_get(r.doc, "long") == NULL);
    in_done(&r);

    /* The fix's traceparent travels into the /ws message, where it is checked: a valid
     * one is continued, a malformed one is dropped and the fix still goes through. */
    in(&r, "updateVendorLocation",
       "{\"lat\":1,\"long\":2,\"traceparent\":"
       "\"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\"}",
       V2, "/vendor#4");
    VT_CHECK_INT(r.parse, VT_OK);
    VT_CHECK(r.msg.traced);
    char tp[VT_TRACEPARENT_LEN + 1];
    vt_trace_format(&r.msg.remote, tp);
    VT_CHECK_STR(tp, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    in_done(&r);
    static const char *const bad_traces[] = {
        "{\"lat\":1,\"long\":2,\"traceparent\":\"00-00000000000000000000000000000000-"
        "00f067aa0ba902b7-01\"}",
        "{\"lat\":1,\"long\":2,\"traceparent\":\"garbage\"}",
        "{\"lat\":1,\"long\":2,\"traceparent\":7}",
        "{\"lat\":1,\"long\":2}",
    };
    for (size_t i = 0; i < sizeof bad_traces / sizeof bad_traces[0]; i++) {
        in(&r, "updateVendorLocation", bad_traces[i], V2, "/vendor#5");
        VT_CHECK_INT(r.parse, VT_OK);
        VT_CHECK(!r.msg.traced);
        in_done(&r);
    }

    /* no vendorId: the one of register-vendor */
    in(&r, "updateVendorLocation", "{\"lat\":1.5,\"long\":2.5}", V2, "/#");
    VT_CHECK_INT(r.parse, VT_OK);
    VT_CHECK_STR(r.msg.pos.vendor_id, V2);
    VT_CHECK_NEAR(r.msg.pos.lng, 2.5, 0);
    in_done(&r);

    /* neither: refused, and the message says how to fix it */
    in(&r, "updateVendorLocation", "{\"lat\":1.5,\"long\":2.5}", NULL, "/vendor#2");
    VT_CHECK_INT(r.status, VT_INVALID_ARGUMENT);
    VT_CHECK(strstr(r.err, "register-vendor") != NULL);
    in_done(&r);
    /* a vendorId that is not a string counts as none */
    in(&r, "updateVendorLocation", "{\"lat\":1.5,\"long\":2.5,\"vendorId\":42}", NULL, "/vendor#2");
    VT_CHECK_INT(r.status, VT_INVALID_ARGUMENT);
    in_done(&r);

    static const char *const bad_args[] = {
        NULL,
        "{\"vendorId\":\"" V1 "\"}",
        "{\"lat\":1,\"vendorId\":\"" V1 "\"}",
        "{\"lat\":\"1\",\"long\":2,\"vendorId\":\"" V1 "\"}",
        "{\"lat\":1,\"long\":[2],\"vendorId\":\"" V1 "\"}",
        "[1,2]",
    };
    for (size_t i = 0; i < sizeof bad_args / sizeof bad_args[0]; i++) {
        in(&r, "updateVendorLocation", bad_args[i], V2, "/vendor#3");
        VT_CHECK_INT(r.status, VT_INVALID_ARGUMENT);
        VT_CHECK(strstr(r.err, "lat and long") != NULL);
        in_done(&r);
    }
}

/* register-user and register-vendor are sio_client.c's (they set state, they do not
 * become /ws messages), as is every event the apps never sent. */
static void test_not_translated(void)
{
    static const char *const events[] = {"register-user", "register-vendor", "vendor_sync",
                                         "updateuserlocation", ""};
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
        inbound r;
        in(&r, events[i], "{\"userId\":\"u\",\"vendorId\":\"" V1 "\"}", V1, "/#");
        VT_CHECK_INT(r.status, VT_NOT_FOUND);
        VT_CHECK(strstr(r.err, "unknown event") != NULL);
        in_done(&r);
    }
}

/* ------------------------------------------------------------------------ out */

static msgbuf *position(const char *op, const char *id, double lat, double lng)
{
    vt_events_position p = {
        .lat = lat, .lng = lng, .heading = 90, .speed = 1.5, .ts = 1700000000000};
    snprintf(p.vendor_id, sizeof p.vendor_id, "%s", id);
    return msg_encode_position(op, &p);
}

static void test_vendor_sync(void)
{
    VT_CHECK_STR(out(position("location", V1, 40.75, -73.98), "/user"),
                 "42/user,[\"vendor_sync\",{\"id\":\"" V1
                 "\",\"location\":{\"lat\":40.75,\"long\":-73.98}}]");
    VT_CHECK_STR(out(position("enter", V2, -33.5, 151.25), "/"),
                 "42[\"vendor_sync\",{\"id\":\"" V2
                 "\",\"location\":{\"lat\":-33.5,\"long\":151.25}}]");
    /* the coalescing key and the arrival time stay with the translation */
    static char key;
    msgbuf *m = position("location", V1, 1, 2);
    m->coalesce = &key;
    m->t_in_ns = 12345;
    msgbuf *o = sio_msg_from_ws(m, "/user");
    VT_REQUIRE(o);
    VT_CHECK(o->coalesce == &key);
    VT_CHECK_INT(o->t_in_ns, 12345);
    msg_unref(o);
    msg_unref(m);
}

static void test_vendor_disconnect(void)
{
    const char *want = "42/user,[\"vendor_disconnect\",{\"id\":\"" V1 "\"}]";
    VT_CHECK_STR(out(msg_encode_leave(V1), "/user"), want);
    VT_CHECK_STR(out(msg_encode_status(V1, false), "/user"), want);
    /* online: nothing the apps had an event for */
    VT_CHECK_STR(out(msg_encode_status(V1, true), "/user"), "(null)");
    /* a vendor id too long to be one is dropped, not truncated */
    VT_CHECK_STR(out(ws("{\"op\":\"leave\",\"vendorId\":\"" V1 "x\"}"), "/user"), "(null)");
    VT_CHECK_STR(out(ws("{\"op\":\"leave\"}"), "/user"), "(null)");
}

static void test_vendor_channels(void)
{
    /* snapshot.c's shape: online vendors are listed, offline ones are not */
    const char *snap =
        "{\"op\":\"snapshot\",\"vendors\":["
        "{\"vendorId\":\"" V1 "\",\"lat\":1.5,\"lng\":2.5,\"ts\":1,\"online\":true},"
        "{\"vendorId\":\"" V2 "\",\"lat\":3,\"lng\":4,\"ts\":2,\"online\":false},"
        "{\"vendorId\":\"" V3 "\",\"lat\":-5.25,\"lng\":-6,\"ts\":3,\"online\":true}]}";
    VT_CHECK_STR(out(ws(snap), "/user"), "42/user,[\"vendor_channels\",[{\"id\":\"" V1
                                         "\",\"location\":{\"lat\":1.5,\"long\":2.5}},{\"id\":\"" V3
                                         "\",\"location\":{\"lat\":-5.25,\"long\":-6}}]]");
    VT_CHECK_STR(out(ws("{\"op\":\"snapshot\",\"vendors\":[]}"), "/"),
                 "42[\"vendor_channels\",[]]");
    /* all offline: an empty list, still sent (the map is cleared) */
    VT_CHECK_STR(out(ws("{\"op\":\"snapshot\",\"vendors\":[{\"vendorId\":\"" V2
                        "\",\"lat\":3,\"lng\":4,\"ts\":2,\"online\":false}]}"),
                     "/user"),
                 "42/user,[\"vendor_channels\",[]]");
}

static void test_acks(void)
{
    VT_CHECK_STR(out(msg_encode_ack("\"/vendor#7\""), "/user"), "43/vendor,7[{\"ok\":true}]");
    VT_CHECK_STR(out(msg_encode_ack("\"/#0\""), "/user"), "430[{\"ok\":true}]");
    /* no ack asked for, no ref, or a ref that is not ours: nothing */
    VT_CHECK_STR(out(msg_encode_ack("\"/vendor#\""), "/user"), "(null)");
    VT_CHECK_STR(out(msg_encode_ack(NULL), "/user"), "(null)");
    VT_CHECK_STR(out(msg_encode_ack("\"abc\""), "/user"), "(null)");
    VT_CHECK_STR(out(msg_encode_ack("\"/vendor#-1\""), "/user"), "(null)");
    VT_CHECK_STR(out(msg_encode_ack("\"/vendor#7x\""), "/user"), "(null)");
}

static void test_errors(void)
{
    /* a reply goes to its request's namespace, whatever the viewer's */
    VT_CHECK_STR(
        out(msg_encode_error("RESOURCE_EXHAUSTED", "rate limit", "\"/vendor#2\""), "/user"),
        "42/vendor,[\"error\",{\"code\":\"RESOURCE_EXHAUSTED\",\"message\":\"rate limit\"}]");
    /* an error that answers no request: the viewer's namespace */
    VT_CHECK_STR(out(msg_encode_error("UNAVAILABLE", "partial snapshot", NULL), "/user"),
                 "42/user,[\"error\",{\"code\":\"UNAVAILABLE\",\"message\":\"partial snapshot\"}]");
    VT_CHECK_STR(out(msg_encode_error("UNAVAILABLE", "x", NULL), NULL),
                 "42[\"error\",{\"code\":\"UNAVAILABLE\",\"message\":\"x\"}]");
}

static void test_not_understood(void)
{
    VT_CHECK_STR(out(ws("{\"op\":\"pong\"}"), "/user"), "(null)");
    VT_CHECK_STR(out(ws("{\"op\":\"watch.vendor\"}"), "/user"), "(null)");
    VT_CHECK_STR(out(ws("{\"vendorId\":\"" V1 "\"}"), "/user"), "(null)");
    VT_CHECK_STR(out(ws("not json"), "/user"), "(null)");
    VT_CHECK_STR(out(ws("{\"op\":\"location\",\"lat\":1,\"lng\":2}"), "/user"), "(null)");
}

int main(void)
{
    VT_RUN(test_ref);
    VT_RUN(test_event_and_error_json);
    VT_RUN(test_update_user_location);
    VT_RUN(test_update_user_location_malformed);
    VT_RUN(test_out_of_range);
    VT_RUN(test_not_numbers);
    VT_RUN(test_update_vendor_location);
    VT_RUN(test_not_translated);
    VT_RUN(test_vendor_sync);
    VT_RUN(test_vendor_disconnect);
    VT_RUN(test_vendor_channels);
    VT_RUN(test_acks);
    VT_RUN(test_errors);
    VT_RUN(test_not_understood);
    return VT_TEST_RESULT();
}
