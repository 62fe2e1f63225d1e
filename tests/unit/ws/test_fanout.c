/*
 * Unit tests of the WebSocket fan-out (apps/ws-gateway/fanout.c), fed real NATS
 * payloads (packed VendorLocation messages on loc.<cell>.<id> subjects) through
 * fanout_handle, as the loop runs it.
 *
 * The seams are the module's own edges: conn_send, defined here, records what each
 * connection would be sent instead of queueing it for a socket, and fanout_hooks
 * records subscriptions instead of making them in NATS. Everything between — cells and
 * their refcounts, boxes, inside sets, stale drops, enter/location/leave — is the real
 * code. A randomized run checks it against a brute-force model: every viewer's box
 * tested against every position (antimeridian boxes included), vendors moving across
 * cells with their left-cell copies (in either order, sometimes delivered twice, old
 * ones replayed), viewers re-boxing and watching vendors.
 */
#include "fanout.h"
#include "vt_events.h"
#include "vt_test.h"
#include "ws_gateway.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NVIEW 12
#define NVEND 24
#define LOG_MAX 4096

/* A viewer: the connection fanout.c sees, and what it was sent. */
typedef struct {
    conn c; /* first: conn_send finds the viewer from its conn */
    char log[LOG_MAX];
    size_t loglen;
} tviewer;

static ws_gateway g;
static tviewer viewers[NVIEW];
static int nsubs; /* subscriptions open through the hooks */

static const char *vid(int vendor)
{
    static char ids[NVEND + 1][VT_UUID_LEN + 1];
    snprintf(ids[vendor], sizeof ids[0], "00000000-0000-4000-8000-%012d", vendor);
    return ids[vendor];
}

/* ---------------------------------------------------------------------- the seams */

/* Record "op vendor;" for each message: fanout.c encodes once and shares, so the text
 * tells what the viewer would receive. Only a location carries its vendor to coalesce. */
bool conn_send(conn *c, msgbuf *m)
{
    tviewer *t = (tviewer *)c;
    char op[16] = "", id[VT_UUID_LEN + 1] = "";
    VT_CHECK(sscanf(m->data, "{\"op\":\"%15[^\"]\",\"vendorId\":\"%36[^\"]\"", op, id) == 2);
    int vendor = atoi(id + 24);
    VT_CHECK(strcmp(op, "location") == 0 ? m->coalesce != NULL : m->coalesce == NULL);
    t->loglen += (size_t)snprintf(t->log + t->loglen, LOG_MAX - t->loglen, "%s %d;", op, vendor);
    VT_CHECK(t->loglen < LOG_MAX - 64);
    return true;
}

static int subscribe(ws_gateway *gw, const char *subject, vt_bus_sub **out)
{
    (void)gw;
    /* Deletions come from the stream (consume), never from a core subscription that
     * misses what passed while NATS was away. */
    VT_CHECK(strncmp(subject, "loc.", 4) == 0 || strncmp(subject, "vendor.", 7) == 0);
    *out = malloc(1); /* opaque to fanout.c: a distinct pointer per subscription */
    nsubs++;
    return VT_OK;
}

static void unsubscribe(vt_bus_sub *sub)
{
    free(sub);
    nsubs--;
}

static char deleted_id[VT_UUID_LEN + 1];

static void vendor_deleted(ws_gateway *gw, const char *vendor_id)
{
    (void)gw;
    snprintf(deleted_id, sizeof deleted_id, "%s", vendor_id);
}

static char consumed[64];

static int consume(ws_gateway *gw, const char *subject, vt_bus_consumer **out)
{
    (void)gw;
    snprintf(consumed, sizeof consumed, "%s", subject);
    *out = malloc(1);
    nsubs++;
    return VT_OK;
}

static void stop_consuming(vt_bus_consumer *c)
{
    free(c);
    nsubs--;
}

static const fanout_hooks hooks = {subscribe, unsubscribe, vendor_deleted, consume, stop_consuming};

/* ------------------------------------------------------------------------ helpers */

static void setup(void)
{
    memset(&g, 0, sizeof g);
    memset(viewers, 0, sizeof viewers);
    g.cfg.max_cells = 64;
    g.cfg.max_watched_vendors = 100;
    VT_CHECK_INT(fanout_init(&g, &hooks), VT_OK);
    VT_CHECK_STR(consumed, "evt.vendor.deleted");
    for (int i = 0; i < NVIEW; i++) {
        viewers[i].c.g = &g;
        viewers[i].c.state = CONN_OPEN;
    }
}

static void teardown(void)
{
    for (int i = 0; i < NVIEW; i++)
        fanout_conn_gone(&viewers[i].c);
    fanout_close(&g);
    VT_CHECK_INT(nsubs, 0);
}

/* What vi was sent since the last call. */
static const char *take_log(int vi)
{
    static char out[LOG_MAX];
    memcpy(out, viewers[vi].log, viewers[vi].loglen + 1);
    viewers[vi].loglen = 0;
    viewers[vi].log[0] = '\0';
    return out;
}

static void send_location(int vendor, double lat, double lng, int64_t ts, const char *subject_cell,
                          bool left)
{
    vt_events_position p = {.lat = lat, .lng = lng, .ts = ts};
    snprintf(p.vendor_id, sizeof p.vendor_id, "%s", vid(vendor));
    Venta__Events__V1__VendorLocation l = vt_events_location(&p);
    l.left_cell = left;
    uint8_t buf[256];
    size_t n = venta__events__v1__vendor_location__pack(&l, buf);
    char subject[VT_EVENTS_SUBJECT_MAX];
    VT_CHECK_INT(vt_events_loc_subject(subject_cell, vid(vendor), subject, sizeof subject), VT_OK);
    fanout_handle(&g, subject, buf, n, 0);
}

static void cell_of(double lat, double lng, char *out)
{
    VT_CHECK_INT(vt_geo_hash_encode(lat, lng, VT_EVENTS_CELL_PRECISION, out), VT_OK);
}

/* Watch box and take the snapshot as snapshot.c does when LocationService knows no
 * more than the live state: every known vendor in the box is inside. */
static void watch(int vi, vt_geo_box box)
{
    char err[128];
    conn *c = &viewers[vi].c;
    VT_CHECK_INT(fanout_watch_bounds(c, &box, err, sizeof err), VT_OK);
    VT_CHECK(c->view->snapshot_pending);
    VT_CHECK_INT(c->view->ninside, 0);
    for (int v = 0; v < NVEND; v++) {
        ventry *e = fanout_vendor_get(&g, vid(v), false);
        if (e && e->has_pos && vt_geo_box_contains(&box, e->pos.lat, e->pos.lng))
            fanout_member_add(c, e);
    }
    c->view->snapshot_pending = false;
}

/* ---------------------------------------------------------------- stale positions */

static void test_stale_updates_dropped(void)
{
    setup();
    vt_geo_box box = {.ne = {10, 10}, .sw = {0, 0}};
    watch(0, box);
    char in[8], out[8];
    cell_of(5, 5, in);
    cell_of(-5, 5, out);
    send_location(1, 5, 5, 100, in, false);
    send_location(1, 5, 5, 100, in, false); /* the same message through another cell */
    send_location(1, 6, 6, 90, in, false);  /* older */
    VT_CHECK_STR(take_log(0), "enter 1;");
    send_location(1, 5.5, 5.5, 110, in, false);
    VT_CHECK_STR(take_log(0), "location 1;");
    /* It moves out: the old cell's copy comes first, the main message after it. The
     * copy is tracked by its own ts, so neither drops the other. */
    send_location(1, -5, 5, 120, in, true);
    VT_CHECK_STR(take_log(0), "leave 1;");
    send_location(1, -5, 5, 120, out, false);
    send_location(1, -5, 5, 120, in, true);  /* the copy again: dropped */
    send_location(1, 5, 5, 115, out, false); /* older than what we have */
    send_location(1, 5, 5, 115, in, true);   /* an older copy */
    VT_CHECK_STR(take_log(0), "");
    ventry *v = fanout_vendor_get(&g, vid(1), false);
    VT_CHECK(v && v->last_ts == 120 && v->last_left_ts == 120 && v->pos.lat == -5);
    /* Back in the box with a newer ts: it enters again. */
    send_location(1, 5, 5, 130, in, false);
    VT_CHECK_STR(take_log(0), "enter 1;");
    /* Its copy on the old cell, after it with the same ts: still handled, on its own. */
    send_location(1, 5, 5, 130, out, true);
    VT_CHECK_STR(take_log(0), "");
    VT_CHECK(v->last_ts == 130 && v->last_left_ts == 130);
    teardown();
}

/* A position published here reaches this process's viewers at once
 * (fanout_local_position); the copies NATS brings back are dropped, and positions from
 * other processes still arrive through NATS. */
static void test_local_delivery_and_echo(void)
{
    setup();
    vt_geo_box box = {.ne = {10, 10}, .sw = {0, 0}};
    watch(0, box);
    watch(1, (vt_geo_box){.ne = {-1, 10}, .sw = {-10, 0}});
    char in[8], out[8];
    cell_of(5, 5, in);
    cell_of(-5, 5, out);
    vt_events_position p = {.lat = 5, .lng = 5, .ts = 200};
    snprintf(p.vendor_id, sizeof p.vendor_id, "%s", vid(2));
    fanout_local_position(&g, &p, in, "", 0);
    VT_CHECK_STR(take_log(0), "enter 2;");
    send_location(2, 5, 5, 200, in, false); /* NATS brings it back */
    VT_CHECK_STR(take_log(0), "");
    /* It moves to the other box: the new cell's viewer sees it enter, the old one's
     * leave, both at once; then both copies come back from NATS, in either order. */
    p = (vt_events_position){.lat = -5, .lng = 5, .ts = 210};
    snprintf(p.vendor_id, sizeof p.vendor_id, "%s", vid(2));
    fanout_local_position(&g, &p, out, in, 0);
    VT_CHECK_STR(take_log(0), "leave 2;");
    VT_CHECK_STR(take_log(1), "enter 2;");
    send_location(2, -5, 5, 210, in, true);
    send_location(2, -5, 5, 210, out, false);
    VT_CHECK_STR(take_log(0), "");
    VT_CHECK_STR(take_log(1), "");
    ventry *v = fanout_vendor_get(&g, vid(2), false);
    VT_CHECK(v && v->local_ts == 210 && v->last_ts == 210 && v->last_left_ts == 210);
    /* The same vendor streamed through another process: only NATS brings it. */
    send_location(2, -5.5, 5, 220, out, false);
    VT_CHECK_STR(take_log(1), "location 2;");
    /* A local position with an old ts (a second connection of the vendor lagging) is
     * stale, as from NATS. */
    p.ts = 215;
    fanout_local_position(&g, &p, out, out, 0);
    VT_CHECK_STR(take_log(1), "");
    /* Where no subscription of this process would bring it, a local position leaves no
     * trace: a later position with an older ts (another device of the vendor) that NATS
     * does bring is taken, as it was before local delivery. */
    char far[8];
    cell_of(-50, -50, far);
    p = (vt_events_position){.lat = -50, .lng = -50, .ts = 900};
    snprintf(p.vendor_id, sizeof p.vendor_id, "%s", vid(3));
    fanout_local_position(&g, &p, far, "", 0);
    VT_CHECK(fanout_vendor_get(&g, vid(3), false) == NULL);
    send_location(3, 5, 5, 800, in, false);
    VT_CHECK_STR(take_log(0), "enter 3;");
    teardown();
}

/* A status for a vendor with no position yet reaches box viewers with its first enter;
 * a deletion takes it out of every box and is reported (lower case) to the hook. */
static void test_status_and_deletion(void)
{
    setup();
    vt_geo_box box = {.ne = {10, 10}, .sw = {0, 0}};
    watch(0, box);
    char in[8];
    cell_of(5, 5, in);
    Venta__Events__V1__VendorStatus st = VENTA__EVENTS__V1__VENDOR_STATUS__INIT;
    st.vendor_id = (char *)vid(2);
    st.online = false;
    st.ts = 50;
    uint8_t buf[256];
    size_t n = venta__events__v1__vendor_status__pack(&st, buf);
    char subject[VT_EVENTS_SUBJECT_MAX];
    VT_CHECK_INT(vt_events_status_subject(vid(2), subject, sizeof subject), VT_OK);
    fanout_handle(&g, subject, buf, n, 0);
    send_location(2, 5, 5, 100, in, false);
    VT_CHECK_STR(take_log(0), "enter 2;status 2;");
    send_location(2, 5, 5, 101, in, false);
    VT_CHECK_STR(take_log(0), "location 2;"); /* told once */

    char upper[VT_UUID_LEN + 1] = "ABCDEF00-0000-4000-8000-000000000003";
    char lower[VT_UUID_LEN + 1] = "abcdef00-0000-4000-8000-000000000003";
    vt_events_position p = {.lat = 5, .lng = 5, .ts = 100};
    memcpy(p.vendor_id, lower, sizeof lower);
    Venta__Events__V1__VendorLocation l = vt_events_location(&p);
    n = venta__events__v1__vendor_location__pack(&l, buf);
    VT_CHECK_INT(vt_events_loc_subject(in, lower, subject, sizeof subject), VT_OK);
    fanout_handle(&g, subject, buf, n, 0);
    VT_CHECK(strncmp(take_log(0), "enter ", 6) == 0);
    Venta__Events__V1__VendorEvent ev = VENTA__EVENTS__V1__VENDOR_EVENT__INIT;
    ev.vendor_id = upper;
    n = venta__events__v1__vendor_event__pack(&ev, buf);
    fanout_handle(&g, "evt.vendor.deleted", buf, n, 0);
    VT_CHECK_STR(deleted_id, lower);
    VT_CHECK(strncmp(take_log(0), "leave ", 6) == 0);
    VT_CHECK_INT(viewers[0].c.view->ninside, 1); /* vendor 2 is still inside */
    teardown();
}

/* -------------------------------------------------------- randomized, brute force */

typedef struct {
    bool has_box;
    vt_geo_box box;
    bool inside[NVEND];
    bool watching[NVEND];
} mviewer;

typedef struct {
    bool has_pos;
    double lat, lng;
    int64_t last_ts, last_left_ts;
    /* The publisher's side: its last ts and cell, and its messages so far. */
    int64_t pub_ts;
    char pub_cell[8];
    int nsent;
    struct {
        double lat, lng;
        int64_t ts;
        char cell[8];
        bool left;
    } sent[64];
} mvendor;

static mviewer mv[NVIEW];
static mvendor mvd[NVEND];
static char want[NVIEW][LOG_MAX];

static double frand(double lo, double hi)
{
    return lo + (hi - lo) * ((double)rand() / RAND_MAX);
}

/* Longitudes from 170°E across the antimeridian to 170°W. */
static double wrap(double lng)
{
    return lng >= 180 ? lng - 360 : lng;
}

/* The box test written out: latitudes within, longitudes within or, for a box across
 * the antimeridian (sw east of ne), on either side of it. */
static bool in_box(const vt_geo_box *b, double lat, double lng)
{
    if (lat < b->sw.lat || lat > b->ne.lat)
        return false;
    if (b->sw.lng <= b->ne.lng)
        return lng >= b->sw.lng && lng <= b->ne.lng;
    return lng >= b->sw.lng || lng <= b->ne.lng;
}

static void expect(int vi, const char *op, int vendor)
{
    size_t len = strlen(want[vi]);
    snprintf(want[vi] + len, LOG_MAX - len, "%s %d;", op, vendor);
}

/* One position message as the model sees it. */
static void model_location(int vendor, double lat, double lng, int64_t ts, bool left)
{
    mvendor *m = &mvd[vendor];
    if (left ? ts <= m->last_left_ts || ts < m->last_ts : m->has_pos && ts <= m->last_ts)
        return; /* stale */
    if (left)
        m->last_left_ts = ts;
    else
        m->last_ts = ts;
    m->has_pos = true;
    m->lat = lat;
    m->lng = lng;
    for (int i = 0; i < NVIEW; i++) {
        mviewer *w = &mv[i];
        bool now_in = w->has_box && in_box(&w->box, lat, lng), told = false;
        if (now_in && !left) {
            expect(i, w->inside[vendor] ? "location" : "enter", vendor);
            w->inside[vendor] = told = true;
        } else if (!now_in && w->inside[vendor]) {
            expect(i, "leave", vendor);
            w->inside[vendor] = false;
        }
        if (w->watching[vendor] && !left && !told)
            expect(i, "location", vendor);
    }
}

static void deliver(int vendor, double lat, double lng, int64_t ts, const char *subject_cell,
                    bool left)
{
    send_location(vendor, lat, lng, ts, subject_cell, left);
    model_location(vendor, lat, lng, ts, left);
    mvendor *m = &mvd[vendor];
    if (m->nsent < 64) {
        m->sent[m->nsent].lat = lat;
        m->sent[m->nsent].lng = lng;
        m->sent[m->nsent].ts = ts;
        memcpy(m->sent[m->nsent].cell, subject_cell, 8);
        m->sent[m->nsent].left = left;
        m->nsent++;
    }
}

static void move(int vendor)
{
    mvendor *m = &mvd[vendor];
    double lat = frand(-10, 10), lng = wrap(frand(170, 190));
    if (rand() % 3 == 0) { /* a street's worth of vendors on the antimeridian */
        lat = frand(0.98, 1.02);
        lng = wrap(frand(179.98, 180.02));
    }
    int64_t ts = m->pub_ts += 1 + rand() % 3;
    char to[8];
    cell_of(lat, lng, to);
    bool copy = m->pub_cell[0] && strcmp(to, m->pub_cell) != 0;
    char old[8];
    memcpy(old, m->pub_cell, 8);
    memcpy(m->pub_cell, to, 8);
    bool copy_first = copy && rand() % 2;
    if (copy_first)
        deliver(vendor, lat, lng, ts, old, true);
    deliver(vendor, lat, lng, ts, to, false);
    if (rand() % 4 == 0) /* overlapping subscriptions deliver it twice */
        deliver(vendor, lat, lng, ts, to, false);
    if (copy && !copy_first)
        deliver(vendor, lat, lng, ts, old, true);
}

static void replay(int vendor)
{
    mvendor *m = &mvd[vendor];
    if (!m->nsent)
        return;
    int k = rand() % m->nsent;
    deliver(vendor, m->sent[k].lat, m->sent[k].lng, m->sent[k].ts, m->sent[k].cell,
            m->sent[k].left);
}

static void rebox(int vi)
{
    vt_geo_box b;
    double west, w;
    if (rand() % 4 == 0) { /* that street, fine enough for six-character cells */
        b.sw.lat = frand(0.97, 1.02);
        b.ne.lat = b.sw.lat + frand(0.002, 0.03);
        west = frand(179.97, 180.02);
        w = frand(0.002, 0.03);
    } else if (rand() % 8 == 0) { /* coarse enough for one-character cells */
        b.sw.lat = frand(-12, 8);
        b.ne.lat = b.sw.lat + frand(40, 70);
        west = frand(168, 190);
        w = frand(60, 150);
    } else {
        b.sw.lat = frand(-12, 8);
        b.ne.lat = b.sw.lat + frand(0.2, 10);
        west = frand(168, 190);
        w = frand(0.2, 12);
    }
    b.sw.lng = wrap(west);
    b.ne.lng = wrap(west + w);
    watch(vi, b);
    mv[vi].has_box = true;
    mv[vi].box = b;
    for (int v = 0; v < NVEND; v++)
        mv[vi].inside[v] = mvd[v].has_pos && in_box(&b, mvd[v].lat, mvd[v].lng);
}

static void toggle_watch(int vi, int vendor)
{
    char err[128];
    conn *c = &viewers[vi].c;
    if (mv[vi].watching[vendor])
        VT_CHECK_INT(fanout_unwatch_vendor(c, vid(vendor), err, sizeof err), VT_OK);
    else
        VT_CHECK_INT(fanout_watch_vendor(c, vid(vendor), err, sizeof err), VT_OK);
    mv[vi].watching[vendor] = !mv[vi].watching[vendor];
}

/* Subscriptions the model expects: status and deletions, one per distinct cell of every
 * box, one per watched vendor. */
static int expected_subs(void)
{
    static char cells[NVIEW * 64][VT_GEO_HASH_MAX + 1];
    int ncells = 0, nvendors = 0;
    for (int i = 0; i < NVIEW; i++) {
        if (!mv[i].has_box)
            continue;
        vt_geo_cell cover[64];
        size_t n = 0;
        int precision;
        VT_CHECK_INT(vt_geo_cover(&mv[i].box, 64, cover, &n, &precision), VT_OK);
        for (size_t k = 0; k < n; k++) {
            bool seen = false;
            for (int j = 0; j < ncells && !seen; j++)
                seen = strcmp(cells[j], cover[k].hash) == 0;
            if (!seen)
                snprintf(cells[ncells++], sizeof cells[0], "%.12s", cover[k].hash);
        }
    }
    for (int v = 0; v < NVEND; v++) {
        bool any = false;
        for (int i = 0; i < NVIEW; i++)
            any |= mv[i].watching[v];
        nvendors += any;
    }
    return 2 + ncells + nvendors;
}

static void test_random_against_brute_force(void)
{
    srand(11);
    for (int run = 0; run < 20; run++) {
        setup();
        memset(mv, 0, sizeof mv);
        memset(mvd, 0, sizeof mvd);
        for (int step = 0; step < 1500; step++) {
            memset(want, 0, sizeof want);
            int r = rand() % 100;
            if (r < 70)
                move(rand() % NVEND);
            else if (r < 80)
                replay(rand() % NVEND);
            else if (r < 90)
                rebox(rand() % NVIEW);
            else
                toggle_watch(rand() % NVIEW, rand() % NVEND);
            for (int i = 0; i < NVIEW; i++) {
                VT_CHECK_STR(take_log(i), want[i]);
            }
            for (int i = 0; i < NVIEW; i++) {
                struct viewer *vw = viewers[i].c.view;
                uint32_t n = 0;
                for (int v = 0; v < NVEND; v++)
                    n += mv[i].inside[v];
                VT_CHECK_INT(vw ? vw->ninside : 0, n);
            }
            if (vt_test_failures)
                break; /* the first divergence says it; the rest would repeat it */
        }
        VT_CHECK_INT(nsubs, expected_subs());
        teardown();
        if (vt_test_failures)
            break;
    }
}

int main(void)
{
    VT_RUN(test_stale_updates_dropped);
    VT_RUN(test_local_delivery_and_echo);
    VT_RUN(test_status_and_deletion);
    VT_RUN(test_random_against_brute_force);
    return VT_TEST_RESULT();
}
