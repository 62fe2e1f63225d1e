/*
 * page_token.c — see page_token.h.
 *
 * Keys are checked as strictly as ids: a list key may hold only the characters of a
 * timestamp, a search key must parse completely as a finite number. Whatever passes
 * is bound as a parameter anyway; the checks turn garbage into INVALID_ARGUMENT instead
 * of a PostgreSQL cast error.
 */
#include "page_token.h"

#include "vt_auth.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t page_fingerprint(const char *const *parts)
{
    /* vt_hash's values are the ones tokens were always made with, so tokens handed
     * out before keep working. */
    uint64_t h = VT_HASH_INIT;
    for (const char *const *p = parts; *p; p++) {
        h = vt_hash_add_str(h, *p);
        h = vt_hash_add(h, "\x1f", 1); /* unit separator: ("ab","c") != ("a","bc") */
    }
    return h;
}

int page_token_encode(const page_token *t, char *out, size_t outlen)
{
    char raw[160];
    int n = snprintf(raw, sizeof raw, "v1|%c|%016" PRIx64 "|%s|%s", t->kind, t->fingerprint, t->key,
                     t->id);
    if (n < 0 || (size_t)n >= sizeof raw)
        return VT_OUT_OF_RANGE;
    return vt_auth_base64url_encode(raw, (size_t)n, out, outlen);
}

static bool key_valid(char kind, const char *key)
{
    if (!*key)
        return false;
    if (kind == 'L')
        return strspn(key, "0123456789-:.TZ") == strlen(key);
    char *end;
    double v = strtod(key, &end);
    return *end == '\0' && isfinite(v) && strspn(key, "0123456789.-+eE") == strlen(key);
}

int page_token_decode(const char *text, char kind, page_token *out)
{
    size_t len = strlen(text);
    char raw[PAGE_TOKEN_MAX];
    size_t n = 0;
    if (len == 0 || len >= PAGE_TOKEN_MAX ||
        vt_auth_base64url_decode(text, len, raw, sizeof raw - 1, &n) != VT_OK)
        return VT_INVALID_ARGUMENT;
    raw[n] = '\0';
    if (strlen(raw) != n) /* an embedded NUL */
        return VT_INVALID_ARGUMENT;
    /* v1|K|<16 hex>|key|id */
    if (n < 5 || memcmp(raw, "v1|", 3) != 0 || raw[3] != kind || raw[4] != '|')
        return VT_INVALID_ARGUMENT;
    char *fp = raw + 5;
    char *bar = strchr(fp, '|');
    if (!bar || bar - fp != 16 || strspn(fp, "0123456789abcdef") != 16)
        return VT_INVALID_ARGUMENT;
    *bar = '\0';
    char *key = bar + 1;
    char *bar2 = strchr(key, '|');
    if (!bar2 || (size_t)(bar2 - key) >= PAGE_KEY_MAX)
        return VT_INVALID_ARGUMENT;
    *bar2 = '\0';
    const char *id = bar2 + 1;
    if (!key_valid(kind, key) || !vt_uuid_valid(id))
        return VT_INVALID_ARGUMENT;
    out->kind = kind;
    out->fingerprint = strtoull(fp, NULL, 16);
    snprintf(out->key, sizeof out->key, "%s", key);
    snprintf(out->id, sizeof out->id, "%s", id);
    return VT_OK;
}
