/*
 * gateway.h — the inside of venta-ws-gateway, shared by its files (not a library).
 *
 * One libuv loop runs everything: libwebsockets' sockets, hiredis, timers, and the
 * drained batches of the handoff queue that carries NATS messages and gRPC completions
 * from their threads. So none of the structures below has a lock: whoever touches
 * them is on the loop thread.
 *
 * Files, one job each:
 *   main.c        configuration, the loop, signals, start and stop
 *   server.c      the lws context on the loop; HTTP (/metrics, /healthz) and GET /ws
 *   conn.c        one connection: authentication, limits, dispatch of client messages
 *   messages.c    client JSON in (jansson); server messages out, encoded once, refcounted
 *   outqueue.c    per-connection bounded queue, per-vendor coalescing, frame packing
 *   fanout.c      NATS → viewers: cell and vendor subscriptions with refcounts, box
 *                 filtering with enter/leave per connection, stale-update drops
 *   snapshot.c    watch.bounds snapshots from LocationService, merged with live state
 *   vendor_side.c vendor streams: ownership, rate limit, publish, presence, status
 *   presence.c    presence in Redis: keys, the deadline set, claims of expired vendors
 *   hmap.c        the small intrusive hash table behind the cell and vendor tables
 *   gw_metrics.c  the Prometheus series
 */
#ifndef WS_GATEWAY_H
#define WS_GATEWAY_H

#include "vt_auth.h"
#include "vt_bus.h"
#include "vt_core.h"
#include "vt_geo.h"
#include "vt_handoff.h"
#include "vt_kv.h"
#include "vt_metrics.h"
#include "vt_rpc.h"

#include <libwebsockets.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

typedef struct gw gw;
typedef struct conn conn;
typedef struct ventry ventry;
typedef struct cell cell;
typedef struct member member;
typedef struct vstream vstream;

/* ------------------------------------------------------------------ config (main.c) */

typedef struct {
    vt_addr addr;
    const char *nats_url;
    const char *redis_url;
    const char *vendor_addr;
    const char *location_addr;
    int presence_ttl_s;
    int auth_timeout_s;
    int max_frame;              /* bytes of one client message; larger → 1009 */
    int max_cells;              /* cells one watch.bounds may cover */
    int max_watched_vendors;    /* watch.vendor entries per connection */
    int max_streamed_vendors;   /* vendors one connection may stream as owner */
    int queue_max;              /* messages pending per connection before it counts as behind */
    int slow_ms;                /* behind this long (queue over queue_max) → 1013 */
    int frame_bytes;            /* largest batched frame the server sends */
    int rate_per_s;             /* client messages per second (token bucket) */
    int rate_burst;
    int max_strikes;            /* errors for bad input before a 1008 close */
    int rate_close_s;           /* seconds in a row over the rate before a 1008 close */
    int flush_pace_pct;         /* after a long flush, pause this % of its length */
    int flush_pace_min_us;      /* shorter flushes are not paced */
    int vendor_interval_ms;     /* minimum gap between publishes of one vendor */
    int ping_s;                 /* ping after this much silence; hang up after 2× */
    int snapshot_limit;         /* vendors asked from VendorsInBounds */
    int rx_buffer;              /* lws receive buffer per connection */
    int shutdown_grace_ms;
    int rpc_timeout_ms;
} gw_config;

/* --------------------------------------------------------------- messages (messages.c) */

/* A server message, encoded once and shared by every connection it goes to. */
typedef struct msgbuf {
    uint32_t refs;
    uint32_t len;
    int64_t t_in_ns;          /* when its cause reached the gateway (0: not measured) */
    const ventry *coalesce;   /* location messages: the vendor (latest wins); else NULL */
    char data[];
} msgbuf;

msgbuf *msg_new(size_t cap);
static inline msgbuf *msg_ref(msgbuf *m)
{
    m->refs++;
    return m;
}
void msg_unref(msgbuf *m);

typedef enum {
    OP_UNKNOWN = 0,
    OP_AUTH,
    OP_LOCATION,
    OP_WATCH_BOUNDS,
    OP_WATCH_VENDOR,
    OP_UNWATCH_VENDOR,
    OP_PING,
} client_op;

/* One parsed client message. ref is the client's "ref" as JSON text ("" when absent). */
typedef struct {
    client_op op;
    char ref[80];
    const char *token;  /* auth: points into the parsed document */
    size_t token_len;
    char vendor_id[VT_UUID_LEN + 1];
    double lat, lng, heading, speed, accuracy;
    int64_t ts;
    vt_geo_box box;
    void *doc;          /* the jansson document that token points into */
} client_msg;

/* Parse and validate; 0, or a status with a message for the client in err. */
int msg_parse(const char *text, size_t len, client_msg *out, char *err, size_t errlen);
void msg_parse_done(client_msg *m);

/* Encoders. */
void msg_format_double(double v, char *out, size_t outlen);
msgbuf *msg_encode_position(const char *op, const char *vendor_id, double lat, double lng,
                            double heading, double speed, int64_t ts);
msgbuf *msg_encode_leave(const char *vendor_id);
msgbuf *msg_encode_status(const char *vendor_id, bool online);
msgbuf *msg_encode_ack(const char *ref);
msgbuf *msg_encode_error(const char *code, const char *message, const char *ref);

/* ------------------------------------------------------------------ hash table (hmap.c) */

typedef struct hnode {
    struct hnode *next;
    uint64_t hash;
    const char *key; /* points into the entry */
} hnode;

typedef struct {
    hnode **buckets;
    size_t nbuckets, count;
} hmap;

uint64_t hmap_hash(const char *key);
hnode *hmap_get(const hmap *m, const char *key, uint64_t hash);
int hmap_put(hmap *m, hnode *n); /* n->key and n->hash set by the caller */
void hmap_del(hmap *m, hnode *n);
void hmap_free(hmap *m);
/* Iterate: for (hnode *n = hmap_first(m, &i); n; n = hmap_next(m, n, &i)) */
hnode *hmap_first(const hmap *m, size_t *i);
hnode *hmap_next(const hmap *m, hnode *n, size_t *i);

/* --------------------------------------------------------------------- fanout (fanout.c) */

/* A vendor someone on this process may care about. */
struct ventry {
    hnode node;
    char id[VT_UUID_LEN + 1];
    int64_t last_ts;      /* newest position accepted (drops older ones) */
    int64_t last_left_ts; /* newest left-cell copy handled */
    int64_t status_ts;
    int64_t touched_ms;   /* for garbage collection */
    uint64_t mark;        /* per-operation stamp (snapshot merge) */
    double lat, lng, heading, speed;
    bool has_pos, online;
    /* A status arrived before any position: box viewers could not be told (nobody's
     * box holds a vendor with no position); they get it with their first `enter`. */
    bool status_untold;
    member **inside;      /* connections whose box holds it */
    uint32_t ninside, capinside;
    conn **watchers;      /* watch.vendor */
    uint32_t nwatchers, capwatchers;
    vt_bus_sub *sub;      /* loc.*.*.*.*.*.*.<id> while it has watchers */
};

/* A viewer connection's membership in a vendor's inside set, known from both ends. */
struct member {
    conn *c;
    ventry *v;
    uint32_t ci, vi; /* index in the conn's and the vendor's arrays */
};

struct cell {
    hnode node;
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
typedef struct {
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
} viewer;

int fanout_init(gw *g);
void fanout_close(gw *g);
/* NATS callback (nats.c thread): copy and hand to the loop. */
void fanout_on_nats(const char *subject, const void *data, size_t len, void *user);
/* Replace c's viewport (cells, inside set). 0, or a status with err for the client. */
int fanout_watch_bounds(conn *c, const vt_geo_box *box, char *err, size_t errlen);
int fanout_watch_vendor(conn *c, const char *vendor_id, char *err, size_t errlen);
int fanout_unwatch_vendor(conn *c, const char *vendor_id, char *err, size_t errlen);
/* Drop every trace of c (it is closing). */
void fanout_conn_gone(conn *c);
/* Mark v inside c (snapshot). */
void fanout_member_add(conn *c, ventry *v);
ventry *fanout_vendor_get(gw *g, const char *id, bool create);
void fanout_sweep(gw *g, int64_t now_ms);

/* ----------------------------------------------------------------- snapshot (snapshot.c) */

/* Ask LocationService for the box of c's current viewport (after its subscriptions),
 * send the snapshot, then the ack of the watch.bounds whose ref is given. */
void snapshot_request(conn *c, const char *ref);

/* ------------------------------------------------------------------ outqueue.c */

typedef struct {
    msgbuf **v;
    uint32_t head, n, cap;
    int64_t behind_since_ns; /* when the queue last went over queue_max; 0 = not behind */
} outq;

/* Queue m for c (takes a reference). False when c is closing or was just closed as
 * too slow (1013). */
bool outq_push(conn *c, msgbuf *m);
/* Pack queued messages into one frame and write it: from the writeable callback, or
 * directly from outq_flush. Returns -1 when the connection must close. */
int outq_write(conn *c);
/* Start (at init) and stop (at shutdown) the end-of-iteration flush of gw.flush. */
void outq_flush_start(gw *g);
void outq_flush_stop(gw *g);
void outq_clear(conn *c);
/* Send c's close frame (code and reason) now and let lws wait for the client's close. */
int outq_close_frame(conn *c);

/* --------------------------------------------------------------- vendor_side.c */

struct vstream {
    char vendor_id[VT_UUID_LEN + 1];
    enum { OWN_UNKNOWN = 0, OWN_CHECKING, OWN_YES, OWN_NO_NOT_OWNER, OWN_NO_NOT_FOUND } own;
    bool online;
    bool has_pending;      /* a coalesced update waits for the rate limit */
    bool in_pending_list;
    char cell[8];          /* cell of the last publish, for left-cell copies */
    int64_t last_ts;       /* newest ts accepted from the client */
    int64_t last_pub_ms;   /* when we last published (rate limit) */
    int64_t last_seen_ms;  /* last update from the client (presence TTL) */
    int64_t presence_deadline_ms; /* expiry of the last presence write (0: write again) */
    double lat, lng, heading, speed, accuracy;
    int64_t ts;
    char held_refs[4][80]; /* acks owed once ownership is known */
    int nheld;             /* messages held while checking (acks owed) */
    bool has_held;
    conn *owner;
    vstream *next_pending;
};

void vendor_location(conn *c, const client_msg *m);
void vendor_conn_gone(conn *c);
/* evt.vendor.deleted: every stream of that vendor here ends (offline, presence
 * released) and the connection is told; later positions for it are denied. */
void vendor_deleted(gw *g, const char *vendor_id);
void vendor_tick(gw *g, int64_t now_ms);
/* Every 250 ms: rewrite presence that updates moved on, hand silent streams over. */
void vendor_presence_sweep(gw *g, int64_t now_ms);
/* Redis (re)connected, perhaps empty: the next sweep writes every online stream's
 * presence again. */
void vendor_presence_rewrite(gw *g);
/* A presence write finished (ok: both commands succeeded); lost: the stream was online
 * before it and its member in presence:deadlines was gone. */
void vendor_presence_written(conn *c, const char *vendor_id, bool ok, bool lost);

/* ------------------------------------------------------------------ presence.c */

/* presence:vendor:<id> = "<instance>/<connection>", expiring at deadline_ms, and its member in
 * presence:deadlines (s->presence_deadline_ms records it); refresh: s was online before.
 * vendor_presence_written reports the outcome. */
void presence_write(gw *g, vstream *s, int64_t deadline_ms, int64_t now_ms, bool refresh);
/* A clean offline: DEL the key and ZREM the member if s's connection still holds the
 * presence, and then publish the offline; a vendor that came back through another
 * connection meanwhile stays online. */
void presence_release(gw *g, const vstream *s);
/* Once a second: claim expired vendors from presence:deadlines, publish them offline. */
void presence_claim(gw *g, int64_t now_ms);

/* --------------------------------------------------------------------- conn.c */

enum conn_state { CONN_AUTH_WAIT = 0, CONN_OPEN, CONN_CLOSING, CONN_GONE };
enum conn_role { ROLE_PENDING = 0, ROLE_VIEWER, ROLE_VENDOR, ROLE_COUNT };

struct conn {
    struct lws *wsi;      /* NULL once lws closed it */
    gw *g;
    uint32_t refs;        /* 1 for the socket + 1 per async call in flight */
    uint8_t state;
    uint8_t role;
    bool write_requested;
    bool flush_listed;    /* on gw.flush: written at the end of this loop iteration */
    bool close_sent;
    uint16_t strikes;
    uint16_t close_code;
    const char *close_reason; /* static text */
    char *user_id;
    char request_id[129]; /* the upgrade's X-Request-ID when sane, else generated: logs */
    char conn_id[VT_REQUEST_ID_LEN + 1]; /* always generated: names this connection */
    double tokens;
    int64_t tokens_ms;
    int64_t auth_deadline_ms; /* while waiting for {"op":"auth"} */
    int64_t rate_error_ms;    /* last rate-limit error sent */
    uint16_t flood_seconds;   /* seconds in a row with messages over the rate */
    char *rx;             /* assembly of a fragmented message */
    uint32_t rxlen;
    bool rx_discard;
    outq q;
    viewer *view;
    vstream **streams;
    uint8_t nstreams;
    uint64_t mark_in, mark_seen, mark_sent;
    conn *prev, *next;    /* every live connection, for shutdown */
    conn *flush_next;     /* gw.flush */
};

conn *conn_new(gw *g, struct lws *wsi, const char *request_id);
/* The socket closed (lws callback CLOSED). */
void conn_closed(conn *c);
void conn_ref(conn *c);
void conn_unref(conn *c);
/* Called for the ESTABLISHED callback; 0 or -1 to refuse. */
int conn_established(conn *c);
/* One received fragment; -1 to close (the reason already set). */
int conn_receive(conn *c, const void *in, size_t len, bool first, bool final, bool binary);
/* The auth deadline passed. */
int conn_timer(conn *c);
/* Once a second: close connections whose auth deadline passed. */
void conn_sweep(gw *g, int64_t now_ms);
/* Ask for a close with code and reason (static text), from anywhere on the loop. */
void conn_close(conn *c, int code, const char *reason);
void conn_send_error(conn *c, const char *code, const char *message, const char *ref);
void conn_send_ack(conn *c, const char *ref);
/* An error counts against the client; too many close it with 1008. */
void conn_strike(conn *c);
void conn_set_role(conn *c, enum conn_role role);
/* c has something to send: it goes out at the end of this loop iteration (outq_flush),
 * or, when that cannot take it all, from a writeable callback. */
void conn_want_write(conn *c);
/* Run fn on the loop thread from any thread (rpc completions). */
int gw_handoff(gw *g, vt_handoff_fn fn, void *payload);

/* ------------------------------------------------------------------ gw_metrics.c */

typedef struct {
    vt_gauge *connections[ROLE_COUNT];
    vt_counter *msgs_in, *msgs_out, *frames_out, *bytes_out;
    vt_counter *coalesced, *dropped_stale, *dropped_closed, *dropped_nats, *dropped_rate;
    vt_counter *slow_closes, *nats_in, *published, *publish_coalesced, *auth_failures;
    vt_counter *closes_policy, *closes_too_big, *errors_sent, *snapshots, *presence_expired;
    vt_gauge *cells, *vendor_subs;
    vt_histogram *latency;
} gw_metrics;

int gw_metrics_init(gw *g);

/* -------------------------------------------------------------------- the process */

struct gw {
    gw_config cfg;
    uv_loop_t *loop;
    struct lws_context *lws;
    vt_bus *bus;
    vt_kv *kv;
    vt_handoff *handoff;
    vt_auth_verifier *auth;
    vt_rpc_channel *vendor_ch, *location_ch;
    vt_metrics *reg;
    gw_metrics m;
    hmap cells, vendors;
    vt_bus_sub *status_sub;
    vt_bus_sub *deleted_sub; /* evt.vendor.deleted */
    conn *conns;          /* list of live connections */
    uint64_t nconns;
    uint64_t seq;         /* per-message stamp for dedupe */
    uint64_t queued;      /* messages in every outqueue */
    vstream *pending;     /* vendor streams with a coalesced update */
    unsigned char *wbuf;  /* LWS_PRE + frame_bytes: the shared frame buffer */
    conn *flush;          /* connections with new messages this loop iteration */
    uv_check_t flush_check;
    uv_timer_t flush_timer;      /* a paced flush that is due */
    int64_t flush_not_before_ns; /* pacing: no flush before this (monotonic) */
    bool flushing;
    uv_timer_t tick;
    uv_signal_t sigterm, sigint;
    uv_timer_t stop_timer;
    bool stopping;
    bool claim_busy;         /* a presence claim is on its way to Redis */
    int64_t claim_warned_ms; /* last warning about a failed claim */
    char instance[VT_REQUEST_ID_LEN + 1];
};

/* server.c */
int server_start(gw *g, char *err, size_t errlen);
/* Close every connection with 1001 (SIGTERM). */
void server_close_all(gw *g);
void server_destroy(gw *g);
/* After the loop has stopped: release the context for good. */
void server_free(gw *g);

#endif
