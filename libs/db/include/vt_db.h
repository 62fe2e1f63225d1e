/*
 * vt_db.h — PostgreSQL access shared by the services and venta-migrate.
 *
 * Connections are plain libpq PGconn handles: every worker thread of a service owns
 * one, so nothing here locks. Migrations are the numbered files of prisma-free-sql/
 * (NNNN_name.sql), applied in order, each in its own transaction together with its
 * row in schema_migrations (version, name, SHA-256 checksum), under a session advisory
 * lock so that replicas starting together apply each file exactly once. A file whose
 * checksum differs from the recorded one stops the run: history is not rewritten.
 */
#ifndef VT_DB_H
#define VT_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The advisory lock key every migration run takes ("venta" in ASCII, 0x76656e7461). */
#define VT_DB_MIGRATION_LOCK_KEY 508970840161LL

/* Check a libpq connection string or URI without connecting: it must parse, and every
 * port it names must be a number in 1..65535. 0 or VT_INVALID_ARGUMENT with err set. */
int vt_db_url_valid(const char *url, char *err, size_t errlen);
/* VENTA_DATABASE_URL, checked as above; a missing or malformed one stops the process
 * with a one-line error naming the variable (API.md §1). */
const char *vt_db_url_from_env(void);

/* Connect and check the connection; NULL with a reason in err on failure. */
PGconn *vt_db_connect(const char *url, char *err, size_t errlen);

/* Run one SQL text without parameters (DDL, BEGIN/COMMIT); 0 or VT_* with err set. */
int vt_db_exec(PGconn *conn, const char *sql, char *err, size_t errlen);

/* ---- service connections: prepared statements, transactions, reconnection ---- */

/* A statement prepared on every (re)connection; name is how queries refer to it. */
typedef struct {
    const char *name;
    const char *sql;
} vt_db_statement;

/* One worker's connection. It connects lazily and reconnects by itself: after a
 * failure the next call tries again, no more often than the backoff allows (doubling
 * from 100 ms to 5 s), and answers VT_UNAVAILABLE meanwhile. Not thread-safe: each
 * worker thread owns one. */
typedef struct vt_db_conn vt_db_conn;

typedef struct {
    const char *url; /* libpq connection URL (required); copied */
    /* Prepared on each connect. Borrowed, not copied: statement tables are static
     * arrays, so the connection keeps the pointer and the table must outlive it. */
    const vt_db_statement *statements;
    size_t statement_count;
} vt_db_conn_opts;

/* Does not connect (the first call does). 0 with *out set, VT_INVALID_ARGUMENT without
 * a url, or VT_RESOURCE_EXHAUSTED when out of memory, the reason in err. */
int vt_db_conn_new(const vt_db_conn_opts *opts, vt_db_conn **out, char *err, size_t errlen);
void vt_db_conn_free(vt_db_conn *c);
/* SQL run on every (re)connection before the statements are prepared, for session
 * settings (e.g. "SET pg_trgm.word_similarity_threshold = 0.4"); copied. Call before
 * first use. */
int vt_db_conn_set_session_sql(vt_db_conn *c, const char *sql);
/* Connect (or check) now; 0 or VT_UNAVAILABLE with err. */
int vt_db_conn_ensure(vt_db_conn *c, char *err, size_t errlen);
bool vt_db_conn_ok(const vt_db_conn *c);
/* The raw connection, for code that needs libpq directly (NULL while down). */
PGconn *vt_db_conn_pg(vt_db_conn *c);

/* Run a prepared statement with text parameters (NULL = SQL NULL). On success *res
 * holds the result (caller PQclears); otherwise a VT_* code mapped from SQLSTATE and
 * a message in err. Outside a transaction a broken connection is re-established and
 * the statement retried once. */
int vt_db_query(vt_db_conn *c, const char *name, int nparams, const char *const *values,
                PGresult **res, char *err, size_t errlen);
/* The same with every result column in PostgreSQL's binary format: no number is
 * printed by the server and parsed back here, which is most of the cost of a read that
 * returns many rows. Decode the columns with the vt_db_bin_* functions below, which
 * expect the exact column type named (cast in the SQL: `x::float8`). */
int vt_db_query_binary(vt_db_conn *c, const char *name, int nparams, const char *const *values,
                       PGresult **res, char *err, size_t errlen);
/* An unprepared statement (SQL text, bound parameters only) whose parameters may be
 * binary: lengths and formats as PQexecParams takes them (format 1 sends the bytes of
 * a bytea as they are, instead of twice as many in hex). result_format 0 is text, 1
 * binary. Statuses and the reconnect-and-retry-once as vt_db_query. For statements
 * run rarely or with large values; the hot ones are prepared. */
int vt_db_query_params(vt_db_conn *c, const char *sql, int nparams, const char *const *values,
                       const int *lengths, const int *formats, int result_format, PGresult **res,
                       char *err, size_t errlen);
/* One binary column of a row: float8, int8, bool, or a uuid as 36-character text into
 * out[VT_UUID_LEN + 1]. A NULL or wrongly sized value decodes as 0/false/"". */
double vt_db_bin_float8(const PGresult *res, int row, int col);
int64_t vt_db_bin_int8(const PGresult *res, int row, int col);
bool vt_db_bin_bool(const PGresult *res, int row, int col);
void vt_db_bin_uuid(const PGresult *res, int row, int col, char *out);

/* Run fn inside BEGIN … COMMIT (isolation: "READ COMMITTED", "REPEATABLE READ" or
 * "SERIALIZABLE"); fn returns 0 to commit or a VT_* code to roll back. Serialization
 * failures and deadlocks (40001, 40P01) roll back and run fn again, up to attempts
 * times, so fn must do nothing outside the database that it cannot repeat. */
typedef int (*vt_db_tx_fn)(vt_db_conn *c, void *user, char *err, size_t errlen);
int vt_db_tx(vt_db_conn *c, const char *isolation, int attempts, vt_db_tx_fn fn, void *user,
             char *err, size_t errlen);

/* VT_* code for a failed result: 23505 → ALREADY_EXISTS, 22xxx/23514 → INVALID_ARGUMENT,
 * 23503 → FAILED_PRECONDITION, 40001/40P01 → ABORTED, 08xxx/57Pxx → UNAVAILABLE,
 * anything else INTERNAL. */
int vt_db_status_from_sqlstate(const char *sqlstate);

/* A fixed set of connections, one per worker: worker i uses vt_db_pool_conn(pool, i). */
typedef struct vt_db_pool vt_db_pool;
typedef struct {
    vt_db_conn_opts conn; /* every connection's */
    size_t size;          /* connections, one per worker (at least 1) */
} vt_db_pool_opts;

/* Statuses as vt_db_conn_new's; VT_INVALID_ARGUMENT also for size 0. */
int vt_db_pool_new(const vt_db_pool_opts *opts, vt_db_pool **out, char *err, size_t errlen);
void vt_db_pool_free(vt_db_pool *pool);
/* vt_db_conn_set_session_sql for every connection of the pool. */
int vt_db_pool_set_session_sql(vt_db_pool *pool, const char *sql);
size_t vt_db_pool_size(const vt_db_pool *pool);
vt_db_conn *vt_db_pool_conn(vt_db_pool *pool, size_t index);

/* ---- migrations ---- */

typedef struct {
    char version[16];  /* "0001" */
    char name[128];    /* "0001_init.sql" */
    char checksum[65]; /* hex SHA-256 of the file's bytes */
    char *sql;         /* file contents, owned by the list */
} vt_migration;

typedef struct {
    vt_migration *items;
    size_t count;
} vt_migration_list;

/* Read every NNNN_name.sql file of dir in version order. Other files are ignored;
 * two files with one version are an error. Free with vt_migration_list_free. */
int vt_migration_list_load(const char *dir, vt_migration_list *out, char *err, size_t errlen);
void vt_migration_list_free(vt_migration_list *list);

typedef enum {
    VT_MIGRATION_PENDING,
    VT_MIGRATION_APPLIED,
    VT_MIGRATION_CHANGED, /* applied, but the file's checksum no longer matches */
} vt_migration_state;

/* Called once per file by vt_db_migrate (after applying or skipping it) and by
 * vt_db_migration_status. ms is the time the apply took, 0 when not applied now. */
typedef void (*vt_migration_report_fn)(const vt_migration *m, vt_migration_state state,
                                       bool applied_now, long ms, void *user);

/* Apply pending migrations of list. Returns 0, or a VT_* code with err naming the file
 * and PostgreSQL's message; a failed file is rolled back whole and later files are not
 * attempted. *applied (may be NULL) counts the files applied by this call. */
int vt_db_migrate(PGconn *conn, const vt_migration_list *list, vt_migration_report_fn report,
                  void *user, int *applied, char *err, size_t errlen);

/* Report each file's state without changing anything. Returns 0 or a VT_* code. */
int vt_db_migration_status(PGconn *conn, const vt_migration_list *list,
                           vt_migration_report_fn report, void *user, char *err, size_t errlen);

#endif
