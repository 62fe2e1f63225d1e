/*
 * vt_harness.c — the C side of the test harness (see vt_harness.h).
 *
 * Each test gets its own database copied from the harness's template, so tests run
 * in parallel without seeing each other's rows and without re-creating PostGIS.
 */
#include "vt_harness.h"

#include "vt_core.h"
#include "vt_db.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char *vt_harness_env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        fprintf(stderr,
                "%s is not set: run integration tests under tests/harness/harness.sh "
                "run -- meson test … (scripts/test does)\n",
                name);
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

char *vt_harness_db_new_migrated(const char *prefix)
{
    char *url = vt_harness_db_new(prefix);
    char err[1024];
    vt_migration_list list;
    if (vt_migration_list_load(vt_harness_env("VENTA_MIGRATIONS_DIR"), &list, err, sizeof err) !=
        VT_OK) {
        fprintf(stderr, "harness: %s\n", err);
        exit(1);
    }
    PGconn *conn = vt_db_connect(url, err, sizeof err);
    if (!conn || vt_db_migrate(conn, &list, NULL, NULL, NULL, err, sizeof err) != VT_OK) {
        fprintf(stderr, "harness: migrating %s: %s\n", url, err);
        exit(1);
    }
    PQfinish(conn);
    vt_migration_list_free(&list);
    return url;
}

PGconn *vt_harness_pg(PGconn **cache, const char *url)
{
    if (*cache) {
        PGresult *r = PQexec(*cache, "SELECT 1");
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            PQfinish(*cache);
            *cache = NULL;
        }
        PQclear(r);
    }
    if (!*cache) {
        char err[512];
        *cache = vt_db_connect(url, err, sizeof err);
        if (!*cache) {
            fprintf(stderr, "harness: %s\n", err);
            exit(1);
        }
    }
    return *cache;
}

int vt_harness_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("harness: free port");
        exit(1);
    }
    close(fd);
    return ntohs(a.sin_port);
}

int vt_harness_spawn(const char *path, const char *const *env)
{
    pid_t pid = fork();
    if (pid < 0) {
        perror("harness: fork");
        exit(1);
    }
    if (pid == 0) {
        for (const char *const *e = env; e && *e; e++)
            putenv((char *)*e);
        execl(path, path, (char *)NULL);
        perror("harness: exec");
        _exit(127);
    }
    return pid;
}

int vt_harness_stop(int pid, int sig, int timeout_ms)
{
    if (sig)
        kill(pid, sig);
    int status = 0;
    for (int waited = 0;; waited += 10) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0)
            return -1;
        if (waited >= timeout_ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        usleep(10000);
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

int vt_harness_wait_port(int port, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 20) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
        close(fd);
        if (ok)
            return 0;
        usleep(20000);
    }
    return -1;
}
