/*
 * user_test_util.c — the plumbing the integration tests of venta-user share: the
 * processes (venta-user, and venta-vendor when built), SQL lookups, the events a real
 * NATS subscriber sees, one call per gRPC method (see user_test_util.h and test_user.c).
 */
#include "user_test_util.h"

char *db_url;
int service_pid, grpc_port, metrics_port;
int vendor_pid, vendor_port;
vt_rpc_channel *channel;
vt_bus *bus;
int64_t t0; /* a base for provider timestamps */

const ProtobufCServiceDescriptor *svc = &venta__user__v1__user_service__descriptor;

/* ------------------------------------------------------------------ processes -- */

bool vendor_built(void)
{
    const char *bin = getenv("VENTA_VENDOR_BIN");
    return bin && *bin && access(bin, X_OK) == 0;
}

void start_vendor(void)
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

int health(const char *service)
{
    return vt_harness_health(channel, service);
}

bool wait_serving(int ms)
{
    return vt_harness_wait_serving(channel, ms);
}

PGconn *db(void)
{
    static PGconn *conn;
    return vt_harness_pg(&conn, db_url);
}

void start_service(void)
{
    char vendor_addr[128];
    snprintf(vendor_addr, sizeof vendor_addr, "VENTA_VENDOR_ADDR=127.0.0.1:%d", vendor_port);
    const char *env[] = {vendor_addr, "VENTA_RPC_THREADS=4", NULL};
    vt_harness_service s;
    vt_harness_service_start(&s, vt_harness_env("VENTA_USER_BIN"), "VENTA_USER_ADDR", db_url, env);
    service_pid = s.pid, grpc_port = s.grpc_port, metrics_port = s.metrics_port;
    channel = s.channel;
}

/* One value of a query with one text parameter, into out ("(null)" for NULL, "" when
 * no row). */
void sql_value(const char *sql, const char *param, char *out, size_t outlen)
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

long sql_count(const char *sql, const char *param)
{
    char v[64];
    sql_value(sql, param, v, sizeof v);
    return strtol(v, NULL, 10);
}

/* ------------------------------------------------------------ NATS observer -- */

static struct {
    pthread_mutex_t lock;
    size_t n;
    seen_event ev[2048];
} seen = {.lock = PTHREAD_MUTEX_INITIALIZER};

void on_event(const char *subject, const void *data, size_t len, void *user)
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
int count_events(const char *subject, const char *user_id, seen_event *last)
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

bool wait_events(const char *subject, const char *user_id, int n, int ms)
{
    for (int i = 0; i < ms / 20; i++) {
        if (count_events(subject, user_id, NULL) >= n)
            return true;
        usleep(20000);
    }
    return false;
}

/* ---------------------------------------------------------------- calls -- */

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

int get_user(const char *id, user_view *v)
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

/* UpsertUser: status; *dup the duplicate flag; v the returned user (id "" when none);
 * msg the status message. */
int upsert(const clerk_user *c, bool *dup, user_view *v, char *msg, size_t msglen)
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

int simple_upsert(const char *event_id, const char *id, const char *email, const char *type,
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

int delete_user(const char *event_id, const char *id, bool *deleted, bool *dup)
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

static size_t list_len(const char *const *l)
{
    size_t n = 0;
    while (l && l[n])
        n++;
    return n;
}

/* ApplySubscriptionEvent: status; result ("applied"…) and users changed into out. */
int apply(const rc_event *e, char *result, size_t n_users[1], char *msg, size_t msglen)
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

const char *applied(const char *event_id, const char *type, const char *user, int64_t expires_ms,
                    int64_t ts_ms)
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
void event_barrier(void)
{
    static int n;
    char id[64], eid[64];
    snprintf(id, sizeof id, "user_barrier_%d", ++n);
    snprintf(eid, sizeof eid, "msg_barrier_%d", n);
    VT_CHECK_INT(simple_upsert(eid, id, NULL, "user.created", t0), VT_OK);
    VT_CHECK(wait_events("evt.user.created", id, 1, 10000));
}
