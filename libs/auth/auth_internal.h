/*
 * auth_internal.h — what the files of libs/auth share and nobody else sees: the key
 * set a verifier holds (keys.c builds it, jwt.c uses it), the RS* algorithm table and
 * error-message helpers.
 */
#ifndef VT_AUTH_INTERNAL_H
#define VT_AUTH_INTERNAL_H

#include "vt_auth.h"

#include <openssl/evp.h>
#include <stdarg.h>

/* The only algorithms a session token may use. 0 is "none of them". */
enum { AUTH_ALG_NONE = 0, AUTH_ALG_RS256, AUTH_ALG_RS384, AUTH_ALG_RS512 };

int auth_alg_from_name(const char *name);
const char *auth_alg_name(int alg);
const char *auth_alg_digest(int alg); /* OpenSSL digest name: "SHA256"... */

#define AUTH_KID_MAX 128
#define AUTH_KEYS_MAX 64
#define AUTH_RSA_MIN_BITS 2048
#define AUTH_RSA_MAX_BYTES 1024 /* 8192-bit modulus */

typedef struct {
    char kid[AUTH_KID_MAX + 1];
    bool has_kid;
    int alg; /* the JWK's "alg" when given: tokens must use exactly it; 0 = any RS* */
    EVP_PKEY *pkey;
} auth_key;

typedef struct {
    auth_key keys[AUTH_KEYS_MAX];
    size_t count;
    bool by_kid; /* JWKS: choose by kid; PEM: the single key, kid ignored */
} auth_keyset;

int auth_keyset_from_pem(auth_keyset *ks, const char *pem, char *err, size_t errlen);
int auth_keyset_from_jwks(auth_keyset *ks, const char *json, char *err, size_t errlen);
void auth_keyset_clear(auth_keyset *ks);
/* The key for a token's kid (NULL when the token has none); NULL with a reason. */
const auth_key *auth_keyset_find(const auth_keyset *ks, const char *kid, char *err, size_t errlen);

/* snprintf into err when err is non-NULL. */
void auth_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Copy untrusted text for an error message: at most 40 chars, non-printables as '?'. */
void auth_printable(const char *in, char *out, size_t outlen);

#endif
