/*
 * venta-migrate — applies prisma-free-sql/ migrations to VENTA_DATABASE_URL, then exits.
 *
 *   venta-migrate [up]     apply pending migrations (the default; a Kubernetes Job)
 *   venta-migrate status   list each migration as applied, pending or changed
 *   venta-migrate import-venta --from URL [--dry-run] [--batch-size N]
 *                          import the original Venta backend's data (import_venta.h,
 *                          docs/migration.md); our schema must be current
 *
 * VENTA_MIGRATIONS_DIR overrides the folder (default: the source tree's, or the one
 * installed in the image). Exit status: 0 done, 1 a migration or connection failed,
 * 2 bad configuration or usage.
 */
#include "import_venta.h"
#include "vt_core.h"
#include "vt_db.h"

#include <stdio.h>
#include <stdlib.h>
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

static const char usage[] =
    "usage: venta-migrate [up|status]\n"
    "       venta-migrate import-venta --from URL [--dry-run] [--batch-size N]\n";

/* import-venta's arguments into o; false (with a message on stderr) when they are wrong. */
static bool parse_import_args(int argc, char **argv, import_venta_opts *o)
{
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--dry-run") == 0) {
            o->dry_run = true;
        } else if ((strcmp(a, "--from") == 0 || strcmp(a, "--batch-size") == 0) && i + 1 < argc) {
            const char *v = argv[++i];
            if (a[2] == 'f') {
                o->from_url = v;
                continue;
            }
            char *end;
            long n = strtol(v, &end, 10);
            if (*v == '\0' || *end != '\0' || n < 1 || n > IMPORT_BATCH_MAX) {
                fprintf(stderr, "venta-migrate: --batch-size must be 1 to %d\n", IMPORT_BATCH_MAX);
                return false;
            }
            o->batch_size = (int)n;
        } else {
            fprintf(stderr, "venta-migrate: unknown or incomplete argument %s\n%s", a, usage);
            return false;
        }
    }
    if (!o->from_url || !*o->from_url) {
        fprintf(stderr,
                "venta-migrate: import-venta needs --from URL (the original's "
                "database)\n%s",
                usage);
        return false;
    }
    return true;
}

static void count_pending(const vt_migration *m, vt_migration_state st, bool now, long ms, void *u)
{
    (void)m, (void)now, (void)ms;
    if (st != VT_MIGRATION_APPLIED)
        (*(int *)u)++;
}

/* Our schema must be current before rows are written into it. */
static int schema_current(PGconn *conn, const vt_migration_list *list, char *err, size_t errlen)
{
    int pending = 0;
    int rc = vt_db_migration_status(conn, list, count_pending, &pending, err, errlen);
    if (rc == VT_OK && pending > 0) {
        snprintf(err, errlen,
                 "our database has %d migrations pending or changed: run venta-migrate up first",
                 pending);
        rc = VT_FAILED_PRECONDITION;
    }
    return rc;
}

static int import_venta_command(const char *url, PGconn *conn, const vt_migration_list *list,
                                import_venta_opts *o)
{
    char err[2048];
    int rc = schema_current(conn, list, err, sizeof err);
    import_venta *iv = NULL;
    o->target_url = url;
    if (rc == VT_OK)
        rc = import_venta_new(o, &iv, err, sizeof err);
    if (rc == VT_OK)
        rc = import_venta_run(iv, err, sizeof err);
    if (rc != VT_OK)
        vt_error(NULL, "import-venta: %s", err);
    import_venta_free(iv);
    return rc;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "up";
    import_venta_opts import = {0};
    bool importing = strcmp(cmd, "import-venta") == 0;
    if (importing) {
        if (!parse_import_args(argc, argv, &import))
            return 2;
    } else if (argc > 2 || (strcmp(cmd, "up") != 0 && strcmp(cmd, "status") != 0)) {
        fprintf(stderr, "%s", usage);
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
    if (importing) {
        rc = import_venta_command(url, conn, &list, &import);
    } else if (strcmp(cmd, "status") == 0) {
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
