/*
 * streams.h — vendor apps streaming their positions (streams.c): ownership, the
 * per-vendor rate limit, publishing, and the presence each stream keeps in Redis
 * through presence.c.
 */
#ifndef VENTA_WS_STREAMS_H
#define VENTA_WS_STREAMS_H

#include "conn.h"
#include "ws_messages.h"

#include <stdbool.h>
#include <stdint.h>

/* One vendor streamed by one connection. */
struct vstream {
    char vendor_id[VT_UUID_LEN + 1];
    enum { OWN_UNKNOWN = 0, OWN_CHECKING, OWN_YES, OWN_NO_NOT_OWNER, OWN_NO_NOT_FOUND } own;
    bool online;
    bool has_pending; /* a coalesced update waits for the rate limit */
    bool in_pending_list;
    char cell[8];                 /* cell of the last publish, for left-cell copies */
    int64_t last_ts;              /* newest ts accepted from the client */
    int64_t last_pub_ms;          /* when we last published (rate limit) */
    int64_t last_seen_ms;         /* last update from the client (presence TTL) */
    int64_t presence_deadline_ms; /* expiry of the last presence write (0: write again) */
    vt_events_position pos;       /* the latest accepted (or held) position */
    vt_trace trace;               /* pos's span: its fix's traceparent continued, or new */
    bool trace_sent;              /* pos's fix carried a valid traceparent: NATS gets it */
    char held_refs[4][80];        /* acks owed once ownership is known */
    int nheld;                    /* messages held while checking (acks owed) */
    bool has_held;
    conn *owner;
    vstream *next_pending;
};

/* A location message from c (API.md §4): checked, held, published or refused. */
void stream_location(conn *c, const client_msg *m);
/* c closed: its streams end (the latest pending position is published first). */
void stream_conn_gone(conn *c);
/* evt.vendor.deleted: every stream of that vendor here ends (offline, presence
 * released) and the connection is told; later positions for it are denied. */
void stream_deleted(ws_gateway *g, const char *vendor_id);
/* Every tick: publish the pending positions whose rate-limit slot came. */
void stream_tick(ws_gateway *g, int64_t now_ms);
/* Every 250 ms: rewrite presence that updates moved on, hand silent streams over. */
void stream_presence_sweep(ws_gateway *g, int64_t now_ms);
/* Redis (re)connected, perhaps empty: the next sweep writes every online stream's
 * presence again. */
void stream_presence_rewrite(ws_gateway *g);

#endif
