/*
 * streams.c — a vendor app streaming its position (API.md §4, §6).
 *
 * Ownership: the first location for a vendorId on a connection asks
 * VendorService.GetVendor (async, as the authenticated user) and remembers the answer
 * for the life of the connection, until the vendor is deleted (evt.vendor.deleted ends
 * its streams: offline, and later positions denied). While the answer is on its way
 * the newest position is held (and up to four refs); then it is published and acked,
 * or every held message gets PERMISSION_DENIED. An unavailable VendorService is not remembered: the
 * next message asks again.
 *
 * Rate limit without errors: a vendor publishes at most once per vendor_interval_ms.
 * A faster update is acked and kept as the pending one (latest wins); a 25 ms tick
 * publishes it when its slot comes. Old timestamps (ts not newer than the last
 * accepted) are acked and dropped.
 *
 * Presence (the Redis side, and why, is presence.c, which reports each write back
 * through a callback): on its first publish a stream goes online — `vendor.<id>.status` online and
 * a presence write whose key expires at the stream's presence deadline, its last update +
 * presence_ttl_s. The sweep (every 250 ms) rewrites it once a third of the TTL has passed since the
 * last write and updates have moved the deadline on, so the key lives exactly as long as the
 * contract says, whatever the rhythm of the updates.
 *
 * One offline per presence, by one rule: the owner publishes an offline itself only
 * when the connection closes (then DEL and ZREM, if this connection still holds the
 * key: a vendor that already came back through another connection or gateway stays
 * online, and nothing is published), and only up to HANDOVER_MS (or a
 * third of the TTL, if shorter) before the deadline. Then the sweep hands the stream
 * over: online = false, nothing published, key left to expire; whichever gateway's
 * claim finds it expired publishes the offline, as it does for a gateway that died.
 * So a close never races a claim, and a silent stream, closed or not, gets exactly
 * the claim's offline. The next update brings it back online.
 *
 * Redis trouble: a failed write, and every stream when Redis (re)connects (it may
 * have restarted empty), gets presence_deadline_ms = 0, which the next sweep rewrites.
 * A stream handed over while Redis is unreachable, or before its presence could be
 * written again, publishes its offline itself: nobody could claim it (a Redis that
 * still holds the old key may then repeat it once — a repeat beats a vendor stuck
 * online).
 */
#include "streams.h"

#include "conn_rpc.h"
#include "fanout.h"
#include "presence.h"
#include "venta/vendor/v1/vendor.pb-c.h"
#include "vt_events.h"
#include "ws_gateway.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HANDOVER_MS 1000

static int64_t presence_ttl_ms(const ws_gateway *g)
{
    return (int64_t)g->cfg.presence_ttl_s * 1000;
}

static void on_presence_written(conn *c, const char *vendor_id, bool ok, bool lost);

/* Write s's presence to deadline_ms; s->presence_deadline_ms records it (0: the sweep
 * writes it again). Set first: a write that fails at once reports before this returns. */
static void write_presence(ws_gateway *g, vstream *s, int64_t deadline_ms, int64_t now,
                           bool refresh)
{
    s->presence_deadline_ms = deadline_ms;
    int rc =
        presence_write(g, s->owner, s->vendor_id, deadline_ms, now, refresh, on_presence_written);
    if (rc != VT_OK)
        s->presence_deadline_ms = 0;
}

static void go_online(ws_gateway *g, vstream *s, int64_t now)
{
    s->online = true;
    vt_events_publish_status(g->bus, s->vendor_id, true, vt_now_ms(), 0);
    write_presence(g, s, s->last_seen_ms + presence_ttl_ms(g), now, false);
}

/* The connection closed: the owner removes its presence and announces it, unless the
 * vendor is already streaming through another connection. */
static void go_offline(ws_gateway *g, vstream *s)
{
    s->online = false;
    presence_release(g, s->owner, s->vendor_id, s->pos.ts);
}

/* Silent up to the margin before its deadline: the claim will publish the offline,
 * unless Redis may not hold this presence (then nobody could claim it). */
static void hand_over(ws_gateway *g, vstream *s)
{
    s->online = false;
    if (!vt_kv_connected(g->kv) || s->presence_deadline_ms == 0)
        vt_events_publish_status(g->bus, s->vendor_id, false, vt_now_ms(), s->pos.ts);
}

/* The fix's span is the loop's current one meanwhile, so the local fan-out logs under
 * it. NATS gets it (the traceparent header) only when the vendor's message carried
 * one: a header costs 0.8–1.5 µs of CPU per message, both ends (docs/benchmarks.md,
 * "Traces on the hot path"), paid for the fixes someone asked to follow, not for all. */
static void publish_now(ws_gateway *g, vstream *s, int64_t now)
{
    const vt_trace *outer = vt_trace_set_current(s->trace_sent ? &s->trace : NULL);
    if (!s->online)
        go_online(g, s, now);
    s->pos.live = true; /* this connection is the vendor's presence */
    char new_cell[8] = "";
    int rc = vt_events_publish_location(g->bus, &s->pos, s->cell, new_cell);
    vt_trace_set_current(&s->trace);
    vt_log_ctx lc = {.request_id = s->owner->request_id, .user_id = s->owner->user_id};
    if (rc == VT_OK) {
        vt_log_level level = vt_trace_hop_level(&s->trace);
        if (vt_log_enabled(level))
            vt_log(level, &lc, "ws: vendor %s fix ts %lld published on cell %s", s->vendor_id,
                   (long long)s->pos.ts, new_cell);
        /* This process's viewers get it now; other processes through NATS. */
        fanout_local_position(g, &s->pos, new_cell, s->cell, vt_monotonic_ns());
        memcpy(s->cell, new_cell, sizeof s->cell);
        vt_counter_inc(g->m.published);
    } else {
        vt_warn(&lc, "ws: publish of vendor %s failed: %s", s->vendor_id, vt_status_name(rc));
    }
    s->last_pub_ms = now;
    s->has_pending = false;
    vt_trace_set_current(outer);
}

static void pending_remove(ws_gateway *g, vstream *s)
{
    if (!s->in_pending_list)
        return;
    for (vstream **p = &g->pending; *p; p = &(*p)->next_pending)
        if (*p == s) {
            *p = s->next_pending;
            break;
        }
    s->in_pending_list = false;
}

/* Take a validated position from an owner; false when it is older than what we have. */
static bool accept_position(ws_gateway *g, vstream *s, const vt_events_position *p,
                            const vt_trace *trace, bool trace_sent, int64_t now)
{
    if (p->ts <= s->last_ts)
        return false;
    s->last_ts = p->ts;
    s->pos = *p;
    s->trace = *trace;
    s->trace_sent = trace_sent;
    s->last_seen_ms = now;
    if (now - s->last_pub_ms >= g->cfg.vendor_interval_ms) {
        publish_now(g, s, now);
    } else {
        if (s->has_pending)
            vt_counter_inc(g->m.publish_coalesced);
        s->has_pending = true;
        if (!s->in_pending_list) {
            s->next_pending = g->pending;
            g->pending = s;
            s->in_pending_list = true;
        }
    }
    return true;
}

static void deny(conn *c, vstream *s, const char *ref)
{
    char msg[160];
    if (s->own == OWN_NO_NOT_FOUND)
        snprintf(msg, sizeof msg, "vendor %s not found", s->vendor_id);
    else
        snprintf(msg, sizeof msg, "you do not own vendor %s", s->vendor_id);
    conn_send_error(c, "PERMISSION_DENIED", msg, ref);
}

static vstream *find_stream(const conn *c, const char *vendor_id)
{
    for (int i = 0; i < c->nstreams; i++)
        if (strcmp(c->streams[i]->vendor_id, vendor_id) == 0)
            return c->streams[i];
    return NULL;
}

/* GetVendor's answer for the stream of vendor_id (user, freed here). */
static void on_owner_answer(conn *c, void *user, const vt_rpc_reply *reply, bool open)
{
    char *vendor_id = user;
    ws_gateway *g = c->g;
    vstream *s = open ? find_stream(c, vendor_id) : NULL;
    if (s && s->own == OWN_CHECKING) {
        int rc = vt_rpc_reply_status(reply);
        const Venta__Vendor__V1__Vendor *v =
            (const Venta__Vendor__V1__Vendor *)vt_rpc_reply_response(reply);
        if (rc == VT_OK && v && v->owner_id && strcmp(v->owner_id, c->user_id) == 0)
            s->own = OWN_YES;
        else if (rc == VT_OK)
            s->own = OWN_NO_NOT_OWNER;
        else if (rc == VT_NOT_FOUND || rc == VT_INVALID_ARGUMENT)
            s->own = OWN_NO_NOT_FOUND;
        else
            s->own = OWN_UNKNOWN;
        vt_log_ctx lc = {.request_id = c->request_id, .user_id = c->user_id, .trace = &s->trace};
        vt_debug(&lc, "ws: ownership of vendor %s: %s", s->vendor_id,
                 s->own == OWN_YES ? "owner" : vt_status_name(rc));
        int n = s->nheld;
        for (int i = 0; i < n; i++) {
            const char *ref = i < 4 ? s->held_refs[i] : "";
            if (s->own == OWN_YES) {
                conn_send_ack(c, ref);
            } else if (s->own == OWN_UNKNOWN) {
                char msg[200];
                snprintf(msg, sizeof msg, "cannot check vendor ownership now (%s); retry",
                         vt_status_name(rc));
                conn_send_error(c, "INTERNAL", msg, ref);
            } else {
                deny(c, s, ref);
                conn_strike(c);
            }
        }
        if (s->own == OWN_YES && s->has_held) {
            vt_events_position held = s->pos;
            vt_trace held_trace = s->trace;
            s->last_ts = 0;
            accept_position(g, s, &held, &held_trace, s->trace_sent, vt_now_ms());
        }
        s->nheld = 0;
        s->has_held = false;
    }
    free(vendor_id);
}

static int check_owner(conn *c, vstream *s)
{
    char *vendor_id = strdup(s->vendor_id);
    if (!vendor_id)
        return VT_RESOURCE_EXHAUSTED;
    Venta__Vendor__V1__GetVendorRequest req = VENTA__VENDOR__V1__GET_VENDOR_REQUEST__INIT;
    req.id = s->vendor_id;
    int rc = conn_rpc_call(c, c->g->vendor_ch, &venta__vendor__v1__vendor_service__descriptor,
                           "GetVendor", &req.base, on_owner_answer, vendor_id);
    if (rc != VT_OK) {
        free(vendor_id);
        return rc;
    }
    s->own = OWN_CHECKING;
    return VT_OK;
}

static vstream *stream_for(conn *c, const char *vendor_id, char *err, size_t errlen)
{
    vstream *found = find_stream(c, vendor_id);
    if (found)
        return found;
    if (c->nstreams >= c->g->cfg.max_streamed_vendors) {
        snprintf(err, errlen, "at most %d vendors per connection", c->g->cfg.max_streamed_vendors);
        return NULL;
    }
    vstream **a = realloc(c->streams, (size_t)(c->nstreams + 1) * sizeof *a);
    if (!a)
        return NULL;
    c->streams = a;
    vstream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    memcpy(s->vendor_id, vendor_id, VT_UUID_LEN + 1);
    s->owner = c;
    c->streams[c->nstreams++] = s;
    return s;
}

static void location_traced(conn *c, const client_msg *m, const vt_trace *span)
{
    ws_gateway *g = c->g;
    char err[160] = "out of memory";
    vstream *s = stream_for(c, m->pos.vendor_id, err, sizeof err);
    if (!s) {
        conn_send_error(c, "RESOURCE_EXHAUSTED", err, m->ref);
        conn_strike(c);
        return;
    }
    conn_set_role(c, ROLE_VENDOR);
    int64_t now = vt_now_ms();
    switch (s->own) {
    case OWN_YES:
        accept_position(g, s, &m->pos, span, m->traced, now);
        conn_send_ack(c, m->ref);
        if (c->strikes)
            c->strikes--;
        return;
    case OWN_NO_NOT_OWNER:
    case OWN_NO_NOT_FOUND:
        deny(c, s, m->ref);
        conn_strike(c);
        return;
    case OWN_UNKNOWN:
        if (check_owner(c, s) != VT_OK) {
            conn_send_error(c, "INTERNAL", "cannot check vendor ownership now; retry", m->ref);
            return;
        }
        /* hold this message until the answer */
        __attribute__((fallthrough));
    case OWN_CHECKING:
        if (s->nheld >= 4) {
            conn_send_error(c, "RESOURCE_EXHAUSTED", "ownership check in progress; retry", m->ref);
            return;
        }
        snprintf(s->held_refs[s->nheld++], sizeof s->held_refs[0], "%s", m->ref);
        if (!s->has_held || m->pos.ts > s->pos.ts) {
            s->pos = m->pos;
            s->trace = *span;
            s->trace_sent = m->traced;
            s->has_held = true;
        }
        return;
    }
}

/* Each fix is a span of its own: a child of its "traceparent" when it carried a valid
 * one, else the root of a new trace that stays on this edge (docs/tracing.md); current
 * while it is handled, so an ownership check it starts carries it too. */
void stream_location(conn *c, const client_msg *m)
{
    vt_trace span;
    vt_trace_child(m->traced ? &m->remote : NULL, &span);
    const vt_trace *outer = vt_trace_set_current(&span);
    location_traced(c, m, &span);
    vt_trace_set_current(outer);
}

void stream_conn_gone(conn *c)
{
    ws_gateway *g = c->g;
    for (int i = 0; i < c->nstreams; i++) {
        vstream *s = c->streams[i];
        pending_remove(g, s);
        if (s->has_pending && s->own == OWN_YES)
            publish_now(g, s, vt_now_ms()); /* the latest position is not lost */
        if (s->online)
            go_offline(g, s);
        free(s);
    }
    free(c->streams);
    c->streams = NULL;
    c->nstreams = 0;
}

void stream_deleted(ws_gateway *g, const char *vendor_id)
{
    for (conn *c = g->conns; c; c = c->next) {
        vstream *s = c->state < CONN_CLOSING ? find_stream(c, vendor_id) : NULL;
        if (!s || s->own == OWN_NO_NOT_FOUND || s->own == OWN_NO_NOT_OWNER)
            continue;
        pending_remove(g, s);
        s->has_pending = false;
        if (s->online)
            go_offline(g, s);
        bool was_streaming = s->own == OWN_YES;
        s->own = OWN_NO_NOT_FOUND; /* an answer on its way is ignored (not CHECKING) */
        if (was_streaming) {
            char msg[120];
            snprintf(msg, sizeof msg, "vendor %s was deleted", vendor_id);
            conn_send_error(c, "PERMISSION_DENIED", msg, NULL);
        }
    }
}

void stream_tick(ws_gateway *g, int64_t now_ms)
{
    vstream **p = &g->pending;
    while (*p) {
        vstream *s = *p;
        if (now_ms - s->last_pub_ms >= g->cfg.vendor_interval_ms) {
            *p = s->next_pending;
            s->in_pending_list = false;
            if (s->has_pending)
                publish_now(g, s, now_ms);
        } else {
            p = &s->next_pending;
        }
    }
}

/* Every 250 ms: keep online streams' keys alive to their deadline, hand silent ones
 * over. Writes wait while Redis is away. */
void stream_presence_sweep(ws_gateway *g, int64_t now_ms)
{
    int64_t ttl = presence_ttl_ms(g);
    int64_t margin = ttl / 3 < HANDOVER_MS ? ttl / 3 : HANDOVER_MS;
    bool redis = vt_kv_connected(g->kv);
    for (conn *c = g->conns; c; c = c->next)
        for (int i = 0; i < c->nstreams; i++) {
            vstream *s = c->streams[i];
            if (!s->online)
                continue;
            int64_t deadline = s->last_seen_ms + ttl;
            if (now_ms >= deadline - margin)
                hand_over(g, s);
            else if (redis && s->presence_deadline_ms < deadline &&
                     s->presence_deadline_ms - now_ms < ttl - ttl / 3)
                write_presence(g, s, deadline, now_ms, true);
        }
}

void stream_presence_rewrite(ws_gateway *g)
{
    for (conn *c = g->conns; c; c = c->next)
        for (int i = 0; i < c->nstreams; i++)
            c->streams[i]->presence_deadline_ms = 0;
}

/* presence.c's report on a write of c's stream of vendor_id. */
static void on_presence_written(conn *c, const char *vendor_id, bool ok, bool lost)
{
    vstream *s = c->state < CONN_CLOSING ? find_stream(c, vendor_id) : NULL;
    if (!s)
        return;
    if (!ok) {
        s->presence_deadline_ms = 0; /* the sweep writes again */
    } else if (lost && s->online) {
        /* Its member was gone: the key was lost (evicted, Redis restarted, a failed
         * write let it expire) and a claim may have published it offline. */
        vt_debug(
            &(vt_log_ctx){.request_id = c->request_id, .user_id = c->user_id, .trace = &c->trace},
            "ws: presence of vendor %s was lost while streaming: online again", vendor_id);
        vt_events_publish_status(c->g->bus, vendor_id, true, vt_now_ms(), 0);
    }
}
