/*
 * test_user_ops.c — venta-user: ListUserVendors against the real venta-vendor when it
 * is built (VENTA_VENDOR_BIN), PostgreSQL restarted under the running service, metrics,
 * SIGTERM.
 */
#include "user_test_util.h"
#include "vt_test_rpc.h"

static int list_vendors(const char *user, size_t *n, char owners[8][160])
{
    Venta__User__V1__ListUserVendorsRequest req = VENTA__USER__V1__LIST_USER_VENDORS_REQUEST__INIT;
    req.user_id = (char *)user;
    vt_rpc_reply *reply;
    vt_rpc_call_opts o = {.timeout_ms = 10000, .request_id = "test-list-vendors"};
    int rc = vt_rpc_call_unary(channel, svc, "ListUserVendors", &req.base, &o, &reply);
    if (rc == VT_OK) {
        const Venta__User__V1__ListUserVendorsResponse *r =
            (const void *)vt_rpc_reply_response(reply);
        *n = r->n_vendors;
        for (size_t i = 0; i < r->n_vendors && i < 8; i++)
            snprintf(owners[i], 160, "%s", r->vendors[i]->owner_id);
    }
    vt_rpc_reply_free(reply);
    return rc;
}

static int create_vendor(vt_rpc_channel *ch, const char *owner, const char *name)
{
    Venta__Vendor__V1__CreateVendorRequest req = VENTA__VENDOR__V1__CREATE_VENDOR_REQUEST__INIT;
    req.owner_id = (char *)owner;
    req.name = (char *)name;
    req.description = (char *)"tacos";
    vt_rpc_reply *reply;
    vt_rpc_call_opts o = {.timeout_ms = 10000, .user_id = owner};
    int rc = vt_rpc_call_unary(ch, &venta__vendor__v1__vendor_service__descriptor, "CreateVendor",
                               &req.base, &o, &reply);
    if (rc != VT_OK)
        fprintf(stderr, "CreateVendor: %s %s\n", vt_status_name(rc), vt_rpc_reply_message(reply));
    vt_rpc_reply_free(reply);
    return rc;
}

static void test_list_user_vendors(void)
{
    size_t n = 0;
    char owners[8][160];
    VT_CHECK_INT(list_vendors("", &n, owners), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(simple_upsert("msg_leo_1", "user_leo", "leo@example.com", "user.created", t0),
                 VT_OK);
    if (vendor_built()) {
        char target[64];
        snprintf(target, sizeof target, "127.0.0.1:%d", vendor_port);
        vt_rpc_channel *vch = vt_test_channel(target, NULL);
        VT_CHECK_INT(create_vendor(vch, "user_leo", "Leo's Tacos"), VT_OK);
        VT_CHECK_INT(create_vendor(vch, "user_leo", "Leo's Churros"), VT_OK);
        VT_CHECK_INT(create_vendor(vch, "user_mia", "Mia's Coffee"), VT_OK);
        vt_rpc_channel_free(vch);
        VT_CHECK_INT(list_vendors("user_leo", &n, owners), VT_OK);
        VT_CHECK_INT(n, 2);
        for (size_t i = 0; i < n && i < 8; i++)
            VT_CHECK_STR(owners[i], "user_leo");
        VT_CHECK_INT(simple_upsert("msg_nina_1", "user_nina", NULL, "user.created", t0), VT_OK);
        VT_CHECK_INT(list_vendors("user_nina", &n, owners), VT_OK);
        VT_CHECK_INT(n, 0);
        /* No user row (no Clerk webhook yet) is no reason to hide what a caller owns. */
        VT_CHECK_INT(list_vendors("user_mia", &n, owners), VT_OK);
        VT_CHECK_INT(n, 1);
        VT_CHECK_INT(list_vendors("user_nobody", &n, owners), VT_OK);
        VT_CHECK_INT(n, 0);
        /* The vendor service goes away: UNAVAILABLE passes through. */
        VT_CHECK_INT(vt_harness_stop(vendor_pid, SIGTERM, 20000), 0);
        vendor_pid = 0;
    } else {
        fprintf(stderr, "note: venta-vendor is not built; ListUserVendors tested against a "
                        "vendor service that is down only\n");
    }
    VT_CHECK_INT(list_vendors("user_leo", &n, owners), VT_UNAVAILABLE);
    VT_CHECK(wait_serving(5000)); /* a missing downstream does not make us unhealthy */
}

static void test_survives_postgres_restart(void)
{
    VT_REQUIRE(vt_harness_server("stop", "postgres") == 0);
    VT_CHECK_INT(get_user("user_alice", NULL), VT_UNAVAILABLE);
    /* A webhook that fails while the database is down is not recorded: the retry applies. */
    VT_CHECK_INT(simple_upsert("msg_olga_1", "user_olga", "olga@example.com", "user.created", t0),
                 VT_UNAVAILABLE);
    bool down = false;
    for (int i = 0; i < 100 && !down; i++) {
        down = health("") == GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
        usleep(50000);
    }
    VT_CHECK(down);
    VT_CHECK_INT(health("postgres"),
                 GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING);
    VT_REQUIRE(vt_harness_server("start", "postgres") == 0);
    VT_CHECK(wait_serving(20000));
    /* Every worker reconnects by itself: enough calls to pass through all of them. */
    for (int i = 0; i < 8; i++) {
        int rc = VT_UNAVAILABLE;
        for (int attempt = 0; attempt < 50 && rc == VT_UNAVAILABLE; attempt++) {
            rc = get_user("user_alice", NULL);
            if (rc == VT_UNAVAILABLE)
                usleep(100000);
        }
        VT_CHECK_INT(rc, VT_OK);
    }
    bool dup = true;
    clerk_user c = {.event_id = "msg_olga_1",
                    .id = "user_olga",
                    .email = "olga@example.com",
                    .type = "user.created",
                    .created_ms = t0,
                    .updated_ms = t0};
    int rc = VT_UNAVAILABLE;
    for (int attempt = 0; attempt < 50 && rc == VT_UNAVAILABLE; attempt++) {
        rc = upsert(&c, &dup, NULL, NULL, 0);
        if (rc == VT_UNAVAILABLE)
            usleep(100000);
    }
    VT_CHECK_INT(rc, VT_OK);
    VT_CHECK(!dup);
    VT_CHECK_INT(get_user("user_olga", NULL), VT_OK);
    VT_CHECK(wait_events("evt.user.created", "user_olga", 1, 10000));
}

static void test_metrics(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "curl -sf http://127.0.0.1:%d/metrics", metrics_port);
    FILE *p = popen(cmd, "r");
    VT_REQUIRE(p != NULL);
    static char text[262144];
    size_t n = fread(text, 1, sizeof text - 1, p);
    text[n] = '\0';
    pclose(p);
    VT_CHECK(strstr(text, "venta_user_calls_total{method=\"UpsertUser\",code=\"OK\"} ") != NULL);
    VT_CHECK(strstr(text, "venta_user_calls_total{method=\"UpsertUser\",code=\"INVALID_ARGUMENT\"}"
                          " ") != NULL);
    VT_CHECK(strstr(text, "venta_user_calls_total{method=\"GetUser\",code=\"NOT_FOUND\"} ") !=
             NULL);
    VT_CHECK(strstr(text, "venta_user_calls_total{method=\"ListUserVendors\",code=\"UNAVAILABLE\"}"
                          " ") != NULL);
    VT_CHECK(strstr(text, "venta_user_call_seconds_bucket{method=\"ApplySubscriptionEvent\"") !=
             NULL);
    VT_CHECK(strstr(text, "venta_outbox_published_total{subject=\"evt.user.created\"} ") != NULL);
    VT_CHECK(strstr(text, "venta_outbox_published_total{subject=\"evt.user.created\"} 0\n") ==
             NULL);
    VT_CHECK(strstr(text, "venta_outbox_failed_rounds_total{table=\"account.outbox\"} ") != NULL);
    VT_CHECK(strstr(text, "venta_user_webhook_duplicates_total{provider=\"clerk\"} ") != NULL);
    VT_CHECK(strstr(text, "venta_user_webhook_duplicates_total{provider=\"clerk\"} 0\n") == NULL);
    VT_CHECK(strstr(text, "venta_user_webhook_duplicates_total{provider=\"revenuecat\"} 0\n") ==
             NULL);
}

static void test_sigterm_exits_cleanly(void)
{
    vt_rpc_channel_free(channel);
    channel = NULL;
    VT_CHECK_INT(vt_harness_stop(service_pid, SIGTERM, 20000), 0);
}

void user_ops_tests(void)
{
    VT_RUN(test_list_user_vendors);
    VT_RUN(test_survives_postgres_restart);
    VT_RUN(test_metrics);
    VT_RUN(test_sigterm_exits_cleanly);
}
