/*
 * test_vendor_crud.c — venta-vendor: health, create and get, validation messages naming
 * the field, SQL-looking and oversized input stored verbatim, partial updates that
 * respect field presence, delete; ownership and identity throughout, and the domain
 * events each change publishes.
 */
#include "vendor_test_util.h"

static void test_health(void)
{
    VT_CHECK(wait_serving(20000));
    VT_CHECK_INT(health("venta.vendor.v1.VendorService"),
                 GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
    VT_CHECK_INT(health("postgres"),
                 GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
    VT_CHECK_INT(health("nats"), GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
}

static void test_create_and_get(void)
{
    profile p = {.name = "Crêpes de la Lune",
                 .description = "Sweet and savoury crêpes.\nOpen late.",
                 .email = "hello@crepes-lune.example.com",
                 .phone = "+33 1 23-45-67-89",
                 .website = "https://crepes-lune.example.com/menu?x=1",
                 .profile_image = "http://cdn.example.com/img/lune.png",
                 .owner_id = "user_alice",
                 .is_open = true};
    Venta__Vendor__V1__CreateVendorRequest req = VENTA__VENDOR__V1__CREATE_VENDOR_REQUEST__INIT;
    req.name = (char *)p.name, req.description = (char *)p.description;
    req.email = (char *)p.email, req.phone = (char *)p.phone, req.website = (char *)p.website;
    req.profile_image = (char *)p.profile_image, req.owner_id = (char *)p.owner_id;
    req.is_open = true;
    Vendor *v = NULL;
    VT_REQUIRE(call("CreateVendor", &req.base, "user_alice", "req-create-1", &v) == VT_OK);
    VT_CHECK(vt_uuid_valid(v->id));
    VT_CHECK_STR(v->owner_id, "user_alice");
    VT_CHECK_STR(v->name, p.name);
    VT_CHECK_STR(v->description, p.description);
    VT_CHECK_STR(v->email, p.email);
    VT_CHECK_STR(v->phone, p.phone);
    VT_CHECK_STR(v->website, p.website);
    VT_CHECK_STR(v->profile_image, p.profile_image);
    VT_CHECK(v->is_open);
    VT_CHECK(v->location == NULL);
    VT_CHECK(rfc3339_ms(v->created_at));
    VT_CHECK(rfc3339_ms(v->updated_at));

    Vendor *g = NULL;
    VT_CHECK_INT(get(v->id, &g), VT_OK);
    if (g) {
        VT_CHECK_STR(g->id, v->id);
        VT_CHECK_STR(g->name, p.name);
        VT_CHECK_STR(g->email, p.email);
        VT_CHECK_STR(g->created_at, v->created_at);
        VT_CHECK(g->location == NULL);
    }
    seen_event e;
    VT_CHECK(wait_event("evt.vendor.created", v->id, &e));
    VT_CHECK_STR(e.type, "created");
    VT_CHECK_STR(e.owner_id, "user_alice");
    VT_CHECK_STR(e.name, p.name);
    VT_CHECK(e.is_open);
    VT_CHECK_STR(e.request_id, "req-create-1");
    free_msg(g);
    free_msg(v);

    /* Optional fields may stay empty; the owner comes from x-user-id alone. */
    profile minimal = {.name = "M"};
    VT_CHECK_INT(create("user_alice", &minimal, &v), VT_OK);
    if (v) {
        VT_CHECK_STR(v->owner_id, "user_alice");
        VT_CHECK_STR(v->email, "");
        VT_CHECK(!v->is_open);
    }
    free_msg(v);
}

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    VT_REQUIRE(s != NULL);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static void expect_invalid(const profile *p, const char *message)
{
    Vendor *v = NULL;
    int rc = create("user_invalid", p, &v);
    VT_CHECK_INT(rc, VT_INVALID_ARGUMENT);
    if (strcmp(msg, message) != 0)
        fprintf(stderr, "  message \"%s\", expected \"%s\"\n", msg, message);
    VT_CHECK(strcmp(msg, message) == 0);
    free_msg(v);
}

static void test_create_validation(void)
{
    profile ok = {.name = "Valid"};
    Vendor *v = NULL;
    VT_CHECK_INT(create(NULL, &ok, &v), VT_UNAUTHENTICATED);
    VT_CHECK(strstr(msg, "x-user-id") != NULL);
    profile other = {.name = "Valid", .owner_id = "user_mallory"};
    VT_CHECK_INT(create("user_invalid", &other, &v), VT_PERMISSION_DENIED);

    char *n121 = repeat('a', 121), *n10k = repeat('a', 10 * 1024);
    char *d2001 = repeat('d', 2001), *d1m = repeat('d', 1024 * 1024);
    const char *name_len = "name must be 1 to 120 characters";
    expect_invalid(&(profile){.name = ""}, name_len);
    expect_invalid(&(profile){.name = n121}, name_len);
    expect_invalid(&(profile){.name = n10k}, name_len);
    expect_invalid(&(profile){.name = "   "}, "name must not be blank");
    expect_invalid(&(profile){.name = "\xff\xfe"}, "name is not valid UTF-8");
    expect_invalid(&(profile){.name = "tab\there"}, "name must not contain control characters");
    expect_invalid(&(profile){.name = "x", .description = d2001},
                   "description must be at most 2000 characters");
    expect_invalid(&(profile){.name = "x", .description = d1m},
                   "description must be at most 2000 characters");
    const char *bad_email = "email is not a valid email address";
    expect_invalid(&(profile){.name = "x", .email = "not-an-email"}, bad_email);
    expect_invalid(&(profile){.name = "x", .email = "a@b"}, bad_email);
    expect_invalid(&(profile){.name = "x", .email = "a b@example.com"}, bad_email);
    expect_invalid(&(profile){.name = "x", .email = "a@@example.com"}, bad_email);
    const char *bad_url = "website must be an http(s) URL";
    expect_invalid(&(profile){.name = "x", .website = "javascript:alert(1)"}, bad_url);
    expect_invalid(&(profile){.name = "x", .website = "ftp://example.com"}, bad_url);
    expect_invalid(&(profile){.name = "x", .website = "https://"}, bad_url);
    expect_invalid(&(profile){.name = "x", .website = "https://exa mple.com"}, bad_url);
    expect_invalid(&(profile){.name = "x", .profile_image = "data:image/png;base64,AAAA"},
                   "profileImage must be an http(s) URL");
    const char *bad_phone = "phone must be 7 to 20 digits, optionally with +, spaces, dashes";
    expect_invalid(&(profile){.name = "x", .phone = "12345"}, bad_phone);
    expect_invalid(&(profile){.name = "x", .phone = "555-CALL-NOW"}, bad_phone);
    expect_invalid(&(profile){.name = "x", .phone = "1+5551234567"}, bad_phone);
    expect_invalid(&(profile){.name = "x", .phone = "123456789012345678901"}, bad_phone);
    free(n121), free(n10k), free(d2001), free(d1m);
    VT_CHECK_INT(count_rows("user_invalid"), 0); /* nothing stored */

    /* Limits count characters, not bytes: 120 two-byte characters are fine. */
    char name120[241];
    for (int i = 0; i < 120; i++)
        memcpy(name120 + 2 * i, "é", 2);
    name120[240] = '\0';
    VT_CHECK_INT(create("user_invalid", &(profile){.name = name120}, &v), VT_OK);
    if (v)
        VT_CHECK_STR(v->name, name120);
    free_msg(v);
}

static void test_sql_looking_input_is_stored_verbatim(void)
{
    const char *name = "Robert'); DROP TABLE vendor.vendors;--";
    const char *description = "' OR '1'='1' -- $1 %s \\x00 E'\\\\' ; SELECT pg_sleep(10)";
    Vendor *v = NULL;
    VT_REQUIRE(create("user_bobby", &(profile){.name = name, .description = description}, &v) ==
               VT_OK);
    Vendor *g = NULL;
    VT_CHECK_INT(get(v->id, &g), VT_OK);
    if (g) {
        VT_CHECK_STR(g->name, name);
        VT_CHECK_STR(g->description, description);
    }
    VT_CHECK(count_rows("user_bobby") == 1); /* the table is still there */
    free_msg(g);
    free_msg(v);
}

static void test_get_errors(void)
{
    VT_CHECK_INT(get("6f1c1f8e-3c1a-4c1e-9a57-1d8a4b4ad000", NULL), VT_NOT_FOUND);
    VT_CHECK(strstr(msg, "6f1c1f8e-3c1a-4c1e-9a57-1d8a4b4ad000") != NULL);
    VT_CHECK_INT(get("not-a-uuid", NULL), VT_NOT_FOUND); /* no vendor has such an id */
    VT_CHECK_STR(msg, "vendor not-a-uuid not found");
    VT_CHECK_INT(get("'; DROP TABLE vendor.vendors; --", NULL), VT_NOT_FOUND);
    VT_CHECK_INT(get("", NULL), VT_INVALID_ARGUMENT);
    VT_CHECK_STR(msg, "id is required");
}

static void test_update_partial(void)
{
    Vendor *v = NULL;
    profile p = {.name = "Noodle Cart",
                 .description = "Hand-pulled noodles",
                 .email = "noodles@example.com",
                 .website = "https://noodles.example.com"};
    VT_REQUIRE(create("user_nora", &p, &v) == VT_OK);
    char id[VT_UUID_LEN + 1];
    snprintf(id, sizeof id, "%s", v->id);
    free_msg(v);

    /* description present and "": cleared; everything else untouched. */
    Venta__Vendor__V1__UpdateVendorRequest req = VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__INIT;
    req.id = id;
    req.opt_description_case =
        VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_DESCRIPTION_DESCRIPTION;
    req.description = (char *)"";
    VT_CHECK_INT(update("user_nora", &req, &v), VT_OK);
    if (v) {
        VT_CHECK_STR(v->description, "");
        VT_CHECK_STR(v->name, "Noodle Cart");
        VT_CHECK_STR(v->email, "noodles@example.com");
        VT_CHECK_STR(v->website, "https://noodles.example.com");
    }
    free_msg(v);

    /* name present; description absent stays "" (not reset, not restored). */
    req = (Venta__Vendor__V1__UpdateVendorRequest)VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__INIT;
    req.id = id;
    req.opt_name_case = VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_NAME_NAME;
    req.name = (char *)"Noodle Cart Deluxe";
    req.opt_is_open_case = VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_IS_OPEN_IS_OPEN;
    req.is_open = true;
    VT_CHECK_INT(update("user_nora", &req, &v), VT_OK);
    if (v) {
        VT_CHECK_STR(v->name, "Noodle Cart Deluxe");
        VT_CHECK_STR(v->description, "");
        VT_CHECK(v->is_open);
        VT_CHECK_STR(v->email, "noodles@example.com");
    }
    free_msg(v);
    seen_event e;
    VT_CHECK(wait_event("evt.vendor.updated", id, &e)); /* the description change */
    VT_CHECK_STR(e.name, "Noodle Cart");
    VT_CHECK(!e.is_open);
    VT_CHECK(wait_event_n("evt.vendor.updated", id, 2, &e));
    VT_CHECK_STR(e.type, "updated");
    VT_CHECK_STR(e.name, "Noodle Cart Deluxe");
    VT_CHECK_STR(e.owner_id, "user_nora");
    VT_CHECK(e.is_open);

    /* email "" clears it; is_open false present closes; the rest stays. */
    req = (Venta__Vendor__V1__UpdateVendorRequest)VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__INIT;
    req.id = id;
    req.opt_email_case = VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_EMAIL_EMAIL;
    req.email = (char *)"";
    req.opt_is_open_case = VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_IS_OPEN_IS_OPEN;
    req.is_open = false;
    VT_CHECK_INT(update("user_nora", &req, &v), VT_OK);
    if (v) {
        VT_CHECK_STR(v->email, "");
        VT_CHECK(!v->is_open);
        VT_CHECK_STR(v->name, "Noodle Cart Deluxe");
        VT_CHECK_STR(v->website, "https://noodles.example.com");
    }
    char updated_at[32] = "";
    if (v)
        snprintf(updated_at, sizeof updated_at, "%s", v->updated_at);
    free_msg(v);

    /* No field present: the vendor comes back unchanged, nothing published. */
    VT_CHECK(wait_event_n("evt.vendor.updated", id, 3, NULL));
    int before = count_events("evt.vendor.updated", id);
    req = (Venta__Vendor__V1__UpdateVendorRequest)VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__INIT;
    req.id = id;
    VT_CHECK_INT(update("user_nora", &req, &v), VT_OK);
    if (v) {
        VT_CHECK_STR(v->updated_at, updated_at);
        VT_CHECK_STR(v->name, "Noodle Cart Deluxe");
    }
    free_msg(v);

    /* Identity, ownership, existence, validation. */
    req.opt_name_case = VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_NAME_NAME;
    req.name = (char *)"Hijacked";
    VT_CHECK_INT(update("user_mallory", &req, NULL), VT_PERMISSION_DENIED);
    VT_CHECK(strstr(msg, "owner") != NULL);
    VT_CHECK_INT(update(NULL, &req, NULL), VT_UNAUTHENTICATED);
    req.opt_name_case = 0;
    VT_CHECK_INT(update("user_mallory", &req, NULL), VT_PERMISSION_DENIED); /* even a no-op */
    req.opt_name_case = VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_NAME_NAME;
    req.name = (char *)"";
    VT_CHECK_INT(update("user_nora", &req, NULL), VT_INVALID_ARGUMENT);
    VT_CHECK_STR(msg, "name must be 1 to 120 characters");
    req.name = (char *)"ok";
    req.opt_phone_case = VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_PHONE_PHONE;
    req.phone = (char *)"call me";
    VT_CHECK_INT(update("user_nora", &req, NULL), VT_INVALID_ARGUMENT);
    VT_CHECK_STR(msg, "phone must be 7 to 20 digits, optionally with +, spaces, dashes");
    req.opt_phone_case = 0;
    req.id = (char *)"6f1c1f8e-3c1a-4c1e-9a57-1d8a4b4ad001";
    VT_CHECK_INT(update("user_nora", &req, NULL), VT_NOT_FOUND);
    req.id = (char *)"nope";
    VT_CHECK_INT(update("user_nora", &req, NULL), VT_NOT_FOUND);
    VT_CHECK_STR(msg, "vendor nope not found");

    VT_CHECK_INT(get(id, &v), VT_OK); /* none of the failures changed anything */
    if (v) {
        VT_CHECK_STR(v->name, "Noodle Cart Deluxe");
        VT_CHECK_STR(v->updated_at, updated_at);
    }
    free_msg(v);
    /* Nothing was published for those calls: a later update's event is the next one. */
    req = (Venta__Vendor__V1__UpdateVendorRequest)VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__INIT;
    req.id = id;
    req.opt_website_case = VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_WEBSITE_WEBSITE;
    req.website = (char *)"https://noodles.example.com/v2";
    VT_CHECK_INT(update("user_nora", &req, NULL), VT_OK);
    VT_CHECK(wait_event_n("evt.vendor.updated", id, before + 1, NULL));
    VT_CHECK_INT(count_events("evt.vendor.updated", id), before + 1);
}

static void test_delete(void)
{
    char id[VT_UUID_LEN + 1];
    create_id("user_dora", "Dumpling Stand", "", id);
    VT_CHECK_INT(del("user_mallory", id), VT_PERMISSION_DENIED);
    VT_CHECK_INT(del(NULL, id), VT_UNAUTHENTICATED);
    VT_CHECK_INT(del("user_dora", "not-a-uuid"), VT_NOT_FOUND);
    VT_CHECK_INT(get(id, NULL), VT_OK);

    Venta__Vendor__V1__DeleteVendorRequest req = VENTA__VENDOR__V1__DELETE_VENDOR_REQUEST__INIT;
    req.id = id;
    Venta__Vendor__V1__DeleteVendorResponse *res = NULL;
    VT_CHECK_INT(call("DeleteVendor", &req.base, "user_dora", NULL, &res), VT_OK);
    if (res)
        VT_CHECK_STR(res->id, id);
    free_msg(res);
    VT_CHECK_INT(get(id, NULL), VT_NOT_FOUND);
    VT_CHECK_INT(del("user_dora", id), VT_NOT_FOUND);
    VT_CHECK_INT(del("user_mallory", id), VT_NOT_FOUND);
    Venta__Vendor__V1__UpdateVendorRequest u = VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__INIT;
    u.id = id;
    u.opt_name_case = VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_NAME_NAME;
    u.name = (char *)"Back from the dead";
    VT_CHECK_INT(update("user_dora", &u, NULL), VT_NOT_FOUND);
    seen_event e;
    VT_CHECK(wait_event("evt.vendor.deleted", id, &e));
    VT_CHECK_STR(e.type, "deleted");
    VT_CHECK_STR(e.owner_id, "user_dora");
    VT_CHECK_STR(e.name, "Dumpling Stand");
    VT_CHECK_INT(count_events("evt.vendor.deleted", id), 1);
}

void vendor_crud_tests(void)
{
    VT_RUN(test_health);
    VT_RUN(test_create_and_get);
    VT_RUN(test_create_validation);
    VT_RUN(test_sql_looking_input_is_stored_verbatim);
    VT_RUN(test_get_errors);
    VT_RUN(test_update_partial);
    VT_RUN(test_delete);
}
