/*
 * Unit tests of libs/http's listen-address resolution (vt_http_resolve_listen): a name
 * becomes the numeric IPv4 address lws needs, and what lws cannot listen on (a name
 * that does not resolve, an IPv6-only host) stops the process with exit 2 and a line
 * naming the variable.
 */
#include "vt_http.h"
#include "vt_test.h"

#include <string.h>

static void test_names_resolve(void)
{
    vt_addr a = {.host = "localhost", .port = 8080};
    vt_http_resolve_listen("VENTA_GATEWAY_ADDR", &a);
    VT_CHECK_STR(a.host, "127.0.0.1");
    VT_CHECK_INT(a.port, 8080);
    vt_addr any = {.host = "0.0.0.0", .port = 80};
    vt_http_resolve_listen("VENTA_GATEWAY_ADDR", &any);
    VT_CHECK_STR(any.host, "0.0.0.0");
}

static void resolve_ipv6(void)
{
    vt_addr a = {.host = "::1", .port = 8081};
    vt_http_resolve_listen("VENTA_WS_ADDR", &a);
}

static void resolve_unknown(void)
{
    vt_addr a = {.host = "no-such-host.invalid", .port = 8081};
    vt_http_resolve_listen("VENTA_WS_ADDR", &a);
}

static void test_refusals_name_the_variable(void)
{
    char out[2048];
    VT_CHECK_INT(vt_test_run_child(resolve_ipv6, out, sizeof out), 2);
    VT_CHECK(strstr(out, "VENTA_WS_ADDR") && strstr(out, "IPv4"));
    VT_CHECK_INT(vt_test_run_child(resolve_unknown, out, sizeof out), 2);
    VT_CHECK(strstr(out, "VENTA_WS_ADDR") && strstr(out, "does not resolve"));
}

int main(void)
{
    vt_log_init("test-http", VT_LOG_ERROR);
    VT_RUN(test_names_resolve);
    VT_RUN(test_refusals_name_the_variable);
    return VT_TEST_RESULT();
}
