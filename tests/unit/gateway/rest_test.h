/*
 * rest_test.h — what the REST gateway's unit tests share: an app with no server, no
 * Redis and no upstream channels, and requests whose connection is a stand-in.
 * A request answered keeps its status, headers and body in the record (rest_req.c),
 * which is where the tests read them; nothing is written anywhere.
 */
#ifndef REST_TEST_H
#define REST_TEST_H

#include "rest_app.h"
#include "rest_req.h"

#include <stdlib.h>
#include <string.h>

/* Stands in for the connection: counts the responses queued. */
static int rest_test_responses;
static inline void rest_test_response_ready(rest_req *req)
{
    (void)req;
    rest_test_responses++;
}

/* An app whose rate limits are off (no Redis to count in) and whose metrics are real. */
static inline void rest_test_app(rest_app *app)
{
    memset(app, 0, sizeof *app);
    app->metrics = vt_metrics_new();
    app->m = rest_metrics_new(app->metrics);
    app->cfg.rate_window_s = 60;
    app->response_ready = rest_test_response_ready;
}

static inline void rest_test_app_free(rest_app *app)
{
    rest_metrics_free(app->m);
    vt_metrics_free(app->metrics);
    for (int i = 0; i < app->cfg.norigins; i++)
        free(app->cfg.origins[i]);
}

/* A request on an open "connection": wsi is only compared with NULL before the
 * server's response_ready, and the tests replace that. */
static inline rest_req *rest_test_req(rest_app *app, int method, const char *path)
{
    static char connection;
    rest_req *req = rest_req_new(app, (struct lws *)&connection);
    req->method = method;
    req->path = strdup(path);
    snprintf(req->request_id, sizeof req->request_id, "test-request");
    return req;
}

/* A request header as rest_server.c captures it (lower-case name). */
static inline void rest_test_header(rest_req *req, const char *name, const char *value)
{
    rest_header *h = &req->hdrs[req->nhdrs++];
    snprintf(h->name, sizeof h->name, "%s", name);
    h->value = strdup(value);
}

/* A response header added with rest_add_header, or NULL. */
static inline const char *rest_test_resp_header(const rest_req *req, const char *name)
{
    for (size_t off = 0; off < req->extra_len;) {
        const char *n = req->extra + off, *v = n + strlen(n) + 1;
        if (strcmp(n, name) == 0)
            return v;
        off += strlen(n) + 1 + strlen(v) + 1;
    }
    return NULL;
}

/* Does the response body contain s? */
static inline bool rest_test_body_has(const rest_req *req, const char *s)
{
    return req->resp && memmem(req->resp, req->resp_len, s, strlen(s)) != NULL;
}

#endif
