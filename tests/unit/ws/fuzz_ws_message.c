/*
 * fuzz_ws_message.c — libFuzzer target for the WebSocket gateway's client message parser,
 * msg_parse in apps/ws-gateway/ws_messages.c (clang only, built by `ninja fuzz`, run by the
 * 'fuzz' suite; see tests/run-fuzz).
 *
 * The input is the payload of one client text frame (API.md §4). libwebsockets refuses
 * text frames that are not UTF-8 before the gateway sees them
 * (LWS_SERVER_OPTION_VALIDATE_UTF8, apps/ws-gateway/ws_server.c), so such inputs are
 * skipped. For every other input it checks what the gateway promises a client, plus
 * what it then sends back:
 *  - msg_parse returns 0 or VT_INVALID_ARGUMENT with a non-empty message, and
 *    msg_parse_done frees everything (ASan's leak check);
 *  - an accepted message is what its op needs: auth a non-empty token; location a
 *    lower-case vendor UUID and a position vt_events_position_valid accepts; watch.bounds
 *    valid corners with ne.lat >= sw.lat; (un)watch.vendor a lower-case UUID;
 *  - the reply the gateway would send (an ack, or an INVALID_ARGUMENT error carrying
 *    the message) is one JSON object that jansson reads back — so valid UTF-8, as a
 *    text frame must be — with the right op, the client's own ref, and the error
 *    message intact unless it was too long to fit or quoted bytes that are not UTF-8
 *    (jansson's "near '...'" can end inside a character);
 *  - an accepted location, fanned out to viewers, carries exactly the client's numbers.
 *
 *   CC=clang meson setup build-fuzz -Db_sanitize=address,undefined -Dbenchmarks=false
 *   ninja -C build-fuzz fuzz && build-fuzz/tests/unit/ws/fuzz-ws-message -max_total_time=60 \
 *       tests/unit/ws/corpus
 */
#include "ws_messages.h"
#include "vt_events.h"
#include "vt_json.h"
#include "vt_fuzz.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

#define ERR_SHOWN 600 /* the escaped message msg_encode_error keeps whole */

static bool lower_uuid(const char *id)
{
    return vt_uuid_valid(id) && strspn(id, "0123456789abcdef-") == VT_UUID_LEN;
}

static void check_accepted(const client_msg *m)
{
    char err[256];
    switch (m->op) {
    case OP_AUTH:
        FUZZ_CHECK(m->token != NULL && m->token_len > 0);
        break;
    case OP_LOCATION: {
        FUZZ_CHECK(lower_uuid(m->pos.vendor_id));
        FUZZ_CHECK(vt_events_position_valid(&m->pos, err, sizeof err) == VT_OK);
        break;
    }
    case OP_WATCH_BOUNDS:
        FUZZ_CHECK(vt_geo_box_valid(&m->box));
        break;
    case OP_WATCH_VENDOR:
    case OP_UNWATCH_VENDOR:
        FUZZ_CHECK(lower_uuid(m->vendor_id));
        break;
    case OP_PING:
        break;
    default:
        FUZZ_CHECK(!"an accepted message has a known op");
    }
}

/* The frame m holds parses as one JSON object whose op is op and whose ref is the
 * client's; returns it (the caller drops it). */
static json_t *check_reply(msgbuf *m, const char *op, const client_msg *in)
{
    FUZZ_CHECK(m != NULL);
    json_t *doc = json_loadb(m->data, m->len, JSON_REJECT_DUPLICATES, NULL);
    FUZZ_CHECK(json_is_object(doc));
    const char *got = json_string_value(json_object_get(doc, "op"));
    FUZZ_CHECK(got != NULL && strcmp(got, op) == 0);
    json_t *ref = json_object_get(doc, "ref");
    if (in->ref[0])
        FUZZ_CHECK(ref && json_equal(ref, json_object_get(in->doc, "ref")));
    else
        FUZZ_CHECK(ref == NULL);
    msg_unref(m);
    return doc;
}

static void check_fanout(const client_msg *in)
{
    const vt_events_position *p = &in->pos;
    msgbuf *m = msg_encode_position("location", p);
    FUZZ_CHECK(m != NULL);
    json_t *doc = json_loadb(m->data, m->len, JSON_REJECT_DUPLICATES, NULL);
    FUZZ_CHECK(json_is_object(doc));
    FUZZ_CHECK(json_number_value(json_object_get(doc, "lat")) == p->lat &&
               json_number_value(json_object_get(doc, "lng")) == p->lng &&
               json_number_value(json_object_get(doc, "heading")) == p->heading &&
               json_number_value(json_object_get(doc, "speed")) == p->speed &&
               json_integer_value(json_object_get(doc, "ts")) == p->ts);
    json_decref(doc);
    msg_unref(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    client_msg m;
    char err[256]; /* as conn.c has it */

    json_t *frame = json_stringn((const char *)data, size); /* NULL: not UTF-8 */
    if (!frame)
        return 0;
    json_decref(frame);
    err[0] = '\0';
    int rc = msg_parse((const char *)data, size, &m, err, sizeof err);
    if (rc == VT_OK) {
        check_accepted(&m);
        json_decref(check_reply(msg_encode_ack(m.ref), "ack", &m));
        if (m.op == OP_LOCATION)
            check_fanout(&m);
    } else {
        FUZZ_CHECK(rc == VT_INVALID_ARGUMENT && err[0]);
        json_t *doc = check_reply(msg_encode_error("INVALID_ARGUMENT", err, m.ref), "error", &m);
        const char *shown = json_string_value(json_object_get(doc, "message"));
        FUZZ_CHECK(shown != NULL);
        json_t *utf8 = json_string(err); /* NULL: err quotes bytes that are not UTF-8 */
        if (utf8 && vt_json_escape(err, NULL, 0) < ERR_SHOWN)
            FUZZ_CHECK(strcmp(shown, err) == 0);
        json_decref(utf8);
        json_decref(doc);
    }
    msg_parse_done(&m);
    return 0;
}
