/*
 * import_report.h — what `venta-migrate import-venta` tells its operator: one stderr line
 * per skipped row (and per optional part left out of an imported one), a progress line
 * per batch, and at the end the counts per table on stdout (read / inserted / updated /
 * unchanged / skipped) with one sentence saying whether anything changed.
 *
 * Lines are plain text, one per row, so that `2>skipped.txt` and grep work: ids are
 * printed with control bytes replaced, so a hostile id cannot break a line.
 */
#ifndef VENTA_MIGRATE_IMPORT_REPORT_H
#define VENTA_MIGRATE_IMPORT_REPORT_H

#include <stdbool.h>
#include <stdio.h>

typedef enum {
    IMPORT_USERS,
    IMPORT_VENDORS,
    IMPORT_LOCATIONS,
    IMPORT_SUBSCRIPTIONS,
    IMPORT_INTEGRATIONS,
    IMPORT_TABLES
} import_table;

typedef enum {
    IMPORT_INSERTED,
    IMPORT_UPDATED,
    IMPORT_UNCHANGED,
    IMPORT_SKIPPED,
    IMPORT_OUTCOMES
} import_outcome;

typedef struct {
    long read[IMPORT_TABLES];
    long counts[IMPORT_TABLES][IMPORT_OUTCOMES];
    FILE *lines;   /* skipped rows, notes, progress (stderr) */
    FILE *summary; /* the counts (stdout) */
    bool dry_run;
} import_report;

/* Our name of a table's rows in the report ("users", "vendors", …). */
const char *import_table_name(import_table t);

void import_report_read(import_report *r, import_table t);
void import_report_count(import_report *r, import_table t, import_outcome o);
/* Count a skip and print "skipped <table> <id>: <why>". */
void import_report_skip(import_report *r, import_table t, const char *id, const char *why);
/* Print "note <table> <id>: <what>" (an imported row with a part left out). */
void import_report_note(import_report *r, import_table t, const char *id, const char *what);
/* "<table>: batch n, <read> read" after each batch. */
void import_report_progress(import_report *r, import_table t, long batch);
/* The table of counts and the closing sentence. */
void import_report_summary(const import_report *r);
/* Rows inserted or updated, over every table. */
long import_report_changes(const import_report *r);

#endif
