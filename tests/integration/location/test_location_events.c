/*
 * Domain events that wait for a consumer (issue #20), end to end on real processes: a
 * venta-vendor (whose outbox relay publishes to the JetStream stream) and two
 * venta-location replicas (the durable consumer of deletions for the table, one
 * per-process consumer each for the live map), against the harness's PostgreSQL and a
 * nats-server with JetStream.
 *
 * - A vendor deleted while every location replica is down is gone once they are back:
 *   from the table (remembered in location.deleted_vendors) and from both live maps,
 *   which forget it even while the table still has it (the test holds the deletion on
 *   the durable consumer while the replicas start and load the table).
 * - NATS restarted while vendors are being deleted: every deletion arrives.
 *
 * Runs alone: it restarts the shared NATS and empties its stream of events.
 */
#include "venta/location/v1/location.pb-c.h"
#include "venta/vendor/v1/vendor.pb-c.h"
#include "vt_bus.h"
#include "vt_core.h"
#include "vt_events.h"
#include "vt_harness.h"
#include "vt_harness_rpc.h"
#include "vt_rpc.h"
#include "vt_test.h"
#include "vt_test_bus.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OWNER "user_jetstream_owner"
#define REPLICAS 2
#define BATCH 40

static char *db_url;
static vt_bus *bus;
static vt_harness_service vendor;
static vt_harness_service location[REPLICAS];

static PGconn *db(void)
{
    static PGconn *conn;
    return vt_harness_pg(&conn, db_url);
}

static long count(const char *sql, const char *param)
{
    const char *params[1] = {param};
    PGresult *r =
        PQexecParams(db(), sql, param ? 1 : 0, NULL, param ? params : NULL, NULL, NULL, 0);
    long n = PQresultStatus(r) == PGRES_TUPLES_OK ? atol(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return n;
}

static void start_locations(void)
{
    const char *env[] = {"VENTA_RPC_THREADS=2", "VENTA_LOCATION_BATCH_MS=20", NULL};
    for (int i = 0; i < REPLICAS; i++) {
        vt_harness_service_start(&location[i], vt_harness_env("VENTA_LOCATION_BIN"),
                                 "VENTA_LOCATION_ADDR", db_url, env);
        /* SERVING includes jetstream: both consumers attached. */
        VT_REQUIRE(vt_harness_wait_serving(location[i].channel, 20000));
    }
}

static void stop_locations(void)
{
    for (int i = 0; i < REPLICAS; i++) {
        VT_CHECK_INT(vt_harness_stop(location[i].pid, SIGTERM, 15000), 0);
        vt_rpc_channel_free(location[i].channel);
        location[i].channel = NULL;
    }
}

/* ---- venta-vendor ---- */

static int vendor_call(const char *method, const ProtobufCMessage *req, void *out)
{
    vt_rpc_reply *reply;
    vt_rpc_call_opts o = {.timeout_ms = 15000, .user_id = OWNER};
    int rc = vt_rpc_call_unary(vendor.channel, &venta__vendor__v1__vendor_service__descriptor,
                               method, req, &o, &reply);
    if (out)
        *(ProtobufCMessage **)out = rc == VT_OK ? vt_rpc_reply_take_response(reply) : NULL;
    vt_rpc_reply_free(reply);
    return rc;
}

static void create_vendor(const char *name, char *id)
{
    Venta__Vendor__V1__CreateVendorRequest req = VENTA__VENDOR__V1__CREATE_VENDOR_REQUEST__INIT;
    req.name = (char *)name;
    req.description = (char *)"a truck for the events test";
    Venta__Vendor__V1__Vendor *v = NULL;
    VT_REQUIRE(vendor_call("CreateVendor", &req.base, &v) == VT_OK);
    snprintf(id, VT_UUID_LEN + 1, "%s", v->id);
    protobuf_c_message_free_unpacked(&v->base, NULL);
}

static int delete_vendor(const char *id)
{
    Venta__Vendor__V1__DeleteVendorRequest req = VENTA__VENDOR__V1__DELETE_VENDOR_REQUEST__INIT;
    req.id = (char *)id;
    return vendor_call("DeleteVendor", &req.base, NULL);
}

/* Until venta-vendor's outbox is empty: every event it committed is in the stream. */
static bool wait_outbox_empty(int ms)
{
    for (int i = 0; i < ms / 20; i++) {
        if (count("SELECT count(*) FROM vendor.outbox", NULL) == 0)
            return true;
        usleep(20000);
    }
    return false;
}

/* ---- venta-location ---- */

static void place(const char *id, double lat, double lng)
{
    vt_events_position p = {.lat = lat, .lng = lng, .accuracy = 5, .ts = vt_now_ms(), .live = true};
    snprintf(p.vendor_id, sizeof p.vendor_id, "%s", id);
    VT_CHECK_INT(vt_events_publish_location(bus, &p, NULL, NULL), VT_OK);
}

/* GetVendorLocation on replica i. */
static int get_on(int i, const char *id)
{
    Venta__Location__V1__GetVendorLocationRequest req =
        VENTA__LOCATION__V1__GET_VENDOR_LOCATION_REQUEST__INIT;
    req.vendor_id = (char *)id;
    vt_rpc_reply *reply;
    vt_rpc_call_opts o = {.timeout_ms = 5000};
    int rc =
        vt_rpc_call_unary(location[i].channel, &venta__location__v1__location_service__descriptor,
                          "GetVendorLocation", &req.base, &o, &reply);
    vt_rpc_reply_free(reply);
    return rc;
}

/* Does VendorsInBounds on replica i (a box around lower Manhattan) list id? -1: failed. */
static int listed_on(int i, const char *id)
{
    Venta__Location__V1__VendorsInBoundsRequest req =
        VENTA__LOCATION__V1__VENDORS_IN_BOUNDS_REQUEST__INIT;
    req.ne_lat = 40.80, req.ne_lng = -73.90, req.sw_lat = 40.65, req.sw_lng = -74.10;
    vt_rpc_reply *reply;
    vt_rpc_call_opts o = {.timeout_ms = 5000};
    int rc =
        vt_rpc_call_unary(location[i].channel, &venta__location__v1__location_service__descriptor,
                          "VendorsInBounds", &req.base, &o, &reply);
    int found = rc == VT_OK ? 0 : -1;
    if (rc == VT_OK) {
        const Venta__Location__V1__VendorsInBoundsResponse *res =
            (const void *)vt_rpc_reply_response(reply);
        for (size_t k = 0; k < res->n_vendors; k++)
            found |= strcmp(res->vendors[k]->vendor_id, id) == 0;
    }
    vt_rpc_reply_free(reply);
    return found;
}

/* Until every replica answers GetVendorLocation(id) with want (VT_OK or VT_NOT_FOUND). */
static bool wait_get_everywhere(const char *id, int want, int ms)
{
    for (int t = 0; t < ms / 20; t++) {
        int i = 0;
        while (i < REPLICAS && get_on(i, id) == want)
            i++;
        if (i == REPLICAS)
            return true;
        usleep(20000);
    }
    return false;
}

static bool deleted_in_table(const char *id)
{
    return count("SELECT count(*) FROM location.deleted_vendors WHERE vendor_id = $1::uuid", id) ==
               1 &&
           count("SELECT count(*) FROM location.vendor_locations WHERE vendor_id = $1::uuid", id) ==
               0;
}

/* ---- the tests ---- */

/* A reader of the replicas' durable consumer that holds the first deletion it gets. */
static struct {
    atomic_bool got, release;
} held;

static vt_bus_verdict hold(const char *subject, const void *data, size_t len, void *user)
{
    (void)subject, (void)data, (void)len, (void)user;
    atomic_store(&held.got, true);
    while (!atomic_load(&held.release))
        usleep(10000);
    return VT_BUS_RETRY; /* back to the stream: a replica applies it */
}

static void test_deleted_while_every_replica_is_down(void)
{
    char gone[VT_UUID_LEN + 1], kept[VT_UUID_LEN + 1];
    create_vendor("Gone Tacos", gone);
    create_vendor("Kept Coffee", kept);
    place(gone, 40.7128, -74.0060);
    place(kept, 40.7130, -74.0050);
    VT_REQUIRE(wait_get_everywhere(gone, VT_OK, 10000));
    VT_REQUIRE(wait_get_everywhere(kept, VT_OK, 10000));
    VT_CHECK_INT(listed_on(0, gone), 1);

    stop_locations(); /* every replica is down */
    VT_CHECK_INT(delete_vendor(gone), VT_OK);
    VT_CHECK(wait_outbox_empty(10000)); /* the deletion is in the stream, nobody read it */
    vt_bus_stream_opts stream = vt_events_stream(1);
    vt_bus_consumer_opts co = {.stream = &stream,
                               .durable = VT_EVENTS_LOCATION_DELETED_CONSUMER,
                               .subject = VT_EVENTS_VENDOR_DELETED,
                               .fn = hold};
    vt_bus_consumer *holder = NULL;
    char err[256];
    VT_REQUIRE(vt_bus_consumer_new(bus, &co, &holder, err, sizeof err) == VT_OK);
    for (int i = 0; i < 1000 && !atomic_load(&held.got); i++)
        usleep(10000);
    VT_REQUIRE(atomic_load(&held.got));
    start_locations();

    /* The table still has the vendor (its deletion is held), yet both live maps, which
     * loaded it, read the deletion from the stream themselves. */
    bool forgotten = false;
    for (int t = 0; t < 500 && !forgotten; t++) {
        forgotten = listed_on(0, gone) == 0 && listed_on(1, gone) == 0;
        if (!forgotten)
            usleep(20000);
    }
    VT_CHECK(forgotten);
    VT_CHECK_INT(
        count("SELECT count(*) FROM location.vendor_locations WHERE vendor_id = $1::uuid", gone),
        1);
    atomic_store(&held.release, true);
    vt_bus_consumer_free(holder);

    /* The table: the durable consumer applied the deletion that waited for it. */
    bool table = false;
    for (int i = 0; i < 500 && !table; i++) {
        table = deleted_in_table(gone);
        if (!table)
            usleep(20000);
    }
    VT_CHECK(table);
    /* Each replica's live map, and its reads. */
    VT_CHECK(wait_get_everywhere(gone, VT_NOT_FOUND, 10000));
    for (int i = 0; i < REPLICAS; i++) {
        VT_CHECK_INT(listed_on(i, gone), 0);
        VT_CHECK_INT(listed_on(i, kept), 1);
        VT_CHECK_INT(get_on(i, kept), VT_OK);
    }
    /* A position still on its way does not bring it back. */
    place(gone, 40.7129, -74.0061);
    place(kept, 40.7131, -74.0051);
    usleep(300000);
    for (int i = 0; i < REPLICAS; i++)
        VT_CHECK_INT(get_on(i, gone), VT_NOT_FOUND);
    VT_CHECK(deleted_in_table(gone));
}

static struct {
    char ids[BATCH][VT_UUID_LEN + 1];
    atomic_int deleted, failed;
} batch;

static void *delete_all(void *arg)
{
    (void)arg;
    for (int k = 0; k < BATCH; k++) {
        if (delete_vendor(batch.ids[k]) == VT_OK)
            atomic_fetch_add(&batch.deleted, 1);
        else
            atomic_fetch_add(&batch.failed, 1);
        usleep(20000); /* spread over the restart */
    }
    return NULL;
}

static void test_nats_restart_mid_stream_loses_nothing(void)
{
    for (int k = 0; k < BATCH; k++) {
        char name[64];
        snprintf(name, sizeof name, "Restart Truck %d", k);
        create_vendor(name, batch.ids[k]);
        place(batch.ids[k], 40.70 + k * 0.001, -74.00);
    }
    for (int k = 0; k < BATCH; k++)
        VT_REQUIRE(wait_get_everywhere(batch.ids[k], VT_OK, 10000));

    pthread_t t;
    VT_REQUIRE(pthread_create(&t, NULL, delete_all, NULL) == 0);
    while (atomic_load(&batch.deleted) + atomic_load(&batch.failed) < BATCH / 4)
        usleep(5000);
    VT_REQUIRE(vt_harness_server("restart", "nats") == 0); /* mid-stream */
    pthread_join(t, NULL);
    VT_CHECK_INT(atomic_load(&batch.failed), 0); /* venta-vendor needs no NATS to commit */

    VT_CHECK(wait_outbox_empty(30000));
    long applied = 0;
    for (int i = 0; i < 1500; i++) {
        applied = 0;
        for (int k = 0; k < BATCH; k++)
            applied += deleted_in_table(batch.ids[k]);
        if (applied == BATCH)
            break;
        usleep(20000);
    }
    VT_CHECK_INT(applied, BATCH);
    for (int k = 0; k < BATCH; k++)
        VT_CHECK(wait_get_everywhere(batch.ids[k], VT_NOT_FOUND, 15000));
    for (int i = 0; i < REPLICAS; i++)
        VT_CHECK(vt_harness_wait_serving(location[i].channel, 20000));
}

int main(void)
{
    vt_log_init("test-location-events", VT_LOG_ERROR);
    db_url = vt_harness_db_new_migrated("location_events");
    bus = vt_test_bus_connect("test-location-events");
    vt_test_bus_purge(bus, VT_EVENTS_STREAM);
    const char *vendor_env[] = {"VENTA_RPC_THREADS=2", NULL};
    vt_harness_service_start(&vendor, vt_harness_env("VENTA_VENDOR_BIN"), "VENTA_VENDOR_ADDR",
                             db_url, vendor_env);
    VT_REQUIRE(vt_harness_wait_serving(vendor.channel, 20000));
    start_locations();

    VT_RUN(test_deleted_while_every_replica_is_down);
    VT_RUN(test_nats_restart_mid_stream_loses_nothing);

    stop_locations();
    VT_CHECK_INT(vt_harness_stop(vendor.pid, SIGTERM, 15000), 0);
    vt_rpc_channel_free(vendor.channel);
    vt_bus_free(bus, 1000);
    vt_bus_library_close();
    PQfinish(db());
    free(db_url);
    return VT_TEST_RESULT();
}
