/*
 * test_auth_jwt.c — libs/auth: session JWT verification: the happy path, time edges,
 * algorithm attacks (alg none, HS256 key confusion, bad signatures, tampered payloads,
 * embedded keys), claims (iss, azp, sub) and malformed input.
 *
 * RSA keys, token signing and verifiers come from auth_test_util.c.
 */
#include "auth_test_util.h"
#include "vt_test.h"

#include <openssl/hmac.h>

/* ---- JWT: the happy path ---- */

static void test_jwt_valid_algs(void)
{
    vt_auth_verifier *v = pem_verifier(pem_a, NULL, NULL, 5, 0);
    const char *algs[] = {"RS256", "RS384", "RS512"};
    for (int i = 0; i < 3; i++) {
        char *hdr =
            xasprintf("{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"whatever\",\"x-ext\":1}", algs[i]);
        char *payload = xasprintf("{\"sub\":\"user_%d\",\"exp\":%lld}", i, (long long)NOW + 60);
        char *t = sign_json(algs[i], hdr, payload, key_a);
        VT_CHECK_INT(verify_at(v, t, NOW), VT_OK);
        char want[16];
        snprintf(want, sizeof(want), "user_%d", i);
        VT_CHECK_STR(ident.sub, want);
        VT_CHECK_INT(ident.exp, NOW + 60);
        VT_CHECK(!ident.cached);
        free(hdr);
        free(payload);
        free(t);
    }
    /* A token with every usual Clerk claim. */
    char *t = std_token(key_a, ",\"azp\":\"http://localhost:3000\",\"sid\":\"sess_1\"");
    VT_CHECK_INT(verify_at(v, t, NOW), VT_OK);
    VT_CHECK_STR(ident.sub, "user_2abc");
    free(t);
    vt_auth_verifier_free(v);
}

static void test_jwt_time_edges(void)
{
    vt_auth_verifier *v = pem_verifier(pem_a, NULL, NULL, 5, 0);
    struct {
        const char *claims_fmt;
        long long t;
        int want;
        const char *why;
    } cases[] = {
        {"\"exp\":%lld", NOW - 6, VT_UNAUTHENTICATED, "token expired"},
        {"\"exp\":%lld", NOW - 5, VT_UNAUTHENTICATED, "token expired"}, /* exp <= now - skew */
        {"\"exp\":%lld", NOW - 4, VT_OK, ""},                           /* inside the skew */
        {"\"exp\":%lld", NOW - 3600, VT_UNAUTHENTICATED, "token expired"},
        {"\"exp\":%lld.9", NOW - 5, VT_UNAUTHENTICATED, "token expired"}, /* fraction not extra */
        {"\"exp\":%lld.5", NOW - 4, VT_OK, ""},
        {"\"exp\":9999999999,\"nbf\":%lld", NOW + 5, VT_OK, ""},
        {"\"exp\":9999999999,\"nbf\":%lld", NOW + 6, VT_UNAUTHENTICATED, "token not yet valid"},
        {"\"exp\":9999999999,\"nbf\":%lld.1", NOW + 5, VT_UNAUTHENTICATED, "token not yet valid"},
        {"\"exp\":9999999999,\"iat\":%lld", NOW + 6, VT_UNAUTHENTICATED,
         "token issued in the future"},
        {"\"exp\":9999999999,\"iat\":%lld", NOW - 100000, VT_OK, ""},
        {"\"exp\":9223372036854775807,\"x\":%lld", 0, VT_OK, ""}, /* huge: no overflow */
        {"\"exp\":99999999999999999999999,\"x\":%lld", 0, VT_UNAUTHENTICATED,
         "malformed token: payload is not a base64url JSON object"}, /* beyond int64 */
        {"\"exp\":\"%lld\"", NOW + 60, VT_UNAUTHENTICATED, "malformed token: exp is not a number"},
        {"\"exp\":9999999999,\"nbf\":\"%lld\"", NOW, VT_UNAUTHENTICATED,
         "malformed token: nbf is not a number"},
        {"\"iat\":%lld", NOW, VT_UNAUTHENTICATED, "token has no exp"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *fmt = xasprintf("{\"sub\":\"user_t\",%s}", cases[i].claims_fmt);
        char *payload = NULL;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        VT_REQUIRE(asprintf(&payload, fmt, cases[i].t) >= 0);
#pragma GCC diagnostic pop
        char *t = sign_json("RS256", "{\"alg\":\"RS256\"}", payload, key_a);
        int rc = verify_at(v, t, NOW);
        VT_CHECK_INT(rc, cases[i].want);
        VT_CHECK_STR(err, cases[i].why);
        if (rc != cases[i].want)
            fprintf(stderr, "  case %zu: %s -> %s\n", i, payload, err);
        free(fmt);
        free(payload);
        free(t);
    }
    vt_auth_verifier_free(v);

    /* Skew 0: the edges move to now itself. */
    v = pem_verifier(pem_a, NULL, NULL, 0, 0);
    char *p1 = xasprintf("{\"sub\":\"u\",\"exp\":%lld}", (long long)NOW);
    char *p2 = xasprintf("{\"sub\":\"u\",\"exp\":%lld,\"nbf\":%lld}", (long long)NOW + 1,
                         (long long)NOW + 1);
    char *p3 =
        xasprintf("{\"sub\":\"u\",\"exp\":%lld,\"nbf\":%lld}", (long long)NOW + 1, (long long)NOW);
    char *t1 = sign_json("RS256", "{\"alg\":\"RS256\"}", p1, key_a);
    char *t2 = sign_json("RS256", "{\"alg\":\"RS256\"}", p2, key_a);
    char *t3 = sign_json("RS256", "{\"alg\":\"RS256\"}", p3, key_a);
    VT_CHECK_INT(verify_at(v, t1, NOW), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "token expired");
    VT_CHECK_INT(verify_at(v, t1, NOW - 1), VT_OK);
    VT_CHECK_INT(verify_at(v, t2, NOW), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "token not yet valid");
    VT_CHECK_INT(verify_at(v, t3, NOW), VT_OK);
    free(p1), free(p2), free(p3), free(t1), free(t2), free(t3);
    vt_auth_verifier_free(v);
}

/* ---- JWT: algorithm attacks ---- */

static void test_jwt_alg_none_and_others(void)
{
    vt_auth_verifier *v = pem_verifier(pem_a, NULL, NULL, 5, 0);
    char *payload = xasprintf("{\"sub\":\"user_evil\",\"exp\":%lld}", (long long)NOW + 60);
    char *h = b64url_str("{\"alg\":\"none\",\"typ\":\"JWT\"}");
    char *p = b64url_str(payload);

    char *t = xasprintf("%s.%s.", h, p); /* unsigned token, the classic form */
    VT_CHECK_INT(verify_at(v, t, NOW), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "unsupported alg none");
    VT_CHECK_STR(ident.sub, "");
    free(t);
    t = xasprintf("%s.%s.c2ln", h, p);
    VT_CHECK_INT(verify_at(v, t, NOW), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "unsupported alg none");
    free(t);
    free(h);

    const char *refused[] = {"None", "NONE",  "HS256",  "HS512", "ES256", "PS256",
                             "RS1",  "rs256", "RS256 ", "EdDSA", ""};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        char *hdr = xasprintf("{\"alg\":\"%s\"}", refused[i]);
        t = sign_json("RS256", hdr, payload, key_a); /* even a valid RS256 signature */
        VT_CHECK_INT(verify_at(v, t, NOW), VT_UNAUTHENTICATED);
        char want[64];
        snprintf(want, sizeof(want), "unsupported alg %s", refused[i]);
        VT_CHECK_STR(err, want);
        free(hdr);
        free(t);
    }
    /* alg missing or not a string */
    t = sign_json("RS256", "{\"typ\":\"JWT\"}", payload, key_a);
    VT_CHECK_INT(verify_at(v, t, NOW), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "malformed token: header has no alg");
    free(t);
    t = sign_json("RS256", "{\"alg\":[\"RS256\"]}", payload, key_a);
    VT_CHECK_INT(verify_at(v, t, NOW), VT_UNAUTHENTICATED);
    free(t);
    /* Control characters in the alg never reach the message verbatim. */
    t = sign_json("RS256", "{\"alg\":\"X\\r\\nSet-Cookie: a\"}", payload, key_a);
    VT_CHECK_INT(verify_at(v, t, NOW), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "unsupported alg X??Set-Cookie: a");
    free(t);
    free(p);
    free(payload);
    vt_auth_verifier_free(v);
}

static void test_jwt_hs256_confusion(void)
{
    /* The attacker knows the public key and signs HS256 with its PEM text as the HMAC
     * secret, hoping the verifier feeds "the key" to HMAC. */
    vt_auth_verifier *v = pem_verifier(pem_a, NULL, NULL, 5, 0);
    char *payload = xasprintf("{\"sub\":\"user_admin\",\"exp\":%lld}", (long long)NOW + 60);
    char *h = b64url_str("{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
    char *p = b64url_str(payload);
    char *t = sign_raw("HS256", h, p, NULL, pem_a);
    VT_CHECK_INT(verify_at(v, t, NOW), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "unsupported alg HS256");
    VT_CHECK_STR(ident.sub, "");
    free(t);
    /* Same with the DER bytes' base64 (the other common spelling of "the key"). */
    char body[2048] = "";
    for (const char *s = strchr(pem_a, '\n') + 1; *s && *s != '-'; s++)
        if (*s != '\n')
            strncat(body, s, 1);
    t = sign_raw("HS256", h, p, NULL, body);
    VT_CHECK_INT(verify_at(v, t, NOW), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "unsupported alg HS256");
    free(t);
    /* And relabelled as RS256: now it is simply a bad signature. */
    char *h2 = b64url_str("{\"alg\":\"RS256\"}");
    t = sign_raw("HS256", h2, p, NULL, pem_a);
    VT_CHECK_INT(verify_at(v, t, NOW), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "bad signature");
    free(t);
    free(h2);
    free(h);
    free(p);
    free(payload);
    vt_auth_verifier_free(v);
}

static void test_jwt_bad_signature(void)
{
    vt_auth_verifier *v = pem_verifier(pem_a, NULL, NULL, 5, 0);
    char *t = std_token(key_b, ""); /* right shape, wrong key */
    VT_CHECK_INT(verify_at(v, t, NOW), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "bad signature");
    free(t);

    t = std_token(key_a, "");
    VT_CHECK_INT(verify_at(v, t, NOW), VT_OK);
    size_t len = strlen(t);
    /* Flip one signature character (not the last: its low bits may be unused). */
    char *bad = strdup(t);
    bad[len - 5] = bad[len - 5] == 'A' ? 'B' : 'A';
    VT_CHECK_INT(verify_at(v, bad, NOW), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "bad signature");
    /* Truncated signature: wrong length for the modulus. */
    strcpy(bad, t);
    bad[len - 4] = '\0';
    VT_CHECK_INT(verify_at(v, bad, NOW), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "bad signature");
    /* Signature part not base64url-canonical / empty. */
    strcpy(bad, t);
    strcpy(strrchr(bad, '.') + 1, "A");
    VT_CHECK_INT(verify_at(v, bad, NOW), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "bad signature");
    strcpy(bad, t);
    strrchr(bad, '.')[1] = '\0';
    VT_CHECK_INT(verify_at(v, bad, NOW), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "malformed token: empty signature");
    free(bad);
    free(t);
    vt_auth_verifier_free(v);
}

static void test_jwt_tampered_payload(void)
{
    vt_auth_verifier *v = pem_verifier(pem_a, NULL, NULL, 5, 0);
    char *t = std_token(key_a, "");
    char *other = xasprintf("{\"sub\":\"user_admin\",\"exp\":%lld}", (long long)NOW + 60);
    char *p = b64url_str(other);
    const char *d1 = strchr(t, '.'), *d2 = strrchr(t, '.');
    char *forged = xasprintf("%.*s.%s%s", (int)(d1 - t), t, p, d2);
    VT_CHECK_INT(verify_at(v, forged, NOW), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "bad signature");
    VT_CHECK_STR(ident.sub, "");
    /* Header swapped for an equivalent one: the signature covers the header bytes too. */
    char *h = b64url_str("{\"alg\":\"RS256\",\"kid\":\"ins_a\",\"typ\":\"JWT\" }");
    char *forged2 = xasprintf("%s%s", h, d1);
    VT_CHECK_INT(verify_at(v, forged2, NOW), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "bad signature");
    free(h), free(forged2), free(forged), free(p), free(other), free(t);
    vt_auth_verifier_free(v);
}

static void test_jwt_embedded_key_ignored(void)
{
    /* A token carrying its own key (jwk header) signed with that key: never trusted. */
    vt_auth_verifier *v = pem_verifier(pem_a, NULL, NULL, 5, 0);
    char *jwk = jwk_of(key_b, "");
    char *hdr = xasprintf("{\"alg\":\"RS256\",\"jwk\":%s,\"jku\":\"https://evil.test/jwks\"}", jwk);
    char *payload = xasprintf("{\"sub\":\"user_evil\",\"exp\":%lld}", (long long)NOW + 60);
    char *t = sign_json("RS256", hdr, payload, key_b);
    VT_CHECK_INT(verify_at(v, t, NOW), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "bad signature");
    free(t), free(payload), free(hdr), free(jwk);
    vt_auth_verifier_free(v);
}

/* ---- JWT: claims ---- */

static void test_jwt_issuer(void)
{
    vt_auth_verifier *v = pem_verifier(pem_a, "https://clerk.venta.test", NULL, 5, 0);
    char *t = std_token(key_a, ",\"iss\":\"https://clerk.venta.test\"");
    VT_CHECK_INT(verify_at(v, t, NOW), VT_OK);
    free(t);
    t = std_token(key_a, ",\"iss\":\"https://clerk.evil.test\"");
    VT_CHECK_INT(verify_at(v, t, NOW), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "wrong issuer https://clerk.evil.test");
    free(t);
    t = std_token(key_a, ",\"iss\":\"https://clerk.venta.test/\"");
    VT_CHECK_INT(verify_at(v, t, NOW), VT_UNAUTHENTICATED);
    free(t);
    t = std_token(key_a, "");
    VT_CHECK_INT(verify_at(v, t, NOW), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "token has no iss");
    free(t);
    t = std_token(key_a, ",\"iss\":42");
    VT_CHECK_INT(verify_at(v, t, NOW), VT_UNAUTHENTICATED);
    free(t);
    vt_auth_verifier_free(v);
    /* Not configured: any iss passes. */
    v = pem_verifier(pem_a, "", NULL, 5, 0);
    t = std_token(key_a, ",\"iss\":\"https://anything.test\"");
    VT_CHECK_INT(verify_at(v, t, NOW), VT_OK);
    free(t);
    vt_auth_verifier_free(v);
}

static void test_jwt_azp(void)
{
    vt_auth_verifier *v =
        pem_verifier(pem_a, NULL, " https://app.venta.test , http://localhost:3000,", 5, 0);
    char *t = std_token(key_a, ",\"azp\":\"http://localhost:3000\"");
    VT_CHECK_INT(verify_at(v, t, NOW), VT_OK);
    free(t);
    t = std_token(key_a, ",\"azp\":\"https://app.venta.test\"");
    VT_CHECK_INT(verify_at(v, t, NOW), VT_OK);
    free(t);
    t = std_token(key_a, ",\"azp\":\"https://evil.test\"");
    VT_CHECK_INT(verify_at(v, t, NOW), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "unauthorized party https://evil.test");
    free(t);
    t = std_token(key_a, ",\"azp\":\"http://localhost:300\"");
    VT_CHECK_INT(verify_at(v, t, NOW), VT_UNAUTHENTICATED);
    free(t);
    t = std_token(key_a, ",\"azp\":\"\"");
    VT_CHECK_INT(verify_at(v, t, NOW), VT_UNAUTHENTICATED);
    free(t);
    t = std_token(key_a, ",\"azp\":[\"http://localhost:3000\"]");
    VT_CHECK_INT(verify_at(v, t, NOW), VT_UNAUTHENTICATED);
    free(t);
    t = std_token(key_a, ""); /* Clerk semantics: no azp, nothing to check */
    VT_CHECK_INT(verify_at(v, t, NOW), VT_OK);
    free(t);
    vt_auth_verifier_free(v);
    v = pem_verifier(pem_a, NULL, NULL, 5, 0);
    t = std_token(key_a, ",\"azp\":\"https://evil.test\"");
    VT_CHECK_INT(verify_at(v, t, NOW), VT_OK); /* no list configured */
    free(t);
    vt_auth_verifier_free(v);
}

static void test_jwt_sub(void)
{
    vt_auth_verifier *v = pem_verifier(pem_a, NULL, NULL, 5, 0);
    const char *bad[] = {"",
                         ",\"sub\":\"\"",
                         ",\"sub\":42",
                         ",\"sub\":null",
                         ",\"sub\":\"user 1\"",
                         ",\"sub\":\"user\\n1\"",
                         ",\"sub\":\"us\\u00e9r\""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *payload = xasprintf("{\"exp\":%lld%s}", (long long)NOW + 60, bad[i]);
        char *t = sign_json("RS256", "{\"alg\":\"RS256\"}", payload, key_a);
        VT_CHECK_INT(verify_at(v, t, NOW), VT_UNAUTHENTICATED);
        VT_CHECK(strstr(err, "sub") != NULL);
        free(payload);
        free(t);
    }
    /* 255 characters fit, 256 do not. */
    char long_sub[300];
    memset(long_sub, 'u', 256);
    long_sub[256] = '\0';
    char *payload = xasprintf("{\"exp\":%lld,\"sub\":\"%s\"}", (long long)NOW + 60, long_sub);
    char *t = sign_json("RS256", "{\"alg\":\"RS256\"}", payload, key_a);
    VT_CHECK_INT(verify_at(v, t, NOW), VT_UNAUTHENTICATED);
    free(payload), free(t);
    long_sub[255] = '\0';
    payload = xasprintf("{\"exp\":%lld,\"sub\":\"%s\"}", (long long)NOW + 60, long_sub);
    t = sign_json("RS256", "{\"alg\":\"RS256\"}", payload, key_a);
    VT_CHECK_INT(verify_at(v, t, NOW), VT_OK);
    VT_CHECK_STR(ident.sub, long_sub);
    free(payload), free(t);
    vt_auth_verifier_free(v);
}

/* ---- JWT: malformed input ---- */

static void test_jwt_malformed(void)
{
    vt_auth_verifier *v = pem_verifier(pem_a, NULL, NULL, 5, 16);
    char *t = std_token(key_a, "");
    const char *d1 = strchr(t, '.'), *d2 = strrchr(t, '.');
    struct {
        char *token;
        const char *why;
    } cases[] = {
        {strdup(""), "missing token"},
        {strdup("abc"), "malformed token: expected 3 parts"},
        {strndup(t, (size_t)(d2 - t)), "malformed token: expected 3 parts"},
        {xasprintf("%s.c2ln", t), "malformed token: more than 3 parts"},
        {xasprintf("%s.", t), "malformed token: more than 3 parts"},
        {strdup(".."), "malformed token: header is not a base64url JSON object"},
        {xasprintf("%.*s=%s", (int)(d1 - t), t, d1), "malformed token: invalid character"},
        {xasprintf(" %s", t), "malformed token: invalid character"},
        {xasprintf("%s\n", t), "malformed token: invalid character"},
        {xasprintf("e%s", d1), "malformed token: header is not a base64url JSON object"},
        {xasprintf("%s%s", "aGVsbG8", d1),
         "malformed token: header is not a base64url JSON object"},
        {xasprintf("%s%s", "WyJSUzI1NiJd", d1), /* ["RS256"] */
         "malformed token: header is not a base64url JSON object"},
        {xasprintf("%s%s", "eyJhbGciOiJSUzI1NiJ9eyJ4IjoxfQ", d1), /* two objects glued */
         "malformed token: header is not a base64url JSON object"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        VT_CHECK_INT(verify_at(v, cases[i].token, NOW), VT_UNAUTHENTICATED);
        VT_CHECK_STR(err, cases[i].why);
        free(cases[i].token);
    }
    /* Duplicate members in the header: refused, not "last one wins". */
    char *payload = xasprintf("{\"sub\":\"u\",\"exp\":%lld}", (long long)NOW + 60);
    char *dup = sign_json("RS256", "{\"alg\":\"HS256\",\"alg\":\"RS256\"}", payload, key_a);
    VT_CHECK_INT(verify_at(v, dup, NOW), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "malformed token: header is not a base64url JSON object");
    free(dup);
    /* Duplicate sub in a validly signed payload: refused as well. */
    char *dup2 = sign_json("RS256", "{\"alg\":\"RS256\"}",
                           "{\"sub\":\"a\",\"sub\":\"b\",\"exp\":9999999999}", key_a);
    VT_CHECK_INT(verify_at(v, dup2, NOW), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "malformed token: payload is not a base64url JSON object");
    free(dup2);
    /* Signed, but the payload is not JSON. */
    char *nj = sign_json("RS256", "{\"alg\":\"RS256\"}", "not json", key_a);
    VT_CHECK_INT(verify_at(v, nj, NOW), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "malformed token: payload is not a base64url JSON object");
    free(nj);
    /* Huge token (a valid token padded with a giant ignored claim). */
    char *big_claim = malloc(9000);
    memset(big_claim, 'x', 8999);
    big_claim[8999] = '\0';
    char *bigp =
        xasprintf("{\"sub\":\"u\",\"exp\":%lld,\"pad\":\"%s\"}", (long long)NOW + 60, big_claim);
    char *big = sign_json("RS256", "{\"alg\":\"RS256\"}", bigp, key_a);
    VT_CHECK_INT(verify_at(v, big, NOW), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "malformed token: longer than 8192 bytes");
    VT_CHECK_INT(vt_auth_verify(v, big, 8193, NOW, &ident, err, sizeof(err)), VT_UNAUTHENTICATED);
    free(big), free(bigp), free(big_claim), free(payload);
    /* Length is what counts, not NUL termination: a prefix of a valid token fails. */
    VT_CHECK_INT(vt_auth_verify(v, t, strlen(t) - 1, NOW, &ident, err, sizeof(err)),
                 VT_UNAUTHENTICATED);
    VT_CHECK_INT(vt_auth_verify(v, t, strlen(t), NOW, &ident, err, sizeof(err)), VT_OK);
    VT_CHECK_INT(vt_auth_verify(v, NULL, 0, NOW, &ident, err, sizeof(err)), VT_UNAUTHENTICATED);
    VT_CHECK_INT(vt_auth_verify(NULL, t, strlen(t), NOW, &ident, err, sizeof(err)),
                 VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_auth_verify(v, t, strlen(t), NOW, NULL, err, sizeof(err)), VT_INVALID_ARGUMENT);
    /* No error buffer is fine. */
    VT_CHECK_INT(vt_auth_verify(v, "x", 1, NOW, &ident, NULL, 0), VT_UNAUTHENTICATED);
    free(t);
    vt_auth_verifier_free(v);
}

static void test_jwt_crit(void)
{
    vt_auth_verifier *v = pem_verifier(pem_a, NULL, NULL, 5, 0);
    char *payload = xasprintf("{\"sub\":\"u\",\"exp\":%lld}", (long long)NOW + 60);
    char *t =
        sign_json("RS256", "{\"alg\":\"RS256\",\"crit\":[\"b64\"],\"b64\":false}", payload, key_a);
    VT_CHECK_INT(verify_at(v, t, NOW), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "unsupported crit header");
    free(t);
    t = sign_json("RS256", "{\"alg\":\"RS256\",\"crit\":[]}", payload, key_a);
    VT_CHECK_INT(verify_at(v, t, NOW), VT_UNAUTHENTICATED);
    free(t);
    free(payload);
    vt_auth_verifier_free(v);
}

int main(void)
{
    auth_test_keys_init();

    VT_RUN(test_jwt_valid_algs);
    VT_RUN(test_jwt_time_edges);
    VT_RUN(test_jwt_alg_none_and_others);
    VT_RUN(test_jwt_hs256_confusion);
    VT_RUN(test_jwt_bad_signature);
    VT_RUN(test_jwt_tampered_payload);
    VT_RUN(test_jwt_embedded_key_ignored);
    VT_RUN(test_jwt_issuer);
    VT_RUN(test_jwt_azp);
    VT_RUN(test_jwt_sub);
    VT_RUN(test_jwt_malformed);
    VT_RUN(test_jwt_crit);

    auth_test_keys_free();
    return VT_TEST_RESULT();
}
