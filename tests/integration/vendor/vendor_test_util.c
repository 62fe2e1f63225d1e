/*
 * vendor_test_util.c — the plumbing the integration tests of venta-vendor share: the
 * service process, one gRPC call per method, the domain events a plain NATS subscriber
 * sees, /metrics (see vendor_test_util.h and test_vendor.c).
 */
#include "vendor_test_util.h"

char *db_url;
int service_pid, grpc_port, metrics_port;
vt_rpc_channel *channel;
vt_bus *bus;
char msg[1024]; /* status message of the last call() */

static const ProtobufCServiceDescriptor *svc = &venta__vendor__v1__vendor_service__descriptor;

/* ------------------------------------------------------------------ plumbing ---- */

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
int call_on(vt_rpc_channel *ch, const char *method, const ProtobufCMessage *req, const char *user,
            const char *request_id, void *out)
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

int call(const char *method, const ProtobufCMessage *req, const char *user, const char *request_id,
         void *out)
{
    return call_on(channel, method, req, user, request_id, out);
}

void free_msg(void *m)
{
    if (m)
        protobuf_c_message_free_unpacked(m, NULL);
}

int create(const char *user, const profile *p, Vendor **out)
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
void create_id(const char *user, const char *name, const char *description, char *id)
{
    Vendor *v;
    profile p = {.name = name, .description = description};
    VT_REQUIRE(create(user, &p, &v) == VT_OK);
    snprintf(id, VT_UUID_LEN + 1, "%s", v->id);
    free_msg(v);
}

int get(const char *id, Vendor **out)
{
    Venta__Vendor__V1__GetVendorRequest req = VENTA__VENDOR__V1__GET_VENDOR_REQUEST__INIT;
    req.id = (char *)id;
    return call("GetVendor", &req.base, NULL, NULL, out);
}

int del(const char *user, const char *id)
{
    Venta__Vendor__V1__DeleteVendorRequest req = VENTA__VENDOR__V1__DELETE_VENDOR_REQUEST__INIT;
    req.id = (char *)id;
    return call("DeleteVendor", &req.base, user, NULL, NULL);
}

long count_rows(const char *owner)
{
    const char *params[1] = {owner};
    PGresult *r = PQexecParams(db(), "SELECT count(*) FROM vendor.vendors WHERE owner_id = $1", 1,
                               NULL, params, NULL, NULL, 0);
    long n = PQresultStatus(r) == PGRES_TUPLES_OK ? atol(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return n;
}

bool rfc3339_ms(const char *t)
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

static struct {
    pthread_mutex_t lock;
    int n;
    seen_event e[MAX_EVENTS];
} events = {.lock = PTHREAD_MUTEX_INITIALIZER};

void on_event(const char *subject, const void *data, size_t len, void *user)
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
bool wait_event_n(const char *subject, const char *vendor_id, int n, seen_event *out)
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

bool wait_event(const char *subject, const char *vendor_id, seen_event *out)
{
    return wait_event_n(subject, vendor_id, 1, out);
}

int count_events(const char *subject, const char *vendor_id)
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

char *metrics_text(void)
{
    return metrics_text_of(metrics_port);
}

double metric_of(int port, const char *series)
{
    const char *t = metrics_text_of(port);
    char key[256];
    snprintf(key, sizeof key, "\n%s ", series);
    const char *at = strstr(t, key);
    return at ? strtod(at + strlen(key), NULL) : -1;
}

double metric(const char *series)
{
    return metric_of(metrics_port, series);
}

int update(const char *user, Venta__Vendor__V1__UpdateVendorRequest *req, Vendor **out)
{
    return call("UpdateVendor", &req->base, user, NULL, out);
}

int list(const char *owner, int page_size, const char *token, page *out)
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

int search(const char *q, const double *lat, const double *lng, const double *radius, int limit,
           const char *cursor, page *out)
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

bool page_has(const page *pg, const char *id)
{
    for (int i = 0; i < pg->n; i++)
        if (strcmp(pg->ids[i], id) == 0)
            return true;
    return false;
}

void publish_location(const char *id, double lat, double lng, int64_t ts, const char *previous_cell)
{
    vt_events_position loc = {.lat = lat, .lng = lng, .ts = ts};
    snprintf(loc.vendor_id, sizeof loc.vendor_id, "%s", id);
    VT_CHECK_INT(vt_events_publish_location(bus, &loc, previous_cell, NULL), VT_OK);
}

/* Wait until GetVendor shows a location at lat. */
bool wait_location(const char *id, double lat)
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
