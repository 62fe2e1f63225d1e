/*
 * sio_session.h — the rules of an Engine.IO 4 session that need no I/O
 * (sio_session.c): which requests are valid for which session, and the heartbeat.
 * sio_server.c applies them to lws requests and libuv timers; tests/unit/ws checks
 * them directly.
 */
#ifndef VENTA_WS_SIO_SESSION_H
#define VENTA_WS_SIO_SESSION_H

#include <stdbool.h>
#include <stdint.h>

/* Where a session's packets go: polling, polling while a WebSocket probes (packets
 * still go to polling until the client's upgrade packet), or WebSocket. */
typedef enum { SIO_TX_POLLING = 0, SIO_TX_UPGRADING, SIO_TX_WEBSOCKET } sio_tx;

typedef enum { SIO_GET = 0, SIO_POST, SIO_OTHER_METHOD } sio_method;

/* What a request to /socket.io/ says about itself. */
typedef struct {
    sio_method method;
    bool websocket;        /* an upgrade to WebSocket */
    const char *eio;       /* the EIO query parameter, NULL when absent */
    const char *transport; /* the transport query parameter, NULL when absent */
    bool has_sid;
    bool sid_known;    /* has_sid, and the session exists */
    sio_tx session_tx; /* the known session's transport */
} sio_request;

/* -1 when r may go on, else the vt_sio_eio_error socket.io answers it with (as its
 * server checks, in its order: the transport, then the session or the handshake). */
int sio_request_check(const sio_request *r);

/* The heartbeat (Engine.IO 4: the server pings every ping_interval; a pong must come
 * within ping_timeout of the ping). Times are ms on one clock. */
typedef struct {
    int64_t next_ping_ms;     /* 0: a ping is out, waiting for its pong */
    int64_t pong_deadline_ms; /* while a ping is out */
} sio_heartbeat;

typedef enum { SIO_HB_WAIT, SIO_HB_PING, SIO_HB_TIMEOUT } sio_hb_action;

void sio_hb_start(sio_heartbeat *h, int64_t now_ms, int ping_interval_ms);
/* What is due at now_ms; *wake_ms is when to ask again. After SIO_HB_PING the caller
 * sends the ping (the pong deadline is already set). */
sio_hb_action sio_hb_step(sio_heartbeat *h, int64_t now_ms, int ping_timeout_ms, int64_t *wake_ms);
/* A pong came: the next ping is ping_interval from now. */
void sio_hb_pong(sio_heartbeat *h, int64_t now_ms, int ping_interval_ms);

#endif
