/*
 * test_vendor_ops.c — venta-vendor: a PostgreSQL restart survived without a service
 * restart, /metrics, SIGTERM.
 */
#include "vendor_test_util.h"

static void test_survives_postgres_restart(void)
{
    char id[VT_UUID_LEN + 1];
    create_id("user_restart", "Before Restart", "", id);
    VT_REQUIRE(vt_harness_server("restart", "postgres") == 0);
    bool ok = false;
    for (int i = 0; i < 300 && !ok; i++) {
        ok = get(id, NULL) == VT_OK;
        if (!ok) {
            VT_CHECK(strcmp(msg, "") != 0);
            usleep(50000);
        }
    }
    VT_CHECK(ok);
    Vendor *v = NULL;
    VT_CHECK_INT(create("user_restart", &(profile){.name = "After Restart"}, &v), VT_OK);
    free_msg(v);
    page pg;
    VT_CHECK_INT(list("user_restart", 10, "", &pg), VT_OK);
    VT_CHECK_INT(pg.n, 2);
    VT_CHECK(wait_serving(10000));
    /* The location cache and the user-event consumer reconnected too. */
    publish_location(id, 12.5, 12.5, vt_now_ms(), NULL);
    VT_CHECK(wait_location(id, 12.5));
}

static void test_metrics(void)
{
    const char *t = metrics_text();
    VT_CHECK(strstr(t, "venta_vendor_calls_total{method=\"CreateVendor\",code=\"OK\"}") != NULL);
    VT_CHECK(
        strstr(t, "venta_vendor_calls_total{method=\"CreateVendor\",code=\"INVALID_ARGUMENT\"}") !=
        NULL);
    VT_CHECK(
        strstr(t, "venta_vendor_calls_total{method=\"UpdateVendor\",code=\"PERMISSION_DENIED\"}") !=
        NULL);
    VT_CHECK(strstr(t, "venta_vendor_call_seconds_bucket{method=\"SearchVendors\"") != NULL);
    VT_CHECK(metric("venta_outbox_published_total{subject=\"evt.vendor.created\"}") > 30);
    VT_CHECK(strstr(t, "venta_outbox_failed_rounds_total{table=\"vendor.outbox\"}") != NULL);
    VT_CHECK(metric("venta_vendor_location_cache_writes_total") >= 3);
    VT_CHECK(metric("venta_vendor_location_cache_invalid_total") == 0);
}

static void test_sigterm_exits_cleanly(void)
{
    vt_rpc_channel_free(channel);
    channel = NULL;
    VT_CHECK_INT(vt_harness_stop(service_pid, SIGTERM, 20000), 0);
}

void vendor_ops_tests(void)
{
    VT_RUN(test_survives_postgres_restart);
    VT_RUN(test_metrics);
    VT_RUN(test_sigterm_exits_cleanly);
}
