/*
 * ws_metrics.h — the Prometheus series of venta-ws-gateway (ws_metrics.c), served on
 * /metrics. Counters are bumped by the modules that see the events; the queue depths
 * are read at render time.
 */
#ifndef VENTA_WS_METRICS_H
#define VENTA_WS_METRICS_H

#include "conn.h"
#include "vt_metrics.h"

typedef struct {
    vt_gauge *connections[ROLE_COUNT][PROTO_COUNT]; /* role × protocol */
    vt_counter *msgs_in, *msgs_out, *frames_out, *bytes_out;
    vt_counter *coalesced, *dropped_stale, *dropped_echo, *dropped_closed, *dropped_nats,
        *dropped_rate;
    vt_counter *slow_closes, *nats_in, *published, *publish_coalesced, *auth_failures;
    vt_counter *closes_policy, *closes_too_big, *errors_sent, *snapshots, *presence_expired;
    vt_gauge *cells, *vendor_subs;
    vt_histogram *latency;
} ws_metrics;

/* Register every series in g->reg, filling g->m. */
int ws_metrics_init(ws_gateway *g);

#endif
