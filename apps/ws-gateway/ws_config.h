/*
 * ws_config.h — venta-ws-gateway's settings, read once from the environment by main.c
 * (docs/ws.md lists the variables) and only read afterwards.
 */
#ifndef VENTA_WS_CONFIG_H
#define VENTA_WS_CONFIG_H

#include "vt_bus.h"
#include "vt_core.h"
#include "vt_http.h"
#include "vt_rpc.h"

typedef struct {
    vt_addr addr;
    const char *nats_url;
    vt_bus_stream_opts events;             /* the stream of domain events (VENTA_EVENTS_REPLICAS) */
    const char *nats_user, *nats_password; /* VENTA_NATS_USER/PASSWORD; NULL: no login */
    const char *redis_url;
    const char *redis_user, *redis_password; /* VENTA_REDIS_USER/PASSWORD; NULL: none */
    const char *vendor_addr;
    const char *location_addr;
    vt_http_tls http_tls_files;
    const vt_http_tls *http_tls; /* VENTA_HTTP_TLS_*: WSS at this edge; NULL: plaintext */
    vt_rpc_tls tls_files;
    const vt_rpc_tls *tls; /* VENTA_TLS_*: mTLS to the services; NULL: plaintext */
    int presence_ttl_s;
    int auth_timeout_s;
    int max_frame;            /* bytes of one client message; larger → 1009 */
    int max_cells;            /* cells one watch.bounds may cover */
    int max_watched_vendors;  /* watch.vendor entries per connection */
    int max_streamed_vendors; /* vendors one connection may stream as owner */
    int queue_max;            /* messages pending per connection before it counts as behind */
    int slow_ms;              /* behind this long (queue over queue_max) → 1013 */
    int frame_bytes;          /* largest batched frame the server sends */
    int rate_per_s;           /* client messages per second (token bucket) */
    int rate_burst;
    int max_strikes;        /* errors for bad input before a 1008 close */
    int rate_close_s;       /* seconds in a row over the rate before a 1008 close */
    int flush_pace_pct;     /* after a long flush, pause this % of its length */
    int flush_pace_min_us;  /* shorter flushes are not paced */
    int vendor_interval_ms; /* minimum gap between publishes of one vendor */
    int ping_s;             /* ping after this much silence; hang up after 2× */
    int snapshot_limit;     /* vendors asked from VendorsInBounds */
    int rx_buffer;          /* lws receive buffer per connection */
    int shutdown_grace_ms;
    int rpc_timeout_ms;
    int sio_ping_interval_ms; /* socket.io (Engine.IO) heartbeat: ping every … */
    int sio_ping_timeout_ms;  /* … and close when its pong is this late */
} ws_config;

#endif
