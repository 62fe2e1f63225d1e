/*
 * jwt.c — Clerk session token verification (API.md §2).
 *
 * A token is checked in the order that rejects bad input cheapest and never lets the
 * token steer the verification:
 *   1. shape: 1..8 KiB of base64url characters and exactly two dots;
 *   2. header: strict base64url, a JSON object (duplicate members rejected), `alg` one
 *      of RS256/RS384/RS512 (`none`, HS256 and the rest are refused here, so the
 *      classic "HS256 keyed with the RSA public key" confusion cannot even start),
 *      `crit` refused (we understand no extensions), other members ignored;
 *   3. key: from configuration only, by `kid` when the key set is a JWKS;
 *   4. signature: RSASSA-PKCS1-v1_5 through EVP_DigestVerify, signature length equal
 *      to the modulus size;
 *   5. claims: `exp` required (> now - skew), `nbf`/`iat` when present (<= now + skew),
 *      `iss` when an issuer is configured, `azp` when present and a list is
 *      configured, `sub` a 1..255-character printable ASCII string (it becomes gRPC
 *      metadata `x-user-id`, so no spaces or control characters).
 * A verified token is cached under its SHA-256 for the window it stays valid in, so
 * a client reusing its token costs a hash and a lookup instead of an RSA operation.
 * Failures carry a short reason safe to return to the client.
 */
#include "auth_internal.h"

#include <jansson.h>
#include <math.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PARTIES_MAX 32
#define TIME_LIMIT INT64_C(9000000000000000) /* ~285 million years */
#define PART_MAX (VT_AUTH_TOKEN_MAX / 4 * 3)

struct vt_auth_verifier {
    auth_keyset keys;
    char *issuer; /* NULL = not checked */
    char *parties[PARTIES_MAX];
    size_t nparties; /* 0 = azp not checked */
    int64_t skew;
    vt_auth_token_cache *cache;
};

void vt_auth_verifier_free(vt_auth_verifier *v)
{
    if (!v)
        return;
    auth_keyset_clear(&v->keys);
    free(v->issuer);
    for (size_t i = 0; i < v->nparties; i++)
        free(v->parties[i]);
    vt_auth_token_cache_free(v->cache);
    free(v);
}

static int parse_parties(vt_auth_verifier *v, const char *list, char *err, size_t errlen)
{
    const char *p = list;
    while (*p) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (b > a) {
            if (v->nparties == PARTIES_MAX) {
                auth_errf(err, errlen, "more than %d authorized parties", PARTIES_MAX);
                return VT_INVALID_ARGUMENT;
            }
            v->parties[v->nparties] = strndup(a, (size_t)(b - a));
            if (!v->parties[v->nparties]) {
                auth_errf(err, errlen, "out of memory");
                return VT_INVALID_ARGUMENT;
            }
            v->nparties++;
        }
        p = comma ? comma + 1 : end;
    }
    if (v->nparties == 0) {
        auth_errf(err, errlen, "authorized parties list has no entries");
        return VT_INVALID_ARGUMENT;
    }
    return VT_OK;
}

int vt_auth_verifier_new(const vt_auth_verifier_opts *cfg, vt_auth_verifier **out, char *err,
                         size_t errlen)
{
    bool has_pem = cfg && cfg->pem && cfg->pem[0];
    bool has_jwks = cfg && cfg->jwks && cfg->jwks[0];
    int rc;

    auth_errf(err, errlen, "%s", "");
    if (!out)
        return VT_INVALID_ARGUMENT;
    *out = NULL;
    if (!cfg || has_pem == has_jwks) {
        auth_errf(err, errlen, "give exactly one of a PEM key and a JWKS");
        return VT_INVALID_ARGUMENT;
    }
    if (cfg->clock_skew_s != VT_AUTH_NO_SKEW &&
        (cfg->clock_skew_s < 0 || cfg->clock_skew_s > 3600)) {
        auth_errf(err, errlen, "clock skew must be 0..3600 s");
        return VT_INVALID_ARGUMENT;
    }
    vt_auth_verifier *v = calloc(1, sizeof(*v));
    if (!v) {
        auth_errf(err, errlen, "out of memory");
        return VT_INVALID_ARGUMENT;
    }
    v->skew = cfg->clock_skew_s == VT_AUTH_NO_SKEW ? 0
              : cfg->clock_skew_s                  ? cfg->clock_skew_s
                                                   : VT_AUTH_DEFAULT_SKEW_S;
    rc = has_pem ? auth_keyset_from_pem(&v->keys, cfg->pem, err, errlen)
                 : auth_keyset_from_jwks(&v->keys, cfg->jwks, err, errlen);
    if (rc != VT_OK)
        goto fail;
    if (cfg->issuer && cfg->issuer[0] && !(v->issuer = strdup(cfg->issuer))) {
        auth_errf(err, errlen, "out of memory");
        rc = VT_INVALID_ARGUMENT;
        goto fail;
    }
    if (cfg->authorized_parties && cfg->authorized_parties[0] &&
        (rc = parse_parties(v, cfg->authorized_parties, err, errlen)) != VT_OK)
        goto fail;
    if (cfg->cache_entries != VT_AUTH_NO_CACHE) {
        vt_auth_token_cache_opts cache_opts = {.max_entries = cfg->cache_entries};
        if (vt_auth_token_cache_new(&cache_opts, &v->cache, err, errlen) != VT_OK) {
            rc = VT_INVALID_ARGUMENT;
            goto fail;
        }
    }
    *out = v;
    return VT_OK;
fail:
    vt_auth_verifier_free(v);
    return rc;
}

vt_auth_token_cache *vt_auth_verifier_cache(vt_auth_verifier *v)
{
    return v ? v->cache : NULL;
}

/* Decode one base64url part and parse it as a JSON object. */
static json_t *decode_json_part(const char *part, size_t len)
{
    unsigned char buf[PART_MAX + 1];
    size_t n;
    if (len == 0 || vt_auth_base64url_decode(part, len, buf, sizeof(buf), &n) != VT_OK)
        return NULL;
    json_t *obj = json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES, NULL);
    if (obj && !json_is_object(obj)) {
        json_decref(obj);
        obj = NULL;
    }
    return obj;
}

static bool is_b64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* A NumericDate claim. exp is rounded down and nbf/iat up when fractional, so a
 * fraction never extends validity. 1 present, 0 absent, -1 malformed. */
static int time_claim(json_t *claims, const char *name, bool round_up, int64_t *out)
{
    json_t *v = json_object_get(claims, name);
    if (!v)
        return 0;
    if (json_is_integer(v)) {
        /* Clamped so that adding or subtracting the skew can never overflow. */
        json_int_t i = json_integer_value(v);
        *out = i < -TIME_LIMIT ? -TIME_LIMIT : i > TIME_LIMIT ? TIME_LIMIT : (int64_t)i;
        return 1;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!isfinite(d))
            return -1;
        d = d < -TIME_LIMIT ? -TIME_LIMIT : d > TIME_LIMIT ? TIME_LIMIT : d;
        *out = (int64_t)(round_up ? ceil(d) : floor(d));
        return 1;
    }
    return -1;
}

static bool sub_ok(const char *s, size_t len)
{
    if (len == 0 || len > VT_AUTH_SUB_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return false;
    return true;
}

static int check_signature(const auth_key *key, int alg, const char *input, size_t input_len,
                           const char *sig_b64, size_t sig_b64_len)
{
    unsigned char sig[AUTH_RSA_MAX_BYTES];
    size_t siglen;
    int ok = 0;

    if (vt_auth_base64url_decode(sig_b64, sig_b64_len, sig, sizeof(sig), &siglen) != VT_OK ||
        siglen != (size_t)EVP_PKEY_get_size(key->pkey))
        return 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    if (md &&
        EVP_DigestVerifyInit_ex(md, &pctx, auth_alg_digest(alg), NULL, NULL, key->pkey, NULL) ==
            1 &&
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1)
        ok = EVP_DigestVerify(md, sig, siglen, (const unsigned char *)input, input_len) == 1;
    EVP_MD_CTX_free(md);
    /* A failed verification leaves entries on this thread's error queue; don't let
     * them surface in some unrelated OpenSSL call later. */
    ERR_clear_error();
    return ok;
}

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        auth_errf(err, errlen, __VA_ARGS__);                                                       \
        goto fail;                                                                                 \
    } while (0)

int vt_auth_verify(vt_auth_verifier *v, const char *token, size_t len, int64_t now,
                   vt_auth_identity *id, char *err, size_t errlen)
{
    json_t *header = NULL, *claims = NULL;
    char shown[48];

    auth_errf(err, errlen, "%s", "");
    if (!v || !id)
        return VT_INVALID_ARGUMENT;
    memset(id, 0, sizeof(*id));
    if (!token || len == 0)
        FAIL("missing token");
    if (len > VT_AUTH_TOKEN_MAX)
        FAIL("malformed token: longer than %d bytes", VT_AUTH_TOKEN_MAX);
    if (v->cache && vt_auth_token_cache_get(v->cache, token, len, now, id))
        return VT_OK;

    /* 1. shape */
    size_t dots[2], ndots = 0;
    for (size_t i = 0; i < len; i++) {
        if (token[i] == '.') {
            if (ndots == 2)
                FAIL("malformed token: more than 3 parts");
            dots[ndots++] = i;
        } else if (!is_b64url_char(token[i])) {
            FAIL("malformed token: invalid character");
        }
    }
    if (ndots != 2)
        FAIL("malformed token: expected 3 parts");
    const char *hdr_b64 = token, *pay_b64 = token + dots[0] + 1, *sig_b64 = token + dots[1] + 1;
    size_t hdr_len = dots[0], pay_len = dots[1] - dots[0] - 1, sig_len = len - dots[1] - 1;

    /* 2. header */
    if (!(header = decode_json_part(hdr_b64, hdr_len)))
        FAIL("malformed token: header is not a base64url JSON object");
    json_t *alg_j = json_object_get(header, "alg");
    if (!json_is_string(alg_j))
        FAIL("malformed token: header has no alg");
    int alg = auth_alg_from_name(json_string_value(alg_j));
    if (alg == AUTH_ALG_NONE) {
        auth_printable(json_string_value(alg_j), shown, sizeof(shown));
        FAIL("unsupported alg %s", shown);
    }
    if (json_object_get(header, "crit"))
        FAIL("unsupported crit header");
    json_t *kid_j = json_object_get(header, "kid");
    if (kid_j && !json_is_string(kid_j))
        FAIL("malformed token: kid is not a string");

    /* 3. key */
    const auth_key *key =
        auth_keyset_find(&v->keys, kid_j ? json_string_value(kid_j) : NULL, err, errlen);
    if (!key)
        goto fail;
    if (key->alg && key->alg != alg)
        FAIL("alg %s does not match the key's %s", auth_alg_name(alg), auth_alg_name(key->alg));

    /* 4. signature over "header.payload" */
    if (sig_len == 0)
        FAIL("malformed token: empty signature");
    if (!check_signature(key, alg, token, dots[1], sig_b64, sig_len))
        FAIL("bad signature");

    /* 5. claims */
    if (!(claims = decode_json_part(pay_b64, pay_len)))
        FAIL("malformed token: payload is not a base64url JSON object");
    int64_t exp, nbf = 0, iat = 0;
    int r = time_claim(claims, "exp", false, &exp);
    if (r <= 0)
        FAIL(r == 0 ? "token has no exp" : "malformed token: exp is not a number");
    if (exp <= now - v->skew)
        FAIL("token expired");
    int has_nbf = time_claim(claims, "nbf", true, &nbf);
    if (has_nbf < 0)
        FAIL("malformed token: nbf is not a number");
    if (has_nbf && nbf > now + v->skew)
        FAIL("token not yet valid");
    int has_iat = time_claim(claims, "iat", true, &iat);
    if (has_iat < 0)
        FAIL("malformed token: iat is not a number");
    if (has_iat && iat > now + v->skew)
        FAIL("token issued in the future");

    if (v->issuer) {
        json_t *iss = json_object_get(claims, "iss");
        if (!json_is_string(iss))
            FAIL("token has no iss");
        if (strcmp(json_string_value(iss), v->issuer) != 0 ||
            strlen(v->issuer) != json_string_length(iss)) {
            auth_printable(json_string_value(iss), shown, sizeof(shown));
            FAIL("wrong issuer %s", shown);
        }
    }
    json_t *azp = json_object_get(claims, "azp");
    if (azp && v->nparties) {
        if (!json_is_string(azp))
            FAIL("malformed token: azp is not a string");
        bool found = false;
        for (size_t i = 0; i < v->nparties && !found; i++)
            found = strlen(v->parties[i]) == json_string_length(azp) &&
                    strcmp(v->parties[i], json_string_value(azp)) == 0;
        if (!found) {
            auth_printable(json_string_value(azp), shown, sizeof(shown));
            FAIL("unauthorized party %s", shown);
        }
    }
    json_t *sub = json_object_get(claims, "sub");
    if (!json_is_string(sub) || json_string_length(sub) == 0)
        FAIL("token has no sub");
    if (!sub_ok(json_string_value(sub), json_string_length(sub)))
        FAIL("token sub is not a valid user id");

    memcpy(id->sub, json_string_value(sub), json_string_length(sub) + 1);
    id->exp = exp;
    if (v->cache) {
        /* Valid from the moment every time claim allows it until exp + skew: exactly
         * the window in which this function would accept the token again. */
        int64_t from = INT64_MIN;
        if (has_nbf)
            from = nbf - v->skew;
        if (has_iat && iat - v->skew > from)
            from = iat - v->skew;
        vt_auth_token_cache_put(v->cache, token, len, id, from, exp + v->skew, now);
    }
    json_decref(header);
    json_decref(claims);
    return VT_OK;

fail:
    json_decref(header);
    json_decref(claims);
    memset(id, 0, sizeof(*id));
    return VT_UNAUTHENTICATED;
}

int vt_auth_bearer_token(const char *header, const char **token, size_t *len, char *err,
                         size_t errlen)
{
    if (token)
        *token = NULL;
    if (len)
        *len = 0;
    if (!header || !header[0]) {
        auth_errf(err, errlen, "missing Authorization header");
        return VT_UNAUTHENTICATED;
    }
    const char *p = header;
    while (*p == ' ')
        p++;
    if (strncasecmp(p, "Bearer", 6) != 0 || (p[6] != ' ' && p[6] != '\t')) {
        auth_errf(err, errlen, "Authorization is not a Bearer token");
        return VT_UNAUTHENTICATED;
    }
    p += 6;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strlen(p);
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    if (n == 0) {
        auth_errf(err, errlen, "missing bearer token");
        return VT_UNAUTHENTICATED;
    }
    if (token)
        *token = p;
    if (len)
        *len = n;
    return VT_OK;
}
