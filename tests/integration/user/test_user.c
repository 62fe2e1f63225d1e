/*
 * Integration tests of venta-user as a real process against the harness's PostgreSQL
 * and NATS, called over gRPC, its events watched by a real NATS subscriber: Clerk
 * upserts and deletes with idempotent redelivery, ordering and revival; concurrent
 * upserts of one user; the RevenueCat state machine (a whole lifecycle, TRANSFER, TEST,
 * unknown types, out-of-order events, unknown users); validation and SQL-looking input;
 * ListUserVendors against the real venta-vendor when it is built (VENTA_VENDOR_BIN);
 * PostgreSQL restarted under the running service; metrics; SIGTERM. Runs alone: it
 * restarts the shared PostgreSQL.
 */
#include "grpc/health/v1/health.pb-c.h"
#include "venta/events/v1/events.pb-c.h"
#include "venta/user/v1/user.pb-c.h"
#include "venta/vendor/v1/vendor.pb-c.h"
#include "vt_bus.h"
#include "vt_core.h"
#include "vt_db.h"
#include "vt_harness.h"
#include "vt_harness_rpc.h"
#include "vt_rpc.h"
#include "vt_test.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#define DAY_MS (86400LL * 1000)

static char *db_url;
static int service_pid, grpc_port, metrics_port;
static int vendor_pid, vendor_port;
static vt_rpc_channel *channel;
static vt_bus *bus;
static int64_t t0; /* a base for provider timestamps */

static const ProtobufCServiceDescriptor *svc = &venta__user__v1__user_service__descriptor;

/* ------------------------------------------------------------------ processes -- */

static bool vendor_built(void)
{
    const char *bin = getenv("VENTA_VENDOR_BIN");
    return bin && *bin && access(bin, X_OK) == 0;
}

static void start_vendor(void)
{
    vendor_port = vt_harness_free_port();
    if (!vendor_built())
        return; /* nothing listens on vendor_port: ListUserVendors sees UNAVAILABLE */
    static char e1[512], e2[128], e3[128], e4[512];
    snprintf(e1, sizeof e1, "VENTA_DATABASE_URL=%s", db_url);
    snprintf(e2, sizeof e2, "VENTA_VENDOR_ADDR=127.0.0.1:%d", vendor_port);
    snprintf(e3, sizeof e3, "VENTA_METRICS_ADDR=127.0.0.1:%d", vt_harness_free_port());
    snprintf(e4, sizeof e4, "VENTA_NATS_URL=%s", vt_harness_env("VENTA_TEST_NATS_URL"));
    const char *env[] = {e1, e2, e3, e4, "VENTA_LOG_LEVEL=warn", "VENTA_RPC_THREADS=2", NULL};
    vendor_pid = vt_harness_spawn(getenv("VENTA_VENDOR_BIN"), env);
    VT_REQUIRE(vt_harness_wait_port(vendor_port, 20000) == 0);
}

static int health(const char *service)
{
    return vt_harness_health(channel, service);
}

static bool wait_serving(int ms)
{
    return vt_harness_wait_serving(channel, ms);
}

static PGconn *db(void)
{
    static PGconn *conn;
    return vt_harness_pg(&conn, db_url);
}

static void start_service(void)
{
    char vendor_addr[128];
    snprintf(vendor_addr, sizeof vendor_addr, "VENTA_VENDOR_ADDR=127.0.0.1:%d", vendor_port);
    const char *env[] = {vendor_addr, "VENTA_RPC_THREADS=4", NULL};
    vt_harness_service s;
    vt_harness_service_start(&s, vt_harness_env("VENTA_USER_BIN"), "VENTA_USER_ADDR", db_url,
                             env);
    service_pid = s.pid, grpc_port = s.grpc_port, metrics_port = s.metrics_port;
    channel = s.channel;
}

/* One value of a query with one text parameter, into out ("(null)" for NULL, "" when
 * no row). */
static void sql_value(const char *sql, const char *param, char *out, size_t outlen)
{
    PGresult *r =
        PQexecParams(db(), sql, param ? 1 : 0, NULL, param ? &param : NULL, NULL, NULL, 0);
    VT_REQUIRE(PQresultStatus(r) == PGRES_TUPLES_OK);
    if (PQntuples(r) == 0)
        snprintf(out, outlen, "%s", "");
    else
        snprintf(out, outlen, "%s", PQgetisnull(r, 0, 0) ? "(null)" : PQgetvalue(r, 0, 0));
    PQclear(r);
}

static long sql_count(const char *sql, const char *param)
{
    char v[64];
    sql_value(sql, param, v, sizeof v);
    return strtol(v, NULL, 10);
}

/* ------------------------------------------------------------ NATS observer -- */

typedef struct {
    char subject[64];
    char user_id[160];
    char type[32];   /* UserEvent.type */
    char status[32]; /* SubscriptionChanged.status */
    char event_type[64];
    char email[400];
    bool entitled;
} seen_event;

static struct {
    pthread_mutex_t lock;
    size_t n;
    seen_event ev[2048];
} seen = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void on_event(const char *subject, const void *data, size_t len, void *user)
{
    (void)user;
    seen_event e = {0};
    snprintf(e.subject, sizeof e.subject, "%s", subject);
    if (strcmp(subject, "evt.subscription.changed") == 0) {
        Venta__Events__V1__SubscriptionChanged *m =
            venta__events__v1__subscription_changed__unpack(NULL, len, data);
        if (!m)
            return;
        snprintf(e.user_id, sizeof e.user_id, "%s", m->user_id);
        snprintf(e.status, sizeof e.status, "%s", m->status);
        snprintf(e.event_type, sizeof e.event_type, "%s", m->event_type);
        e.entitled = m->entitled;
        venta__events__v1__subscription_changed__free_unpacked(m, NULL);
    } else {
        Venta__Events__V1__UserEvent *m = venta__events__v1__user_event__unpack(NULL, len, data);
        if (!m)
            return;
        snprintf(e.user_id, sizeof e.user_id, "%s", m->user_id);
        snprintf(e.type, sizeof e.type, "%s", m->type);
        snprintf(e.email, sizeof e.email, "%s", m->email);
        venta__events__v1__user_event__free_unpacked(m, NULL);
    }
    pthread_mutex_lock(&seen.lock);
    if (seen.n < sizeof seen.ev / sizeof seen.ev[0])
        seen.ev[seen.n++] = e;
    pthread_mutex_unlock(&seen.lock);
}

/* Events on subject about user_id; *last (may be NULL) gets the latest. */
static int count_events(const char *subject, const char *user_id, seen_event *last)
{
    int n = 0;
    pthread_mutex_lock(&seen.lock);
    for (size_t i = 0; i < seen.n; i++) {
        if (strcmp(seen.ev[i].subject, subject) == 0 && strcmp(seen.ev[i].user_id, user_id) == 0) {
            n++;
            if (last)
                *last = seen.ev[i];
        }
    }
    pthread_mutex_unlock(&seen.lock);
    return n;
}

static bool wait_events(const char *subject, const char *user_id, int n, int ms)
{
    for (int i = 0; i < ms / 20; i++) {
        if (count_events(subject, user_id, NULL) >= n)
            return true;
        usleep(20000);
    }
    return false;
}

/* ---------------------------------------------------------------- calls -- */

typedef struct {
    char id[200], email[400], first[1024], last[1024], status[32], product[300];
    char entitlement[160], expires_at[40];
    size_t n_entitlements;
    bool entitled;
} user_view;

static void view_of(const Venta__User__V1__User *u, user_view *v)
{
    memset(v, 0, sizeof *v);
    snprintf(v->id, sizeof v->id, "%s", u->id);
    snprintf(v->email, sizeof v->email, "%s", u->email);
    snprintf(v->first, sizeof v->first, "%s", u->first_name);
    snprintf(v->last, sizeof v->last, "%s", u->last_name);
    v->entitled = u->entitled;
    if (u->subscription) {
        snprintf(v->status, sizeof v->status, "%s", u->subscription->status);
        snprintf(v->product, sizeof v->product, "%s", u->subscription->product_id);
        snprintf(v->entitlement, sizeof v->entitlement, "%s", u->subscription->entitlement);
        snprintf(v->expires_at, sizeof v->expires_at, "%s", u->subscription->expires_at);
        v->n_entitlements = u->subscription->n_entitlement_ids;
    }
}

static int get_user(const char *id, user_view *v)
{
    Venta__User__V1__GetUserRequest req = VENTA__USER__V1__GET_USER_REQUEST__INIT;
    req.id = (char *)id;
    vt_rpc_reply *reply;
    vt_rpc_call_opts o = {.timeout_ms = 10000};
    int rc = vt_rpc_call_unary(channel, svc, "GetUser", &req.base, &o, &reply);
    if (rc == VT_OK && v)
        view_of((const void *)vt_rpc_reply_response(reply), v);
    vt_rpc_reply_free(reply);
    return rc;
}

typedef struct {
    const char *event_id, *id, *email, *first, *last, *type, *provider;
    int64_t created_ms, updated_ms;
} clerk_user;

/* UpsertUser: status; *dup the duplicate flag; v the returned user (id "" when none);
 * msg the status message. */
static int upsert(const clerk_user *c, bool *dup, user_view *v, char *msg, size_t msglen)
{
    Venta__User__V1__UpsertUserRequest req = VENTA__USER__V1__UPSERT_USER_REQUEST__INIT;
    req.webhook_event_id = (char *)c->event_id;
    req.provider = (char *)(c->provider ? c->provider : "clerk");
    req.id = (char *)c->id;
    req.email = (char *)(c->email ? c->email : "");
    req.first_name = (char *)(c->first ? c->first : "");
    req.last_name = (char *)(c->last ? c->last : "");
    req.event_type = (char *)(c->type ? c->type : "user.updated");
    req.created_at_ms = c->created_ms;
    req.updated_at_ms = c->updated_ms;
    vt_rpc_reply *reply;
    vt_rpc_call_opts o = {.timeout_ms = 10000};
    int rc = vt_rpc_call_unary(channel, svc, "UpsertUser", &req.base, &o, &reply);
    if (msg)
        snprintf(msg, msglen, "%s", vt_rpc_reply_message(reply));
    if (rc == VT_OK) {
        const Venta__User__V1__UpsertUserResponse *r = (const void *)vt_rpc_reply_response(reply);
        if (dup)
            *dup = r->duplicate;
        if (v) {
            memset(v, 0, sizeof *v);
            if (r->user)
                view_of(r->user, v);
        }
    }
    vt_rpc_reply_free(reply);
    return rc;
}

static int simple_upsert(const char *event_id, const char *id, const char *email, const char *type,
                         int64_t updated_ms)
{
    clerk_user c = {.event_id = event_id,
                    .id = id,
                    .email = email,
                    .type = type,
                    .created_ms = t0,
                    .updated_ms = updated_ms};
    return upsert(&c, NULL, NULL, NULL, 0);
}

static int delete_user(const char *event_id, const char *id, bool *deleted, bool *dup)
{
    Venta__User__V1__DeleteUserRequest req = VENTA__USER__V1__DELETE_USER_REQUEST__INIT;
    req.webhook_event_id = (char *)event_id;
    req.provider = (char *)"clerk";
    req.id = (char *)id;
    vt_rpc_reply *reply;
    vt_rpc_call_opts o = {.timeout_ms = 10000};
    int rc = vt_rpc_call_unary(channel, svc, "DeleteUser", &req.base, &o, &reply);
    if (rc == VT_OK) {
        const Venta__User__V1__DeleteUserResponse *r = (const void *)vt_rpc_reply_response(reply);
        if (deleted)
            *deleted = r->deleted;
        if (dup)
            *dup = r->duplicate;
    }
    vt_rpc_reply_free(reply);
    return rc;
}

typedef struct {
    const char *event_id, *type, *user, *original_user, *product, *new_product;
    int64_t expires_ms, ts_ms;
    const char *const *from, *const *to; /* NULL-terminated */
} rc_event;

static size_t list_len(const char *const *l)
{
    size_t n = 0;
    while (l && l[n])
        n++;
    return n;
}

/* ApplySubscriptionEvent: status; result ("applied"…) and users changed into out. */
static int apply(const rc_event *e, char *result, size_t n_users[1], char *msg, size_t msglen)
{
    Venta__User__V1__ApplySubscriptionEventRequest req =
        VENTA__USER__V1__APPLY_SUBSCRIPTION_EVENT_REQUEST__INIT;
    req.provider_event_id = (char *)e->event_id;
    req.id = (char *)e->event_id;
    req.type = (char *)e->type;
    req.app_user_id = (char *)(e->user ? e->user : "");
    req.original_app_user_id = (char *)(e->original_user ? e->original_user : "");
    req.product_id = (char *)(e->product ? e->product : "venta_pro_monthly");
    req.new_product_id = (char *)(e->new_product ? e->new_product : "");
    char *ents[] = {(char *)"pro"};
    req.n_entitlement_ids = 1;
    req.entitlement_ids = ents;
    req.period_type = (char *)"NORMAL";
    req.store = (char *)"APP_STORE";
    req.environment = (char *)"SANDBOX";
    req.purchased_at_ms = t0;
    req.expiration_at_ms = e->expires_ms;
    req.event_timestamp_ms = e->ts_ms;
    req.n_transferred_from = list_len(e->from);
    req.transferred_from = (char **)e->from;
    req.n_transferred_to = list_len(e->to);
    req.transferred_to = (char **)e->to;
    vt_rpc_reply *reply;
    vt_rpc_call_opts o = {.timeout_ms = 10000};
    int rc = vt_rpc_call_unary(channel, svc, "ApplySubscriptionEvent", &req.base, &o, &reply);
    if (msg)
        snprintf(msg, msglen, "%s", vt_rpc_reply_message(reply));
    if (rc == VT_OK) {
        const Venta__User__V1__ApplySubscriptionEventResponse *r =
            (const void *)vt_rpc_reply_response(reply);
        if (result)
            snprintf(result, 32, "%s", r->result);
        if (n_users)
            *n_users = r->n_users;
    }
    vt_rpc_reply_free(reply);
    return rc;
}

static const char *applied(const char *event_id, const char *type, const char *user,
                           int64_t expires_ms, int64_t ts_ms)
{
    static char result[32];
    rc_event e = {
        .event_id = event_id, .type = type, .user = user, .expires_ms = expires_ms, .ts_ms = ts_ms};
    if (apply(&e, result, NULL, NULL, 0) != VT_OK)
        snprintf(result, sizeof result, "error");
    return result;
}

/* A barrier on the event stream: one more user created, and its event seen, means
 * every event published before it has arrived too. */
static void event_barrier(void)
{
    static int n;
    char id[64], eid[64];
    snprintf(id, sizeof id, "user_barrier_%d", ++n);
    snprintf(eid, sizeof eid, "msg_barrier_%d", n);
    VT_CHECK_INT(simple_upsert(eid, id, NULL, "user.created", t0), VT_OK);
    VT_CHECK(wait_events("evt.user.created", id, 1, 10000));
}

/* ---------------------------------------------------------------- tests -- */

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
        vt_rpc_channel *vch = vt_rpc_channel_new(target, NULL);
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

int main(void)
{
    vt_log_init("test-user", VT_LOG_ERROR);
    t0 = vt_now_ms() - 7 * DAY_MS;
    db_url = vt_harness_db_new_migrated("user");
    vt_bus_options o = {.urls = vt_harness_env("VENTA_TEST_NATS_URL"), .name = "test-user"};
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
    VT_RUN(test_health);
    VT_RUN(test_upsert_get_and_ordering);
    VT_RUN(test_idempotent_redelivery);
    VT_RUN(test_concurrent_upserts_leave_one_row);
    VT_RUN(test_validation_and_verbatim_storage);
    VT_RUN(test_delete_and_revival);
    VT_RUN(test_subscription_lifecycle);
    VT_RUN(test_out_of_order_events);
    VT_RUN(test_unknown_user_is_created);
    VT_RUN(test_transfer);
    VT_RUN(test_test_and_unknown_types);
    VT_RUN(test_subscription_validation);
    VT_RUN(test_list_user_vendors);
    VT_RUN(test_survives_postgres_restart);
    VT_RUN(test_metrics);
    VT_RUN(test_sigterm_exits_cleanly);
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
