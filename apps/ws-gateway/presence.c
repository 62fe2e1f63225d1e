/*
 * presence.c — vendor presence in Redis, shared by every gateway (API.md §4, §6).
 *
 * Two structures: the key `presence:vendor:<id>` (value: "<instance>/<connection>",
 * expiring at the vendor's presence deadline) and the sorted set `presence:deadlines`
 * (member: the vendor id, score: that deadline in ms since the epoch). Every write is
 * SET … PX then ZADD on the same connection; a clean offline is DEL then ZREM.
 *
 * Why the set: a gateway that is SIGKILLed (or whose node dies) cannot publish its
 * vendors' offline statuses, and their keys expire in silence. Redis keyspace
 * notifications would tell us, but managed Redis often forbids CONFIG SET, so instead
 * every gateway, once a second, runs claim_script: it takes up to CLAIM_BATCH members
 * whose deadline has passed and, for each, looks at the key. Gone: the member is
 * removed and returned — that gateway has claimed the vendor and publishes
 * `vendor.<id>.status` offline. Still there (refreshed after a write raced the claim,
 * or scored by a gateway whose clock runs ahead): the member is re-scored to the key's
 * real expiry, never dropped, so a vendor that falls silent right after is still
 * claimed. The script runs atomically in Redis, so each expiry is claimed by exactly
 * one gateway, whichever asks first; the key decides, the scores only say when to look.
 *
 * The rule that keeps it to one offline per presence (streams.c applies it): the
 * owner publishes an offline itself only on a clean close, and then only while the key
 * is at least a margin away from expiry, so no claim can race its DEL and ZREM. Past
 * that point it hands the stream over (online = false, nothing published) and the
 * claim publishes. A write whose ZADD finds the member gone although the stream was
 * online (Redis evicted the key or restarted empty, or a failed write let the key
 * expire and a claim took it) is reported back through the write's callback, and the
 * owner says online again.
 *
 * Limits: a claimer killed between the script and its publish loses that offline; a
 * Redis that loses its data forgets the deadlines of gateways that died meanwhile.
 * The script reads keys it does not declare: one Redis, not a Redis Cluster.
 */
#include "presence.h"

#include "vt_events.h"
#include "ws_gateway.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEADLINES_KEY "presence:deadlines"
#define KEY_PREFIX "presence:vendor:"
#define CLAIM_BATCH 256
#define CLAIM_WARN_EVERY_MS 60000
#define PRESENCE_HOLDER_LEN (2 * VT_REQUEST_ID_LEN + 2)

/* KEYS[1] the deadlines; ARGV: now (ms), batch size, key prefix. Returns
 * {members examined, claimed vendor ids…}. PTTL -2: the key is gone (claim); -1: a key
 * without expiry is not ours to schedule (drop); else re-score at its real expiry. */
static const char claim_script[] =
    "local now = tonumber(ARGV[1])\n"
    "local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, "
    "tonumber(ARGV[2]))\n"
    "local out = {#due}\n"
    "for _, id in ipairs(due) do\n"
    "  local ttl = redis.call('PTTL', ARGV[3] .. id)\n"
    "  if ttl == -2 then\n"
    "    redis.call('ZREM', KEYS[1], id)\n"
    "    out[#out + 1] = id\n"
    "  elseif ttl == -1 then\n"
    "    redis.call('ZREM', KEYS[1], id)\n"
    "  else\n"
    "    redis.call('ZADD', KEYS[1], now + math.max(ttl, 1), id)\n"
    "  end\n"
    "end\n"
    "return out\n";

/* KEYS: the vendor's key, the deadlines; ARGV: this stream's holder value, the vendor
 * id. Releases the presence only if this stream still holds it (1); a key held by
 * another connection — the vendor came back through another gateway or connection
 * before this one noticed its own close — is left alone (0). A key already gone
 * counts as released: nobody holds the vendor. */
static const char release_script[] = "local v = redis.call('GET', KEYS[1])\n"
                                     "if v and v ~= ARGV[1] then return 0 end\n"
                                     "if v then redis.call('DEL', KEYS[1]) end\n"
                                     "redis.call('ZREM', KEYS[2], ARGV[2])\n"
                                     "return 1\n";

/* The value of a presence key: the gateway instance and the connection that holds it. */
static void presence_holder(const ws_gateway *g, const conn *owner, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%s", g->instance, owner->conn_id);
}

/* One presence write in flight: two replies (SET, ZADD) decide its outcome. */
typedef struct {
    conn *c;
    char vendor_id[VT_UUID_LEN + 1];
    bool refresh;
    presence_written_fn done;
    int due;
    bool failed;
    bool added;
} write_call;

static void presence_key(const char *vendor_id, char *out, size_t outlen)
{
    snprintf(out, outlen, KEY_PREFIX "%s", vendor_id);
}

/* A command that could not even be queued (out of memory) is answered here, so that
 * its callback always runs once. */
static void answer_unsent(int rc, vt_kv_reply_fn fn, void *user)
{
    if (rc == VT_RESOURCE_EXHAUSTED && fn)
        fn(rc, NULL, user);
}

/* vt_kv_command_argv with C strings. */
static void send_command(ws_gateway *g, vt_kv_reply_fn fn, void *user, int argc, const char **argv)
{
    size_t lens[8];
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    answer_unsent(vt_kv_command_argv(g->kv, fn, user, argc, argv, lens), fn, user);
}

static void on_write_reply(int status, const vt_kv_reply *r, void *user, bool is_zadd)
{
    write_call *w = user;
    if (status != VT_OK || r->type == VT_KV_ERROR)
        w->failed = true;
    else if (is_zadd)
        w->added = r->type == VT_KV_INTEGER && r->integer == 1;
    if (--w->due > 0)
        return;
    w->done(w->c, w->vendor_id, !w->failed, w->refresh && w->added);
    conn_unref(w->c);
    free(w);
}

static void on_set(int status, const vt_kv_reply *r, void *user)
{
    on_write_reply(status, r, user, false);
}

static void on_zadd(int status, const vt_kv_reply *r, void *user)
{
    on_write_reply(status, r, user, true);
}

int presence_write(ws_gateway *g, conn *owner, const char *vendor_id, int64_t deadline_ms,
                   int64_t now_ms, bool refresh, presence_written_fn done)
{
    write_call *w = calloc(1, sizeof *w);
    if (!w)
        return VT_RESOURCE_EXHAUSTED;
    w->c = owner;
    memcpy(w->vendor_id, vendor_id, sizeof w->vendor_id);
    w->refresh = refresh;
    w->done = done;
    w->due = 2;
    conn_ref(w->c);
    char key[64], score[24];
    presence_key(vendor_id, key, sizeof key);
    snprintf(score, sizeof score, "%lld", (long long)deadline_ms);
    int64_t ttl_ms = deadline_ms > now_ms ? deadline_ms - now_ms : 1;
    char holder[PRESENCE_HOLDER_LEN];
    presence_holder(g, owner, holder, sizeof holder);
    answer_unsent(vt_kv_set_px(g->kv, key, holder, ttl_ms, on_set, w), on_set, w);
    send_command(g, on_zadd, w, 4, (const char *[]){"ZADD", DEADLINES_KEY, score, vendor_id});
    return VT_OK;
}

/* One release in flight: whether to announce the offline depends on its answer. */
typedef struct {
    ws_gateway *g;
    char vendor_id[VT_UUID_LEN + 1];
    int64_t last_ts; /* the stream's last accepted position */
} release_call;

static void publish_offline(ws_gateway *g, const char *vendor_id, int64_t last_ts)
{
    if (g->bus)
        vt_events_publish_status(g->bus, vendor_id, false, vt_now_ms(), last_ts);
}

static void on_released(int status, const vt_kv_reply *r, void *user)
{
    release_call *rc = user;
    if (status == VT_OK && r->type == VT_KV_INTEGER && r->integer == 0)
        vt_debug(NULL, "ws: vendor %s streams through another connection: no offline",
                 rc->vendor_id);
    else /* released, or Redis could not say: nobody else is known to hold it */
        publish_offline(rc->g, rc->vendor_id, rc->last_ts);
    free(rc);
}

void presence_release(ws_gateway *g, const conn *owner, const char *vendor_id, int64_t last_ts)
{
    char key[64], holder[PRESENCE_HOLDER_LEN];
    presence_key(vendor_id, key, sizeof key);
    presence_holder(g, owner, holder, sizeof holder);
    const char *argv[] = {"EVAL", release_script, "2", key, DEADLINES_KEY, holder, vendor_id};
    release_call *rc = g->stopping ? NULL : malloc(sizeof *rc);
    if (!rc) { /* shutting down (the bus goes before Redis answers) or out of memory */
        publish_offline(g, vendor_id, last_ts);
        send_command(g, NULL, NULL, 7, argv);
        return;
    }
    rc->g = g;
    rc->last_ts = last_ts;
    memcpy(rc->vendor_id, vendor_id, sizeof rc->vendor_id);
    send_command(g, on_released, rc, 7, argv);
}

static void claim_failed(ws_gateway *g, const char *why, size_t len)
{
    int64_t now = vt_now_ms();
    if (now - g->claim_warned_ms < CLAIM_WARN_EVERY_MS)
        return;
    g->claim_warned_ms = now;
    vt_warn(NULL, "ws: presence expiry claim failed: %.*s", (int)len, why);
}

/* Publish each claimed vendor offline; run again at once when the batch was full. */
static void on_claimed(int status, const vt_kv_reply *r, void *user)
{
    ws_gateway *g = user;
    g->claim_busy = false;
    if (status != VT_OK || !g->bus)
        return; /* Redis away (vt_kv logs that) or shutting down: the next tick retries */
    vt_kv_reply e;
    if (r->type != VT_KV_ARRAY || vt_kv_reply_element(r, 0, &e) != VT_OK ||
        e.type != VT_KV_INTEGER) {
        claim_failed(g, r->str ? r->str : "unexpected reply", r->str ? r->len : 16);
        return;
    }
    long long examined = e.integer;
    for (size_t i = 1; i < r->nelements; i++) {
        char id[VT_UUID_LEN + 1];
        if (vt_kv_reply_element(r, i, &e) != VT_OK || e.type != VT_KV_STRING ||
            e.len != VT_UUID_LEN)
            continue; /* not a vendor id: nothing to announce */
        memcpy(id, e.str, VT_UUID_LEN);
        id[VT_UUID_LEN] = '\0';
        int rc = vt_events_publish_status(g->bus, id, false, vt_now_ms(), 0);
        if (rc == VT_OK) {
            vt_counter_inc(g->m.presence_expired);
            vt_debug(NULL, "ws: vendor %s expired: published offline", id);
        } else {
            vt_warn(NULL, "ws: offline of expired vendor %s not published: %s", id,
                    vt_status_name(rc));
        }
    }
    if (examined >= CLAIM_BATCH && !g->stopping)
        presence_claim(g, vt_now_ms());
}

void presence_claim(ws_gateway *g, int64_t now_ms)
{
    if (g->claim_busy)
        return; /* the previous claim is still on its way */
    char now[24], batch[16];
    snprintf(now, sizeof now, "%lld", (long long)now_ms);
    snprintf(batch, sizeof batch, "%d", CLAIM_BATCH);
    g->claim_busy = true;
    send_command(
        g, on_claimed, g, 7,
        (const char *[]){"EVAL", claim_script, "1", DEADLINES_KEY, now, batch, KEY_PREFIX});
}
