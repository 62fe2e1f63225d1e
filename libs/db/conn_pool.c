/*
 * conn_pool.c — the database connections of a service: one per worker thread, each
 * with its prepared statements, reconnecting by itself, with transactions that retry
 * serialization failures.
 *
 * Why no shared pool with a lock: the gRPC server runs a fixed set of worker threads
 * and each handler runs start to finish on one of them, so worker i simply owns
 * connection i. A connection that breaks (PostgreSQL restarted, network cut) is
 * dropped; the next call reconnects — at most once per backoff interval, so a dead
 * database costs a fast VT_UNAVAILABLE instead of a connect timeout per request — and
 * re-prepares every statement, since prepared statements die with the session.
 */
#include "vt_db.h"

#include "vt_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

struct vt_db_conn {
    char *url;
    const vt_db_statement *statements;
    size_t nstatements;
    char *session_sql;   /* run on each connect, may be NULL */
    PGconn *pg;          /* NULL while disconnected */
    bool in_tx;          /* inside vt_db_tx: never silently reconnect */
    int64_t next_try_ns; /* earliest next connect attempt */
    int backoff_ms;
};

struct vt_db_pool {
    vt_db_conn **conns;
    size_t size;
};

int vt_db_status_from_sqlstate(const char *s)
{
    if (!s || strlen(s) != 5)
        return VT_UNAVAILABLE; /* no SQLSTATE: the connection itself failed */
    if (strcmp(s, "23505") == 0)
        return VT_ALREADY_EXISTS;
    if (strcmp(s, "23503") == 0)
        return VT_FAILED_PRECONDITION;
    if (strncmp(s, "22", 2) == 0 || strcmp(s, "23514") == 0 || strcmp(s, "23502") == 0)
        return VT_INVALID_ARGUMENT;
    if (strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0)
        return VT_ABORTED;
    if (strncmp(s, "08", 2) == 0 || strncmp(s, "57P", 3) == 0 || strcmp(s, "53300") == 0)
        return VT_UNAVAILABLE;
    if (strcmp(s, "57014") == 0)
        return VT_DEADLINE_EXCEEDED; /* statement_timeout / cancel */
    return VT_INTERNAL;
}

int vt_db_conn_new(const vt_db_conn_opts *opts, vt_db_conn **out, char *err, size_t errlen)
{
    if (!opts || !opts->url) {
        snprintf(err, errlen, "a database url is required");
        return VT_INVALID_ARGUMENT;
    }
    vt_db_conn *c = calloc(1, sizeof *c);
    if (!c || !(c->url = strdup(opts->url))) {
        free(c);
        snprintf(err, errlen, "out of memory");
        return VT_RESOURCE_EXHAUSTED;
    }
    c->statements = opts->statements;
    c->nstatements = opts->statement_count;
    c->backoff_ms = BACKOFF_MIN_MS;
    *out = c;
    return VT_OK;
}

static void drop(vt_db_conn *c)
{
    if (c->pg)
        PQfinish(c->pg);
    c->pg = NULL;
}

void vt_db_conn_free(vt_db_conn *c)
{
    if (!c)
        return;
    drop(c);
    free(c->session_sql);
    free(c->url);
    free(c);
}

int vt_db_conn_set_session_sql(vt_db_conn *c, const char *sql)
{
    char *copy = sql ? strdup(sql) : NULL;
    if (sql && !copy)
        return VT_RESOURCE_EXHAUSTED;
    free(c->session_sql);
    c->session_sql = copy;
    drop(c); /* the next use connects with the new settings */
    return VT_OK;
}

static int prepare_all(vt_db_conn *c, char *err, size_t errlen)
{
    if (c->session_sql && vt_db_exec(c->pg, c->session_sql, err, errlen) != VT_OK)
        return VT_INTERNAL;
    for (size_t i = 0; i < c->nstatements; i++) {
        PGresult *r = PQprepare(c->pg, c->statements[i].name, c->statements[i].sql, 0, NULL);
        bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok)
            snprintf(err, errlen, "preparing %s: %s", c->statements[i].name,
                     PQresultErrorMessage(r));
        PQclear(r);
        if (!ok)
            return VT_INTERNAL;
    }
    return VT_OK;
}

int vt_db_conn_ensure(vt_db_conn *c, char *err, size_t errlen)
{
    if (c->pg && PQstatus(c->pg) == CONNECTION_OK)
        return VT_OK;
    drop(c);
    int64_t now = vt_monotonic_ns();
    if (now < c->next_try_ns) {
        snprintf(err, errlen, "database unavailable (reconnecting)");
        return VT_UNAVAILABLE;
    }
    c->pg = vt_db_connect(c->url, err, errlen);
    int rc = c->pg ? prepare_all(c, err, errlen) : VT_UNAVAILABLE;
    if (rc != VT_OK) {
        drop(c);
        c->next_try_ns = now + (int64_t)c->backoff_ms * 1000000;
        c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
        return rc == VT_INTERNAL ? VT_INTERNAL : VT_UNAVAILABLE;
    }
    c->backoff_ms = BACKOFF_MIN_MS;
    c->next_try_ns = 0;
    return VT_OK;
}

bool vt_db_conn_ok(const vt_db_conn *c)
{
    return c->pg && PQstatus(c->pg) == CONNECTION_OK;
}

PGconn *vt_db_conn_pg(vt_db_conn *c)
{
    return vt_db_conn_ok(c) ? c->pg : NULL;
}

static int result_status(vt_db_conn *c, PGresult *r, char *err, size_t errlen)
{
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return VT_OK;
    const char *sqlstate = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    snprintf(err, errlen, "%s", msg ? msg : PQerrorMessage(c->pg));
    size_t n = strlen(err);
    while (n > 0 && err[n - 1] == '\n')
        err[--n] = '\0';
    int rc = vt_db_status_from_sqlstate(sqlstate);
    if (PQstatus(c->pg) != CONNECTION_OK)
        rc = VT_UNAVAILABLE;
    return rc;
}

/* A statement to run: a prepared one by name, or SQL text with parameters that may be
 * binary (lengths and formats as PQexecParams takes them). */
typedef struct {
    const char *name, *sql;
    int nparams;
    const char *const *values;
    const int *lengths, *formats;
    int result_format;
} statement_call;

static PGresult *exec_call(vt_db_conn *c, const statement_call *s)
{
    if (s->sql)
        return PQexecParams(c->pg, s->sql, s->nparams, NULL, s->values, s->lengths, s->formats,
                            s->result_format);
    return PQexecPrepared(c->pg, s->name, s->nparams, s->values, NULL, NULL, s->result_format);
}

static int query(vt_db_conn *c, const statement_call *s, PGresult **res, char *err, size_t errlen)
{
    *res = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        int rc = vt_db_conn_ensure(c, err, errlen);
        if (rc != VT_OK)
            return rc;
        PGresult *r = exec_call(c, s);
        rc = result_status(c, r, err, errlen);
        if (rc == VT_OK) {
            *res = r;
            return VT_OK;
        }
        PQclear(r);
        bool broken = PQstatus(c->pg) != CONNECTION_OK;
        if (!broken || c->in_tx)
            return rc;
        /* The session died under us (e.g. PostgreSQL restarted): reconnect now,
         * ignoring the backoff once, and run the statement again. */
        drop(c);
        c->next_try_ns = 0;
    }
    return VT_UNAVAILABLE;
}

int vt_db_query(vt_db_conn *c, const char *name, int nparams, const char *const *values,
                PGresult **res, char *err, size_t errlen)
{
    statement_call s = {.name = name, .nparams = nparams, .values = values};
    return query(c, &s, res, err, errlen);
}

int vt_db_query_binary(vt_db_conn *c, const char *name, int nparams, const char *const *values,
                       PGresult **res, char *err, size_t errlen)
{
    statement_call s = {.name = name, .nparams = nparams, .values = values, .result_format = 1};
    return query(c, &s, res, err, errlen);
}

int vt_db_query_params(vt_db_conn *c, const char *sql, int nparams, const char *const *values,
                       const int *lengths, const int *formats, int result_format, PGresult **res,
                       char *err, size_t errlen)
{
    statement_call s = {.sql = sql,
                        .nparams = nparams,
                        .values = values,
                        .lengths = lengths,
                        .formats = formats,
                        .result_format = result_format};
    return query(c, &s, res, err, errlen);
}

static int exec_simple(vt_db_conn *c, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(c->pg, sql);
    int rc = result_status(c, r, err, errlen);
    PQclear(r);
    return rc;
}

int vt_db_tx(vt_db_conn *c, const char *isolation, int attempts, vt_db_tx_fn fn, void *user,
             char *err, size_t errlen)
{
    int rc = VT_ABORTED;
    for (int attempt = 0; attempt < (attempts > 0 ? attempts : 1); attempt++) {
        rc = vt_db_conn_ensure(c, err, errlen);
        if (rc != VT_OK)
            return rc;
        char begin[96];
        snprintf(begin, sizeof begin, "BEGIN ISOLATION LEVEL %s", isolation);
        rc = exec_simple(c, begin, err, errlen);
        if (rc != VT_OK) {
            if (rc == VT_UNAVAILABLE && attempt == 0) {
                drop(c); /* stale session: one fresh connection, then give up */
                c->next_try_ns = 0;
                continue;
            }
            return rc;
        }
        c->in_tx = true;
        rc = fn(c, user, err, errlen);
        if (rc == VT_OK)
            rc = exec_simple(c, "COMMIT", err, errlen);
        c->in_tx = false;
        if (rc != VT_OK && vt_db_conn_ok(c)) {
            char ignored[256];
            exec_simple(c, "ROLLBACK", ignored, sizeof ignored);
        }
        if (rc != VT_ABORTED)
            return rc;
        /* Serialization failure or deadlock: run the whole transaction again. */
    }
    return rc;
}

int vt_db_pool_new(const vt_db_pool_opts *opts, vt_db_pool **out, char *err, size_t errlen)
{
    if (!opts || opts->size == 0) {
        snprintf(err, errlen, "a pool needs at least 1 connection");
        return VT_INVALID_ARGUMENT;
    }
    vt_db_pool *pool = calloc(1, sizeof *pool);
    if (!pool || !(pool->conns = calloc(opts->size, sizeof *pool->conns))) {
        free(pool);
        snprintf(err, errlen, "out of memory");
        return VT_RESOURCE_EXHAUSTED;
    }
    pool->size = opts->size;
    for (size_t i = 0; i < opts->size; i++) {
        int rc = vt_db_conn_new(&opts->conn, &pool->conns[i], err, errlen);
        if (rc != VT_OK) {
            vt_db_pool_free(pool);
            return rc;
        }
    }
    *out = pool;
    return VT_OK;
}

void vt_db_pool_free(vt_db_pool *pool)
{
    if (!pool)
        return;
    for (size_t i = 0; pool->conns && i < pool->size; i++)
        vt_db_conn_free(pool->conns[i]);
    free(pool->conns);
    free(pool);
}

int vt_db_pool_set_session_sql(vt_db_pool *pool, const char *sql)
{
    for (size_t i = 0; i < pool->size; i++) {
        int rc = vt_db_conn_set_session_sql(pool->conns[i], sql);
        if (rc != VT_OK)
            return rc;
    }
    return VT_OK;
}

size_t vt_db_pool_size(const vt_db_pool *pool)
{
    return pool->size;
}

vt_db_conn *vt_db_pool_conn(vt_db_pool *pool, size_t index)
{
    return index < pool->size ? pool->conns[index] : NULL;
}
