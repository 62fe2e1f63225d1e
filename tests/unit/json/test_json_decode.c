/*
 * test_json_decode.c — libs/json: decoding the real API messages (CreateVendorRequest,
 * UpdateVendorRequest, SearchVendorsRequest, ApplySubscriptionEventRequest, ...) and
 * AllTypes: oneofs, numbers, types and structure, bytes, enums, repeated fields, bounds,
 * and the error sentence (with the field's JSON path) we answer bad bodies with. A
 * counting allocator checks that every decoded message (including the half-built ones
 * of failed decodes and of allocator failures) frees exactly what it allocated.
 *
 * The checks and wrappers come from json_test_util.h.
 */
#include "json_test_util.h"

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

int main(void)
{
    VT_RUN(test_decode_vendor);
    VT_RUN(test_decode_oneofs);
    VT_RUN(test_decode_numbers);
    VT_RUN(test_decode_types_and_structure);
    VT_RUN(test_decode_bytes_enums_repeated);
    VT_RUN(test_decode_bounds);
    VT_RUN(test_allocator);
    return VT_TEST_RESULT();
}
