/*
 * ingest.h — live positions from NATS into PostgreSQL, in batches.
 *
 * Consumes loc.> and vendor.*.status in the queue group location-writers (each message
 * reaches one replica; a vendor's deletion is deletions.h's), coalesces positions per
 * vendor in a bounded buffer, and writer threads write what is due every batch window
 * with one multi-row upsert.
 * A vendor is due persist_ms after its first position since it was last written: the
 * live map serves reads, so the table needs only a recent position per vendor, and
 * each vendor is written about once per persist_ms with its latest position (never
 * twice within half of it: a wave of arrivals is started on early, see ingest.c). That
 * interval (plus the write lag, the venta_location_ingest_unwritten_age_seconds gauge
 * less persist_ms) bounds what a crash loses; SIGTERM writes everything first.
 * When PostgreSQL is slow or down the buffer keeps the latest position per vendor and
 * drops the oldest arrivals past its capacity (counted in metrics); the writer
 * reconnects by itself.
 */
#ifndef VENTA_LOCATION_INGEST_H
#define VENTA_LOCATION_INGEST_H

#include "vt_bus.h"
#include "vt_metrics.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct ingest ingest;

typedef struct {
    vt_bus *bus;
    const char *database_url;
    vt_metrics *metrics;
    size_t capacity;  /* vendors buffered at most (default 200000) */
    int batch_ms;     /* flush window (default 50) */
    int persist_ms;   /* a vendor is written at most once per this (0: every window) */
    size_t batch_max; /* rows per upsert at most (default 5000) */
    int writers;      /* writer threads/connections, vendors sharded by id (default 2) */
    /* Told (from the writer thread) when PostgreSQL goes up or down. */
    void (*on_database)(bool up, void *user);
    void *user;
} ingest_opts;

int ingest_start(const ingest_opts *opts, ingest **out, char *err, size_t errlen);
/* Stop consuming, write what is buffered (for up to flush_ms), stop the writer, free. */
void ingest_stop(ingest *in, int flush_ms);

#endif
