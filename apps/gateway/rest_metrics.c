/*
 * rest_metrics.c — what the gateway counts, served on its own GET /metrics:
 *
 *   venta_gateway_requests_total{route,status}        every response
 *   venta_gateway_request_duration_seconds{route}     headers-in to response queued
 *   venta_gateway_upstream_errors_total{upstream,code} non-OK gRPC replies
 *   venta_gateway_ratelimited_total{scope}            429s by window (ip, user)
 *   venta_gateway_ratelimit_failopen_total            requests let through, Redis away
 *   venta_gateway_auth_failures_total                 401s on API routes
 *   venta_gateway_webhooks_total{provider,outcome}    webhook outcomes
 *   venta_gateway_upload_bodies                       upload slots in use (VENTA_HTTP_MAX_UPLOADS)
 *
 * The route label is the template ("GET /api/v1/vendors/{id}"), never the raw path, so
 * the series count is bounded; unmatched requests go to route="unmatched". Handles are
 * looked up once per (route, status) and cached: the hot path is an atomic add.
 */
#include "rest_metrics.h"

#include "rest_app.h"
#include "vt_core.h"
#include "vt_kv.h"
#include "vt_rpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATUS_SLOTS 600

struct rest_metrics {
    vt_metrics *reg;
    int nroutes;
    vt_counter **requests; /* [(nroutes + 1) * STATUS_SLOTS] */
    vt_histogram **latency;
    vt_counter *upstream[REST_UP_COUNT][VT_STATUS_COUNT];
    vt_counter *ratelimited[2];
    vt_counter *failopen;
    vt_counter *auth_failures;
    vt_gauge *upload_bodies;
};

static void route_label(int i, int nroutes, char *out, size_t outlen)
{
    if (i < 0 || i >= nroutes)
        snprintf(out, outlen, "route=\"unmatched\"");
    else
        snprintf(out, outlen, "route=\"%s %s\"", rest_method_name(rest_routes[i].method),
                 rest_routes[i].path);
}

rest_metrics *rest_metrics_new(vt_metrics *reg)
{
    rest_metrics *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->reg = reg;
    m->nroutes = rest_nroutes;
    m->requests = calloc((size_t)(m->nroutes + 1) * STATUS_SLOTS, sizeof *m->requests);
    m->latency = calloc((size_t)(m->nroutes + 1), sizeof *m->latency);
    if (!m->requests || !m->latency) {
        rest_metrics_free(m);
        return NULL;
    }
    char labels[256];
    for (int i = 0; i <= m->nroutes; i++) {
        route_label(i, m->nroutes, labels, sizeof labels);
        m->latency[i] =
            vt_metrics_histogram(reg, "venta_gateway_request_duration_seconds",
                                 "Time from request headers to response, by route", labels,
                                 vt_metrics_latency_bounds, vt_metrics_latency_nbounds);
    }
    m->ratelimited[0] = vt_metrics_counter(reg, "venta_gateway_ratelimited_total",
                                           "Requests refused by a rate limit", "scope=\"ip\"");
    m->ratelimited[1] = vt_metrics_counter(reg, "venta_gateway_ratelimited_total",
                                           "Requests refused by a rate limit", "scope=\"user\"");
    m->failopen = vt_metrics_counter(reg, "venta_gateway_ratelimit_failopen_total",
                                     "Requests let through unchecked because Redis was away", NULL);
    m->auth_failures = vt_metrics_counter(reg, "venta_gateway_auth_failures_total",
                                          "API requests refused for a missing or bad token", NULL);
    m->upload_bodies =
        vt_metrics_gauge(reg, "venta_gateway_upload_bodies",
                         "Upload bodies over 64 KiB held now (VENTA_HTTP_MAX_UPLOADS)", NULL);
    return m;
}

void rest_metrics_free(rest_metrics *m)
{
    if (!m)
        return;
    free(m->requests);
    free(m->latency);
    free(m);
}

void rest_metrics_request(rest_metrics *m, int route_index, int status, double seconds)
{
    if (!m)
        return;
    int r = route_index < 0 || route_index >= m->nroutes ? m->nroutes : route_index;
    if (status < 0 || status >= STATUS_SLOTS)
        status = 0;
    vt_counter **slot = &m->requests[r * STATUS_SLOTS + status];
    if (!*slot) {
        char labels[300], rl[256];
        route_label(r, m->nroutes, rl, sizeof rl);
        snprintf(labels, sizeof labels, "%s,status=\"%d\"", rl, status);
        *slot = vt_metrics_counter(m->reg, "venta_gateway_requests_total",
                                   "HTTP responses by route and status", labels);
    }
    if (*slot)
        vt_counter_inc(*slot);
    if (m->latency[r])
        vt_histogram_observe(m->latency[r], seconds);
}

void rest_metrics_upstream_error(rest_metrics *m, rest_upstream up, int code)
{
    if (!m || up >= REST_UP_COUNT)
        return;
    if (code < 0 || code >= VT_STATUS_COUNT)
        code = VT_UNKNOWN;
    vt_counter **slot = &m->upstream[up][code];
    if (!*slot) {
        char labels[128];
        snprintf(labels, sizeof labels, "upstream=\"%s\",code=\"%s\"", rest_upstream_name(up),
                 vt_status_name(code));
        *slot = vt_metrics_counter(m->reg, "venta_gateway_upstream_errors_total",
                                   "Non-OK gRPC replies by upstream and code", labels);
    }
    if (*slot)
        vt_counter_inc(*slot);
}

void rest_metrics_ratelimit_failopen(rest_metrics *m)
{
    if (m && m->failopen)
        vt_counter_inc(m->failopen);
}

void rest_metrics_ratelimited(rest_metrics *m, bool user)
{
    if (m && m->ratelimited[user])
        vt_counter_inc(m->ratelimited[user]);
}

void rest_metrics_auth_failure(rest_metrics *m)
{
    if (m && m->auth_failures)
        vt_counter_inc(m->auth_failures);
}

void rest_metrics_webhook(rest_metrics *m, const char *provider, const char *outcome)
{
    if (!m)
        return;
    char labels[128];
    snprintf(labels, sizeof labels, "provider=\"%s\",outcome=\"%s\"", provider, outcome);
    vt_counter *c = vt_metrics_counter(m->reg, "venta_gateway_webhooks_total",
                                       "Webhook deliveries by provider and outcome", labels);
    if (c)
        vt_counter_inc(c);
}

void rest_metrics_upload_bodies(rest_metrics *m, int held)
{
    if (m && m->upload_bodies)
        vt_gauge_set(m->upload_bodies, held);
}

/* ---- readiness (deploy/k8s/monitoring) ---- */

/* An upstream counts as reached unless its channel's last attempt failed: an idle
 * channel is fine (it connects on the next call). Never read while draining: the
 * channels go away then. */
static bool upstream_up(rest_app *app, rest_upstream up)
{
    if (app->draining || !app->up[up])
        return false;
    const char *st = vt_rpc_channel_state(app->up[up]);
    return strcmp(st, "unavailable") != 0 && strcmp(st, "shutdown") != 0;
}

static double user_up(void *app)
{
    return upstream_up(app, REST_UP_USER);
}
static double vendor_up(void *app)
{
    return upstream_up(app, REST_UP_VENDOR);
}
static double location_up(void *app)
{
    return upstream_up(app, REST_UP_LOCATION);
}
static double redis_up(void *p)
{
    rest_app *app = p;
    return !app->draining && app->kv && vt_kv_connected(app->kv);
}
/* Ready: every upstream reached and not draining (Redis only limits rates: it fails
 * open, so it does not take the gateway out of rotation). */
static double ready_now(void *p)
{
    rest_app *app = p;
    for (int up = 0; up < REST_UP_COUNT; up++)
        if (!upstream_up(app, (rest_upstream)up))
            return 0;
    return 1;
}

void rest_metrics_readiness(vt_metrics *reg, rest_app *app)
{
    vt_metrics_gauge_fn(reg, "venta_ready", VT_METRICS_READY_HELP, NULL, ready_now, app);
    static const struct {
        const char *labels;
        double (*fn)(void *);
    } deps[] = {{"dependency=\"user\"", user_up},
                {"dependency=\"vendor\"", vendor_up},
                {"dependency=\"location\"", location_up},
                {"dependency=\"redis\"", redis_up}};
    for (size_t i = 0; i < sizeof deps / sizeof deps[0]; i++)
        vt_metrics_gauge_fn(reg, "venta_dependency_up", VT_METRICS_DEPENDENCY_HELP, deps[i].labels,
                            deps[i].fn, app);
}
