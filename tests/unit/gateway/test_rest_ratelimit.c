/*
 * Unit tests of the REST gateway's rate limit decision (apps/gateway/rest_ratelimit.c):
 * reading the Lua script's reply, which window the X-RateLimit-* headers describe,
 * Reset and Retry-After seconds, fail-open on a reply that cannot be read, and a
 * randomized comparison with a plain reading of docs/gateway.md's rules. The counting
 * itself is one EVAL in Redis and is tested end to end (tests/e2e/gateway).
 */
#include "rest_ratelimit.h"
#include "rest_test.h"
#include "vt_test.h"

#include <stdio.h>
#include <string.h>

static bool judge(const char *reply, const long *limits, int n, rest_ratelimit_verdict *v)
{
    memset(v, 0x55, sizeof *v); /* a field the judge forgets shows up */
    return rest_ratelimit_judge(reply, strlen(reply), limits, n, v);
}

static void test_one_window(void)
{
    long limit[] = {600};
    rest_ratelimit_verdict v;
    VT_CHECK(judge("1 60000", limit, 1, &v));
    VT_CHECK(v.allowed);
    VT_CHECK_INT(v.window, 0);
    VT_CHECK_INT(v.limit, 600);
    VT_CHECK_INT(v.remaining, 599);
    VT_CHECK_INT(v.reset_s, 60);
    VT_CHECK(judge("600 1", limit, 1, &v)); /* the last one allowed */
    VT_CHECK(v.allowed);
    VT_CHECK_INT(v.remaining, 0);
    VT_CHECK_INT(v.reset_s, 1); /* 1 ms left rounds up to a second */
    VT_CHECK(judge("601 1500", limit, 1, &v));
    VT_CHECK(!v.allowed);
    VT_CHECK_INT(v.remaining, 0);
    VT_CHECK_INT(v.reset_s, 2);              /* Retry-After: 1.5 s → 2 */
    VT_CHECK(judge("700 -1", limit, 1, &v)); /* a key without TTL: never 0 s */
    VT_CHECK_INT(v.reset_s, 1);
}

static void test_two_windows(void)
{
    long limits[] = {600, 300}; /* ip, user */
    rest_ratelimit_verdict v;
    /* Both allow: the headers describe the one with fewer requests left. */
    VT_CHECK(judge("10 50000 290 20000", limits, 2, &v));
    VT_CHECK(v.allowed && v.window == 1 && v.limit == 300 && v.remaining == 10);
    VT_CHECK_INT(v.reset_s, 20);
    VT_CHECK(judge("595 50000 10 20000", limits, 2, &v));
    VT_CHECK(v.allowed && v.window == 0 && v.remaining == 5 && v.reset_s == 50);
    /* A tie goes to the first window. */
    VT_CHECK(judge("500 1000 200 2000", limits, 2, &v));
    VT_CHECK(v.allowed && v.window == 0 && v.reset_s == 1);
    /* The user window refuses although the IP has room: its reset is the Retry-After. */
    VT_CHECK(judge("10 50000 301 7000", limits, 2, &v));
    VT_CHECK(!v.allowed && v.window == 1 && v.limit == 300 && v.remaining == 0);
    VT_CHECK_INT(v.reset_s, 7);
    /* Both refuse: the first (the IP's) is named. */
    VT_CHECK(judge("601 3000 301 7000", limits, 2, &v));
    VT_CHECK(!v.allowed && v.window == 0 && v.reset_s == 3);
}

static void test_unreadable_reply_fails_open(void)
{
    long limits[] = {600, 300};
    rest_ratelimit_verdict v;
    VT_CHECK(!judge("", limits, 1, &v));
    VT_CHECK(!judge("ERR unknown script", limits, 1, &v));
    VT_CHECK(!judge("5", limits, 1, &v));
    VT_CHECK(!judge("5 1000", limits, 2, &v)); /* one pair for two windows */
    VT_CHECK(!judge("5 1000 x 1000", limits, 2, &v));
    VT_CHECK(!judge("5 1000", limits, 0, &v));
    VT_CHECK(!judge("5 1000 5 1000 5 1000", limits, 3, &v));
    /* Only the first 127 bytes are read: a padded reply is not a valid one. */
    char padded[300];
    memset(padded, ' ', sizeof padded);
    memcpy(padded + 200, "5 1000", 7);
    VT_CHECK(!rest_ratelimit_judge(padded, strlen(padded), limits, 1, &v));
}

/* docs/gateway.md, read literally: a request passes when no window is over its limit;
 * the headers describe the first window over its limit, else the window with the
 * fewest requests left (the first on a tie); Reset is the TTL in whole seconds
 * rounded up, at least 1. */
static void spec(const long *limits, const long *counts, const long *ttls, int n,
                 rest_ratelimit_verdict *want)
{
    int over = -1, tightest = 0;
    for (int i = 0; i < n; i++) {
        if (over < 0 && counts[i] > limits[i])
            over = i;
        long left_i = limits[i] - counts[i], left_t = limits[tightest] - counts[tightest];
        if ((left_i < 0 ? 0 : left_i) < (left_t < 0 ? 0 : left_t))
            tightest = i;
    }
    int w = over >= 0 ? over : tightest;
    want->allowed = over < 0;
    want->window = w;
    want->limit = limits[w];
    want->remaining = counts[w] >= limits[w] ? 0 : limits[w] - counts[w];
    want->reset_s = ttls[w] <= 1000 ? 1 : ttls[w] / 1000 + (ttls[w] % 1000 != 0);
}

static void test_random_against_spec(void)
{
    srand(7);
    for (int k = 0; k < 200000; k++) {
        int n = 1 + rand() % 2;
        long limits[2], counts[2], ttls[2];
        for (int i = 0; i < n; i++) {
            limits[i] = 1 + rand() % 20;
            counts[i] = 1 + rand() % 25;
            ttls[i] = rand() % 5 == 0 ? -1 : rand() % 65000;
        }
        char reply[128];
        if (n == 1)
            snprintf(reply, sizeof reply, "%ld %ld", counts[0], ttls[0]);
        else
            snprintf(reply, sizeof reply, "%ld %ld %ld %ld", counts[0], ttls[0], counts[1],
                     ttls[1]);
        rest_ratelimit_verdict got, want;
        spec(limits, counts, ttls, n, &want);
        int before = vt_test_failures;
        VT_CHECK(judge(reply, limits, n, &got));
        VT_CHECK_INT(got.allowed, want.allowed);
        VT_CHECK_INT(got.window, want.window);
        VT_CHECK_INT(got.limit, want.limit);
        VT_CHECK_INT(got.remaining, want.remaining);
        VT_CHECK_INT(got.reset_s, want.reset_s);
        if (vt_test_failures != before) {
            fprintf(stderr, "  reply \"%s\", limits %ld %ld\n", reply, limits[0],
                    n > 1 ? limits[1] : 0);
            break;
        }
    }
}

/* Both limits off: no Redis is asked, the request passes at once, no headers. */
static void seen(rest_req *req, bool allowed)
{
    req->status = allowed ? 1 : 2;
}

static void test_limits_off_pass_at_once(void)
{
    rest_app app;
    rest_test_app(&app);
    rest_req *req = rest_test_req(&app, REST_GET, "/api/v1/users/me");
    snprintf(req->user_id, sizeof req->user_id, "user_1");
    rest_ratelimit_check(req, seen);
    VT_CHECK_INT(req->status, 1);
    VT_CHECK(!req->rl_have);
    VT_CHECK_INT(req->refs, 1);
    /* The user limit alone is on, but the request has no user: still nothing to count. */
    app.cfg.rate_user = 300;
    req->user_id[0] = '\0';
    req->status = 0;
    rest_ratelimit_check(req, seen);
    VT_CHECK_INT(req->status, 1);
    rest_req_unref(req);
    rest_test_app_free(&app);
}

int main(void)
{
    VT_RUN(test_one_window);
    VT_RUN(test_two_windows);
    VT_RUN(test_unreadable_reply_fails_open);
    VT_RUN(test_random_against_spec);
    VT_RUN(test_limits_off_pass_at_once);
    return VT_TEST_RESULT();
}
