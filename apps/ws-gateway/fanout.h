/*
 * fanout.h — from NATS to the viewers who should see it (fanout.c): cell and vendor
 * subscriptions, each viewer's box and inside set, enter/location/leave per viewer.
 *
 * The vendor table (ventry) is also what snapshot.c merges a snapshot with. Deliveries
 * go out through conn_send; the subscriptions and the news of a deleted vendor go
 * through fanout_hooks, so that main.c wires NATS and streams.c in and a unit test
 * (tests/unit/ws/test_fanout.c) records subscriptions instead.
 */
#ifndef VENTA_WS_FANOUT_H
#define VENTA_WS_FANOUT_H

#include "conn.h"
#include "vt_bus.h"
#include "vt_events.h"
#include "vt_geo.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ventry ventry;
typedef struct cell cell;
typedef struct member member;

/* What a cell or a vendor needs to sit in its table (fanout_table): both begin with
 * one, so that one set of table functions serves both. */
typedef struct {
    uint64_t hash;   /* vt_hash_str(key) */
    const char *key; /* points into the entry */
    uint32_t at;     /* index in the table's items */
} fanout_node;

/* The cells or the vendors of the process: the entries, and the mesh's id index
 * (vt_index) over their keys. Lookups are inline probes with a static comparison:
 * the fan-out does seven per message. */
typedef struct {
    vt_index index;
    fanout_node **items;
    uint32_t n, cap;
} fanout_table;

/* A fanout_table for other modules (sio_server.c's sessions by sid). get: the node of
 * key (hash = vt_hash_str(key)) or NULL; add: n (key, hash set; key absent), 0 or
 * VT_RESOURCE_EXHAUSTED; del: take n out (the last entry moves into its place). */
fanout_node *fanout_table_get(const fanout_table *t, const char *key, uint64_t hash);
int fanout_table_add(fanout_table *t, fanout_node *n);
void fanout_table_del(fanout_table *t, fanout_node *n);
void fanout_table_free(fanout_table *t);

/* A vendor someone on this process may care about. */
struct ventry {
    fanout_node node;
    char id[VT_UUID_LEN + 1];
    int64_t last_ts;      /* newest position accepted (drops older ones) */
    int64_t last_left_ts; /* newest left-cell copy handled */
    int64_t local_ts;     /* newest position published here and delivered before NATS */
    int64_t status_ts;
    int64_t touched_ms;     /* for garbage collection */
    uint64_t mark;          /* per-operation stamp (snapshot merge) */
    vt_events_position pos; /* the newest position accepted (valid when has_pos) */
    bool has_pos, online;
    /* A status arrived before any position: box viewers could not be told (nobody's
     * box holds a vendor with no position); they get it with their first `enter`. */
    bool status_untold;
    member **inside; /* connections whose box holds it */
    uint32_t ninside, capinside;
    conn **watchers; /* watch.vendor */
    uint32_t nwatchers, capwatchers;
    vt_bus_sub *sub; /* loc.*.*.*.*.*.*.<id> while it has watchers */
};

/* A viewer connection's membership in a vendor's inside set, known from both ends. */
struct member {
    conn *c;
    ventry *v;
    uint32_t ci, vi; /* index in the conn's and the vendor's arrays */
};

struct cell {
    fanout_node node;
    char hash[VT_GEO_HASH_MAX + 1];
    vt_bus_sub *sub;
    conn **conns;
    uint32_t n, cap;
};

typedef struct {
    cell *c;
    uint32_t idx; /* position of the conn in c->conns */
} cell_ref;

/* Viewer state of a connection, allocated on its first watch. */
struct viewer {
    bool has_box;
    bool snapshot_pending;
    uint32_t snapshot_seq;
    vt_geo_box box;
    cell_ref *cells;
    uint32_t ncells;
    member **inside;
    uint32_t ninside, capinside;
    ventry **watched;
    uint32_t nwatched;
};

/* What fanout needs besides the messages themselves. */
typedef struct fanout_hooks {
    /* Subscribe to subject, with fanout_on_nats as the handler (fanout_nats_subscribe). */
    int (*subscribe)(ws_gateway *g, const char *subject, vt_bus_sub **out);
    void (*unsubscribe)(vt_bus_sub *sub);
    /* evt.vendor.deleted arrived (the id lower case): end the vendor's streams here. */
    void (*vendor_deleted)(ws_gateway *g, const char *vendor_id);
    /* Read subject's events from the stream of domain events, handled by fanout_on_event
     * (fanout_nats_consume), and stop reading them. NULL: no stream (unit tests feed
     * fanout_handle themselves). */
    int (*consume)(ws_gateway *g, const char *subject, vt_bus_consumer **out);
    void (*stop_consuming)(vt_bus_consumer *c);
} fanout_hooks;

/* The process's subscribe hook: vt_bus_subscribe on g->bus, handled by fanout_on_nats. */
int fanout_nats_subscribe(ws_gateway *g, const char *subject, vt_bus_sub **out);
/* The process's consume hook: a consumer of this process alone (vt_bus_consumer_opts with
 * no durable) of subject in g->cfg.events, from the oldest event the stream keeps, so
 * that a deletion that passed while this node's NATS connection was down still ends the
 * vendor's streams here once it is back; replaying one is harmless. */
int fanout_nats_consume(ws_gateway *g, const char *subject, vt_bus_consumer **out);
/* The consumer's handler (its thread): copy and hand to the loop, like fanout_on_nats;
 * VT_BUS_RETRY when the loop's queue refused it. */
vt_bus_verdict fanout_on_event(const char *subject, const void *data, size_t len, void *user);

/* Subscribe to statuses and read deletions. hooks must outlive g's fan-out. */
int fanout_init(ws_gateway *g, const fanout_hooks *hooks);
void fanout_close(ws_gateway *g);
/* NATS callback (nats.c thread): copy and hand to the loop, which runs fanout_handle. */
void fanout_on_nats(const char *subject, const void *data, size_t len, void *user);
/* One NATS message on the loop: a position, a status or a deletion, that reached the
 * process at t_in_ns. */
void fanout_handle(ws_gateway *g, const char *subject, const void *data, size_t len,
                   int64_t t_in_ns);
/* A position this process has just published on NATS (streams.c), on new_cell, with its
 * left-cell copy on previous_cell when that differs (NULL or "": none), as
 * vt_events_publish_location sends them: each copy this process subscribes to is handled
 * now, as if NATS had brought it back, so that its viewers do not wait for the round
 * trip. The copies NATS does bring back are then duplicates (same ts) and are dropped as
 * echoes; other processes get it from NATS as before. */
void fanout_local_position(ws_gateway *g, const vt_events_position *pos, const char *new_cell,
                           const char *previous_cell, int64_t t_in_ns);
/* Replace c's viewport (cells, inside set). 0, or a status with err for the client. */
int fanout_watch_bounds(conn *c, const vt_geo_box *box, char *err, size_t errlen);
int fanout_watch_vendor(conn *c, const char *vendor_id, char *err, size_t errlen);
int fanout_unwatch_vendor(conn *c, const char *vendor_id, char *err, size_t errlen);
/* Drop every trace of c (it is closing). */
void fanout_conn_gone(conn *c);
/* Mark v inside c (snapshot). */
void fanout_member_add(conn *c, ventry *v);
ventry *fanout_vendor_get(ws_gateway *g, const char *id, bool create);
/* Forget vendors nobody has looked at for a while. */
void fanout_sweep(ws_gateway *g, int64_t now_ms);

#endif
