/*
 * Unit tests of libs/core: status names and HTTP mapping, configuration parsing and
 * the fatal one-line error, JSON escaping for log lines, ids, whole-file reads.
 */
#include "vt_core.h"
#include "vt_json.h"
#include "vt_test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_status_names_and_http(void)
{
    VT_CHECK_STR(vt_status_name(VT_OK), "OK");
    VT_CHECK_STR(vt_status_name(VT_NOT_FOUND), "NOT_FOUND");
    VT_CHECK_STR(vt_status_name(VT_UNAUTHENTICATED), "UNAUTHENTICATED");
    VT_CHECK_STR(vt_status_name(99), "UNKNOWN");
    VT_CHECK_STR(vt_status_name(-1), "UNKNOWN");
    for (int i = 0; i < VT_STATUS_COUNT; i++)
        VT_CHECK_INT(vt_status_from_name(vt_status_name(i)), i);
    VT_CHECK_INT(vt_status_from_name("NOPE"), -1);
    VT_CHECK_INT(vt_status_from_name(NULL), -1);
    /* API.md §3: the grpc-gateway/Envoy mapping. */
    VT_CHECK_INT(vt_status_http(VT_CANCELLED), 499);
    VT_CHECK_INT(vt_status_http(VT_INVALID_ARGUMENT), 400);
    VT_CHECK_INT(vt_status_http(VT_FAILED_PRECONDITION), 400);
    VT_CHECK_INT(vt_status_http(VT_OUT_OF_RANGE), 400);
    VT_CHECK_INT(vt_status_http(VT_UNAUTHENTICATED), 401);
    VT_CHECK_INT(vt_status_http(VT_PERMISSION_DENIED), 403);
    VT_CHECK_INT(vt_status_http(VT_NOT_FOUND), 404);
    VT_CHECK_INT(vt_status_http(VT_ALREADY_EXISTS), 409);
    VT_CHECK_INT(vt_status_http(VT_ABORTED), 409);
    VT_CHECK_INT(vt_status_http(VT_RESOURCE_EXHAUSTED), 429);
    VT_CHECK_INT(vt_status_http(VT_UNIMPLEMENTED), 501);
    VT_CHECK_INT(vt_status_http(VT_UNAVAILABLE), 503);
    VT_CHECK_INT(vt_status_http(VT_DEADLINE_EXCEEDED), 504);
    VT_CHECK_INT(vt_status_http(VT_UNKNOWN), 500);
    VT_CHECK_INT(vt_status_http(VT_INTERNAL), 500);
    VT_CHECK_INT(vt_status_http(VT_DATA_LOSS), 500);
}

static void test_parse_addr(void)
{
    vt_addr a;
    char err[160];
    VT_CHECK_INT(vt_parse_addr("127.0.0.1:8080", &a, err, sizeof err), VT_OK);
    VT_CHECK_STR(a.host, "127.0.0.1");
    VT_CHECK_INT(a.port, 8080);
    VT_CHECK_INT(vt_parse_addr("[::1]:50051", &a, err, sizeof err), VT_OK);
    VT_CHECK_STR(a.host, "::1");
    VT_CHECK_INT(a.port, 50051);
    VT_CHECK_INT(vt_parse_addr("localhost:1", &a, err, sizeof err), VT_OK);
    const char *bad[] = {"",           "127.0.0.1", "127.0.0.1:", ":80",     "host:0",
                         "host:65536", "host:80x",  "::1:80",     "[::1]80", "h:-1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        VT_CHECK_INT(vt_parse_addr(bad[i], &a, err, sizeof err), VT_INVALID_ARGUMENT);
        VT_CHECK(err[0] != '\0');
    }
}

static void test_parse_int_and_bool(void)
{
    long v;
    bool b;
    char err[160];
    VT_CHECK_INT(vt_parse_int("600", 1, 86400, &v, err, sizeof err), VT_OK);
    VT_CHECK_INT(v, 600);
    VT_CHECK_INT(vt_parse_int("-5", -10, 10, &v, err, sizeof err), VT_OK);
    VT_CHECK_INT(v, -5);
    VT_CHECK_INT(vt_parse_int("0", 1, 10, &v, err, sizeof err), VT_INVALID_ARGUMENT);
    VT_CHECK(strstr(err, "between 1 and 10") != NULL);
    VT_CHECK_INT(vt_parse_int("12abc", 0, 100, &v, err, sizeof err), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_parse_int("99999999999999999999999", 0, 100, &v, err, sizeof err),
                 VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_parse_int("", 0, 100, &v, err, sizeof err), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_parse_bool("TRUE", &b, err, sizeof err), VT_OK);
    VT_CHECK(b);
    VT_CHECK_INT(vt_parse_bool("off", &b, err, sizeof err), VT_OK);
    VT_CHECK(!b);
    VT_CHECK_INT(vt_parse_bool("maybe", &b, err, sizeof err), VT_INVALID_ARGUMENT);
}

static void test_json_escape(void)
{
    char out[64];
    VT_CHECK_INT(vt_json_escape("plain", out, sizeof out), 5);
    VT_CHECK_STR(out, "plain");
    vt_json_escape("a\"b\\c\nd\x01", out, sizeof out);
    VT_CHECK_STR(out, "a\\\"b\\\\c\\nd\\u0001");
    /* Truncation never leaves half an escape sequence behind. */
    char tiny[4];
    size_t need = vt_json_escape("ab\"", tiny, sizeof tiny);
    VT_CHECK_INT(need, 4);
    VT_CHECK_STR(tiny, "ab");
    vt_json_escape(NULL, out, sizeof out);
    VT_CHECK_STR(out, "");
    /* outlen 0 only measures: nothing is written, not even the NUL. */
    char keep[2] = "x";
    VT_CHECK_INT(vt_json_escape("a\"b", keep, 0), 4);
    VT_CHECK_STR(keep, "x");
    VT_CHECK_INT(vt_json_escape("a\"b", NULL, 0), 4);
    /* The output is always UTF-8, so a JSON text or WebSocket text frame built from it
     * is valid: truncation never splits a character, and bytes that are not UTF-8
     * become U+FFFD. */
    char three[3];
    VT_CHECK_INT(vt_json_escape("a\xc3\xa9", three, sizeof three), 3);
    VT_CHECK_STR(three, "a");
    vt_json_escape("\xe4\xb8\xad|\xc3(|\xff|\xed\xa0\x80|\xf0\x9f\x98\x80", out, sizeof out);
    VT_CHECK_STR(out, "\xe4\xb8\xad|\xef\xbf\xbd(|\xef\xbf\xbd|"
                      "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|\xf0\x9f\x98\x80");
    VT_CHECK_INT(vt_json_escape("\xff", NULL, 0), 3);
}

static void test_ids(void)
{
    char a[VT_UUID_LEN + 1], b[VT_UUID_LEN + 1];
    vt_uuid_new(a);
    vt_uuid_new(b);
    VT_CHECK(vt_uuid_valid(a));
    VT_CHECK(strcmp(a, b) != 0);
    VT_CHECK(a[14] == '4');
    VT_CHECK(strchr("89ab", a[19]) != NULL);
    VT_CHECK(vt_uuid_valid("123E4567-E89B-12D3-A456-426614174000"));
    VT_CHECK(!vt_uuid_valid("123e4567-e89b-12d3-a456-42661417400"));
    VT_CHECK(!vt_uuid_valid("123e4567xe89b-12d3-a456-426614174000"));
    VT_CHECK(!vt_uuid_valid("'; DROP TABLE vendors; --000000000000"));
    VT_CHECK(!vt_uuid_valid(NULL));

    char rid[VT_REQUEST_ID_LEN + 1];
    vt_request_id_new(rid);
    VT_CHECK_INT(strlen(rid), VT_REQUEST_ID_LEN);
    VT_CHECK(vt_request_id_sane(rid));
    VT_CHECK(vt_request_id_sane("req-1.2:abc_D"));
    VT_CHECK(!vt_request_id_sane(""));
    VT_CHECK(!vt_request_id_sane("has space"));
    VT_CHECK(!vt_request_id_sane("evil\r\nX-Injected: 1"));
    char longid[200];
    memset(longid, 'a', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    VT_CHECK(!vt_request_id_sane(longid));
    VT_CHECK(vt_now_ms() > 1700000000000LL);
    int64_t t0 = vt_monotonic_ns();
    VT_CHECK(vt_monotonic_ns() >= t0);
}

/* Run fn in a child with stderr captured; return its exit status and stderr. */
static void bad_int_config(void)
{
    setenv("VENTA_LOCATION_TTL_S", "ten minutes", 1);
    vt_config_int("VENTA_LOCATION_TTL_S", 600, 1, 86400);
}

static void missing_required_config(void)
{
    unsetenv("VENTA_DATABASE_URL");
    vt_config_require("VENTA_DATABASE_URL");
}

static void bad_log_level(void)
{
    setenv("VENTA_LOG_LEVEL", "verbose", 1);
    vt_log_init_from_env("test");
}

static void bad_addr_config(void)
{
    setenv("VENTA_USER_ADDR", "localhost", 1);
    vt_config_addr("VENTA_USER_ADDR", "127.0.0.1:50051");
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_formats(void)
{
    const unsigned char b[16] = {0x0f, 0x8f, 0xad, 0x5b, 0xd9, 0xcb, 0x46, 0x9f,
                                 0xa1, 0x65, 0x70, 0x86, 0x77, 0x28, 0x95, 0x0e};
    char id[VT_UUID_LEN + 1];
    vt_uuid_format(b, id);
    VT_CHECK_STR(id, "0f8fad5b-d9cb-469f-a165-70867728950e");
    VT_CHECK(vt_uuid_valid(id));
    char hex[9];
    vt_hex_encode((const unsigned char[]){0x00, 0xff, 0x10, 0xab}, 4, hex);
    VT_CHECK_STR(hex, "00ff10ab");
    vt_hex_encode("", 0, hex);
    VT_CHECK_STR(hex, "");
    char ts[VT_RFC3339_MS_LEN + 1];
    vt_rfc3339_ms(0, ts);
    VT_CHECK_STR(ts, "1970-01-01T00:00:00.000Z");
    vt_rfc3339_ms(1795315719788LL, ts);
    VT_CHECK_STR(ts, "2026-11-22T02:48:39.788Z");
    vt_rfc3339_ms(-1, ts); /* just before the epoch, not ".-01" */
    VT_CHECK_STR(ts, "1969-12-31T23:59:59.999Z");
}

/* Deadlines for timed waits: the nanosecond carry, a past deadline as now, and a
 * condition variable on that clock that really times out near it. */
static void test_monotonic_deadlines(void)
{
    struct timespec before;
    clock_gettime(CLOCK_MONOTONIC, &before);
    struct timespec d = vt_monotonic_deadline(1999999999);
    VT_CHECK(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
    int64_t delta = (int64_t)(d.tv_sec - before.tv_sec) * 1000000000 + (d.tv_nsec - before.tv_nsec);
    VT_CHECK(delta >= 1999999999 && delta < 12000000000); /* not a timing: a sanity bound */
    struct timespec now = vt_monotonic_deadline(-5);
    VT_CHECK(now.tv_sec > before.tv_sec ||
             (now.tv_sec == before.tv_sec && now.tv_nsec >= before.tv_nsec));

    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv;
    vt_cond_init_monotonic(&cv);
    int64_t t0 = vt_monotonic_ns();
    struct timespec until = vt_monotonic_deadline(20000000);
    pthread_mutex_lock(&mu);
    int rc = 0;
    while (rc == 0)
        rc = pthread_cond_timedwait(&cv, &mu, &until);
    pthread_mutex_unlock(&mu);
    VT_CHECK(rc == ETIMEDOUT);
    VT_CHECK(vt_monotonic_ns() - t0 >= 20000000);
    pthread_cond_destroy(&cv);
}

static void test_config_failures_name_the_variable(void)
{
    char out[1024];
    VT_CHECK_INT(vt_test_run_child(bad_int_config, out, sizeof out), 2);
    VT_CHECK(strstr(out, "VENTA_LOCATION_TTL_S") != NULL);
    VT_CHECK(strstr(out, "not an integer") != NULL);
    VT_CHECK_INT(count_lines(out), 1);
    /* The same shape as every other log line, with the variable as a field. */
    VT_CHECK(strncmp(out, "{\"ts\":\"", 7) == 0);
    VT_CHECK(strstr(out, "\"service\":\"") != NULL);
    VT_CHECK(strstr(out, "\"variable\":\"VENTA_LOCATION_TTL_S\"") != NULL);

    VT_CHECK_INT(vt_test_run_child(missing_required_config, out, sizeof out), 2);
    VT_CHECK(strstr(out, "VENTA_DATABASE_URL is required") != NULL);
    VT_CHECK_INT(count_lines(out), 1);

    VT_CHECK_INT(vt_test_run_child(bad_log_level, out, sizeof out), 2);
    VT_CHECK(strstr(out, "VENTA_LOG_LEVEL") != NULL);
    VT_CHECK(strstr(out, "debug|info|warn|error") != NULL);

    VT_CHECK_INT(vt_test_run_child(bad_addr_config, out, sizeof out), 2);
    VT_CHECK(strstr(out, "VENTA_USER_ADDR") != NULL);
    VT_CHECK_INT(count_lines(out), 1);
}

static void log_one_line(void)
{
    vt_log_init("svc", VT_LOG_INFO);
    vt_log_ctx ctx = {.request_id = "req-42", .user_id = "user_\"x"};
    vt_debug(&ctx, "hidden below the level");
    vt_info(&ctx, "multi\nline \"quoted\" %d", 7);
}

static void test_log_line_is_json(void)
{
    char out[2048];
    VT_CHECK_INT(vt_test_run_child(log_one_line, out, sizeof out), 0);
    VT_CHECK_INT(count_lines(out), 1);
    VT_CHECK(strncmp(out, "{\"ts\":\"", 7) == 0);
    VT_CHECK(strstr(out, "\"level\":\"info\"") != NULL);
    VT_CHECK(strstr(out, "\"service\":\"svc\"") != NULL);
    VT_CHECK(strstr(out, "\"msg\":\"multi\\nline \\\"quoted\\\" 7\"") != NULL);
    VT_CHECK(strstr(out, "\"request_id\":\"req-42\"") != NULL);
    VT_CHECK(strstr(out, "\"user_id\":\"user_\\\"x\"") != NULL);
    VT_CHECK(strstr(out, "hidden") == NULL);
}

/* Writes n bytes of data to a new temporary file; its path in path[64]. */
static void temp_file(char path[64], const char *data, size_t n)
{
    snprintf(path, 64, "/tmp/vt-core-file.XXXXXX");
    int fd = mkstemp(path);
    VT_CHECK(fd >= 0);
    VT_CHECK(write(fd, data, n) == (ssize_t)n);
    close(fd);
}

static void test_file_read(void)
{
    char path[64], err[256] = "", *out = NULL;
    size_t len = 0;
    temp_file(path, "12345678", 8);
    /* exactly max bytes: read, NUL-terminated */
    VT_CHECK_INT(vt_file_read(path, 8, true, &out, &len, err, sizeof err), VT_OK);
    VT_CHECK_INT((int)len, 8);
    VT_CHECK_STR(out, "12345678");
    free(out);
    /* one byte over max: refused, nothing returned */
    out = NULL;
    VT_CHECK_INT(vt_file_read(path, 7, true, &out, &len, err, sizeof err), VT_INVALID_ARGUMENT);
    VT_CHECK(out == NULL);
    VT_CHECK(strstr(err, "over 7 bytes") != NULL);
    unlink(path);
    /* a NUL byte: refused as text, read as bytes */
    temp_file(path, "ab\0cd", 5);
    VT_CHECK_INT(vt_file_read(path, 100, true, &out, &len, err, sizeof err), VT_INVALID_ARGUMENT);
    VT_CHECK(strstr(err, "NUL byte") != NULL);
    VT_CHECK_INT(vt_file_read(path, 100, false, &out, &len, err, sizeof err), VT_OK);
    VT_CHECK_INT((int)len, 5);
    VT_CHECK(memcmp(out, "ab\0cd", 5) == 0);
    free(out);
    unlink(path);
    /* missing: NOT_FOUND naming the path */
    VT_CHECK_INT(vt_file_read(path, 100, true, &out, &len, err, sizeof err), VT_NOT_FOUND);
    VT_CHECK(strstr(err, path) != NULL);
}

int main(void)
{
    VT_RUN(test_status_names_and_http);
    VT_RUN(test_parse_addr);
    VT_RUN(test_parse_int_and_bool);
    VT_RUN(test_json_escape);
    VT_RUN(test_ids);
    VT_RUN(test_formats);
    VT_RUN(test_monotonic_deadlines);
    VT_RUN(test_config_failures_name_the_variable);
    VT_RUN(test_log_line_is_json);
    VT_RUN(test_file_read);
    return VT_TEST_RESULT();
}
