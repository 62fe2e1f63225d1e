/*
 * service.c — see vt_service.h.
 *
 * Signals: SIGTERM and SIGINT are blocked before any thread exists, so every thread
 * inherits the mask and the main thread alone receives them, synchronously, in
 * sigwait(); no async-signal-safety puzzles, and a stop is an ordinary code path.
 */
#include "service_internal.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *worker_conn(int index, void *arg)
{
    return vt_db_pool_conn(((vt_service *)arg)->db, (size_t)index);
}

static void on_nats(bool up, void *user)
{
    vt_service *svc = user;
    vt_rpc_health_set_dependency(svc->rpc, "nats", up);
}

/* Pings PostgreSQL every two seconds on a connection of its own, and reads the
 * JetStream readiness of the bus ten times as often (an atomic read). */
static void *health_main(void *arg)
{
    vt_service *svc = arg;
    static const vt_db_statement ping[] = {{"health_ping", "SELECT 1"}};
    vt_db_conn_opts db = {.url = svc->database_url, .statements = ping, .statement_count = 1};
    vt_db_conn *conn = NULL;
    char why[256];
    if (vt_db_conn_new(&db, &conn, why, sizeof why) != VT_OK) {
        vt_error(NULL, "database health: %s", why);
        return NULL;
    }
    bool last = false, first = true, js_last = false;
    while (!atomic_load(&svc->stopping)) {
        char err[256];
        PGresult *res = NULL;
        bool up = vt_db_query(conn, "health_ping", 0, NULL, &res, err, sizeof err) == VT_OK;
        PQclear(res);
        if (up != last || first) {
            vt_rpc_health_set_dependency(svc->rpc, "postgres", up);
            if (up)
                vt_info(NULL, "postgres: reachable");
            else
                vt_warn(NULL, "postgres: unreachable (%s)", err);
            last = up;
            first = false;
        }
        for (int i = 0; i < 20 && !atomic_load(&svc->stopping); i++) {
            bool js = vt_bus_jetstream_ready(svc->bus);
            if (js != js_last) {
                vt_rpc_health_set_dependency(svc->rpc, "jetstream", js);
                js_last = js;
            }
            usleep(100000);
        }
    }
    vt_db_conn_free(conn);
    return NULL;
}

/* Readiness as Prometheus sees it (deploy/k8s/monitoring): venta_ready is what the
 * gRPC health check answers for the whole server, venta_dependency_up each dependency. */
static double health_is(vt_service *svc, const char *name)
{
    return vt_rpc_health_get(svc->rpc, name) == VT_RPC_HEALTH_SERVING;
}
static double ready_now(void *svc)
{
    return health_is(svc, "");
}
static double nats_up(void *svc)
{
    return health_is(svc, "nats");
}
static double postgres_up(void *svc)
{
    return health_is(svc, "postgres");
}
static double jetstream_up(void *svc)
{
    return health_is(svc, "jetstream");
}

/* GET /readyz on the metrics port, from its thread: what Health/Check of "" says. The
 * metrics server starts before svc->rpc exists. */
static bool rpc_serving(void *user)
{
    vt_service *svc = user;
    return atomic_load(&svc->rpc_made) && health_is(svc, "") != 0;
}

static void die(const char *what, const char *err)
{
    vt_error(NULL, "%s: %s", what, err);
    exit(1);
}

int vt_service_new(const vt_service_opts *opts, vt_service **out, char *errbuf, size_t errlen)
{
    if (!opts || !opts->name) {
        snprintf(errbuf, errlen, "a service needs a name");
        return VT_INVALID_ARGUMENT;
    }
    vt_service *svc = calloc(1, sizeof *svc);
    if (!svc) {
        snprintf(errbuf, errlen, "out of memory");
        return VT_RESOURCE_EXHAUSTED;
    }
    svc->opts = *opts;
    const vt_service_opts *spec = &svc->opts;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    vt_log_init_from_env(spec->name);
    svc->database_url = vt_db_url_from_env();
    svc->nats_url = vt_config_require("VENTA_NATS_URL");
    char err[512];
    if (vt_bus_urls_valid(svc->nats_url, err, sizeof err) != VT_OK)
        vt_config_fail("VENTA_NATS_URL", err);
    vt_bus_login_from_env(&svc->nats_user, &svc->nats_password);
    svc->addr = vt_config_addr(spec->addr_var, spec->addr_default);
    svc->metrics_addr = vt_config_addr("VENTA_METRICS_ADDR", spec->metrics_default);
    svc->threads = (int)vt_config_int("VENTA_RPC_THREADS", 4, 1, 256);
    svc->grace_ms = (int)vt_config_int("VENTA_SHUTDOWN_GRACE_MS", 10000, 0, 600000);
    svc->max_connection_age_s =
        (int)vt_config_int("VENTA_RPC_MAX_CONNECTION_AGE_S", 300, 0, 7 * 86400);
    svc->events = vt_events_stream((int)vt_config_int("VENTA_EVENTS_REPLICAS", 1, 1, 5));
    if (vt_rpc_tls_from_env(spec->name, &svc->tls_files))
        svc->tls = &svc->tls_files;

    svc->metrics = vt_metrics_new();
    if (!svc->metrics)
        die("metrics", "out of memory");
    vt_metrics_server_opts mo = {
        .reg = svc->metrics, .addr = svc->metrics_addr, .ready = rpc_serving, .ready_user = svc};
    if (vt_metrics_server_new(&mo, &svc->metrics_server, err, sizeof err) != VT_OK ||
        vt_metrics_server_start(svc->metrics_server, err, sizeof err) != VT_OK)
        die("metrics", err);
    size_t nstatements = spec->nstatements;
    svc->statements = calloc(nstatements + 1, sizeof *svc->statements);
    if (!svc->statements)
        die("database", "out of memory");
    memcpy(svc->statements, spec->statements, nstatements * sizeof *svc->statements);
    if (spec->outbox_table &&
        vt_outbox_put_statement(spec->outbox_table, svc->outbox_sql, sizeof svc->outbox_sql,
                                &svc->statements[nstatements++]) != VT_OK)
        die("outbox", "bad outbox table name");
    vt_db_pool_opts pool = {.conn = {.url = svc->database_url,
                                     .statements = svc->statements,
                                     .statement_count = nstatements},
                            .size = (size_t)svc->threads};
    if (vt_db_pool_new(&pool, &svc->db, err, sizeof err) != VT_OK)
        die("database", err);
    vt_rpc_server_opts rpc_opts = {.threads = svc->threads,
                                   .max_connection_age_ms = svc->max_connection_age_s * 1000,
                                   .max_message_bytes = spec->max_message_bytes,
                                   .worker_init = worker_conn,
                                   .worker_arg = svc,
                                   .tls = svc->tls,
                                   .allow = vt_service_mesh_allow};
    if (vt_rpc_server_new(&rpc_opts, &svc->rpc, err, sizeof err) != VT_OK)
        die("grpc", err);
    vt_rpc_health_set_dependency(svc->rpc, "postgres", false);
    vt_rpc_health_set_dependency(svc->rpc, "nats", false);
    vt_rpc_health_set_dependency(svc->rpc, "jetstream", false);
    vt_metrics_gauge_fn(svc->metrics, "venta_ready", VT_METRICS_READY_HELP, NULL, ready_now, svc);
    vt_metrics_gauge_fn(svc->metrics, "venta_dependency_up", VT_METRICS_DEPENDENCY_HELP,
                        "dependency=\"nats\"", nats_up, svc);
    vt_metrics_gauge_fn(svc->metrics, "venta_dependency_up", VT_METRICS_DEPENDENCY_HELP,
                        "dependency=\"postgres\"", postgres_up, svc);
    vt_metrics_gauge_fn(svc->metrics, "venta_dependency_up", VT_METRICS_DEPENDENCY_HELP,
                        "dependency=\"jetstream\"", jetstream_up, svc);
    atomic_store(&svc->rpc_made, true);
    vt_bus_opts bus_opts = {.urls = svc->nats_url,
                            .name = spec->name,
                            .on_state = on_nats,
                            .state_user = svc,
                            .user = svc->nats_user,
                            .password = svc->nats_password};
    if (vt_bus_new(&bus_opts, &svc->bus, err, sizeof err) != VT_OK)
        die("nats", err);
    if (spec->outbox_table) {
        vt_outbox_relay_opts ro = {.database_url = svc->database_url,
                                   .table = spec->outbox_table,
                                   .bus = svc->bus,
                                   .stream = &svc->events,
                                   .metrics = svc->metrics};
        if (vt_outbox_relay_new(&ro, &svc->outbox, err, sizeof err) != VT_OK ||
            vt_outbox_relay_start(svc->outbox, err, sizeof err) != VT_OK)
            die("outbox", err);
    }
    if (pthread_create(&svc->health_thread, NULL, health_main, svc) != 0)
        die("health", "cannot start the health thread");
    *out = svc;
    return VT_OK;
}

int vt_service_run(vt_service *svc)
{
    char listen[300];
    snprintf(listen, sizeof listen, "%s%s%s:%u", strchr(svc->addr.host, ':') ? "[" : "",
             svc->addr.host, strchr(svc->addr.host, ':') ? "]" : "", svc->addr.port);
    if (vt_rpc_server_listen(svc->rpc, listen, &svc->port) != VT_OK) {
        vt_error(NULL, "cannot listen on %s", listen);
        return 1;
    }
    if (vt_rpc_server_start(svc->rpc) != VT_OK) {
        vt_error(NULL, "cannot start the gRPC server");
        return 1;
    }
    vt_info(NULL, "serving gRPC on %s, metrics on %s:%d", listen, svc->metrics_addr.host,
            vt_metrics_server_port(svc->metrics_server));

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    int sig = 0;
    sigwait(&set, &sig);
    vt_info(NULL, "%s: draining (grace %d ms)", sig == SIGTERM ? "SIGTERM" : "SIGINT",
            svc->grace_ms);
    vt_rpc_server_shutdown(svc->rpc, svc->grace_ms);
    return 0;
}

void vt_service_free(vt_service *svc)
{
    if (!svc)
        return;
    atomic_store(&svc->stopping, true);
    vt_metrics_gauge_fn_detach(svc->metrics, svc); /* /metrics is served a while longer */
    pthread_join(svc->health_thread, NULL);
    /* The server was shut down in vt_service_run, so no handler publishes any more; the
     * bus goes first because its disconnect callback reports to the server's health. */
    vt_outbox_relay_free(svc->outbox); /* publishes what committed, while NATS is here */
    vt_bus_free(svc->bus, 5000);
    vt_bus_library_close();
    vt_metrics_server_free(svc->metrics_server); /* its /readyz reads the server */
    vt_rpc_server_free(svc->rpc); /* joins the workers: nothing uses the pool after this */
    service_methods_free(svc->methods);
    vt_db_pool_free(svc->db);
    free(svc->statements);
    vt_metrics_free(svc->metrics);
    free(svc);
    vt_info(NULL, "stopped");
}
