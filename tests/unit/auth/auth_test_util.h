/*
 * auth_test_util.h — what the unit tests of libs/auth share: two RSA keys generated
 * with OpenSSL, and the encoding and signing a token issuer (or an attacker) does
 * (RS256/384/512, and HS256 to prove it is refused), so every hostile token is built
 * exactly as an attacker would build it; verifiers from a PEM or a JWKS; the fixtures
 * minted by npm `jose` (fixtures/, made by fixtures/make_fixtures.mjs).
 *
 * The tests are split by feature, one executable each: test_auth_compare.c (constant-
 * time compare, bearer tokens, strict base64), test_auth_jwt.c (session JWTs),
 * test_auth_keys.c (JWKS and PEM keys, the jose cross-check), test_auth_cache.c (the
 * verified-token cache, configuration from the environment), test_auth_svix.c.
 */
#ifndef AUTH_TEST_UTIL_H
#define AUTH_TEST_UTIL_H

#include "vt_auth.h"

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

/* The "now" every token's iat/nbf/exp is built around. */
#define NOW INT64_C(1750000000)

extern EVP_PKEY *key_a, *key_b;
extern char *pem_a; /* SPKI PEM of key_a */

/* Generate key_a and key_b (2048-bit RSA) and pem_a; free them. */
void auth_test_keys_init(void);
void auth_test_keys_free(void);

char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *b64url(const void *data, size_t n);
char *b64url_str(const char *s);
char *pem_of(EVP_PKEY *pkey);
/* {"kty":"RSA","n":...,"e":...<extra>} */
char *jwk_of(EVP_PKEY *pkey, const char *extra);
/* header.payload.signature; alg picks RS256/384/512 with pkey or HS256 with secret. */
char *sign_raw(const char *alg, const char *header_b64, const char *payload_b64, EVP_PKEY *pkey,
               const char *hmac_secret);
char *sign_json(const char *alg, const char *header_json, const char *payload_json, EVP_PKEY *pkey);
/* A normal Clerk-like token: RS256, kid, sub, exp/iat/nbf around NOW. */
char *std_token(EVP_PKEY *pkey, const char *extra_claims);

vt_auth_verifier *pem_verifier(const char *pem, const char *iss, const char *azp, long skew,
                               size_t cache);
vt_auth_verifier *jwks_verifier(const char *jwks);

/* Verify and return the status; the reason lands in err, the identity in ident. */
extern char err[256];
extern vt_auth_identity ident;
int verify_at(vt_auth_verifier *v, const char *token, int64_t now);

/* s with every from replaced by to (malloc'd). */
char *replace_all(const char *s, const char *from, const char *to);

/* A file of fixtures/ (the test stops when it cannot be read). */
char *read_fixture(const char *name);

#endif
