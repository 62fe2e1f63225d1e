/*
 * Unit tests of the original backend's shapes (apps/gateway/rest_legacy_shapes.c): its
 * POST /vendor and PUT /vendor/:id bodies into our requests (both image spellings,
 * null, keys left out, wrong types, unknown keys) and our vendor into its
 * GET /vendor/:id answer; and its error envelope on a legacy route (rest_req.c).
 */
#include "rest_legacy_shapes.h"
#include "rest_test.h"
#include "vt_test.h"

#include <jansson.h>
#include <string.h>

static int create(const char *body, Venta__Vendor__V1__CreateVendorRequest **m, char *err)
{
    return rest_legacy_create_request(body, strlen(body), m, err, 256);
}

static int update(const char *body, Venta__Vendor__V1__UpdateVendorRequest **m, char *err)
{
    return rest_legacy_update_request(body, strlen(body), m, err, 256);
}

static void test_create_body(void)
{
    Venta__Vendor__V1__CreateVendorRequest *m = NULL;
    char err[256];
    VT_CHECK(create("{\"name\":\"Tacos\",\"description\":null,\"imageUrl\":\"https://i/x.jpg\","
                    "\"open\":true,\"extra\":[1]}",
                    &m, err) == VT_OK);
    VT_CHECK_STR(m->name, "Tacos");
    VT_CHECK_STR(m->description, "");
    VT_CHECK_STR(m->profile_image, "https://i/x.jpg");
    VT_CHECK(m->is_open);
    protobuf_c_message_free_unpacked(&m->base, NULL);
    VT_CHECK(create("{\"name\":\"T\",\"primaryImage\":\"https://i/y.jpg\"}", &m, err) == VT_OK);
    VT_CHECK_STR(m->profile_image, "https://i/y.jpg");
    protobuf_c_message_free_unpacked(&m->base, NULL);

    VT_CHECK(create("{\"description\":\"x\"}", &m, err) == VT_INVALID_ARGUMENT);
    VT_CHECK(strstr(err, "name is required") != NULL);
    VT_CHECK(create("{\"name\":3}", &m, err) == VT_INVALID_ARGUMENT);
    VT_CHECK(strstr(err, "name") != NULL);
    VT_CHECK(create("{\"name\":\"T\",\"open\":\"yes\"}", &m, err) == VT_INVALID_ARGUMENT);
    VT_CHECK(strstr(err, "open") != NULL);
    VT_CHECK(create("[1]", &m, err) == VT_INVALID_ARGUMENT);
    VT_CHECK(create("{\"name\":", &m, err) == VT_INVALID_ARGUMENT);
    VT_CHECK(strstr(err, "not valid JSON") != NULL);
    VT_CHECK(create("", &m, err) == VT_INVALID_ARGUMENT);
}

static void test_update_body(void)
{
    Venta__Vendor__V1__UpdateVendorRequest *m = NULL;
    char err[256];
    VT_CHECK(update("{\"description\":\"new\",\"phone\":null,\"open\":false}", &m, err) == VT_OK);
    /* Sent: set (null clears); left out: kept (no oneof case). */
    VT_CHECK(m->opt_description_case ==
             VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_DESCRIPTION_DESCRIPTION);
    VT_CHECK_STR(m->description, "new");
    VT_CHECK(m->opt_phone_case == VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_PHONE_PHONE);
    VT_CHECK_STR(m->phone, "");
    VT_CHECK(m->opt_is_open_case == VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_IS_OPEN_IS_OPEN);
    VT_CHECK(!m->is_open);
    VT_CHECK(m->opt_name_case == VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_NAME__NOT_SET);
    VT_CHECK(m->opt_profile_image_case ==
             VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_PROFILE_IMAGE__NOT_SET);
    protobuf_c_message_free_unpacked(&m->base, NULL);
    VT_CHECK(update("{\"imageUrl\":\"https://i/z.jpg\"}", &m, err) == VT_OK);
    VT_CHECK_STR(m->profile_image, "https://i/z.jpg");
    protobuf_c_message_free_unpacked(&m->base, NULL);
    VT_CHECK(update("{}", &m, err) == VT_OK);
    protobuf_c_message_free_unpacked(&m->base, NULL);
    VT_CHECK(update("{\"name\":null}", &m, err) == VT_INVALID_ARGUMENT);
    VT_CHECK(update("{\"name\":\"\"}", &m, err) == VT_INVALID_ARGUMENT);
    VT_CHECK(update("{\"website\":{}}", &m, err) == VT_INVALID_ARGUMENT);
    VT_CHECK(strstr(err, "website") != NULL);
}

static void test_vendor_json(void)
{
    Venta__Vendor__V1__Vendor v = VENTA__VENDOR__V1__VENDOR__INIT;
    v.id = "0b6f0a4e-8f0e-4b7e-9d55-1b2f3c4d5e6f";
    v.name = "Tacos \"El\" Rey";
    v.profile_image = "https://i/x.jpg";
    v.is_open = true;
    v.created_at = "2026-12-01T10:00:00.000Z";
    char *out = NULL;
    size_t len = 0;
    VT_CHECK(rest_legacy_vendor_json(&v, &out, &len) == VT_OK);
    json_t *o = json_loadb(out, len, 0, NULL);
    json_t *jv = json_object_get(o, "vendor");
    VT_CHECK_STR(json_string_value(json_object_get(jv, "name")), "Tacos \"El\" Rey");
    VT_CHECK_STR(json_string_value(json_object_get(jv, "primaryImage")), "https://i/x.jpg");
    VT_CHECK(json_is_true(json_object_get(jv, "open")));
    VT_CHECK(json_real_value(json_object_get(jv, "lat")) == 0.0);
    VT_CHECK(json_real_value(json_object_get(jv, "long")) == 0.0);
    VT_CHECK_STR(json_string_value(json_object_get(jv, "email")), "");
    json_decref(o);
    free(out);

    Venta__Common__V1__Location loc = VENTA__COMMON__V1__LOCATION__INIT;
    loc.lat = 40.5;
    loc.lng = -73.25;
    v.location = &loc;
    VT_CHECK(rest_legacy_vendor_json(&v, &out, &len) == VT_OK);
    o = json_loadb(out, len, 0, NULL);
    jv = json_object_get(o, "vendor");
    VT_CHECK(json_real_value(json_object_get(jv, "lat")) == 40.5);
    VT_CHECK(json_real_value(json_object_get(jv, "long")) == -73.25);
    json_decref(o);
    free(out);
}

static void test_error_envelope(void)
{
    rest_app app;
    rest_test_app(&app);
    static const rest_route legacy = {REST_GET, "/vendor/{id}", REST_H_VENDOR_GET, true,
                                      .legacy = true};
    rest_req *req = rest_req_new(&app, NULL);
    req->route = &legacy;
    req->path = strdup("/vendor/abc");
    snprintf(req->request_id, sizeof req->request_id, "rid-1");
    rest_respond_error(req, VT_NOT_FOUND, "vendor %s not found", "abc");
    VT_CHECK(req->status == 404);
    json_t *o = json_loadb(req->resp, req->resp_len, 0, NULL);
    json_t *e = json_object_get(o, "error");
    VT_CHECK_STR(json_string_value(json_object_get(e, "type")), "NOT_FOUND");
    VT_CHECK_STR(json_string_value(json_object_get(e, "code")), "NOT_FOUND");
    VT_CHECK_STR(json_string_value(json_object_get(e, "message")), "vendor abc not found");
    VT_CHECK_STR(json_string_value(json_object_get(e, "path")), "/vendor/abc");
    VT_CHECK_STR(json_string_value(json_object_get(e, "requestId")), "rid-1");
    VT_CHECK(json_string_length(json_object_get(e, "timestamp")) == VT_RFC3339_MS_LEN);
    json_decref(o);
    rest_req_unref(req);
    rest_test_app_free(&app);
}

/* GET /health: terminus' shape, up below the limit, down (503) at or above it. */
static void test_health_body(void)
{
    char body[512];
    VT_CHECK(rest_legacy_health_json(100, 200, body, sizeof body));
    json_t *o = json_loads(body, 0, NULL);
    VT_CHECK_STR(json_string_value(json_object_get(o, "status")), "ok");
    VT_CHECK_STR(json_string_value(json_object_get(
                     json_object_get(json_object_get(o, "info"), "memory_rss"), "status")),
                 "up");
    VT_CHECK(json_object_size(json_object_get(o, "error")) == 0);
    json_decref(o);

    VT_CHECK(!rest_legacy_health_json(200, 200, body, sizeof body));
    o = json_loads(body, 0, NULL);
    VT_CHECK_STR(json_string_value(json_object_get(o, "status")), "error");
    VT_CHECK(json_object_size(json_object_get(o, "info")) == 0);
    json_t *down = json_object_get(json_object_get(o, "error"), "memory_rss");
    VT_CHECK_STR(json_string_value(json_object_get(down, "status")), "down");
    VT_CHECK_STR(json_string_value(json_object_get(down, "message")),
                 "Used rss exceeded the set threshold");
    VT_CHECK(json_equal(down, json_object_get(json_object_get(o, "details"), "memory_rss")));
    json_decref(o);
}

int main(void)
{
    VT_RUN(test_create_body);
    VT_RUN(test_update_body);
    VT_RUN(test_vendor_json);
    VT_RUN(test_error_envelope);
    VT_RUN(test_health_body);
    return VT_TEST_RESULT();
}
