/*
 * Integration tests of migrations against a real PostgreSQL+PostGIS from the harness:
 * the schema of API.md §7 is created, applying twice changes nothing, concurrent runs
 * apply each file once, an edited applied file stops the run, a failing file rolls
 * back whole, and venta-migrate's exit codes and messages.
 */
#include "vt_core.h"
#include "vt_db.h"
#include "vt_harness.h"
#include "vt_test.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *migrations_dir(void)
{
    return vt_harness_env("VENTA_MIGRATIONS_DIR");
}

static PGconn *connect_or_die(const char *url)
{
    char err[512];
    PGconn *c = vt_db_connect(url, err, sizeof err);
    if (!c) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    return c;
}

/* The single value of a query, as a malloc'd string ("" for NULL). */
static char *scalar(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    char *v = strdup(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 ? PQgetvalue(r, 0, 0)
                                                                               : "<error>");
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fprintf(stderr, "query failed: %s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    return v;
}

static long scalar_long(PGconn *c, const char *sql)
{
    char *v = scalar(c, sql);
    long n = strtol(v, NULL, 10);
    free(v);
    return n;
}

static bool relation_exists(PGconn *c, const char *name)
{
    const char *p[1] = {name};
    PGresult *r = PQexecParams(c, "SELECT to_regclass($1) IS NOT NULL", 1, NULL, p, NULL, NULL, 0);
    bool yes = PQresultStatus(r) == PGRES_TUPLES_OK && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    return yes;
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    VT_REQUIRE(f != NULL);
    fputs(text, f);
    fclose(f);
}

static char *temp_dir(void)
{
    char tmpl[] = "/tmp/venta-migrations-XXXXXX";
    char *d = mkdtemp(tmpl);
    VT_REQUIRE(d != NULL);
    return strdup(d);
}

static void remove_dir(char *dir)
{
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    VT_CHECK_INT(system(cmd), 0);
    free(dir);
}

static int migrate_dir(const char *url, const char *dir, int *applied, char *err, size_t errlen)
{
    vt_migration_list list;
    int rc = vt_migration_list_load(dir, &list, err, errlen);
    if (rc != VT_OK)
        return rc;
    PGconn *c = connect_or_die(url);
    rc = vt_db_migrate(c, &list, NULL, NULL, applied, err, errlen);
    PQfinish(c);
    vt_migration_list_free(&list);
    return rc;
}

static void test_schema_is_created(void)
{
    char *url = vt_harness_db_new("schema");
    char err[1024] = "";
    int applied = -1;
    VT_CHECK_INT(migrate_dir(url, migrations_dir(), &applied, err, sizeof err), VT_OK);
    VT_CHECK(applied >= 4);
    PGconn *c = connect_or_die(url);
    const char *tables[] = {
        "account.users",  "account.subscriptions",     "account.webhook_events",
        "vendor.vendors", "location.vendor_locations", "public.schema_migrations"};
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
        if (!relation_exists(c, tables[i]))
            fprintf(stderr, "missing table %s\n", tables[i]);
        VT_CHECK(relation_exists(c, tables[i]));
    }
    VT_CHECK_INT(scalar_long(c, "SELECT count(*) FROM pg_extension WHERE extname IN "
                                "('postgis','pg_trgm')"),
                 2);
    /* The live-position table carries a GiST index on an SRID 4326 point (the
     * position's grid cell, so that moving within it is a HOT update). */
    VT_CHECK_INT(scalar_long(c, "SELECT count(*) FROM pg_indexes WHERE schemaname='location' "
                                "AND tablename='vendor_locations' AND indexdef LIKE '%gist%'"),
                 1);
    VT_CHECK_INT(scalar_long(c, "SELECT srid FROM geometry_columns WHERE "
                                "f_table_schema='location' AND f_table_name='vendor_locations' "
                                "AND f_geometry_column='position'"),
                 4326);
    /* Unique Clerk id and unique webhook event per provider. */
    VT_CHECK_INT(scalar_long(c, "WITH a AS (INSERT INTO account.users (clerk_id) VALUES "
                                "('user_1') RETURNING 1) SELECT count(*) FROM a"),
                 1);
    PGresult *dup = PQexec(c, "INSERT INTO account.users (clerk_id) VALUES ('user_1')");
    VT_CHECK_STR(PQresultErrorField(dup, PG_DIAG_SQLSTATE), "23505");
    PQclear(dup);
    /* Every recorded checksum is the file's SHA-256. */
    vt_migration_list list;
    VT_REQUIRE(vt_migration_list_load(migrations_dir(), &list, err, sizeof err) == VT_OK);
    VT_CHECK_INT(scalar_long(c, "SELECT count(*) FROM schema_migrations"), (long)list.count);
    for (size_t i = 0; i < list.count; i++) {
        const char *p[1] = {list.items[i].version};
        PGresult *r = PQexecParams(c, "SELECT checksum FROM schema_migrations WHERE version=$1", 1,
                                   NULL, p, NULL, NULL, 0);
        VT_CHECK(PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), list.items[i].checksum) == 0);
        PQclear(r);
    }
    vt_migration_list_free(&list);
    PQfinish(c);
    free(url);
}

static void test_applying_twice_changes_nothing(void)
{
    char *url = vt_harness_db_new("twice");
    char err[1024];
    int applied = -1;
    VT_CHECK_INT(migrate_dir(url, migrations_dir(), &applied, err, sizeof err), VT_OK);
    PGconn *c = connect_or_die(url);
    char *before = scalar(c, "SELECT string_agg(version || checksum || applied_at, ',' "
                             "ORDER BY version) FROM schema_migrations");
    VT_CHECK_INT(migrate_dir(url, migrations_dir(), &applied, err, sizeof err), VT_OK);
    VT_CHECK_INT(applied, 0);
    char *after = scalar(c, "SELECT string_agg(version || checksum || applied_at, ',' "
                            "ORDER BY version) FROM schema_migrations");
    VT_CHECK_STR(after, before);
    free(before);
    free(after);
    PQfinish(c);
    free(url);
}

typedef struct {
    const char *url;
    pthread_barrier_t *start;
    int rc;
    int applied;
    char err[1024];
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    vt_migration_list list;
    if (vt_migration_list_load(migrations_dir(), &list, r->err, sizeof r->err) != VT_OK) {
        r->rc = -1;
        return NULL;
    }
    PGconn *c = connect_or_die(r->url);
    pthread_barrier_wait(r->start);
    r->rc = vt_db_migrate(c, &list, NULL, NULL, &r->applied, r->err, sizeof r->err);
    PQfinish(c);
    vt_migration_list_free(&list);
    return NULL;
}

static void test_concurrent_runs_apply_each_file_once(void)
{
    enum { RACERS = 6 };
    char *url = vt_harness_db_new("race");
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, RACERS);
    racer racers[RACERS];
    pthread_t threads[RACERS];
    for (int i = 0; i < RACERS; i++) {
        racers[i] = (racer){.url = url, .start = &start};
        pthread_create(&threads[i], NULL, race, &racers[i]);
    }
    int total = 0;
    for (int i = 0; i < RACERS; i++) {
        pthread_join(threads[i], NULL);
        if (racers[i].rc != VT_OK)
            fprintf(stderr, "racer %d: %s\n", i, racers[i].err);
        VT_CHECK_INT(racers[i].rc, VT_OK);
        total += racers[i].applied;
    }
    pthread_barrier_destroy(&start);
    char err[256];
    vt_migration_list list;
    VT_REQUIRE(vt_migration_list_load(migrations_dir(), &list, err, sizeof err) == VT_OK);
    VT_CHECK_INT(total, (long)list.count);
    PGconn *c = connect_or_die(url);
    VT_CHECK_INT(scalar_long(c, "SELECT count(*) FROM schema_migrations"), (long)list.count);
    PQfinish(c);
    vt_migration_list_free(&list);
    free(url);
}

static void count_changed(const vt_migration *m, vt_migration_state st, bool now, long ms, void *u)
{
    (void)m, (void)now, (void)ms;
    if (st == VT_MIGRATION_CHANGED)
        (*(int *)u)++;
}

static void test_edited_applied_file_stops_the_run(void)
{
    char *url = vt_harness_db_new("edited");
    char *dir = temp_dir();
    char err[1024] = "";
    int applied;
    write_file(dir, "0001_first.sql", "CREATE TABLE first (x int);\n");
    VT_CHECK_INT(migrate_dir(url, dir, &applied, err, sizeof err), VT_OK);
    write_file(dir, "0001_first.sql", "CREATE TABLE first (x int, y int);\n");
    write_file(dir, "0002_second.sql", "CREATE TABLE second (x int);\n");
    VT_CHECK_INT(migrate_dir(url, dir, &applied, err, sizeof err), VT_FAILED_PRECONDITION);
    VT_CHECK(strstr(err, "0001_first.sql") != NULL);
    VT_CHECK(strstr(err, "changed") != NULL);
    PGconn *c = connect_or_die(url);
    VT_CHECK(!relation_exists(c, "public.second")); /* nothing after it ran */
    vt_migration_list list;
    VT_REQUIRE(vt_migration_list_load(dir, &list, err, sizeof err) == VT_OK);
    int changed = 0;
    VT_CHECK_INT(vt_db_migration_status(c, &list, count_changed, &changed, err, sizeof err), VT_OK);
    VT_CHECK_INT(changed, 1);
    vt_migration_list_free(&list);
    PQfinish(c);
    remove_dir(dir);
    free(url);
}

static void test_failing_migration_rolls_back_whole(void)
{
    char *url = vt_harness_db_new("rollback");
    char *dir = temp_dir();
    char err[1024] = "";
    int applied = -1;
    write_file(dir, "0001_ok.sql", "CREATE TABLE ok_one (x int);\n");
    write_file(dir, "0002_broken.sql",
               "CREATE TABLE half_done (x int);\nINSERT INTO ok_one VALUES (1);\n"
               "CREATE TABLE broken (x no_such_type);\n");
    write_file(dir, "0003_later.sql", "CREATE TABLE never (x int);\n");
    VT_CHECK_INT(migrate_dir(url, dir, &applied, err, sizeof err), VT_ABORTED);
    VT_CHECK_INT(applied, 1);
    VT_CHECK(strstr(err, "0002_broken.sql") != NULL);
    VT_CHECK(strstr(err, "no_such_type") != NULL);
    PGconn *c = connect_or_die(url);
    VT_CHECK(relation_exists(c, "public.ok_one"));
    VT_CHECK(!relation_exists(c, "public.half_done"));
    VT_CHECK(!relation_exists(c, "public.never"));
    VT_CHECK_INT(scalar_long(c, "SELECT count(*) FROM ok_one"), 0);
    VT_CHECK_INT(scalar_long(c, "SELECT count(*) FROM schema_migrations"), 1);
    /* Fixed, the run resumes where it stopped. */
    write_file(dir, "0002_broken.sql", "CREATE TABLE half_done (x int);\n");
    VT_CHECK_INT(migrate_dir(url, dir, &applied, err, sizeof err), VT_OK);
    VT_CHECK_INT(applied, 2);
    VT_CHECK(relation_exists(c, "public.never"));
    PQfinish(c);
    remove_dir(dir);
    free(url);
}

static void test_duplicate_versions_are_refused(void)
{
    char *dir = temp_dir();
    char err[512] = "";
    vt_migration_list list;
    write_file(dir, "0001_a.sql", "SELECT 1;\n");
    write_file(dir, "0001_b.sql", "SELECT 2;\n");
    write_file(dir, "README.md", "not a migration\n");
    VT_CHECK_INT(vt_migration_list_load(dir, &list, err, sizeof err), VT_FAILED_PRECONDITION);
    VT_CHECK(strstr(err, "0001_a.sql") && strstr(err, "0001_b.sql"));
    write_file(dir, "0001_b.sql", "");
    unlink(strcat(strcpy(err, dir), "/0001_b.sql"));
    VT_CHECK_INT(vt_migration_list_load(dir, &list, err, sizeof err), VT_OK);
    VT_CHECK_INT(list.count, 1); /* README.md ignored */
    vt_migration_list_free(&list);
    remove_dir(dir);
}

/* Run venta-migrate with extra environment; capture stderr+stdout. */
static int run_cli(const char *env, const char *args, char *out, size_t outlen)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "env -u VENTA_DATABASE_URL %s '%s' %s 2>&1", env,
             vt_harness_env("VENTA_MIGRATE_BIN"), args);
    FILE *p = popen(cmd, "r");
    VT_REQUIRE(p != NULL);
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_cli(void)
{
    char out[8192], env[2048];
    VT_CHECK_INT(run_cli("", "", out, sizeof out), 2);
    VT_CHECK(strstr(out, "VENTA_DATABASE_URL") != NULL);
    VT_CHECK(strchr(out, '\n') == out + strlen(out) - 1); /* exactly one line */

    char *url = vt_harness_db_new("cli");
    snprintf(env, sizeof env, "VENTA_DATABASE_URL='%s' VENTA_LOG_LEVEL=chatty", url);
    VT_CHECK_INT(run_cli(env, "", out, sizeof out), 2);
    VT_CHECK(strstr(out, "VENTA_LOG_LEVEL") != NULL);

    snprintf(env, sizeof env, "VENTA_DATABASE_URL='%s'", url);
    VT_CHECK_INT(run_cli(env, "status", out, sizeof out), 1); /* all pending */
    VT_CHECK(strstr(out, "pending  0001_extensions.sql") != NULL);
    VT_CHECK_INT(run_cli(env, "", out, sizeof out), 0);
    VT_CHECK(strstr(out, "applied 0004_location.sql") != NULL);
    VT_CHECK_INT(run_cli(env, "up", out, sizeof out), 0);
    VT_CHECK(strstr(out, "0 applied now") != NULL);
    VT_CHECK_INT(run_cli(env, "status", out, sizeof out), 0);
    VT_CHECK(strstr(out, "applied  0002_account.sql") != NULL);
    VT_CHECK_INT(run_cli(env, "sideways", out, sizeof out), 2);

    snprintf(env, sizeof env, "VENTA_DATABASE_URL='%s' VENTA_MIGRATIONS_DIR=/nonexistent", url);
    VT_CHECK_INT(run_cli(env, "", out, sizeof out), 1);
    VT_CHECK(strstr(out, "/nonexistent") != NULL);

    VT_CHECK_INT(
        run_cli("VENTA_DATABASE_URL=postgresql://venta@127.0.0.1:1/none", "", out, sizeof out), 1);
    VT_CHECK(strstr(out, "cannot connect") != NULL);
    free(url);
}

int main(void)
{
    VT_RUN(test_schema_is_created);
    VT_RUN(test_applying_twice_changes_nothing);
    VT_RUN(test_concurrent_runs_apply_each_file_once);
    VT_RUN(test_edited_applied_file_stops_the_run);
    VT_RUN(test_failing_migration_rolls_back_whole);
    VT_RUN(test_duplicate_versions_are_refused);
    VT_RUN(test_cli);
    return VT_TEST_RESULT();
}
