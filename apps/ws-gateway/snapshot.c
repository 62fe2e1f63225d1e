/*
 * snapshot.c — the answer to watch.bounds: who is in the box right now.
 *
 * Order is what makes it correct. fanout_watch_bounds subscribed the box's cells
 * first; then a NATS flush (off the loop, vt_bus_flush_async) waits until the server
 * has those subscriptions — a vendor on another connection or another gateway
 * publishes through the server, so queued-but-unsent SUBs would not be enough — and
 * from then on every position published reaches us. Only then is
 * LocationService.VendorsInBounds asked (async, on the rpc queue thread; the reply
 * comes back through the handoff).
 * Meanwhile live updates keep the connection's inside set current but are not queued
 * (fanout.c). The snapshot sent is the merge of both: each vendor from the database
 * unless we hold a newer live position for it, plus every vendor that went live
 * inside the box while we waited, all filtered by the exact box. The inside set then
 * equals the snapshot, and live messages continue from there: nothing falls between.
 * A position that reached NATS before our SUB but not yet PostGIS when the query ran
 * (the ingest window, ~50 ms) is missed until that vendor's next update.
 *
 * The snapshot is what answers watch.bounds (API.md §4: watch.bounds → snapshot), so it
 * is the first message after it; the ack carrying the request's ref follows it. A
 * watch.bounds replaced by a newer one before its snapshot came gets only its ack.
 */
#include "snapshot.h"

#include "conn_rpc.h"
#include "fanout.h"
#include "ws_gateway.h"

#include "venta/location/v1/location.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    conn *c;
    uint32_t seq;
    char ref[sizeof((client_msg *)0)->ref]; /* of the watch.bounds, for its ack */
} snap_call;

/* One vendor of the snapshot's array; the array is open after `[` (first: no comma). */
static void put_vendor(vt_buf *b, bool first, const char *id, double lat, double lng, int64_t ts,
                       bool online)
{
    char la[32], lo[32];
    msg_format_double(lat, la, sizeof la);
    msg_format_double(lng, lo, sizeof lo);
    vt_buf_printf(b, "%s{\"vendorId\":\"%s\",\"lat\":%s,\"lng\":%s,\"ts\":%lld,\"online\":%s}",
                  first ? "" : ",", id, la, lo, (long long)ts, online ? "true" : "false");
}

static void send_snapshot(conn *c, const Venta__Location__V1__VendorsInBoundsResponse *resp)
{
    ws_gateway *g = c->g;
    viewer *vw = c->view;
    uint64_t mark = ++g->seq;
    vt_buf b = VT_BUF_INIT;
    size_t count = 0;
    vt_buf_reserve(&b, 4096);
    vt_buf_puts(&b, "{\"op\":\"snapshot\",\"vendors\":[");
    for (size_t i = 0; resp && i < resp->n_vendors; i++) {
        const Venta__Location__V1__VendorPosition *p = resp->vendors[i];
        if (!p->vendor_id || !vt_uuid_valid(p->vendor_id))
            continue;
        ventry *v = fanout_vendor_get(g, p->vendor_id, true);
        if (!v || v->mark == mark)
            continue;
        v->mark = mark;
        double lat = p->lat, lng = p->lng;
        int64_t ts = p->ts;
        bool online = p->online;
        if (v->has_pos && v->last_ts >= p->ts) { /* live news is newer than the database */
            lat = v->pos.lat;
            lng = v->pos.lng;
            ts = v->last_ts;
            online = v->online;
        } else if (!v->has_pos) {
            v->pos.lat = lat;
            v->pos.lng = lng;
            v->pos.heading = p->heading;
            v->pos.speed = p->speed;
            v->last_ts = ts;
            v->has_pos = true;
            if (v->status_ts) /* a live status is newer than the database's */
                online = v->online;
            v->online = online;
            v->status_untold = false; /* the snapshot tells it */
        }
        if (!vt_geo_box_contains(&vw->box, lat, lng))
            continue;
        bool is_member = false;
        for (uint32_t k = 0; k < v->ninside && !is_member; k++)
            is_member = v->inside[k]->c == c;
        if (!is_member)
            fanout_member_add(c, v);
        put_vendor(&b, count++ == 0, v->id, lat, lng, ts, online);
    }
    for (uint32_t i = 0; i < vw->ninside; i++) {
        ventry *v = vw->inside[i]->v;
        if (v->mark != mark) {
            v->mark = mark;
            put_vendor(&b, count++ == 0, v->id, v->pos.lat, v->pos.lng, v->last_ts, v->online);
        }
    }
    vt_buf_puts(&b, "]}");
    msgbuf *m = b.oom ? NULL : msg_new(b.len);
    if (m) {
        memcpy(m->data, b.data, b.len);
        m->len = (uint32_t)b.len;
        vw->snapshot_pending = false;
        vt_counter_inc(g->m.snapshots);
        conn_send(c, m);
        msg_unref(m);
    }
    vt_buf_free(&b);
}

/* Still there to be answered (its snapshot may have been superseded meanwhile). */
static bool answerable(const conn *c, bool closing)
{
    return !closing && c->state < CONN_CLOSING && c->view;
}

static void on_answer(conn *c, void *user, const vt_rpc_reply *reply, bool open)
{
    snap_call *sc = user;
    bool still = answerable(c, !open);
    if (still && c->view->snapshot_seq == sc->seq) {
        int rc = vt_rpc_reply_status(reply);
        if (rc != VT_OK) {
            char msg[200];
            snprintf(msg, sizeof msg, "snapshot unavailable (%s: %.120s); live updates follow",
                     vt_status_name(rc), vt_rpc_reply_message(reply));
            conn_send_error(c, "INTERNAL", msg, NULL);
        }
        send_snapshot(c, rc == VT_OK ? (const Venta__Location__V1__VendorsInBoundsResponse *)
                                           vt_rpc_reply_response(reply)
                                     : NULL);
    }
    if (still)
        conn_send_ack(c, sc->ref);
    free(sc);
}

/* Second step, on the loop once the subscriptions are in force: ask for the snapshot.
 * Takes over sc and drops the flush's conn reference (the call holds its own). */
static void query(conn *c, snap_call *sc)
{
    ws_gateway *g = c->g;
    viewer *vw = c->view;
    Venta__Location__V1__VendorsInBoundsRequest req =
        VENTA__LOCATION__V1__VENDORS_IN_BOUNDS_REQUEST__INIT;
    req.ne_lat = vw->box.ne.lat;
    req.ne_lng = vw->box.ne.lng;
    req.sw_lat = vw->box.sw.lat;
    req.sw_lng = vw->box.sw.lng;
    req.limit = g->cfg.snapshot_limit;
    int rc = conn_rpc_call(c, g->location_ch, &venta__location__v1__location_service__descriptor,
                           "VendorsInBounds", &req.base, on_answer, sc);
    if (rc != VT_OK) {
        conn_send_error(c, "INTERNAL", "snapshot unavailable; live updates follow", NULL);
        send_snapshot(c, NULL);
        conn_send_ack(c, sc->ref);
        free(sc);
    }
    conn_unref(c);
}

static void on_flushed_loop(void *payload, void *user, bool closing)
{
    (void)user;
    snap_call *sc = payload;
    conn *c = sc->c;
    if (answerable(c, closing) && c->view->snapshot_seq == sc->seq) {
        query(c, sc); /* takes over sc and the conn reference */
        return;
    }
    if (answerable(c, closing))
        conn_send_ack(c, sc->ref); /* replaced by a newer watch.bounds */
    conn_unref(c);
    free(sc);
}

static void on_flushed(int status, void *user)
{
    (void)status; /* NATS down: the snapshot still comes from the database */
    snap_call *sc = user;
    if (vt_handoff_push(sc->c->g->handoff, on_flushed_loop, sc) != VT_OK)
        free(sc); /* only while shutting down; the conn reference goes with the loop */
}

void snapshot_request(conn *c, const char *ref)
{
    snap_call *sc = calloc(1, sizeof *sc);
    if (!sc) {
        conn_send_ack(c, ref); /* the watch holds; only its snapshot is lost */
        return;
    }
    snprintf(sc->ref, sizeof sc->ref, "%s", ref);
    sc->c = c;
    sc->seq = c->view->snapshot_seq;
    conn_ref(c);
    if (vt_bus_flush_async(c->g->bus, c->g->cfg.rpc_timeout_ms, on_flushed, sc) != VT_OK)
        query(c, sc);
}
