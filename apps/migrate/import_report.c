/*
 * import_report.c — see import_report.h.
 */
#include "import_report.h"

#include "import_rows.h"

static const char *const table_names[IMPORT_TABLES] = {
    "users", "vendors", "locations", "subscriptions", "integrations",
};

const char *import_table_name(import_table t)
{
    return table_names[t];
}

void import_report_read(import_report *r, import_table t)
{
    r->read[t]++;
}

void import_report_count(import_report *r, import_table t, import_outcome o)
{
    r->counts[t][o]++;
}

void import_report_skip(import_report *r, import_table t, const char *id, const char *why)
{
    char safe[128];
    import_printable(id, safe, sizeof safe);
    r->counts[t][IMPORT_SKIPPED]++;
    fprintf(r->lines, "skipped %s %s: %s\n", table_names[t], safe, why);
}

void import_report_note(import_report *r, import_table t, const char *id, const char *what)
{
    char safe[128];
    import_printable(id, safe, sizeof safe);
    fprintf(r->lines, "note %s %s: %s\n", table_names[t], safe, what);
}

void import_report_progress(import_report *r, import_table t, long batch)
{
    fprintf(r->lines, "progress %s: batch %ld, %ld read%s\n", table_names[t], batch, r->read[t],
            r->dry_run ? " (dry run)" : "");
    fflush(r->lines);
}

long import_report_changes(const import_report *r)
{
    long n = 0;
    for (int t = 0; t < IMPORT_TABLES; t++)
        n += r->counts[t][IMPORT_INSERTED] + r->counts[t][IMPORT_UPDATED];
    return n;
}

void import_report_summary(const import_report *r)
{
    FILE *f = r->summary;
    fprintf(f, "%-14s %9s %9s %9s %9s %9s\n", r->dry_run ? "dry run" : "table", "read",
            r->dry_run ? "would ins" : "inserted", r->dry_run ? "would upd" : "updated",
            "unchanged", "skipped");
    for (int t = 0; t < IMPORT_TABLES; t++)
        fprintf(f, "%-14s %9ld %9ld %9ld %9ld %9ld\n", table_names[t], r->read[t],
                r->counts[t][IMPORT_INSERTED], r->counts[t][IMPORT_UPDATED],
                r->counts[t][IMPORT_UNCHANGED], r->counts[t][IMPORT_SKIPPED]);
    long changes = import_report_changes(r);
    if (r->dry_run)
        fprintf(f, "dry run: nothing was written; a run would change %ld rows\n", changes);
    else if (changes == 0)
        fprintf(f, "no changes: everything importable was already imported\n");
    else
        fprintf(f, "imported: %ld rows changed\n", changes);
    fflush(f);
}
