/*
 * vt_metrics.h — Prometheus metrics: a registry of counters, gauges and histograms,
 * rendered in the text exposition format, and a small /metrics HTTP server for the
 * gRPC services (the gateways serve the same text on their own HTTP port).
 *
 * Registration takes a lock and returns a handle that lives as long as the registry;
 * updates through the handle are lock-free atomics, cheap enough for hot paths on any
 * thread. A name may be registered with several label sets (one series each); asking
 * again for the same name and labels returns the same handle.
 */
#ifndef VT_METRICS_H
#define VT_METRICS_H

#include "vt_core.h"

#include <stddef.h>
#include <stdint.h>

typedef struct vt_metrics vt_metrics;
typedef struct vt_counter vt_counter;
typedef struct vt_gauge vt_gauge;
typedef struct vt_histogram vt_histogram;
typedef struct vt_metrics_server vt_metrics_server;

/* The one constructor of the mesh without options: a registry has nothing to
 * configure (what it holds is registered afterwards) and C has no empty struct, so it
 * takes none, and out of memory is its only failure (NULL). */
vt_metrics *vt_metrics_new(void);
void vt_metrics_free(vt_metrics *reg);

/* labels: NULL or Prometheus label text without braces, e.g. `route="/x",code="200"`.
 * Return NULL only when memory runs out or the name/type clashes with an earlier one. */
vt_counter *vt_metrics_counter(vt_metrics *reg, const char *name, const char *help,
                               const char *labels);
vt_gauge *vt_metrics_gauge(vt_metrics *reg, const char *name, const char *help, const char *labels);
/* bounds: ascending upper bounds (the +Inf bucket is implicit), at most 32. */
vt_histogram *vt_metrics_histogram(vt_metrics *reg, const char *name, const char *help,
                                   const char *labels, const double *bounds, size_t nbounds);
/* A gauge whose value is read from fn at render time (queue depths, pool sizes). */
int vt_metrics_gauge_fn(vt_metrics *reg, const char *name, const char *help, const char *labels,
                        double (*fn)(void *user), void *user);
/* Stop calling the functions registered with user (they read 0 from now on): call it
 * before freeing what they read, since /metrics may be served until the process ends. */
void vt_metrics_gauge_fn_detach(vt_metrics *reg, const void *user);

/* Every process exports venta_ready (1 while it would pass its readiness check) and
 * venta_dependency_up{dependency="..."} (1 while it reaches that dependency), with these
 * help texts, for the alert rules in deploy/k8s/monitoring. */
#define VT_METRICS_READY_HELP "1 while this process is ready to serve (its readiness check)"
#define VT_METRICS_DEPENDENCY_HELP "1 while this process reaches the dependency"

/* Latency buckets in seconds from 0.1 ms to 10 s, for request histograms. */
extern const double vt_metrics_latency_bounds[];
extern const size_t vt_metrics_latency_nbounds;

void vt_counter_add(vt_counter *c, uint64_t n);
static inline void vt_counter_inc(vt_counter *c)
{
    vt_counter_add(c, 1);
}
uint64_t vt_counter_value(const vt_counter *c);
void vt_gauge_set(vt_gauge *g, double v);
void vt_gauge_add(vt_gauge *g, double delta);
double vt_gauge_value(const vt_gauge *g);
void vt_histogram_observe(vt_histogram *h, double v);
uint64_t vt_histogram_count(const vt_histogram *h);

/* The whole registry as Prometheus text; the caller frees *out. Returns its length. */
size_t vt_metrics_render(vt_metrics *reg, char **out);

typedef struct {
    vt_metrics *reg; /* required; borrowed, must outlive the server */
    vt_addr addr;    /* where to listen; port 0 picks a free one */
    /* Optional: GET /readyz answers 200 while ready(ready_user) is true, else 503 (404
     * without it). Runs on the server's thread. For a readiness probe that cannot
     * reach the service itself (a gRPC port that requires client certificates). */
    bool (*ready)(void *user);
    void *ready_user;
} vt_metrics_server_opts;

/* A server that serves GET /metrics (and GET /healthz → ok) from a thread of its own
 * once started. 0 with *out set, VT_INVALID_ARGUMENT without a registry, or
 * VT_RESOURCE_EXHAUSTED, the reason in err. */
int vt_metrics_server_new(const vt_metrics_server_opts *opts, vt_metrics_server **out, char *err,
                          size_t errlen);
/* Listen and start the thread. 0, VT_INVALID_ARGUMENT (bad address), VT_UNAVAILABLE
 * (cannot listen) or VT_RESOURCE_EXHAUSTED, the reason in err. */
int vt_metrics_server_start(vt_metrics_server *srv, char *err, size_t errlen);
/* The port actually bound (useful when addr asked for port 0 in tests). */
int vt_metrics_server_port(const vt_metrics_server *srv);
/* Stop the thread and close the socket; a server not running is left alone. */
void vt_metrics_server_stop(vt_metrics_server *srv);
/* Stop it if running, then free it. NULL is a no-op. */
void vt_metrics_server_free(vt_metrics_server *srv);

#endif
