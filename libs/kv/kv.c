/*
 * kv.c — the hiredis async connection of vt_kv.h on the libuv loop (uv_adapter.c).
 *
 * hiredis owns its context: after the disconnect callback (or a failed connect) it
 * frees it, so `ac` is cleared there and never touched again. Each command carries a
 * small heap record with the caller's callback; hiredis calls back with reply NULL
 * for commands in flight when the link drops, which becomes VT_UNAVAILABLE.
 * Commands refused while disconnected are answered from a zero-delay timer's turn
 * via a short list, never from inside vt_kv_command_argv (callers may hold state
 * they expect unchanged until return).
 */
#include "vt_kv.h"

#include "kv_internal.h"
#include "vt_core.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define CLOSE_WAIT_MS 1000 /* how long vt_kv_free waits for replies still due */

typedef struct pending {
    struct pending *next;
    vt_kv_reply_fn fn;
    void *user;
} pending;

struct vt_kv {
    uv_loop_t *loop;
    redisAsyncContext *ac; /* NULL while disconnected */
    bool connected;
    bool closing;
    char host[256];
    int port, db;
    char *user, *password; /* AUTH on every connection; NULL: none */
    int setup_pending;     /* AUTH and SELECT replies the current connection awaits */
    int backoff_ms;
    uv_timer_t redial;
    uv_idle_t refuse; /* answers refused commands on the next loop turn */
    pending *refused, **refused_tail;
    int open_handles;
    bool handles_closing;
    vt_kv_state_fn on_state;
    void *state_user;
};

int vt_kv_url_parse(const char *url, char *host, size_t hostlen, int *port, int *db, char *err,
                    size_t errlen)
{
    if (!url || strncmp(url, "redis://", 8) != 0) {
        snprintf(err, errlen, "must look like redis://host:port[/db]");
        return VT_INVALID_ARGUMENT;
    }
    char hostport[300];
    const char *p = url + 8, *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    if (n == 0 || n >= sizeof hostport) {
        snprintf(err, errlen, "must look like redis://host:port[/db]");
        return VT_INVALID_ARGUMENT;
    }
    memcpy(hostport, p, n);
    hostport[n] = '\0';
    vt_addr addr;
    char aerr[160];
    if (vt_parse_addr(hostport, &addr, aerr, sizeof aerr) != VT_OK) {
        snprintf(err, errlen, "has a bad address: %s", aerr);
        return VT_INVALID_ARGUMENT;
    }
    long dbn = 0;
    if (slash && slash[1] && vt_parse_int(slash + 1, 0, 1000, &dbn, aerr, sizeof aerr) != VT_OK) {
        snprintf(err, errlen, "has a bad database number: %s", aerr);
        return VT_INVALID_ARGUMENT;
    }
    snprintf(host, hostlen, "%s", addr.host);
    *port = addr.port;
    *db = (int)dbn;
    return VT_OK;
}

static void set_state(vt_kv *kv, bool up)
{
    if (kv->connected == up)
        return;
    kv->connected = up;
    if (kv->closing)
        return;
    vt_log(up ? VT_LOG_INFO : VT_LOG_WARN, NULL, "redis: %s", up ? "connected" : "disconnected");
    if (kv->on_state)
        kv->on_state(up, kv->state_user);
}

static void dial(vt_kv *kv);

static void on_redial(uv_timer_t *t)
{
    dial(t->data);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    vt_kv *kv = ac->data;
    if (status != REDIS_OK) {
        /* hiredis frees the context after this callback. */
        kv->ac = NULL;
        vt_debug(NULL, "redis: connect failed: %s", ac->errstr);
        int delay = kv->backoff_ms;
        kv->backoff_ms = kv->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : kv->backoff_ms * 2;
        if (!kv->closing)
            uv_timer_start(&kv->redial, on_redial, (uint64_t)delay, 0);
        return;
    }
    if (kv->setup_pending)
        return; /* ready once the AUTH and SELECT are answered (on_setup) */
    kv->backoff_ms = BACKOFF_MIN_MS;
    set_state(kv, true);
}

/* The AUTH of the ACL user and the SELECT of the URL's database, sent first on every
 * connection. A refused login or a server without that database is a configuration
 * error, not a reason to carry on as the default user or in database 0; the connection
 * is dropped and retried, and stays not ready meanwhile. priv: the variable to name. */
static void on_setup(redisAsyncContext *ac, void *reply, void *priv)
{
    vt_kv *kv = ac->data;
    const redisReply *r = reply;
    if (r && r->type != REDIS_REPLY_ERROR) {
        if (--kv->setup_pending == 0) {
            kv->backoff_ms = BACKOFF_MIN_MS;
            set_state(kv, true);
        }
        return;
    }
    if (r && strcmp(priv, "VENTA_REDIS_URL") == 0)
        vt_log(VT_LOG_ERROR, &(vt_log_ctx){.variable = priv},
               "redis: database %d cannot be selected (%s)", kv->db, r->str ? r->str : "");
    else if (r)
        vt_log(VT_LOG_ERROR, &(vt_log_ctx){.variable = priv}, "redis: login as %s refused (%s)",
               kv->user, r->str ? r->str : "");
    if (r && !kv->closing) {
        kv->backoff_ms = kv->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : kv->backoff_ms * 2;
        redisAsyncDisconnect(ac);
    }
}

static void close_handles(vt_kv *kv);

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    vt_kv *kv = ac->data;
    kv->ac = NULL;
    set_state(kv, false);
    if (!kv->closing)
        uv_timer_start(&kv->redial, on_redial, (uint64_t)kv->backoff_ms, 0);
    else
        close_handles(kv); /* vt_kv_free was waiting for this */
}

static void dial(vt_kv *kv)
{
    if (kv->closing || kv->ac)
        return;
    redisAsyncContext *ac = redisAsyncConnect(kv->host, kv->port);
    if (!ac || ac->err) {
        if (ac)
            redisAsyncFree(ac);
        uv_timer_start(&kv->redial, on_redial, (uint64_t)kv->backoff_ms, 0);
        return;
    }
    ac->data = kv;
    if (kv_uv_attach(ac, kv->loop) != 0) {
        redisAsyncFree(ac);
        uv_timer_start(&kv->redial, on_redial, (uint64_t)kv->backoff_ms, 0);
        return;
    }
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    kv->ac = ac;
    kv->setup_pending = 0;
    if (kv->user && redisAsyncCommand(ac, on_setup, "VENTA_REDIS_PASSWORD", "AUTH %s %s", kv->user,
                                      kv->password) == REDIS_OK)
        kv->setup_pending++;
    if (kv->db &&
        redisAsyncCommand(ac, on_setup, "VENTA_REDIS_URL", "SELECT %d", kv->db) == REDIS_OK)
        kv->setup_pending++;
}

static void handle_closed(uv_handle_t *h)
{
    vt_kv *kv = h->data;
    if (--kv->open_handles == 0) {
        free(kv->user);
        free(kv->password);
        free(kv);
    }
}

static void on_refuse(uv_idle_t *idle)
{
    vt_kv *kv = idle->data;
    pending *p = kv->refused;
    kv->refused = NULL;
    kv->refused_tail = &kv->refused;
    uv_idle_stop(idle);
    while (p) {
        pending *next = p->next;
        if (p->fn)
            p->fn(VT_UNAVAILABLE, NULL, p->user);
        free(p);
        p = next;
    }
}

int vt_kv_new(const vt_kv_opts *opts, vt_kv **out, char *err, size_t errlen)
{
    if (!opts || !opts->loop) {
        snprintf(err, errlen, "a Redis client needs a loop");
        return VT_INVALID_ARGUMENT;
    }
    uv_loop_t *loop = opts->loop;
    vt_kv *kv = calloc(1, sizeof *kv);
    if (!kv) {
        snprintf(err, errlen, "out of memory");
        return VT_RESOURCE_EXHAUSTED;
    }
    int rc = vt_kv_url_parse(opts->url, kv->host, sizeof kv->host, &kv->port, &kv->db, err, errlen);
    if (rc != VT_OK) {
        free(kv);
        return rc;
    }
    if (opts->user) {
        kv->user = strdup(opts->user);
        kv->password = strdup(opts->password ? opts->password : "");
        if (!kv->user || !kv->password) {
            free(kv->user);
            free(kv->password);
            free(kv);
            snprintf(err, errlen, "out of memory");
            return VT_RESOURCE_EXHAUSTED;
        }
    }
    kv->loop = loop;
    kv->on_state = opts->on_state;
    kv->state_user = opts->state_user;
    kv->backoff_ms = BACKOFF_MIN_MS;
    kv->refused_tail = &kv->refused;
    uv_timer_init(loop, &kv->redial);
    kv->redial.data = kv;
    uv_idle_init(loop, &kv->refuse);
    kv->refuse.data = kv;
    kv->open_handles = 2;
    dial(kv);
    *out = kv;
    return VT_OK;
}

bool vt_kv_connected(const vt_kv *kv)
{
    return kv->connected;
}

static void to_reply(const redisReply *r, vt_kv_reply *out)
{
    memset(out, 0, sizeof *out);
    switch (r->type) {
    case REDIS_REPLY_STRING:
        out->type = VT_KV_STRING;
        break;
    case REDIS_REPLY_INTEGER:
        out->type = VT_KV_INTEGER;
        break;
    case REDIS_REPLY_STATUS:
        out->type = VT_KV_STATUS;
        break;
    case REDIS_REPLY_ARRAY:
        out->type = VT_KV_ARRAY;
        break;
    case REDIS_REPLY_ERROR:
        out->type = VT_KV_ERROR;
        break;
    default:
        out->type = VT_KV_NIL;
        break;
    }
    if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS ||
        r->type == REDIS_REPLY_ERROR) {
        out->str = r->str;
        out->len = r->len;
    }
    out->integer = r->integer;
    if (r->type == REDIS_REPLY_ARRAY)
        out->nelements = r->elements;
    out->impl = r;
}

int vt_kv_reply_element(const vt_kv_reply *reply, size_t i, vt_kv_reply *out)
{
    if (!reply || reply->type != VT_KV_ARRAY || i >= reply->nelements)
        return VT_INVALID_ARGUMENT;
    to_reply(((const redisReply *)reply->impl)->element[i], out);
    return VT_OK;
}

static void on_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    (void)ac;
    pending *p = privdata;
    if (p->fn) {
        if (r) {
            vt_kv_reply rep;
            to_reply(r, &rep);
            p->fn(VT_OK, &rep, p->user);
        } else {
            p->fn(VT_UNAVAILABLE, NULL, p->user);
        }
    }
    free(p);
}

int vt_kv_command_argv(vt_kv *kv, vt_kv_reply_fn fn, void *user, int argc, const char **argv,
                       const size_t *argvlen)
{
    pending *p = malloc(sizeof *p);
    if (!p)
        return VT_RESOURCE_EXHAUSTED;
    p->next = NULL;
    p->fn = fn;
    p->user = user;
    if (kv->connected && kv->ac && !kv->closing &&
        redisAsyncCommandArgv(kv->ac, on_reply, p, argc, argv, argvlen) == REDIS_OK)
        return VT_OK;
    *kv->refused_tail = p;
    kv->refused_tail = &p->next;
    uv_idle_start(&kv->refuse, on_refuse);
    return VT_UNAVAILABLE;
}

int vt_kv_set_px(vt_kv *kv, const char *key, const char *value, int64_t ttl_ms, vt_kv_reply_fn fn,
                 void *user)
{
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%lld", (long long)ttl_ms);
    const char *argv[] = {"SET", key, value, "PX", ttl};
    size_t lens[] = {3, strlen(key), strlen(value), 2, strlen(ttl)};
    return vt_kv_command_argv(kv, fn, user, 5, argv, lens);
}

int vt_kv_del(vt_kv *kv, const char *key, vt_kv_reply_fn fn, void *user)
{
    const char *argv[] = {"DEL", key};
    size_t lens[] = {3, strlen(key)};
    return vt_kv_command_argv(kv, fn, user, 2, argv, lens);
}

static void close_handles(vt_kv *kv)
{
    if (kv->handles_closing)
        return;
    kv->handles_closing = true;
    kv->connected = false;
    uv_timer_stop(&kv->redial);
    on_refuse(&kv->refuse);
    uv_close((uv_handle_t *)&kv->redial, handle_closed);
    uv_close((uv_handle_t *)&kv->refuse, handle_closed);
}

/* Redis did not answer the last commands within CLOSE_WAIT_MS: drop them. */
static void on_close_timeout(uv_timer_t *t)
{
    vt_kv *kv = t->data;
    if (kv->ac) {
        redisAsyncContext *ac = kv->ac;
        kv->ac = NULL;
        redisAsyncFree(ac); /* on_reply(NULL) for each pending, then on_disconnect */
    }
    close_handles(kv);
}

void vt_kv_free(vt_kv *kv)
{
    if (!kv)
        return;
    kv->closing = true;
    kv->on_state = NULL; /* the owner is going away: no more state callbacks */
    uv_timer_stop(&kv->redial);
    if (kv->ac && kv->connected) {
        /* Commands already issued (a shutdown's last presence DELs) are still written
         * and answered; hiredis closes once the last reply is in. */
        redisAsyncDisconnect(kv->ac); /* may call on_disconnect right here */
        if (kv->ac && !kv->handles_closing)
            uv_timer_start(&kv->redial, on_close_timeout, CLOSE_WAIT_MS, 0);
        return;
    }
    if (kv->ac) { /* still connecting: nothing of ours is in flight */
        redisAsyncContext *ac = kv->ac;
        kv->ac = NULL;
        redisAsyncFree(ac);
    }
    close_handles(kv);
}
