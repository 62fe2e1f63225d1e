/*
 * Integration test of libs/service's per-method plumbing, through the real skeleton:
 * vt_service_new against the harness's PostgreSQL and NATS, methods added with
 * vt_service_add_methods, calls from a libs/rpc client over loopback. What a user of
 * the service sees is checked: reply codes and messages, and the calls_total and
 * call_seconds series on the registry that /metrics serves.
 *
 * The test's service is venta.test.v1.Echo: Unary (VT_RPC_NONBLOCKING) answers the
 * status_code it is asked for; Blocking runs a statement that raises the SQLSTATE named
 * by the message (none when empty) and answers a failure with vt_service_db_error.
 */
#include "venta/test/v1/echo.pb-c.h"
#include "vt_harness.h"
#include "vt_service.h"
#include "vt_test.h"
#include "vt_test_rpc.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

typedef Venta__Test__V1__EchoRequest EchoRequest;
typedef Venta__Test__V1__EchoResponse EchoResponse;

/* Raises the SQLSTATE it is given, or returns 1 for "". */
static const char raise_function[] =
    "CREATE FUNCTION venta_test_raise(code text) RETURNS int LANGUAGE plpgsql AS $$ "
    "BEGIN IF code <> '' THEN RAISE EXCEPTION 'raised %', code USING ERRCODE = code; END IF; "
    "RETURN 1; END $$";

static const vt_db_statement statements[] = {
    {"raise", "SELECT venta_test_raise($1)"},
};

static vt_service *svc;
static vt_rpc_channel *ch;

static int unary(vt_rpc_ctx *ctx, const ProtobufCMessage *in, ProtobufCMessage *out, void *user)
{
    const EchoRequest *req = (const void *)in;
    EchoResponse *resp = (void *)out;
    VT_CHECK(user == svc);
    if (req->status_code)
        return vt_rpc_ctx_error(ctx, req->status_code, "%s", req->status_message);
    resp->message = req->message;
    return VT_OK;
}

static int blocking(vt_rpc_ctx *ctx, const ProtobufCMessage *in, ProtobufCMessage *out, void *user)
{
    (void)out;
    (void)user;
    const EchoRequest *req = (const void *)in;
    const char *params[] = {req->message};
    PGresult *res = NULL;
    char err[512];
    int rc = vt_db_query(vt_rpc_ctx_worker(ctx), "raise", 1, params, &res, err, sizeof err);
    PQclear(res);
    if (rc != VT_OK)
        return vt_service_db_error(ctx, "test store", rc, err);
    return VT_OK;
}

static void *run(void *arg)
{
    (void)arg;
    vt_service_run(svc);
    return NULL;
}

static int call(const char *method, const char *message, int status_code, char *msg, size_t msglen)
{
    EchoRequest req = VENTA__TEST__V1__ECHO_REQUEST__INIT;
    req.message = (char *)message;
    req.status_code = status_code;
    req.status_message = "asked for";
    vt_rpc_call_opts opts = {.timeout_ms = 5000};
    vt_rpc_reply *reply = NULL;
    int rc = vt_rpc_call_unary(ch, &venta__test__v1__echo__descriptor, method,
                               (const ProtobufCMessage *)&req, &opts, &reply);
    snprintf(msg, msglen, "%s", vt_rpc_reply_message(reply));
    vt_rpc_reply_free(reply);
    return rc;
}

/* The value of one series in the registry's text, -1 when absent. */
static long long series(const char *line_start)
{
    char *text = NULL;
    vt_metrics_render(svc->metrics, &text);
    long long v = -1;
    const char *p = strstr(text, line_start);
    if (p)
        v = strtoll(p + strlen(line_start), NULL, 10);
    free(text);
    return v;
}

static void test_series_exist_before_calls(void)
{
    VT_CHECK(series("venta_test_calls_total{method=\"Unary\",code=\"OK\"} ") == 0);
    VT_CHECK(series("venta_test_calls_total{method=\"Blocking\",code=\"OK\"} ") == 0);
    VT_CHECK(series("venta_test_call_seconds_count{method=\"Unary\"} ") == 0);
    /* Only OK is there from the start: no zero series for codes never answered. */
    VT_CHECK(series("venta_test_calls_total{method=\"Unary\",code=\"NOT_FOUND\"} ") == -1);
    char *text = NULL;
    vt_metrics_render(svc->metrics, &text);
    VT_CHECK(strstr(text, "# HELP venta_test_calls_total Echo calls by method and status "
                          "code.\n") != NULL);
    VT_CHECK(strstr(text, "# HELP venta_test_call_seconds Echo call latency, every "
                          "outcome.\n") != NULL);
    free(text);
}

static void test_calls_counted_by_code(void)
{
    char msg[256];
    VT_CHECK_INT(call("Unary", "a", 0, msg, sizeof msg), VT_OK);
    VT_CHECK_INT(call("Unary", "b", 0, msg, sizeof msg), VT_OK);
    VT_CHECK_INT(call("Unary", "c", VT_NOT_FOUND, msg, sizeof msg), VT_NOT_FOUND);
    VT_CHECK_STR(msg, "asked for");
    /* A code outside the canonical ones: libs/rpc answers UNKNOWN, and so it counts. */
    VT_CHECK_INT(call("Unary", "d", 99, msg, sizeof msg), VT_UNKNOWN);
    VT_CHECK(series("venta_test_calls_total{method=\"Unary\",code=\"OK\"} ") == 2);
    VT_CHECK(series("venta_test_calls_total{method=\"Unary\",code=\"NOT_FOUND\"} ") == 1);
    VT_CHECK(series("venta_test_calls_total{method=\"Unary\",code=\"UNKNOWN\"} ") == 1);
    VT_CHECK(series("venta_test_call_seconds_count{method=\"Unary\"} ") == 4);
    VT_CHECK(series("venta_test_calls_total{method=\"Blocking\",code=\"OK\"} ") == 0);
}

typedef struct {
    const char *sqlstate;
    int code;
    const char *message;
} db_case;

static void test_db_errors_answered_alike(void)
{
    static const db_case cases[] = {
        {"", VT_OK, ""},
        {"40001", VT_ABORTED, "conflicting concurrent change, retry"},
        {"40P01", VT_ABORTED, "conflicting concurrent change, retry"},
        {"08006", VT_UNAVAILABLE, "test store unavailable, retry later"},
        {"22012", VT_INVALID_ARGUMENT, "value refused by the test store"},
        {"23514", VT_INVALID_ARGUMENT, "value refused by the test store"},
        {"23505", VT_INTERNAL, "test store error"},
        {"42P01", VT_INTERNAL, "test store error"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char msg[256];
        int rc = call("Blocking", cases[i].sqlstate, 0, msg, sizeof msg);
        if (rc != cases[i].code)
            fprintf(stderr, "SQLSTATE %s: %s (%s)\n", cases[i].sqlstate, vt_status_name(rc), msg);
        VT_CHECK_INT(rc, cases[i].code);
        VT_CHECK_STR(msg, cases[i].message);
        /* PostgreSQL's text stays in the log. */
        VT_CHECK(strstr(msg, "raised") == NULL);
    }
    VT_CHECK(series("venta_test_calls_total{method=\"Blocking\",code=\"OK\"} ") == 1);
    VT_CHECK(series("venta_test_calls_total{method=\"Blocking\",code=\"ABORTED\"} ") == 2);
    VT_CHECK(series("venta_test_calls_total{method=\"Blocking\",code=\"UNAVAILABLE\"} ") == 1);
    VT_CHECK(series("venta_test_calls_total{method=\"Blocking\",code=\"INVALID_ARGUMENT\"} ") == 2);
    VT_CHECK(series("venta_test_calls_total{method=\"Blocking\",code=\"INTERNAL\"} ") == 2);
    VT_CHECK(series("venta_test_call_seconds_count{method=\"Blocking\"} ") == 8);
}

int main(void)
{
    char *url = vt_harness_db_new("service");
    PGconn *setup = NULL;
    char err[512];
    VT_REQUIRE(vt_db_exec(vt_harness_pg(&setup, url), raise_function, err, sizeof err) == VT_OK);
    PQfinish(setup);

    int port = vt_harness_free_port(), mport = vt_harness_free_port();
    char addr[64], maddr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    snprintf(maddr, sizeof maddr, "127.0.0.1:%d", mport);
    setenv("VENTA_DATABASE_URL", url, 1);
    setenv("VENTA_NATS_URL", vt_harness_env("VENTA_TEST_NATS_URL"), 1);
    setenv("VENTA_TEST_SERVICE_ADDR", addr, 1);
    setenv("VENTA_METRICS_ADDR", maddr, 1);
    setenv("VENTA_RPC_THREADS", "2", 1);
    setenv("VENTA_LOG_LEVEL", "error", 1);
    vt_service_opts spec = {.name = "venta-test",
                            .addr_var = "VENTA_TEST_SERVICE_ADDR",
                            .addr_default = "127.0.0.1:0",
                            .metrics_default = "127.0.0.1:0",
                            .statements = statements,
                            .nstatements = 1};
    VT_REQUIRE(vt_service_new(&spec, &svc, err, sizeof err) == VT_OK);
    static const vt_rpc_method_entry table[] = {
        {"Unary", unary, VT_RPC_NONBLOCKING, NULL},
        {"Blocking", blocking, 0, NULL},
        {NULL, NULL, 0, NULL},
    };
    VT_REQUIRE(vt_service_add_methods(svc, &venta__test__v1__echo__descriptor, table, svc) ==
               VT_OK);
    /* Twice is refused, as by libs/rpc. */
    VT_CHECK_INT(vt_service_add_methods(svc, &venta__test__v1__echo__descriptor, table, svc),
                 VT_ALREADY_EXISTS);
    pthread_t runner;
    VT_REQUIRE(pthread_create(&runner, NULL, run, NULL) == 0);
    VT_REQUIRE(vt_harness_wait_port(port, 10000) == 0);
    ch = vt_test_channel(addr, NULL);

    VT_RUN(test_series_exist_before_calls);
    VT_RUN(test_calls_counted_by_code);
    VT_RUN(test_db_errors_answered_alike);

    vt_rpc_channel_free(ch);
    kill(getpid(), SIGTERM); /* blocked everywhere: vt_service_run's sigwait takes it */
    pthread_join(runner, NULL);
    vt_service_free(svc);
    free(url);
    return VT_TEST_RESULT();
}
