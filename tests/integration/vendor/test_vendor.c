/*
 * Integration tests of venta-vendor as a real process against the harness's
 * PostgreSQL+PostGIS and NATS, called over gRPC with libs/rpc's client: every method's
 * success and failure paths, ownership and identity, partial updates that respect field
 * presence, validation messages naming the field, SQL-looking and oversized input,
 * keyset pagination without duplicates or gaps, search ranking, typo tolerance and the
 * radius filter, the domain events seen by a real NATS subscriber, evt.user.deleted,
 * the last-known location fed from loc.>, a PostgreSQL restart survived without a
 * service restart, /metrics, and SIGTERM. Runs alone: it restarts PostgreSQL.
 */
#include "grpc/health/v1/health.pb-c.h"
#include "venta/events/v1/events.pb-c.h"
#include "venta/vendor/v1/vendor.pb-c.h"
#include "vt_bus.h"
#include "vt_core.h"
#include "vt_db.h"
#include "vt_events.h"
#include "vt_harness.h"
#include "vt_harness_rpc.h"
#include "vt_rpc.h"
#include "vt_test.h"

#include <ctype.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

typedef Venta__Vendor__V1__Vendor Vendor;

static char *db_url;
static int service_pid, grpc_port, metrics_port;
static vt_rpc_channel *channel;
static vt_bus *bus;
static char msg[1024]; /* status message of the last call() */

static const ProtobufCServiceDescriptor *svc = &venta__vendor__v1__vendor_service__descriptor;

/* ------------------------------------------------------------------ plumbing ---- */

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
    /* A 1-minute profile cache TTL (the longest allowed): no read in these tests is fresh merely
     * because an entry expired; every change must reach the cache by itself. */
    const char *env[] = {"VENTA_VENDOR_LOCATION_INTERVAL_MS=200", "VENTA_RPC_THREADS=2",
                         "VENTA_VENDOR_CACHE_TTL_MS=60000", NULL};
    vt_harness_service s;
    vt_harness_service_start(&s, vt_harness_env("VENTA_VENDOR_BIN"), "VENTA_VENDOR_ADDR", db_url,
                             env);
    service_pid = s.pid, grpc_port = s.grpc_port, metrics_port = s.metrics_port;
    channel = s.channel;
}

/* One call as `user` (NULL: no x-user-id). The status message lands in msg; on OK and
 * when out is non-NULL the response is handed over (free with free_msg). */
static int call_on(vt_rpc_channel *ch, const char *method, const ProtobufCMessage *req,
                   const char *user, const char *request_id, void *out)
{
    vt_rpc_reply *reply;
    vt_rpc_call_opts o = {.timeout_ms = 15000, .user_id = user, .request_id = request_id};
    int rc = vt_rpc_call_unary(ch, svc, method, req, &o, &reply);
    snprintf(msg, sizeof msg, "%s", vt_rpc_reply_message(reply));
    if (out)
        *(ProtobufCMessage **)out = rc == VT_OK ? vt_rpc_reply_take_response(reply) : NULL;
    vt_rpc_reply_free(reply);
    return rc;
}

static int call(const char *method, const ProtobufCMessage *req, const char *user,
                const char *request_id, void *out)
{
    return call_on(channel, method, req, user, request_id, out);
}

static void free_msg(void *m)
{
    if (m)
        protobuf_c_message_free_unpacked(m, NULL);
}

typedef struct {
    const char *name, *description, *email, *phone, *website, *profile_image, *owner_id;
    bool is_open;
} profile;

static int create(const char *user, const profile *p, Vendor **out)
{
    Venta__Vendor__V1__CreateVendorRequest req = VENTA__VENDOR__V1__CREATE_VENDOR_REQUEST__INIT;
    req.name = (char *)(p->name ? p->name : "");
    req.description = (char *)(p->description ? p->description : "");
    req.email = (char *)(p->email ? p->email : "");
    req.phone = (char *)(p->phone ? p->phone : "");
    req.website = (char *)(p->website ? p->website : "");
    req.profile_image = (char *)(p->profile_image ? p->profile_image : "");
    req.owner_id = (char *)(p->owner_id ? p->owner_id : "");
    req.is_open = p->is_open;
    return call("CreateVendor", &req.base, user, NULL, out);
}

/* Create and return the new id (into id, 37 bytes); requires success. */
static void create_id(const char *user, const char *name, const char *description, char *id)
{
    Vendor *v;
    profile p = {.name = name, .description = description};
    VT_REQUIRE(create(user, &p, &v) == VT_OK);
    snprintf(id, VT_UUID_LEN + 1, "%s", v->id);
    free_msg(v);
}

static int get(const char *id, Vendor **out)
{
    Venta__Vendor__V1__GetVendorRequest req = VENTA__VENDOR__V1__GET_VENDOR_REQUEST__INIT;
    req.id = (char *)id;
    return call("GetVendor", &req.base, NULL, NULL, out);
}

static int del(const char *user, const char *id)
{
    Venta__Vendor__V1__DeleteVendorRequest req = VENTA__VENDOR__V1__DELETE_VENDOR_REQUEST__INIT;
    req.id = (char *)id;
    return call("DeleteVendor", &req.base, user, NULL, NULL);
}

static long count_rows(const char *owner)
{
    const char *params[1] = {owner};
    PGresult *r = PQexecParams(db(), "SELECT count(*) FROM vendor.vendors WHERE owner_id = $1", 1,
                               NULL, params, NULL, NULL, 0);
    long n = PQresultStatus(r) == PGRES_TUPLES_OK ? atol(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return n;
}

static bool rfc3339_ms(const char *t)
{
    /* 2026-11-21T10:00:00.123Z */
    if (!t || strlen(t) != 24)
        return false;
    const char *shape = "dddd-dd-ddTdd:dd:dd.dddZ";
    for (int i = 0; i < 24; i++)
        if (shape[i] == 'd' ? (t[i] < '0' || t[i] > '9') : t[i] != shape[i])
            return false;
    return true;
}

/* ---- domain events seen by a plain NATS subscriber ---- */

#define MAX_EVENTS 256
typedef struct {
    char subject[64], type[16], vendor_id[40], owner_id[64], name[128], request_id[64];
    bool is_open;
} seen_event;

static struct {
    pthread_mutex_t lock;
    int n;
    seen_event e[MAX_EVENTS];
} events = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void on_event(const char *subject, const void *data, size_t len, void *user)
{
    (void)user;
    Venta__Events__V1__VendorEvent *m = venta__events__v1__vendor_event__unpack(NULL, len, data);
    if (!m)
        return;
    pthread_mutex_lock(&events.lock);
    if (events.n < MAX_EVENTS) {
        seen_event *e = &events.e[events.n++];
        snprintf(e->subject, sizeof e->subject, "%s", subject);
        snprintf(e->type, sizeof e->type, "%s", m->type);
        snprintf(e->vendor_id, sizeof e->vendor_id, "%s", m->vendor_id);
        snprintf(e->owner_id, sizeof e->owner_id, "%s", m->owner_id);
        snprintf(e->name, sizeof e->name, "%s", m->name);
        snprintf(e->request_id, sizeof e->request_id, "%s", m->request_id);
        e->is_open = m->is_open;
    }
    pthread_mutex_unlock(&events.lock);
    venta__events__v1__vendor_event__free_unpacked(m, NULL);
}

/* Wait until n events on subject about vendor_id arrived; copies the n-th into out. */
static bool wait_event_n(const char *subject, const char *vendor_id, int n, seen_event *out)
{
    for (int i = 0; i < 500; i++) {
        int seen = 0;
        pthread_mutex_lock(&events.lock);
        for (int k = 0; k < events.n; k++)
            if (strcmp(events.e[k].subject, subject) == 0 &&
                strcmp(events.e[k].vendor_id, vendor_id) == 0 && ++seen == n) {
                if (out)
                    *out = events.e[k];
                pthread_mutex_unlock(&events.lock);
                return true;
            }
        pthread_mutex_unlock(&events.lock);
        usleep(10000);
    }
    return false;
}

static bool wait_event(const char *subject, const char *vendor_id, seen_event *out)
{
    return wait_event_n(subject, vendor_id, 1, out);
}

static int count_events(const char *subject, const char *vendor_id)
{
    int n = 0;
    pthread_mutex_lock(&events.lock);
    for (int k = 0; k < events.n; k++)
        n += strcmp(events.e[k].subject, subject) == 0 &&
             strcmp(events.e[k].vendor_id, vendor_id) == 0;
    pthread_mutex_unlock(&events.lock);
    return n;
}

static char *metrics_text_of(int port)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "curl -sf http://127.0.0.1:%d/metrics", port);
    FILE *p = popen(cmd, "r");
    VT_REQUIRE(p != NULL);
    static char text[262144];
    size_t n = fread(text, 1, sizeof text - 1, p);
    text[n] = '\0';
    pclose(p);
    return text;
}

static char *metrics_text(void)
{
    return metrics_text_of(metrics_port);
}

static double metric_of(int port, const char *series)
{
    const char *t = metrics_text_of(port);
    char key[256];
    snprintf(key, sizeof key, "\n%s ", series);
    const char *at = strstr(t, key);
    return at ? strtod(at + strlen(key), NULL) : -1;
}

static double metric(const char *series)
{
    return metric_of(metrics_port, series);
}

/* --------------------------------------------------------------------- tests ---- */

static void test_health(void)
{
    VT_CHECK(wait_serving(20000));
    VT_CHECK_INT(health("venta.vendor.v1.VendorService"),
                 GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
    VT_CHECK_INT(health("postgres"),
                 GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
    VT_CHECK_INT(health("nats"), GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
}

static void test_create_and_get(void)
{
    profile p = {.name = "Crêpes de la Lune",
                 .description = "Sweet and savoury crêpes.\nOpen late.",
                 .email = "hello@crepes-lune.example.com",
                 .phone = "+33 1 23-45-67-89",
                 .website = "https://crepes-lune.example.com/menu?x=1",
                 .profile_image = "http://cdn.example.com/img/lune.png",
                 .owner_id = "user_alice",
                 .is_open = true};
    Venta__Vendor__V1__CreateVendorRequest req = VENTA__VENDOR__V1__CREATE_VENDOR_REQUEST__INIT;
    req.name = (char *)p.name, req.description = (char *)p.description;
    req.email = (char *)p.email, req.phone = (char *)p.phone, req.website = (char *)p.website;
    req.profile_image = (char *)p.profile_image, req.owner_id = (char *)p.owner_id;
    req.is_open = true;
    Vendor *v = NULL;
    VT_REQUIRE(call("CreateVendor", &req.base, "user_alice", "req-create-1", &v) == VT_OK);
    VT_CHECK(vt_uuid_valid(v->id));
    VT_CHECK_STR(v->owner_id, "user_alice");
    VT_CHECK_STR(v->name, p.name);
    VT_CHECK_STR(v->description, p.description);
    VT_CHECK_STR(v->email, p.email);
    VT_CHECK_STR(v->phone, p.phone);
    VT_CHECK_STR(v->website, p.website);
    VT_CHECK_STR(v->profile_image, p.profile_image);
    VT_CHECK(v->is_open);
    VT_CHECK(v->location == NULL);
    VT_CHECK(rfc3339_ms(v->created_at));
    VT_CHECK(rfc3339_ms(v->updated_at));

    Vendor *g = NULL;
    VT_CHECK_INT(get(v->id, &g), VT_OK);
    if (g) {
        VT_CHECK_STR(g->id, v->id);
        VT_CHECK_STR(g->name, p.name);
        VT_CHECK_STR(g->email, p.email);
        VT_CHECK_STR(g->created_at, v->created_at);
        VT_CHECK(g->location == NULL);
    }
    seen_event e;
    VT_CHECK(wait_event("evt.vendor.created", v->id, &e));
    VT_CHECK_STR(e.type, "created");
    VT_CHECK_STR(e.owner_id, "user_alice");
    VT_CHECK_STR(e.name, p.name);
    VT_CHECK(e.is_open);
    VT_CHECK_STR(e.request_id, "req-create-1");
    free_msg(g);
    free_msg(v);

    /* Optional fields may stay empty; the owner comes from x-user-id alone. */
    profile minimal = {.name = "M"};
    VT_CHECK_INT(create("user_alice", &minimal, &v), VT_OK);
    if (v) {
        VT_CHECK_STR(v->owner_id, "user_alice");
        VT_CHECK_STR(v->email, "");
        VT_CHECK(!v->is_open);
    }
    free_msg(v);
}

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    VT_REQUIRE(s != NULL);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static void expect_invalid(const profile *p, const char *message)
{
    Vendor *v = NULL;
    int rc = create("user_invalid", p, &v);
    VT_CHECK_INT(rc, VT_INVALID_ARGUMENT);
    if (strcmp(msg, message) != 0)
        fprintf(stderr, "  message \"%s\", expected \"%s\"\n", msg, message);
    VT_CHECK(strcmp(msg, message) == 0);
    free_msg(v);
}

static void test_create_validation(void)
{
    profile ok = {.name = "Valid"};
    Vendor *v = NULL;
    VT_CHECK_INT(create(NULL, &ok, &v), VT_UNAUTHENTICATED);
    VT_CHECK(strstr(msg, "x-user-id") != NULL);
    profile other = {.name = "Valid", .owner_id = "user_mallory"};
    VT_CHECK_INT(create("user_invalid", &other, &v), VT_PERMISSION_DENIED);

    char *n121 = repeat('a', 121), *n10k = repeat('a', 10 * 1024);
    char *d2001 = repeat('d', 2001), *d1m = repeat('d', 1024 * 1024);
    const char *name_len = "name must be 1 to 120 characters";
    expect_invalid(&(profile){.name = ""}, name_len);
    expect_invalid(&(profile){.name = n121}, name_len);
    expect_invalid(&(profile){.name = n10k}, name_len);
    expect_invalid(&(profile){.name = "   "}, "name must not be blank");
    expect_invalid(&(profile){.name = "\xff\xfe"}, "name is not valid UTF-8");
    expect_invalid(&(profile){.name = "tab\there"}, "name must not contain control characters");
    expect_invalid(&(profile){.name = "x", .description = d2001},
                   "description must be at most 2000 characters");
    expect_invalid(&(profile){.name = "x", .description = d1m},
                   "description must be at most 2000 characters");
    const char *bad_email = "email is not a valid email address";
    expect_invalid(&(profile){.name = "x", .email = "not-an-email"}, bad_email);
    expect_invalid(&(profile){.name = "x", .email = "a@b"}, bad_email);
    expect_invalid(&(profile){.name = "x", .email = "a b@example.com"}, bad_email);
    expect_invalid(&(profile){.name = "x", .email = "a@@example.com"}, bad_email);
    const char *bad_url = "website must be an http(s) URL";
    expect_invalid(&(profile){.name = "x", .website = "javascript:alert(1)"}, bad_url);
    expect_invalid(&(profile){.name = "x", .website = "ftp://example.com"}, bad_url);
    expect_invalid(&(profile){.name = "x", .website = "https://"}, bad_url);
    expect_invalid(&(profile){.name = "x", .website = "https://exa mple.com"}, bad_url);
    expect_invalid(&(profile){.name = "x", .profile_image = "data:image/png;base64,AAAA"},
                   "profileImage must be an http(s) URL");
    const char *bad_phone = "phone must be 7 to 20 digits, optionally with +, spaces, dashes";
    expect_invalid(&(profile){.name = "x", .phone = "12345"}, bad_phone);
    expect_invalid(&(profile){.name = "x", .phone = "555-CALL-NOW"}, bad_phone);
    expect_invalid(&(profile){.name = "x", .phone = "1+5551234567"}, bad_phone);
    expect_invalid(&(profile){.name = "x", .phone = "123456789012345678901"}, bad_phone);
    free(n121), free(n10k), free(d2001), free(d1m);
    VT_CHECK_INT(count_rows("user_invalid"), 0); /* nothing stored */

    /* Limits count characters, not bytes: 120 two-byte characters are fine. */
    char name120[241];
    for (int i = 0; i < 120; i++)
        memcpy(name120 + 2 * i, "é", 2);
    name120[240] = '\0';
    VT_CHECK_INT(create("user_invalid", &(profile){.name = name120}, &v), VT_OK);
    if (v)
        VT_CHECK_STR(v->name, name120);
    free_msg(v);
}

static void test_sql_looking_input_is_stored_verbatim(void)
{
    const char *name = "Robert'); DROP TABLE vendor.vendors;--";
    const char *description = "' OR '1'='1' -- $1 %s \\x00 E'\\\\' ; SELECT pg_sleep(10)";
    Vendor *v = NULL;
    VT_REQUIRE(create("user_bobby", &(profile){.name = name, .description = description}, &v) ==
               VT_OK);
    Vendor *g = NULL;
    VT_CHECK_INT(get(v->id, &g), VT_OK);
    if (g) {
        VT_CHECK_STR(g->name, name);
        VT_CHECK_STR(g->description, description);
    }
    VT_CHECK(count_rows("user_bobby") == 1); /* the table is still there */
    free_msg(g);
    free_msg(v);
}

static void test_get_errors(void)
{
    VT_CHECK_INT(get("6f1c1f8e-3c1a-4c1e-9a57-1d8a4b4ad000", NULL), VT_NOT_FOUND);
    VT_CHECK(strstr(msg, "6f1c1f8e-3c1a-4c1e-9a57-1d8a4b4ad000") != NULL);
    VT_CHECK_INT(get("not-a-uuid", NULL), VT_NOT_FOUND); /* no vendor has such an id */
    VT_CHECK_STR(msg, "vendor not-a-uuid not found");
    VT_CHECK_INT(get("'; DROP TABLE vendor.vendors; --", NULL), VT_NOT_FOUND);
    VT_CHECK_INT(get("", NULL), VT_INVALID_ARGUMENT);
    VT_CHECK_STR(msg, "id is required");
}

static int update(const char *user, Venta__Vendor__V1__UpdateVendorRequest *req, Vendor **out)
{
    return call("UpdateVendor", &req->base, user, NULL, out);
}

static void test_update_partial(void)
{
    Vendor *v = NULL;
    profile p = {.name = "Noodle Cart",
                 .description = "Hand-pulled noodles",
                 .email = "noodles@example.com",
                 .website = "https://noodles.example.com"};
    VT_REQUIRE(create("user_nora", &p, &v) == VT_OK);
    char id[VT_UUID_LEN + 1];
    snprintf(id, sizeof id, "%s", v->id);
    free_msg(v);

    /* description present and "": cleared; everything else untouched. */
    Venta__Vendor__V1__UpdateVendorRequest req = VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__INIT;
    req.id = id;
    req.opt_description_case =
        VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_DESCRIPTION_DESCRIPTION;
    req.description = (char *)"";
    VT_CHECK_INT(update("user_nora", &req, &v), VT_OK);
    if (v) {
        VT_CHECK_STR(v->description, "");
        VT_CHECK_STR(v->name, "Noodle Cart");
        VT_CHECK_STR(v->email, "noodles@example.com");
        VT_CHECK_STR(v->website, "https://noodles.example.com");
    }
    free_msg(v);

    /* name present; description absent stays "" (not reset, not restored). */
    req = (Venta__Vendor__V1__UpdateVendorRequest)VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__INIT;
    req.id = id;
    req.opt_name_case = VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_NAME_NAME;
    req.name = (char *)"Noodle Cart Deluxe";
    req.opt_is_open_case = VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_IS_OPEN_IS_OPEN;
    req.is_open = true;
    VT_CHECK_INT(update("user_nora", &req, &v), VT_OK);
    if (v) {
        VT_CHECK_STR(v->name, "Noodle Cart Deluxe");
        VT_CHECK_STR(v->description, "");
        VT_CHECK(v->is_open);
        VT_CHECK_STR(v->email, "noodles@example.com");
    }
    free_msg(v);
    seen_event e;
    VT_CHECK(wait_event("evt.vendor.updated", id, &e)); /* the description change */
    VT_CHECK_STR(e.name, "Noodle Cart");
    VT_CHECK(!e.is_open);
    VT_CHECK(wait_event_n("evt.vendor.updated", id, 2, &e));
    VT_CHECK_STR(e.type, "updated");
    VT_CHECK_STR(e.name, "Noodle Cart Deluxe");
    VT_CHECK_STR(e.owner_id, "user_nora");
    VT_CHECK(e.is_open);

    /* email "" clears it; is_open false present closes; the rest stays. */
    req = (Venta__Vendor__V1__UpdateVendorRequest)VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__INIT;
    req.id = id;
    req.opt_email_case = VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_EMAIL_EMAIL;
    req.email = (char *)"";
    req.opt_is_open_case = VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_IS_OPEN_IS_OPEN;
    req.is_open = false;
    VT_CHECK_INT(update("user_nora", &req, &v), VT_OK);
    if (v) {
        VT_CHECK_STR(v->email, "");
        VT_CHECK(!v->is_open);
        VT_CHECK_STR(v->name, "Noodle Cart Deluxe");
        VT_CHECK_STR(v->website, "https://noodles.example.com");
    }
    char updated_at[32] = "";
    if (v)
        snprintf(updated_at, sizeof updated_at, "%s", v->updated_at);
    free_msg(v);

    /* No field present: the vendor comes back unchanged, nothing published. */
    VT_CHECK(wait_event_n("evt.vendor.updated", id, 3, NULL));
    int before = count_events("evt.vendor.updated", id);
    req = (Venta__Vendor__V1__UpdateVendorRequest)VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__INIT;
    req.id = id;
    VT_CHECK_INT(update("user_nora", &req, &v), VT_OK);
    if (v) {
        VT_CHECK_STR(v->updated_at, updated_at);
        VT_CHECK_STR(v->name, "Noodle Cart Deluxe");
    }
    free_msg(v);

    /* Identity, ownership, existence, validation. */
    req.opt_name_case = VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_NAME_NAME;
    req.name = (char *)"Hijacked";
    VT_CHECK_INT(update("user_mallory", &req, NULL), VT_PERMISSION_DENIED);
    VT_CHECK(strstr(msg, "owner") != NULL);
    VT_CHECK_INT(update(NULL, &req, NULL), VT_UNAUTHENTICATED);
    req.opt_name_case = 0;
    VT_CHECK_INT(update("user_mallory", &req, NULL), VT_PERMISSION_DENIED); /* even a no-op */
    req.opt_name_case = VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_NAME_NAME;
    req.name = (char *)"";
    VT_CHECK_INT(update("user_nora", &req, NULL), VT_INVALID_ARGUMENT);
    VT_CHECK_STR(msg, "name must be 1 to 120 characters");
    req.name = (char *)"ok";
    req.opt_phone_case = VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_PHONE_PHONE;
    req.phone = (char *)"call me";
    VT_CHECK_INT(update("user_nora", &req, NULL), VT_INVALID_ARGUMENT);
    VT_CHECK_STR(msg, "phone must be 7 to 20 digits, optionally with +, spaces, dashes");
    req.opt_phone_case = 0;
    req.id = (char *)"6f1c1f8e-3c1a-4c1e-9a57-1d8a4b4ad001";
    VT_CHECK_INT(update("user_nora", &req, NULL), VT_NOT_FOUND);
    req.id = (char *)"nope";
    VT_CHECK_INT(update("user_nora", &req, NULL), VT_NOT_FOUND);
    VT_CHECK_STR(msg, "vendor nope not found");

    VT_CHECK_INT(get(id, &v), VT_OK); /* none of the failures changed anything */
    if (v) {
        VT_CHECK_STR(v->name, "Noodle Cart Deluxe");
        VT_CHECK_STR(v->updated_at, updated_at);
    }
    free_msg(v);
    /* Nothing was published for those calls: a later update's event is the next one. */
    req = (Venta__Vendor__V1__UpdateVendorRequest)VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__INIT;
    req.id = id;
    req.opt_website_case = VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_WEBSITE_WEBSITE;
    req.website = (char *)"https://noodles.example.com/v2";
    VT_CHECK_INT(update("user_nora", &req, NULL), VT_OK);
    VT_CHECK(wait_event_n("evt.vendor.updated", id, before + 1, NULL));
    VT_CHECK_INT(count_events("evt.vendor.updated", id), before + 1);
}

static void test_delete(void)
{
    char id[VT_UUID_LEN + 1];
    create_id("user_dora", "Dumpling Stand", "", id);
    VT_CHECK_INT(del("user_mallory", id), VT_PERMISSION_DENIED);
    VT_CHECK_INT(del(NULL, id), VT_UNAUTHENTICATED);
    VT_CHECK_INT(del("user_dora", "not-a-uuid"), VT_NOT_FOUND);
    VT_CHECK_INT(get(id, NULL), VT_OK);

    Venta__Vendor__V1__DeleteVendorRequest req = VENTA__VENDOR__V1__DELETE_VENDOR_REQUEST__INIT;
    req.id = id;
    Venta__Vendor__V1__DeleteVendorResponse *res = NULL;
    VT_CHECK_INT(call("DeleteVendor", &req.base, "user_dora", NULL, &res), VT_OK);
    if (res)
        VT_CHECK_STR(res->id, id);
    free_msg(res);
    VT_CHECK_INT(get(id, NULL), VT_NOT_FOUND);
    VT_CHECK_INT(del("user_dora", id), VT_NOT_FOUND);
    VT_CHECK_INT(del("user_mallory", id), VT_NOT_FOUND);
    Venta__Vendor__V1__UpdateVendorRequest u = VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__INIT;
    u.id = id;
    u.opt_name_case = VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_NAME_NAME;
    u.name = (char *)"Back from the dead";
    VT_CHECK_INT(update("user_dora", &u, NULL), VT_NOT_FOUND);
    seen_event e;
    VT_CHECK(wait_event("evt.vendor.deleted", id, &e));
    VT_CHECK_STR(e.type, "deleted");
    VT_CHECK_STR(e.owner_id, "user_dora");
    VT_CHECK_STR(e.name, "Dumpling Stand");
    VT_CHECK_INT(count_events("evt.vendor.deleted", id), 1);
}

typedef struct {
    int n;
    char ids[128][VT_UUID_LEN + 1];
    char next[512];
} page;

static int list(const char *owner, int page_size, const char *token, page *out)
{
    Venta__Vendor__V1__ListVendorsRequest req = VENTA__VENDOR__V1__LIST_VENDORS_REQUEST__INIT;
    req.owner_id = (char *)owner;
    req.page_size = page_size;
    req.page_token = (char *)token;
    Venta__Vendor__V1__ListVendorsResponse *res = NULL;
    int rc = call("ListVendors", &req.base, NULL, NULL, &res);
    if (rc == VT_OK && out) {
        out->n = (int)(res->n_vendors < 128 ? res->n_vendors : 128);
        for (int i = 0; i < out->n; i++)
            snprintf(out->ids[i], sizeof out->ids[i], "%s", res->vendors[i]->id);
        snprintf(out->next, sizeof out->next, "%s", res->next_page_token);
    }
    free_msg(res);
    return rc;
}

static void test_list_pagination(void)
{
    enum { N = 23 };
    char ids[N][VT_UUID_LEN + 1];
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof name, "Pager %02d", i);
        create_id("user_pager", name, "", ids[i]);
    }
    /* Walk pages of 5 while one vendor already seen is deleted midway. */
    char seen[N][VT_UUID_LEN + 1];
    int nseen = 0, pages = 0;
    char token[512] = "";
    bool deleted = false;
    do {
        page pg;
        VT_REQUIRE(list("user_pager", 5, token, &pg) == VT_OK);
        pages++;
        VT_CHECK(pg.n <= 5);
        for (int i = 0; i < pg.n && nseen < N; i++) {
            for (int k = 0; k < nseen; k++)
                VT_CHECK(strcmp(seen[k], pg.ids[i]) != 0); /* no duplicates */
            snprintf(seen[nseen++], sizeof seen[0], "%s", pg.ids[i]);
        }
        if (!deleted) {
            VT_CHECK_INT(del("user_pager", ids[0]), VT_OK);
            deleted = true;
        }
        snprintf(token, sizeof token, "%s", pg.next);
    } while (*token && pages < 20);
    VT_CHECK_INT(pages, 5);
    VT_CHECK_INT(nseen, N); /* no gaps: every vendor seen once, in creation order */
    for (int i = 0; i < N && i < nseen; i++)
        VT_CHECK_STR(seen[i], ids[i]);

    page pg;
    VT_CHECK_INT(list("user_pager", 0, "", &pg), VT_OK); /* default 20 */
    VT_CHECK_INT(pg.n, 20);
    VT_CHECK(*pg.next != '\0');
    VT_CHECK_INT(list("user_pager", 1000, "", &pg), VT_OK); /* capped at 100 */
    VT_CHECK_INT(pg.n, N - 1);
    VT_CHECK_STR(pg.next, "");
    VT_CHECK_INT(list("", 100, "", &pg), VT_OK); /* every owner */
    VT_CHECK(pg.n > N);
    VT_CHECK_INT(list("user_nobody", 10, "", &pg), VT_OK);
    VT_CHECK_INT(pg.n, 0);
    VT_CHECK_STR(pg.next, "");

    VT_CHECK_INT(list("user_pager", -1, "", NULL), VT_INVALID_ARGUMENT);
    VT_CHECK(strstr(msg, "pageSize") != NULL);
    const char *bad[] = {"!!!",        "djF8THwxMjM",
                         "AAAA",       "dGFjb3M",
                         "v1|L|x|y|z", "djF8THwwMDAwMDAwMDAwMDAwMDAwfCcpOyBEUk9QfG5vdC1hLXV1aWQ"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        VT_CHECK_INT(list("user_pager", 5, bad[i], NULL), VT_INVALID_ARGUMENT);
        VT_CHECK_STR(msg, "pageToken is malformed");
    }
    VT_CHECK_INT(list("user_pager", 5, "", &pg), VT_OK);
    VT_CHECK_INT(list("user_alice", 5, pg.next, NULL), VT_INVALID_ARGUMENT); /* other owner */
}

static int search(const char *q, const double *lat, const double *lng, const double *radius,
                  int limit, const char *cursor, page *out)
{
    Venta__Vendor__V1__SearchVendorsRequest req = VENTA__VENDOR__V1__SEARCH_VENDORS_REQUEST__INIT;
    req.q = (char *)q;
    if (lat) {
        req.opt_lat_case = VENTA__VENDOR__V1__SEARCH_VENDORS_REQUEST__OPT_LAT_LAT;
        req.lat = *lat;
    }
    if (lng) {
        req.opt_lng_case = VENTA__VENDOR__V1__SEARCH_VENDORS_REQUEST__OPT_LNG_LNG;
        req.lng = *lng;
    }
    if (radius) {
        req.opt_radius_meters_case =
            VENTA__VENDOR__V1__SEARCH_VENDORS_REQUEST__OPT_RADIUS_METERS_RADIUS_METERS;
        req.radius_meters = *radius;
    }
    req.limit = limit;
    req.cursor = (char *)cursor;
    Venta__Vendor__V1__SearchVendorsResponse *res = NULL;
    int rc = call("SearchVendors", &req.base, NULL, NULL, &res);
    if (rc == VT_OK && out) {
        out->n = (int)(res->n_vendors < 128 ? res->n_vendors : 128);
        for (int i = 0; i < out->n; i++)
            snprintf(out->ids[i], sizeof out->ids[i], "%s", res->vendors[i]->id);
        snprintf(out->next, sizeof out->next, "%s", res->next_cursor);
    }
    free_msg(res);
    return rc;
}

static bool page_has(const page *pg, const char *id)
{
    for (int i = 0; i < pg->n; i++)
        if (strcmp(pg->ids[i], id) == 0)
            return true;
    return false;
}

static void publish_location(const char *id, double lat, double lng, int64_t ts,
                             const char *previous_cell)
{
    Venta__Events__V1__VendorLocation loc = VENTA__EVENTS__V1__VENDOR_LOCATION__INIT;
    loc.vendor_id = (char *)id;
    loc.lat = lat;
    loc.lng = lng;
    loc.ts = ts;
    VT_CHECK_INT(vt_events_publish_location(bus, &loc, previous_cell, NULL), VT_OK);
}

/* Wait until GetVendor shows a location at lat. */
static bool wait_location(const char *id, double lat)
{
    for (int i = 0; i < 300; i++) {
        Vendor *v = NULL;
        bool ok = get(id, &v) == VT_OK && v->location && fabs(v->location->lat - lat) < 1e-9;
        free_msg(v);
        if (ok)
            return true;
        usleep(20000);
    }
    return false;
}

static char tacos[VT_UUID_LEN + 1], pizza[VT_UUID_LEN + 1], burger[VT_UUID_LEN + 1];

static void test_location_cache(void)
{
    create_id("user_search", "Tacos El Gordo", "Al pastor and carne asada tacos, late night",
              tacos);
    create_id("user_search", "Pizza Napoli", "Wood-fired pizza; on Tuesdays we also do tacos",
              pizza);
    create_id("user_search", "Burger Barn", "Smash burgers and fries", burger);
    int64_t ts = vt_now_ms();
    VT_CHECK_INT(get(tacos, NULL), VT_OK); /* cached without a location */
    VT_CHECK_INT(get(pizza, NULL), VT_OK);
    publish_location(tacos, 48.8566, 2.3522, ts, NULL);  /* Paris */
    publish_location(pizza, 51.5074, -0.1278, ts, NULL); /* London */
    VT_CHECK(wait_location(tacos, 48.8566));
    VT_CHECK(wait_location(pizza, 51.5074));
    Vendor *v = NULL;
    VT_CHECK_INT(get(tacos, &v), VT_OK);
    if (v && v->location) {
        VT_CHECK_NEAR(v->location->lng, 2.3522, 1e-9);
        VT_CHECK(rfc3339_ms(v->location->updated_at));
    }
    free_msg(v);

    /* A burst for one vendor coalesces to its newest position; an older one is ignored,
     * and the left-cell copy (published on the old cell) changes nothing. */
    for (int i = 1; i <= 40; i++)
        publish_location(burger, 40.0 + i * 0.001, -3.7, ts + i, NULL);
    publish_location(burger, 10, 10, ts - 1000, NULL);
    VT_CHECK(wait_location(burger, 40.040));
    VT_CHECK(metric("venta_vendor_location_cache_coalesced_total") > 0);
    publish_location(burger, 40.5, -3.7, ts + 100, "u09tvw"); /* moved "from Paris" */
    VT_CHECK(wait_location(burger, 40.5));
    VT_CHECK(metric("venta_vendor_location_cache_left_cell_total") >= 1);
    /* Positions of unknown vendors are harmless. */
    publish_location("00000000-0000-4000-8000-00000000beef", 1, 1, ts, NULL);
    VT_CHECK(wait_serving(2000));
}

static void test_search(void)
{
    page pg;
    VT_CHECK_INT(search("tacos", NULL, NULL, NULL, 0, "", &pg), VT_OK);
    VT_CHECK_INT(pg.n, 2);
    if (pg.n == 2) {
        VT_CHECK_STR(pg.ids[0], tacos); /* name match (weight A) outranks description */
        VT_CHECK_STR(pg.ids[1], pizza);
    }
    VT_CHECK_STR(pg.next, "");
    VT_CHECK_INT(search("tacso", NULL, NULL, NULL, 0, "", &pg), VT_OK); /* typo */
    VT_CHECK(page_has(&pg, tacos));
    VT_CHECK(!page_has(&pg, burger));
    VT_CHECK_INT(search("BURGERS", NULL, NULL, NULL, 0, "", &pg), VT_OK); /* stemming, case */
    VT_CHECK_INT(pg.n, 1);
    VT_CHECK(page_has(&pg, burger));
    VT_CHECK_INT(search("\"carne asada\" -pizza", NULL, NULL, NULL, 0, "", &pg), VT_OK);
    VT_CHECK_INT(pg.n, 1);
    VT_CHECK(page_has(&pg, tacos));
    VT_CHECK_INT(search("'; DROP TABLE vendor.vendors; --", NULL, NULL, NULL, 0, "", &pg), VT_OK);

    /* Cursor pagination through the same ranking. */
    VT_CHECK_INT(search("tacos", NULL, NULL, NULL, 1, "", &pg), VT_OK);
    VT_CHECK_INT(pg.n, 1);
    VT_CHECK_STR(pg.ids[0], tacos);
    VT_CHECK(*pg.next != '\0');
    char cursor[512];
    snprintf(cursor, sizeof cursor, "%s", pg.next);
    VT_CHECK_INT(search("tacos", NULL, NULL, NULL, 1, cursor, &pg), VT_OK);
    VT_CHECK_INT(pg.n, 1);
    if (pg.n == 1)
        VT_CHECK_STR(pg.ids[0], pizza);
    VT_CHECK_STR(pg.next, "");
    VT_CHECK_INT(search("pizza", NULL, NULL, NULL, 1, cursor, NULL), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(search("tacos", NULL, NULL, NULL, 1, "bm9wZQ", NULL), VT_INVALID_ARGUMENT);
    VT_CHECK_STR(msg, "cursor is malformed");

    /* Within 5 km of Paris: only the Paris vendor. */
    double lat = 48.86, lng = 2.35, r5 = 5000, r1000k = 100000;
    VT_CHECK_INT(search("tacos", &lat, &lng, &r5, 0, "", &pg), VT_OK);
    VT_CHECK_INT(pg.n, 1);
    VT_CHECK(page_has(&pg, tacos));
    double london_lat = 51.5, london_lng = -0.12;
    VT_CHECK_INT(search("tacos", &london_lat, &london_lng, &r1000k, 0, "", &pg), VT_OK);
    VT_CHECK_INT(pg.n, 1);
    VT_CHECK(page_has(&pg, pizza));

    VT_CHECK_INT(search("tacos", &lat, NULL, NULL, 0, "", NULL), VT_INVALID_ARGUMENT);
    VT_CHECK(strstr(msg, "radiusMeters") != NULL);
    VT_CHECK_INT(search("tacos", &lat, &lng, NULL, 0, "", NULL), VT_INVALID_ARGUMENT);
    double zero = 0, bad_lat = 91;
    VT_CHECK_INT(search("tacos", &lat, &lng, &zero, 0, "", NULL), VT_INVALID_ARGUMENT);
    VT_CHECK(strstr(msg, "radiusMeters") != NULL);
    VT_CHECK_INT(search("tacos", &bad_lat, &lng, &r5, 0, "", NULL), VT_INVALID_ARGUMENT);
    VT_CHECK(strstr(msg, "lat") != NULL);
    VT_CHECK_INT(search("", NULL, NULL, NULL, 0, "", NULL), VT_INVALID_ARGUMENT);
    VT_CHECK(strstr(msg, "q ") == msg);
    VT_CHECK_INT(search("tacos", NULL, NULL, NULL, -5, "", NULL), VT_INVALID_ARGUMENT);
    VT_CHECK(strstr(msg, "limit") != NULL);

    /* Deleted vendors drop out of search. */
    VT_CHECK_INT(del("user_search", pizza), VT_OK);
    VT_CHECK_INT(search("tacos", NULL, NULL, NULL, 0, "", &pg), VT_OK);
    VT_CHECK_INT(pg.n, 1);
    VT_CHECK(!page_has(&pg, pizza));
}

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

int main(void)
{
    vt_log_init("test-vendor", VT_LOG_ERROR);
    db_url = vt_harness_db_new_migrated("vendor");
    vt_bus_options o = {.urls = vt_harness_env("VENTA_TEST_NATS_URL"), .name = "test-vendor"};
    char err[256];
    VT_REQUIRE(vt_bus_new(&o, &bus, err, sizeof err) == VT_OK);
    vt_bus_sub *sub;
    VT_REQUIRE(vt_bus_subscribe(bus, "evt.vendor.>", NULL, 0, on_event, NULL, &sub) == VT_OK);
    vt_bus_flush(bus, 2000);
    start_service();
    VT_RUN(test_health);
    VT_RUN(test_create_and_get);
    VT_RUN(test_create_validation);
    VT_RUN(test_sql_looking_input_is_stored_verbatim);
    VT_RUN(test_get_errors);
    VT_RUN(test_update_partial);
    VT_RUN(test_delete);
    VT_RUN(test_list_pagination);
    VT_RUN(test_location_cache);
    VT_RUN(test_search);
    VT_RUN(test_user_deleted);
    VT_RUN(test_profile_cache_across_replicas);
    VT_RUN(test_survives_postgres_restart);
    VT_RUN(test_metrics);
    VT_RUN(test_sigterm_exits_cleanly);
    vt_bus_unsubscribe(sub);
    vt_bus_free(bus, 1000);
    vt_bus_library_close();
    PQfinish(db());
    free(db_url);
    return VT_TEST_RESULT();
}
