/*
 * test_user_clerk.c — venta-user: health; Clerk upserts and deletes with idempotent
 * redelivery, ordering and revival; concurrent upserts of one user; validation and
 * SQL-looking input stored verbatim.
 */
#include "user_test_util.h"

static void test_health(void)
{
    VT_CHECK(wait_serving(20000));
    VT_CHECK_INT(health("venta.user.v1.UserService"),
                 GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
    VT_CHECK_INT(health("postgres"),
                 GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
    VT_CHECK_INT(health("nats"), GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
}

static void test_upsert_get_and_ordering(void)
{
    VT_CHECK_INT(get_user("user_alice", NULL), VT_NOT_FOUND);
    clerk_user c = {.event_id = "msg_alice_1",
                    .id = "user_alice",
                    .email = "alice@example.com",
                    .first = "Alice",
                    .last = "Liddell",
                    .type = "user.created",
                    .created_ms = t0,
                    .updated_ms = t0};
    bool dup = true;
    user_view v;
    VT_CHECK_INT(upsert(&c, &dup, &v, NULL, 0), VT_OK);
    VT_CHECK(!dup);
    VT_CHECK_STR(v.id, "user_alice");
    VT_CHECK_STR(v.email, "alice@example.com");
    VT_CHECK_STR(v.status, "none");
    VT_CHECK(!v.entitled);
    VT_CHECK(wait_events("evt.user.created", "user_alice", 1, 10000));
    seen_event e;
    count_events("evt.user.created", "user_alice", &e);
    VT_CHECK_STR(e.email, "alice@example.com");
    VT_CHECK_STR(e.type, "created");

    VT_CHECK_INT(get_user("user_alice", &v), VT_OK);
    VT_CHECK_STR(v.first, "Alice");
    VT_CHECK_STR(v.last, "Liddell");

    /* A newer user.updated replaces the profile. */
    c = (clerk_user){.event_id = "msg_alice_2",
                     .id = "user_alice",
                     .email = "alice@new.example",
                     .first = "Alicia",
                     .type = "user.updated",
                     .created_ms = t0,
                     .updated_ms = t0 + 2000};
    VT_CHECK_INT(upsert(&c, &dup, &v, NULL, 0), VT_OK);
    VT_CHECK_STR(v.email, "alice@new.example");
    VT_CHECK(wait_events("evt.user.updated", "user_alice", 1, 10000));

    /* An older one, delivered late, changes nothing and announces nothing. */
    c = (clerk_user){.event_id = "msg_alice_3",
                     .id = "user_alice",
                     .email = "alice@old.example",
                     .first = "Old",
                     .type = "user.updated",
                     .created_ms = t0,
                     .updated_ms = t0 + 1000};
    VT_CHECK_INT(upsert(&c, &dup, &v, NULL, 0), VT_OK);
    VT_CHECK(!dup);
    VT_CHECK_STR(v.email, "alice@new.example");
    VT_CHECK_INT(get_user("user_alice", &v), VT_OK);
    VT_CHECK_STR(v.email, "alice@new.example");
    VT_CHECK_STR(v.first, "Alicia");
    VT_CHECK_STR(v.last, ""); /* the whole profile was replaced */
    event_barrier();
    VT_CHECK_INT(count_events("evt.user.updated", "user_alice", NULL), 1);
    VT_CHECK_INT(sql_count("SELECT count(*) FROM account.webhook_events WHERE provider = 'clerk' "
                           "AND event_id LIKE $1",
                           "msg_alice_%"),
                 3);
}

static void test_idempotent_redelivery(void)
{
    clerk_user c = {.event_id = "msg_bob_1",
                    .id = "user_bob",
                    .email = "bob@example.com",
                    .type = "user.created",
                    .created_ms = t0,
                    .updated_ms = t0};
    bool dup = true;
    VT_CHECK_INT(upsert(&c, &dup, NULL, NULL, 0), VT_OK);
    VT_CHECK(!dup);
    /* The same svix id again, even with other content: a duplicate, nothing changes. */
    c.email = "mallory@example.com";
    c.updated_ms = t0 + 5000;
    user_view v;
    VT_CHECK_INT(upsert(&c, &dup, &v, NULL, 0), VT_OK);
    VT_CHECK(dup);
    VT_CHECK_STR(v.email, "bob@example.com");
    VT_CHECK_INT(get_user("user_bob", &v), VT_OK);
    VT_CHECK_STR(v.email, "bob@example.com");
    event_barrier();
    VT_CHECK_INT(count_events("evt.user.created", "user_bob", NULL), 1);
    VT_CHECK_INT(count_events("evt.user.updated", "user_bob", NULL), 0);
    VT_CHECK_INT(
        sql_count("SELECT count(*) FROM account.webhook_events WHERE event_id = $1", "msg_bob_1"),
        1);
    /* RevenueCat: the same event id twice is one effect. */
    VT_CHECK_STR(applied("rc_bob_1", "INITIAL_PURCHASE", "user_bob", t0 + 30 * DAY_MS, t0 + 1),
                 "applied");
    VT_CHECK_STR(applied("rc_bob_1", "EXPIRATION", "user_bob", t0 + 30 * DAY_MS, t0 + 2),
                 "duplicate");
    VT_CHECK_INT(get_user("user_bob", &v), VT_OK);
    VT_CHECK_STR(v.status, "active");
    event_barrier();
    VT_CHECK_INT(count_events("evt.subscription.changed", "user_bob", NULL), 1);
}

typedef struct {
    int index;
    int rc;
} racer;

static void *race_upsert(void *arg)
{
    racer *r = arg;
    char eid[64], email[64];
    snprintf(eid, sizeof eid, "msg_race_%d", r->index);
    snprintf(email, sizeof email, "racer%d@example.com", r->index);
    clerk_user c = {.event_id = eid,
                    .id = "user_race",
                    .email = email,
                    .type = r->index == 0 ? "user.created" : "user.updated",
                    .created_ms = t0,
                    .updated_ms = t0 + r->index};
    r->rc = upsert(&c, NULL, NULL, NULL, 0);
    return NULL;
}

static void test_concurrent_upserts_leave_one_row(void)
{
    enum { N = 8 };
    pthread_t th[N];
    racer r[N];
    for (int i = 0; i < N; i++) {
        r[i] = (racer){.index = i, .rc = -1};
        VT_REQUIRE(pthread_create(&th[i], NULL, race_upsert, &r[i]) == 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        VT_CHECK_INT(r[i].rc, VT_OK);
    }
    VT_CHECK_INT(sql_count("SELECT count(*) FROM account.users WHERE clerk_id = $1", "user_race"),
                 1);
    user_view v;
    VT_CHECK_INT(get_user("user_race", &v), VT_OK);
    VT_CHECK_STR(v.email, "racer7@example.com"); /* the newest profile, whatever the order */
    VT_CHECK(wait_events("evt.user.created", "user_race", 1, 10000));
    event_barrier();
    VT_CHECK_INT(count_events("evt.user.created", "user_race", NULL), 1);
}

static void expect_invalid(const clerk_user *c, const char *field)
{
    char msg[512];
    VT_CHECK_INT(upsert(c, NULL, NULL, msg, sizeof msg), VT_INVALID_ARGUMENT);
    if (!strstr(msg, field))
        fprintf(stderr, "message \"%s\" does not name %s\n", msg, field);
    VT_CHECK(strstr(msg, field) != NULL);
}

static void test_validation_and_verbatim_storage(void)
{
    long before = sql_count("SELECT count(*) FROM account.users", NULL);
    char long_id[140], long_name[260], long_email[340];
    memset(long_id, 'a', 129);
    memcpy(long_id, "user_", 5);
    long_id[129] = '\0';
    memset(long_name, 'n', 201);
    long_name[201] = '\0';
    memset(long_email, 'e', 320);
    memcpy(long_email + 320, "@example.com", 13); /* 332 characters */
    clerk_user base = {.event_id = "msg_bad", .id = "user_valid", .type = "user.created"};
    clerk_user c = base;
    c.id = "";
    expect_invalid(&c, "id");
    c.id = "user with space";
    expect_invalid(&c, "id");
    c.id = long_id;
    expect_invalid(&c, "id");
    c = base;
    c.email = "no-at-sign";
    expect_invalid(&c, "email");
    c.email = "two@@example.com";
    expect_invalid(&c, "email");
    c.email = long_email;
    expect_invalid(&c, "email");
    c = base;
    c.first = long_name;
    expect_invalid(&c, "firstName");
    c = base;
    c.last = "bad \xff\xfe utf-8";
    expect_invalid(&c, "lastName");
    c = base;
    c.event_id = "";
    expect_invalid(&c, "webhookEventId");
    c = base;
    c.provider = "github";
    expect_invalid(&c, "provider");
    c = base;
    c.type = "user.exploded";
    expect_invalid(&c, "eventType");
    VT_CHECK_INT(get_user("", NULL), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(get_user(long_id, NULL), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(sql_count("SELECT count(*) FROM account.users", NULL), before);
    VT_CHECK_INT(
        sql_count("SELECT count(*) FROM account.webhook_events WHERE event_id = $1", "msg_bad"), 0);

    /* At the limits, in characters, not bytes: 200 two-byte characters are fine. */
    char wide[401];
    for (int i = 0; i < 200; i++)
        memcpy(wide + 2 * i, "\xc3\xa9", 2);
    wide[400] = '\0';
    /* SQL-looking text is data. */
    const char *evil_id = "user_'OR'1'='1;--";
    const char *evil_name = "Robert'); DROP TABLE account.users; --";
    c = (clerk_user){.event_id = "msg_evil';DELETE/**/FROM/**/account.webhook_events;--",
                     .id = evil_id,
                     .email = "o'hara@example.com",
                     .first = evil_name,
                     .last = wide,
                     .type = "user.created",
                     .created_ms = t0,
                     .updated_ms = t0};
    VT_CHECK_INT(upsert(&c, NULL, NULL, NULL, 0), VT_OK);
    user_view v;
    VT_CHECK_INT(get_user(evil_id, &v), VT_OK);
    VT_CHECK_STR(v.id, evil_id);
    VT_CHECK_STR(v.first, evil_name);
    VT_CHECK_STR(v.last, wide);
    VT_CHECK_STR(v.email, "o'hara@example.com");
    VT_CHECK_INT(get_user("user_' OR '1'='1", NULL), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(get_user("user_%", NULL), VT_NOT_FOUND);
    VT_CHECK(sql_count("SELECT count(*) FROM account.webhook_events", NULL) > 1);
}

static void test_delete_and_revival(void)
{
    VT_CHECK_INT(
        simple_upsert("msg_carol_1", "user_carol", "carol@example.com", "user.created", t0), VT_OK);
    VT_CHECK_STR(applied("rc_carol_1", "INITIAL_PURCHASE", "user_carol", t0 + 30 * DAY_MS, t0 + 10),
                 "applied");
    bool deleted = false, dup = true;
    VT_CHECK_INT(delete_user("msg_carol_del", "user_carol", &deleted, &dup), VT_OK);
    VT_CHECK(deleted);
    VT_CHECK(!dup);
    VT_CHECK_INT(get_user("user_carol", NULL), VT_NOT_FOUND);
    VT_CHECK(wait_events("evt.user.deleted", "user_carol", 1, 10000));
    /* Gone, but remembered: a tombstone without personal data, no subscription. */
    char v[64];
    sql_value("SELECT coalesce(email, 'none') || ',' || (deleted_at IS NOT NULL) FROM "
              "account.users WHERE clerk_id = $1",
              "user_carol", v, sizeof v);
    VT_CHECK_STR(v, "none,true");
    VT_CHECK_INT(sql_count("SELECT count(*) FROM account.subscriptions s JOIN account.users u ON "
                           "u.id = s.user_id WHERE u.clerk_id = $1",
                           "user_carol"),
                 0);
    /* Redelivery, and a second delete: nothing more happens. */
    VT_CHECK_INT(delete_user("msg_carol_del", "user_carol", &deleted, &dup), VT_OK);
    VT_CHECK(dup);
    VT_CHECK(!deleted);
    VT_CHECK_INT(delete_user("msg_carol_del2", "user_carol", &deleted, &dup), VT_OK);
    VT_CHECK(!dup);
    VT_CHECK(!deleted);
    /* Late events do not bring the user back: an update, an old user.created, a
     * subscription event. */
    VT_CHECK_INT(simple_upsert("msg_carol_2", "user_carol", "carol@late.example", "user.updated",
                               vt_now_ms() + 60000),
                 VT_OK);
    VT_CHECK_INT(
        simple_upsert("msg_carol_3", "user_carol", "carol@late.example", "user.created", t0),
        VT_OK);
    VT_CHECK_STR(applied("rc_carol_2", "RENEWAL", "user_carol", t0 + 60 * DAY_MS, t0 + 20),
                 "ignored");
    VT_CHECK_INT(get_user("user_carol", NULL), VT_NOT_FOUND);
    event_barrier();
    VT_CHECK_INT(count_events("evt.user.deleted", "user_carol", NULL), 1);
    VT_CHECK_INT(count_events("evt.user.updated", "user_carol", NULL), 0);
    VT_CHECK_INT(count_events("evt.user.created", "user_carol", NULL), 1);
    /* A user.created newer than the deletion revives the id, with a clean slate. */
    VT_CHECK_INT(simple_upsert("msg_carol_4", "user_carol", "carol@again.example", "user.created",
                               vt_now_ms() + 60000),
                 VT_OK);
    user_view u;
    VT_CHECK_INT(get_user("user_carol", &u), VT_OK);
    VT_CHECK_STR(u.email, "carol@again.example");
    VT_CHECK_STR(u.status, "none");
    VT_CHECK(!u.entitled);
    VT_CHECK(wait_events("evt.user.created", "user_carol", 2, 10000));

    /* user.deleted for an id never seen: a tombstone, and the event for venta-vendor. */
    VT_CHECK_INT(delete_user("msg_ghost_del", "user_ghost", &deleted, &dup), VT_OK);
    VT_CHECK(!deleted);
    VT_CHECK(wait_events("evt.user.deleted", "user_ghost", 1, 10000));
    VT_CHECK_INT(simple_upsert("msg_ghost_1", "user_ghost", NULL, "user.created", t0), VT_OK);
    VT_CHECK_INT(get_user("user_ghost", NULL), VT_NOT_FOUND);

    char msg[256];
    (void)msg;
    VT_CHECK_INT(delete_user("msg_x", "", NULL, NULL), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(delete_user("", "user_x", NULL, NULL), VT_INVALID_ARGUMENT);
}

void user_clerk_tests(void)
{
    VT_RUN(test_health);
    VT_RUN(test_upsert_get_and_ordering);
    VT_RUN(test_idempotent_redelivery);
    VT_RUN(test_concurrent_upserts_leave_one_row);
    VT_RUN(test_validation_and_verbatim_storage);
    VT_RUN(test_delete_and_revival);
}
