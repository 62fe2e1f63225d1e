/*
 * ws_gateway.h — the venta-ws-gateway process: the one struct every module reaches
 * through its connection (c->g) for the configuration, the metrics, the clients of
 * NATS, Redis and gRPC, and the process-wide tables. Not a library.
 *
 * One libuv loop runs everything: libwebsockets' sockets, hiredis, timers, and the
 * drained batches of the handoff queue that carries NATS messages and gRPC completions
 * from their threads. So none of the structures has a lock: whoever touches them is on
 * the loop thread.
 *
 * Modules, each with its header, from the top down (each calls only those below it):
 *   main.c        configuration, the loop, signals, start and stop
 *   ws_server.c   the lws context on the loop; HTTP (/metrics, /healthz) and GET /ws
 *   sio_server.c  /socket.io/: Engine.IO sessions, polling and WebSocket, heartbeat
 *   sio_client.c  socket.io namespaces, auth, the original apps' events → client.c
 *   sio_only_vendor.c the user's only vendor (VendorService.ListVendors), for sio_client.c
 *   sio_session.c Engine.IO request and heartbeat rules (pure)
 *   client.c      a client: authentication, limits, dispatch of its messages
 *   snapshot.c    watch.bounds snapshots from LocationService, merged with live state
 *   streams.c     vendor streams: ownership, rate limit, publish, presence, status
 *   presence.c    presence in Redis: keys, the deadline set, claims of expired vendors
 *   fanout.c      NATS → viewers: cell and vendor subscriptions with refcounts, box
 *                 filtering with enter/leave per connection, stale-update drops
 *   conn_rpc.c    a gRPC call for a connection, answered on the loop (snapshot,
 *                 streams, sio_only_vendor)
 *   conn.c        one connection as an object: refcount, sending, flush, frames
 *   outqueue.c    per-connection bounded queue, per-vendor coalescing, frame packing
 *   ws_messages.c client JSON in (jansson); server messages out, encoded once, refcounted
 *   sio_messages.c socket.io events ⇄ venta.v1.json messages (pure)
 *   ws_metrics.c  the Prometheus series
 * Upward news goes through callbacks: fanout_hooks (subscriptions, deleted vendors) and
 * presence_written_fn (presence writes).
 */
#ifndef VENTA_WS_GATEWAY_H
#define VENTA_WS_GATEWAY_H

#include "conn.h"
#include "fanout.h"
#include "vt_auth.h"
#include "vt_bus.h"
#include "vt_handoff.h"
#include "vt_http.h"
#include "vt_kv.h"
#include "vt_metrics.h"
#include "vt_rpc.h"
#include "ws_config.h"
#include "ws_metrics.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct lws_context;
typedef struct fanout_hooks fanout_hooks;

struct ws_gateway {
    ws_config cfg;
    uv_loop_t *loop;
    vt_http_header_watch *header_watch; /* the upgrade request's header timeout */
    struct lws_context *lws;
    vt_bus *bus;
    vt_kv *kv;
    vt_handoff *handoff;
    vt_auth_verifier *auth;
    vt_rpc_channel *vendor_ch, *location_ch;
    vt_metrics *reg;
    ws_metrics m;
    /* fanout.c */
    const fanout_hooks *fanout_hooks;
    fanout_table cells, vendors;
    vt_bus_sub *status_sub;
    vt_bus_consumer *deleted; /* evt.vendor.deleted, from the stream of domain events */
    conn *conns;              /* list of live connections */
    uint64_t nconns;
    uint64_t seq;        /* per-message stamp for dedupe */
    uint64_t queued;     /* messages in every outqueue */
    vstream *pending;    /* vendor streams with a coalesced update */
    unsigned char *wbuf; /* LWS_PRE + frame_bytes: the shared frame buffer */
    /* conn.c: connections with new messages this loop iteration, and their flush */
    conn *flush;
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
    struct sio_server *sio; /* sio_server.c: socket.io sessions, made on first use */
};

#endif
