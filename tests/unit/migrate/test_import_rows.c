/*
 * Unit tests of import-venta's row rules (apps/migrate/import_rows.c): the status
 * mapping, which clerkIds and vendor ids are ours, what of a vendor is kept or left out,
 * and what a RevenueCat integration's data must hold.
 */
#include "import_rows.h"
#include "vt_test.h"

static import_vendor_row good_vendor(void)
{
    return (import_vendor_row){.id = "0A000009-0000-4000-8000-00000000000F",
                               .owner_exists = true,
                               .owner_clerk_id = "user_1",
                               .has_lat = true,
                               .has_long = true,
                               .lat = 40.7,
                               .lng = -74,
                               .name = "Tacos",
                               .email = "a@b.example",
                               .open = true};
}

static void test_statuses(void)
{
    VT_CHECK_STR(import_status_for("Active")->status, "active");
    VT_CHECK(!import_status_for("Active")->ends_at_update);
    VT_CHECK_STR(import_status_for("Cancelled")->status, "cancelled");
    VT_CHECK(import_status_for("Cancelled")->ends_at_update);
    VT_CHECK_STR(import_status_for("Inactive")->status, "expired");
    VT_CHECK_STR(import_status_for("Pending")->status, "expired");
    VT_CHECK(import_status_for("active") == NULL); /* the enum is case-sensitive */
    VT_CHECK(import_status_for("Trialing") == NULL);
    VT_CHECK(import_status_for(NULL) == NULL);
}

static void test_clerk_ids(void)
{
    char why[IMPORT_WHY_LEN];
    VT_CHECK_INT(import_check_clerk_id("user_2abc", why, sizeof why), VT_OK);
    VT_CHECK_INT(import_check_clerk_id("", why, sizeof why), VT_INVALID_ARGUMENT);
    VT_CHECK(strstr(why, "no clerkId") != NULL);
    VT_CHECK_INT(import_check_clerk_id(NULL, why, sizeof why), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(import_check_clerk_id("a b", why, sizeof why), VT_INVALID_ARGUMENT);
    char long_id[130];
    memset(long_id, 'x', 129);
    long_id[129] = '\0';
    VT_CHECK_INT(import_check_clerk_id(long_id, why, sizeof why), VT_INVALID_ARGUMENT);
}

static void test_vendor_mapping(void)
{
    char why[IMPORT_WHY_LEN];
    import_vendor v;
    import_vendor_row in = good_vendor();
    VT_CHECK_INT(import_map_vendor(&in, &v, why, sizeof why), VT_OK);
    VT_CHECK_STR(v.id, "0a000009-0000-4000-8000-00000000000f");
    VT_CHECK_STR(v.owner_id, "user_1");
    VT_CHECK_STR(v.description, "");
    VT_CHECK_STR(v.email, "a@b.example");
    VT_CHECK(v.has_location && v.is_open);
    VT_CHECK_INT(v.nnotes, 0);

    in.id = "ckx0cuid0000";
    VT_CHECK_INT(import_map_vendor(&in, &v, why, sizeof why), VT_INVALID_ARGUMENT);
    VT_CHECK(strstr(why, "UUID") != NULL);
    in = good_vendor();
    in.owner_exists = false;
    VT_CHECK_INT(import_map_vendor(&in, &v, why, sizeof why), VT_INVALID_ARGUMENT);
    in = good_vendor();
    in.name = "\t ";
    VT_CHECK_INT(import_map_vendor(&in, &v, why, sizeof why), VT_INVALID_ARGUMENT);

    /* Optional parts that fail our rules are left out, with a note each. */
    in = good_vendor();
    in.email = "nope";
    in.website = "javascript:alert(1)";
    in.lat = 91;
    VT_CHECK_INT(import_map_vendor(&in, &v, why, sizeof why), VT_OK);
    VT_CHECK_STR(v.email, "");
    VT_CHECK_STR(v.website, "");
    VT_CHECK(!v.has_location);
    VT_CHECK_INT(v.nnotes, 3);
    VT_CHECK(strstr(v.notes[2], "lat out of range") != NULL);
    in = good_vendor();
    in.has_long = false;
    VT_CHECK_INT(import_map_vendor(&in, &v, why, sizeof why), VT_OK);
    VT_CHECK(!v.has_location && strstr(v.notes[0], "lat without long"));
    in = good_vendor();
    in.has_lat = in.has_long = false;
    VT_CHECK_INT(import_map_vendor(&in, &v, why, sizeof why), VT_OK);
    VT_CHECK(!v.has_location && v.nnotes == 0);
    in = good_vendor();
    in.lat = 90, in.lng = -180; /* the edges are valid */
    VT_CHECK_INT(import_map_vendor(&in, &v, why, sizeof why), VT_OK);
    VT_CHECK(v.has_location);
}

static void test_revenuecat_data(void)
{
    char why[IMPORT_WHY_LEN];
    import_revenuecat_ids ids;
    VT_CHECK_INT(import_parse_revenuecat("{\"eventId\":\"e1\",\"productId\":\"pro\","
                                         "\"transactionId\":\"t1\",\"extra\":1}",
                                         &ids, why, sizeof why),
                 VT_OK);
    VT_CHECK_STR(ids.event_id, "e1");
    VT_CHECK_STR(ids.product_id, "pro");
    VT_CHECK_STR(ids.transaction_id, "t1");
    const char *bad[][2] = {
        {NULL, "null"},
        {"[1,2]", "not a JSON object"},
        {"{", "not JSON"},
        {"{\"eventId\":\"e\",\"productId\":\"p\"}", "transactionId is missing"},
        {"{\"eventId\":7,\"productId\":\"p\",\"transactionId\":\"t\"}", "eventId is of another"},
        {"{\"eventId\":\"a b\",\"productId\":\"p\",\"transactionId\":\"t\"}", "printable"},
        {"{\"eventId\":\"\",\"productId\":\"p\",\"transactionId\":\"t\"}", "printable"},
        {"{\"eventId\":\"e\\u0000x\",\"productId\":\"p\",\"transactionId\":\"t\"}", "not JSON"},
        {"{\"eventId\":\"e\",\"eventId\":\"f\",\"productId\":\"p\",\"transactionId\":\"t\"}",
         "not JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = '\0';
        VT_CHECK_INT(import_parse_revenuecat(bad[i][0], &ids, why, sizeof why),
                     VT_INVALID_ARGUMENT);
        if (!strstr(why, bad[i][1]))
            fprintf(stderr, "case %zu: \"%s\" lacks \"%s\"\n", i, why, bad[i][1]);
        VT_CHECK(strstr(why, bad[i][1]) != NULL);
    }
}

static void test_printable(void)
{
    char out[128];
    import_printable("a\nb\x7f"
                     "c",
                     out, sizeof out);
    VT_CHECK_STR(out, "a?b?c");
    import_printable(NULL, out, sizeof out);
    VT_CHECK_STR(out, "(null)");
    char big[300];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    import_printable(big, out, sizeof out);
    VT_CHECK_INT(strlen(out), 96);
}

int main(void)
{
    VT_RUN(test_statuses);
    VT_RUN(test_clerk_ids);
    VT_RUN(test_vendor_mapping);
    VT_RUN(test_revenuecat_data);
    VT_RUN(test_printable);
    return VT_TEST_RESULT();
}
