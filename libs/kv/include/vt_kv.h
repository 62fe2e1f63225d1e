/*
 * vt_kv.h — Redis for the edges: one hiredis async connection on a libuv loop that
 * reconnects by itself.
 *
 * Redis holds what may be lost and rebuilt (presence, rate limits, caches), so the
 * policy is simple: while Redis is away, commands fail at once with VT_UNAVAILABLE
 * (their callback still runs, on a later loop turn), and a timer redials with
 * exponential backoff (100 ms doubling to 5 s). Callers that need the state back after
 * a restart write it again on their next refresh, which every user of presence does
 * anyway.
 *
 * Threads: everything here runs on the loop thread, callbacks included.
 */
#ifndef VT_KV_H
#define VT_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct vt_kv vt_kv;

/* A reply, valid only during the callback. */
typedef enum {
    VT_KV_NIL = 0,
    VT_KV_STRING,  /* str/len */
    VT_KV_INTEGER, /* integer */
    VT_KV_STATUS,  /* str: "OK" */
    VT_KV_ARRAY,   /* nelements; read each with vt_kv_reply_element */
    VT_KV_ERROR,   /* str: Redis's error text */
} vt_kv_type;

typedef struct {
    vt_kv_type type;
    const char *str;
    size_t len;
    long long integer;
    size_t nelements; /* VT_KV_ARRAY */
    const void *impl; /* the hiredis reply behind it, for vt_kv_reply_element */
} vt_kv_reply;

/* Element i of an array reply (any type; a nested array is read the same way), valid
 * as long as reply is. VT_OK, or VT_INVALID_ARGUMENT when reply is not an array or i is
 * not below its nelements. */
int vt_kv_reply_element(const vt_kv_reply *reply, size_t i, vt_kv_reply *out);

/* status: 0 with a reply (which may be VT_KV_ERROR), or VT_UNAVAILABLE with reply NULL
 * when the connection was down or dropped before the answer. */
typedef void (*vt_kv_reply_fn)(int status, const vt_kv_reply *reply, void *user);
/* Connection up/down, on the loop thread. */
typedef void (*vt_kv_state_fn)(bool connected, void *user);

/* Check a VENTA_REDIS_URL value, redis://host:port[/db]. 0 or VT_INVALID_ARGUMENT. */
int vt_kv_url_parse(const char *url, char *host, size_t hostlen, int *port, int *db, char *err,
                    size_t errlen);

typedef struct {
    uv_loop_t *loop; /* required; the client lives on its thread */
    const char *url; /* redis://host:port[/db]; copied (parsed) */
    /* The ACL user to AUTH as on every connection (VENTA_REDIS_USER/VENTA_REDIS_PASSWORD,
     * docs/security.md); copied. NULL: none (the server's default user). */
    const char *user, *password;
    vt_kv_state_fn on_state; /* may be NULL */
    void *state_user;
} vt_kv_opts;

/* Start connecting to opts->url on opts->loop (loop thread). 0 with *out set,
 * VT_INVALID_ARGUMENT (no loop, bad url) or VT_RESOURCE_EXHAUSTED, the reason in err. */
int vt_kv_new(const vt_kv_opts *opts, vt_kv **out, char *err, size_t errlen);
bool vt_kv_connected(const vt_kv *kv);

/* Any command as an argument vector (binary safe); fn may be NULL. 0 when sent or
 * queued; VT_UNAVAILABLE when disconnected (fn then still runs, later, with
 * VT_UNAVAILABLE, so callers have one code path). */
int vt_kv_command_argv(vt_kv *kv, vt_kv_reply_fn fn, void *user, int argc, const char **argv,
                       const size_t *argvlen);

/* SET key value PX ttl_ms / DEL key: the presence primitives. */
int vt_kv_set_px(vt_kv *kv, const char *key, const char *value, int64_t ttl_ms, vt_kv_reply_fn fn,
                 void *user);
int vt_kv_del(vt_kv *kv, const char *key, vt_kv_reply_fn fn, void *user);

/* Stop redialling and close: commands already issued are still written and answered
 * (their callbacks run) for up to a second, so that a process's last writes (e.g. the
 * presence DELs of a shutdown) are not lost; anything still due then gets
 * VT_UNAVAILABLE. Freed once libuv has released the handles: the loop must keep
 * running for that. New commands are refused from the call on. */
void vt_kv_free(vt_kv *kv);

#endif
