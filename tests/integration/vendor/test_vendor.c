/*
 * Integration tests of venta-vendor as a real process against the harness's
 * PostgreSQL+PostGIS and NATS, called over gRPC with libs/rpc's client: every method's
 * success and failure paths, ownership and identity, partial updates that respect field
 * presence, validation messages naming the field, SQL-looking and oversized input,
 * keyset pagination without duplicates or gaps, search ranking, typo tolerance and the
 * radius filter, the domain events seen by a real NATS subscriber, evt.user.deleted,
 * the last-known location fed from loc.>, a PostgreSQL restart survived without a
 * service restart, /metrics, and SIGTERM. Runs alone: it restarts PostgreSQL.
 *
 * One executable, one venta-vendor and one database for all of them (later cases build
 * on earlier ones), split by feature: test_vendor_crud.c, test_vendor_list_search.c,
 * test_vendor_search.c, test_vendor_replicas.c, test_vendor_ops.c; the plumbing they share (the
 * service, gRPC calls, the NATS observer, metrics) is vendor_test_util.c. This file owns the test
 * counters and runs the features in order.
 */
#define VT_TEST_COUNTERS_HERE
#include "vendor_test_util.h"

int main(void)
{
    vt_log_init("test-vendor", VT_LOG_ERROR);
    db_url = vt_harness_db_new_migrated("vendor");
    vt_bus_opts o = {.urls = vt_harness_env("VENTA_TEST_NATS_URL"), .name = "test-vendor"};
    char err[256];
    VT_REQUIRE(vt_bus_new(&o, &bus, err, sizeof err) == VT_OK);
    vt_bus_sub *sub;
    VT_REQUIRE(vt_bus_subscribe(bus, "evt.vendor.>", NULL, 0, on_event, NULL, &sub) == VT_OK);
    vt_bus_flush(bus, 2000);
    start_service();
    vendor_crud_tests();
    vendor_list_search_tests();
    vendor_search_tests();
    vendor_replicas_tests();
    vendor_ops_tests();
    vt_bus_unsubscribe(sub);
    vt_bus_free(bus, 1000);
    vt_bus_library_close();
    PQfinish(db());
    free(db_url);
    return VT_TEST_RESULT();
}
