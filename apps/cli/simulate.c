/*
 * simulate.c — `venta-cli simulate`: a fleet of vendors driving around a city, each
 * streaming its position over the real WebSocket edge exactly as a vendor app does
 * (its own connection, the owner's session token, `location` messages).
 *
 *   venta-cli simulate [--owner user_demo_fleet] [--vendors 20] [--speed 6]
 *                      [--interval-ms 1000] [--city 40.73,-73.99] [--radius 2500]
 *                      [--duration 0]
 *
 * The vendors are the owner's, listed through VendorService.ListVendors. Each drives on
 * a street grid turned like Manhattan's (29°), a block of 80–250 m at a time, turning at
 * random and heading back when it strays past the radius. A dropped connection is
 * re-made with backoff. Runs until --duration seconds pass (0: until SIGINT/SIGTERM).
 */
#include "cli.h"
#include "ws_client.h"

#include "venta/vendor/v1/vendor.pb-c.h"
#include "vt_core.h"
#include "vt_geo.h"
#include "vt_rpc.h"

#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_VENDORS 1000
#define GRID_ANGLE 29.0
#define EARTH_M_PER_DEG 111320.0

typedef struct {
    char id[VT_UUID_LEN + 1];
    double lat, lng, heading, block_left;
    ws_client ws;
    int64_t next_connect_ms;
    int backoff_ms;
    long sent;
} vehicle;

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static double uniform(double lo, double hi)
{
    uint32_t r;
    vt_random_bytes(&r, sizeof r);
    return lo + (hi - lo) * (r / 4294967296.0);
}

static int list_vendors(const char *owner, int want, vehicle *out)
{
    const char *target = vt_config_str("VENTA_VENDOR_ADDR", "127.0.0.1:50052");
    vt_rpc_tls tls;
    bool tls_on = vt_rpc_tls_from_env("venta-cli", &tls);
    vt_rpc_channel_opts co = {
        .target = target, .tls = tls_on ? &tls : NULL, .server_name = "venta-vendor"};
    vt_rpc_channel *ch = NULL;
    char err[256];
    if (vt_rpc_channel_new(&co, &ch, err, sizeof err) != VT_OK) {
        fprintf(stderr, "simulate: %s: %s\n", target, err);
        return 0;
    }
    int n = 0;
    char token[512] = "";
    while (n < want) {
        Venta__Vendor__V1__ListVendorsRequest req = VENTA__VENDOR__V1__LIST_VENDORS_REQUEST__INIT;
        req.owner_id = (char *)owner;
        req.page_size = 100;
        req.page_token = token;
        /* The owner is in the request; only the gateways may set x-user-id. */
        vt_rpc_call_opts o = {.timeout_ms = 5000, .idempotent = true};
        vt_rpc_reply *reply;
        int rc = vt_rpc_call_unary(ch, &venta__vendor__v1__vendor_service__descriptor,
                                   "ListVendors", &req.base, &o, &reply);
        if (rc != VT_OK) {
            fprintf(stderr, "simulate: ListVendors at %s: %s %s\n", target, vt_status_name(rc),
                    vt_rpc_reply_message(reply));
            vt_rpc_reply_free(reply);
            break;
        }
        const Venta__Vendor__V1__ListVendorsResponse *res =
            (const void *)vt_rpc_reply_response(reply);
        for (size_t i = 0; i < res->n_vendors && n < want; i++)
            snprintf(out[n++].id, sizeof out->id, "%s", res->vendors[i]->id);
        snprintf(token, sizeof token, "%s", res->next_page_token);
        vt_rpc_reply_free(reply);
        if (!*token)
            break;
    }
    vt_rpc_channel_free(ch);
    return n;
}

/* Advance one vehicle by dt seconds at speed m/s on the turned grid. */
static void drive(vehicle *v, double speed, double dt, double clat, double clng, double radius)
{
    double metres = speed * dt;
    while (metres > 0) {
        if (v->block_left <= 0) {
            double dist;
            vt_geo_distance_m(v->lat, v->lng, clat, clng, &dist);
            int turn = (int)uniform(0, 4);
            v->heading = fmod(GRID_ANGLE + 90.0 * turn, 360.0);
            if (dist > radius) { /* head back: the grid direction closest to the centre */
                double to =
                    atan2((clng - v->lng) * cos(clat * M_PI / 180), clat - v->lat) * 180 / M_PI;
                double best = 1e9;
                for (int k = 0; k < 4; k++) {
                    double h = fmod(GRID_ANGLE + 90.0 * k, 360.0);
                    double diff = fabs(fmod(h - to + 540.0, 360.0) - 180.0);
                    if (diff < best)
                        best = diff, v->heading = h;
                }
            }
            v->block_left = uniform(80, 250);
        }
        double step = metres < v->block_left ? metres : v->block_left;
        double rad = v->heading * M_PI / 180;
        v->lat += step * cos(rad) / EARTH_M_PER_DEG;
        v->lng += step * sin(rad) / (EARTH_M_PER_DEG * cos(v->lat * M_PI / 180));
        v->block_left -= step;
        metres -= step;
    }
}

int cli_simulate(int argc, char **argv)
{
    const char *owner = "user_demo_fleet";
    int want = 20, interval_ms = 1000;
    double speed = 6, clat = 40.73, clng = -73.99, radius = 2500, duration = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            goto usage;
        if (strcmp(a, "--owner") == 0)
            owner = v;
        else if (strcmp(a, "--vendors") == 0)
            want = atoi(v);
        else if (strcmp(a, "--speed") == 0)
            speed = atof(v);
        else if (strcmp(a, "--interval-ms") == 0)
            interval_ms = atoi(v);
        else if (strcmp(a, "--radius") == 0)
            radius = atof(v);
        else if (strcmp(a, "--duration") == 0)
            duration = atof(v);
        else if (strcmp(a, "--city") == 0) {
            if (sscanf(v, "%lf,%lf", &clat, &clng) != 2 || !vt_geo_point_valid(clat, clng))
                goto usage;
        } else
            goto usage;
        i++;
    }
    if (want < 1 || want > MAX_VENDORS || speed < 0 || speed > 60 || interval_ms < 50 ||
        radius < 100)
        goto usage;

    const char *key = vt_config_str("VENTA_DEV_SIGNING_KEY", ".run/dev-signing-key.pem");
    char token[4096], auth[4200], err[512];
    if (cli_mint_token(owner, 86400, NULL, key, token, sizeof token, err, sizeof err) != 0) {
        fprintf(stderr, "simulate: %s\n", err);
        return 1;
    }
    snprintf(auth, sizeof auth, "Bearer %s", token);
    vt_addr ws = vt_config_addr("VENTA_WS_ADDR", "127.0.0.1:8081");

    static vehicle fleet[MAX_VENDORS];
    int n = list_vendors(owner, want, fleet);
    if (n == 0) {
        fprintf(stderr, "simulate: %s owns no vendors (scripts/run seeds the demo fleet)\n", owner);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        double r = radius * sqrt(uniform(0, 1)) * 0.8, a = uniform(0, 2 * M_PI);
        fleet[i].lat = clat + r * cos(a) / EARTH_M_PER_DEG;
        fleet[i].lng = clng + r * sin(a) / (EARTH_M_PER_DEG * cos(clat * M_PI / 180));
        fleet[i].ws.fd = -1;
        fleet[i].backoff_ms = 250;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    fprintf(stderr, "simulate: %d vendors of %s around %.4f,%.4f via ws://%s:%u/ws\n", n, owner,
            clat, clng, ws.host, ws.port);

    int64_t start = vt_now_ms(), last = start;
    while (!stop && (duration <= 0 || vt_now_ms() - start < duration * 1000)) {
        int64_t now = vt_now_ms();
        double dt = (double)(now - last) / 1000.0;
        last = now;
        int live = 0;
        for (int i = 0; i < n; i++) {
            vehicle *v = &fleet[i];
            if (v->ws.fd < 0 && now >= v->next_connect_ms) {
                if (ws_client_connect(&v->ws, ws.host, ws.port, "/ws", auth, "venta.v1.json", err,
                                      sizeof err) != 0) {
                    fprintf(stderr, "simulate: %s: %s\n", v->id, err);
                    v->next_connect_ms = now + v->backoff_ms;
                    v->backoff_ms = v->backoff_ms * 2 > 10000 ? 10000 : v->backoff_ms * 2;
                    continue;
                }
                v->backoff_ms = 250;
            }
            if (v->ws.fd < 0)
                continue;
            drive(v, speed, dt, clat, clng, radius);
            char msg[512];
            int len = snprintf(msg, sizeof msg,
                               "{\"op\":\"location\",\"vendorId\":\"%s\",\"lat\":%.7f,\"lng\":%.7f,"
                               "\"heading\":%.1f,\"speed\":%.2f,\"accuracy\":5,\"ts\":%lld,"
                               "\"ref\":%ld}",
                               v->id, v->lat, v->lng, v->heading, speed, (long long)now, ++v->sent);
            if (ws_client_send_text(&v->ws, msg, (size_t)len) != 0 ||
                ws_client_pump(&v->ws, NULL, NULL) != 0) {
                fprintf(stderr, "simulate: %s disconnected (close %d), reconnecting\n", v->id,
                        v->ws.close_code);
                v->next_connect_ms = now + v->backoff_ms;
                continue;
            }
            live++;
        }
        /* Sleep until the next tick, still answering pings meanwhile. */
        int64_t until = now + interval_ms;
        while (!stop && vt_now_ms() < until) {
            struct pollfd fds[MAX_VENDORS];
            int m = 0;
            for (int i = 0; i < n; i++)
                if (fleet[i].ws.fd >= 0)
                    fds[m++] = (struct pollfd){.fd = fleet[i].ws.fd, .events = POLLIN};
            poll(fds, (nfds_t)m, (int)(until - vt_now_ms()));
            for (int i = 0; i < n; i++)
                if (fleet[i].ws.fd >= 0)
                    ws_client_pump(&fleet[i].ws, NULL, NULL);
        }
        (void)live;
    }
    for (int i = 0; i < n; i++)
        ws_client_close(&fleet[i].ws);
    fprintf(stderr, "simulate: stopped\n");
    return 0;
usage:
    fprintf(stderr,
            "usage: venta-cli simulate [--owner USER] [--vendors 1..%d] [--speed M/S] "
            "[--interval-ms MS] [--city LAT,LNG] [--radius M] [--duration S]\n",
            MAX_VENDORS);
    return 2;
}
