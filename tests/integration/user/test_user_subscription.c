/*
 * test_user_subscription.c — venta-user: the RevenueCat state machine: a whole
 * lifecycle, out-of-order events, unknown users, TRANSFER, TEST and unknown types,
 * validation.
 */
#include "user_test_util.h"

static void expect_state(const char *user, const char *status, bool entitled)
{
    user_view v;
    VT_CHECK_INT(get_user(user, &v), VT_OK);
    if (strcmp(v.status, status) != 0 || v.entitled != entitled)
        fprintf(stderr, "%s: status %s entitled %d, expected %s %d\n", user, v.status, v.entitled,
                status, entitled);
    VT_CHECK_STR(v.status, status);
    VT_CHECK_INT(v.entitled, entitled);
}

static void test_subscription_lifecycle(void)
{
    const char *u = "user_dave";
    VT_CHECK_INT(simple_upsert("msg_dave_1", u, "dave@example.com", "user.created", t0), VT_OK);
    int64_t exp = vt_now_ms() + 30 * DAY_MS;
    VT_CHECK_STR(applied("rc_dave_1", "INITIAL_PURCHASE", u, exp, t0 + 100), "applied");
    expect_state(u, "active", true);
    user_view v;
    VT_CHECK_INT(get_user(u, &v), VT_OK);
    VT_CHECK_STR(v.product, "venta_pro_monthly");
    VT_CHECK_STR(v.entitlement, "pro");
    VT_CHECK_INT(v.n_entitlements, 1);
    VT_CHECK(strlen(v.expires_at) == 24 && v.expires_at[23] == 'Z');
    VT_CHECK_STR(applied("rc_dave_2", "RENEWAL", u, exp + 30 * DAY_MS, t0 + 200), "applied");
    expect_state(u, "active", true);
    VT_CHECK_STR(applied("rc_dave_3", "CANCELLATION", u, exp + 30 * DAY_MS, t0 + 300), "applied");
    expect_state(u, "cancelled", true); /* entitled until it expires */
    VT_CHECK_STR(applied("rc_dave_4", "UNCANCELLATION", u, 0, t0 + 400), "applied");
    expect_state(u, "active", true);
    VT_CHECK_STR(applied("rc_dave_5", "BILLING_ISSUE", u, 0, t0 + 500), "applied");
    expect_state(u, "billing_issue", true);
    VT_CHECK_STR(applied("rc_dave_6", "EXPIRATION", u, 0, t0 + 600), "applied");
    expect_state(u, "expired", false);
    VT_CHECK(wait_events("evt.subscription.changed", u, 6, 10000));
    seen_event e;
    count_events("evt.subscription.changed", u, &e);
    VT_CHECK_STR(e.status, "expired");
    VT_CHECK_STR(e.event_type, "EXPIRATION");
    VT_CHECK(!e.entitled);

    /* The other transitions, on a second user. */
    const char *w = "user_erin";
    VT_CHECK_STR(applied("rc_erin_1", "INITIAL_PURCHASE", w, exp, t0 + 100), "applied");
    rc_event pc = {.event_id = "rc_erin_2",
                   .type = "PRODUCT_CHANGE",
                   .user = w,
                   .product = "venta_pro_monthly",
                   .new_product = "venta_pro_yearly",
                   .ts_ms = t0 + 200};
    char result[32];
    VT_CHECK_INT(apply(&pc, result, NULL, NULL, 0), VT_OK);
    VT_CHECK_STR(result, "applied");
    VT_CHECK_INT(get_user(w, &v), VT_OK);
    VT_CHECK_STR(v.product, "venta_pro_yearly");
    expect_state(w, "active", true);
    VT_CHECK_STR(applied("rc_erin_3", "SUBSCRIPTION_PAUSED", w, 0, t0 + 300), "applied");
    expect_state(w, "paused", true);
    char before[40];
    snprintf(before, sizeof before, "%s", v.expires_at);
    VT_CHECK_STR(applied("rc_erin_4", "SUBSCRIPTION_EXTENDED", w, exp + 7 * DAY_MS, t0 + 400),
                 "applied");
    expect_state(w, "active", true);
    VT_CHECK_INT(get_user(w, &v), VT_OK);
    VT_CHECK(strcmp(v.expires_at, before) > 0);
    /* Cancelled with its period already over: the expiry alone ends the entitlement. */
    VT_CHECK_STR(applied("rc_erin_5", "CANCELLATION", w, vt_now_ms() - 1000, t0 + 500), "applied");
    expect_state(w, "cancelled", false);
    VT_CHECK_STR(applied("rc_erin_6", "NON_RENEWING_PURCHASE", w, 0, t0 + 600), "applied");
    expect_state(w, "active", true); /* no expiry: a lifetime purchase */
    VT_CHECK_INT(get_user(w, &v), VT_OK);
    VT_CHECK_STR(v.expires_at, "");
}

static void test_out_of_order_events(void)
{
    const char *u = "user_frank";
    int64_t exp = vt_now_ms() + 30 * DAY_MS;
    VT_CHECK_STR(applied("rc_frank_2", "RENEWAL", u, exp, t0 + 2000), "applied");
    /* Older events delivered late: no regression. */
    VT_CHECK_STR(applied("rc_frank_1", "EXPIRATION", u, 0, t0 + 1000), "ignored");
    VT_CHECK_STR(applied("rc_frank_0", "CANCELLATION", u, 0, t0 + 500), "ignored");
    expect_state(u, "active", true);
    VT_CHECK_STR(applied("rc_frank_3", "EXPIRATION", u, 0, t0 + 3000), "applied");
    expect_state(u, "expired", false);
    VT_CHECK_INT(sql_count("SELECT count(*) FROM account.webhook_events WHERE event_id LIKE $1",
                           "rc_frank_%"),
                 4);
}

static void test_unknown_user_is_created(void)
{
    VT_CHECK_INT(get_user("user_gina", NULL), VT_NOT_FOUND);
    size_t n_users = 0;
    char result[32];
    rc_event e = {.event_id = "rc_gina_1",
                  .type = "INITIAL_PURCHASE",
                  .user = "user_gina",
                  .expires_ms = vt_now_ms() + DAY_MS,
                  .ts_ms = t0};
    VT_CHECK_INT(apply(&e, result, &n_users, NULL, 0), VT_OK);
    VT_CHECK_STR(result, "applied");
    VT_CHECK_INT(n_users, 1);
    user_view v;
    VT_CHECK_INT(get_user("user_gina", &v), VT_OK);
    VT_CHECK_STR(v.email, "");
    VT_CHECK(v.entitled);
    VT_CHECK(wait_events("evt.user.created", "user_gina", 1, 10000));
    VT_CHECK(wait_events("evt.subscription.changed", "user_gina", 1, 10000));
    /* Clerk's user.created arriving afterwards fills in the profile. */
    VT_CHECK_INT(
        simple_upsert("msg_gina_1", "user_gina", "gina@example.com", "user.created", t0 - 1000),
        VT_OK);
    VT_CHECK_INT(get_user("user_gina", &v), VT_OK);
    VT_CHECK_STR(v.email, "gina@example.com");
    VT_CHECK(v.entitled);
    /* original_app_user_id when app_user_id is empty. */
    e = (rc_event){.event_id = "rc_hank_1",
                   .type = "RENEWAL",
                   .original_user = "user_hank",
                   .expires_ms = vt_now_ms() + DAY_MS,
                   .ts_ms = t0};
    VT_CHECK_INT(apply(&e, result, NULL, NULL, 0), VT_OK);
    expect_state("user_hank", "active", true);
}

static void test_transfer(void)
{
    int64_t exp = vt_now_ms() + 30 * DAY_MS;
    VT_CHECK_STR(applied("rc_ivan_1", "INITIAL_PURCHASE", "user_ivan", exp, t0 + 100), "applied");
    const char *from[] = {"user_ivan", "$RCAnonymousID:0a1b2c", NULL};
    const char *to[] = {"user_judy", NULL};
    rc_event e = {
        .event_id = "rc_transfer_1", .type = "TRANSFER", .from = from, .to = to, .ts_ms = t0 + 200};
    char result[32];
    size_t n_users = 0;
    VT_CHECK_INT(apply(&e, result, &n_users, NULL, 0), VT_OK);
    VT_CHECK_STR(result, "applied");
    VT_CHECK_INT(n_users, 2);
    expect_state("user_judy", "active", true); /* created, and now holds it */
    expect_state("user_ivan", "expired", false);
    user_view v;
    VT_CHECK_INT(get_user("user_judy", &v), VT_OK);
    VT_CHECK_STR(v.product, "venta_pro_monthly");
    VT_CHECK(wait_events("evt.subscription.changed", "user_judy", 1, 10000));
    VT_CHECK(wait_events("evt.subscription.changed", "user_ivan", 2, 10000));
    VT_CHECK(wait_events("evt.user.created", "user_judy", 1, 10000));
    /* An older renewal for the old owner, delivered late, does not bring it back. */
    VT_CHECK_STR(applied("rc_ivan_0", "RENEWAL", "user_ivan", exp, t0 + 150), "ignored");
    expect_state("user_ivan", "expired", false);
    /* Redelivered: nothing moves again. */
    VT_CHECK_INT(apply(&e, result, NULL, NULL, 0), VT_OK);
    VT_CHECK_STR(result, "duplicate");
    /* Transfer without a receiver is refused. */
    rc_event bad = {
        .event_id = "rc_transfer_bad", .type = "TRANSFER", .from = from, .ts_ms = t0 + 300};
    char msg[256];
    VT_CHECK_INT(apply(&bad, result, NULL, msg, sizeof msg), VT_INVALID_ARGUMENT);
    VT_CHECK(strstr(msg, "transferredTo") != NULL);
}

static void test_test_and_unknown_types(void)
{
    long users = sql_count("SELECT count(*) FROM account.users", NULL);
    VT_CHECK_STR(applied("rc_test_1", "TEST", "user_test_only", 0, t0), "ignored");
    VT_CHECK_STR(applied("rc_test_1", "TEST", "user_test_only", 0, t0), "duplicate");
    VT_CHECK_STR(applied("rc_new_1", "SOMETHING_NEW_FROM_REVENUECAT", "user_test_only", 0, t0),
                 "ignored");
    VT_CHECK_STR(applied("rc_new_2", "", "", 0, t0), "ignored");
    VT_CHECK_INT(sql_count("SELECT count(*) FROM account.users", NULL), users);
    VT_CHECK_INT(get_user("user_test_only", NULL), VT_NOT_FOUND);
}

static void test_subscription_validation(void)
{
    char result[32], msg[256], big[400];
    memset(big, 'p', 300);
    big[300] = '\0';
    rc_event e = {.event_id = "", .type = "RENEWAL", .user = "user_kim", .ts_ms = t0};
    VT_CHECK_INT(apply(&e, result, NULL, msg, sizeof msg), VT_INVALID_ARGUMENT);
    VT_CHECK(strstr(msg, "providerEventId") != NULL);
    e = (rc_event){.event_id = "rc_kim_1", .type = "RENEWAL", .ts_ms = t0};
    VT_CHECK_INT(apply(&e, result, NULL, msg, sizeof msg), VT_INVALID_ARGUMENT);
    VT_CHECK(strstr(msg, "appUserId") != NULL);
    e = (rc_event){.event_id = "rc_kim_1", .type = "RENEWAL", .user = "user kim", .ts_ms = t0};
    VT_CHECK_INT(apply(&e, result, NULL, msg, sizeof msg), VT_INVALID_ARGUMENT);
    e = (rc_event){
        .event_id = "rc_kim_1", .type = "RENEWAL", .user = "user_kim", .product = big, .ts_ms = t0};
    VT_CHECK_INT(apply(&e, result, NULL, msg, sizeof msg), VT_INVALID_ARGUMENT);
    VT_CHECK(strstr(msg, "productId") != NULL);
    VT_CHECK_INT(get_user("user_kim", NULL), VT_NOT_FOUND);
    VT_CHECK_INT(
        sql_count("SELECT count(*) FROM account.webhook_events WHERE event_id = $1", "rc_kim_1"),
        0);
}

void user_subscription_tests(void)
{
    VT_RUN(test_subscription_lifecycle);
    VT_RUN(test_out_of_order_events);
    VT_RUN(test_unknown_user_is_created);
    VT_RUN(test_transfer);
    VT_RUN(test_test_and_unknown_types);
    VT_RUN(test_subscription_validation);
}
