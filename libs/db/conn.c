/*
 * conn.c — connecting to PostgreSQL and running plain SQL, with errors as text.
 *
 * libpq reports failures as multi-line messages with trailing newlines; these helpers
 * flatten them into one line so they fit a JSON log line or a gRPC status message.
 */
#include "vt_db.h"

#include "vt_core.h"

#include <stdio.h>
#include <string.h>

static void one_line(char *text)
{
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
        text[--n] = '\0';
    for (char *p = text; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
}

static bool port_list_valid(const char *ports)
{
    /* "5432" or, for several hosts, "5432,5433"; empty entries mean the default. */
    for (const char *p = ports; *p;) {
        long v = 0;
        const char *start = p;
        while (*p >= '0' && *p <= '9' && v <= 65535)
            v = v * 10 + (*p++ - '0');
        if ((p != start && (v < 1 || v > 65535)) || (*p && *p != ','))
            return false;
        if (*p == ',')
            p++;
    }
    return true;
}

int vt_db_url_valid(const char *url, char *err, size_t errlen)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &perr);
    if (!opts) {
        snprintf(err, errlen, "is not a libpq connection string or URI: %s",
                 perr ? perr : "out of memory");
        one_line(err);
        PQfreemem(perr);
        return VT_INVALID_ARGUMENT;
    }
    int rc = VT_OK;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (o->val && strcmp(o->keyword, "port") == 0 && !port_list_valid(o->val)) {
            snprintf(err, errlen, "has a bad port \"%.40s\"", o->val);
            rc = VT_INVALID_ARGUMENT;
        }
    PQconninfoFree(opts);
    return rc;
}

const char *vt_db_url_from_env(void)
{
    const char *url = vt_config_require("VENTA_DATABASE_URL");
    char err[512];
    if (vt_db_url_valid(url, err, sizeof err) != VT_OK)
        vt_config_fail("VENTA_DATABASE_URL", err);
    return url;
}

/* PostgreSQL's NOTICEs ("relation already exists, skipping") are debug-level news. */
static void notice_to_log(void *arg, const char *message)
{
    (void)arg;
    char line[1024];
    snprintf(line, sizeof line, "%s", message);
    one_line(line);
    vt_debug(NULL, "postgres: %s", line);
}

PGconn *vt_db_connect(const char *url, char *err, size_t errlen)
{
    PGconn *conn = PQconnectdb(url);
    if (!conn) {
        snprintf(err, errlen, "out of memory creating a PostgreSQL connection");
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        snprintf(err, errlen, "cannot connect to PostgreSQL: %s", PQerrorMessage(conn));
        one_line(err);
        PQfinish(conn);
        return NULL;
    }
    PQsetNoticeProcessor(conn, notice_to_log, NULL);
    return conn;
}

int vt_db_exec(PGconn *conn, const char *sql, char *err, size_t errlen)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) {
        PQclear(res);
        return VT_OK;
    }
    snprintf(err, errlen, "%s", res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
    one_line(err);
    PQclear(res);
    return PQstatus(conn) == CONNECTION_OK ? VT_INTERNAL : VT_UNAVAILABLE;
}
