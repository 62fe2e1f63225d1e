/*
 * conn.h — one WebSocket connection as an object: its life (refcounted), its state,
 * and everything that goes out to it (queue, flush, frames, the close frame).
 *
 * The modules above it (fanout, snapshot, streams, client) send through conn_send and
 * close through conn_close; conn.c calls none of them back. What a connection holds
 * elsewhere (its viewport, its vendor streams) is released by client_closed before the
 * socket's reference goes.
 */
#ifndef VENTA_WS_CONN_H
#define VENTA_WS_CONN_H

#include "outqueue.h"
#include "vt_core.h"

#include <stdbool.h>
#include <stdint.h>

struct lws;
typedef struct ws_gateway ws_gateway;
typedef struct conn conn;
typedef struct viewer viewer;
typedef struct vstream vstream;

enum conn_state { CONN_AUTH_WAIT = 0, CONN_OPEN, CONN_CLOSING, CONN_GONE };

/* The seam for a connection that is not a venta.v1.json WebSocket (socket.io, over
 * HTTP long-polling or WebSocket: sio_server.c). It has no wsi; its transport turns
 * each message into its own protocol as it is queued, and writes the queue itself
 * when woken. Callbacks, so that conn.c still calls nothing above it. */
typedef struct conn_transport {
    /* m in the transport's encoding: a new reference, or NULL when m means nothing to
     * this client (it is then dropped). */
    msgbuf *(*encode)(conn *c, msgbuf *m);
    /* Messages were queued, or a close was asked (c->close_code): write them. */
    void (*wake)(conn *c);
    /* For a transport that asked for it with conn_write_soon: write what is queued now,
     * from the end-of-iteration flush, as conn_write does (-1: the socket failed). */
    int (*write)(conn *c);
} conn_transport;
enum conn_role { ROLE_PENDING = 0, ROLE_VIEWER, ROLE_VENDOR, ROLE_COUNT };
/* The protocol a connection speaks, for the connections gauge's label: venta.v1.json on
 * /ws, or socket.io on /socket.io/ (born without a wsi: conn_new(g, NULL, …)). */
enum conn_proto { PROTO_VENTA = 0, PROTO_SOCKETIO, PROTO_COUNT };

struct conn {
    struct lws *wsi; /* NULL once lws closed it */
    ws_gateway *g;
    uint32_t refs; /* 1 for the socket + 1 per async call in flight */
    uint8_t state;
    uint8_t role;
    uint8_t proto; /* enum conn_proto, fixed at conn_new */
    bool write_requested;
    bool flush_listed; /* on the flush list: written at the end of this loop iteration */
    bool close_sent;
    uint16_t strikes;
    uint16_t close_code;
    const char *close_reason; /* static text */
    char *user_id;
    char request_id[129]; /* the upgrade's X-Request-ID when sane, else generated: logs */
    vt_trace trace;       /* the connection's span: its upgrade's traceparent continued, or new */
    char conn_id[VT_REQUEST_ID_LEN + 1]; /* always generated: names this connection */
    double tokens;
    int64_t tokens_ms;
    int64_t auth_deadline_ms; /* while waiting for {"op":"auth"} */
    int64_t rate_error_ms;    /* last rate-limit error sent */
    uint16_t flood_seconds;   /* seconds in a row with messages over the rate */
    char *rx;                 /* assembly of a fragmented message */
    uint32_t rxlen;
    bool rx_discard;
    outq q;
    viewer *view;      /* fanout.c: allocated on the first watch */
    vstream **streams; /* streams.c: the vendors it streams */
    uint8_t nstreams;
    uint64_t mark_in, mark_seen, mark_sent; /* fanout.c: per-delivery stamps */
    conn *prev, *next;                      /* every live connection, for shutdown */
    conn *flush_next;                       /* the flush list */
    const conn_transport *tx;               /* NULL: a venta.v1.json WebSocket (wsi) */
    void *tx_data;                          /* the transport's, e.g. its session */
};

/* traceparent: the upgrade's header (NULL when absent), continued when well formed. */
conn *conn_new(ws_gateway *g, struct lws *wsi, const char *request_id, const char *traceparent);
/* The traceparent header of the request on wsi (an upgrade, a polling request) into
 * out (outlen bytes), or NULL when absent or longer than out. */
const char *conn_header_traceparent(struct lws *wsi, char *out, size_t outlen);
/* For log lines about c: its request id, user and trace. */
vt_log_ctx conn_log_ctx(const conn *c);
void conn_ref(conn *c);
void conn_unref(conn *c);
/* The socket closed: c leaves the live list and drops its queue. False when it was gone
 * already. The socket's reference stays, for the caller to drop (conn_unref) once it
 * has released what other modules hold for c (client_closed). */
bool conn_closed(conn *c);
void conn_set_role(conn *c, enum conn_role role);

/* Queue m for c (takes a reference). False when c is closing, or was just closed as
 * too slow (1013) or out of memory. */
bool conn_send(conn *c, msgbuf *m);
/* Write c's queue at the end of this loop iteration (its transport's write, or /ws's
 * conn_write), or from a writeable callback when the flush cannot take it now. */
void conn_write_soon(conn *c);
/* For a transport (conn_transport): the next queued message, the caller's reference,
 * counted as sent; NULL when the queue is empty. */
msgbuf *conn_take(conn *c);
/* For a transport that sends one message per WebSocket frame: the queued messages that
 * fit in cap bytes as whole text frames (outq_pack's OUTQ_JOIN_WS_FRAMES) in buf, for one
 * write, counted as sent; returns their bytes, *count the messages. A head message too
 * big for cap comes back alone in *alone instead (the caller's reference, to frame). */
size_t conn_take_frames(conn *c, unsigned char *buf, size_t cap, msgbuf **alone, uint32_t *count);
void conn_send_error(conn *c, const char *code, const char *message, const char *ref);
void conn_send_ack(conn *c, const char *ref);
/* Ask for a close with code and reason (static text), from anywhere on the loop. */
void conn_close(conn *c, int code, const char *reason);
/* An error counts against the client; too many close it with 1008. */
void conn_strike(conn *c);

/* Pack queued messages into one frame and write it: from the writeable callback, or
 * from the end-of-iteration flush. -1 when the connection must close. */
int conn_write(conn *c);
/* Send c's close frame (code and reason) now and let lws wait for the client's close. */
int conn_close_frame(conn *c);
/* Start (at init) and stop (at shutdown) the end-of-iteration flush. */
void conn_flush_start(ws_gateway *g);
void conn_flush_stop(ws_gateway *g);

#endif
