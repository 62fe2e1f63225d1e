/*
 * test_sio.c — libs/sio: Engine.IO 4 and socket.io 5 packets, read and written as
 * socket.io-client 4 and socket.io's server write and read them (the strings below
 * are what those send on the wire), including the malformed ones they refuse.
 */
#include "vt_core.h"
#include "vt_sio.h"
#include "vt_test.h"

static char err[256];

static void test_eio_frames(void)
{
    vt_sio_eio_packet p;
    VT_CHECK_INT(vt_sio_eio_decode_frame("2probe", 6, false, &p, err, sizeof err), VT_OK);
    VT_CHECK_INT(p.type, VT_SIO_EIO_PING);
    VT_CHECK_INT(p.len, 5);
    VT_CHECK(memcmp(p.data, "probe", 5) == 0);
    VT_CHECK_INT(vt_sio_eio_decode_frame("3", 1, false, &p, err, sizeof err), VT_OK);
    VT_CHECK_INT(p.type, VT_SIO_EIO_PONG);
    VT_CHECK_INT(p.len, 0);
    VT_CHECK_INT(vt_sio_eio_decode_frame("5", 1, false, &p, err, sizeof err), VT_OK);
    VT_CHECK_INT(p.type, VT_SIO_EIO_UPGRADE);
    VT_CHECK_INT(vt_sio_eio_decode_frame("42[\"a\"]", 7, false, &p, err, sizeof err), VT_OK);
    VT_CHECK_INT(p.type, VT_SIO_EIO_MESSAGE);
    VT_CHECK(!p.binary && p.len == 6);
    VT_CHECK_INT(vt_sio_eio_decode_frame("\x01\x02", 2, true, &p, err, sizeof err), VT_OK);
    VT_CHECK(p.binary && p.type == VT_SIO_EIO_MESSAGE && p.len == 2);
    VT_CHECK_INT(vt_sio_eio_decode_frame("", 0, false, &p, err, sizeof err), VT_INVALID_ARGUMENT);
    VT_CHECK(strstr(err, "empty") != NULL);
    VT_CHECK_INT(vt_sio_eio_decode_frame("9x", 2, false, &p, err, sizeof err), VT_INVALID_ARGUMENT);
    VT_CHECK(strstr(err, "unknown Engine.IO packet type") != NULL);
    VT_CHECK_INT(vt_sio_eio_decode_frame("x", 1, false, &p, err, sizeof err), VT_INVALID_ARGUMENT);
}

static void test_eio_payload(void)
{
    /* What socket.io-client's polling transport POSTs: packets joined with 0x1e. */
    const char body[] = "40\x1e"
                        "42[\"hi\",1]\x1e"
                        "3\x1e"
                        "bAQID";
    size_t pos = 0, len = sizeof body - 1;
    vt_sio_eio_packet p;
    VT_CHECK_INT(vt_sio_eio_payload_next(body, len, &pos, &p, err, sizeof err), 1);
    VT_CHECK(p.type == VT_SIO_EIO_MESSAGE && p.len == 1 && p.data[0] == '0');
    VT_CHECK_INT(vt_sio_eio_payload_next(body, len, &pos, &p, err, sizeof err), 1);
    VT_CHECK(p.type == VT_SIO_EIO_MESSAGE && p.len == 9);
    VT_CHECK_INT(vt_sio_eio_payload_next(body, len, &pos, &p, err, sizeof err), 1);
    VT_CHECK(p.type == VT_SIO_EIO_PONG && p.len == 0);
    VT_CHECK_INT(vt_sio_eio_payload_next(body, len, &pos, &p, err, sizeof err), 1);
    VT_CHECK(p.binary && p.len == 4 && memcmp(p.data, "AQID", 4) == 0);
    VT_CHECK_INT(vt_sio_eio_payload_next(body, len, &pos, &p, err, sizeof err), 0);
    VT_CHECK_INT(pos, len);

    /* One packet, no separator. */
    pos = 0;
    VT_CHECK_INT(vt_sio_eio_payload_next("1", 1, &pos, &p, err, sizeof err), 1);
    VT_CHECK_INT(p.type, VT_SIO_EIO_CLOSE);
    VT_CHECK_INT(vt_sio_eio_payload_next("1", 1, &pos, &p, err, sizeof err), 0);

    /* Empty packets, in the middle or at the end, and unknown types refuse the body. */
    const char *bad[] = {"4a\x1e\x1e"
                         "4b",
                         "4a\x1e", "\x1e", "7", "4a\x1ez"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pos = 0;
        int rc;
        while ((rc = vt_sio_eio_payload_next(bad[i], strlen(bad[i]), &pos, &p, err, sizeof err)) ==
               1)
            ;
        VT_CHECK_INT(rc, -1);
    }
    /* Nothing is read past len: a separator just beyond it is not seen. */
    pos = 0;
    VT_CHECK_INT(vt_sio_eio_payload_next("4ab\x1e"
                                         "4c",
                                         3, &pos, &p, err, sizeof err),
                 1);
    VT_CHECK_INT(p.len, 2);
    VT_CHECK_INT(vt_sio_eio_payload_next("4ab\x1e"
                                         "4c",
                                         3, &pos, &p, err, sizeof err),
                 0);
}

static void test_eio_open_and_errors(void)
{
    char out[256];
    vt_sio_eio_open_opts o = {.sid = "Ab-9_x",
                              .upgrade_to_websocket = true,
                              .ping_interval_ms = 25000,
                              .ping_timeout_ms = 20000,
                              .max_payload = 1000000};
    int n = vt_sio_eio_encode_open(&o, out, sizeof out);
    VT_CHECK_STR(out, "0{\"sid\":\"Ab-9_x\",\"upgrades\":[\"websocket\"],\"pingInterval\":25000,"
                      "\"pingTimeout\":20000,\"maxPayload\":1000000}");
    VT_CHECK_INT(n, (int)strlen(out));
    o.upgrade_to_websocket = false;
    vt_sio_eio_encode_open(&o, out, sizeof out);
    VT_CHECK(strstr(out, "\"upgrades\":[]") != NULL);
    VT_CHECK_INT(vt_sio_eio_encode_open(&o, out, 20), -1);
    o.sid = "a\"b";
    VT_CHECK_INT(vt_sio_eio_encode_open(&o, out, sizeof out), -1);

    VT_CHECK_INT(vt_sio_eio_error_body(VT_SIO_EIO_ERR_UNKNOWN_SID, out, sizeof out), 41);
    VT_CHECK_STR(out, "{\"code\":1,\"message\":\"Session ID unknown\"}");
    vt_sio_eio_error_body(VT_SIO_EIO_ERR_UNSUPPORTED_PROTOCOL_VERSION, out, sizeof out);
    VT_CHECK_STR(out, "{\"code\":5,\"message\":\"Unsupported protocol version\"}");
    vt_sio_eio_error_body(VT_SIO_EIO_ERR_UNKNOWN_TRANSPORT, out, sizeof out);
    VT_CHECK_STR(out, "{\"code\":0,\"message\":\"Transport unknown\"}");
    vt_sio_eio_error_body(VT_SIO_EIO_ERR_BAD_HANDSHAKE_METHOD, out, sizeof out);
    VT_CHECK_STR(out, "{\"code\":2,\"message\":\"Bad handshake method\"}");
    VT_CHECK_INT(vt_sio_eio_error_status(VT_SIO_EIO_ERR_BAD_REQUEST), 400);
    VT_CHECK_INT(vt_sio_eio_error_status(VT_SIO_EIO_ERR_FORBIDDEN), 403);
    VT_CHECK_INT(vt_sio_eio_error_body(VT_SIO_EIO_ERR_BAD_REQUEST, out, 10), -1);
}

static int decode(const char *s, vt_sio_packet *p)
{
    return vt_sio_decode(s, strlen(s), p, err, sizeof err);
}

static void test_sio_decode(void)
{
    vt_sio_packet p;
    /* CONNECT to the main namespace, and to /user with an auth payload. */
    VT_CHECK_INT(decode("0", &p), VT_OK);
    VT_CHECK(p.type == VT_SIO_CONNECT && strcmp(p.nsp, "/") == 0 && p.len == 0 && p.ack_id == -1);
    VT_CHECK_INT(decode("0/user,{\"token\":\"abc\"}", &p), VT_OK);
    VT_CHECK_STR(p.nsp, "/user");
    VT_CHECK_INT(p.len, 15);
    VT_CHECK_INT(decode("0/vendor,", &p), VT_OK);
    VT_CHECK_STR(p.nsp, "/vendor");
    VT_CHECK_INT(decode("0/vendor", &p), VT_OK); /* no comma when nothing follows */
    VT_CHECK_STR(p.nsp, "/vendor");
    /* EVENT with and without an ack id, in a namespace. */
    VT_CHECK_INT(decode("2[\"register-user\",\"x\"]", &p), VT_OK);
    VT_CHECK(p.type == VT_SIO_EVENT && p.ack_id == -1);
    VT_CHECK_INT(decode("2/vendor,12[\"updateVendorLocation\",{\"lat\":1,\"long\":2}]", &p), VT_OK);
    VT_CHECK_STR(p.nsp, "/vendor");
    VT_CHECK_INT(p.ack_id, 12);
    VT_CHECK(p.data[0] == '[');
    VT_CHECK_INT(decode("20[\"e\"]", &p), VT_OK);
    VT_CHECK_INT(p.ack_id, 0);
    VT_CHECK_INT(decode("2[7]", &p), VT_OK); /* numeric event names are allowed */
    /* ACK, DISCONNECT, CONNECT_ERROR, binary. */
    VT_CHECK_INT(decode("3/user,5[]", &p), VT_OK);
    VT_CHECK(p.type == VT_SIO_ACK && p.ack_id == 5);
    VT_CHECK_INT(decode("1/user,", &p), VT_OK);
    VT_CHECK(p.type == VT_SIO_DISCONNECT);
    VT_CHECK_INT(decode("4{\"message\":\"no\"}", &p), VT_OK);
    VT_CHECK_INT(decode("4\"no\"", &p), VT_OK);
    VT_CHECK_INT(decode("51-[\"up\",{\"_placeholder\":true,\"num\":0}]", &p), VT_OK);
    VT_CHECK(p.type == VT_SIO_BINARY_EVENT && p.attachments == 1);
    VT_CHECK_INT(decode("61-/user,3[{\"_placeholder\":true,\"num\":0}]", &p), VT_OK);
    VT_CHECK(p.type == VT_SIO_BINARY_ACK && p.attachments == 1 && p.ack_id == 3);
    VT_CHECK_STR(p.nsp, "/user");

    /* Refused, as socket.io's parser refuses them. */
    const char *bad[] = {
        "",                           /* empty */
        "7",                          /* unknown type */
        "x",                          /* not a type */
        "2",                          /* EVENT without payload */
        "2{\"a\":1}",                 /* EVENT not an array */
        "2[]",                        /* EVENT without a name */
        "2[\"connect\"]",             /* reserved event name */
        "2[\"disconnect\",1]",        /* reserved */
        "2[null]",                    /* name neither string nor number */
        "2[\"a\"",                    /* not JSON */
        "0[1]",                       /* CONNECT payload not an object */
        "0\"tok\"",                   /* CONNECT payload not an object */
        "1{}",                        /* DISCONNECT carries nothing */
        "3{}",                        /* ACK not an array */
        "4[1]",                       /* CONNECT_ERROR neither object nor string */
        "5[\"a\"]",                   /* BINARY_EVENT without an attachment count */
        "5x-[\"a\"]",                 /* bad count */
        "51[\"a\"]",                  /* count without '-' */
        "21234567890123456[\"a\"]",   /* ack id too long */
        "2[\"a\",{\"k\":1,\"k\":2}]", /* duplicate keys */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = decode(bad[i], &p);
        VT_CHECK_INT(rc, VT_INVALID_ARGUMENT);
        if (rc != VT_INVALID_ARGUMENT)
            fprintf(stderr, "  accepted: %s\n", bad[i]);
    }
    char nsp[100] = "0/";
    memset(nsp + 2, 'n', 80);
    VT_CHECK_INT(decode(nsp, &p), VT_INVALID_ARGUMENT);
    VT_CHECK(strstr(err, "namespace") != NULL);
}

static void test_sio_event_decode(void)
{
    vt_sio_packet p;
    char name[64];
    json_t *args;
    VT_REQUIRE(decode("2/user,[\"updateUserLocation\",{\"neLocation\":{\"lat\":1,\"long\":2}},3]",
                      &p) == VT_OK);
    VT_CHECK_INT(vt_sio_event_decode(&p, name, sizeof name, &args, err, sizeof err), VT_OK);
    VT_CHECK_STR(name, "updateUserLocation");
    VT_CHECK_INT(json_array_size(args), 2);
    VT_CHECK(json_is_object(json_array_get(args, 0)));
    VT_CHECK_INT(json_integer_value(json_array_get(args, 1)), 3);
    json_decref(args);
    VT_REQUIRE(decode("2[42]", &p) == VT_OK);
    VT_CHECK_INT(vt_sio_event_decode(&p, name, sizeof name, &args, err, sizeof err), VT_OK);
    VT_CHECK_STR(name, "42");
    VT_CHECK_INT(json_array_size(args), 0);
    json_decref(args);
    VT_REQUIRE(decode("2[\"a-rather-long-event-name\"]", &p) == VT_OK);
    VT_CHECK_INT(vt_sio_event_decode(&p, name, 8, &args, err, sizeof err), VT_INVALID_ARGUMENT);
    VT_CHECK(args == NULL);
    VT_REQUIRE(decode("3[1]", &p) == VT_OK);
    VT_CHECK_INT(vt_sio_event_decode(&p, name, sizeof name, &args, err, sizeof err),
                 VT_INVALID_ARGUMENT);
}

static void test_sio_encode(void)
{
    char out[128];
    const char sid[] = "{\"sid\":\"s1\"}";
    VT_CHECK_INT(
        vt_sio_encode(true, VT_SIO_CONNECT, "/user", -1, sid, strlen(sid), out, sizeof out), 20);
    VT_CHECK_STR(out, "40/user,{\"sid\":\"s1\"}");
    vt_sio_encode(true, VT_SIO_CONNECT, "/", -1, sid, strlen(sid), out, sizeof out);
    VT_CHECK_STR(out, "40{\"sid\":\"s1\"}");
    const char ev[] = "[\"vendor_sync\",{\"id\":\"v\"}]";
    vt_sio_encode(true, VT_SIO_EVENT, "/user", -1, ev, strlen(ev), out, sizeof out);
    VT_CHECK_STR(out, "42/user,[\"vendor_sync\",{\"id\":\"v\"}]");
    vt_sio_encode(false, VT_SIO_ACK, "/vendor", 7, "[]", 2, out, sizeof out);
    VT_CHECK_STR(out, "3/vendor,7[]");
    vt_sio_encode(true, VT_SIO_DISCONNECT, "/user", -1, NULL, 0, out, sizeof out);
    VT_CHECK_STR(out, "41/user,");
    VT_CHECK_INT(vt_sio_encode(true, VT_SIO_EVENT, "/user", -1, ev, strlen(ev), out, 20), -1);
    /* What we write, we read back. */
    vt_sio_packet p;
    int n = vt_sio_encode(false, VT_SIO_EVENT, "/vendor", 99, ev, strlen(ev), out, sizeof out);
    VT_REQUIRE(n > 0);
    VT_CHECK_INT(vt_sio_decode(out, (size_t)n, &p, err, sizeof err), VT_OK);
    VT_CHECK(p.type == VT_SIO_EVENT && p.ack_id == 99 && strcmp(p.nsp, "/vendor") == 0);
    VT_CHECK_INT(p.len, strlen(ev));
}

int main(void)
{
    VT_RUN(test_eio_frames);
    VT_RUN(test_eio_payload);
    VT_RUN(test_eio_open_and_errors);
    VT_RUN(test_sio_decode);
    VT_RUN(test_sio_event_decode);
    VT_RUN(test_sio_encode);
    return VT_TEST_RESULT();
}
