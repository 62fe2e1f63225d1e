/*
 * migrate.c — applying migrations once, in order, safely under concurrency.
 *
 * Every run first takes pg_advisory_lock(VT_DB_MIGRATION_LOCK_KEY) on its session, so
 * a second replica waits, then sees the first one's rows and applies nothing. Only
 * then is schema_migrations created if missing (doing it before the lock would race).
 * Each pending file runs in one transaction together with the INSERT of its row, so a
 * failing file leaves no trace and a crash never records a file that did not commit.
 * Migration files must therefore not contain their own BEGIN/COMMIT.
 */
#include "vt_db.h"

#include "vt_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CREATE_TABLE_SQL                                                                           \
    "CREATE TABLE IF NOT EXISTS public.schema_migrations ("                                        \
    " version text PRIMARY KEY,"                                                                   \
    " name text NOT NULL,"                                                                         \
    " checksum text NOT NULL,"                                                                     \
    " applied_at timestamptz NOT NULL DEFAULT now(),"                                              \
    " duration_ms integer NOT NULL DEFAULT 0)"

typedef struct {
    PGresult *rows; /* version, name, checksum of applied migrations */
} applied_set;

static const char *applied_checksum(const applied_set *set, const char *version)
{
    for (int i = 0; i < PQntuples(set->rows); i++)
        if (strcmp(PQgetvalue(set->rows, i, 0), version) == 0)
            return PQgetvalue(set->rows, i, 2);
    return NULL;
}

static int load_applied(PGconn *conn, applied_set *set, char *err, size_t errlen)
{
    set->rows = PQexec(conn, "SELECT version, name, checksum FROM public.schema_migrations "
                             "ORDER BY version");
    if (PQresultStatus(set->rows) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "reading schema_migrations: %s", PQresultErrorMessage(set->rows));
        PQclear(set->rows);
        set->rows = NULL;
        return VT_UNAVAILABLE;
    }
    return VT_OK;
}

static int lock_and_prepare(PGconn *conn, char *err, size_t errlen)
{
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT pg_advisory_lock(%lld)", VT_DB_MIGRATION_LOCK_KEY);
    if (vt_db_exec(conn, sql, err, errlen) != VT_OK)
        return VT_UNAVAILABLE;
    return vt_db_exec(conn, CREATE_TABLE_SQL, err, errlen);
}

static void unlock(PGconn *conn)
{
    char sql[96], ignored[256];
    snprintf(sql, sizeof sql, "SELECT pg_advisory_unlock(%lld)", VT_DB_MIGRATION_LOCK_KEY);
    vt_db_exec(conn, sql, ignored, sizeof ignored);
}

static int apply_one(PGconn *conn, const vt_migration *m, long *ms, char *err, size_t errlen)
{
    char pgerr[1024];
    int64_t start = vt_monotonic_ns();
    if (vt_db_exec(conn, "BEGIN", pgerr, sizeof pgerr) != VT_OK)
        goto fail;
    if (vt_db_exec(conn, m->sql, pgerr, sizeof pgerr) != VT_OK)
        goto rollback;
    *ms = (long)((vt_monotonic_ns() - start) / 1000000);
    char duration[32];
    snprintf(duration, sizeof duration, "%ld", *ms);
    const char *params[4] = {m->version, m->name, m->checksum, duration};
    PGresult *res = PQexecParams(conn,
                                 "INSERT INTO public.schema_migrations "
                                 "(version, name, checksum, duration_ms) "
                                 "VALUES ($1, $2, $3, $4::integer)",
                                 4, NULL, params, NULL, NULL, 0);
    bool inserted = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!inserted)
        snprintf(pgerr, sizeof pgerr, "%s", PQresultErrorMessage(res));
    PQclear(res);
    if (!inserted)
        goto rollback;
    if (vt_db_exec(conn, "COMMIT", pgerr, sizeof pgerr) != VT_OK)
        goto fail;
    return VT_OK;
rollback : {
    char ignored[256];
    vt_db_exec(conn, "ROLLBACK", ignored, sizeof ignored);
}
fail:
    snprintf(err, errlen, "migration %s failed and was rolled back: %s", m->name, pgerr);
    return VT_ABORTED;
}

int vt_db_migrate(PGconn *conn, const vt_migration_list *list, vt_migration_report_fn report,
                  void *user, int *applied, char *err, size_t errlen)
{
    int count = 0;
    int rc = lock_and_prepare(conn, err, errlen);
    if (rc != VT_OK)
        goto out;
    applied_set set;
    rc = load_applied(conn, &set, err, errlen);
    if (rc != VT_OK)
        goto out;
    for (size_t i = 0; i < list->count && rc == VT_OK; i++) {
        const vt_migration *m = &list->items[i];
        const char *recorded = applied_checksum(&set, m->version);
        if (recorded && strcmp(recorded, m->checksum) != 0) {
            snprintf(err, errlen,
                     "migration %s was changed after it was applied (recorded checksum %.12s…, "
                     "file %.12s…): add a new migration instead of editing this one",
                     m->name, recorded, m->checksum);
            if (report)
                report(m, VT_MIGRATION_CHANGED, false, 0, user);
            rc = VT_FAILED_PRECONDITION;
        } else if (recorded) {
            if (report)
                report(m, VT_MIGRATION_APPLIED, false, 0, user);
        } else {
            long ms = 0;
            rc = apply_one(conn, m, &ms, err, errlen);
            if (rc == VT_OK) {
                count++;
                if (report)
                    report(m, VT_MIGRATION_APPLIED, true, ms, user);
            }
        }
    }
    PQclear(set.rows);
out:
    unlock(conn);
    if (applied)
        *applied = count;
    return rc;
}

int vt_db_migration_status(PGconn *conn, const vt_migration_list *list,
                           vt_migration_report_fn report, void *user, char *err, size_t errlen)
{
    PGresult *exists = PQexec(conn, "SELECT to_regclass('public.schema_migrations') IS NOT NULL");
    bool table = PQresultStatus(exists) == PGRES_TUPLES_OK && PQntuples(exists) == 1 &&
                 PQgetvalue(exists, 0, 0)[0] == 't';
    if (PQresultStatus(exists) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "%s", PQresultErrorMessage(exists));
        PQclear(exists);
        return VT_UNAVAILABLE;
    }
    PQclear(exists);
    applied_set set = {NULL};
    if (table && load_applied(conn, &set, err, errlen) != VT_OK)
        return VT_UNAVAILABLE;
    for (size_t i = 0; i < list->count; i++) {
        const vt_migration *m = &list->items[i];
        const char *recorded = set.rows ? applied_checksum(&set, m->version) : NULL;
        vt_migration_state st = !recorded                            ? VT_MIGRATION_PENDING
                                : strcmp(recorded, m->checksum) == 0 ? VT_MIGRATION_APPLIED
                                                                     : VT_MIGRATION_CHANGED;
        if (report)
            report(m, st, false, 0, user);
    }
    PQclear(set.rows);
    return VT_OK;
}
