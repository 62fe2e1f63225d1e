/*
 * vt_service.h — the process skeleton shared by venta-user, venta-vendor and
 * venta-location: configuration, logging, /metrics, the gRPC server with one
 * PostgreSQL connection per worker, NATS, per-dependency health, and a graceful stop
 * on SIGTERM.
 *
 *     vt_service *svc;
 *     vt_service_new(&opts, &svc, err, sizeof err); // first thing in main(): dies on bad config
 *     ... register methods on svc->rpc, start app threads ...
 *     vt_service_run(svc);                      // serves until SIGTERM/SIGINT, then drains
 *     ... stop app threads ...
 *     vt_service_free(svc);
 *
 * Domain events (opts.outbox_table): handlers write them with vt_outbox_put inside
 * their transaction and kick svc->outbox after the commit; the relay publishes them.
 *
 * Methods: vt_service_add_methods registers a method table on svc->rpc with every call
 * counted in <name>_calls_total{method,code} and timed in <name>_call_seconds{method}
 * (<name> is opts.name with '_' for '-': venta_vendor_calls_total). Handlers answer a
 * failed database call with vt_service_db_error, the same way in every service.
 *
 * mTLS (docs/security.md): with VENTA_TLS_CA, VENTA_TLS_CERT and VENTA_TLS_KEY set, the
 * server requires a certificate of the mesh CA from every caller and answers each call
 * by vt_service_mesh_allow; svc->tls then serves the service's own channels to others.
 * Without them it serves plaintext and says so once in the log. With VENTA_NATS_USER and
 * VENTA_NATS_PASSWORD it logs in to NATS as that user (docs/security.md, "NATS users").
 *
 * Readiness without a client certificate: GET /readyz on the metrics port answers 200
 * exactly while grpc.health.v1 reports "" SERVING, else 503 (for Kubernetes' readiness
 * probe when mTLS is on: the native gRPC probe cannot present a certificate).
 *
 * Health: "postgres" follows a ping on a connection of the service's own every two
 * seconds, "nats" follows the NATS connection, "jetstream" is up once the stream of
 * domain events exists and every JetStream consumer made on svc->bus is attached
 * (vt_bus_jetstream_ready); while any is down grpc.health.v1 reports NOT_SERVING, so
 * Kubernetes takes the pod out of rotation until it recovers.
 */
#ifndef VT_SERVICE_H
#define VT_SERVICE_H

#include "vt_bus.h"
#include "vt_core.h"
#include "vt_db.h"
#include "vt_events.h"
#include "vt_metrics.h"
#include "vt_outbox.h"
#include "vt_rpc.h"

#include <pthread.h>
#include <stdatomic.h>

typedef struct {
    const char *name;            /* "venta-location": logs, NATS connection name, metric prefix */
    const char *addr_var;        /* "VENTA_LOCATION_ADDR" */
    const char *addr_default;    /* "127.0.0.1:50053" */
    const char *metrics_default; /* "127.0.0.1:9103" */
    const vt_db_statement *statements; /* prepared on every worker connection */
    size_t nstatements;
    /* The service's outbox table ("account.outbox"), or NULL. With one, every worker
     * connection can vt_outbox_put, and a relay (svc->outbox) publishes the rows. */
    const char *outbox_table;
    /* Largest gRPC request and response, bytes; 0: VT_RPC_DEFAULT_MAX_MESSAGE. Raise it
     * only for a service whose methods carry large payloads (venta-vendor's images). */
    size_t max_message_bytes;
} vt_service_opts;

/* A method added through vt_service_add_methods: its handler and metric handles. */
typedef struct vt_service_method vt_service_method;

typedef struct {
    /* Read from the environment by vt_service_new. */
    const char *database_url; /* VENTA_DATABASE_URL */
    const char *nats_url;     /* VENTA_NATS_URL */
    /* VENTA_NATS_USER, VENTA_NATS_PASSWORD (docs/security.md); NULL: no login */
    const char *nats_user, *nats_password;
    vt_addr addr;             /* opts->addr_var */
    vt_addr metrics_addr;     /* VENTA_METRICS_ADDR */
    int threads;              /* VENTA_RPC_THREADS, default 4 */
    int max_connection_age_s; /* VENTA_RPC_MAX_CONNECTION_AGE_S, default 300, 0: never */
    int grace_ms;             /* VENTA_SHUTDOWN_GRACE_MS, default 10000 */
    /* The stream of domain events (vt_events_stream, VENTA_EVENTS_REPLICAS): the relay
     * publishes to it, the service's consumers read it. */
    vt_bus_stream_opts events;
    const vt_rpc_tls *tls; /* VENTA_TLS_*: for channels to other services; NULL: off */

    vt_metrics *metrics;
    vt_rpc_server *rpc; /* add methods before vt_service_run */
    vt_bus *bus;
    vt_db_pool *db;          /* worker i's connection is vt_rpc_ctx_worker(ctx) */
    vt_outbox_relay *outbox; /* opts->outbox_table's relay: kick it after a commit */

    /* private */
    vt_rpc_tls tls_files;
    vt_db_statement *statements; /* opts's, plus the outbox's */
    char outbox_sql[160];
    vt_service_opts opts; /* a copy; the strings and statements it points to are static */
    vt_service_method *methods;
    vt_metrics_server *metrics_server;
    pthread_t health_thread;
    atomic_bool stopping;
    atomic_bool rpc_made; /* svc->rpc may be read by the /readyz thread */
    int port;
} vt_service;

/* Reads configuration (exits 2 naming a bad variable), blocks SIGTERM/SIGINT for every
 * thread, starts /metrics, creates the gRPC server, the worker connections and the NATS
 * connection. A process skeleton: like every entry point of the mesh it exits 1 with a
 * log line when a dependency cannot start, rather than return. Returns 0 with *out set,
 * or VT_INVALID_ARGUMENT (no opts or name) / VT_RESOURCE_EXHAUSTED with err. */
int vt_service_new(const vt_service_opts *opts, vt_service **out, char *err, size_t errlen);
/* Listens, serves, waits for SIGTERM or SIGINT, then shuts the gRPC server down
 * gracefully. Returns 0, or 1 when the address cannot be bound. */
int vt_service_run(vt_service *svc);
/* Before vt_service_run: adds every method of table (terminated by an entry whose
 * method is NULL) to svc->rpc as vt_rpc_server_add_service does (flags kept; an entry's
 * own user pointer, else user, goes to its handler), and counts and times its calls:
 * <name>_calls_total{method,code} "<Service> calls by method and status code." (the
 * code the handler returned; the OK series exists from the start, another from its
 * first call) and <name>_call_seconds{method} "<Service> call latency, every outcome.",
 * where <Service> is desc->short_name. A call costs two clock reads and lock-free
 * updates of a counter and a histogram: nothing is allocated or formatted, except once
 * per method for a code's first call. Returns 0, VT_INTERNAL when a metric cannot be
 * registered, or what vt_rpc_server_add_service returns. */
int vt_service_add_methods(vt_service *svc, const ProtobufCServiceDescriptor *desc,
                           const vt_rpc_method_entry *table, void *user);

/* The code a client gets for a failed database call (a libs/db status, see
 * vt_db_status_from_sqlstate): UNAVAILABLE (connection lost or refused, 08xxx, 57Pxx,
 * 53300) and ABORTED (serialization failure or deadlock, 40001, 40P01) stay, so the
 * client retries; INVALID_ARGUMENT (data exception 22xxx, 23502, 23514) stays; anything
 * else is INTERNAL. */
int vt_service_db_code(int db_status);
/* Answers a handler's failed database call: logs store, rc and err (PostgreSQL's text)
 * as a warning under the call's ids, sets a message naming store but not PostgreSQL's
 * text, and returns vt_service_db_code(rc):
 *     return vt_service_db_error(ctx, "vendor store", rc, err); */
int vt_service_db_error(vt_rpc_ctx *ctx, const char *store, int rc, const char *err);

/* Who may call what in the mesh, by method and caller (rows of vt_rpc_allow, the last
 * one all NULL): the allow-list of every service when mTLS is on. */
extern const vt_rpc_allow vt_service_mesh_allow[];

/* Drains NATS, stops /metrics and the health thread, frees everything. NULL is a
 * no-op. */
void vt_service_free(vt_service *svc);

#endif
