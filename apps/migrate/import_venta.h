/*
 * import_venta.h — `venta-migrate import-venta --from URL`: the original Venta backend's
 * data (its Prisma tables) into ours, idempotent (API.md §8, docs/migration.md).
 *
 * Tables are imported in dependency order — users, vendors (with their last known
 * location), subscriptions, integrations — each in pages of batch_size rows read from
 * one snapshot of the original, each page written in one transaction of ours. A page
 * that fails is rolled back whole and stops the run; running again resumes, because
 * what was committed compares equal and is left alone. A dry run does the same work in
 * one transaction per schema and rolls it back: its counts are exactly what a run
 * would do, and nothing is written.
 */
#ifndef VENTA_MIGRATE_IMPORT_VENTA_H
#define VENTA_MIGRATE_IMPORT_VENTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define IMPORT_BATCH_DEFAULT 500
#define IMPORT_BATCH_MAX 10000

typedef struct import_venta import_venta;

typedef struct {
    const char *from_url;   /* the original's database (required) */
    const char *target_url; /* ours (VENTA_DATABASE_URL) */
    int batch_size;         /* rows per page and transaction; 0: IMPORT_BATCH_DEFAULT */
    bool dry_run;
    FILE *lines;   /* skipped rows and progress; NULL: stderr */
    FILE *summary; /* the counts; NULL: stdout */
} import_venta_opts;

/* Connect to both databases. 0 with *out, or a VT_* code with err. */
int import_venta_new(const import_venta_opts *opts, import_venta **out, char *err, size_t errlen);
/* Run the import and print the summary. 0, or the failing batch's VT_* code with err. */
int import_venta_run(import_venta *iv, char *err, size_t errlen);
void import_venta_free(import_venta *iv);

#endif
