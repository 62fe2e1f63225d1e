/*
 * venta-ws-gateway — the WebSocket edge (API.md §4): vendors stream positions in,
 * viewers watch boxes and vendors move live.
 *
 * Process model (DESIGN.md): one libuv loop runs libwebsockets, hiredis and timers;
 * NATS messages and gRPC completions arrive on their libraries' threads and reach the
 * loop through one handoff queue, drained in batches; after that nothing takes a lock.
 * Scale across cores with processes.
 *
 * Configuration: see docs/ws.md. Stop: SIGTERM/SIGINT closes every WebSocket with 1001
 * (vendors go offline), waits up to VENTA_SHUTDOWN_GRACE_MS for the closes to
 * finish, drains NATS and exits 0.
 */
#include "client.h"
#include "fanout.h"
#include "presence.h"
#include "sio_server.h"
#include "streams.h"
#include "vt_events.h"
#include "vt_http.h"
#include "ws_gateway.h"
#include "ws_server.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICK_MS 25

/* Fan-out's edges in the process: NATS through vt_bus, deletions to the vendor streams. */
static const fanout_hooks fanout_nats = {
    .subscribe = fanout_nats_subscribe,
    .unsubscribe = vt_bus_unsubscribe,
    .vendor_deleted = stream_deleted,
    .consume = fanout_nats_consume,
    .stop_consuming = vt_bus_consumer_free,
};

static void read_config(ws_config *c)
{
    c->addr = vt_config_addr("VENTA_WS_ADDR", "127.0.0.1:8081");
    vt_http_resolve_listen("VENTA_WS_ADDR", &c->addr);
    if (vt_http_tls_from_env(&c->http_tls_files))
        c->http_tls = &c->http_tls_files;
    c->nats_url = vt_config_require("VENTA_NATS_URL");
    char err[256];
    if (vt_bus_urls_valid(c->nats_url, err, sizeof err) != VT_OK)
        vt_config_fail("VENTA_NATS_URL", err);
    /* The services' setting: the stream is ensured with it by every reader. */
    c->events = vt_events_stream((int)vt_config_int("VENTA_EVENTS_REPLICAS", 1, 1, 5));
    vt_bus_login_from_env(&c->nats_user, &c->nats_password);
    c->redis_url = vt_config_require("VENTA_REDIS_URL");
    char host[256];
    int port, db;
    if (vt_kv_url_parse(c->redis_url, host, sizeof host, &port, &db, err, sizeof err) != VT_OK)
        vt_config_fail("VENTA_REDIS_URL", err);
    vt_config_login("VENTA_REDIS_USER", "VENTA_REDIS_PASSWORD", &c->redis_user, &c->redis_password);
    static char vendor_addr[300], location_addr[300];
    vt_addr a = vt_config_addr("VENTA_VENDOR_ADDR", "127.0.0.1:50052");
    snprintf(vendor_addr, sizeof vendor_addr, "%s:%u", a.host, a.port);
    a = vt_config_addr("VENTA_LOCATION_ADDR", "127.0.0.1:50053");
    snprintf(location_addr, sizeof location_addr, "%s:%u", a.host, a.port);
    c->vendor_addr = vendor_addr;
    c->location_addr = location_addr;
    if (vt_rpc_tls_from_env("venta-ws-gateway", &c->tls_files))
        c->tls = &c->tls_files;
    c->presence_ttl_s = (int)vt_config_int("VENTA_PRESENCE_TTL_S", 30, 1, 86400);
    c->auth_timeout_s = (int)vt_config_int("VENTA_WS_AUTH_TIMEOUT_S", 10, 1, 600);
    c->max_frame = (int)vt_config_int("VENTA_WS_MAX_MESSAGE_BYTES", 16384, 256, 1 << 20);
    c->max_cells = (int)vt_config_int("VENTA_WS_MAX_CELLS", 64, 32, 1024);
    c->max_watched_vendors = (int)vt_config_int("VENTA_WS_MAX_WATCHED_VENDORS", 100, 1, 10000);
    c->max_streamed_vendors = (int)vt_config_int("VENTA_WS_MAX_STREAMED_VENDORS", 8, 1, 255);
    c->queue_max = (int)vt_config_int("VENTA_WS_QUEUE_MAX", 1024, 16, 1 << 20);
    c->slow_ms = (int)vt_config_int("VENTA_WS_SLOW_MS", 3000, 100, 600000);
    c->frame_bytes = (int)vt_config_int("VENTA_WS_FRAME_BYTES", 65536, 1024, 1 << 24);
    c->rate_per_s = (int)vt_config_int("VENTA_WS_RATE", 50, 1, 1000000);
    c->rate_burst = (int)vt_config_int("VENTA_WS_RATE_BURST", 100, 1, 1000000);
    c->max_strikes = (int)vt_config_int("VENTA_WS_MAX_STRIKES", 20, 1, 1000000);
    c->rate_close_s = (int)vt_config_int("VENTA_WS_RATE_CLOSE_S", 3, 1, 3600);
    c->flush_pace_pct = (int)vt_config_int("VENTA_WS_FLUSH_PACE_PCT", 50, 0, 1000);
    c->flush_pace_min_us = (int)vt_config_int("VENTA_WS_FLUSH_PACE_MIN_US", 2000, 0, 10000000);
    c->vendor_interval_ms = (int)vt_config_int("VENTA_WS_VENDOR_INTERVAL_MS", 100, 0, 60000);
    c->ping_s = (int)vt_config_int("VENTA_WS_PING_S", 30, 1, 3600);
    c->snapshot_limit = (int)vt_config_int("VENTA_WS_SNAPSHOT_LIMIT", 500, 1, 10000);
    c->rx_buffer = (int)vt_config_int("VENTA_WS_RX_BUFFER", 256, 128, 1 << 20);
    c->shutdown_grace_ms = (int)vt_config_int("VENTA_SHUTDOWN_GRACE_MS", 5000, 0, 600000);
    c->rpc_timeout_ms = (int)vt_config_int("VENTA_WS_RPC_TIMEOUT_MS", 3000, 100, 60000);
    c->sio_ping_interval_ms = (int)vt_config_int("VENTA_SIO_PING_INTERVAL_MS", 25000, 50, 3600000);
    c->sio_ping_timeout_ms = (int)vt_config_int("VENTA_SIO_PING_TIMEOUT_MS", 20000, 50, 3600000);
}

static void on_tick(uv_timer_t *t)
{
    ws_gateway *g = t->data;
    int64_t now = vt_now_ms();
    static int64_t last_sweep, last_claim;
    stream_tick(g, now);
    if (now - last_sweep >= 250) {
        last_sweep = now;
        stream_presence_sweep(g, now);
        client_sweep(g, now);
        fanout_sweep(g, now);
    }
    if (now - last_claim >= 1000) {
        last_claim = now;
        presence_claim(g, now);
    }
}

static void finish(ws_gateway *g)
{
    uv_timer_stop(&g->stop_timer);
    uv_timer_stop(&g->tick);
    conn_flush_stop(g);
    ws_server_destroy(g); /* closes what is left: vendors publish offline here */
    sio_server_free(g);   /* socket.io sessions that had no socket open */
    fanout_close(g);
    vt_bus_free(g->bus, 5000); /* flushes the offline statuses */
    g->bus = NULL;
    vt_rpc_channel_free(g->vendor_ch); /* completions still due run into the handoff */
    vt_rpc_channel_free(g->location_ch);
    g->vendor_ch = g->location_ch = NULL;
    vt_handoff_free(g->handoff);
    g->handoff = NULL;
    vt_kv_free(g->kv);
    g->kv = NULL;
    uv_close((uv_handle_t *)&g->tick, NULL);
    uv_close((uv_handle_t *)&g->stop_timer, NULL);
    uv_close((uv_handle_t *)&g->sigterm, NULL);
    uv_close((uv_handle_t *)&g->sigint, NULL);
    /* Closing them restored the default action: a second SIGTERM while the last Redis
     * and NATS writes drain would kill us instead of letting us exit 0. */
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
}

static void on_stop_timer(uv_timer_t *t)
{
    ws_gateway *g = t->data;
    static int waited;
    waited += 50;
    if (g->nconns == 0 || waited >= g->cfg.shutdown_grace_ms)
        finish(g);
}

static void on_signal(uv_signal_t *s, int signum)
{
    ws_gateway *g = s->data;
    if (g->stopping)
        return;
    g->stopping = true;
    vt_info(NULL, "ws: signal %d, closing %llu connections", signum, (unsigned long long)g->nconns);
    ws_server_close_all(g);
    uv_timer_start(&g->stop_timer, on_stop_timer, 50, 50);
}

static void on_kv_state(bool up, void *user)
{
    if (up) /* a Redis that restarted empty has lost every key and deadline */
        stream_presence_rewrite(user);
}

static void on_bus_state(bool up, void *user)
{
    (void)user; /* logged by vt_bus; nats.c resubscribes every cell and vendor itself */
    (void)up;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    vt_log_init_from_env("venta-ws-gateway");
    static ws_gateway g;
    read_config(&g.cfg);
    const char *bad_var = NULL;
    char err[256];
    if (vt_auth_verifier_new_from_env(&g.auth, &bad_var, err, sizeof err) != VT_OK)
        vt_config_fail(bad_var ? bad_var : "CLERK_JWT_KEY", err);
    vt_request_id_new(g.instance);

    static uv_loop_t loop;
    uv_loop_init(&loop);
    g.loop = &loop;
    g.reg = vt_metrics_new();
    if (!g.reg || ws_metrics_init(&g) != VT_OK) {
        vt_error(NULL, "cannot register metrics");
        return 1;
    }
    vt_handoff_opts ho = {.loop = g.loop, .user = &g};
    if (vt_handoff_new(&ho, &g.handoff, NULL, 0) == VT_OK)
        vt_handoff_set_max_batch(g.handoff,
                                 (size_t)vt_config_int("VENTA_WS_BATCH", 512, 1, 1 << 20));
    g.wbuf = malloc(LWS_PRE + (size_t)g.cfg.frame_bytes);
    if (!g.handoff || !g.wbuf) {
        vt_error(NULL, "out of memory");
        return 1;
    }
    vt_bus_opts bo = {.urls = g.cfg.nats_url,
                      .name = "venta-ws-gateway",
                      .on_state = on_bus_state,
                      .state_user = &g,
                      .user = g.cfg.nats_user,
                      .password = g.cfg.nats_password};
    if (vt_bus_new(&bo, &g.bus, err, sizeof err) != VT_OK)
        vt_config_fail("VENTA_NATS_URL", err);
    vt_kv_opts ko = {.loop = g.loop,
                     .url = g.cfg.redis_url,
                     .user = g.cfg.redis_user,
                     .password = g.cfg.redis_password,
                     .on_state = on_kv_state,
                     .state_user = &g};
    if (vt_kv_new(&ko, &g.kv, err, sizeof err) != VT_OK)
        vt_config_fail("VENTA_REDIS_URL", err);
    vt_rpc_channel_opts vco = {.target = g.cfg.vendor_addr,
                               .async_threads = 1,
                               .tls = g.cfg.tls,
                               .server_name = "venta-vendor"};
    vt_rpc_channel_opts lco = {.target = g.cfg.location_addr,
                               .async_threads = 1,
                               .tls = g.cfg.tls,
                               .server_name = "venta-location"};
    if (vt_rpc_channel_new(&vco, &g.vendor_ch, err, sizeof err) != VT_OK ||
        vt_rpc_channel_new(&lco, &g.location_ch, err, sizeof err) != VT_OK ||
        fanout_init(&g, &fanout_nats) != VT_OK) {
        vt_error(NULL, "cannot set up gRPC channels or NATS subscriptions");
        return 1;
    }
    if (ws_server_start(&g, err, sizeof err) != VT_OK) {
        vt_error(NULL, "ws: %s", err);
        return 1;
    }
    conn_flush_start(&g);
    uv_timer_init(g.loop, &g.tick);
    g.tick.data = &g;
    uv_timer_start(&g.tick, on_tick, TICK_MS, TICK_MS);
    uv_timer_init(g.loop, &g.stop_timer);
    g.stop_timer.data = &g;
    uv_signal_init(g.loop, &g.sigterm);
    g.sigterm.data = &g;
    uv_signal_start(&g.sigterm, on_signal, SIGTERM);
    uv_signal_init(g.loop, &g.sigint);
    g.sigint.data = &g;
    uv_signal_start(&g.sigint, on_signal, SIGINT);
    vt_info(NULL, "ws: listening on %s:%u (GET /ws, /metrics, /healthz)", g.cfg.addr.host,
            g.cfg.addr.port);

    uv_run(g.loop, UV_RUN_DEFAULT);
    ws_server_free(&g);
    uv_run(g.loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(g.loop);
    if (rc != 0)
        vt_warn(NULL, "ws: loop closed with handles open: %s", uv_err_name(rc));
    vt_auth_verifier_free(g.auth);
    vt_metrics_free(g.reg);
    free(g.wbuf);
    vt_bus_library_close();
    vt_info(NULL, "ws: stopped");
    return 0;
}
