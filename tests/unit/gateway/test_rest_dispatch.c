/*
 * Unit tests of the REST gateway's dispatch: route matching (apps/gateway/rest_routes.c)
 * checked case by case and against a brute-force reading of the table over every path
 * built from the table's words, the query map, and rest_dispatch itself
 * (rest_dispatch.c) for the answers it gives without an upstream: 404, 405 with Allow,
 * preflights, health, metrics, the map page, draining, and 401 before any call.
 */
#include "rest_cors.h"
#include "rest_dispatch.h"
#include "rest_test.h"
#include "vt_test.h"

#include "venta/location/v1/location.pb-c.h"

#include <stdio.h>
#include <string.h>

static const rest_route *match(int method, const char *path, rest_match_result want, char *id,
                               char *allow)
{
    const rest_route *r = NULL;
    id[0] = allow[0] = '\0';
    rest_match_result got = rest_route_match(method, path, &r, id, REST_ID_MAX + 1, allow, 128);
    VT_CHECK_INT(got, want);
    if (got != want)
        fprintf(stderr, "  for %s %s\n", rest_method_name(method), path);
    return got == REST_MATCH_OK ? r : NULL;
}

static void test_match_routes_and_params(void)
{
    char id[REST_ID_MAX + 1], allow[128];
    const rest_route *r = match(REST_GET, "/api/v1/vendors/abc-123", REST_MATCH_OK, id, allow);
    VT_CHECK(r && strcmp(r->rpc, "GetVendor") == 0 && r->kind == REST_H_VENDOR_GET);
    VT_CHECK_STR(id, "abc-123");
    r = match(REST_PUT, "/api/v1/vendors/v-9/location", REST_MATCH_OK, id, allow);
    VT_CHECK(r && strcmp(r->rpc, "UpdateVendorLocation") == 0);
    VT_CHECK_STR(id, "v-9");
    r = match(REST_DELETE, "/api/v1/vendors/v-9", REST_MATCH_OK, id, allow);
    VT_CHECK(r && strcmp(r->rpc, "DeleteVendor") == 0 && r->ok_status == 204);
    /* Literal segments win over {id}: never GetVendor("nearby"). */
    r = match(REST_GET, "/api/v1/vendors/nearby", REST_MATCH_OK, id, allow);
    VT_CHECK(r && strcmp(r->rpc, "VendorsNearby") == 0);
    VT_CHECK_STR(id, "");
    r = match(REST_GET, "/api/v1/users/me/vendors", REST_MATCH_OK, id, allow);
    VT_CHECK(r && strcmp(r->rpc, "ListUserVendors") == 0 && r->auth);
    r = match(REST_GET, "/", REST_MATCH_OK, id, allow);
    VT_CHECK(r && r->kind == REST_H_STATIC && strcmp(r->file, "index.html") == 0);
    /* HEAD is served by the GET route (headers only, rest_server.c). */
    r = match(REST_HEAD, "/api/v1/vendors/abc-123", REST_MATCH_OK, id, allow);
    VT_CHECK(r && r->kind == REST_H_VENDOR_GET && r->method == REST_GET);
    VT_CHECK_STR(id, "abc-123");
    r = match(REST_POST, "/webhooks/clerk", REST_MATCH_OK, id, allow);
    VT_CHECK(r && r->kind == REST_H_WEBHOOK_CLERK && !r->auth);
    /* An id of REST_ID_MAX bytes fits, one more does not. */
    char path[256], longid[REST_ID_MAX + 2];
    memset(longid, 'a', REST_ID_MAX);
    longid[REST_ID_MAX] = '\0';
    snprintf(path, sizeof path, "/api/v1/vendors/%s", longid);
    match(REST_GET, path, REST_MATCH_OK, id, allow);
    VT_CHECK_STR(id, longid);
    strcat(path, "a");
    match(REST_GET, path, REST_MATCH_NONE, id, allow);
}

static void test_match_404_and_405(void)
{
    char id[REST_ID_MAX + 1], allow[128];
    match(REST_GET, "/api/v1/nothing", REST_MATCH_NONE, id, allow);
    match(REST_GET, "/api/v1/vendors/", REST_MATCH_NONE, id, allow); /* empty {id} */
    match(REST_GET, "/api/v1/vendors//location", REST_MATCH_NONE, id, allow);
    match(REST_GET, "/api/v1/users/me/", REST_MATCH_NONE, id, allow);
    match(REST_GET, "/healthz/x", REST_MATCH_NONE, id, allow);
    match(REST_GET, "", REST_MATCH_NONE, id, allow);
    match(REST_GET, "//", REST_MATCH_NONE, id, allow);

    match(REST_POST, "/api/v1/vendors/x", REST_MATCH_METHOD, id, allow);
    VT_CHECK_STR(allow, "GET, PATCH, DELETE, HEAD, OPTIONS");
    match(REST_GET, "/api/v1/vendors/x/location", REST_MATCH_METHOD, id, allow);
    VT_CHECK_STR(allow, "PUT, OPTIONS");
    match(REST_DELETE, "/api/v1/vendors", REST_MATCH_METHOD, id, allow);
    VT_CHECK_STR(allow, "POST, OPTIONS");
    /* The literal path's methods only: PATCH is the {id} route's, not nearby's. */
    match(REST_PATCH, "/api/v1/vendors/nearby", REST_MATCH_METHOD, id, allow);
    VT_CHECK_STR(allow, "GET, HEAD, OPTIONS");
    match(REST_HEAD, "/api/v1/vendors/x/location", REST_MATCH_METHOD, id, allow);
    VT_CHECK_STR(allow, "PUT, OPTIONS"); /* HEAD only where there is a GET */
    match(REST_OPTIONS, "/webhooks/revenuecat", REST_MATCH_METHOD, id, allow);
    VT_CHECK_STR(allow, "POST, OPTIONS");
    match(REST_METHOD_OTHER, "/metrics", REST_MATCH_METHOD, id, allow);
    VT_CHECK_STR(allow, "GET, HEAD, OPTIONS");

    /* A short Allow buffer is cut, never overrun. */
    const rest_route *r = NULL;
    char small[8];
    memset(small, 'z', sizeof small);
    VT_CHECK_INT(
        rest_route_match(REST_POST, "/api/v1/vendors/x", &r, id, sizeof id, small, sizeof small),
        REST_MATCH_METHOD);
    VT_CHECK(memchr(small, '\0', sizeof small) != NULL);
}

/* ---- the same, read off the table by brute force ---- */

/* The segments of path ("/a/b" → "a", "b"), or -1 when a segment is empty. */
static int split(const char *path, char seg[][REST_ID_MAX + 2], int max)
{
    if (path[0] != '/')
        return -1;
    if (strcmp(path, "/") == 0)
        return 0;
    int n = 0;
    for (const char *p = path + 1;; n++) {
        size_t l = strcspn(p, "/");
        if (l == 0 || n == max || l > REST_ID_MAX + 1)
            return -1;
        memcpy(seg[n], p, l);
        seg[n][l] = '\0';
        if (!p[l])
            return n + 1;
        p += l + 1;
    }
}

/* Does the path's segments fit tmpl? Sets *idseg to the {id} segment's index. */
static bool fits(const char *tmpl, char pseg[][REST_ID_MAX + 2], int np, int *idseg)
{
    char tseg[8][REST_ID_MAX + 2];
    int nt = split(tmpl, tseg, 8);
    if (nt != np)
        return false;
    *idseg = -1;
    for (int i = 0; i < nt; i++) {
        if (strcmp(tseg[i], "{id}") == 0) {
            if (strlen(pseg[i]) > REST_ID_MAX)
                return false;
            *idseg = i;
        } else if (strcmp(tseg[i], pseg[i]) != 0) {
            return false;
        }
    }
    return true;
}

/* Template a beats b when, at the first segment where one has {id} and the other a
 * literal, a has the literal. */
static bool beats(const char *a, const char *b)
{
    char sa[8][REST_ID_MAX + 2], sb[8][REST_ID_MAX + 2];
    int n = split(a, sa, 8);
    if (split(b, sb, 8) != n)
        return false;
    for (int i = 0; i < n; i++) {
        bool ia = strcmp(sa[i], "{id}") == 0, ib = strcmp(sb[i], "{id}") == 0;
        if (ia != ib)
            return ib;
    }
    return false;
}

static void check_against_table(int method, const char *path)
{
    char pseg[8][REST_ID_MAX + 2];
    int np = split(path, pseg, 8);
    bool best[64] = {false}, any = false;
    int idseg[64];
    for (int i = 0; i < rest_nroutes; i++)
        best[i] = np >= 0 && fits(rest_routes[i].path, pseg, np, &idseg[i]);
    for (int i = 0; i < rest_nroutes; i++)
        for (int j = 0; j < rest_nroutes && best[i]; j++)
            if (j != i && best[j] && beats(rest_routes[j].path, rest_routes[i].path))
                best[i] = false;
    char want_allow[128] = "";
    int want_route = -1;
    for (int m = 0; m < REST_METHOD_COUNT; m++)
        for (int i = 0; i < rest_nroutes; i++)
            if (best[i] && (rest_routes[i].method == m ||
                            (m == REST_HEAD && rest_routes[i].method == REST_GET))) {
                any = true;
                if (m == method && want_route < 0)
                    want_route = i;
                char *end = want_allow + strlen(want_allow);
                if (!strstr(want_allow, rest_method_name(m)))
                    snprintf(end, sizeof want_allow - (size_t)(end - want_allow), "%s%s",
                             want_allow[0] ? ", " : "", rest_method_name(m));
            }
    char id[REST_ID_MAX + 1], allow[128];
    const rest_route *r = NULL;
    rest_match_result got = rest_route_match(method, path, &r, id, sizeof id, allow, sizeof allow);
    int before = vt_test_failures;
    if (want_route >= 0) {
        VT_CHECK_INT(got, REST_MATCH_OK);
        VT_CHECK(got == REST_MATCH_OK && r == &rest_routes[want_route]);
        if (got == REST_MATCH_OK)
            VT_CHECK_STR(id, idseg[want_route] >= 0 ? pseg[idseg[want_route]] : "");
    } else if (any) {
        VT_CHECK_INT(got, REST_MATCH_METHOD);
        strcat(want_allow, ", OPTIONS");
        VT_CHECK_STR(allow, want_allow);
    } else {
        VT_CHECK_INT(got, REST_MATCH_NONE);
    }
    if (vt_test_failures != before)
        fprintf(stderr, "  for %s %s\n", rest_method_name(method), path);
}

/* Every path of up to five segments from the table's words (and an empty segment,
 * and one that is no word of it), with every method. */
static void test_match_against_table(void)
{
    static const char *const words[] = {"api",    "v1",       "vendors", "users", "me",
                                        "nearby", "location", "healthz", "x",     ""};
    enum { NW = sizeof words / sizeof words[0] };
    char path[128];
    int checks = 0;
    for (int depth = 0; depth <= 5; depth++) {
        int total = 1;
        for (int d = 0; d < depth; d++)
            total *= NW;
        for (int k = 0; k < total; k++) {
            size_t n = 0;
            path[0] = '\0';
            for (int d = 0, v = k; d < depth; d++, v /= NW)
                n += (size_t)snprintf(path + n, sizeof path - n, "/%s", words[v % NW]);
            if (depth == 0)
                snprintf(path, sizeof path, "/");
            for (int m = REST_METHOD_OTHER; m < REST_METHOD_COUNT; m++, checks++)
                check_against_table(m, path);
        }
    }
    /* Every template, written out with an id. */
    for (int i = 0; i < rest_nroutes; i++) {
        char p[128];
        const char *brace = strstr(rest_routes[i].path, "{id}");
        snprintf(p, sizeof p, "%.*s%s%s", brace ? (int)(brace - rest_routes[i].path) : 127,
                 rest_routes[i].path, brace ? "0f3e-id" : "", brace ? brace + 4 : "");
        for (int m = REST_METHOD_OTHER; m < REST_METHOD_COUNT; m++, checks++)
            check_against_table(m, p);
    }
    VT_CHECK(checks > 800000);
}

/* ---- the query map ---- */

static const rest_route *route_of(const char *rpc)
{
    for (int i = 0; i < rest_nroutes; i++)
        if (rest_routes[i].rpc && strcmp(rest_routes[i].rpc, rpc) == 0)
            return &rest_routes[i];
    return NULL;
}

static int nearby(char **qargs, int n, Venta__Location__V1__VendorsNearbyRequest *out, char *err)
{
    const rest_route *r = route_of("VendorsNearby");
    venta__location__v1__vendors_nearby_request__init(out);
    err[0] = '\0';
    return rest_query_apply(r->query, qargs, n, &out->base, err, 256);
}

static void test_query_map(void)
{
    Venta__Location__V1__VendorsNearbyRequest q;
    char err[256];
    char *ok[] = {"lat=1.5", "lng=-2", "radius=250", "limit=5", "limit=7", "other=1"};
    VT_CHECK_INT(nearby(ok, 6, &q, err), VT_OK);
    VT_CHECK_NEAR(q.lat, 1.5, 0);
    VT_CHECK_NEAR(q.lng, -2, 0);
    VT_CHECK_NEAR(q.radius_meters, 250, 0); /* radius → radius_meters */
    VT_CHECK_INT(q.limit, 5);               /* the first fragment of a name counts */
    char *missing[] = {"lat=1", "lng=2"};
    VT_CHECK_INT(nearby(missing, 2, &q, err), VT_INVALID_ARGUMENT);
    VT_CHECK_STR(err, "query parameter radius is required");
    char *empty[] = {"lat=1", "lng=", "radius=3"}; /* empty counts as absent */
    VT_CHECK_INT(nearby(empty, 3, &q, err), VT_INVALID_ARGUMENT);
    VT_CHECK_STR(err, "query parameter lng is required");
    char *bad[] = {"lat=north", "lng=2", "radius=3"};
    VT_CHECK_INT(nearby(bad, 3, &q, err), VT_INVALID_ARGUMENT);
    VT_CHECK(strncmp(err, "query parameter lat: ", 21) == 0);
    char *prefix[] = {"latitude=1", "lat=1", "lng=2", "radius=3", "limit="};
    VT_CHECK_INT(nearby(prefix, 5, &q, err), VT_OK); /* "latitude" is not "lat" */
    VT_CHECK_INT(q.limit, 0);
}

/* ---- rest_dispatch ---- */

static rest_app app;

static rest_req *dispatch(int method, const char *path)
{
    rest_req *req = rest_test_req(&app, method, path);
    int before = rest_test_responses;
    rest_dispatch(req);
    VT_CHECK(req->responded);
    VT_CHECK_INT(rest_test_responses, before + 1); /* the connection is told once */
    return req;
}

static void test_dispatch_404_405(void)
{
    rest_req *req = dispatch(REST_GET, "/api/v1/nope");
    VT_CHECK_INT(req->status, 404);
    VT_CHECK(rest_test_body_has(req, "{\"error\":{\"code\":\"NOT_FOUND\","
                                     "\"message\":\"no route for GET /api/v1/nope\","
                                     "\"requestId\":\"test-request\"}}"));
    VT_CHECK_INT(req->route_index, -1);
    rest_req_unref(req);

    req = dispatch(REST_POST, "/api/v1/vendors/abc");
    VT_CHECK_INT(req->status, 405);
    VT_CHECK_STR(rest_test_resp_header(req, "allow"), "GET, PATCH, DELETE, HEAD, OPTIONS");
    VT_CHECK(rest_test_body_has(req, "\"code\":\"UNIMPLEMENTED\""));
    VT_CHECK(rest_test_body_has(req, "method POST is not allowed on /api/v1/vendors/abc"));
    rest_req_unref(req);

    req = dispatch(REST_HEAD, "/api/v1/vendors/x/location");
    VT_CHECK_INT(req->status, 405);
    VT_CHECK_STR(rest_test_resp_header(req, "allow"), "PUT, OPTIONS");
    rest_req_unref(req);
}

static void test_dispatch_local_answers(void)
{
    rest_req *req = dispatch(REST_GET, "/healthz");
    VT_CHECK_INT(req->status, 200);
    VT_CHECK(req->resp_len == 15 && memcmp(req->resp, "{\"status\":\"ok\"}", 15) == 0);
    VT_CHECK(req->route && req->route->kind == REST_H_HEALTHZ);
    rest_req_unref(req);

    /* The map page is not loaded here: 404 naming the file. */
    req = dispatch(REST_GET, "/map.js");
    VT_CHECK_INT(req->status, 404);
    VT_CHECK(rest_test_body_has(req, "map.js is not available"));
    rest_req_unref(req);

    /* /metrics shows the requests answered so far, by route template and status. */
    req = dispatch(REST_GET, "/metrics");
    VT_CHECK_INT(req->status, 200);
    VT_CHECK_STR(req->content_type, "text/plain; version=0.0.4; charset=utf-8");
    VT_CHECK(rest_test_body_has(
        req, "venta_gateway_requests_total{route=\"unmatched\",status=\"404\"} 1"));
    VT_CHECK(rest_test_body_has(
        req, "venta_gateway_requests_total{route=\"GET /healthz\",status=\"200\"} 1"));
    rest_req_unref(req);

    app.draining = true;
    req = dispatch(REST_GET, "/healthz");
    VT_CHECK_INT(req->status, 503);
    VT_CHECK(req->close_after);
    VT_CHECK(rest_test_body_has(req, "the gateway is shutting down"));
    rest_req_unref(req);
    app.draining = false;
}

static void test_dispatch_auth_before_any_call(void)
{
    /* No token: 401 with WWW-Authenticate, and the path's {id} was read. */
    rest_req *req = dispatch(REST_GET, "/api/v1/vendors/f00d");
    VT_CHECK_INT(req->status, 401);
    VT_CHECK_STR(rest_test_resp_header(req, "www-authenticate"), "Bearer");
    VT_CHECK(rest_test_body_has(req, "\"code\":\"UNAUTHENTICATED\""));
    VT_CHECK(rest_test_body_has(req, "missing Authorization header"));
    VT_CHECK_STR(req->id, "f00d");
    VT_CHECK(req->route && strcmp(req->route->rpc, "GetVendor") == 0);
    VT_CHECK(!req->rl_have); /* limits are off: no X-RateLimit-* headers */
    rest_req_unref(req);

    req = rest_test_req(&app, REST_GET, "/api/v1/users/me");
    req->authorization = strdup("Basic dXNlcjpwdw==");
    rest_dispatch(req);
    VT_CHECK_INT(req->status, 401);
    VT_CHECK(!rest_test_body_has(req, "missing Authorization header"));
    rest_req_unref(req);

    /* Webhooks need no token; unconfigured, they ask the sender to retry later. */
    req = dispatch(REST_POST, "/webhooks/revenuecat");
    VT_CHECK_INT(req->status, 503);
    VT_CHECK(rest_test_body_has(req, "RevenueCat webhooks are not configured"));
    rest_req_unref(req);
}

static void test_dispatch_preflight(void)
{
    app.cfg.origins[app.cfg.norigins++] = strdup("https://app.example");
    rest_req *req = rest_test_req(&app, REST_OPTIONS, "/api/v1/vendors/abc");
    snprintf(req->origin, sizeof req->origin, "https://app.example");
    req->cors_ok = rest_cors_allowed(&app.cfg, req->origin);
    rest_test_header(req, "access-control-request-method", "PATCH");
    rest_dispatch(req);
    VT_CHECK_INT(req->status, 204);
    VT_CHECK_INT(req->resp_len, 0);
    VT_CHECK_STR(rest_test_resp_header(req, "allow"), "GET, PATCH, DELETE, HEAD, OPTIONS");
    VT_CHECK_STR(rest_test_resp_header(req, "access-control-allow-methods"),
                 "GET, PATCH, DELETE, HEAD, OPTIONS");
    rest_req_unref(req);

    /* OPTIONS on an unknown path is a 404 like any other method. */
    req = dispatch(REST_OPTIONS, "/api/v1/elsewhere");
    VT_CHECK_INT(req->status, 404);
    VT_CHECK(rest_test_resp_header(req, "allow") == NULL);
    rest_req_unref(req);
}

int main(void)
{
    rest_test_app(&app);
    VT_RUN(test_match_routes_and_params);
    VT_RUN(test_match_404_and_405);
    VT_RUN(test_match_against_table);
    VT_RUN(test_query_map);
    VT_RUN(test_dispatch_404_405);
    VT_RUN(test_dispatch_local_answers);
    VT_RUN(test_dispatch_auth_before_any_call);
    VT_RUN(test_dispatch_preflight);
    rest_test_app_free(&app);
    return VT_TEST_RESULT();
}
