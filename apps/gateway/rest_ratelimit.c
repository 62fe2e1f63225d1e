/*
 * rest_ratelimit.c — fixed-window rate limits in Redis, per client IP and per user.
 *
 * One EVAL per request counts it in both windows atomically: INCR each key, give a
 * key its PEXPIRE on the first hit of a window (and repair a key that lost its TTL),
 * and return every count with its remaining TTL. vt_kv exposes no array replies, so
 * the script returns them as one string "count ttl_ms [count ttl_ms]". Redis runs the
 * script as one unit, so concurrent gateways sharing a Redis share the windows
 * exactly.
 *
 * The response carries X-RateLimit-Limit/-Remaining/-Reset of the tighter window, and
 * a 429 carries Retry-After (seconds until the window that refused it resets).
 *
 * Redis away: the request is let through (fail open) and counted in
 * venta_gateway_ratelimit_failopen_total. Rate limits protect the services from
 * abuse; refusing every user because a cache is restarting would be the larger outage.
 */
#include "rest_ratelimit.h"
#include "rest_app.h"
#include "rest_metrics.h"
#include "rest_req.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char script[] =
    "local out = {}\n"
    "for i, k in ipairs(KEYS) do\n"
    "  local c = redis.call('INCR', k)\n"
    "  local t = redis.call('PTTL', k)\n"
    "  if c == 1 or t < 0 then redis.call('PEXPIRE', k, ARGV[1]); t = tonumber(ARGV[1]) end\n"
    "  out[#out + 1] = c .. ' ' .. t\n"
    "end\n"
    "return table.concat(out, ' ')\n";

typedef struct {
    rest_req *req;
    void (*next)(rest_req *req, bool allowed);
    long limits[REST_RL_WINDOWS];
    bool user_is[REST_RL_WINDOWS];
    int nkeys;
} rl_ctx;

bool rest_ratelimit_judge(const char *reply, size_t len, const long *limits, int n,
                          rest_ratelimit_verdict *v)
{
    long counts[REST_RL_WINDOWS] = {0, 0}, ttls[REST_RL_WINDOWS] = {0, 0};
    char buf[128];
    if (n < 1 || n > REST_RL_WINDOWS)
        return false;
    size_t k = len < sizeof buf - 1 ? len : sizeof buf - 1;
    memcpy(buf, reply, k);
    buf[k] = '\0';
    if (sscanf(buf, "%ld %ld %ld %ld", &counts[0], &ttls[0], &counts[1], &ttls[1]) < 2 * n)
        return false;
    /* The window that refused the request, else the one with the fewest left (the
     * first on a tie): the headers then tell a client how long it can go on. */
    int pick = -1;
    long best_remaining = 0;
    v->allowed = true;
    for (int i = 0; i < n; i++) {
        long remaining = limits[i] - counts[i];
        if (remaining < 0)
            remaining = 0;
        if (counts[i] > limits[i]) {
            v->allowed = false;
            pick = i;
            break;
        }
        if (pick < 0 || remaining < best_remaining) {
            pick = i;
            best_remaining = remaining;
        }
    }
    long remaining = limits[pick] - counts[pick];
    v->window = pick;
    v->limit = limits[pick];
    v->remaining = remaining < 0 ? 0 : remaining;
    v->reset_s = (ttls[pick] + 999) / 1000;
    if (v->reset_s < 1)
        v->reset_s = 1;
    return true;
}

static void on_reply(int status, const vt_kv_reply *reply, void *user)
{
    rl_ctx *c = user;
    rest_req *req = c->req;
    rest_app *app = req->app;
    rest_ratelimit_verdict v = {.allowed = true};
    bool judged = status == VT_OK && reply && reply->type == VT_KV_STRING && reply->str &&
                  rest_ratelimit_judge(reply->str, reply->len, c->limits, c->nkeys, &v);
    if (!judged) {
        rest_metrics_ratelimit_failopen(app->m);
        if (status == VT_OK && reply && reply->type == VT_KV_ERROR)
            vt_warn(NULL, "ratelimit: redis error: %.*s", (int)reply->len, reply->str);
    } else {
        if (!v.allowed)
            rest_metrics_ratelimited(app->m, c->user_is[v.window]);
        req->rl_have = true;
        req->rl_limit = v.limit;
        req->rl_remaining = v.remaining;
        req->rl_reset_s = v.reset_s;
        if (!v.allowed) {
            char s[32];
            snprintf(s, sizeof s, "%ld", v.reset_s);
            rest_add_header(req, "retry-after", s);
        }
    }
    void (*next)(rest_req *, bool) = c->next;
    free(c);
    next(req, v.allowed);
    rest_req_unref(req);
}

void rest_ratelimit_check(rest_req *req, void (*next)(rest_req *req, bool allowed))
{
    rest_app *app = req->app;
    rl_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        next(req, true);
        return;
    }
    c->req = req;
    c->next = next;
    char ipkey[128], userkey[VT_AUTH_SUB_MAX + 32], window[32];
    const char *argv[6];
    size_t argvlen[6];
    int argc = 0;
    argv[argc++] = "EVAL";
    argv[argc++] = script;
    int nkeys_at = argc++;
    if (app->cfg.rate_ip > 0) {
        snprintf(ipkey, sizeof ipkey, "venta:rl:ip:%s", req->client_ip);
        argv[argc++] = ipkey;
        c->limits[c->nkeys] = app->cfg.rate_ip;
        c->user_is[c->nkeys++] = false;
    }
    if (app->cfg.rate_user > 0 && req->user_id[0]) {
        snprintf(userkey, sizeof userkey, "venta:rl:user:%s", req->user_id);
        argv[argc++] = userkey;
        c->limits[c->nkeys] = app->cfg.rate_user;
        c->user_is[c->nkeys++] = true;
    }
    if (c->nkeys == 0) {
        free(c);
        next(req, true);
        return;
    }
    char nk[8];
    snprintf(nk, sizeof nk, "%d", c->nkeys);
    argv[nkeys_at] = nk;
    snprintf(window, sizeof window, "%ld", app->cfg.rate_window_s * 1000);
    argv[argc++] = window;
    for (int i = 0; i < argc; i++)
        argvlen[i] = strlen(argv[i]);
    rest_req_ref(req);
    vt_kv_command_argv(app->kv, on_reply, c, argc, argv, argvlen);
}
