/*
 * rest_ratelimit.h — fixed-window rate limits in Redis, per client IP and per user
 * (rest_ratelimit.c).
 */
#ifndef REST_RATELIMIT_H
#define REST_RATELIMIT_H

#include "rest_req.h"

#include <stdbool.h>
#include <stddef.h>

/* At most two windows: the client IP's and the user's. */
#define REST_RL_WINDOWS 2

/* What the counts say about one request: whether it passes, and the window the
 * X-RateLimit-* headers describe (the one that refused it, else the tightest). */
typedef struct {
    bool allowed;
    int window; /* index into the limits given to rest_ratelimit_judge */
    long limit, remaining, reset_s;
} rest_ratelimit_verdict;

/* Judge a request from the script's reply "count ttl_ms [count ttl_ms]" for n windows
 * with these limits. false when the reply does not hold n pairs (the caller fails
 * open); else *v is filled. A pure function, so tests can judge without Redis. */
bool rest_ratelimit_judge(const char *reply, size_t len, const long *limits, int n,
                          rest_ratelimit_verdict *v);

/* Checks (and counts) the request against the IP and, when user_id is non-empty, the
 * user window; sets the req->rl_* outcome and, for a refusal, Retry-After; then calls
 * next(req, allowed), at once or from Redis's reply. Fails open when Redis is away. */
void rest_ratelimit_check(rest_req *req, void (*next)(rest_req *req, bool allowed));

#endif
