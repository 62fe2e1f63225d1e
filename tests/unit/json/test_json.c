/*
 * test_json.c — libs/json against the real API messages (Vendor, CreateVendorRequest,
 * UpdateVendorRequest, SearchVendorsRequest, User, ApplySubscriptionEventRequest,
 * EchoRequest, HealthCheckResponse) and json_test.proto's AllTypes for the types and
 * oneof shapes the API protos do not have.
 *
 * What a gateway client would see is asserted exactly: the JSON text we send, and the
 * error sentence (with the field's JSON path) we answer bad bodies with. Round trips are
 * checked by comparing protobuf wire bytes, which covers every field at once. A counting
 * allocator checks that every decoded message (including the half-built ones of failed
 * decodes and of allocator failures) frees exactly what it allocated.
 */
#include "vt_json.h"
#include "vt_test.h"

#include "grpc/health/v1/health.pb-c.h"
#include "json_test.pb-c.h"
#include "venta/test/v1/echo.pb-c.h"
#include "venta/user/v1/user.pb-c.h"
#include "venta/vendor/v1/vendor.pb-c.h"

#include <float.h>
#include <stdint.h>

/* ---- helpers ---- */

/* Counting allocator that can be told to fail after `budget` allocations. */
typedef struct {
    long allocs, frees;
    long budget; /* < 0: unlimited */
} counting;

static void *count_alloc(void *data, size_t size)
{
    counting *c = data;
    if (c->budget == 0)
        return NULL;
    if (c->budget > 0)
        c->budget--;
    c->allocs++;
    return malloc(size);
}

static void count_free(void *data, void *p)
{
    counting *c = data;
    c->frees++;
    free(p);
}

static char errbuf[512];

static ProtobufCMessage *decode(const ProtobufCMessageDescriptor *d, const char *json)
{
    ProtobufCMessage *m = NULL;
    int rc = vt_json_decode(d, json, strlen(json), NULL, &m, errbuf, sizeof errbuf);
    if (rc)
        fprintf(stderr, "  decode failed: %s (%s)\n", errbuf, json);
    return m;
}

/* Decode must fail with VT_INVALID_ARGUMENT and exactly this message. */
static void expect_error(const ProtobufCMessageDescriptor *d, const char *json, const char *want,
                         int line)
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
static void expect_error_prefix(const ProtobufCMessageDescriptor *d, const char *json, size_t len,
                                const char *prefix, int line)
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

static char *encode(const void *msg, bool emit_defaults)
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
static uint8_t *packed(const void *msg, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(*len + 1);
    protobuf_c_message_pack(msg, buf);
    return buf;
}

static bool same_message(const void *a, const void *b)
{
    size_t la, lb;
    uint8_t *pa = packed(a, &la), *pb = packed(b, &lb);
    bool same = la == lb && memcmp(pa, pb, la) == 0;
    free(pa);
    free(pb);
    return same;
}

/* decode(encode(m)) == m in both emission modes, and encoding is stable. */
static void check_round_trip(const ProtobufCMessage *m, int line)
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

static const ProtobufCMessageDescriptor *vendor_d = &venta__vendor__v1__vendor__descriptor;
static const ProtobufCMessageDescriptor *create_d =
    &venta__vendor__v1__create_vendor_request__descriptor;
static const ProtobufCMessageDescriptor *update_d =
    &venta__vendor__v1__update_vendor_request__descriptor;
static const ProtobufCMessageDescriptor *search_d =
    &venta__vendor__v1__search_vendors_request__descriptor;
static const ProtobufCMessageDescriptor *list_d =
    &venta__vendor__v1__list_vendors_response__descriptor;
static const ProtobufCMessageDescriptor *user_d = &venta__user__v1__user__descriptor;
static const ProtobufCMessageDescriptor *event_d =
    &venta__user__v1__apply_subscription_event_request__descriptor;
static const ProtobufCMessageDescriptor *echo_d = &venta__test__v1__echo_request__descriptor;
static const ProtobufCMessageDescriptor *echo_resp_d = &venta__test__v1__echo_response__descriptor;
static const ProtobufCMessageDescriptor *health_d =
    &grpc__health__v1__health_check_response__descriptor;
static const ProtobufCMessageDescriptor *all_d = &venta__jsontest__v1__all_types__descriptor;

/* ---- names ---- */

static void test_names(void)
{
    char name[64];
    const ProtobufCFieldDescriptor *f;

    f = vt_json_field_find(vendor_d, "ownerId");
    VT_REQUIRE(f != NULL);
    VT_CHECK_STR(f->name, "owner_id");
    VT_CHECK(vt_json_field_find(vendor_d, "owner_id") == f);
    VT_CHECK(vt_json_field_find(vendor_d, "profileImage") ==
             vt_json_field_find(vendor_d, "profile_image"));
    VT_CHECK(vt_json_field_find(vendor_d, "ownerid") == NULL);
    VT_CHECK(vt_json_field_find(vendor_d, "OwnerId") == NULL);
    VT_CHECK(vt_json_field_find(vendor_d, "owner_Id") == NULL);
    VT_CHECK(vt_json_field_find(vendor_d, "") == NULL);

    VT_CHECK_INT(vt_json_field_name(f, name, sizeof name), 7);
    VT_CHECK_STR(name, "ownerId");
    f = vt_json_field_find(event_d, "event_timestamp_ms");
    VT_REQUIRE(f != NULL);
    vt_json_field_name(f, name, sizeof name);
    VT_CHECK_STR(name, "eventTimestampMs");
    f = vt_json_field_find(all_d, "fInt32");
    VT_REQUIRE(f != NULL);
    VT_CHECK_STR(f->name, "f_int32");
    /* Truncation keeps the terminator and reports the full length. */
    f = vt_json_field_find(event_d, "eventTimestampMs");
    VT_CHECK_INT(vt_json_field_name(f, name, 6), 16);
    VT_CHECK_STR(name, "event");
}

/* ---- encoding ---- */

static void test_encode_vendor(void)
{
    Venta__Vendor__V1__Vendor v = VENTA__VENDOR__V1__VENDOR__INIT;
    Venta__Common__V1__Location loc = VENTA__COMMON__V1__LOCATION__INIT;

    /* An empty vendor: every scalar is written, the unset location is not. */
    CHECK_ENCODE(&v, true,
                 "{\"id\":\"\",\"ownerId\":\"\",\"name\":\"\",\"description\":\"\",\"email\":\"\","
                 "\"phone\":\"\",\"website\":\"\",\"profileImage\":\"\",\"isOpen\":false,"
                 "\"createdAt\":\"\",\"updatedAt\":\"\"}");
    CHECK_ENCODE(&v, false, "{}");
    VT_CHECK_STR(v.name, ""); /* untouched */

    v.id = "3f0c1b1e-2a4d-4e55-9b8a-0d5c6e7f8a9b";
    v.owner_id = "user_2abc";
    v.name = "Tacos \"El Rey\"";
    v.is_open = 1;
    loc.lat = 52.52;
    loc.lng = -13.405;
    loc.updated_at = "2026-11-21T10:00:00.000Z";
    v.location = &loc;
    CHECK_ENCODE(&v, false,
                 "{\"id\":\"3f0c1b1e-2a4d-4e55-9b8a-0d5c6e7f8a9b\",\"ownerId\":\"user_2abc\","
                 "\"name\":\"Tacos \\\"El Rey\\\"\",\"isOpen\":true,\"location\":{\"lat\":52.52,"
                 "\"lng\":-13.405,\"updatedAt\":\"2026-11-21T10:00:00.000Z\"}}");
    CHECK_ENCODE(
        &v, true,
        "{\"id\":\"3f0c1b1e-2a4d-4e55-9b8a-0d5c6e7f8a9b\",\"ownerId\":\"user_2abc\","
        "\"name\":\"Tacos \\\"El Rey\\\"\",\"description\":\"\",\"email\":\"\","
        "\"phone\":\"\",\"website\":\"\",\"profileImage\":\"\",\"isOpen\":true,"
        "\"location\":{\"lat\":52.52,\"lng\":-13.405,"
        "\"updatedAt\":\"2026-11-21T10:00:00.000Z\"},\"createdAt\":\"\",\"updatedAt\":\"\"}");
    CHECK_ROUND_TRIP(&v);

    /* NULL strings (possible in hand-built messages) read as "". */
    v.description = NULL;
    char *text = encode(&v, true);
    VT_CHECK(text && strstr(text, "\"description\":\"\""));
    free(text);

    /* opts NULL = emit_defaults. */
    Venta__Vendor__V1__Vendor empty = VENTA__VENDOR__V1__VENDOR__INIT;
    char *a = NULL, *b = NULL;
    VT_CHECK_INT(vt_json_encode(&empty.base, NULL, &a, NULL), 0);
    b = encode(&empty, true);
    VT_CHECK_STR(a, b);
    free(a);
    free(b);
}

static void test_encode_oneof_presence(void)
{
    Venta__Vendor__V1__UpdateVendorRequest u = VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__INIT;

    u.id = "v1";
    CHECK_ENCODE(&u, true, "{\"id\":\"v1\"}");
    /* A set member is written even when it holds its default: the case is presence. */
    u.opt_is_open_case = VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_IS_OPEN_IS_OPEN;
    u.is_open = 0;
    u.opt_name_case = VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_NAME_NAME;
    u.name = "";
    CHECK_ENCODE(&u, true, "{\"id\":\"v1\",\"name\":\"\",\"isOpen\":false}");
    CHECK_ENCODE(&u, false, "{\"id\":\"v1\",\"name\":\"\",\"isOpen\":false}");
    CHECK_ROUND_TRIP(&u);

    Venta__Vendor__V1__SearchVendorsRequest s = VENTA__VENDOR__V1__SEARCH_VENDORS_REQUEST__INIT;
    s.opt_lat_case = VENTA__VENDOR__V1__SEARCH_VENDORS_REQUEST__OPT_LAT_LAT;
    s.lat = 0;
    s.limit = 20;
    CHECK_ENCODE(&s, false, "{\"lat\":0,\"limit\":20}");
    CHECK_ENCODE(&s, true, "{\"q\":\"\",\"lat\":0,\"limit\":20,\"cursor\":\"\"}");
}

static void test_encode_numbers(void)
{
    Venta__Jsontest__V1__AllTypes m = VENTA__JSONTEST__V1__ALL_TYPES__INIT;

    m.f_int32 = INT32_MIN;
    m.f_uint32 = UINT32_MAX;
    m.f_int64 = INT64_MIN;
    m.f_sint64 = INT64_MAX;
    m.f_uint64 = UINT64_MAX;
    m.f_double = 0.1;
    m.f_float = 0.1f;
    CHECK_ENCODE(&m, false,
                 "{\"fInt32\":-2147483648,\"fUint32\":4294967295,"
                 "\"fInt64\":\"-9223372036854775808\",\"fSint64\":\"9223372036854775807\","
                 "\"fUint64\":\"18446744073709551615\",\"fFloat\":0.1,\"fDouble\":0.1}");
    CHECK_ROUND_TRIP(&m);

    struct {
        double d;
        const char *text;
    } doubles[] = {
        {1.0 / 3, "0.3333333333333333"},
        {0.1 + 0.2, "0.30000000000000004"},
        {1e300, "1e+300"},
        {-2.5, "-2.5"},
        {5e-324, "4.94065645841247e-324"},
        {DBL_MAX, "1.7976931348623157e+308"},
        {123456789012345678.0, "1.2345678901234568e+17"},
        {100, "100"},
        {-0.0, "-0.0"},
        {NAN, "\"NaN\""},
        {INFINITY, "\"Infinity\""},
        {-INFINITY, "\"-Infinity\""},
    };
    Venta__Jsontest__V1__AllTypes d = VENTA__JSONTEST__V1__ALL_TYPES__INIT;
    for (size_t i = 0; i < sizeof doubles / sizeof doubles[0]; i++) {
        char want[96];
        d.f_double = doubles[i].d;
        snprintf(want, sizeof want, "{\"fDouble\":%s}", doubles[i].text);
        CHECK_ENCODE(&d, false, want);
        ProtobufCMessage *back = decode(all_d, want);
        VT_REQUIRE(back);
        double got = ((Venta__Jsontest__V1__AllTypes *)back)->f_double;
        VT_CHECK(isnan(doubles[i].d)
                     ? isnan(got)
                     : got == doubles[i].d && !signbit(got) == !signbit(doubles[i].d));
        protobuf_c_message_free_unpacked(back, NULL);
    }
    d.f_double = 0;
    d.f_float = 3.14159274f;
    CHECK_ENCODE(&d, false, "{\"fFloat\":3.1415927}");
    d.f_float = FLT_MAX;
    CHECK_ENCODE(&d, false, "{\"fFloat\":3.4028235e+38}");
    d.f_float = -INFINITY;
    CHECK_ENCODE(&d, false, "{\"fFloat\":\"-Infinity\"}");

    /* Shortest round-trip text for many doubles and floats (bit patterns from an LCG). */
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (int i = 0; i < 2000; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        double v;
        float fv;
        uint32_t fx = (uint32_t)(x >> 32);
        memcpy(&v, &x, sizeof v);
        memcpy(&fv, &fx, sizeof fv);
        if (isnan(v) || isnan(fv))
            continue;
        d.f_double = v;
        d.f_float = fv;
        char *text = encode(&d, true);
        ProtobufCMessage *back = text ? decode(all_d, text) : NULL;
        VT_REQUIRE(back);
        Venta__Jsontest__V1__AllTypes *b = (Venta__Jsontest__V1__AllTypes *)back;
        if (memcmp(&b->f_double, &v, sizeof v) != 0 && !(v == 0 && b->f_double == 0))
            VT_CHECK(!"double round trip");
        if (memcmp(&b->f_float, &fv, sizeof fv) != 0 && !(fv == 0 && b->f_float == 0))
            VT_CHECK(!"float round trip");
        protobuf_c_message_free_unpacked(back, NULL);
        free(text);
    }
}

static void test_encode_strings(void)
{
    Venta__Vendor__V1__CreateVendorRequest r = VENTA__VENDOR__V1__CREATE_VENDOR_REQUEST__INIT;

    r.name = "caf\xc3\xa9 \xf0\x9f\x8c\xae \"q\" \\ / \n\r\t\b\f \x01\x1f\x7f";
    CHECK_ENCODE(&r, false,
                 "{\"name\":\"caf\xc3\xa9 \xf0\x9f\x8c\xae \\\"q\\\" \\\\ / \\n\\r\\t\\b\\f "
                 "\\u0001\\u001f\\u007f\"}");
    CHECK_ROUND_TRIP(&r);

    /* Invalid UTF-8: each bad byte becomes U+FFFD (EF BF BD); valid neighbours stay. */
    struct {
        const char *in, *out;
    } bad[] = {
        {"a\xff", "a\xef\xbf\xbd"},
        {"\x80x", "\xef\xbf\xbdx"},
        {"\xc3", "\xef\xbf\xbd"},                                                 /* truncated */
        {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"},                                 /* overlong '/' */
        {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},                 /* surrogate */
        {"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* >10FFFF */
        {"\xe2\x82\xac\xe2\x82", "\xe2\x82\xac\xef\xbf\xbd\xef\xbf\xbd"},
        {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"}, /* valid 4-byte */
        {"\xef\xbf\xbf", "\xef\xbf\xbf"},         /* U+FFFF is valid UTF-8 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char want[128];
        r.name = (char *)bad[i].in;
        snprintf(want, sizeof want, "{\"name\":\"%s\"}", bad[i].out);
        CHECK_ENCODE(&r, false, want);
    }

    /* The buffer helpers on their own. */
    vt_json_buf b = {0};
    vt_json_buf_puts(&b, "{\"error\":");
    vt_json_buf_put_string(&b, "a\0b", 3);
    vt_json_buf_put(&b, "}", 1);
    size_t len;
    char *text = vt_json_buf_take(&b, &len);
    VT_CHECK_STR(text, "{\"error\":\"a\\u0000b\"}");
    VT_CHECK_INT(len, strlen("{\"error\":\"a\\u0000b\"}"));
    VT_CHECK(b.data == NULL && b.len == 0);
    free(text);
    text = vt_json_buf_take(&b, &len);
    VT_CHECK_STR(text, "");
    VT_CHECK_INT(len, 0);
    free(text);
}

static void test_encode_bytes_enums_repeated(void)
{
    Venta__Test__V1__EchoRequest e = VENTA__TEST__V1__ECHO_REQUEST__INIT;
    uint8_t all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;

    e.payload.data = (uint8_t *)"\xfb\xff";
    e.payload.len = 2;
    CHECK_ENCODE(&e, false, "{\"payload\":\"+/8=\"}");
    e.payload.len = 1;
    CHECK_ENCODE(&e, false, "{\"payload\":\"+w==\"}");
    e.payload.data = (uint8_t *)"abc";
    e.payload.len = 3;
    e.sleep_ms = -5;
    CHECK_ENCODE(&e, false, "{\"payload\":\"YWJj\",\"sleepMs\":-5}");
    e.payload.data = all;
    e.payload.len = sizeof all;
    CHECK_ROUND_TRIP(&e);

    Venta__Test__V1__EchoResponse r = VENTA__TEST__V1__ECHO_RESPONSE__INIT;
    r.deadline_ms = -1;
    CHECK_ENCODE(&r, true,
                 "{\"message\":\"\",\"payload\":\"\",\"requestId\":\"\",\"userId\":\"\","
                 "\"metadataValue\":\"\",\"deadlineMs\":\"-1\",\"worker\":0}");

    Grpc__Health__V1__HealthCheckResponse h = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    CHECK_ENCODE(&h, true, "{\"status\":\"UNKNOWN\"}");
    CHECK_ENCODE(&h, false, "{}");
    h.status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
    CHECK_ENCODE(&h, false, "{\"status\":\"NOT_SERVING\"}");
    h.status = 7; /* open enum: a value outside it goes out as its number */
    CHECK_ENCODE(&h, false, "{\"status\":7}");
    CHECK_ROUND_TRIP(&h);

    Venta__User__V1__ApplySubscriptionEventRequest ev =
        VENTA__USER__V1__APPLY_SUBSCRIPTION_EVENT_REQUEST__INIT;
    char *aliases[] = {"a", "", "\xc3\xa9"};
    ev.n_aliases = 3;
    ev.aliases = aliases;
    ev.purchased_at_ms = 1732183200000;
    CHECK_ENCODE(&ev, false,
                 "{\"aliases\":[\"a\",\"\",\"\xc3\xa9\"],\"purchasedAtMs\":\"1732183200000\"}");
    char *text = encode(&ev, true);
    VT_CHECK(text && strstr(text, "\"entitlementIds\":[],") != NULL);
    VT_CHECK(text && strstr(text, "\"transferredTo\":[],") != NULL);
    free(text);
    CHECK_ROUND_TRIP(&ev);
}

/* A fully populated AllTypes, built by hand. */
static void test_round_trip_all_types(void)
{
    Venta__Jsontest__V1__AllTypes m = VENTA__JSONTEST__V1__ALL_TYPES__INIT;
    Venta__Jsontest__V1__AllTypes child = VENTA__JSONTEST__V1__ALL_TYPES__INIT;
    Venta__Jsontest__V1__Inner in1 = VENTA__JSONTEST__V1__INNER__INIT;
    Venta__Jsontest__V1__Inner in2 = VENTA__JSONTEST__V1__INNER__INIT;
    Venta__Jsontest__V1__Inner *inners[] = {&in1, &in2};
    int32_t r32[] = {0, -1, INT32_MAX};
    int64_t r64[] = {INT64_MIN, 0, INT64_MAX};
    uint64_t ru64[] = {0, UINT64_MAX};
    double rd[] = {0.5, -1e-10, INFINITY};
    float rf[] = {1.5f, -0.25f};
    protobuf_c_boolean rb[] = {1, 0, 1};
    char *rs[] = {"x", "", "\xe2\x82\xac"};
    ProtobufCBinaryData rby[] = {{0, NULL}, {3, (uint8_t *)"\x00\x01\xff"}};
    Venta__Jsontest__V1__Color rc[] = {VENTA__JSONTEST__V1__COLOR__RED,
                                       VENTA__JSONTEST__V1__COLOR__COLOR_UNSPECIFIED, 9};

    in1.label = "one";
    in1.n = 1;
    in2.n = -2;
    m.f_int32 = -7;
    m.f_sint32 = -8;
    m.f_sfixed32 = -9;
    m.f_uint32 = 10;
    m.f_fixed32 = 11;
    m.f_int64 = -12;
    m.f_sint64 = -13;
    m.f_sfixed64 = -14;
    m.f_uint64 = 15;
    m.f_fixed64 = 16;
    m.f_float = 1.25f;
    m.f_double = -17.5;
    m.f_bool = 1;
    m.f_string = "hello";
    m.f_bytes.data = (uint8_t *)"\x00\x00";
    m.f_bytes.len = 2;
    m.f_color = VENTA__JSONTEST__V1__COLOR__GREEN;
    m.f_inner = &in1;
    m.n_r_int32 = 3, m.r_int32 = r32;
    m.n_r_int64 = 3, m.r_int64 = r64;
    m.n_r_uint64 = 2, m.r_uint64 = ru64;
    m.n_r_double = 3, m.r_double = rd;
    m.n_r_float = 2, m.r_float = rf;
    m.n_r_bool = 3, m.r_bool = rb;
    m.n_r_string = 3, m.r_string = rs;
    m.n_r_bytes = 2, m.r_bytes = rby;
    m.n_r_color = 3, m.r_color = rc;
    m.n_r_inner = 2, m.r_inner = inners;
    m.choice_case = VENTA__JSONTEST__V1__ALL_TYPES__CHOICE_C_INNER;
    m.c_inner = &in2;
    child.choice_case = VENTA__JSONTEST__V1__ALL_TYPES__CHOICE_C_NUMBER;
    child.c_number = INT64_MIN;
    m.child = &child;

    CHECK_ROUND_TRIP(&m);
    CHECK_ENCODE(&child, false, "{\"cNumber\":\"-9223372036854775808\"}");
    char *text = encode(&m, false);
    VT_CHECK(text && strstr(text, "\"rColor\":[\"RED\",\"COLOR_UNSPECIFIED\",9]"));
    VT_CHECK(text && strstr(text, "\"rBytes\":[\"\",\"AAH/\"]"));
    VT_CHECK(text && strstr(text, "\"rDouble\":[0.5,-1e-10,\"Infinity\"]"));
    VT_CHECK(text && strstr(text, "\"rInner\":[{\"label\":\"one\",\"n\":1},{\"n\":-2}]"));
    VT_CHECK(text && strstr(text, "\"cInner\":{\"n\":-2}"));
    free(text);

    child.choice_case = VENTA__JSONTEST__V1__ALL_TYPES__CHOICE_C_TEXT;
    child.c_text = "t";
    CHECK_ROUND_TRIP(&m);
}

static void test_round_trip_user_and_lists(void)
{
    Venta__User__V1__User u = VENTA__USER__V1__USER__INIT;
    Venta__User__V1__Subscription s = VENTA__USER__V1__SUBSCRIPTION__INIT;
    char *ents[] = {"pro", "extra"};

    u.id = "user_1";
    u.email = "a@example.com";
    u.first_name = "J\xc3\xbcrgen";
    u.entitled = 1;
    s.status = "active";
    s.entitlement = "pro";
    s.n_entitlement_ids = 2;
    s.entitlement_ids = ents;
    s.expires_at = "2027-01-01T00:00:00Z";
    u.subscription = &s;
    CHECK_ROUND_TRIP(&u);
    CHECK_ENCODE(&u, false,
                 "{\"id\":\"user_1\",\"email\":\"a@example.com\",\"firstName\":\"J\xc3\xbcrgen\","
                 "\"subscription\":{\"status\":\"active\",\"entitlement\":\"pro\","
                 "\"entitlementIds\":[\"pro\",\"extra\"],\"expiresAt\":\"2027-01-01T00:00:00Z\"},"
                 "\"entitled\":true}");

    Venta__Vendor__V1__ListVendorsResponse l = VENTA__VENDOR__V1__LIST_VENDORS_RESPONSE__INIT;
    Venta__Vendor__V1__Vendor v1 = VENTA__VENDOR__V1__VENDOR__INIT;
    Venta__Vendor__V1__Vendor v2 = VENTA__VENDOR__V1__VENDOR__INIT;
    Venta__Vendor__V1__Vendor *vs[] = {&v1, &v2};
    v1.id = "a";
    v2.id = "b";
    v2.is_open = 1;
    l.n_vendors = 2;
    l.vendors = vs;
    l.next_page_token = "tok";
    CHECK_ROUND_TRIP(&l);
    CHECK_ENCODE(&l, false,
                 "{\"vendors\":[{\"id\":\"a\"},{\"id\":\"b\",\"isOpen\":true}],"
                 "\"nextPageToken\":\"tok\"}");
    l.n_vendors = 0;
    CHECK_ENCODE(&l, true, "{\"vendors\":[],\"nextPageToken\":\"tok\"}");
}

/* ---- decoding ---- */

static void test_decode_vendor(void)
{
    const char *json =
        "{\"id\":\"v1\",\"ownerId\":\"user_1\",\"name\":\"Caf\\u00e9 \\ud83c\\udf2e\","
        "\"description\":\"\",\"is_open\":true,\"profile_image\":\"http://x/y.png\","
        "\"location\":{\"lat\":52.52,\"lng\":13,\"updated_at\":\"t\"},\"createdAt\":null}";
    ProtobufCMessage *m = decode(vendor_d, json);
    VT_REQUIRE(m);
    Venta__Vendor__V1__Vendor *v = (Venta__Vendor__V1__Vendor *)m;
    VT_CHECK_STR(v->id, "v1");
    VT_CHECK_STR(v->owner_id, "user_1");
    VT_CHECK_STR(v->name, "Caf\xc3\xa9 \xf0\x9f\x8c\xae");
    VT_CHECK(v->description == protobuf_c_empty_string); /* "" shares the default */
    VT_CHECK(v->created_at == protobuf_c_empty_string);  /* null = unset */
    VT_CHECK(v->email == protobuf_c_empty_string);
    VT_CHECK_INT(v->is_open, 1);
    VT_CHECK_STR(v->profile_image, "http://x/y.png");
    VT_REQUIRE(v->location);
    VT_CHECK_NEAR(v->location->lat, 52.52, 0);
    VT_CHECK_NEAR(v->location->lng, 13, 0);
    VT_CHECK_STR(v->location->updated_at, "t");
    protobuf_c_message_free_unpacked(m, NULL);

    m = decode(vendor_d, "{\"location\":null,\"name\":null,\"isOpen\":null}");
    VT_REQUIRE(m);
    v = (Venta__Vendor__V1__Vendor *)m;
    VT_CHECK(v->location == NULL);
    VT_CHECK(v->name == protobuf_c_empty_string);
    VT_CHECK_INT(v->is_open, 0);
    protobuf_c_message_free_unpacked(m, NULL);

    m = decode(vendor_d, "  {}\n");
    VT_CHECK(m != NULL);
    protobuf_c_message_free_unpacked(m, NULL);
    m = decode(vendor_d, "{\"location\":{}}");
    VT_REQUIRE(m);
    VT_CHECK(((Venta__Vendor__V1__Vendor *)m)->location != NULL);
    protobuf_c_message_free_unpacked(m, NULL);

    /* Both spellings, mixed in one body. */
    m = decode(create_d, "{\"owner_id\":\"u\",\"profileImage\":\"p\",\"isOpen\":false,"
                         "\"name\":\"n\"}");
    VT_REQUIRE(m);
    Venta__Vendor__V1__CreateVendorRequest *c = (Venta__Vendor__V1__CreateVendorRequest *)m;
    VT_CHECK_STR(c->owner_id, "u");
    VT_CHECK_STR(c->profile_image, "p");
    VT_CHECK_STR(c->name, "n");
    VT_CHECK_INT(c->is_open, 0);
    protobuf_c_message_free_unpacked(m, NULL);

    /* Escapes in keys are decoded before lookup. */
    m = decode(create_d, "{\"\\u006eame\":\"n\"}");
    VT_REQUIRE(m);
    VT_CHECK_STR(((Venta__Vendor__V1__CreateVendorRequest *)m)->name, "n");
    protobuf_c_message_free_unpacked(m, NULL);

    /* Not NUL-terminated input: only len bytes are read. */
    const char *buf = "{\"name\":\"abc\"}GARBAGE";
    ProtobufCMessage *out = NULL;
    VT_CHECK_INT(vt_json_decode(create_d, buf, 14, NULL, &out, errbuf, sizeof errbuf), 0);
    VT_REQUIRE(out);
    VT_CHECK_STR(((Venta__Vendor__V1__CreateVendorRequest *)out)->name, "abc");
    protobuf_c_message_free_unpacked(out, NULL);
}

static void test_decode_oneofs(void)
{
    ProtobufCMessage *m =
        decode(update_d, "{\"id\":\"v1\",\"name\":\"New\",\"isOpen\":false,\"description\":null,"
                         "\"profile_image\":\"\"}");
    VT_REQUIRE(m);
    Venta__Vendor__V1__UpdateVendorRequest *u = (Venta__Vendor__V1__UpdateVendorRequest *)m;
    VT_CHECK_INT(u->opt_name_case, VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_NAME_NAME);
    VT_CHECK_STR(u->name, "New");
    VT_CHECK_INT(u->opt_is_open_case,
                 VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_IS_OPEN_IS_OPEN);
    VT_CHECK_INT(u->is_open, 0);
    VT_CHECK_INT(u->opt_description_case,
                 VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_DESCRIPTION__NOT_SET);
    VT_CHECK_INT(u->opt_email_case, VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_EMAIL__NOT_SET);
    VT_CHECK_INT(u->opt_profile_image_case,
                 VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_PROFILE_IMAGE_PROFILE_IMAGE);
    VT_CHECK_STR(u->profile_image, "");
    /* What the service sees: protobuf-c drops a oneof string that points at the shared
     * default, so "" must be a real allocation to survive the wire. */
    VT_CHECK(u->profile_image != protobuf_c_empty_string);
    {
        size_t n;
        uint8_t *wire = packed(u, &n);
        Venta__Vendor__V1__UpdateVendorRequest *w =
            venta__vendor__v1__update_vendor_request__unpack(NULL, n, wire);
        VT_REQUIRE(w);
        VT_CHECK_INT(w->opt_profile_image_case,
                     VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_PROFILE_IMAGE_PROFILE_IMAGE);
        VT_CHECK_INT(w->opt_is_open_case,
                     VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_IS_OPEN_IS_OPEN);
        venta__vendor__v1__update_vendor_request__free_unpacked(w, NULL);
        free(wire);
    }
    CHECK_ENCODE(u, true,
                 "{\"id\":\"v1\",\"name\":\"New\",\"profileImage\":\"\",\"isOpen\":false}");
    protobuf_c_message_free_unpacked(m, NULL);

    /* Multi-member oneof: the last member given wins only if it is the only one. */
    m = decode(all_d, "{\"cInner\":{\"label\":\"x\",\"n\":3}}");
    VT_REQUIRE(m);
    Venta__Jsontest__V1__AllTypes *a = (Venta__Jsontest__V1__AllTypes *)m;
    VT_CHECK_INT(a->choice_case, VENTA__JSONTEST__V1__ALL_TYPES__CHOICE_C_INNER);
    VT_CHECK_STR(a->c_inner->label, "x");
    protobuf_c_message_free_unpacked(m, NULL);
    m = decode(all_d, "{\"cText\":null,\"cNumber\":\"5\"}");
    VT_REQUIRE(m);
    a = (Venta__Jsontest__V1__AllTypes *)m;
    VT_CHECK_INT(a->choice_case, VENTA__JSONTEST__V1__ALL_TYPES__CHOICE_C_NUMBER);
    VT_CHECK_INT(a->c_number, 5);
    protobuf_c_message_free_unpacked(m, NULL);

    EXPECT_ERROR(all_d, "{\"cText\":\"a\",\"cNumber\":\"1\"}",
                 "field \"cNumber\" conflicts with \"cText\": both are in one oneof");
    EXPECT_ERROR(all_d, "{\"cInner\":{\"label\":\"x\"},\"c_text\":\"y\"}",
                 "field \"cText\" conflicts with \"cInner\": both are in one oneof");
    EXPECT_ERROR(all_d, "{\"child\":{\"cNumber\":1,\"cInner\":{}}}",
                 "field \"child.cInner\" conflicts with \"cNumber\": both are in one oneof");
}

static void test_decode_numbers(void)
{
    ProtobufCMessage *m = decode(
        event_d, "{\"purchasedAtMs\":\"9223372036854775807\","
                 "\"expirationAtMs\":\"-9223372036854775808\",\"eventTimestampMs\":1732183200000}");
    VT_REQUIRE(m);
    Venta__User__V1__ApplySubscriptionEventRequest *e =
        (Venta__User__V1__ApplySubscriptionEventRequest *)m;
    VT_CHECK(e->purchased_at_ms == INT64_MAX);
    VT_CHECK(e->expiration_at_ms == INT64_MIN);
    VT_CHECK(e->event_timestamp_ms == 1732183200000);
    protobuf_c_message_free_unpacked(m, NULL);

    /* Numbers too, exact beyond 2^53 when given as JSON integers. */
    m = decode(event_d,
               "{\"purchasedAtMs\":9223372036854775807,\"expirationAtMs\":-9007199254740993,"
               "\"eventTimestampMs\":1e3}");
    VT_REQUIRE(m);
    e = (Venta__User__V1__ApplySubscriptionEventRequest *)m;
    VT_CHECK(e->purchased_at_ms == INT64_MAX);
    VT_CHECK(e->expiration_at_ms == -9007199254740993);
    VT_CHECK(e->event_timestamp_ms == 1000);
    protobuf_c_message_free_unpacked(m, NULL);

    /* fUint32 twice: jansson refuses the duplicate key before we see it. */
    EXPECT_ERROR_PREFIX(all_d, "{\"fUint32\":4294967295,\"fSint32\":-0,\"fUint32\":0}",
                        "malformed JSON at line 1 column 44: duplicate object key");
    m = decode(all_d, "{\"fInt32\":\"-2147483648\",\"fUint32\":4294967295,\"fUint64\":"
                      "\"18446744073709551615\",\"fFixed64\":\"0\",\"fSfixed32\":2.0,"
                      "\"fDouble\":\"-1.5e3\",\"fFloat\":\"NaN\",\"rDouble\":[\"Infinity\","
                      "\"-Infinity\",1,\"2\"],\"fSint32\":-0}");
    VT_REQUIRE(m);
    Venta__Jsontest__V1__AllTypes *a = (Venta__Jsontest__V1__AllTypes *)m;
    VT_CHECK_INT(a->f_int32, INT32_MIN);
    VT_CHECK(a->f_uint32 == UINT32_MAX);
    VT_CHECK(a->f_uint64 == UINT64_MAX);
    VT_CHECK_INT(a->f_sfixed32, 2);
    VT_CHECK_NEAR(a->f_double, -1500, 0);
    VT_CHECK(isnan(a->f_float));
    VT_REQUIRE(a->n_r_double == 4);
    VT_CHECK(isinf(a->r_double[0]) && a->r_double[0] > 0);
    VT_CHECK(isinf(a->r_double[1]) && a->r_double[1] < 0);
    VT_CHECK_NEAR(a->r_double[3], 2, 0);
    protobuf_c_message_free_unpacked(m, NULL);

    m = decode(echo_resp_d, "{\"deadlineMs\":\"-1\",\"worker\":\"3\"}");
    VT_REQUIRE(m);
    VT_CHECK(((Venta__Test__V1__EchoResponse *)m)->deadline_ms == -1);
    VT_CHECK_INT(((Venta__Test__V1__EchoResponse *)m)->worker, 3);
    protobuf_c_message_free_unpacked(m, NULL);

    /* Range and integrality, named by field. */
    EXPECT_ERROR(event_d, "{\"purchasedAtMs\":\"9223372036854775808\"}",
                 "field \"purchasedAtMs\" is out of range for int64");
    EXPECT_ERROR(event_d, "{\"purchased_at_ms\":\"-9223372036854775809\"}",
                 "field \"purchasedAtMs\" is out of range for int64");
    EXPECT_ERROR(event_d, "{\"purchasedAtMs\":9.3e18}",
                 "field \"purchasedAtMs\" is out of range for int64");
    EXPECT_ERROR(event_d, "{\"purchasedAtMs\":\"1.5\"}",
                 "field \"purchasedAtMs\" must be an integer");
    EXPECT_ERROR(event_d, "{\"purchasedAtMs\":1.5}", "field \"purchasedAtMs\" must be an integer");
    EXPECT_ERROR(event_d, "{\"purchasedAtMs\":\" 1\"}",
                 "field \"purchasedAtMs\" must be an integer");
    EXPECT_ERROR(event_d, "{\"purchasedAtMs\":\"+1\"}",
                 "field \"purchasedAtMs\" must be an integer");
    EXPECT_ERROR(event_d, "{\"purchasedAtMs\":\"\"}", "field \"purchasedAtMs\" must be an integer");
    EXPECT_ERROR(event_d, "{\"purchasedAtMs\":true}", "field \"purchasedAtMs\" must be an integer");
    EXPECT_ERROR(search_d, "{\"limit\":2147483648}", "field \"limit\" is out of range for int32");
    EXPECT_ERROR(search_d, "{\"limit\":-2147483649}", "field \"limit\" is out of range for int32");
    EXPECT_ERROR(search_d, "{\"limit\":\"12abc\"}", "field \"limit\" must be an integer");
    EXPECT_ERROR(search_d, "{\"limit\":0.5}", "field \"limit\" must be an integer");
    EXPECT_ERROR(search_d, "{\"limit\":[1]}", "field \"limit\" must be an integer");
    EXPECT_ERROR(search_d, "{\"lat\":\"north\"}", "field \"lat\" must be a number");
    EXPECT_ERROR(search_d, "{\"lat\":\"inf\"}", "field \"lat\" must be a number");
    EXPECT_ERROR(search_d, "{\"lat\":\"0x10\"}", "field \"lat\" must be a number");
    EXPECT_ERROR(search_d, "{\"lat\":\"1e999\"}", "field \"lat\" is out of range for double");
    EXPECT_ERROR(search_d, "{\"lat\":false}", "field \"lat\" must be a number");
    EXPECT_ERROR(all_d, "{\"fUint32\":-1}", "field \"fUint32\" is out of range for uint32");
    EXPECT_ERROR(all_d, "{\"fUint32\":4294967296}", "field \"fUint32\" is out of range for uint32");
    EXPECT_ERROR(all_d, "{\"fUint64\":\"-5\"}", "field \"fUint64\" is out of range for uint64");
    EXPECT_ERROR(all_d, "{\"fUint64\":\"18446744073709551616\"}",
                 "field \"fUint64\" is out of range for uint64");
    EXPECT_ERROR(all_d, "{\"fFixed32\":\"4294967296\"}",
                 "field \"fFixed32\" is out of range for fixed32");
    EXPECT_ERROR(all_d, "{\"fSint32\":\"2147483648\"}",
                 "field \"fSint32\" is out of range for sint32");
    EXPECT_ERROR(all_d, "{\"fFloat\":1e39}", "field \"fFloat\" is out of range for float");
    EXPECT_ERROR(all_d, "{\"rInt64\":[1,\"2\",\"x\"]}", "field \"rInt64[2]\" must be an integer");
    EXPECT_ERROR(all_d, "{\"rUint64\":[-1]}", "field \"rUint64[0]\" is out of range for uint64");
    /* Integers beyond what JSON parsers hold are refused by jansson itself. */
    EXPECT_ERROR_PREFIX(event_d, "{\"purchasedAtMs\":9223372036854775808}",
                        "malformed JSON at line 1 column ");
}

static void test_decode_types_and_structure(void)
{
    EXPECT_ERROR(vendor_d, "{\"foo\":1}", "unknown field \"foo\"");
    EXPECT_ERROR(vendor_d, "{\"id\":\"x\",\"location\":{\"lat\":1,\"foo\":2}}",
                 "unknown field \"location.foo\"");
    EXPECT_ERROR(vendor_d, "{\"OwnerId\":\"x\"}", "unknown field \"OwnerId\"");
    EXPECT_ERROR(vendor_d, "{\"a\\\"b\\u0001\\\\\":1}", "unknown field \"a?b??\"");
    EXPECT_ERROR(vendor_d, "{\"isOpen\":\"yes\"}", "field \"isOpen\" must be a boolean");
    EXPECT_ERROR(vendor_d, "{\"is_open\":1}", "field \"isOpen\" must be a boolean");
    EXPECT_ERROR(vendor_d, "{\"name\":5}", "field \"name\" must be a string");
    EXPECT_ERROR(vendor_d, "{\"name\":{}}", "field \"name\" must be a string");
    EXPECT_ERROR(vendor_d, "{\"location\":[]}", "field \"location\" must be an object");
    EXPECT_ERROR(vendor_d, "{\"location\":\"here\"}", "field \"location\" must be an object");
    EXPECT_ERROR(vendor_d, "{\"location\":{\"lat\":\"x\"}}",
                 "field \"location.lat\" must be a number");
    EXPECT_ERROR(vendor_d, "{\"location\":{\"updatedAt\":1}}",
                 "field \"location.updatedAt\" must be a string");
    EXPECT_ERROR(create_d, "{\"ownerId\":\"a\",\"owner_id\":\"b\"}",
                 "field \"ownerId\" is given more than once");
    EXPECT_ERROR(create_d, "{\"owner_id\":null,\"ownerId\":\"b\"}",
                 "field \"ownerId\" is given more than once");
    EXPECT_ERROR(event_d, "{\"aliases\":\"a\"}", "field \"aliases\" must be an array");
    EXPECT_ERROR(event_d, "{\"aliases\":{}}", "field \"aliases\" must be an array");
    EXPECT_ERROR(event_d, "{\"aliases\":[\"a\",1]}", "field \"aliases[1]\" must be a string");
    EXPECT_ERROR(event_d, "{\"aliases\":[\"a\",null]}", "field \"aliases[1]\" must be a string");
    EXPECT_ERROR(list_d, "{\"vendors\":[{},{\"isOpen\":1}]}",
                 "field \"vendors[1].isOpen\" must be a boolean");
    EXPECT_ERROR(list_d, "{\"vendors\":[{},null]}", "field \"vendors[1]\" must be an object");
    EXPECT_ERROR(list_d, "{\"vendors\":[{\"location\":{\"lng\":{}}}]}",
                 "field \"vendors[0].location.lng\" must be a number");
    EXPECT_ERROR(list_d, "{\"vendors\":[{\"location\":{\"x\":1}}]}",
                 "unknown field \"vendors[0].location.x\"");
    EXPECT_ERROR(user_d, "{\"subscription\":{\"entitlementIds\":[\"a\",\"b\",2]}}",
                 "field \"subscription.entitlementIds[2]\" must be a string");
    EXPECT_ERROR(health_d, "{\"status\":\"BOGUS\"}",
                 "field \"status\" has no enum value \"BOGUS\"");
    EXPECT_ERROR(health_d, "{\"status\":\"serving\"}",
                 "field \"status\" has no enum value \"serving\"");
    EXPECT_ERROR(health_d, "{\"status\":true}", "field \"status\" must be an enum name or number");
    EXPECT_ERROR(health_d, "{\"status\":1.5}", "field \"status\" must be an integer");
    EXPECT_ERROR(health_d, "{\"status\":4294967296}", "field \"status\" is out of range for enum");
    EXPECT_ERROR(echo_d, "{\"payload\":\"!!!!\"}", "field \"payload\" is not valid base64");
    EXPECT_ERROR(echo_d, "{\"payload\":\"QQ=\"}", "field \"payload\" is not valid base64");
    EXPECT_ERROR(echo_d, "{\"payload\":\"Q\"}", "field \"payload\" is not valid base64");
    EXPECT_ERROR(echo_d, "{\"payload\":\"QR==\"}", "field \"payload\" is not valid base64");
    EXPECT_ERROR(echo_d, "{\"payload\":\"QQ==QQ==\"}", "field \"payload\" is not valid base64");
    EXPECT_ERROR(echo_d, "{\"payload\":\"QU JD\"}", "field \"payload\" is not valid base64");
    EXPECT_ERROR(echo_d, "{\"payload\":5}", "field \"payload\" must be a base64 string");

    /* Top level. */
    EXPECT_ERROR(vendor_d, "[]", "JSON body must be an object");
    EXPECT_ERROR(vendor_d, "\"x\"", "JSON body must be an object");
    EXPECT_ERROR(vendor_d, "42", "JSON body must be an object");
    EXPECT_ERROR(vendor_d, "null", "JSON body must be an object");
    EXPECT_ERROR(vendor_d, "{\"name\":\"a\",\"name\":\"b\"}",
                 "malformed JSON at line 1 column 18: duplicate object key near '\"name\"'");
    EXPECT_ERROR_PREFIX(vendor_d, "{\"name\": }", "malformed JSON at line 1 column 10: ");
    EXPECT_ERROR_PREFIX(vendor_d, "{\n\"name\": \"a\",\n}", "malformed JSON at line 3 column ");
    EXPECT_ERROR_PREFIX(vendor_d, "{} x", "malformed JSON at line 1 column ");
    EXPECT_ERROR_PREFIX(vendor_d, "", "malformed JSON at line ");
    EXPECT_ERROR_PREFIX(vendor_d, "{\"name\":\"a\\u0000b\"}", "malformed JSON at line 1 column ");
    EXPECT_ERROR_PREFIX(vendor_d, "{\"name\":\"\xff\"}", "malformed JSON at line 1 column ");
    EXPECT_ERROR_PREFIX(vendor_d, "{\"name\":\"\xed\xa0\x80\"}", "malformed JSON");
    EXPECT_ERROR_PREFIX(vendor_d, "{'name':1}", "malformed JSON");
    EXPECT_ERROR_PREFIX(vendor_d, "{\"name\":\"a\nb\"}", "malformed JSON");
    EXPECT_ERROR_PREFIX(vendor_d, "{\"isOpen\":NaN}", "malformed JSON");

    /* Errors without a buffer, and with a small one. */
    ProtobufCMessage *m = NULL;
    VT_CHECK_INT(vt_json_decode(vendor_d, "{\"x\":1}", 7, NULL, &m, NULL, 0), VT_INVALID_ARGUMENT);
    char small[8];
    VT_CHECK_INT(vt_json_decode(vendor_d, "{\"x\":1}", 7, NULL, &m, small, sizeof small),
                 VT_INVALID_ARGUMENT);
    VT_CHECK_STR(small, "unknown");
    VT_CHECK(m == NULL);
}

static void test_decode_bytes_enums_repeated(void)
{
    struct {
        const char *b64;
        const char *bytes;
        size_t len;
    } ok[] = {
        {"", "", 0},
        {"+/8=", "\xfb\xff", 2},
        {"+/8", "\xfb\xff", 2},
        {"-_8=", "\xfb\xff", 2},
        {"-_8", "\xfb\xff", 2},
        {"YWJj", "abc", 3},
        {"YQ==", "a", 1},
        {"YQ", "a", 1},
        {"AAECAw==", "\0\1\2\3", 4},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char json[64];
        snprintf(json, sizeof json, "{\"payload\":\"%s\"}", ok[i].b64);
        ProtobufCMessage *m = decode(echo_d, json);
        VT_REQUIRE(m);
        Venta__Test__V1__EchoRequest *e = (Venta__Test__V1__EchoRequest *)m;
        VT_CHECK_INT(e->payload.len, ok[i].len);
        VT_CHECK(ok[i].len == 0 || memcmp(e->payload.data, ok[i].bytes, ok[i].len) == 0);
        protobuf_c_message_free_unpacked(m, NULL);
    }

    ProtobufCMessage *m = decode(health_d, "{\"status\":\"SERVING\"}");
    VT_REQUIRE(m);
    VT_CHECK_INT(((Grpc__Health__V1__HealthCheckResponse *)m)->status,
                 GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
    protobuf_c_message_free_unpacked(m, NULL);
    m = decode(health_d, "{\"status\":2}");
    VT_REQUIRE(m);
    VT_CHECK_INT(((Grpc__Health__V1__HealthCheckResponse *)m)->status,
                 GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING);
    protobuf_c_message_free_unpacked(m, NULL);
    /* A numeric string is not an enum name. */
    EXPECT_ERROR(health_d, "{\"status\":\"12\"}", "field \"status\" has no enum value \"12\"");

    m = decode(event_d,
               "{\"aliases\":null,\"entitlementIds\":[],\"transferredFrom\":[\"\",\"x\"]}");
    VT_REQUIRE(m);
    Venta__User__V1__ApplySubscriptionEventRequest *e =
        (Venta__User__V1__ApplySubscriptionEventRequest *)m;
    VT_CHECK_INT(e->n_aliases, 0);
    VT_CHECK(e->aliases == NULL);
    VT_CHECK_INT(e->n_entitlement_ids, 0);
    VT_REQUIRE(e->n_transferred_from == 2);
    /* "" inside an array gets its own allocation (free_unpacked frees each element). */
    VT_CHECK_STR(e->transferred_from[0], "");
    VT_CHECK(e->transferred_from[0] != protobuf_c_empty_string);
    VT_CHECK_STR(e->transferred_from[1], "x");
    protobuf_c_message_free_unpacked(m, NULL);

    m = decode(all_d, "{\"rColor\":[\"RED\",0,\"GREEN\",77],\"rBool\":[true,false],"
                      "\"rBytes\":[\"\",\"AQ\"],\"rInner\":[{},{\"n\":\"4\"}]}");
    VT_REQUIRE(m);
    Venta__Jsontest__V1__AllTypes *a = (Venta__Jsontest__V1__AllTypes *)m;
    VT_REQUIRE(a->n_r_color == 4);
    VT_CHECK_INT(a->r_color[0], VENTA__JSONTEST__V1__COLOR__RED);
    VT_CHECK_INT(a->r_color[2], VENTA__JSONTEST__V1__COLOR__GREEN);
    VT_CHECK_INT(a->r_color[3], 77);
    VT_REQUIRE(a->n_r_bool == 2);
    VT_CHECK(a->r_bool[0] && !a->r_bool[1]);
    VT_REQUIRE(a->n_r_bytes == 2);
    VT_CHECK(a->r_bytes[0].len == 0 && a->r_bytes[1].len == 1 && a->r_bytes[1].data[0] == 1);
    VT_REQUIRE(a->n_r_inner == 2);
    VT_CHECK_INT(a->r_inner[1]->n, 4);
    protobuf_c_message_free_unpacked(m, NULL);
}

static void test_decode_bounds(void)
{
    static char buf[VT_JSON_MAX_INPUT + 64];

    /* Nesting: 32 levels of objects pass, 33 do not. */
    for (int depth = 31; depth <= 34; depth++) {
        size_t o = 0;
        for (int i = 1; i < depth; i++)
            o += (size_t)snprintf(buf + o, sizeof buf - o, "{\"child\":");
        o += (size_t)snprintf(buf + o, sizeof buf - o, "{\"fInt32\":%d}", depth);
        for (int i = 1; i < depth; i++)
            buf[o++] = '}';
        buf[o] = '\0';
        ProtobufCMessage *m = NULL;
        int rc = vt_json_decode(all_d, buf, o, NULL, &m, errbuf, sizeof errbuf);
        if (depth <= VT_JSON_MAX_DEPTH) {
            VT_CHECK_INT(rc, 0);
            const Venta__Jsontest__V1__AllTypes *a = (Venta__Jsontest__V1__AllTypes *)m;
            int n = 1;
            while (a && a->child) {
                a = a->child;
                n++;
            }
            VT_CHECK_INT(n, depth);
            VT_CHECK(a && a->f_int32 == depth);
            protobuf_c_message_free_unpacked(m, NULL);
        } else {
            VT_CHECK_INT(rc, VT_INVALID_ARGUMENT);
            VT_CHECK_STR(errbuf, "JSON nests deeper than 32 levels");
        }
    }
    /* Arrays count too, and are refused before their (wrong) type matters. */
    memset(buf, 0, sizeof buf);
    strcpy(buf, "{\"rInt32\":");
    memset(buf + strlen(buf), '[', 40);
    EXPECT_ERROR(all_d, buf, "JSON nests deeper than 32 levels");
    /* Brackets inside strings (escaped quotes included) do not count. */
    strcpy(buf, "{\"fString\":\"\\\"");
    memset(buf + strlen(buf), '{', 100);
    strcat(buf, "\"}");
    ProtobufCMessage *m = decode(all_d, buf);
    VT_CHECK(m != NULL);
    protobuf_c_message_free_unpacked(m, NULL);
    /* Deep garbage a client could send to exhaust the stack. */
    static char deep[60000];
    memset(deep, '[', sizeof deep - 1);
    deep[sizeof deep - 1] = '\0';
    EXPECT_ERROR(vendor_d, deep, "JSON nests deeper than 32 levels");

    /* Size: exactly VT_JSON_MAX_INPUT bytes pass, one more does not. */
    size_t head = strlen("{\"description\":\""), tail = strlen("\"}");
    memcpy(buf, "{\"description\":\"", head);
    memset(buf + head, 'x', VT_JSON_MAX_INPUT - head - tail);
    memcpy(buf + VT_JSON_MAX_INPUT - tail, "\"}", tail);
    m = NULL;
    VT_CHECK_INT(vt_json_decode(vendor_d, buf, VT_JSON_MAX_INPUT, NULL, &m, errbuf, sizeof errbuf),
                 0);
    VT_REQUIRE(m);
    VT_CHECK_INT(strlen(((Venta__Vendor__V1__Vendor *)m)->description),
                 VT_JSON_MAX_INPUT - head - tail);
    protobuf_c_message_free_unpacked(m, NULL);
    memmove(buf + head + 1, buf + head, VT_JSON_MAX_INPUT - head);
    m = (ProtobufCMessage *)1;
    VT_CHECK_INT(
        vt_json_decode(vendor_d, buf, VT_JSON_MAX_INPUT + 1, NULL, &m, errbuf, sizeof errbuf),
        VT_INVALID_ARGUMENT);
    VT_CHECK_STR(errbuf, "JSON body is larger than 65536 bytes");
    VT_CHECK(m == NULL);

    /* The path at the deepest point the depth bound allows. */
    size_t o = 0;
    char want[512] = "field \"";
    for (int i = 0; i < 29; i++) {
        o += (size_t)snprintf(buf + o, sizeof buf - o, "{\"child\":");
        strcat(want, "child.");
    }
    o += (size_t)snprintf(buf + o, sizeof buf - o, "{\"rInner\":[{\"n\":true}]}");
    for (int i = 0; i < 29; i++)
        buf[o++] = '}';
    buf[o] = '\0';
    strcat(want, "rInner[0].n\" must be an integer");
    EXPECT_ERROR(all_d, buf, want);
}

/* Every allocation is made through the caller's allocator and freed by free_unpacked,
 * and an allocator failure anywhere unwinds without a leak. */
static void test_allocator(void)
{
    const char *json =
        "{\"fString\":\"s\",\"fBytes\":\"AAE=\",\"fInner\":{\"label\":\"l\"},"
        "\"rString\":[\"a\",\"\",\"c\"],\"rBytes\":[\"AQ\",\"\"],\"rInner\":[{\"label\":\"x\"},{}],"
        "\"rInt64\":[\"1\",2],\"cInner\":{\"label\":\"o\"},\"child\":{\"cText\":\"t\","
        "\"child\":{\"rString\":[\"deep\"]}}}";
    counting cnt = {.budget = -1};
    ProtobufCAllocator a = {count_alloc, count_free, &cnt};
    ProtobufCMessage *m = NULL;

    VT_CHECK_INT(vt_json_decode(all_d, json, strlen(json), &a, &m, errbuf, sizeof errbuf), 0);
    VT_REQUIRE(m);
    long total = cnt.allocs;
    VT_CHECK(total > 15);
    protobuf_c_message_free_unpacked(m, &a);
    VT_CHECK_INT(cnt.frees, cnt.allocs);

    for (long budget = 0; budget < total; budget++) {
        counting fail = {.budget = budget};
        ProtobufCAllocator fa = {count_alloc, count_free, &fail};
        m = (ProtobufCMessage *)1;
        int rc = vt_json_decode(all_d, json, strlen(json), &fa, &m, errbuf, sizeof errbuf);
        VT_CHECK_INT(rc, VT_RESOURCE_EXHAUSTED);
        VT_CHECK(m == NULL);
        VT_CHECK_INT(fail.frees, fail.allocs);
    }

    /* set_field through the same allocator: replacing frees the old value. */
    counting sc = {.budget = -1};
    ProtobufCAllocator sa = {count_alloc, count_free, &sc};
    VT_CHECK_INT(vt_json_decode(all_d, json, strlen(json), &sa, &m, errbuf, sizeof errbuf), 0);
    VT_CHECK_INT(vt_json_set_field(m, "fString", "new", &sa, errbuf, sizeof errbuf), 0);
    VT_CHECK_INT(vt_json_set_field(m, "f_bytes", "AQID", &sa, errbuf, sizeof errbuf), 0);
    VT_CHECK_INT(vt_json_set_field(m, "fString", "", &sa, errbuf, sizeof errbuf), 0);
    VT_CHECK(((Venta__Jsontest__V1__AllTypes *)m)->f_string == protobuf_c_empty_string);
    sc.budget = 0;
    VT_CHECK_INT(vt_json_set_field(m, "fString", "x", &sa, errbuf, sizeof errbuf),
                 VT_RESOURCE_EXHAUSTED);
    sc.budget = -1;
    protobuf_c_message_free_unpacked(m, &sa);
    VT_CHECK_INT(sc.frees, sc.allocs);
}

/* ---- set_field ---- */

static int set(void *msg, const char *name, const char *value)
{
    return vt_json_set_field(msg, name, value, NULL, errbuf, sizeof errbuf);
}

#define EXPECT_SET_ERROR(msg, name, value, want)                                                   \
    do {                                                                                           \
        VT_CHECK_INT(set(msg, name, value), VT_INVALID_ARGUMENT);                                  \
        VT_CHECK_STR(errbuf, want);                                                                \
    } while (0)

static void test_set_field(void)
{
    ProtobufCMessage *m = decode(search_d, "{}");
    VT_REQUIRE(m);
    Venta__Vendor__V1__SearchVendorsRequest *s = (Venta__Vendor__V1__SearchVendorsRequest *)m;

    VT_CHECK_INT(set(m, "q", "tacos al pastor"), 0);
    VT_CHECK_STR(s->q, "tacos al pastor");
    VT_CHECK_INT(set(m, "q", "burritos"), 0); /* replaces; ASan checks the old one is freed */
    VT_CHECK_STR(s->q, "burritos");
    VT_CHECK_INT(set(m, "lat", "52.5"), 0);
    VT_CHECK_INT(s->opt_lat_case, VENTA__VENDOR__V1__SEARCH_VENDORS_REQUEST__OPT_LAT_LAT);
    VT_CHECK_NEAR(s->lat, 52.5, 0);
    VT_CHECK_INT(set(m, "lng", "-13"), 0);
    VT_CHECK_NEAR(s->lng, -13, 0);
    VT_CHECK_INT(s->opt_radius_meters_case,
                 VENTA__VENDOR__V1__SEARCH_VENDORS_REQUEST__OPT_RADIUS_METERS__NOT_SET);
    VT_CHECK_INT(set(m, "radiusMeters", "1e3"), 0);
    VT_CHECK_NEAR(s->radius_meters, 1000, 0);
    VT_CHECK_INT(set(m, "radius_meters", "250.5"), 0);
    VT_CHECK_NEAR(s->radius_meters, 250.5, 0);
    VT_CHECK_INT(set(m, "limit", "20"), 0);
    VT_CHECK_INT(s->limit, 20);
    VT_CHECK_INT(set(m, "cursor", ""), 0);
    VT_CHECK(s->cursor == protobuf_c_empty_string);
    CHECK_ENCODE(
        m, false,
        "{\"q\":\"burritos\",\"lat\":52.5,\"lng\":-13,\"radiusMeters\":250.5,\"limit\":20}");

    /* Strict text: each failure leaves the field as it was. */
    EXPECT_SET_ERROR(m, "limit", "12abc", "field \"limit\" must be an integer");
    EXPECT_SET_ERROR(m, "limit", " 12", "field \"limit\" must be an integer");
    EXPECT_SET_ERROR(m, "limit", "12 ", "field \"limit\" must be an integer");
    EXPECT_SET_ERROR(m, "limit", "+12", "field \"limit\" must be an integer");
    EXPECT_SET_ERROR(m, "limit", "1.5", "field \"limit\" must be an integer");
    EXPECT_SET_ERROR(m, "limit", "", "field \"limit\" must be an integer");
    EXPECT_SET_ERROR(m, "limit", "-", "field \"limit\" must be an integer");
    EXPECT_SET_ERROR(m, "limit", "2147483648", "field \"limit\" is out of range for int32");
    EXPECT_SET_ERROR(m, "limit", "99999999999999999999",
                     "field \"limit\" is out of range for int32");
    VT_CHECK_INT(s->limit, 20);
    EXPECT_SET_ERROR(m, "lat", "north", "field \"lat\" must be a number");
    EXPECT_SET_ERROR(m, "lat", "1,5", "field \"lat\" must be a number");
    EXPECT_SET_ERROR(m, "lat", "infinity", "field \"lat\" must be a number");
    EXPECT_SET_ERROR(m, "lat", "1e400", "field \"lat\" is out of range for double");
    VT_CHECK_NEAR(s->lat, 52.5, 0);
    VT_CHECK_INT(set(m, "lat", "NaN"), 0);
    VT_CHECK(isnan(s->lat));
    VT_CHECK_INT(set(m, "lat", "-Infinity"), 0);
    VT_CHECK(isinf(s->lat) && s->lat < 0);
    EXPECT_SET_ERROR(m, "foo", "1", "unknown field \"foo\"");
    EXPECT_SET_ERROR(m, "ne\"Lat\n", "1", "unknown field \"ne?Lat?\"");
    EXPECT_SET_ERROR(m, "\xff\xfe", "1", "unknown field \"??\"");
    protobuf_c_message_free_unpacked(m, NULL);

    m = decode(update_d, "{\"id\":\"body\"}");
    VT_REQUIRE(m);
    Venta__Vendor__V1__UpdateVendorRequest *u = (Venta__Vendor__V1__UpdateVendorRequest *)m;
    VT_CHECK_INT(set(m, "id", "3f0c1b1e-2a4d-4e55-9b8a-0d5c6e7f8a9b"), 0);
    VT_CHECK_STR(u->id, "3f0c1b1e-2a4d-4e55-9b8a-0d5c6e7f8a9b");
    VT_CHECK_INT(set(m, "is_open", "true"), 0);
    VT_CHECK_INT(u->opt_is_open_case,
                 VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_IS_OPEN_IS_OPEN);
    VT_CHECK_INT(u->is_open, 1);
    VT_CHECK_INT(set(m, "isOpen", "false"), 0);
    VT_CHECK_INT(u->is_open, 0);
    EXPECT_SET_ERROR(m, "isOpen", "yes", "field \"isOpen\" must be true or false");
    EXPECT_SET_ERROR(m, "isOpen", "1", "field \"isOpen\" must be true or false");
    EXPECT_SET_ERROR(m, "isOpen", "TRUE", "field \"isOpen\" must be true or false");
    VT_CHECK_INT(set(m, "description", ""), 0); /* a oneof "" is allocated, see above */
    VT_CHECK(u->description != protobuf_c_empty_string);
    VT_CHECK_INT(u->opt_description_case,
                 VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_DESCRIPTION_DESCRIPTION);
    VT_CHECK_INT(set(m, "name", "N"), 0);
    VT_CHECK_INT(set(m, "name", "M"), 0);
    VT_CHECK_STR(u->name, "M");
    CHECK_ENCODE(
        m, true,
        "{\"id\":\"3f0c1b1e-2a4d-4e55-9b8a-0d5c6e7f8a9b\",\"name\":\"M\",\"description\":\"\","
        "\"isOpen\":false}");
    protobuf_c_message_free_unpacked(m, NULL);

    m = decode(health_d, "{}");
    VT_REQUIRE(m);
    VT_CHECK_INT(set(m, "status", "SERVICE_UNKNOWN"), 0);
    VT_CHECK_INT(((Grpc__Health__V1__HealthCheckResponse *)m)->status, 3);
    VT_CHECK_INT(set(m, "status", "1"), 0);
    VT_CHECK_INT(((Grpc__Health__V1__HealthCheckResponse *)m)->status, 1);
    EXPECT_SET_ERROR(m, "status", "NOPE", "field \"status\" has no enum value \"NOPE\"");
    EXPECT_SET_ERROR(m, "status", "4294967296",
                     "field \"status\" has no enum value \"4294967296\"");
    protobuf_c_message_free_unpacked(m, NULL);

    m = decode(echo_d, "{\"payload\":\"AAE=\"}");
    VT_REQUIRE(m);
    VT_CHECK_INT(set(m, "payload", "-_8"), 0);
    Venta__Test__V1__EchoRequest *e = (Venta__Test__V1__EchoRequest *)m;
    VT_CHECK(e->payload.len == 2 && e->payload.data[0] == 0xfb && e->payload.data[1] == 0xff);
    EXPECT_SET_ERROR(m, "payload", "*", "field \"payload\" is not valid base64");
    VT_CHECK_INT(set(m, "payload", ""), 0);
    VT_CHECK(e->payload.len == 0);
    VT_CHECK_INT(set(m, "sleepMs", "-2147483648"), 0);
    VT_CHECK_INT(e->sleep_ms, INT32_MIN);
    protobuf_c_message_free_unpacked(m, NULL);

    m = decode(all_d, "{}");
    VT_REQUIRE(m);
    Venta__Jsontest__V1__AllTypes *a = (Venta__Jsontest__V1__AllTypes *)m;
    VT_CHECK_INT(set(m, "fInt64", "-9223372036854775808"), 0);
    VT_CHECK(a->f_int64 == INT64_MIN);
    EXPECT_SET_ERROR(m, "fInt64", "9223372036854775808",
                     "field \"fInt64\" is out of range for int64");
    VT_CHECK_INT(set(m, "fUint64", "18446744073709551615"), 0);
    VT_CHECK(a->f_uint64 == UINT64_MAX);
    EXPECT_SET_ERROR(m, "fUint32", "-1", "field \"fUint32\" is out of range for uint32");
    EXPECT_SET_ERROR(m, "fUint64", "-1", "field \"fUint64\" is out of range for uint64");
    VT_CHECK_INT(set(m, "fFloat", "0.1"), 0);
    VT_CHECK(a->f_float == 0.1f);
    EXPECT_SET_ERROR(m, "fFloat", "1e39", "field \"fFloat\" is out of range for float");
    VT_CHECK_INT(set(m, "fColor", "GREEN"), 0);
    VT_CHECK_INT(a->f_color, VENTA__JSONTEST__V1__COLOR__GREEN);
    VT_CHECK_INT(set(m, "cText", "one"), 0);
    VT_CHECK_INT(set(m, "c_text", "two"), 0);
    VT_CHECK_STR(a->c_text, "two");
    EXPECT_SET_ERROR(m, "cNumber", "5",
                     "field \"cNumber\" conflicts with \"cText\": both are in one oneof");
    VT_CHECK_STR(a->c_text, "two");
    EXPECT_SET_ERROR(m, "fInner", "x", "field \"fInner\" cannot be set from a parameter");
    EXPECT_SET_ERROR(m, "rString", "x", "field \"rString\" cannot be set from a parameter");
    EXPECT_SET_ERROR(m, "cInner", "x", "field \"cInner\" cannot be set from a parameter");
    protobuf_c_message_free_unpacked(m, NULL);

    /* On a message built with INIT: no allocation to replace at first. */
    Venta__Vendor__V1__GetVendorRequest g = VENTA__VENDOR__V1__GET_VENDOR_REQUEST__INIT;
    VT_CHECK_INT(set(&g, "id", "abc"), 0);
    VT_CHECK_STR(g.id, "abc");
    VT_CHECK_INT(vt_json_set_field(&g.base, "id", "x", NULL, NULL, 0), 0); /* frees "abc" */
    VT_CHECK_STR(g.id, "x");
    free(g.id);
    VT_CHECK_INT(vt_json_set_field(&g.base, "nope", "x", NULL, NULL, 0), VT_INVALID_ARGUMENT);
}

int main(void)
{
    VT_RUN(test_names);
    VT_RUN(test_encode_vendor);
    VT_RUN(test_encode_oneof_presence);
    VT_RUN(test_encode_numbers);
    VT_RUN(test_encode_strings);
    VT_RUN(test_encode_bytes_enums_repeated);
    VT_RUN(test_round_trip_all_types);
    VT_RUN(test_round_trip_user_and_lists);
    VT_RUN(test_decode_vendor);
    VT_RUN(test_decode_oneofs);
    VT_RUN(test_decode_numbers);
    VT_RUN(test_decode_types_and_structure);
    VT_RUN(test_decode_bytes_enums_repeated);
    VT_RUN(test_decode_bounds);
    VT_RUN(test_allocator);
    VT_RUN(test_set_field);
    return VT_TEST_RESULT();
}
