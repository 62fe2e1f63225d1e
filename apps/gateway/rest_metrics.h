/*
 * rest_metrics.h — what the REST gateway counts (rest_metrics.c), served on GET
 * /metrics. Every function accepts a NULL rest_metrics and then does nothing.
 */
#ifndef REST_METRICS_H
#define REST_METRICS_H

#include "rest_routes.h"
#include "vt_metrics.h"

#include <stdbool.h>

typedef struct rest_metrics rest_metrics;

rest_metrics *rest_metrics_new(vt_metrics *reg);
void rest_metrics_free(rest_metrics *m);
/* route_index into rest_routes, or -1 for a request no route matched. */
void rest_metrics_request(rest_metrics *m, int route_index, int status, double seconds);
void rest_metrics_upstream_error(rest_metrics *m, rest_upstream up, int code);
void rest_metrics_ratelimit_failopen(rest_metrics *m);
void rest_metrics_ratelimited(rest_metrics *m, bool user);
void rest_metrics_auth_failure(rest_metrics *m);
void rest_metrics_webhook(rest_metrics *m, const char *provider, const char *outcome);
/* Upload bodies (over 64 KiB) held now: VENTA_HTTP_MAX_UPLOADS' slots in use. */
void rest_metrics_upload_bodies(rest_metrics *m, int held);

/* venta_ready and venta_dependency_up{dependency=user|vendor|location|redis}, read from
 * app at render time (on the loop thread, as /metrics is served). */
struct rest_app;
void rest_metrics_readiness(vt_metrics *reg, struct rest_app *app);

#endif
