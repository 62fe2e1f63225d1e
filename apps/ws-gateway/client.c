/*
 * client.c — what a client may do and what it asks for: authentication, limits, and
 * the dispatch of its messages to fanout.c (watches), snapshot.c and streams.c (vendor
 * positions). ws_server.c hands it the socket's events; it sends replies through conn.c.
 *
 * Authentication (API.md §2): the Authorization header or the access_token query
 * parameter at the upgrade, or else a first message {"op":"auth"} within
 * auth_timeout_s. A bad token closes with 1008 and a reason saying why; so does a
 * first message that is not auth, or silence past the timer.
 *
 * Limits: a token bucket on client messages (rate_per_s, rate_burst), and a flood
 * that outlasts rate_close_s seconds closes with 1008; messages over max_frame bytes
 * close with 1009; every error sent back for bad input is a strike, a good message
 * takes one back, and max_strikes outstanding close with 1008.
 */
#include "client.h"

#include "conn.h"
#include "fanout.h"
#include "snapshot.h"
#include "streams.h"
#include "ws_gateway.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int client_authenticate(conn *c, const char *token, size_t len, char *err, size_t errlen)
{
    vt_auth_identity id;
    int rc = vt_auth_verify(c->g->auth, token, len, vt_now_ms() / 1000, &id, err, errlen);
    if (rc != VT_OK) {
        vt_counter_inc(c->g->m.auth_failures);
        return VT_UNAUTHENTICATED;
    }
    if (c->user_id && strcmp(c->user_id, id.sub) != 0) {
        snprintf(err, errlen, "this connection is already authenticated as another user");
        return VT_PERMISSION_DENIED;
    }
    if (!c->user_id)
        c->user_id = strdup(id.sub);
    return c->user_id ? VT_OK : VT_RESOURCE_EXHAUSTED;
}

/* Close reasons are at most 123 bytes; keep ours well inside that. */
static void close_unauthenticated(conn *c, const char *why)
{
    static char reasons[8][120]; /* static text for conn_close: a small rotating pool */
    static int next;
    char *r = reasons[next++ % 8];
    snprintf(r, sizeof reasons[0], "UNAUTHENTICATED: %.90s", why);
    conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, r);
}

int client_established(conn *c)
{
    ws_gateway *g = c->g;
    if (g->stopping) {
        conn_close(c, LWS_CLOSE_STATUS_GOINGAWAY, "server shutting down");
        return -1;
    }
    char *buf = malloc(VT_AUTH_TOKEN_MAX + 64);
    if (!buf)
        return -1;
    const char *token = NULL;
    size_t tlen = 0;
    char err[200] = "";
    int hlen = lws_hdr_total_length(c->wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
    if (hlen > 0) {
        if (hlen >= VT_AUTH_TOKEN_MAX + 64 ||
            lws_hdr_copy(c->wsi, buf, VT_AUTH_TOKEN_MAX + 64, WSI_TOKEN_HTTP_AUTHORIZATION) < 0) {
            snprintf(err, sizeof err, "Authorization header too long");
        } else if (vt_auth_bearer_token(buf, &token, &tlen, err, sizeof err) != VT_OK) {
            token = NULL;
        }
        if (!token) {
            vt_counter_inc(g->m.auth_failures);
            close_unauthenticated(c, err);
            free(buf);
            return -1;
        }
    } else {
        const char *q =
            lws_get_urlarg_by_name(c->wsi, "access_token=", buf, VT_AUTH_TOKEN_MAX + 64);
        if (q) {
            token = q;
            tlen = strlen(q);
        }
    }
    if (token) {
        int rc = client_authenticate(c, token, tlen, err, sizeof err);
        free(buf);
        if (rc != VT_OK) {
            close_unauthenticated(c, err);
            return -1;
        }
        c->state = CONN_OPEN;
        return 0;
    }
    free(buf);
    c->auth_deadline_ms = vt_now_ms() + (int64_t)g->cfg.auth_timeout_s * 1000;
    return 0;
}

void client_sweep(ws_gateway *g, int64_t now_ms)
{
    for (conn *c = g->conns; c; c = c->next)
        if (c->state == CONN_AUTH_WAIT && c->auth_deadline_ms && now_ms >= c->auth_deadline_ms)
            client_timer(c);
}

int client_timer(conn *c)
{
    if (c->state == CONN_AUTH_WAIT) {
        vt_counter_inc(c->g->m.auth_failures);
        close_unauthenticated(c, "no auth message in time");
        /* The close frame goes out from the writeable callback; lws drops the socket
         * without one when a timer callback returns -1. */
    }
    return 0;
}

static bool take_token(conn *c)
{
    int64_t now = vt_now_ms();
    ws_config *cfg = &c->g->cfg;
    c->tokens += (double)(now - c->tokens_ms) * cfg->rate_per_s / 1000.0;
    if (c->tokens > cfg->rate_burst)
        c->tokens = cfg->rate_burst;
    c->tokens_ms = now;
    if (c->tokens < 1)
        return false;
    c->tokens -= 1;
    return true;
}

static void handle_auth(conn *c, const client_msg *m)
{
    char err[200];
    int rc = client_authenticate(c, m->token, m->token_len, err, sizeof err);
    if (c->state == CONN_AUTH_WAIT) {
        if (rc != VT_OK) {
            close_unauthenticated(c, err);
            return;
        }
        c->state = CONN_OPEN;
        conn_send_ack(c, m->ref);
        return;
    }
    /* Re-authentication on an open connection (a refreshed token). */
    if (rc != VT_OK) {
        conn_send_error(c, rc == VT_UNAUTHENTICATED ? "UNAUTHENTICATED" : "PERMISSION_DENIED", err,
                        m->ref);
        conn_strike(c);
        return;
    }
    conn_send_ack(c, m->ref);
}

/* A message dropped for the rate. One error per second of flooding, carrying the ref
 * of the message that drew it (answering each dropped message would let a flood fill
 * the client's own queue with our replies); a burst passes, and only a flood that lasts
 * rate_close_s seconds in a row closes the connection (API.md §4: "persistently"). */
static void rate_limited(conn *c, const char *text, size_t len)
{
    ws_gateway *g = c->g;
    vt_counter_inc(g->m.dropped_rate);
    int64_t now = vt_now_ms();
    if (now - c->rate_error_ms < 1000)
        return;
    /* flood_seconds counts one-second marks since the flood began: the first drop is
     * mark 1, and mark rate_close_s + 1 comes once rate_close_s whole seconds passed. */
    c->flood_seconds = now - c->rate_error_ms < 2000 ? c->flood_seconds + 1 : 1;
    c->rate_error_ms = now;
    if (c->flood_seconds > g->cfg.rate_close_s) {
        conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "rate limit exceeded persistently");
        return;
    }
    client_msg m;
    char err[256], msg[96];
    msg_parse(text, len, &m, err, sizeof err); /* for its ref only */
    snprintf(msg, sizeof msg, "rate limit: at most %d messages per second", g->cfg.rate_per_s);
    conn_send_error(c, "RESOURCE_EXHAUSTED", msg, m.ref);
    msg_parse_done(&m);
}

void client_message(conn *c, const char *text, size_t len)
{
    ws_gateway *g = c->g;
    vt_counter_inc(g->m.msgs_in);
    if (!take_token(c)) {
        rate_limited(c, text, len);
        return;
    }
    client_msg m;
    char err[256];
    int rc = msg_parse(text, len, &m, err, sizeof err);
    if (rc != VT_OK) {
        if (c->state == CONN_AUTH_WAIT) {
            close_unauthenticated(c, "the first message must be {\"op\":\"auth\",\"token\":...}");
        } else {
            conn_send_error(c, "INVALID_ARGUMENT", err, m.ref);
            conn_strike(c);
        }
        msg_parse_done(&m);
        return;
    }
    if (c->state == CONN_AUTH_WAIT && m.op != OP_AUTH) {
        close_unauthenticated(c, "the first message must be {\"op\":\"auth\",\"token\":...}");
        msg_parse_done(&m);
        return;
    }
    bool ok = true;
    switch (m.op) {
    case OP_AUTH:
        handle_auth(c, &m);
        ok = false; /* strikes handled inside */
        break;
    case OP_LOCATION:
        stream_location(c, &m);
        ok = false;
        break;
    case OP_WATCH_BOUNDS:
        conn_set_role(c, ROLE_VIEWER);
        if ((rc = fanout_watch_bounds(c, &m.box, err, sizeof err)) == VT_OK)
            snapshot_request(c, m.ref); /* the snapshot, then the ack */
        break;
    case OP_WATCH_VENDOR:
        conn_set_role(c, ROLE_VIEWER);
        if ((rc = fanout_watch_vendor(c, m.vendor_id, err, sizeof err)) == VT_OK)
            conn_send_ack(c, m.ref);
        break;
    case OP_UNWATCH_VENDOR:
        if ((rc = fanout_unwatch_vendor(c, m.vendor_id, err, sizeof err)) == VT_OK)
            conn_send_ack(c, m.ref);
        break;
    case OP_PING:
        conn_send_ack(c, m.ref);
        break;
    case OP_UNKNOWN:
        break;
    }
    if (ok && rc != VT_OK) {
        conn_send_error(c, vt_status_name(rc), err, m.ref);
        conn_strike(c);
    } else if (ok && c->strikes) {
        c->strikes--;
    }
    msg_parse_done(&m);
}

int client_receive(conn *c, const void *in, size_t len, bool first, bool final, bool binary)
{
    ws_gateway *g = c->g;
    if (c->state >= CONN_CLOSING)
        return 0; /* the close is on its way; ignore what crosses it */
    if (c->state == CONN_GONE)
        return -1;
    if (first)
        c->rxlen = 0;
    if ((size_t)c->rxlen + len > (size_t)g->cfg.max_frame) {
        vt_counter_inc(g->m.closes_too_big);
        static char reason[64];
        snprintf(reason, sizeof reason, "message too big (limit %d bytes)", g->cfg.max_frame);
        conn_close(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, reason);
        return -1;
    }
    if (first && final) {
        if (binary) {
            conn_send_error(c, "INVALID_ARGUMENT", "binary frames are not supported", NULL);
            conn_strike(c);
        } else {
            client_message(c, in, len);
        }
    } else {
        if (!c->rx && !(c->rx = malloc((size_t)g->cfg.max_frame)))
            return -1;
        memcpy(c->rx + c->rxlen, in, len);
        c->rxlen += (uint32_t)len;
        if (final) {
            if (binary) {
                conn_send_error(c, "INVALID_ARGUMENT", "binary frames are not supported", NULL);
                conn_strike(c);
            } else {
                client_message(c, c->rx, c->rxlen);
            }
            free(c->rx);
            c->rx = NULL;
            c->rxlen = 0;
        }
    }
    /* Any other close waits for the writeable callback, which first flushes what is
     * queued (the errors that explain it) and then sends the close frame. */
    return 0;
}

void client_closed(conn *c)
{
    if (!conn_closed(c))
        return;
    fanout_conn_gone(c);
    stream_conn_gone(c);
    conn_unref(c); /* the socket's */
}
