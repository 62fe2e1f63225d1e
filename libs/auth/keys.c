/*
 * keys.c — the RSA public keys a verifier trusts, from configuration only.
 *
 * Two sources, as API.md §1 lists them:
 *  - CLERK_JWT_KEY, a PEM public key. Environment variables mangle PEM in the usual
 *    ways (newlines given as literal "\n" escapes, or as spaces, or dropped), so the
 *    PEM is not handed to OpenSSL's text parser: the base64 body between the BEGIN and
 *    END markers is collected while skipping whitespace and those escapes, decoded
 *    strictly, and the DER is decoded with OSSL_DECODER. Like Clerk's SDK, a bare
 *    base64 SPKI body without markers is accepted too. A PEM key is the only key, so
 *    a token's kid is not consulted (Clerk tokens carry a kid; the PEM is that key).
 *  - VENTA_JWKS_FILE, a JWKS document. RSA keys usable for signatures (kty "RSA", use
 *    absent or "sig", alg absent or RS256/384/512) are built from n and e with
 *    OSSL_PARAM_BLD + EVP_PKEY_fromdata; other keys (EC, encryption keys) are skipped,
 *    not errors, since real JWKS documents mix them. A JWK's alg pins the algorithm a
 *    token may use with it. Tokens choose their key by kid; a token without kid may use
 *    the only key of a one-key set.
 *
 * Keys shorter than 2048 bits are refused at start. Nothing here ever looks at keys
 * carried inside a token (jwk/jku/x5u/x5c headers).
 */
#include "auth_internal.h"

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PEM_BODY_MAX 8192

void auth_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void auth_printable(const char *in, char *out, size_t outlen)
{
    size_t o = 0;
    if (outlen == 0)
        return;
    for (size_t i = 0; in && in[i] && o + 1 < outlen && i < 40; i++) {
        unsigned char c = (unsigned char)in[i];
        out[o++] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? (char)c : '?';
    }
    out[o] = '\0';
}

static const struct {
    const char *name, *digest;
} algs[] = {
    [AUTH_ALG_RS256] = {"RS256", "SHA256"},
    [AUTH_ALG_RS384] = {"RS384", "SHA384"},
    [AUTH_ALG_RS512] = {"RS512", "SHA512"},
};

int auth_alg_from_name(const char *name)
{
    for (int a = AUTH_ALG_RS256; a <= AUTH_ALG_RS512; a++)
        if (name && strcmp(name, algs[a].name) == 0)
            return a;
    return AUTH_ALG_NONE;
}

const char *auth_alg_name(int alg)
{
    return alg >= AUTH_ALG_RS256 && alg <= AUTH_ALG_RS512 ? algs[alg].name : "none";
}

const char *auth_alg_digest(int alg)
{
    return alg >= AUTH_ALG_RS256 && alg <= AUTH_ALG_RS512 ? algs[alg].digest : NULL;
}

void auth_keyset_clear(auth_keyset *ks)
{
    for (size_t i = 0; i < ks->count; i++)
        EVP_PKEY_free(ks->keys[i].pkey);
    memset(ks, 0, sizeof(*ks));
}

/* Accept only RSA (not RSA-PSS, not EC) keys of a sane size. */
static int check_rsa(EVP_PKEY *pkey, const char *what, char *err, size_t errlen)
{
    if (!EVP_PKEY_is_a(pkey, "RSA")) {
        auth_errf(err, errlen, "%s is not an RSA key", what);
        return VT_INVALID_ARGUMENT;
    }
    int bits = EVP_PKEY_get_bits(pkey);
    if (bits < AUTH_RSA_MIN_BITS || bits > AUTH_RSA_MAX_BYTES * 8) {
        auth_errf(err, errlen, "%s is a %d-bit RSA key (need %d..%d)", what, bits,
                  AUTH_RSA_MIN_BITS, AUTH_RSA_MAX_BYTES * 8);
        return VT_INVALID_ARGUMENT;
    }
    return VT_OK;
}

/* ---- PEM ---- */

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Append the base64 characters of text[0..n) to body, skipping whitespace and the
 * literal two-character escapes \n, \r and \t. */
static int collect_body(const char *text, size_t n, char *body, size_t *blen)
{
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c == '\\' && i + 1 < n &&
            (text[i + 1] == 'n' || text[i + 1] == 'r' || text[i + 1] == 't')) {
            i++;
            continue;
        }
        if (*blen >= PEM_BODY_MAX)
            return VT_INVALID_ARGUMENT;
        body[(*blen)++] = c;
    }
    return VT_OK;
}

static EVP_PKEY *decode_der(const unsigned char *der, size_t len, const char *structure)
{
    EVP_PKEY *pkey = NULL;
    const unsigned char *p = der;
    size_t left = len;
    OSSL_DECODER_CTX *dctx = OSSL_DECODER_CTX_new_for_pkey(
        &pkey, "DER", structure, strcmp(structure, "type-specific") == 0 ? "RSA" : NULL,
        EVP_PKEY_PUBLIC_KEY, NULL, NULL);
    if (!dctx)
        return NULL;
    if (!OSSL_DECODER_from_data(dctx, &p, &left) || left != 0) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    OSSL_DECODER_CTX_free(dctx);
    return pkey;
}

int auth_keyset_from_pem(auth_keyset *ks, const char *pem, char *err, size_t errlen)
{
    static const char spki[] = "-----BEGIN PUBLIC KEY-----";
    static const char pkcs1[] = "-----BEGIN RSA PUBLIC KEY-----";
    char body[PEM_BODY_MAX];
    size_t blen = 0;
    const char *structure = "SubjectPublicKeyInfo";
    const char *begin = strstr(pem, "-----BEGIN ");
    int rc;

    memset(ks, 0, sizeof(*ks));
    if (begin) {
        const char *end_marker;
        size_t hdr;
        if (starts(begin, spki)) {
            hdr = sizeof(spki) - 1;
            end_marker = "-----END PUBLIC KEY-----";
        } else if (starts(begin, pkcs1)) {
            hdr = sizeof(pkcs1) - 1;
            end_marker = "-----END RSA PUBLIC KEY-----";
            structure = "type-specific";
        } else {
            const char *eol = strstr(begin + 11, "-----");
            bool priv = eol && memmem(begin, (size_t)(eol - begin), "PRIVATE", 7);
            auth_errf(err, errlen,
                      priv ? "is a private key; give the public key" : "is not a PEM public key");
            return VT_INVALID_ARGUMENT;
        }
        const char *end = strstr(begin + hdr, end_marker);
        if (!end) {
            auth_errf(err, errlen, "PEM has no END line");
            return VT_INVALID_ARGUMENT;
        }
        rc = collect_body(begin + hdr, (size_t)(end - begin - hdr), body, &blen);
    } else {
        rc = collect_body(pem, strlen(pem), body, &blen);
    }
    if (rc != VT_OK || blen == 0) {
        auth_errf(err, errlen, blen ? "PEM is too long" : "PEM body is empty");
        return VT_INVALID_ARGUMENT;
    }

    unsigned char der[PEM_BODY_MAX];
    size_t dlen;
    if (vt_auth_base64_decode(body, blen, der, sizeof(der), &dlen) != VT_OK) {
        auth_errf(err, errlen, "PEM body is not valid base64");
        return VT_INVALID_ARGUMENT;
    }
    EVP_PKEY *pkey = decode_der(der, dlen, structure);
    ERR_clear_error();
    if (!pkey) {
        auth_errf(err, errlen, "PEM does not hold a readable public key");
        return VT_INVALID_ARGUMENT;
    }
    rc = check_rsa(pkey, "the PEM key", err, errlen);
    if (rc != VT_OK) {
        EVP_PKEY_free(pkey);
        return rc;
    }
    ks->keys[0].pkey = pkey;
    ks->count = 1;
    ks->by_kid = false;
    return VT_OK;
}

/* ---- JWKS ---- */

static EVP_PKEY *rsa_from_ne(const unsigned char *n, size_t nlen, const unsigned char *e,
                             size_t elen)
{
    EVP_PKEY *pkey = NULL;
    BIGNUM *bn_n = BN_bin2bn(n, (int)nlen, NULL);
    BIGNUM *bn_e = BN_bin2bn(e, (int)elen, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;

    if (!bn_n || !bn_e || !bld)
        goto done;
    if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e))
        goto done;
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pkey = NULL;
done:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    ERR_clear_error();
    return pkey;
}

/* A base64url big-endian unsigned integer member of a JWK. */
static int jwk_uint(json_t *jwk, const char *name, unsigned char *out, size_t cap, size_t *len)
{
    json_t *v = json_object_get(jwk, name);
    if (!json_is_string(v))
        return VT_INVALID_ARGUMENT;
    if (vt_auth_base64url_decode(json_string_value(v), json_string_length(v), out, cap, len) !=
            VT_OK ||
        *len == 0)
        return VT_INVALID_ARGUMENT;
    return VT_OK;
}

/* 0 and *pkey set; 0 and *pkey NULL for a key to skip; an error for a broken key. */
static int jwk_load(json_t *jwk, size_t index, auth_key *key, char *err, size_t errlen)
{
    json_t *kty = json_object_get(jwk, "kty");
    json_t *use = json_object_get(jwk, "use");
    json_t *alg = json_object_get(jwk, "alg");
    json_t *kid = json_object_get(jwk, "kid");

    memset(key, 0, sizeof(*key));
    if (!json_is_object(jwk) || !json_is_string(kty)) {
        auth_errf(err, errlen, "JWKS key %zu has no kty", index);
        return VT_INVALID_ARGUMENT;
    }
    if (strcmp(json_string_value(kty), "RSA") != 0)
        return VT_OK;
    if (use && (!json_is_string(use) || strcmp(json_string_value(use), "sig") != 0))
        return VT_OK;
    if (alg) {
        key->alg = json_is_string(alg) ? auth_alg_from_name(json_string_value(alg)) : 0;
        if (key->alg == AUTH_ALG_NONE)
            return VT_OK; /* PS256, RSA-OAEP...: not for session tokens */
    }
    if (kid) {
        if (!json_is_string(kid) || json_string_length(kid) == 0 ||
            json_string_length(kid) > AUTH_KID_MAX) {
            auth_errf(err, errlen, "JWKS key %zu has a bad kid", index);
            return VT_INVALID_ARGUMENT;
        }
        memcpy(key->kid, json_string_value(kid), json_string_length(kid) + 1);
        key->has_kid = true;
    }

    unsigned char n[AUTH_RSA_MAX_BYTES + 1], e[8];
    size_t nlen, elen;
    if (jwk_uint(jwk, "n", n, sizeof(n), &nlen) != VT_OK ||
        jwk_uint(jwk, "e", e, sizeof(e), &elen) != VT_OK || !(e[elen - 1] & 1)) {
        auth_errf(err, errlen, "JWKS key %zu has a bad n or e", index);
        return VT_INVALID_ARGUMENT;
    }
    key->pkey = rsa_from_ne(n, nlen, e, elen);
    if (!key->pkey) {
        auth_errf(err, errlen, "JWKS key %zu is not a usable RSA key", index);
        return VT_INVALID_ARGUMENT;
    }
    char what[32];
    snprintf(what, sizeof(what), "JWKS key %zu", index);
    int rc = check_rsa(key->pkey, what, err, errlen);
    if (rc != VT_OK) {
        EVP_PKEY_free(key->pkey);
        key->pkey = NULL;
    }
    return rc;
}

int auth_keyset_from_jwks(auth_keyset *ks, const char *text, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    json_t *keys = json_object_get(doc, "keys");
    int rc = VT_INVALID_ARGUMENT;

    memset(ks, 0, sizeof(*ks));
    ks->by_kid = true;
    if (!doc) {
        auth_errf(err, errlen, "JWKS is not valid JSON (line %d: %s)", jerr.line, jerr.text);
        return VT_INVALID_ARGUMENT;
    }
    if (!json_is_array(keys)) {
        auth_errf(err, errlen, "JWKS has no \"keys\" array");
        goto fail;
    }
    for (size_t i = 0; i < json_array_size(keys); i++) {
        auth_key key;
        rc = jwk_load(json_array_get(keys, i), i, &key, err, errlen);
        if (rc != VT_OK)
            goto fail;
        if (!key.pkey)
            continue;
        for (size_t j = 0; key.has_kid && j < ks->count; j++) {
            if (ks->keys[j].has_kid && strcmp(ks->keys[j].kid, key.kid) == 0) {
                EVP_PKEY_free(key.pkey);
                auth_errf(err, errlen, "JWKS key %zu repeats a kid", i);
                rc = VT_INVALID_ARGUMENT;
                goto fail;
            }
        }
        if (ks->count == AUTH_KEYS_MAX) {
            EVP_PKEY_free(key.pkey);
            auth_errf(err, errlen, "JWKS has more than %d usable keys", AUTH_KEYS_MAX);
            rc = VT_INVALID_ARGUMENT;
            goto fail;
        }
        ks->keys[ks->count++] = key;
    }
    if (ks->count == 0) {
        auth_errf(err, errlen, "JWKS has no RSA signing key");
        rc = VT_INVALID_ARGUMENT;
        goto fail;
    }
    json_decref(doc);
    return VT_OK;
fail:
    json_decref(doc);
    auth_keyset_clear(ks);
    return rc;
}

const auth_key *auth_keyset_find(const auth_keyset *ks, const char *kid, char *err, size_t errlen)
{
    if (!ks->by_kid)
        return &ks->keys[0];
    if (!kid) {
        if (ks->count == 1)
            return &ks->keys[0];
        auth_errf(err, errlen, "token has no kid");
        return NULL;
    }
    for (size_t i = 0; i < ks->count; i++)
        if (ks->keys[i].has_kid && strcmp(ks->keys[i].kid, kid) == 0)
            return &ks->keys[i];
    char shown[48];
    auth_printable(kid, shown, sizeof(shown));
    auth_errf(err, errlen, "unknown kid %s", shown);
    return NULL;
}
