/*
 * venta-migrate — applies prisma-free-sql/ migrations to VENTA_DATABASE_URL, then exits.
 *
 *   venta-migrate [up]     apply pending migrations (the default; a Kubernetes Job)
 *   venta-migrate status   list each migration as applied, pending or changed
 *
 * VENTA_MIGRATIONS_DIR overrides the folder (default: the source tree's, or the one
 * installed in the image). Exit status: 0 done, 1 a migration or connection failed,
 * 2 bad configuration or usage.
 */
#include "vt_core.h"
#include "vt_db.h"

#include <stdio.h>
#include <string.h>

#ifndef VENTA_DEFAULT_MIGRATIONS_DIR
#define VENTA_DEFAULT_MIGRATIONS_DIR "/usr/share/venta/migrations"
#endif

static const char *state_name(vt_migration_state st)
{
    switch (st) {
    case VT_MIGRATION_PENDING:
        return "pending";
    case VT_MIGRATION_APPLIED:
        return "applied";
    case VT_MIGRATION_CHANGED:
        return "changed";
    }
    return "?";
}

static void log_applied(const vt_migration *m, vt_migration_state st, bool now, long ms, void *u)
{
    (void)u;
    if (now)
        vt_info(NULL, "applied %s in %ld ms (sha256 %.12s)", m->name, ms, m->checksum);
    else if (st == VT_MIGRATION_APPLIED)
        vt_debug(NULL, "already applied %s", m->name);
}

static void print_status(const vt_migration *m, vt_migration_state st, bool now, long ms, void *u)
{
    (void)now, (void)ms;
    int *problems = u;
    if (st != VT_MIGRATION_APPLIED)
        (*problems)++;
    printf("%-8s %s %s\n", state_name(st), m->name, m->checksum);
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "up";
    if (argc > 2 || (strcmp(cmd, "up") != 0 && strcmp(cmd, "status") != 0)) {
        fprintf(stderr, "usage: venta-migrate [up|status]\n");
        return 2;
    }
    vt_log_init_from_env("venta-migrate");
    const char *url = vt_db_url_from_env();
    const char *dir = vt_config_str("VENTA_MIGRATIONS_DIR", VENTA_DEFAULT_MIGRATIONS_DIR);

    char err[2048];
    vt_migration_list list;
    if (vt_migration_list_load(dir, &list, err, sizeof err) != VT_OK) {
        vt_error(NULL, "%s", err);
        return 1;
    }
    PGconn *conn = vt_db_connect(url, err, sizeof err);
    if (!conn) {
        vt_error(NULL, "%s", err);
        vt_migration_list_free(&list);
        return 1;
    }

    int rc;
    if (strcmp(cmd, "status") == 0) {
        int problems = 0;
        rc = vt_db_migration_status(conn, &list, print_status, &problems, err, sizeof err);
        if (rc == VT_OK && problems > 0)
            rc = VT_FAILED_PRECONDITION; /* so scripts can ask "is the schema current?" */
        else if (rc != VT_OK)
            vt_error(NULL, "%s", err);
    } else {
        int applied = 0;
        rc = vt_db_migrate(conn, &list, log_applied, NULL, &applied, err, sizeof err);
        if (rc == VT_OK)
            vt_info(NULL, "schema is current: %zu migrations, %d applied now", list.count, applied);
        else
            vt_error(NULL, "%s", err);
    }
    PQfinish(conn);
    vt_migration_list_free(&list);
    return rc == VT_OK ? 0 : 1;
}
