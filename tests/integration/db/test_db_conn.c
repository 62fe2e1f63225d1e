/*
 * Integration tests of libs/db service connections against a real PostgreSQL:
 * prepared statements, SQLSTATE → status mapping, serialization-failure retry, and
 * recovery after PostgreSQL restarts (run alone: it restarts the harness's server).
 */
#include "vt_core.h"
#include "vt_db.h"
#include "vt_harness.h"
#include "vt_test.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const vt_db_statement statements[] = {
    {"put", "INSERT INTO items (id, label) VALUES ($1::int, $2)"},
    {"get", "SELECT label FROM items WHERE id = $1::int"},
    {"read_counter", "SELECT n FROM counter WHERE id = 1"},
    {"write_counter", "UPDATE counter SET n = $1::int WHERE id = 1"},
    {"binary_values", "SELECT $1::float8, $2::int8, $3::bool, $4::uuid, NULL::float8, 7::int4"},
};
#define NSTATEMENTS (sizeof statements / sizeof *statements)

static char *url;

static void setup_schema(void)
{
    url = vt_harness_db_new("dbconn");
    char err[512];
    PGconn *c = vt_db_connect(url, err, sizeof err);
    VT_REQUIRE(c != NULL);
    VT_REQUIRE(vt_db_exec(c,
                          "CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL "
                          "CHECK (char_length(label) <= 10));"
                          "CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL);"
                          "INSERT INTO counter VALUES (1, 0)",
                          err, sizeof err) == VT_OK);
    PQfinish(c);
}

static void malformed_url_from_env(void)
{
    setenv("VENTA_DATABASE_URL", "garbage=", 1);
    vt_db_url_from_env();
}

/* API.md §1: a malformed VENTA_DATABASE_URL stops the process naming the variable
 * (the services used to start and retry it as if the server were down). */
static void test_url_validation(void)
{
    char err[256];
    const char *good[] = {"postgresql://venta@127.0.0.1:55432/venta",
                          "host=/tmp dbname=x",
                          "postgresql:///venta?host=/run/pg",
                          "postgresql://a:5432,b:5433/x",
                          "host=a,b port=5432, dbname=x",
                          url};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        VT_CHECK_INT(vt_db_url_valid(good[i], err, sizeof err), VT_OK);
    const char *bad[] = {"garbage=",
                         "http://foo/bar",
                         "postgresql://venta@127.0.0.1:notaport/v",
                         "host=a port=0",
                         "host=a port=70000",
                         "postgresql://h:5432x/v",
                         "host=a nosuchoption=1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        VT_CHECK_INT(vt_db_url_valid(bad[i], err, sizeof err), VT_INVALID_ARGUMENT);
        VT_CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
    }
    char out[1024];
    VT_CHECK_INT(vt_test_run_child(malformed_url_from_env, out, sizeof out), 2);
    VT_CHECK(strstr(out, "VENTA_DATABASE_URL") != NULL);
    VT_CHECK(strstr(out, "garbage") != NULL);
}

/* A connection to the test database preparing table[0..count). */
static vt_db_conn *conn_of(const vt_db_statement *table, size_t count)
{
    vt_db_conn_opts o = {.url = url, .statements = table, .statement_count = count};
    vt_db_conn *c = NULL;
    char why[256];
    VT_REQUIRE(vt_db_conn_new(&o, &c, why, sizeof why) == VT_OK && c);
    return c;
}

static void test_prepared_statements_and_errors(void)
{
    vt_db_conn *c = conn_of(statements, NSTATEMENTS);
    char err[512];
    PGresult *r;
    const char *put1[] = {"1", "hello"};
    VT_CHECK_INT(vt_db_query(c, "put", 2, put1, &r, err, sizeof err), VT_OK);
    PQclear(r);
    const char *get1[] = {"1"};
    VT_CHECK_INT(vt_db_query(c, "get", 1, get1, &r, err, sizeof err), VT_OK);
    VT_CHECK(PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "hello") == 0);
    PQclear(r);
    /* SQL-looking input is only ever a value. */
    const char *sneaky[] = {"2", "'; DROP--"};
    VT_CHECK_INT(vt_db_query(c, "put", 2, sneaky, &r, err, sizeof err), VT_OK);
    PQclear(r);
    const char *get2[] = {"2"};
    VT_CHECK_INT(vt_db_query(c, "get", 1, get2, &r, err, sizeof err), VT_OK);
    VT_CHECK_STR(PQgetvalue(r, 0, 0), "'; DROP--");
    PQclear(r);

    VT_CHECK_INT(vt_db_query(c, "put", 2, put1, &r, err, sizeof err), VT_ALREADY_EXISTS);
    VT_CHECK(strstr(err, "duplicate key") != NULL);
    VT_CHECK(r == NULL);
    const char *too_long[] = {"3", "far too long a label"};
    VT_CHECK_INT(vt_db_query(c, "put", 2, too_long, &r, err, sizeof err), VT_INVALID_ARGUMENT);
    const char *not_int[] = {"x", "a"};
    VT_CHECK_INT(vt_db_query(c, "put", 2, not_int, &r, err, sizeof err), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_db_query(c, "no_such_statement", 0, NULL, &r, err, sizeof err), VT_INTERNAL);
    vt_db_conn_free(c);

    /* A statement that does not prepare is reported by name. */
    const vt_db_statement broken[] = {{"broken", "SELEKT 1"}};
    vt_db_conn *b = conn_of(broken, 1);
    VT_CHECK_INT(vt_db_conn_ensure(b, err, sizeof err), VT_INTERNAL);
    VT_CHECK(strstr(err, "preparing broken") != NULL);
    vt_db_conn_free(b);

    VT_CHECK_INT(vt_db_status_from_sqlstate("40P01"), VT_ABORTED);
    VT_CHECK_INT(vt_db_status_from_sqlstate("57P01"), VT_UNAVAILABLE);
    VT_CHECK_INT(vt_db_status_from_sqlstate("23503"), VT_FAILED_PRECONDITION);
    VT_CHECK_INT(vt_db_status_from_sqlstate("42P01"), VT_INTERNAL);
}

typedef struct {
    vt_db_conn *other;
    int attempts;
} increment;

/* Read n, let another session change it on the first attempt, then write n+1. */
static int increment_counter(vt_db_conn *c, void *user, char *err, size_t errlen)
{
    increment *inc = user;
    inc->attempts++;
    PGresult *r;
    int rc = vt_db_query(c, "read_counter", 0, NULL, &r, err, errlen);
    if (rc != VT_OK)
        return rc;
    int n = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (inc->attempts == 1) {
        const char *v[] = {"100"};
        VT_CHECK_INT(vt_db_query(inc->other, "write_counter", 1, v, &r, err, errlen), VT_OK);
        PQclear(r);
    }
    char next[16];
    snprintf(next, sizeof next, "%d", n + 1);
    const char *v[] = {next};
    rc = vt_db_query(c, "write_counter", 1, v, &r, err, errlen);
    PQclear(r);
    return rc;
}

static void test_serialization_failure_is_retried(void)
{
    vt_db_conn *a = conn_of(statements, NSTATEMENTS);
    vt_db_conn *b = conn_of(statements, NSTATEMENTS);
    increment inc = {.other = b};
    char err[512];
    VT_CHECK_INT(vt_db_tx(a, "REPEATABLE READ", 3, increment_counter, &inc, err, sizeof err),
                 VT_OK);
    VT_CHECK_INT(inc.attempts, 2);
    PGresult *r;
    VT_CHECK_INT(vt_db_query(a, "read_counter", 0, NULL, &r, err, sizeof err), VT_OK);
    VT_CHECK_STR(PQgetvalue(r, 0, 0), "101"); /* the retry saw the other session's write */
    PQclear(r);
    /* With one attempt the conflict surfaces as ABORTED and nothing is written. */
    inc.attempts = 0;
    VT_CHECK_INT(vt_db_tx(a, "REPEATABLE READ", 1, increment_counter, &inc, err, sizeof err),
                 VT_ABORTED);
    VT_CHECK_INT(vt_db_query(a, "read_counter", 0, NULL, &r, err, sizeof err), VT_OK);
    VT_CHECK_STR(PQgetvalue(r, 0, 0), "100");
    PQclear(r);
    vt_db_conn_free(a);
    vt_db_conn_free(b);
}

static int fail_midway(vt_db_conn *c, void *user, char *err, size_t errlen)
{
    (void)user;
    PGresult *r;
    const char *v[] = {"50", "rolled"};
    vt_db_query(c, "put", 2, v, &r, err, errlen);
    PQclear(r);
    snprintf(err, errlen, "validation failed");
    return VT_INVALID_ARGUMENT;
}

static void test_failed_transaction_rolls_back(void)
{
    vt_db_conn *c = conn_of(statements, NSTATEMENTS);
    char err[512];
    VT_CHECK_INT(vt_db_tx(c, "READ COMMITTED", 3, fail_midway, NULL, err, sizeof err),
                 VT_INVALID_ARGUMENT);
    VT_CHECK_STR(err, "validation failed");
    PGresult *r;
    const char *id[] = {"50"};
    VT_CHECK_INT(vt_db_query(c, "get", 1, id, &r, err, sizeof err), VT_OK);
    VT_CHECK_INT(PQntuples(r), 0);
    PQclear(r);
    vt_db_conn_free(c);
}

static void test_recovers_after_postgres_restart(void)
{
    vt_db_conn *c = conn_of(statements, NSTATEMENTS);
    char err[512];
    PGresult *r;
    const char *id[] = {"1"};
    VT_CHECK_INT(vt_db_query(c, "get", 1, id, &r, err, sizeof err), VT_OK);
    PQclear(r);
    VT_REQUIRE(vt_harness_server("restart", "postgres") == 0);
    /* The old session is gone; the statement is re-prepared on a new one. */
    VT_CHECK_INT(vt_db_query(c, "get", 1, id, &r, err, sizeof err), VT_OK);
    VT_CHECK(r && PQntuples(r) == 1);
    PQclear(r);

    VT_REQUIRE(vt_harness_server("stop", "postgres") == 0);
    VT_CHECK_INT(vt_db_query(c, "get", 1, id, &r, err, sizeof err), VT_UNAVAILABLE);
    VT_CHECK(!vt_db_conn_ok(c));
    /* Within the backoff the answer is immediate and says why. */
    int64_t t0 = vt_monotonic_ns();
    VT_CHECK_INT(vt_db_query(c, "get", 1, id, &r, err, sizeof err), VT_UNAVAILABLE);
    VT_CHECK(strstr(err, "unavailable") != NULL);
    (void)t0;
    VT_REQUIRE(vt_harness_server("start", "postgres") == 0);
    int rc = VT_UNAVAILABLE;
    for (int i = 0; i < 100 && rc != VT_OK; i++) {
        rc = vt_db_query(c, "get", 1, id, &r, err, sizeof err);
        if (rc != VT_OK)
            usleep(100000);
    }
    VT_CHECK_INT(rc, VT_OK);
    PQclear(r);
    vt_db_conn_free(c);
}

static void test_session_sql_survives_reconnects(void)
{
    static const vt_db_statement show[] = {{"show", "SELECT current_setting('application_name')"}};
    vt_db_conn *c = conn_of(show, 1);
    char err[256];
    VT_CHECK_INT(vt_db_conn_set_session_sql(c, "SET application_name = 'venta-test'"), VT_OK);
    PGresult *r;
    VT_CHECK_INT(vt_db_query(c, "show", 0, NULL, &r, err, sizeof err), VT_OK);
    VT_CHECK_STR(PQgetvalue(r, 0, 0), "venta-test");
    PQclear(r);
    /* Kill the session server-side: the reconnect runs the session SQL again. */
    PGconn *admin = vt_db_connect(url, err, sizeof err);
    PGresult *k = PQexec(admin, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE application_name = 'venta-test'");
    PQclear(k);
    PQfinish(admin);
    VT_CHECK_INT(vt_db_query(c, "show", 0, NULL, &r, err, sizeof err), VT_OK);
    VT_CHECK(r && strcmp(PQgetvalue(r, 0, 0), "venta-test") == 0);
    PQclear(r);
    VT_CHECK_INT(vt_db_conn_set_session_sql(c, "SELEKT nonsense"), VT_OK);
    VT_CHECK_INT(vt_db_query(c, "show", 0, NULL, &r, err, sizeof err), VT_INTERNAL);
    vt_db_conn_free(c);
}

static void test_binary_results(void)
{
    vt_db_conn *c = conn_of(statements, NSTATEMENTS);
    char err[256];
    PGresult *r;
    const char *in[] = {"-73.98765432101234", "-1700000000123", "true",
                        "0f8fad5b-d9cb-469f-a165-70867728950e"};
    VT_CHECK_INT(vt_db_query_binary(c, "binary_values", 4, in, &r, err, sizeof err), VT_OK);
    VT_CHECK(vt_db_bin_float8(r, 0, 0) == -73.98765432101234);
    VT_CHECK(vt_db_bin_int8(r, 0, 1) == -1700000000123LL);
    VT_CHECK(vt_db_bin_bool(r, 0, 2));
    char id[VT_UUID_LEN + 1];
    vt_db_bin_uuid(r, 0, 3, id);
    VT_CHECK_STR(id, "0f8fad5b-d9cb-469f-a165-70867728950e");
    /* NULL, and a column of another width than asked for, decode as zero / empty. */
    VT_CHECK(vt_db_bin_float8(r, 0, 4) == 0);
    VT_CHECK(vt_db_bin_int8(r, 0, 5) == 0);
    vt_db_bin_uuid(r, 0, 4, id);
    VT_CHECK_STR(id, "");
    PQclear(r);
    const char *edge[] = {"NaN", "9223372036854775807", "false",
                          "FFFFFFFF-0000-0000-0000-000000000001"};
    VT_CHECK_INT(vt_db_query_binary(c, "binary_values", 4, edge, &r, err, sizeof err), VT_OK);
    VT_CHECK(vt_db_bin_float8(r, 0, 0) != vt_db_bin_float8(r, 0, 0)); /* NaN */
    VT_CHECK(vt_db_bin_int8(r, 0, 1) == INT64_MAX);
    VT_CHECK(!vt_db_bin_bool(r, 0, 2));
    vt_db_bin_uuid(r, 0, 3, id);
    VT_CHECK_STR(id, "ffffffff-0000-0000-0000-000000000001");
    PQclear(r);
    vt_db_conn_free(c);
}

/* vt_db_query_params: bytes with NULs and high bytes go in as a binary bytea and come
 * back the same as a binary column; text parameters still work beside it; a refused
 * value maps as vt_db_query's do. */
static void test_binary_parameters(void)
{
    vt_db_conn *c = conn_of(statements, NSTATEMENTS);
    char err[256];
    PGresult *r;
    unsigned char blob[300];
    for (size_t i = 0; i < sizeof blob; i++)
        blob[i] = (unsigned char)(i * 7);
    const char *values[] = {"8", (const char *)blob};
    const int lengths[] = {0, (int)sizeof blob};
    const int formats[] = {0, 1};
    VT_CHECK_INT(vt_db_query_params(c, "SELECT $1::int + 1, $2::bytea, octet_length($2::bytea)", 2,
                                    values, lengths, formats, 1, &r, err, sizeof err),
                 VT_OK);
    VT_CHECK_INT(PQgetlength(r, 0, 1), (int)sizeof blob);
    VT_CHECK(memcmp(PQgetvalue(r, 0, 1), blob, sizeof blob) == 0);
    PQclear(r);
    VT_CHECK_INT(vt_db_query_params(c, "SELECT octet_length($1::bytea)::text", 1, values + 1,
                                    lengths + 1, formats + 1, 0, &r, err, sizeof err),
                 VT_OK);
    VT_CHECK_STR(PQgetvalue(r, 0, 0), "300");
    PQclear(r);
    const char *long_label[] = {"42", "far too long for items"};
    VT_CHECK_INT(vt_db_query_params(c, "INSERT INTO items (id, label) VALUES ($1::int, $2)", 2,
                                    long_label, NULL, NULL, 0, &r, err, sizeof err),
                 VT_INVALID_ARGUMENT);
    VT_CHECK(r == NULL);
    vt_db_conn_free(c);
}

static void test_pool(void)
{
    char err[256];
    vt_db_pool_opts o = {
        .conn = {.url = url, .statements = statements, .statement_count = NSTATEMENTS}};
    vt_db_pool *pool = NULL;
    VT_CHECK_INT(vt_db_pool_new(&o, &pool, err, sizeof err), VT_INVALID_ARGUMENT); /* size 0 */
    VT_CHECK(pool == NULL);
    o.size = 3;
    o.conn.url = NULL;
    VT_CHECK_INT(vt_db_pool_new(&o, &pool, err, sizeof err), VT_INVALID_ARGUMENT);
    VT_CHECK_STR(err, "a database url is required");
    VT_CHECK(pool == NULL);
    o.conn.url = url;
    VT_REQUIRE(vt_db_pool_new(&o, &pool, err, sizeof err) == VT_OK && pool);
    VT_CHECK_INT(vt_db_pool_size(pool), 3);
    VT_CHECK(vt_db_pool_conn(pool, 0) != vt_db_pool_conn(pool, 2));
    VT_CHECK(vt_db_pool_conn(pool, 3) == NULL);
    VT_CHECK_INT(vt_db_conn_ensure(vt_db_pool_conn(pool, 1), err, sizeof err), VT_OK);
    vt_db_pool_free(pool);
}

int main(void)
{
    vt_log_init("test-db", VT_LOG_ERROR);
    setup_schema();
    VT_RUN(test_url_validation);
    VT_RUN(test_prepared_statements_and_errors);
    VT_RUN(test_serialization_failure_is_retried);
    VT_RUN(test_failed_transaction_rolls_back);
    VT_RUN(test_binary_results);
    VT_RUN(test_binary_parameters);
    VT_RUN(test_pool);
    VT_RUN(test_session_sql_survives_reconnects);
    VT_RUN(test_recovers_after_postgres_restart);
    free(url);
    return VT_TEST_RESULT();
}
