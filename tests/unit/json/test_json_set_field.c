/*
 * test_json_set_field.c — libs/json: vt_json_set_field, setting one field of a message
 * from a string (as a gateway does from a path or query parameter), and its errors.
 *
 * The checks and wrappers come from json_test_util.h.
 */
#include "json_test_util.h"

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
    VT_RUN(test_set_field);
    return VT_TEST_RESULT();
}
