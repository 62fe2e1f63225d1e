/*
 * auth_test_util.c — the keys, token signing and verifiers the unit tests of libs/auth
 * share (see auth_test_util.h).
 */
#include "auth_test_util.h"
#include "vt_test.h"
#include "vt_test_file.h"

#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <stdarg.h>

EVP_PKEY *key_a, *key_b;
char *pem_a;

void auth_test_keys_init(void)
{
    key_a = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    key_b = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    VT_REQUIRE(key_a && key_b);
    pem_a = pem_of(key_a);
    VT_REQUIRE(strstr(pem_a, "-----BEGIN PUBLIC KEY-----") == pem_a);
}

void auth_test_keys_free(void)
{
    free(pem_a);
    EVP_PKEY_free(key_a);
    EVP_PKEY_free(key_b);
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    VT_REQUIRE(vasprintf(&s, fmt, ap) >= 0);
    va_end(ap);
    return s;
}

char *b64url(const void *data, size_t n)
{
    size_t cap = vt_auth_base64url_encoded_len(n) + 1;
    char *out = malloc(cap);
    VT_REQUIRE(out && vt_auth_base64url_encode(data, n, out, cap) == VT_OK);
    return out;
}

char *b64url_str(const char *s)
{
    return b64url(s, strlen(s));
}

char *pem_of(EVP_PKEY *pkey)
{
    BIO *bio = BIO_new(BIO_s_mem());
    VT_REQUIRE(bio && PEM_write_bio_PUBKEY(bio, pkey) == 1);
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    char *pem = strndup(data, (size_t)n);
    BIO_free(bio);
    return pem;
}

/* {"kty":"RSA","n":...,"e":...<extra>} */
char *jwk_of(EVP_PKEY *pkey, const char *extra)
{
    BIGNUM *n = NULL, *e = NULL;
    VT_REQUIRE(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) == 1);
    VT_REQUIRE(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) == 1);
    unsigned char nb[1024], eb[16];
    int nl = BN_bn2bin(n, nb), el = BN_bn2bin(e, eb);
    char *n64 = b64url(nb, (size_t)nl), *e64 = b64url(eb, (size_t)el);
    char *jwk = xasprintf("{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"%s}", n64, e64, extra);
    free(n64);
    free(e64);
    BN_free(n);
    BN_free(e);
    return jwk;
}

/* header.payload.signature; alg picks RS256/384/512 with pkey or HS256 with secret. */
char *sign_raw(const char *alg, const char *header_b64, const char *payload_b64, EVP_PKEY *pkey,
               const char *hmac_secret)
{
    char *input = xasprintf("%s.%s", header_b64, payload_b64);
    unsigned char sig[1024];
    size_t siglen = sizeof(sig);
    if (strcmp(alg, "HS256") == 0) {
        unsigned int n = 0;
        VT_REQUIRE(HMAC(EVP_sha256(), hmac_secret, (int)strlen(hmac_secret),
                        (const unsigned char *)input, strlen(input), sig, &n));
        siglen = n;
    } else if (strcmp(alg, "none") == 0) {
        siglen = 0;
    } else {
        const char *md = strcmp(alg, "RS384") == 0   ? "SHA384"
                         : strcmp(alg, "RS512") == 0 ? "SHA512"
                                                     : "SHA256";
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        VT_REQUIRE(EVP_DigestSignInit_ex(ctx, NULL, md, NULL, NULL, pkey, NULL) == 1);
        VT_REQUIRE(EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)input, strlen(input)) ==
                   1);
        EVP_MD_CTX_free(ctx);
    }
    char *sig64 = b64url(sig, siglen);
    char *token = xasprintf("%s.%s", input, sig64);
    free(sig64);
    free(input);
    return token;
}

char *sign_json(const char *alg, const char *header_json, const char *payload_json, EVP_PKEY *pkey)
{
    char *h = b64url_str(header_json), *p = b64url_str(payload_json);
    char *t = sign_raw(alg, h, p, pkey, NULL);
    free(h);
    free(p);
    return t;
}

/* A normal Clerk-like token: RS256, kid, sub, exp/iat/nbf around NOW. */
char *std_token(EVP_PKEY *pkey, const char *extra_claims)
{
    char *payload =
        xasprintf("{\"sub\":\"user_2abc\",\"iat\":%lld,\"nbf\":%lld,\"exp\":%lld%s}",
                  (long long)NOW - 10, (long long)NOW - 10, (long long)NOW + 60, extra_claims);
    char *t =
        sign_json("RS256", "{\"alg\":\"RS256\",\"kid\":\"ins_a\",\"typ\":\"JWT\"}", payload, pkey);
    free(payload);
    return t;
}

vt_auth_verifier *pem_verifier(const char *pem, const char *iss, const char *azp, long skew,
                               size_t cache)
{
    vt_auth_verifier_opts cfg = {0};
    vt_auth_verifier *v = NULL;
    char why[200];
    cfg.pem = pem;
    cfg.issuer = iss;
    cfg.authorized_parties = azp;
    cfg.clock_skew_s = skew ? skew : VT_AUTH_NO_SKEW;
    cfg.cache_entries = cache ? cache : VT_AUTH_NO_CACHE;
    int rc = vt_auth_verifier_new(&cfg, &v, why, sizeof(why));
    if (rc != VT_OK)
        fprintf(stderr, "verifier: %s\n", why);
    VT_REQUIRE(rc == VT_OK && v);
    return v;
}

vt_auth_verifier *jwks_verifier(const char *jwks)
{
    vt_auth_verifier_opts cfg = {0};
    vt_auth_verifier *v = NULL;
    char why[200];
    cfg.jwks = jwks;
    cfg.cache_entries = VT_AUTH_NO_CACHE;
    int rc = vt_auth_verifier_new(&cfg, &v, why, sizeof(why));
    if (rc != VT_OK)
        fprintf(stderr, "verifier: %s\n", why);
    VT_REQUIRE(rc == VT_OK && v);
    return v;
}

char err[256];
vt_auth_identity ident;
int verify_at(vt_auth_verifier *v, const char *token, int64_t now)
{
    return vt_auth_verify(v, token, strlen(token), now, &ident, err, sizeof(err));
}

char *read_fixture(const char *name)
{
    char *text = vt_test_read_file(VT_AUTH_FIXTURES, name);
    VT_REQUIRE(text);
    return text;
}

char *replace_all(const char *s, const char *from, const char *to)
{
    size_t fl = strlen(from), tl = strlen(to), cap = strlen(s) * (tl + 1) + 1;
    char *out = calloc(1, cap), *o = out;
    while (*s) {
        if (strncmp(s, from, fl) == 0) {
            memcpy(o, to, tl);
            o += tl;
            s += fl;
        } else {
            *o++ = *s++;
        }
    }
    return out;
}
