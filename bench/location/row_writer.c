/*
 * row_writer.c — the baseline of the ingest benchmark: what a straightforward consumer
 * does. It takes loc.> from NATS and writes every message as it comes, one prepared
 * INSERT … ON CONFLICT upsert per update: one round trip and one commit each, no
 * buffering, no coalescing. The row it writes is what venta-location's batch upsert
 * writes (same table, same columns, same "older fix is a no-op" rule), and it decodes
 * and validates like the service does, so only the write strategy differs.
 *
 *   loc-row-writer NATS_URL DB_URL   prints "READY" once subscribed; on SIGTERM/SIGINT
 *                                    prints "received=… rows=… errors=… dropped=…"
 */
#include "venta/events/v1/events.pb-c.h"
#include "vt_bus.h"
#include "vt_core.h"
#include "vt_db.h"
#include "vt_events.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const vt_db_statement statements[] = {
    {"upsert_one",
     "INSERT INTO location.vendor_locations AS l "
     "(vendor_id, position, heading, speed, accuracy, online, reported_at, updated_at) "
     "VALUES ($1::uuid, ST_SetSRID(ST_MakePoint($3::float8, $2::float8), 4326), $4::real, "
     "$5::real, $6::real, true, to_timestamp($7::int8 / 1000.0), now()) "
     "ON CONFLICT (vendor_id) DO UPDATE SET position = EXCLUDED.position, "
     "heading = EXCLUDED.heading, speed = EXCLUDED.speed, accuracy = EXCLUDED.accuracy, "
     "online = true, reported_at = EXCLUDED.reported_at, updated_at = EXCLUDED.updated_at "
     "WHERE l.reported_at <= EXCLUDED.reported_at"},
};

typedef struct {
    vt_db_conn *db; /* used only from the subscription's delivery thread */
    atomic_long received, rows, errors;
} writer;

static void on_location(const char *subject, const void *data, size_t len, void *user)
{
    writer *w = user;
    atomic_fetch_add(&w->received, 1);
    vt_events_position p, *m = &p;
    char err[256];
    if (vt_events_decode_location(subject, data, len, &p) != VT_EVENTS_LOC_POSITION)
        return;
    char v[6][32];
    snprintf(v[0], 32, "%.17g", m->lat);
    snprintf(v[1], 32, "%.17g", m->lng);
    snprintf(v[2], 32, "%.9g", m->heading);
    snprintf(v[3], 32, "%.9g", m->speed);
    snprintf(v[4], 32, "%.9g", m->accuracy);
    snprintf(v[5], 32, "%lld", (long long)m->ts);
    const char *params[7] = {m->vendor_id, v[0], v[1], v[2], v[3], v[4], v[5]};
    PGresult *res = NULL;
    int rc = vt_db_query(w->db, "upsert_one", 7, params, &res, err, sizeof err);
    PQclear(res);
    if (rc == VT_OK)
        atomic_fetch_add(&w->rows, 1);
    else if (atomic_fetch_add(&w->errors, 1) < 5)
        fprintf(stderr, "loc-row-writer: %s\n", err);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: loc-row-writer NATS_URL DB_URL\n");
        return 2;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* before nats.c starts its threads */
    vt_log_init("loc-row-writer", VT_LOG_ERROR);

    static writer w;
    vt_db_conn_opts db = {.url = argv[2], .statements = statements, .statement_count = 1};
    char err[256];
    if (vt_db_conn_new(&db, &w.db, err, sizeof err) != VT_OK ||
        vt_db_conn_ensure(w.db, err, sizeof err) != VT_OK) {
        fprintf(stderr, "loc-row-writer: %s\n", err);
        return 1;
    }
    vt_bus *bus;
    vt_bus_opts bo = {.urls = argv[1], .name = "loc-row-writer"};
    if (vt_bus_new(&bo, &bus, err, sizeof err) != VT_OK) {
        fprintf(stderr, "loc-row-writer: %s\n", err);
        return 1;
    }
    for (int i = 0; i < 200 && !vt_bus_connected(bus); i++)
        usleep(10000);
    vt_bus_sub *sub;
    /* No message limit: a backlog waits in memory rather than being dropped, so the
     * baseline is timed on every update. */
    if (vt_bus_subscribe(bus, VT_EVENTS_LOC_ALL, NULL, 50 * 1000 * 1000, on_location, &w, &sub) !=
            VT_OK ||
        vt_bus_flush(bus, 5000) != VT_OK) {
        fprintf(stderr, "loc-row-writer: cannot subscribe to %s\n", VT_EVENTS_LOC_ALL);
        return 1;
    }
    printf("READY\n");
    fflush(stdout);
    int sig;
    sigwait(&set, &sig);
    long dropped = (long)vt_bus_sub_dropped(sub);
    vt_bus_unsubscribe(sub);
    printf("received=%ld rows=%ld errors=%ld dropped=%ld\n", atomic_load(&w.received),
           atomic_load(&w.rows), atomic_load(&w.errors), dropped);
    fflush(stdout);
    vt_bus_free(bus, 1000);
    vt_bus_library_close();
    vt_db_conn_free(w.db);
    return 0;
}
