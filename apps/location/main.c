/*
 * venta-location — live vendor positions: batched ingest from NATS into PostGIS and
 * the LocationService reads (API.md §5–7).
 *
 * Configuration (besides vt_service's): VENTA_LOCATION_TTL_S (600) how long a stored
 * position counts as live; VENTA_LOCATION_BATCH_MS (50) the ingest flush window;
 * VENTA_LOCATION_PERSIST_MS (5000) each vendor's position is written at most once per
 * this, so a crash loses at most about this much (ingest.h);
 * VENTA_LOCATION_BUFFER (200000) vendors buffered (keep it above the vendors heard within
 * one persist interval, and for PostgreSQL being slow or down);
 * VENTA_LOCATION_WRITERS (2) parallel writer connections, vendors sharded by id;
 * VENTA_PRESENCE_TTL_S (30, the WebSocket edge's) a vendor counts as online only with a
 * position this recent; VENTA_LOCATION_LIVE_MAP (true) serve reads from memory (live.h);
 * false reads the table every time.
 */
#include "deletions.h"
#include "handlers.h"
#include "ingest.h"
#include "store.h"
#include "vt_service.h"

static void on_database(bool up, void *user)
{
    (void)user;
    vt_log(up ? VT_LOG_INFO : VT_LOG_WARN, NULL, "ingest: database %s",
           up ? "writable" : "unavailable, buffering");
}

int main(void)
{
    vt_service_opts spec = {
        .name = "venta-location",
        .addr_var = "VENTA_LOCATION_ADDR",
        .addr_default = "127.0.0.1:50053",
        .metrics_default = "127.0.0.1:9103",
        .statements = store_statements,
    };
    spec.nstatements = store_nstatements;
    vt_service *svc = NULL;
    char err[256];
    if (vt_service_new(&spec, &svc, err, sizeof err) != VT_OK) {
        vt_error(NULL, "%s", err);
        return 1;
    }
    vt_db_pool_set_session_sql(svc->db, store_read_session_sql);
    location_service app = {
        .bus = svc->bus,
        .ttl_s = (int)vt_config_int("VENTA_LOCATION_TTL_S", 600, 1, 30 * 86400),
        .presence_ttl_s = (int)vt_config_int("VENTA_PRESENCE_TTL_S", 30, 1, 86400),
    };
    ingest_opts io = {
        .bus = svc->bus,
        .database_url = svc->database_url,
        .metrics = svc->metrics,
        .capacity = (size_t)vt_config_int("VENTA_LOCATION_BUFFER", 200000, 1000, 50000000),
        .batch_ms = (int)vt_config_int("VENTA_LOCATION_BATCH_MS", 50, 1, 10000),
        .persist_ms = (int)vt_config_int("VENTA_LOCATION_PERSIST_MS", 5000, 0, 600000),
        .writers = (int)vt_config_int("VENTA_LOCATION_WRITERS", 2, 1, 64),
        .on_database = on_database,
    };
    if (location_service_register(&app, svc) != VT_OK) {
        vt_error(NULL, "cannot register LocationService");
        return 1;
    }
    ingest *in = NULL;
    if (ingest_start(&io, &in, err, sizeof err) != VT_OK) {
        vt_error(NULL, "ingest: %s", err);
        return 1;
    }
    live_opts lo = {
        .bus = svc->bus,
        .database_url = svc->database_url,
        .metrics = svc->metrics,
        .stream = &svc->events,
        .ttl_s = app.ttl_s,
        /* A reload must find in the table what the map held before it began. */
        .settle_ms = io.persist_ms + 2 * io.batch_ms + 100,
    };
    if (vt_config_bool("VENTA_LOCATION_LIVE_MAP", true) &&
        live_start(&lo, &app.live, err, sizeof err) != VT_OK) {
        vt_error(NULL, "live map: %s", err);
        return 1;
    }
    deletions_opts dopts = {.bus = svc->bus,
                            .stream = &svc->events,
                            .database_url = svc->database_url,
                            .metrics = svc->metrics};
    deletions *removals = NULL;
    if (deletions_start(&dopts, &removals, err, sizeof err) != VT_OK) {
        vt_error(NULL, "deletions: %s", err);
        return 1;
    }
    /* How long the final flush on SIGTERM may take (draining the subscriptions, then
     * writing, retrying while the database is away): keep it inside the grace period
     * Kubernetes gives after SIGTERM. */
    int flush_ms = (int)vt_config_int("VENTA_LOCATION_FLUSH_MS", 5000, 0, 600000);
    int rc = vt_service_run(svc);
    deletions_stop(removals);
    live_stop(app.live);
    ingest_stop(in, flush_ms); /* write what is buffered before NATS drains */
    vt_service_free(svc);
    return rc;
}
