/*
 * test_json_encode.c — libs/json: JSON names, encoding the real API messages (Vendor,
 * User, lists) and json_test.proto's AllTypes for the types and oneof shapes the API
 * protos do not have, and round trips (checked by comparing protobuf wire bytes, which
 * covers every field at once).
 *
 * The checks and wrappers come from json_test_util.h.
 */
#include "json_test_util.h"

#include <float.h>

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
    CHECK_ENCODE(&s, true,
                 "{\"q\":\"\",\"lat\":0,\"limit\":20,\"cursor\":\"\",\"openNow\":false,"
                 "\"onlineNow\":false,\"highlightPreTag\":\"\",\"highlightPostTag\":\"\","
                 "\"page\":0}");
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
    vt_buf b = {0};
    vt_buf_puts(&b, "{\"error\":");
    vt_json_buf_put_string(&b, "a\0b", 3);
    vt_buf_put(&b, "}", 1);
    size_t len;
    char *text = vt_buf_take(&b, &len);
    VT_CHECK_STR(text, "{\"error\":\"a\\u0000b\"}");
    VT_CHECK_INT(len, strlen("{\"error\":\"a\\u0000b\"}"));
    VT_CHECK(b.data == NULL && b.len == 0);
    free(text);
    text = vt_buf_take(&b, &len);
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
    return VT_TEST_RESULT();
}
