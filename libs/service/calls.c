/*
 * calls.c — every method a service registers is counted and timed here, so that
 * `<service>_calls_total{method,code}` and `<service>_call_seconds{method}` mean the same
 * thing in every service and no handler file carries its own copy of the plumbing.
 *
 * How: vt_service_add_methods hands libs/rpc a wrapper (counted) for each method, with
 * a small record of the method's own handler and its metric handles as the wrapper's
 * user pointer. libs/rpc runs the wrapper exactly where it ran the handler, on the same
 * worker and under the same VT_RPC_NONBLOCKING flag, so the turn and the held writes
 * see no difference (the wrapper itself never blocks: two clock reads, a counter and a
 * histogram, all lock-free atomics).
 *
 * Hot path: the histogram and the OK counter are resolved when the method is added; a
 * call only loads a handle and adds. Another code's counter is resolved the first time
 * that code occurs (one label string and a registry lookup, once per method and code,
 * never again), not at registration: registering all seventeen codes up front would put
 * sixteen always-zero series per method on /metrics, which the services never exposed.
 * Two workers resolving the same pair at once get the same handle from the registry.
 *
 * The code counted is what the handler returned (an out-of-range one counts as UNKNOWN,
 * as libs/rpc answers it); calls libs/rpc refuses before any handler runs (an
 * undecodable request) are not counted, as they never were.
 */
#include "service_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vt_service_method {
    vt_service_method *next; /* the service's list, freed by vt_service_free */
    vt_rpc_handler handler;
    void *user;
    vt_metrics *metrics;
    char *method; /* the method's short name, for labels resolved later */
    char calls_name[96], calls_help[160];
    vt_histogram *seconds;
    _Atomic(vt_counter *) calls[VT_STATUS_COUNT];
};

static vt_counter *resolve(vt_service_method *m, int code)
{
    char labels[128];
    snprintf(labels, sizeof labels, "method=\"%s\",code=\"%s\"", m->method, vt_status_name(code));
    vt_counter *c = vt_metrics_counter(m->metrics, m->calls_name, m->calls_help, labels);
    atomic_store_explicit(&m->calls[code], c, memory_order_release);
    return c;
}

static int counted(vt_rpc_ctx *ctx, const ProtobufCMessage *in, ProtobufCMessage *out, void *user)
{
    vt_service_method *m = user;
    int64_t t0 = vt_monotonic_ns();
    int code = m->handler(ctx, in, out, m->user);
    int label = code >= 0 && code < VT_STATUS_COUNT ? code : VT_UNKNOWN;
    vt_counter *c = atomic_load_explicit(&m->calls[label], memory_order_acquire);
    vt_counter_inc(c ? c : resolve(m, label));
    vt_histogram_observe(m->seconds, (double)(vt_monotonic_ns() - t0) / 1e9);
    return code;
}

/* "venta-user" → "venta_user": the process name is the metric prefix, so that two
 * services never share a metric name. */
static void metric_name(char *out, size_t outlen, const char *service, const char *suffix)
{
    size_t n = 0;
    for (const char *p = service; *p && n + 1 < outlen; p++)
        out[n++] = *p == '-' ? '_' : *p;
    snprintf(out + n, outlen - n, "_%s", suffix);
}

static vt_service_method *method_new(vt_service *svc, const ProtobufCServiceDescriptor *desc,
                                     const vt_rpc_method_entry *e, void *user)
{
    vt_service_method *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->handler = e->handler;
    m->user = user;
    m->metrics = svc->metrics;
    m->method = strdup(e->method);
    metric_name(m->calls_name, sizeof m->calls_name, svc->opts.name, "calls_total");
    snprintf(m->calls_help, sizeof m->calls_help, "%s calls by method and status code.",
             desc->short_name);
    char name[96], help[160], labels[128];
    metric_name(name, sizeof name, svc->opts.name, "call_seconds");
    snprintf(help, sizeof help, "%s call latency, every outcome.", desc->short_name);
    snprintf(labels, sizeof labels, "method=\"%s\"", e->method);
    m->seconds = vt_metrics_histogram(svc->metrics, name, help, labels, vt_metrics_latency_bounds,
                                      vt_metrics_latency_nbounds);
    for (int c = 0; c < VT_STATUS_COUNT; c++)
        atomic_init(&m->calls[c], NULL);
    /* OK exists from the start, so that dashboards see zeros, not gaps. */
    if (!m->method || !m->seconds || !resolve(m, VT_OK)) {
        free(m->method);
        free(m);
        return NULL;
    }
    return m;
}

int vt_service_add_methods(vt_service *svc, const ProtobufCServiceDescriptor *desc,
                           const vt_rpc_method_entry *table, void *user)
{
    size_t n = 0;
    while (table[n].method)
        n++;
    /* The same table with the wrapper in each entry and the method's record as its own
     * user pointer; libs/rpc keeps what it needs, so this copy goes after the call. */
    vt_rpc_method_entry *wrapped = calloc(n + 1, sizeof *wrapped);
    if (!wrapped)
        return VT_RESOURCE_EXHAUSTED;
    int rc = VT_OK;
    for (size_t i = 0; i < n; i++) {
        vt_service_method *m =
            method_new(svc, desc, &table[i], table[i].user ? table[i].user : user);
        if (!m) {
            rc = VT_INTERNAL;
            break;
        }
        m->next = svc->methods;
        svc->methods = m;
        wrapped[i] = (vt_rpc_method_entry){table[i].method, counted, table[i].flags, m};
    }
    if (rc == VT_OK)
        rc = vt_rpc_server_add_service(svc->rpc, desc, wrapped, NULL);
    free(wrapped);
    return rc;
}

void service_methods_free(vt_service_method *list)
{
    while (list) {
        vt_service_method *next = list->next;
        free(list->method);
        free(list);
        list = next;
    }
}
