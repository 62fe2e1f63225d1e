/*
 * fuzz_jwt.c — libFuzzer target for the session-token path of libs/auth (clang only,
 * built by `ninja fuzz`, run by the 'fuzz' suite; see tests/run-fuzz).
 *
 * The input is an Authorization header value as a client sends it ("Bearer eyJ..."), or
 * a bare token. The keys are the jose fixtures of the unit tests (fixtures/: a 2048-bit
 * RSA key whose private half was never written out, and the RS256/384/512 tokens minted
 * with it), and the clock stands at 1700000100, inside those tokens' window. For every
 * input it checks:
 *  - vt_auth_bearer_token: accepts only blanks, "Bearer" in any case, blanks, then a
 *    token with no blank at either end lying inside the header; otherwise
 *    VT_UNAUTHENTICATED with a printable reason.
 *  - vt_auth_verify, on that token (or the whole input when it is not a Bearer header),
 *    with a PEM verifier (issuer and azp configured) and a JWKS verifier (key by kid):
 *    nobody can sign without the private key, so the only tokens that may pass are the
 *    three minted ones, byte for byte, and those must pass with their sub and exp. Any
 *    other acceptance is a forgery. A refusal is VT_UNAUTHENTICATED with a zeroed
 *    identity and a non-empty printable reason (it is sent back to the client).
 *  - strict base64 and base64url on the input: a decoded string re-encodes to exactly
 *    the input (one encoding per byte string), fits vt_auth_base64_decoded_max and is
 *    refused with VT_OUT_OF_RANGE by a buffer one byte short; the input bytes encode to
 *    the announced length and decode back to themselves.
 * The verifiers live for the whole run (their token cache is exercised too); every
 * other allocation is freed per input, which ASan's leak check holds us to.
 *
 *   CC=clang meson setup build-fuzz -Db_sanitize=address,undefined -Dbenchmarks=false
 *   ninja -C build-fuzz fuzz && build-fuzz/tests/unit/auth/fuzz-jwt -max_total_time=60 \
 *       tests/unit/auth/corpus/jwt
 */
#include "vt_auth.h"
#include "vt_fuzz.h"
#include "vt_test_file.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NOW INT64_C(1700000100)
#define NTOKENS 3

static vt_auth_verifier *pem_verifier, *jwks_verifier;
static char *minted[NTOKENS];

static char *read_fixture(const char *name)
{
    char *text = vt_test_read_file(VT_AUTH_FIXTURES, name);
    FUZZ_CHECK(text != NULL);
    return text;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const files[NTOKENS] = {"jose_rs256.jwt", "jose_rs384.jwt",
                                               "jose_rs512.jwt"};
    char *pem = read_fixture("jose_public.pem"), *jwks = read_fixture("jose_jwks.json");
    char err[256];
    vt_auth_verifier_opts cfg = {0};

    cfg.pem = pem;
    cfg.issuer = "https://clerk.example.test";
    cfg.authorized_parties = "http://localhost:3000";
    FUZZ_CHECK(vt_auth_verifier_new(&cfg, &pem_verifier, err, sizeof err) == VT_OK);
    cfg = (vt_auth_verifier_opts){0};
    cfg.jwks = jwks;
    FUZZ_CHECK(vt_auth_verifier_new(&cfg, &jwks_verifier, err, sizeof err) == VT_OK);
    for (int i = 0; i < NTOKENS; i++)
        minted[i] = read_fixture(files[i]);
    free(pem);
    free(jwks);
    return 0;
}

static bool is_minted(const char *token, size_t len)
{
    for (int i = 0; i < NTOKENS; i++)
        if (strlen(minted[i]) == len && memcmp(minted[i], token, len) == 0)
            return true;
    return false;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static void check_bearer(const char *header, const char *token, size_t len, int rc, const char *err)
{
    if (rc != VT_OK) {
        FUZZ_CHECK(rc == VT_UNAUTHENTICATED && token == NULL && len == 0);
        FUZZ_CHECK(fuzz_printable(err));
        return;
    }
    size_t hlen = strlen(header);
    FUZZ_CHECK(len > 0 && token >= header && token + len <= header + hlen);
    FUZZ_CHECK(!is_blank(token[0]) && !is_blank(token[len - 1]));
    const char *p = header;
    while (*p == ' ')
        p++;
    FUZZ_CHECK(strncasecmp(p, "bearer", 6) == 0 && is_blank(p[6]));
    for (p += 6; p < token; p++)
        FUZZ_CHECK(is_blank(*p));
    for (p = token + len; *p; p++)
        FUZZ_CHECK(is_blank(*p));
}

static void check_verify(vt_auth_verifier *v, const char *token, size_t len)
{
    vt_auth_identity id;
    char err[256];
    static const vt_auth_identity zero;

    int rc = vt_auth_verify(v, token, len, NOW, &id, err, sizeof err);
    if (is_minted(token, len)) {
        FUZZ_CHECK(rc == VT_OK);
        FUZZ_CHECK(strcmp(id.sub, "user_2jose") == 0 && id.exp == INT64_C(4102444800));
        return;
    }
    FUZZ_CHECK(rc == VT_UNAUTHENTICATED); /* VT_OK here would be a forged token */
    FUZZ_CHECK(memcmp(&id, &zero, sizeof id) == 0);
    FUZZ_CHECK(fuzz_printable(err));
}

typedef int (*decode_fn)(const char *in, size_t n, void *out, size_t outcap, size_t *outlen);
typedef int (*encode_fn)(const void *in, size_t n, char *out, size_t outcap);

static void check_base64(decode_fn decode, encode_fn encode, size_t (*encoded_len)(size_t),
                         const char *in, size_t n)
{
    size_t cap = vt_auth_base64_decoded_max(n), len = 7;
    unsigned char *bytes = malloc(cap + 1);
    char *text = malloc(encoded_len(n) + 1);

    int rc = decode(in, n, bytes, cap, &len);
    if (rc == VT_OK) {
        FUZZ_CHECK(len <= cap && encoded_len(len) == n);
        char *again = malloc(n + 1);
        FUZZ_CHECK(encode(bytes, len, again, n + 1) == VT_OK);
        FUZZ_CHECK(memcmp(again, in, n) == 0 && again[n] == '\0');
        free(again);
        if (len > 0)
            FUZZ_CHECK(decode(in, n, bytes, len - 1, NULL) == VT_OUT_OF_RANGE);
    } else {
        FUZZ_CHECK(rc == VT_INVALID_ARGUMENT && len == 0);
    }

    /* The other way: any bytes encode, and decode back to themselves. */
    size_t elen = encoded_len(n);
    text[0] = 'x';
    FUZZ_CHECK(encode(in, n, text, elen) == VT_OUT_OF_RANGE && (elen == 0 || text[0] == '\0'));
    FUZZ_CHECK(encode(in, n, text, elen + 1) == VT_OK && strlen(text) == elen);
    unsigned char *back = malloc(n + 1);
    FUZZ_CHECK(decode(text, elen, back, n, &len) == VT_OK && len == n && memcmp(back, in, n) == 0);
    free(back);
    free(bytes);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *header = fuzz_cstr(data, size);
    const char *token = (const char *)1; /* must be reset by the parser */
    size_t len = 99;
    char err[256];

    int rc = vt_auth_bearer_token(header, &token, &len, err, sizeof err);
    check_bearer(header, token, len, rc, err);
    if (rc != VT_OK) {
        token = header;
        len = strlen(header);
    }
    check_verify(pem_verifier, token, len);
    check_verify(jwks_verifier, token, len);

    check_base64(vt_auth_base64_decode, vt_auth_base64_encode, vt_auth_base64_encoded_len,
                 (const char *)data, size);
    check_base64(vt_auth_base64url_decode, vt_auth_base64url_encode, vt_auth_base64url_encoded_len,
                 (const char *)data, size);
    free(header);
    return 0;
}
