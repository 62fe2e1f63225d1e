/*
 * json_test_util.h — what the unit tests of libs/json share: a counting allocator that
 * can be told to fail, decode/encode wrappers, and checks that assert exactly what a
 * gateway client would see (the JSON text we send, the error sentence with the field's
 * JSON path we answer bad bodies with) and that round trips keep the protobuf wire bytes.
 *
 * Static inline, included by each test file: the checks count into vt_test.h's counters,
 * which are per executable. The tests are split by feature, one executable each:
 * test_json_encode.c (names, encoding, round trips), test_json_decode.c (decoding, bounds,
 * the allocator), test_json_set_field.c (vt_json_set_field).
 */
#ifndef JSON_TEST_UTIL_H
#define JSON_TEST_UTIL_H

#include "vt_json.h"
#include "vt_test.h"

#include "grpc/health/v1/health.pb-c.h"
#include "json_test.pb-c.h"
#include "venta/test/v1/echo.pb-c.h"
#include "venta/user/v1/user.pb-c.h"
#include "venta/vendor/v1/vendor.pb-c.h"

#include <stdbool.h>
#include <stdint.h>

/* Not every test file uses every descriptor. */
#define VT_JSON_TEST_UNUSED __attribute__((unused))

/* Counting allocator that can be told to fail after `budget` allocations. */
typedef struct {
    long allocs, frees;
    long budget; /* < 0: unlimited */
} counting;

static inline void *count_alloc(void *data, size_t size)
{
    counting *c = data;
    if (c->budget == 0)
        return NULL;
    if (c->budget > 0)
        c->budget--;
    c->allocs++;
    return malloc(size);
}

static inline void count_free(void *data, void *p)
{
    counting *c = data;
    c->frees++;
    free(p);
}

static char errbuf[512] VT_JSON_TEST_UNUSED;

static inline ProtobufCMessage *decode(const ProtobufCMessageDescriptor *d, const char *json)
{
    ProtobufCMessage *m = NULL;
    int rc = vt_json_decode(d, json, strlen(json), NULL, &m, errbuf, sizeof errbuf);
    if (rc)
        fprintf(stderr, "  decode failed: %s (%s)\n", errbuf, json);
    return m;
}

/* Decode must fail with VT_INVALID_ARGUMENT and exactly this message. */
static inline void expect_error(const ProtobufCMessageDescriptor *d, const char *json,
                                const char *want, int line)
{
    ProtobufCMessage *m = (ProtobufCMessage *)1;
    counting cnt = {.budget = -1};
    ProtobufCAllocator a = {count_alloc, count_free, &cnt};
    int rc = vt_json_decode(d, json, strlen(json), &a, &m, errbuf, sizeof errbuf);
    vt_test_checks++;
    if (rc != VT_INVALID_ARGUMENT || m != NULL || strcmp(errbuf, want) != 0 ||
        cnt.allocs != cnt.frees) {
        vt_test_failures++;
        fprintf(stderr, "line %d: %s\n  rc=%d err=\"%s\"\n  want \"%s\" (allocs %ld frees %ld)\n",
                line, json, rc, errbuf, want, cnt.allocs, cnt.frees);
    }
}
#define EXPECT_ERROR(d, json, want) expect_error(d, json, want, __LINE__)

/* Decode must fail and the message start with prefix. */
static inline void expect_error_prefix(const ProtobufCMessageDescriptor *d, const char *json,
                                       size_t len, const char *prefix, int line)
{
    ProtobufCMessage *m = NULL;
    int rc = vt_json_decode(d, json, len, NULL, &m, errbuf, sizeof errbuf);
    vt_test_checks++;
    if (rc != VT_INVALID_ARGUMENT || m != NULL || strncmp(errbuf, prefix, strlen(prefix)) != 0) {
        vt_test_failures++;
        fprintf(stderr, "line %d: rc=%d err=\"%s\" want prefix \"%s\"\n", line, rc, errbuf, prefix);
    }
}
#define EXPECT_ERROR_PREFIX(d, json, prefix)                                                       \
    expect_error_prefix(d, json, strlen(json), prefix, __LINE__)

static inline char *encode(const void *msg, bool emit_defaults)
{
    vt_json_encode_opts o = {.emit_defaults = emit_defaults};
    char *out = NULL;
    size_t len = 0;
    int rc = vt_json_encode(msg, &o, &out, &len);
    VT_CHECK_INT(rc, 0);
    if (out)
        VT_CHECK_INT(len, strlen(out));
    return out;
}

#define CHECK_ENCODE(msg, emit, want)                                                              \
    do {                                                                                           \
        char *got_ = encode(msg, emit);                                                            \
        VT_CHECK_STR(got_, want);                                                                  \
        free(got_);                                                                                \
    } while (0)

/* Wire bytes of a message, for whole-message equality. */
static inline uint8_t *packed(const void *msg, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(*len + 1);
    protobuf_c_message_pack(msg, buf);
    return buf;
}

static inline bool same_message(const void *a, const void *b)
{
    size_t la, lb;
    uint8_t *pa = packed(a, &la), *pb = packed(b, &lb);
    bool same = la == lb && memcmp(pa, pb, la) == 0;
    free(pa);
    free(pb);
    return same;
}

/* decode(encode(m)) == m in both emission modes, and encoding is stable. */
static inline void check_round_trip(const ProtobufCMessage *m, int line)
{
    for (int mode = 0; mode < 2; mode++) {
        char *text = encode(m, mode == 0);
        ProtobufCMessage *back = text ? decode(m->descriptor, text) : NULL;
        vt_test_checks++;
        if (!back || !same_message(m, back)) {
            vt_test_failures++;
            fprintf(stderr, "line %d: round trip differs: %s\n", line, text ? text : "(null)");
        }
        if (back) {
            char *again = encode(back, mode == 0);
            VT_CHECK_STR(again, text);
            free(again);
            protobuf_c_message_free_unpacked(back, NULL);
        }
        free(text);
    }
}
#define CHECK_ROUND_TRIP(m) check_round_trip((const ProtobufCMessage *)(m), __LINE__)

static const ProtobufCMessageDescriptor *vendor_d VT_JSON_TEST_UNUSED =
    &venta__vendor__v1__vendor__descriptor;
static const ProtobufCMessageDescriptor *create_d VT_JSON_TEST_UNUSED =
    &venta__vendor__v1__create_vendor_request__descriptor;
static const ProtobufCMessageDescriptor *update_d VT_JSON_TEST_UNUSED =
    &venta__vendor__v1__update_vendor_request__descriptor;
static const ProtobufCMessageDescriptor *search_d VT_JSON_TEST_UNUSED =
    &venta__vendor__v1__search_vendors_request__descriptor;
static const ProtobufCMessageDescriptor *list_d VT_JSON_TEST_UNUSED =
    &venta__vendor__v1__list_vendors_response__descriptor;
static const ProtobufCMessageDescriptor *user_d VT_JSON_TEST_UNUSED =
    &venta__user__v1__user__descriptor;
static const ProtobufCMessageDescriptor *event_d VT_JSON_TEST_UNUSED =
    &venta__user__v1__apply_subscription_event_request__descriptor;
static const ProtobufCMessageDescriptor *echo_d VT_JSON_TEST_UNUSED =
    &venta__test__v1__echo_request__descriptor;
static const ProtobufCMessageDescriptor *echo_resp_d VT_JSON_TEST_UNUSED =
    &venta__test__v1__echo_response__descriptor;
static const ProtobufCMessageDescriptor *health_d VT_JSON_TEST_UNUSED =
    &grpc__health__v1__health_check_response__descriptor;
static const ProtobufCMessageDescriptor *all_d VT_JSON_TEST_UNUSED =
    &venta__jsontest__v1__all_types__descriptor;

#endif
