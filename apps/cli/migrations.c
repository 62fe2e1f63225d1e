/*
 * migrations.c — `venta-cli migrations`: which migrations of prisma-free-sql/ are
 * applied, pending or changed in VENTA_DATABASE_URL (the read-only half of
 * venta-migrate, for operators who should not be able to change the schema).
 */
#include "cli.h"

#include "vt_core.h"
#include "vt_db.h"

#include <stdio.h>

#ifndef VENTA_DEFAULT_MIGRATIONS_DIR
#define VENTA_DEFAULT_MIGRATIONS_DIR "/usr/share/venta/migrations"
#endif

static void print(const vt_migration *m, vt_migration_state st, bool now, long ms, void *user)
{
    (void)now, (void)ms;
    int *behind = user;
    const char *word = st == VT_MIGRATION_APPLIED   ? "applied"
                       : st == VT_MIGRATION_PENDING ? "pending"
                                                    : "changed";
    *behind += st != VT_MIGRATION_APPLIED;
    printf("%-8s %s\n", word, m->name);
}

int cli_migrations(int argc, char **argv)
{
    (void)argv;
    if (argc != 0) {
        fprintf(stderr, "usage: venta-cli migrations\n");
        return 2;
    }
    const char *url = vt_db_url_from_env();
    const char *dir = vt_config_str("VENTA_MIGRATIONS_DIR", VENTA_DEFAULT_MIGRATIONS_DIR);
    char err[1024];
    vt_migration_list list;
    if (vt_migration_list_load(dir, &list, err, sizeof err) != VT_OK) {
        fprintf(stderr, "migrations: %s\n", err);
        return 1;
    }
    PGconn *conn = vt_db_connect(url, err, sizeof err);
    int behind = 0, rc = 1;
    if (!conn)
        fprintf(stderr, "migrations: %s\n", err);
    else if (vt_db_migration_status(conn, &list, print, &behind, err, sizeof err) != VT_OK)
        fprintf(stderr, "migrations: %s\n", err);
    else
        rc = behind ? 1 : 0;
    PQfinish(conn);
    vt_migration_list_free(&list);
    return rc;
}
