/*
 * Unit tests of the REST gateway's CORS (apps/gateway/rest_cors.c): which origins
 * VENTA_CORS_ORIGINS allows (exact match, "*" for development, none by default) and
 * what a preflight answers for an allowed and a refused origin.
 */
#include "rest_cors.h"
#include "rest_test.h"
#include "vt_test.h"

#include <string.h>

static void allow_origins(rest_config *cfg, const char *const *list)
{
    for (; *list; list++)
        cfg->origins[cfg->norigins++] = strdup(*list);
}

static void test_allowed_origins(void)
{
    rest_app app;
    rest_test_app(&app);
    /* Unset: no origin is allowed, so only same-origin pages can call the API. */
    VT_CHECK(!rest_cors_allowed(&app.cfg, "https://app.example"));
    VT_CHECK(!rest_cors_allowed(&app.cfg, ""));

    static const char *const list[] = {"https://app.example", "http://localhost:5173", NULL};
    allow_origins(&app.cfg, list);
    VT_CHECK(rest_cors_allowed(&app.cfg, "https://app.example"));
    VT_CHECK(rest_cors_allowed(&app.cfg, "http://localhost:5173"));
    /* Exact: scheme, host and port as the browser sends them. */
    VT_CHECK(!rest_cors_allowed(&app.cfg, "http://app.example"));
    VT_CHECK(!rest_cors_allowed(&app.cfg, "https://app.example/"));
    VT_CHECK(!rest_cors_allowed(&app.cfg, "https://app.example:443"));
    VT_CHECK(!rest_cors_allowed(&app.cfg, "https://APP.example"));
    VT_CHECK(!rest_cors_allowed(&app.cfg, "https://app.example.evil"));
    VT_CHECK(!rest_cors_allowed(&app.cfg, "http://localhost"));
    VT_CHECK(!rest_cors_allowed(&app.cfg, ""));
    VT_CHECK(!rest_cors_allowed(&app.cfg, "null"));

    /* "*" (development) allows any origin a browser sends, but not its absence. */
    app.cfg.origin_any = true;
    VT_CHECK(rest_cors_allowed(&app.cfg, "https://anything.test"));
    VT_CHECK(rest_cors_allowed(&app.cfg, "null"));
    VT_CHECK(!rest_cors_allowed(&app.cfg, ""));
    rest_test_app_free(&app);
}

static rest_req *preflight(rest_app *app, const char *origin, const char *method,
                           const char *headers)
{
    rest_req *req = rest_test_req(app, REST_OPTIONS, "/api/v1/vendors");
    snprintf(req->origin, sizeof req->origin, "%s", origin);
    req->cors_ok = rest_cors_allowed(&app->cfg, req->origin);
    if (method)
        rest_test_header(req, "access-control-request-method", method);
    if (headers)
        rest_test_header(req, "access-control-request-headers", headers);
    rest_cors_preflight(req, "POST, OPTIONS");
    VT_CHECK_INT(req->status, 204);
    VT_CHECK_INT(req->resp_len, 0);
    VT_CHECK_STR(rest_test_resp_header(req, "allow"), "POST, OPTIONS");
    return req;
}

static void test_preflight(void)
{
    rest_app app;
    rest_test_app(&app);
    static const char *const list[] = {"https://app.example", NULL};
    allow_origins(&app.cfg, list);

    rest_req *req = preflight(&app, "https://app.example", "POST", "Authorization, Content-Type");
    VT_CHECK_STR(rest_test_resp_header(req, "access-control-allow-methods"), "POST, OPTIONS");
    VT_CHECK_STR(rest_test_resp_header(req, "access-control-allow-headers"),
                 "Authorization, Content-Type");
    VT_CHECK_STR(rest_test_resp_header(req, "access-control-max-age"), "600");
    rest_req_unref(req);

    /* Requested headers that are not a plain list, or too long, get our own list. */
    static const char *const odd[] = {"x-a\r\nset-cookie: 1", "x-a; b", "", NULL};
    for (const char *const *h = odd; *h; h++) {
        req = preflight(&app, "https://app.example", "POST", *h);
        VT_CHECK_STR(rest_test_resp_header(req, "access-control-allow-headers"),
                     (*h)[0] ? "authorization, content-type, x-request-id, traceparent" : "");
        rest_req_unref(req);
    }
    char lng[300];
    memset(lng, 'a', sizeof lng - 1);
    lng[sizeof lng - 1] = '\0';
    req = preflight(&app, "https://app.example", "POST", lng);
    VT_CHECK_STR(rest_test_resp_header(req, "access-control-allow-headers"),
                 "authorization, content-type, x-request-id, traceparent");
    rest_req_unref(req);
    req = preflight(&app, "https://app.example", "POST", NULL);
    VT_CHECK_STR(rest_test_resp_header(req, "access-control-allow-headers"),
                 "authorization, content-type, x-request-id, traceparent");
    rest_req_unref(req);

    /* Another origin: the 204 carries no Access-Control-* header, a refusal. */
    req = preflight(&app, "https://evil.example", "POST", "authorization");
    VT_CHECK(!req->cors_ok);
    VT_CHECK(rest_test_resp_header(req, "access-control-allow-methods") == NULL);
    VT_CHECK(rest_test_resp_header(req, "access-control-allow-headers") == NULL);
    VT_CHECK(rest_test_resp_header(req, "access-control-max-age") == NULL);
    rest_req_unref(req);

    /* A plain OPTIONS (no Access-Control-Request-Method) is no preflight: Allow only. */
    req = preflight(&app, "https://app.example", NULL, NULL);
    VT_CHECK(req->cors_ok);
    VT_CHECK(rest_test_resp_header(req, "access-control-allow-methods") == NULL);
    rest_req_unref(req);

    /* "*": any origin passes the preflight. */
    app.cfg.origin_any = true;
    req = preflight(&app, "http://localhost:3000", "DELETE", NULL);
    VT_CHECK_STR(rest_test_resp_header(req, "access-control-allow-methods"), "POST, OPTIONS");
    rest_req_unref(req);
    rest_test_app_free(&app);
}

int main(void)
{
    VT_RUN(test_allowed_origins);
    VT_RUN(test_preflight);
    return VT_TEST_RESULT();
}
