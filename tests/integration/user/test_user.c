/*
 * Integration tests of venta-user as a real process against the harness's PostgreSQL
 * and NATS, called over gRPC, its events watched by a real NATS subscriber: Clerk
 * upserts and deletes with idempotent redelivery, ordering and revival; concurrent
 * upserts of one user; the RevenueCat state machine (a whole lifecycle, TRANSFER, TEST,
 * unknown types, out-of-order events, unknown users); validation and SQL-looking input;
 * ListUserVendors against the real venta-vendor when it is built (VENTA_VENDOR_BIN);
 * PostgreSQL restarted under the running service; metrics; SIGTERM. Runs alone: it
 * restarts the shared PostgreSQL.
 *
 * One executable, one venta-user (and venta-vendor) and one database for all of them
 * (later cases build on earlier ones), split by feature: test_user_clerk.c,
 * test_user_subscription.c, test_user_ops.c; the plumbing they share (the processes,
 * SQL, the NATS observer, gRPC calls) is user_test_util.c. This file owns the test
 * counters and runs the features in order.
 */
#define VT_TEST_COUNTERS_HERE
#include "user_test_util.h"

int main(void)
{
    vt_log_init("test-user", VT_LOG_ERROR);
    t0 = vt_now_ms() - 7 * DAY_MS;
    db_url = vt_harness_db_new_migrated("user");
    vt_bus_opts o = {.urls = vt_harness_env("VENTA_TEST_NATS_URL"), .name = "test-user"};
    char err[256];
    VT_REQUIRE(vt_bus_new(&o, &bus, err, sizeof err) == VT_OK);
    vt_bus_sub *s1, *s2;
    VT_REQUIRE(vt_bus_subscribe(bus, "evt.user.*", NULL, 0, on_event, NULL, &s1) == VT_OK);
    VT_REQUIRE(vt_bus_subscribe(bus, "evt.subscription.changed", NULL, 0, on_event, NULL, &s2) ==
               VT_OK);
    for (int i = 0; i < 200 && !vt_bus_connected(bus); i++)
        usleep(50000);
    VT_REQUIRE(vt_bus_flush(bus, 5000) == VT_OK);
    start_vendor();
    start_service();
    user_clerk_tests();
    user_subscription_tests();
    user_ops_tests();
    if (vendor_pid)
        vt_harness_stop(vendor_pid, SIGTERM, 20000);
    vt_bus_unsubscribe(s1);
    vt_bus_unsubscribe(s2);
    vt_bus_free(bus, 1000);
    vt_bus_library_close();
    PQfinish(db());
    free(db_url);
    return VT_TEST_RESULT();
}
