/*
 * vt_harness.c — the C side of the test harness (see vt_harness.h).
 *
 * Each test gets its own database copied from the harness's template, so tests run
 * in parallel without seeing each other's rows and without re-creating PostGIS.
 */
#include "vt_harness.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char *vt_harness_env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        fprintf(stderr, "%s is not set: run integration tests under tests/harness/harness.sh "
                        "run -- meson test … (scripts/test does)\n", name);
        exit(1);
    }
    return v;
}

char *vt_harness_db_new(const char *prefix)
{
    const char *admin = vt_harness_env("VENTA_TEST_PG_ADMIN_URL");
    const char *template = vt_harness_env("VENTA_TEST_PG_TEMPLATE");
    static unsigned counter;
    char name[64];
    snprintf(name, sizeof name, "t_%.20s_%d_%u", prefix, (int)getpid(), counter++);
    for (char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
            *p = '_';

    PGconn *conn = PQconnectdb(admin);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "harness: cannot connect to %s: %s", admin, PQerrorMessage(conn));
        exit(1);
    }
    char sql[256];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s TEMPLATE %s", name, template);
    /* CREATE DATABASE from a template fails while another session uses the template;
     * only the harness does, briefly, so retry a few times. */
    for (int attempt = 0;; attempt++) {
        PGresult *res = PQexec(conn, sql);
        int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        if (!ok && attempt >= 20) {
            fprintf(stderr, "harness: %s: %s", sql, PQresultErrorMessage(res));
            exit(1);
        }
        PQclear(res);
        if (ok)
            break;
        usleep(100000);
    }
    PQfinish(conn);

    const char *slash = strrchr(admin, '/');
    size_t base = (size_t)(slash - admin) + 1;
    size_t len = base + strlen(name) + 1;
    char *url = malloc(len);
    if (!url)
        exit(1);
    memcpy(url, admin, base);
    strcpy(url + base, name);
    return url;
}

int vt_harness_server(const char *action, const char *server)
{
    const char *script = vt_harness_env("VENTA_HARNESS");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "bash '%s' %s %s", script, action, server);
    int rc = system(cmd);
    return rc == -1 ? -1 : WEXITSTATUS(rc);
}
