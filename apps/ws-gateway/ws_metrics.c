/*
 * ws_metrics.c — the Prometheus series of venta-ws-gateway (served on /metrics).
 *
 * Counters are updated on the loop thread (and by nats.c threads for nats_in), the
 * queue depths are read at render time.
 */
#include "ws_metrics.h"

#include "ws_gateway.h"

#include <stdio.h>

static double queued(void *user)
{
    return (double)((ws_gateway *)user)->queued;
}

static double handoff_depth(void *user)
{
    return (double)vt_handoff_depth(((ws_gateway *)user)->handoff);
}

/* Ready as /readyz answers: NATS and Redis reached, not stopping. */
static double nats_up(void *user)
{
    ws_gateway *g = user;
    return g->bus && vt_bus_connected(g->bus);
}
static double redis_up(void *user)
{
    ws_gateway *g = user;
    return g->kv && vt_kv_connected(g->kv);
}
static double ready_now(void *user)
{
    return nats_up(user) && redis_up(user) && !((ws_gateway *)user)->stopping;
}

/* Delivery latency: NATS arrival at this process → the frame handed to the kernel. */
static const double latency_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                        0.05,   0.1,     0.25,   0.5,   1,      2.5,   5};

int ws_metrics_init(ws_gateway *g)
{
    vt_metrics *r = g->reg;
    ws_metrics *m = &g->m;
    static const char *roles[ROLE_COUNT] = {"pending", "viewer", "vendor"};
    static const char *protos[PROTO_COUNT] = {"venta", "socketio"};
    for (int i = 0; i < ROLE_COUNT; i++)
        for (int p = 0; p < PROTO_COUNT; p++) {
            char labels[64];
            snprintf(labels, sizeof labels, "role=\"%s\",protocol=\"%s\"", roles[i], protos[p]);
            m->connections[i][p] = vt_metrics_gauge(
                r, "venta_ws_connections", "Open connections by role and protocol", labels);
        }
    m->msgs_in =
        vt_metrics_counter(r, "venta_ws_messages_in_total", "Client messages received", NULL);
    m->msgs_out = vt_metrics_counter(r, "venta_ws_messages_out_total",
                                     "Server messages delivered to clients", NULL);
    m->frames_out =
        vt_metrics_counter(r, "venta_ws_frames_out_total",
                           "WebSocket frames sent (several messages each under load)", NULL);
    m->bytes_out = vt_metrics_counter(r, "venta_ws_bytes_out_total", "Payload bytes sent", NULL);
    m->coalesced =
        vt_metrics_counter(r, "venta_ws_coalesced_total",
                           "Queued location messages replaced by a newer one (slow readers)", NULL);
    const char *drop_help = "Messages dropped, by reason";
    m->dropped_stale =
        vt_metrics_counter(r, "venta_ws_dropped_total", drop_help, "reason=\"stale\"");
    m->dropped_echo = vt_metrics_counter(r, "venta_ws_dropped_total", drop_help, "reason=\"echo\"");
    m->dropped_closed =
        vt_metrics_counter(r, "venta_ws_dropped_total", drop_help, "reason=\"closing\"");
    m->dropped_nats =
        vt_metrics_counter(r, "venta_ws_dropped_total", drop_help, "reason=\"handoff\"");
    m->dropped_rate =
        vt_metrics_counter(r, "venta_ws_dropped_total", drop_help, "reason=\"rate_limit\"");
    m->slow_closes =
        vt_metrics_counter(r, "venta_ws_slow_client_closes_total",
                           "Connections closed with 1013 for reading too slowly", NULL);
    m->nats_in =
        vt_metrics_counter(r, "venta_ws_nats_messages_total", "NATS messages received", NULL);
    m->published = vt_metrics_counter(r, "venta_ws_locations_published_total",
                                      "Vendor positions published on NATS", NULL);
    m->publish_coalesced =
        vt_metrics_counter(r, "venta_ws_locations_coalesced_total",
                           "Vendor positions superseded within the rate limit", NULL);
    m->auth_failures =
        vt_metrics_counter(r, "venta_ws_auth_failures_total", "Failed authentications", NULL);
    m->closes_policy = vt_metrics_counter(r, "venta_ws_closes_total",
                                          "Server-initiated closes by code", "code=\"1008\"");
    m->closes_too_big = vt_metrics_counter(r, "venta_ws_closes_total",
                                           "Server-initiated closes by code", "code=\"1009\"");
    m->errors_sent =
        vt_metrics_counter(r, "venta_ws_errors_sent_total", "error messages sent to clients", NULL);
    m->snapshots = vt_metrics_counter(r, "venta_ws_snapshots_total", "Snapshots sent", NULL);
    m->presence_expired = vt_metrics_counter(
        r, "venta_ws_presence_expired_total",
        "Offline statuses published for vendors whose presence expired (claimed here)", NULL);
    m->cells = vt_metrics_gauge(r, "venta_ws_cell_subscriptions",
                                "Geohash cells subscribed in NATS", NULL);
    m->vendor_subs = vt_metrics_gauge(r, "venta_ws_vendor_subscriptions",
                                      "Single-vendor subscriptions in NATS", NULL);
    m->latency =
        vt_metrics_histogram(r, "venta_ws_delivery_latency_seconds",
                             "NATS arrival to frame written, per delivered message", NULL,
                             latency_bounds, sizeof latency_bounds / sizeof latency_bounds[0]);
    vt_metrics_gauge_fn(r, "venta_ws_queue_depth", "Messages waiting in connection queues", NULL,
                        queued, g);
    vt_metrics_gauge_fn(r, "venta_ws_handoff_depth",
                        "NATS messages and completions waiting for the loop", NULL, handoff_depth,
                        g);
    vt_metrics_gauge_fn(r, "venta_ready", VT_METRICS_READY_HELP, NULL, ready_now, g);
    vt_metrics_gauge_fn(r, "venta_dependency_up", VT_METRICS_DEPENDENCY_HELP, "dependency=\"nats\"",
                        nats_up, g);
    vt_metrics_gauge_fn(r, "venta_dependency_up", VT_METRICS_DEPENDENCY_HELP,
                        "dependency=\"redis\"", redis_up, g);
    for (int i = 0; i < ROLE_COUNT; i++)
        for (int p = 0; p < PROTO_COUNT; p++)
            if (!m->connections[i][p])
                return VT_INTERNAL;
    return m->msgs_in && m->latency && m->cells && m->presence_expired ? VT_OK : VT_INTERNAL;
}
