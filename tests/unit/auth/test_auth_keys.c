/*
 * test_auth_keys.c — libs/auth: keys from a JWKS (by kid, rejected sets) and PEM
 * variants, and the cross-check against tokens minted by npm `jose` (fixtures/, made by
 * fixtures/make_fixtures.mjs).
 *
 * RSA keys, token signing and verifiers come from auth_test_util.c.
 */
#include "auth_test_util.h"
#include "vt_test.h"

#include <openssl/pem.h>

/* ---- keys: JWKS and PEM variants ---- */

static void test_jwks_by_kid(void)
{
    char *ja = jwk_of(key_a, ",\"kid\":\"ins_a\",\"use\":\"sig\"");
    char *jb = jwk_of(key_b, ",\"kid\":\"ins_b\",\"alg\":\"RS256\"");
    char *jwks = xasprintf("{\"keys\":[%s,{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"},%s]}", ja, jb);
    vt_auth_verifier *v = jwks_verifier(jwks);
    char *payload = xasprintf("{\"sub\":\"user_k\",\"exp\":%lld}", (long long)NOW + 60);

    char *t = sign_json("RS256", "{\"alg\":\"RS256\",\"kid\":\"ins_b\"}", payload, key_b);
    VT_CHECK_INT(verify_at(v, t, NOW), VT_OK);
    VT_CHECK_STR(ident.sub, "user_k");
    free(t);
    t = sign_json("RS512", "{\"alg\":\"RS512\",\"kid\":\"ins_a\"}", payload, key_a);
    VT_CHECK_INT(verify_at(v, t, NOW), VT_OK);
    free(t);
    /* The kid picks the key: key B's signature under kid ins_a fails. */
    t = sign_json("RS256", "{\"alg\":\"RS256\",\"kid\":\"ins_a\"}", payload, key_b);
    VT_CHECK_INT(verify_at(v, t, NOW), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "bad signature");
    free(t);
    t = sign_json("RS256", "{\"alg\":\"RS256\",\"kid\":\"ins_zzz\"}", payload, key_a);
    VT_CHECK_INT(verify_at(v, t, NOW), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "unknown kid ins_zzz");
    free(t);
    t = sign_json("RS256", "{\"alg\":\"RS256\"}", payload, key_a);
    VT_CHECK_INT(verify_at(v, t, NOW), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "token has no kid");
    free(t);
    t = sign_json("RS256", "{\"alg\":\"RS256\",\"kid\":7}", payload, key_a);
    VT_CHECK_INT(verify_at(v, t, NOW), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "malformed token: kid is not a string");
    free(t);
    /* Key B is pinned to RS256 by its JWK alg. */
    t = sign_json("RS384", "{\"alg\":\"RS384\",\"kid\":\"ins_b\"}", payload, key_b);
    VT_CHECK_INT(verify_at(v, t, NOW), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "alg RS384 does not match the key's RS256");
    free(t);
    vt_auth_verifier_free(v);
    free(jwks);

    /* One key: a token without kid may use it. */
    jwks = xasprintf("{\"keys\":[%s]}", ja);
    v = jwks_verifier(jwks);
    t = sign_json("RS256", "{\"alg\":\"RS256\"}", payload, key_a);
    VT_CHECK_INT(verify_at(v, t, NOW), VT_OK);
    free(t);
    t = sign_json("RS256", "{\"alg\":\"RS256\",\"kid\":\"ins_other\"}", payload, key_a);
    VT_CHECK_INT(verify_at(v, t, NOW), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "unknown kid ins_other");
    free(t);
    vt_auth_verifier_free(v);
    free(jwks);
    free(payload);
    free(ja);
    free(jb);
}

static void test_jwks_rejected(void)
{
    char *ja = jwk_of(key_a, ",\"kid\":\"k1\"");
    char *enc = jwk_of(key_b, ",\"kid\":\"k2\",\"use\":\"enc\"");
    char *dupe = xasprintf("{\"keys\":[%s,%s]}", ja, ja);
    char *only_enc = xasprintf("{\"keys\":[%s]}", enc);
    const char *bad[] = {
        "",
        "not json",
        "[]",
        "{\"keys\":{}}",
        "{\"keys\":[]}",
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\"}]}",
        "{\"keys\":[{\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
        "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\"}]}",
        "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQ==\",\"e\":\"AQAB\"}]}",
        "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}", /* 24-bit modulus */
        dupe,
        only_enc,
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        vt_auth_verifier_opts cfg = {0};
        vt_auth_verifier *v = NULL;
        cfg.jwks = bad[i];
        VT_CHECK_INT(vt_auth_verifier_new(&cfg, &v, err, sizeof(err)), VT_INVALID_ARGUMENT);
        VT_CHECK(v == NULL);
        VT_CHECK(err[0] != '\0');
    }
    free(dupe), free(only_enc), free(ja), free(enc);

    /* Both or neither key source; bad skew; empty party list. */
    vt_auth_verifier_opts cfg = {0};
    vt_auth_verifier *v = NULL;
    VT_CHECK_INT(vt_auth_verifier_new(&cfg, &v, err, sizeof(err)), VT_INVALID_ARGUMENT);
    cfg.pem = pem_a;
    cfg.jwks = "{\"keys\":[]}";
    VT_CHECK_INT(vt_auth_verifier_new(&cfg, &v, err, sizeof(err)), VT_INVALID_ARGUMENT);
    cfg.jwks = NULL;
    cfg.clock_skew_s = -1;
    VT_CHECK_INT(vt_auth_verifier_new(&cfg, &v, err, sizeof(err)), VT_INVALID_ARGUMENT);
    cfg.clock_skew_s = 5;
    cfg.authorized_parties = " , ,";
    VT_CHECK_INT(vt_auth_verifier_new(&cfg, &v, err, sizeof(err)), VT_INVALID_ARGUMENT);
    VT_CHECK_STR(err, "authorized parties list has no entries");
    cfg.authorized_parties = NULL;
    cfg.cache_entries = (size_t)1 << 30;
    VT_CHECK_INT(vt_auth_verifier_new(&cfg, &v, err, sizeof(err)), VT_INVALID_ARGUMENT);
    VT_CHECK(v == NULL);
}

static void test_pem_variants(void)
{
    char *t = std_token(key_a, "");
    char *escaped = replace_all(pem_a, "\n", "\\n"); /* env var with literal \n */
    char *spaced = replace_all(pem_a, "\n", " ");    /* newlines turned into spaces */
    char *joined = replace_all(pem_a, "\n", "");     /* newlines dropped */
    char *crlf = replace_all(pem_a, "\n", "\r\n");   /* Windows line ends */
    char *escaped_crlf = replace_all(pem_a, "\n", "\\r\\n");
    char *quoted_ws = xasprintf("  \n%s\n\n", pem_a);
    /* The body alone, as Clerk's SDK also accepts. */
    const char *b = strchr(pem_a, '\n') + 1;
    char *bare = strndup(b, (size_t)(strstr(b, "-----END") - b));
    const char *good[] = {pem_a, escaped, spaced, joined, crlf, escaped_crlf, quoted_ws, bare};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        vt_auth_verifier *v = pem_verifier(good[i], NULL, NULL, 5, 0);
        VT_CHECK_INT(verify_at(v, t, NOW), VT_OK);
        vt_auth_verifier_free(v);
    }
    VT_CHECK(strstr(escaped, "\\n") != NULL && strchr(escaped, '\n') == NULL);
    free(escaped), free(spaced), free(joined), free(crlf), free(escaped_crlf), free(quoted_ws),
        free(bare);

    /* The key must be a readable RSA public key of 2048+ bits. */
    EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    VT_REQUIRE(small && ec);
    char *small_pem = pem_of(small), *ec_pem = pem_of(ec);
    BIO *bio = BIO_new(BIO_s_mem());
    VT_REQUIRE(PEM_write_bio_PrivateKey(bio, small, NULL, NULL, 0, NULL, NULL) == 1);
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    char *priv_pem = strndup(data, (size_t)n);
    BIO_free(bio);
    char *truncated = strdup(pem_a);
    truncated[strlen(truncated) / 2] = '\0';
    char *garbled = strdup(pem_a);
    garbled[40] = '*';
    char *flipped = strdup(pem_a); /* valid base64, invalid DER */
    flipped[30] = flipped[30] == 'A' ? 'B' : 'A';
    struct {
        const char *pem, *why;
    } bad[] = {
        {small_pem, "the PEM key is a 1024-bit RSA key (need 2048..8192)"},
        {ec_pem, "the PEM key is not an RSA key"},
        {priv_pem, "is a private key; give the public key"},
        {truncated, "PEM has no END line"},
        {garbled, "PEM body is not valid base64"},
        {flipped, "PEM does not hold a readable public key"},
        {"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
         "is not a PEM public key"},
        {"-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n", "PEM body is empty"},
        {"hello", "PEM body is not valid base64"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        vt_auth_verifier_opts cfg = {0};
        vt_auth_verifier *v = NULL;
        cfg.pem = bad[i].pem;
        VT_CHECK_INT(vt_auth_verifier_new(&cfg, &v, err, sizeof(err)), VT_INVALID_ARGUMENT);
        VT_CHECK_STR(err, bad[i].why);
        VT_CHECK(v == NULL);
    }
    free(small_pem), free(ec_pem), free(priv_pem), free(truncated), free(garbled), free(flipped);
    EVP_PKEY_free(small);
    EVP_PKEY_free(ec);
    free(t);
}

/* ---- cross-check: tokens minted by npm jose ---- */

static void test_jose_fixtures(void)
{
    char *pem = read_fixture("jose_public.pem");
    char *jwks = read_fixture("jose_jwks.json");
    const char *files[] = {"jose_rs256.jwt", "jose_rs384.jwt", "jose_rs512.jwt"};
    const int64_t now = INT64_C(1700000100);
    vt_auth_verifier_opts cfg = {0};
    cfg.issuer = "https://clerk.example.test";
    cfg.authorized_parties = "http://localhost:3000";
    for (int src = 0; src < 2; src++) {
        vt_auth_verifier *v = NULL;
        cfg.pem = src == 0 ? pem : NULL;
        cfg.jwks = src == 1 ? jwks : NULL;
        VT_REQUIRE(vt_auth_verifier_new(&cfg, &v, err, sizeof(err)) == VT_OK);
        for (int i = 0; i < 3; i++) {
            char *t = read_fixture(files[i]);
            VT_CHECK_INT(verify_at(v, t, now), VT_OK);
            VT_CHECK_STR(ident.sub, "user_2jose");
            VT_CHECK_INT(ident.exp, 4102444800);
            VT_CHECK_INT(verify_at(v, t, 1700000000 - 6), VT_UNAUTHENTICATED); /* nbf */
            VT_CHECK_INT(verify_at(v, t, 4102444800 + 5), VT_UNAUTHENTICATED); /* exp */
            VT_CHECK_STR(err, "token expired");
            free(t);
        }
        vt_auth_verifier_free(v);
    }
    /* Our own key does not verify jose's tokens. */
    vt_auth_verifier *v = pem_verifier(pem_a, NULL, NULL, 5, 0);
    char *t = read_fixture("jose_rs256.jwt");
    VT_CHECK_INT(verify_at(v, t, now), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "bad signature");
    free(t);
    vt_auth_verifier_free(v);
    free(pem);
    free(jwks);
}

int main(void)
{
    auth_test_keys_init();

    VT_RUN(test_jwks_by_kid);
    VT_RUN(test_jwks_rejected);
    VT_RUN(test_pem_variants);
    VT_RUN(test_jose_fixtures);

    auth_test_keys_free();
    return VT_TEST_RESULT();
}
