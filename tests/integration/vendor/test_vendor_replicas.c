/*
 * test_vendor_replicas.c — venta-vendor: evt.user.deleted removes the user's vendors,
 * and the profile cache stays right across replicas (every change reaches every
 * replica's cache by itself).
 */
#include "vendor_test_util.h"

static void test_user_deleted(void)
{
    char gone[3][VT_UUID_LEN + 1], stays[VT_UUID_LEN + 1];
    for (int i = 0; i < 3; i++)
        create_id("user_gone", i == 0 ? "Zebra Gone Cafe" : "Gone Kiosk", "", gone[i]);
    create_id("user_stays", "Zebra Stays Cafe", "", stays);
    for (int i = 0; i < 3; i++) /* cached now: the deletion must clear them */
        VT_CHECK_INT(get(gone[i], NULL), VT_OK);

    Venta__Events__V1__UserEvent ev = VENTA__EVENTS__V1__USER_EVENT__INIT;
    ev.type = (char *)"deleted";
    ev.user_id = (char *)"user_gone";
    ev.ts = vt_now_ms();
    ev.request_id = (char *)"req-user-gone";
    VT_CHECK_INT(vt_bus_publish(bus, "evt.user.deleted", "\x01garbage", 8), VT_OK);
    VT_CHECK_INT(vt_events_publish_message(bus, "evt.user.deleted", &ev.base), VT_OK);

    page pg = {0};
    for (int i = 0; i < 300; i++) {
        VT_REQUIRE(list("user_gone", 10, "", &pg) == VT_OK);
        if (pg.n == 0)
            break;
        usleep(20000);
    }
    VT_CHECK_INT(pg.n, 0);
    for (int i = 0; i < 3; i++) {
        VT_CHECK_INT(get(gone[i], NULL), VT_NOT_FOUND);
        seen_event e;
        VT_CHECK(wait_event("evt.vendor.deleted", gone[i], &e));
        VT_CHECK_STR(e.owner_id, "user_gone");
        VT_CHECK_STR(e.request_id, "req-user-gone");
    }
    VT_CHECK_INT(count_rows("user_gone"), 3); /* soft: the rows remain, marked deleted */
    /* The deleted user's token may still be valid for a while: it creates nothing. */
    profile late = {.name = "Too Late Cafe"};
    VT_CHECK_INT(create("user_gone", &late, NULL), VT_PERMISSION_DENIED);
    VT_CHECK(strstr(msg, "user_gone was deleted") != NULL);
    VT_CHECK_INT(count_rows("user_gone"), 3);
    VT_CHECK_INT(create("user_stays", &late, NULL), VT_OK);
    VT_CHECK_INT(get(stays, NULL), VT_OK);
    VT_CHECK_INT(search("zebra", NULL, NULL, NULL, 0, "", &pg), VT_OK);
    VT_CHECK_INT(pg.n, 1);
    VT_CHECK(page_has(&pg, stays));

    /* A redelivery deletes nothing more and announces nothing more. */
    VT_CHECK_INT(vt_events_publish_message(bus, "evt.user.deleted", &ev.base), VT_OK);
    vt_bus_flush(bus, 2000);
    for (int i = 0; i < 100 && metric("venta_vendor_user_deleted_handled_total") < 2; i++)
        usleep(20000);
    VT_CHECK(metric("venta_vendor_user_deleted_handled_total") == 2);
    VT_CHECK(metric("venta_vendor_user_deleted_invalid_total") == 1);
    for (int i = 0; i < 3; i++)
        VT_CHECK_INT(count_events("evt.vendor.deleted", gone[i]), 1);
}

/* Poll a counter of the service at port until it reaches at least `value` (5 s). */
static double wait_metric_of(int port, const char *series, double value)
{
    double now = metric_of(port, series);
    for (int i = 0; i < 250 && now < value; i++) {
        usleep(20000);
        now = metric_of(port, series);
    }
    VT_CHECK(now >= value);
    return now;
}

/* GetVendor on replica `b` (whose cache would serve an entry for a minute) until the
 * vendor's name is `name` (NULL: until NOT_FOUND); false after 5 s. */
static bool wait_name_on(vt_rpc_channel *b, const char *id, const char *name)
{
    Venta__Vendor__V1__GetVendorRequest req = VENTA__VENDOR__V1__GET_VENDOR_REQUEST__INIT;
    req.id = (char *)id;
    for (int i = 0; i < 250; i++) {
        Vendor *v = NULL;
        int rc = call_on(b, "GetVendor", &req.base, NULL, NULL, &v);
        bool ok = name ? rc == VT_OK && strcmp(v->name, name) == 0 : rc == VT_NOT_FOUND;
        free_msg(v);
        if (ok)
            return true;
        usleep(20000);
    }
    return false;
}

/* One GetVendor on replica `b`: does it show the vendor named `name`? */
static bool name_is_on(vt_rpc_channel *b, const char *id, const char *name)
{
    Venta__Vendor__V1__GetVendorRequest req = VENTA__VENDOR__V1__GET_VENDOR_REQUEST__INIT;
    req.id = (char *)id;
    Vendor *v = NULL;
    bool ok =
        call_on(b, "GetVendor", &req.base, NULL, NULL, &v) == VT_OK && strcmp(v->name, name) == 0;
    free_msg(v);
    return ok;
}

/* A change behind the services' back: no event tells any replica. */
static void rename_in_sql(const char *id, const char *name)
{
    const char *params[2] = {name, id};
    PGresult *r = PQexecParams(db(), "UPDATE vendor.vendors SET name = $1 WHERE id = $2", 2, NULL,
                               params, NULL, NULL, 0);
    VT_CHECK(PQresultStatus(r) == PGRES_COMMAND_OK && strcmp(PQcmdTuples(r), "1") == 0);
    PQclear(r);
}

/* Reads `id` on `b` until it is served from B's cache again (its hits grow), checking
 * that every answer meanwhile is `name`. */
static void expect_name_until_cached(vt_harness_service *b, const char *id, const char *name)
{
    const char *series = "venta_vendor_profile_cache_hits_total";
    double hits = metric_of(b->metrics_port, series);
    bool right = true;
    for (int i = 0; i < 250 && right && metric_of(b->metrics_port, series) == hits; i++) {
        right = name_is_on(b->channel, id, name);
        usleep(20000);
    }
    VT_CHECK(right);
    VT_CHECK(metric_of(b->metrics_port, series) > hits);
    VT_CHECK(name_is_on(b->channel, id, name));
}

static void rename_vendor(const char *user, const char *id, const char *name)
{
    Venta__Vendor__V1__UpdateVendorRequest req = VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__INIT;
    req.id = (char *)id;
    req.opt_name_case = VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_NAME_NAME;
    req.name = (char *)name;
    VT_CHECK_INT(update(user, &req, NULL), VT_OK);
}

/* Two replicas on one database: reads on B come from its cache, and writes made on A
 * reach them through evt.vendor.* — or, while NATS is down, B stops caching. B's TTL is
 * a minute, so nothing here passes by an entry merely expiring. */
static void test_profile_cache_across_replicas(void)
{
    const char *env[] = {"VENTA_VENDOR_CACHE_TTL_MS=60000", "VENTA_RPC_THREADS=2", NULL};
    vt_harness_service b;
    vt_harness_service_start(&b, vt_harness_env("VENTA_VENDOR_BIN"), "VENTA_VENDOR_ADDR", db_url,
                             env);
    char id[VT_UUID_LEN + 1], upper[VT_UUID_LEN + 1];
    VT_REQUIRE(wait_serving(10000));
    double seen_events = metric_of(b.metrics_port, "venta_vendor_profile_cache_events_total");
    create_id("user_replicas", "Crepe Corner", "", id);
    seen_events =
        wait_metric_of(b.metrics_port, "venta_vendor_profile_cache_events_total", seen_events + 1);
    for (int i = 0; i <= VT_UUID_LEN; i++)
        upper[i] = (char)toupper((unsigned char)id[i]);

    VT_CHECK(wait_name_on(b.channel, id, "Crepe Corner"));
    double hits = metric_of(b.metrics_port, "venta_vendor_profile_cache_hits_total");
    VT_CHECK(wait_name_on(b.channel, id, "Crepe Corner"));
    VT_CHECK(wait_name_on(b.channel, upper, "Crepe Corner")); /* same entry, any case */
    VT_CHECK(metric_of(b.metrics_port, "venta_vendor_profile_cache_hits_total") >= hits + 2);

    /* A write on A: B's cached entry goes with A's event. */
    rename_vendor("user_replicas", id, "Crepe Corner Deluxe");
    VT_CHECK(wait_name_on(b.channel, id, "Crepe Corner Deluxe"));
    VT_CHECK(metric_of(b.metrics_port, "venta_vendor_profile_cache_events_total") >=
             seen_events + 1);
    /* ... and a write on B itself is seen at once by B. */
    Venta__Vendor__V1__UpdateVendorRequest req = VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__INIT;
    req.id = id;
    req.opt_is_open_case = VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_IS_OPEN_IS_OPEN;
    req.is_open = true;
    VT_CHECK_INT(call_on(b.channel, "UpdateVendor", &req.base, "user_replicas", NULL, NULL), VT_OK);
    Venta__Vendor__V1__GetVendorRequest get_req = VENTA__VENDOR__V1__GET_VENDOR_REQUEST__INIT;
    get_req.id = id;
    Vendor *v = NULL;
    VT_CHECK_INT(call_on(b.channel, "GetVendor", &get_req.base, NULL, NULL, &v), VT_OK);
    VT_CHECK(v && v->is_open);
    free_msg(v);

    /* NATS down: A's event cannot travel, so B must not serve what it cached. Once B's
     * own event is in (it forgets the vendor once more), B caches the vendor again. */
    wait_metric_of(b.metrics_port, "venta_vendor_profile_cache_events_total", seen_events + 2);
    VT_CHECK(wait_name_on(b.channel, id, "Crepe Corner Deluxe"));
    hits = metric_of(b.metrics_port, "venta_vendor_profile_cache_hits_total");
    VT_CHECK(wait_name_on(b.channel, id, "Crepe Corner Deluxe"));
    VT_CHECK(metric_of(b.metrics_port, "venta_vendor_profile_cache_hits_total") == hits + 1);
    VT_REQUIRE(vt_harness_server("stop", "nats") == 0);
    rename_vendor("user_replicas", id, "Crepe Corner Offline");
    VT_CHECK(wait_name_on(b.channel, id, "Crepe Corner Offline"));
    VT_REQUIRE(vt_harness_server("start", "nats") == 0);
    VT_CHECK(wait_serving(10000));
    /* Back on NATS: B caches again, and A's events reach it again. */
    hits = metric_of(b.metrics_port, "venta_vendor_profile_cache_hits_total");
    for (int i = 0;
         i < 250 && metric_of(b.metrics_port, "venta_vendor_profile_cache_hits_total") == hits; i++)
        VT_CHECK(wait_name_on(b.channel, id, "Crepe Corner Offline"));
    VT_CHECK(metric_of(b.metrics_port, "venta_vendor_profile_cache_hits_total") > hits);
    rename_vendor("user_replicas", id, "Crepe Corner Again");
    VT_CHECK(wait_name_on(b.channel, id, "Crepe Corner Again"));

    /* A change in SQL tells nobody: B keeps serving its entry (its TTL is a minute)
     * until an evt.vendor.* message that names no vendor resets its whole cache. */
    expect_name_until_cached(&b, id, "Crepe Corner Again");
    rename_in_sql(id, "Crepe Corner Quiet");
    VT_CHECK(name_is_on(b.channel, id, "Crepe Corner Again"));
    double resets = metric_of(b.metrics_port, "venta_vendor_profile_cache_resets_total");
    VT_CHECK_INT(vt_bus_publish(bus, "evt.vendor.updated", "", 0), VT_OK);
    wait_metric_of(b.metrics_port, "venta_vendor_profile_cache_resets_total", resets + 1);
    VT_CHECK(name_is_on(b.channel, id, "Crepe Corner Quiet"));

    /* A reconnect: nothing B cached before it is served after it, since events may have
     * been lost meanwhile. The row changes in SQL while NATS is down, so no event can
     * clear B's entry: only the new connection's epoch does. */
    expect_name_until_cached(&b, id, "Crepe Corner Quiet");
    VT_REQUIRE(vt_harness_server("stop", "nats") == 0);
    rename_in_sql(id, "Crepe Corner Reconnected");
    VT_REQUIRE(vt_harness_server("start", "nats") == 0);
    expect_name_until_cached(&b, id, "Crepe Corner Reconnected");
    VT_CHECK(wait_serving(10000));

    /* A delete on A: B answers NOT_FOUND. */
    VT_CHECK_INT(del("user_replicas", id), VT_OK);
    VT_CHECK(wait_name_on(b.channel, id, NULL));

    vt_rpc_channel_free(b.channel);
    VT_CHECK_INT(vt_harness_stop(b.pid, SIGTERM, 20000), 0);
}

void vendor_replicas_tests(void)
{
    VT_RUN(test_user_deleted);
    VT_RUN(test_profile_cache_across_replicas);
}
