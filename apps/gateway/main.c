/*
 * venta-gateway — the REST edge of the mesh (API.md §1–3): JSON over HTTP for web apps,
 * Clerk and RevenueCat webhooks, transcoded to gRPC calls on UserService,
 * VendorService and LocationService.
 *
 * One libuv loop runs the HTTP server (libwebsockets), Redis (rate limits, readiness)
 * and the handoff that brings gRPC completions back from the rpc queue threads; so no
 * lock guards any request state. Scale across cores with replicas.
 *
 * Configuration (environment only; a bad value stops the start with a line naming it):
 *   VENTA_GATEWAY_ADDR (127.0.0.1:8080), VENTA_USER_ADDR (:50051), VENTA_VENDOR_ADDR
 *   (:50052), VENTA_LOCATION_ADDR (:50053), VENTA_REDIS_URL (required),
 *   CLERK_JWT_KEY | VENTA_JWKS_FILE (+ VENTA_JWT_ISSUER, VENTA_JWT_AUTHORIZED_PARTIES,
 *   VENTA_JWT_CLOCK_SKEW_S), CLERK_WEBHOOK_SIGNING_SECRET (alias CLERK_WEBHOOK_SECRET),
 *   REVENUECAT_WEBHOOK_AUTH, VENTA_ALGOLIA_SEARCH_KEY, VENTA_CORS_ORIGINS, VENTA_RATE_LIMIT_IP
 * (600), VENTA_RATE_LIMIT_USER (300), VENTA_RATE_LIMIT_WINDOW_S (60), VENTA_TRUST_FORWARDED_FOR
 * (false), VENTA_UPSTREAM_TIMEOUT_MS (5000), VENTA_HTTP_HEADER_TIMEOUT_S (10),
 * VENTA_HTTP_BODY_TIMEOUT_S (10), VENTA_HTTP_KEEPALIVE_S (5), VENTA_SHUTDOWN_GRACE_MS (10000),
 *   VENTA_HTTP_UPLOAD_TIMEOUT_S (120), VENTA_HTTP_MAX_UPLOADS (32), VENTA_PUBLIC_URL
 *   (unset: http://<Host>), VENTA_TLS_CA, VENTA_TLS_CERT, VENTA_TLS_KEY, VENTA_TLS_REFRESH_S
 *   (mTLS to the services), VENTA_REDIS_USER, VENTA_REDIS_PASSWORD (its Redis ACL user),
 *   VENTA_HTTP_TLS_CERT, VENTA_HTTP_TLS_KEY (HTTPS at this edge; all in docs/security.md),
 *   VENTA_WEB_DIR, VENTA_MAP_TILE_URL (unset: the offline basemap),
 *   VENTA_MAP_TILE_ATTRIBUTION (docs/map.md). See docs/gateway.md.
 *
 * SIGTERM/SIGINT: stop listening, answer new requests on open connections with 503 and
 * close them, let requests in flight finish (up to the grace period), then exit 0.
 */
#include "rest_app.h"
#include "rest_metrics.h"
#include "rest_server.h"
#include "rest_static.h"
#include "vt_http.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void read_origins(rest_config *cfg)
{
    const char *list = vt_config_str("VENTA_CORS_ORIGINS", NULL);
    if (!list)
        return;
    char *copy = strdup(list);
    if (!copy)
        vt_config_fail("VENTA_CORS_ORIGINS", "out of memory");
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        size_t n = strlen(tok);
        while (n && tok[n - 1] == ' ')
            tok[--n] = '\0';
        if (!n)
            continue;
        if (strcmp(tok, "*") == 0) {
            cfg->origin_any = true;
            continue;
        }
        if (cfg->norigins == REST_MAX_ORIGINS)
            vt_config_fail("VENTA_CORS_ORIGINS", "more than 32 origins");
        if (strncmp(tok, "http://", 7) != 0 && strncmp(tok, "https://", 8) != 0)
            vt_config_fail("VENTA_CORS_ORIGINS", "origins must start with http:// or https://");
        cfg->origins[cfg->norigins++] = strdup(tok);
    }
    free(copy);
}

/* VENTA_PUBLIC_URL: the gateway's public base ("https://api.venta.example"), on which
 * uploads name their images; a trailing slash is dropped. NULL when unset. */
static const char *public_url_from_env(void)
{
    static char url[256];
    const char *v = vt_config_str("VENTA_PUBLIC_URL", NULL);
    if (!v || !*v)
        return NULL;
    size_t n = strlen(v);
    bool scheme = strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0;
    if (!scheme || n >= sizeof url || strcspn(v, " \t\r\n\"<>") != n)
        vt_config_fail("VENTA_PUBLIC_URL", "must be an http:// or https:// URL of at most 255 "
                                           "characters");
    memcpy(url, v, n + 1);
    while (n > 0 && url[n - 1] == '/')
        url[--n] = '\0';
    if (n <= 8)
        vt_config_fail("VENTA_PUBLIC_URL", "needs a host");
    return url;
}

static void read_config(rest_app *app)
{
    rest_config *cfg = &app->cfg;
    cfg->addr = vt_config_addr("VENTA_GATEWAY_ADDR", "127.0.0.1:8080");
    vt_http_resolve_listen("VENTA_GATEWAY_ADDR", &cfg->addr);
    cfg->upstream_addr[REST_UP_USER] = vt_config_addr("VENTA_USER_ADDR", "127.0.0.1:50051");
    cfg->upstream_addr[REST_UP_VENDOR] = vt_config_addr("VENTA_VENDOR_ADDR", "127.0.0.1:50052");
    cfg->upstream_addr[REST_UP_LOCATION] = vt_config_addr("VENTA_LOCATION_ADDR", "127.0.0.1:50053");
    if (vt_rpc_tls_from_env("venta-gateway", &cfg->tls_files))
        cfg->tls = &cfg->tls_files;
    if (vt_http_tls_from_env(&cfg->http_tls_files))
        cfg->http_tls = &cfg->http_tls_files;
    cfg->redis_url = vt_config_require("VENTA_REDIS_URL");
    char host[256], err[256];
    int port, db;
    if (vt_kv_url_parse(cfg->redis_url, host, sizeof host, &port, &db, err, sizeof err))
        vt_config_fail("VENTA_REDIS_URL", err);
    vt_config_login("VENTA_REDIS_USER", "VENTA_REDIS_PASSWORD", &cfg->redis_user,
                    &cfg->redis_password);
    cfg->upstream_timeout_ms = vt_config_int("VENTA_UPSTREAM_TIMEOUT_MS", 5000, 50, 600000);
    cfg->rate_ip = vt_config_int("VENTA_RATE_LIMIT_IP", 600, 0, 1000000000);
    cfg->rate_user = vt_config_int("VENTA_RATE_LIMIT_USER", 300, 0, 1000000000);
    cfg->rate_window_s = vt_config_int("VENTA_RATE_LIMIT_WINDOW_S", 60, 1, 86400);
    cfg->trust_forwarded = vt_config_bool("VENTA_TRUST_FORWARDED_FOR", false);
    cfg->header_timeout_s = (int)vt_config_int("VENTA_HTTP_HEADER_TIMEOUT_S", 10, 1, 600);
    cfg->body_timeout_s = (int)vt_config_int("VENTA_HTTP_BODY_TIMEOUT_S", 10, 1, 600);
    cfg->upload_timeout_s = (int)vt_config_int("VENTA_HTTP_UPLOAD_TIMEOUT_S", 120, 1, 3600);
    cfg->max_upload_bodies = (int)vt_config_int("VENTA_HTTP_MAX_UPLOADS", 32, 1, 10000);
    cfg->public_url = public_url_from_env();
    cfg->keepalive_s = (int)vt_config_int("VENTA_HTTP_KEEPALIVE_S", 5, 1, 3600);
    cfg->grace_ms = vt_config_int("VENTA_SHUTDOWN_GRACE_MS", 10000, 0, 600000);
    read_origins(cfg);

    const char *secret_var = "CLERK_WEBHOOK_SIGNING_SECRET";
    const char *secret = vt_config_str(secret_var, NULL);
    if (!secret) {
        secret_var = "CLERK_WEBHOOK_SECRET";
        secret = vt_config_str(secret_var, NULL);
    }
    if (secret) {
        if (vt_auth_svix_key_parse(secret, &cfg->svix_key, err, sizeof err))
            vt_config_fail(secret_var, err);
        cfg->svix_configured = true;
    }
    cfg->revenuecat_auth = vt_config_str("REVENUECAT_WEBHOOK_AUTH", NULL);
    cfg->algolia_search_key = vt_config_str("VENTA_ALGOLIA_SEARCH_KEY", NULL);

    const char *bad = NULL;
    if (vt_auth_verifier_new_from_env(&app->verifier, &bad, err, sizeof err))
        vt_config_fail(bad ? bad : "CLERK_JWT_KEY", err);
}

/* ---- shutdown ---- */

static uv_signal_t sig_term, sig_int;
static uv_timer_t drain_timer;
static int64_t drain_deadline_ns;

static void close_all(rest_app *app)
{
    uv_timer_stop(&drain_timer);
    uv_close((uv_handle_t *)&drain_timer, NULL);
    uv_close((uv_handle_t *)&sig_term, NULL);
    uv_close((uv_handle_t *)&sig_int, NULL);
    /* Closing them restored the default action: a second SIGTERM while the last calls
     * and Redis writes drain must not turn our exit 0 into a kill. */
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    rest_server_destroy(app); /* closes what is left; their calls are cancelled */
    for (int i = 0; i < REST_UP_COUNT; i++) {
        vt_rpc_channel_free(app->up[i]); /* completions go into the handoff */
        app->up[i] = NULL;
    }
    vt_handoff_free(app->handoff); /* runs them with closing = true */
    app->handoff = NULL;
    vt_kv_free(app->kv);
    app->kv = NULL;
}

static void on_drain_tick(uv_timer_t *t)
{
    rest_app *app = t->data;
    if (app->inflight > 0 && vt_monotonic_ns() < drain_deadline_ns)
        return;
    if (app->inflight > 0)
        vt_warn(NULL, "grace period over with %d requests in flight", app->inflight);
    close_all(app);
}

static void on_signal(uv_signal_t *s, int signum)
{
    rest_app *app = s->data;
    if (app->draining)
        return;
    vt_info(NULL, "signal %d: draining %d requests in flight", signum, app->inflight);
    app->draining = true;
    rest_server_drain(app);
    drain_deadline_ns = vt_monotonic_ns() + app->cfg.grace_ms * 1000000;
    drain_timer.data = app;
    uv_timer_start(&drain_timer, on_drain_tick, 0, 50);
}

static void on_kv_state(bool connected, void *user)
{
    (void)user;
    vt_log(connected ? VT_LOG_INFO : VT_LOG_WARN, NULL, "redis %s",
           connected ? "connected" : "unavailable; rate limits fail open");
}

#ifndef VENTA_DEFAULT_WEB_DIR
#define VENTA_DEFAULT_WEB_DIR "/usr/share/venta/web"
#endif

/* The live map's files and its /config.json (docs/map.md); a malformed tile URL stops
 * the start, since a map without its basemap is no map. */
static void load_map(void)
{
    rest_static_config mc = {
        .tile_url = vt_config_str("VENTA_MAP_TILE_URL", ""),
        .tile_attribution = vt_config_str("VENTA_MAP_TILE_ATTRIBUTION", ""),
    };
    const char *problem = mc.tile_url[0] ? rest_static_tile_url_problem(mc.tile_url) : NULL;
    if (problem)
        vt_config_fail("VENTA_MAP_TILE_URL", problem);
    rest_static_load(vt_config_str("VENTA_WEB_DIR", VENTA_DEFAULT_WEB_DIR), &mc);
}

int main(void)
{
    vt_log_init_from_env("venta-gateway");
    static rest_app app;
    read_config(&app);
    signal(SIGPIPE, SIG_IGN);

    uv_loop_t loop;
    if (uv_loop_init(&loop) != 0) {
        vt_error(NULL, "cannot create the event loop");
        return 1;
    }
    app.loop = &loop;
    app.metrics = vt_metrics_new();
    app.m = app.metrics ? rest_metrics_new(app.metrics) : NULL;
    vt_handoff_opts ho = {.loop = &loop, .user = &app};
    if (!app.m || vt_handoff_new(&ho, &app.handoff, NULL, 0) != VT_OK) {
        vt_error(NULL, "out of memory at start");
        return 1;
    }
    char err[256];
    for (int i = 0; i < REST_UP_COUNT; i++) {
        char target[300];
        snprintf(target, sizeof target, "%s:%u", app.cfg.upstream_addr[i].host,
                 app.cfg.upstream_addr[i].port);
        static const char *const names[REST_UP_COUNT] = {
            [REST_UP_USER] = "venta-user",
            [REST_UP_VENDOR] = "venta-vendor",
            [REST_UP_LOCATION] = "venta-location",
        };
        vt_rpc_channel_opts co = {.target = target, .tls = app.cfg.tls, .server_name = names[i]};
        /* Image uploads go to venta-vendor's MediaService: 10 MiB and the message. */
        if (i == REST_UP_VENDOR)
            co.max_message_bytes = REST_MAX_UPLOAD_BODY + 64 * 1024;
        if (vt_rpc_channel_new(&co, &app.up[i], err, sizeof err) != VT_OK) {
            vt_error(NULL, "cannot create a channel to %s: %s", target, err);
            return 1;
        }
    }
    load_map();
    vt_kv_opts ko = {.loop = &loop,
                     .url = app.cfg.redis_url,
                     .user = app.cfg.redis_user,
                     .password = app.cfg.redis_password,
                     .on_state = on_kv_state,
                     .state_user = &app};
    if (vt_kv_new(&ko, &app.kv, err, sizeof err))
        vt_config_fail("VENTA_REDIS_URL", err);
    rest_metrics_readiness(app.metrics, &app);
    if (rest_server_start(&app, err, sizeof err) != VT_OK) {
        vt_error(NULL, "%s", err);
        return 1;
    }
    uv_timer_init(&loop, &drain_timer);
    uv_signal_init(&loop, &sig_term);
    uv_signal_init(&loop, &sig_int);
    sig_term.data = sig_int.data = &app;
    uv_signal_start(&sig_term, on_signal, SIGTERM);
    uv_signal_start(&sig_int, on_signal, SIGINT);
    vt_info(NULL, "listening on %s:%d (user %s:%u, vendor %s:%u, location %s:%u)",
            app.cfg.addr.host, app.port, app.cfg.upstream_addr[0].host,
            app.cfg.upstream_addr[0].port, app.cfg.upstream_addr[1].host,
            app.cfg.upstream_addr[1].port, app.cfg.upstream_addr[2].host,
            app.cfg.upstream_addr[2].port);

    uv_run(&loop, UV_RUN_DEFAULT);

    if (uv_loop_close(&loop) != 0) {
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
    }
    vt_auth_verifier_free(app.verifier);
    vt_auth_svix_key_clear(&app.cfg.svix_key);
    for (int i = 0; i < app.cfg.norigins; i++)
        free(app.cfg.origins[i]);
    rest_metrics_free(app.m);
    vt_metrics_free(app.metrics);
    rest_static_free();
    vt_info(NULL, "stopped");
    return 0;
}
