/*
 * rest_algolia.c — Algolia's query API on venta-gateway (API.md §8, docs/gateway.md):
 * POST /1/indexes/{index}/query and POST /1/indexes/x/queries (x being *), served by
 * VendorService.SearchVendors, so that the apps' Algolia clients work with their hosts
 * pointed here.
 *
 * Who may search: the X-Algolia-API-Key header (or the x-algolia-api-key query
 * parameter, where browser clients put it) equal to VENTA_ALGOLIA_SEARCH_KEY, compared in
 * constant time, or a session JWT in Authorization. Anything else is a 403 in Algolia's
 * error shape, before the rate limit is even asked. X-Algolia-Application-Id is
 * accepted whatever it says: there is one application here. Every index name serves
 * the vendors (the original used "vendor").
 *
 * A multi-query runs its queries one after another on the vendor channel and answers
 * {"results":[...]} in order; a query with no text is answered without a call (no hits).
 */
#include "rest_algolia.h"
#include "rest_algolia_shapes.h"
#include "rest_app.h"
#include "rest_ratelimit.h"
#include "rest_upstream.h"
#include "vt_auth.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VENDOR_SVC (&venta__vendor__v1__vendor_service__descriptor)

typedef struct {
    rest_algolia_query q[REST_ALGOLIA_QUERIES_MAX];
    size_t n, next;
    bool multi;
    vt_buf out; /* the results so far, comma-separated */
} algolia_state;

static void state_free(void *p)
{
    algolia_state *s = p;
    for (size_t i = 0; i < s->n; i++)
        rest_algolia_query_free(&s->q[i]);
    vt_buf_free(&s->out);
    free(s);
}

/* The API key from the header, else from the query string. */
static const char *api_key(const rest_req *req)
{
    const char *h = rest_req_header(req, "x-algolia-api-key");
    if (h)
        return h;
    static const char name[] = "x-algolia-api-key=";
    for (int i = 0; i < req->nqargs; i++)
        if (strncasecmp(req->qargs[i], name, sizeof name - 1) == 0)
            return req->qargs[i] + sizeof name - 1;
    return NULL;
}

static bool authorized(rest_req *req)
{
    const char *configured = req->app->cfg.algolia_search_key;
    const char *key = api_key(req);
    if (key && configured && *configured &&
        vt_auth_ct_equal(key, strlen(key), configured, strlen(configured)))
        return true;
    const char *token = NULL;
    size_t len = 0;
    char err[128];
    vt_auth_identity id;
    if (req->authorization &&
        vt_auth_bearer_token(req->authorization, &token, &len, err, sizeof err) == VT_OK &&
        vt_auth_verify(req->app->verifier, token, len, (int64_t)time(NULL), &id, err, sizeof err) ==
            VT_OK) {
        snprintf(req->user_id, sizeof req->user_id, "%s", id.sub);
        return true;
    }
    return false;
}

static int64_t elapsed_ms(const rest_req *req)
{
    return (vt_monotonic_ns() - req->start_ns) / 1000000;
}

static void run_next(rest_req *req);

static void add_result(rest_req *req, const Venta__Vendor__V1__SearchVendorsResponse *resp)
{
    algolia_state *s = req->held_state;
    if (s->next > 0)
        vt_buf_putc(&s->out, ',');
    rest_algolia_result_json(&s->q[s->next], resp, elapsed_ms(req), &s->out);
    s->next++;
}

static void on_search(rest_req *req, vt_rpc_reply *reply)
{
    if (vt_rpc_reply_status(reply) != VT_OK || !vt_rpc_reply_response(reply)) {
        rest_respond_rpc_error(req, REST_UP_VENDOR, reply);
        vt_rpc_reply_free(reply);
        return;
    }
    add_result(req, (const void *)vt_rpc_reply_response(reply));
    vt_rpc_reply_free(reply);
    run_next(req);
}

static bool blank(const char *s)
{
    return s[strspn(s, " \t\r\n")] == '\0';
}

static void run_next(rest_req *req)
{
    algolia_state *s = req->held_state;
    while (s->next < s->n && blank(s->q[s->next].req->q))
        add_result(req, NULL);
    if (s->next < s->n) {
        ProtobufCMessage *m = &s->q[s->next].req->base;
        s->q[s->next].req = NULL; /* the call owns it now */
        rest_upstream_call_or_fail(req, REST_UP_VENDOR, VENDOR_SVC, "SearchVendors", m, on_search);
        return;
    }
    vt_buf b = VT_BUF_INIT;
    if (s->multi)
        vt_buf_puts(&b, "{\"results\":[");
    vt_buf_put(&b, s->out.data, s->out.len);
    if (s->multi)
        vt_buf_puts(&b, "]}");
    rest_respond_buf(req, 200, "application/json; charset=UTF-8", &b);
}

static void after_ratelimit(rest_req *req, bool allowed)
{
    if (!req->wsi || req->responded)
        return;
    if (!allowed) {
        rest_respond_error(req, VT_RESOURCE_EXHAUSTED, "rate limit exceeded, retry after %ld s",
                           req->rl_reset_s);
        return;
    }
    algolia_state *s = calloc(1, sizeof *s);
    if (!s) {
        rest_respond_error(req, VT_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    req->held_state = s;
    req->held_state_free = state_free;
    char err[256];
    int rc;
    if (req->route->kind == REST_H_ALGOLIA_QUERIES) {
        s->multi = true;
        rc = rest_algolia_parse_queries(req->body, req->body_len, s->q, &s->n, err, sizeof err);
    } else {
        rc = rest_algolia_parse_query(req->id, req->body, req->body_len, &s->q[0], err, sizeof err);
        s->n = rc == VT_OK ? 1 : 0;
    }
    if (rc != VT_OK) {
        rest_respond_error(req, rc, "%s", err);
        return;
    }
    run_next(req);
}

void rest_algolia_start(rest_req *req)
{
    if (!authorized(req)) {
        rest_respond_error_http(req, 403, "PERMISSION_DENIED", "Invalid Application-ID or API key");
        return;
    }
    rest_ratelimit_check(req, after_ratelimit);
}
