/*
 * token_cache.c — verified session tokens, so a busy client costs one RSA
 * verification per token rather than per request.
 *
 * Keys are SHA-256 of the full token string: fixed size, and a hit means the exact
 * same bytes were verified before (a collision would need a second preimage). The
 * table is set-associative: max_entries slots split into sets of up to 8 ways, the
 * set chosen by the hash. All memory is allocated at creation, lookups and inserts
 * touch one set, and when a set is full the entry that expires first is evicted
 * (expired entries go first of all). Each entry carries the window in which the
 * verifier would accept the token again ([nbf - skew, exp + skew)); outside it the
 * entry is never returned, so expiry needs no sweeper.
 *
 * Thread safety: one mutex around every table access. The gateways call it from a
 * single loop thread, where an uncontended lock costs a few ns; the hash is computed
 * outside the lock. Subs longer than VT_AUTH_CACHE_SUB_MAX (Clerk ids are ~32 chars)
 * are not cached, which keeps entries small (160 bytes) and inline.
 */
#include "auth_internal.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define WAYS_MAX 8
#define ENTRIES_MAX ((size_t)1 << 20)

typedef struct {
    unsigned char key[32];
    int64_t exp, valid_from, valid_until;
    bool used;
    char sub[VT_AUTH_CACHE_SUB_MAX + 1];
} entry;

struct vt_auth_token_cache {
    pthread_mutex_t mu;
    size_t nsets, ways;
    entry *slots; /* nsets * ways */
    vt_auth_cache_stats stats;
};

int vt_auth_token_cache_new(const vt_auth_token_cache_opts *opts, vt_auth_token_cache **out,
                            char *err, size_t errlen)
{
    size_t max_entries =
        opts && opts->max_entries ? opts->max_entries : VT_AUTH_DEFAULT_CACHE_ENTRIES;
    if (max_entries > ENTRIES_MAX) {
        auth_errf(err, errlen, "token cache size must be 1..1048576");
        return VT_INVALID_ARGUMENT;
    }
    vt_auth_token_cache *c = calloc(1, sizeof(*c));
    if (!c) {
        auth_errf(err, errlen, "out of memory");
        return VT_RESOURCE_EXHAUSTED;
    }
    c->ways = max_entries < WAYS_MAX ? max_entries : WAYS_MAX;
    c->nsets = (max_entries + c->ways - 1) / c->ways;
    c->slots = calloc(c->nsets * c->ways, sizeof(entry));
    if (!c->slots || pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c->slots);
        free(c);
        auth_errf(err, errlen, "out of memory");
        return VT_RESOURCE_EXHAUSTED;
    }
    *out = c;
    return VT_OK;
}

void vt_auth_token_cache_free(vt_auth_token_cache *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->mu);
    free(c->slots);
    free(c);
}

size_t vt_auth_token_cache_capacity(const vt_auth_token_cache *c)
{
    return c ? c->nsets * c->ways : 0;
}

static bool hash_token(const char *token, size_t len, unsigned char key[32])
{
    unsigned int n = 0;
    return EVP_Digest(token, len, key, &n, EVP_sha256(), NULL) == 1 && n == 32;
}

static entry *set_of(vt_auth_token_cache *c, const unsigned char key[32])
{
    uint64_t h = 0;
    for (int i = 0; i < 8; i++)
        h = h << 8 | key[i];
    return &c->slots[(h % c->nsets) * c->ways];
}

bool vt_auth_token_cache_get(vt_auth_token_cache *c, const char *token, size_t len, int64_t now,
                             vt_auth_identity *out)
{
    unsigned char key[32];
    bool hit = false;

    if (!c || !token || !out || !hash_token(token, len, key))
        return false;
    pthread_mutex_lock(&c->mu);
    entry *set = set_of(c, key);
    for (size_t w = 0; w < c->ways; w++) {
        entry *e = &set[w];
        if (e->used && memcmp(e->key, key, sizeof(key)) == 0) {
            if (now >= e->valid_from && now < e->valid_until) {
                memset(out, 0, sizeof(*out));
                memcpy(out->sub, e->sub, sizeof(e->sub));
                out->exp = e->exp;
                out->cached = true;
                hit = true;
            }
            break;
        }
    }
    if (hit)
        c->stats.hits++;
    else
        c->stats.misses++;
    pthread_mutex_unlock(&c->mu);
    return hit;
}

void vt_auth_token_cache_put(vt_auth_token_cache *c, const char *token, size_t len,
                             const vt_auth_identity *id, int64_t valid_from, int64_t valid_until,
                             int64_t now)
{
    unsigned char key[32];
    size_t sublen;

    if (!c || !token || !id || now >= valid_until || valid_from >= valid_until)
        return;
    sublen = strnlen(id->sub, sizeof(id->sub));
    if (sublen == 0 || sublen > VT_AUTH_CACHE_SUB_MAX || !hash_token(token, len, key))
        return;
    pthread_mutex_lock(&c->mu);
    entry *set = set_of(c, key), *victim = NULL;
    for (size_t w = 0; w < c->ways && !victim; w++)
        if (set[w].used && memcmp(set[w].key, key, sizeof(key)) == 0)
            victim = &set[w]; /* refresh in place */
    for (size_t w = 0; w < c->ways && !victim; w++)
        if (!set[w].used)
            victim = &set[w];
    if (!victim) {
        /* Full: evict an expired entry, else the one that expires first. */
        victim = &set[0];
        for (size_t w = 1; w < c->ways; w++)
            if (set[w].valid_until < victim->valid_until)
                victim = &set[w];
        c->stats.evictions++;
    } else if (!victim->used) {
        c->stats.entries++;
    }
    memcpy(victim->key, key, sizeof(key));
    victim->exp = id->exp;
    victim->valid_from = valid_from;
    victim->valid_until = valid_until;
    victim->used = true;
    memcpy(victim->sub, id->sub, sublen);
    victim->sub[sublen] = '\0';
    c->stats.inserts++;
    pthread_mutex_unlock(&c->mu);
}

void vt_auth_token_cache_stats(vt_auth_token_cache *c, vt_auth_cache_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof(*out));
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    *out = c->stats;
    pthread_mutex_unlock(&c->mu);
}
