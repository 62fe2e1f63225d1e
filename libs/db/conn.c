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
