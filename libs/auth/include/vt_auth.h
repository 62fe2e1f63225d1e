/*
 * vt_auth.h — authentication for the Venta edges: Clerk session JWTs, Clerk (Svix)
 * webhook signatures, the RevenueCat webhook Authorization value, and the small
 * primitives they stand on (constant-time compare, strict base64).
 *
 * Contract (API.md §2 and §3 Webhooks):
 *  - Session tokens are compact JWS signed RS256, RS384 or RS512. Every other `alg`
 *    (`none`, HS256 — including HS256 keyed with the public key — ES*, PS*...) is
 *    rejected before any key is touched. The key comes from configuration only: a PEM
 *    public key (CLERK_JWT_KEY, kid ignored, as Clerk's networkless verification does)
 *    or a JWKS document (VENTA_JWKS_FILE, key chosen by `kid`). Keys named inside a token
 *    (`jwk`, `jku`, `x5u`, `x5c`) are never used. `exp` is required, `nbf` and `iat` are
 *    checked when present, all with a clock skew (default 5 s); `iss` must match when an
 *    issuer is configured; `azp`, when present and a list is configured, must be in it.
 *    The user id is `sub` and travels inside the mesh as gRPC metadata `x-user-id`.
 *  - Every verification failure is VT_UNAUTHENTICATED with a short reason in `err`
 *    ("token expired", "unsupported alg HS256", "bad signature"...) that is safe to
 *    send back to the client: untrusted text in it is truncated and made printable.
 *    VT_INVALID_ARGUMENT means the caller broke the API contract or the configuration is
 *    malformed.
 *
 * Threads: a verifier is immutable after creation except for its token cache, which a
 * mutex guards, so one verifier may be shared by any number of threads. The gateways
 * are single-threaded loops, where the mutex is uncontended and costs a few ns.
 *
 * Error buffers: every `err`/`errlen` pair may be NULL/0; when given, the text is
 * always NUL-terminated and truncated to fit.
 */
#ifndef VT_AUTH_H
#define VT_AUTH_H

#include "vt_core.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- constant-time compare (compare.c) ---- */

/* True when a[0..alen) equals b[0..blen). Pass the secret or expected value as b: the
 * running time depends only on blen (and on whether alen is zero), never on the
 * contents or on where the first difference is. A length mismatch is folded into the
 * result without an early return; the lengths themselves are not treated as secret. */
bool vt_auth_ct_equal(const void *a, size_t alen, const void *b, size_t blen);

/* RevenueCat: the whole Authorization header value must equal the configured value
 * (REVENUECAT_WEBHOOK_AUTH), compared in constant time. False when either is NULL or
 * the configured value is empty (an unconfigured secret never matches). */
bool vt_auth_bearer_equal(const char *header_value, const char *configured);

/* ---- strict base64 (base64.c) ---- */

/* Standard alphabet (RFC 4648 §4) always padded; URL alphabet (§5) never padded, as
 * JWS and JWK use it. Decoding is strict: no whitespace, no characters outside the
 * alphabet, no misplaced or missing padding ('=' is rejected in base64url), and the
 * unused low bits of the last character must be zero, so every byte string has
 * exactly one accepted encoding. Decoding is not constant-time; it is used on public
 * data and once at start on configured secrets. */

/* Encoded length without the terminating NUL. */
size_t vt_auth_base64_encoded_len(size_t n);
size_t vt_auth_base64url_encoded_len(size_t n);
/* Upper bound of the decoded length of n characters (either alphabet). */
size_t vt_auth_base64_decoded_max(size_t n);

/* Encode n bytes into out (outcap bytes, room for the NUL included). 0, or
 * VT_OUT_OF_RANGE when out is too small (out then holds ""). */
int vt_auth_base64_encode(const void *in, size_t n, char *out, size_t outcap);
int vt_auth_base64url_encode(const void *in, size_t n, char *out, size_t outcap);

/* Decode n characters into out (outcap bytes); *outlen receives the byte count.
 * 0; VT_INVALID_ARGUMENT for malformed input; VT_OUT_OF_RANGE when out is too small. */
int vt_auth_base64_decode(const char *in, size_t n, void *out, size_t outcap, size_t *outlen);
int vt_auth_base64url_decode(const char *in, size_t n, void *out, size_t outcap, size_t *outlen);

/* ---- verified-token cache (token_cache.c) ---- */

#define VT_AUTH_SUB_MAX 255       /* longest accepted `sub` */
#define VT_AUTH_TOKEN_MAX 8192    /* longest accepted compact JWS */
#define VT_AUTH_CACHE_SUB_MAX 111 /* tokens with a longer `sub` are verified, not cached */

/* What a verified token says about its bearer. */
typedef struct {
    char sub[VT_AUTH_SUB_MAX + 1]; /* user id: 1..255 printable ASCII, no spaces */
    int64_t exp;                   /* `exp` claim, Unix seconds */
    bool cached;                   /* answered from the cache, no RSA work done */
} vt_auth_identity;

/* A bounded map from SHA-256(token) to identity. Set-associative (8 ways): memory is
 * fixed at creation, no allocation afterwards; when a set is full the entry that
 * expires first is evicted. An entry is returned only inside [valid_from, valid_until)
 * given at insertion, so expired tokens never come back. A mutex guards it. Only
 * verified tokens are inserted, so filling it requires validly signed tokens. */
typedef struct vt_auth_token_cache vt_auth_token_cache;

#define VT_AUTH_DEFAULT_CACHE_ENTRIES 4096

typedef struct {
    /* 0 = VT_AUTH_DEFAULT_CACHE_ENTRIES; else 1..1,048,576 (rounded up to a multiple of
     * the ways). */
    size_t max_entries;
} vt_auth_token_cache_opts;

/* 0 with *out set, VT_INVALID_ARGUMENT when max_entries is out of range, or
 * VT_RESOURCE_EXHAUSTED when out of memory, the reason in err. opts NULL means the
 * defaults. */
int vt_auth_token_cache_new(const vt_auth_token_cache_opts *opts, vt_auth_token_cache **out,
                            char *err, size_t errlen);
void vt_auth_token_cache_free(vt_auth_token_cache *c);
/* True and *out filled (cached = true) when the token is held and valid at now. */
bool vt_auth_token_cache_get(vt_auth_token_cache *c, const char *token, size_t len, int64_t now,
                             vt_auth_identity *out);
/* Remember id for the token while valid_from <= now < valid_until. Ignored when the
 * sub is longer than VT_AUTH_CACHE_SUB_MAX or the window is already over at now. */
void vt_auth_token_cache_put(vt_auth_token_cache *c, const char *token, size_t len,
                             const vt_auth_identity *id, int64_t valid_from, int64_t valid_until,
                             int64_t now);
size_t vt_auth_token_cache_capacity(const vt_auth_token_cache *c);

typedef struct {
    uint64_t hits, misses, inserts, evictions; /* since creation */
    size_t entries;                            /* slots in use (some may be expired) */
} vt_auth_cache_stats;
void vt_auth_token_cache_stats(vt_auth_token_cache *c, vt_auth_cache_stats *out);

/* ---- session JWT verification (jwt.c, keys.c, env.c) ---- */

typedef struct vt_auth_verifier vt_auth_verifier;

typedef struct {
    /* Exactly one of pem and jwks. */
    const char *pem;                /* RSA public key PEM (SPKI "PUBLIC KEY" or PKCS#1 "RSA PUBLIC
                                       KEY"); line breaks may be real, spaces, or literal "\n" escapes */
    const char *jwks;               /* JWKS JSON text: RSA keys (n, e), optional kid/alg/use */
    const char *issuer;             /* required `iss`; NULL or "" = not checked */
    const char *authorized_parties; /* comma list of allowed `azp`; NULL or "" = any */
    long clock_skew_s;              /* 0 = VT_AUTH_DEFAULT_SKEW_S, VT_AUTH_NO_SKEW, or 1..3600 */
    size_t cache_entries;           /* 0 = the cache's default size, VT_AUTH_NO_CACHE, or its
                                       max_entries */
} vt_auth_verifier_opts;

#define VT_AUTH_DEFAULT_SKEW_S 5
#define VT_AUTH_NO_SKEW LONG_MIN  /* clock_skew_s: no skew at all */
#define VT_AUTH_NO_CACHE SIZE_MAX /* cache_entries: no verified-token cache */

/* Build a verifier; the option strings are copied, nothing is borrowed. RSA keys must
 * be at least 2048 bits. 0, or VT_INVALID_ARGUMENT with the reason in err. */
int vt_auth_verifier_new(const vt_auth_verifier_opts *opts, vt_auth_verifier **out, char *err,
                         size_t errlen);

/* Build a verifier from the environment (API.md §1): CLERK_JWT_KEY or VENTA_JWKS_FILE
 * (exactly one), VENTA_JWT_ISSUER, VENTA_JWT_AUTHORIZED_PARTIES, VENTA_JWT_CLOCK_SKEW_S.
 * On failure *bad_var (when bad_var is non-NULL) names the variable to blame, ready for
 * vt_config_fail(*bad_var, err). */
int vt_auth_verifier_new_from_env(vt_auth_verifier **out, const char **bad_var, char *err,
                                  size_t errlen);

void vt_auth_verifier_free(vt_auth_verifier *v);

/* Verify a compact JWS (the token alone, no "Bearer ") at Unix time now_s. 0 with *id
 * filled, or VT_UNAUTHENTICATED with the reason in err (*id then zeroed).
 * VT_INVALID_ARGUMENT only for NULL v/id. Successful results are cached by the full
 * token string until exp + skew; a cache hit sets id->cached. */
int vt_auth_verify(vt_auth_verifier *v, const char *token, size_t len, int64_t now_s,
                   vt_auth_identity *id, char *err, size_t errlen);

/* The verifier's cache, or NULL when disabled (for metrics). */
vt_auth_token_cache *vt_auth_verifier_cache(vt_auth_verifier *v);

/* Find the token in an Authorization value "Bearer <token>" (scheme case-insensitive,
 * spaces around the token allowed). 0 with *token and *len pointing into header, or
 * VT_UNAUTHENTICATED with a reason. */
int vt_auth_bearer_token(const char *header, const char **token, size_t *len, char *err,
                         size_t errlen);

/* ---- Clerk webhooks: Svix signatures (svix.c) ---- */

#define VT_AUTH_SVIX_TOLERANCE_S 300
#define VT_AUTH_SVIX_KEY_MAX 128

/* The decoded HMAC key of a Svix endpoint secret. It is a secret: clear it with
 * vt_auth_svix_key_clear when done. */
typedef struct {
    unsigned char key[VT_AUTH_SVIX_KEY_MAX];
    size_t len;
} vt_auth_svix_key;

/* Parse "whsec_<base64>" (the prefix is optional) once at start. 0, or
 * VT_INVALID_ARGUMENT with a reason (the secret itself is never echoed). */
int vt_auth_svix_key_parse(const char *secret, vt_auth_svix_key *out, char *err, size_t errlen);
void vt_auth_svix_key_clear(vt_auth_svix_key *key);

/* Verify one delivery: HMAC-SHA256 over "{id}.{timestamp}.{body}", compared in
 * constant time with every "v1,<base64>" entry of the space-separated signature
 * header (other versions such as v1a are ignored; any v1 entry may match). timestamp
 * must be a decimal integer within tolerance_s of now_s in both directions.
 * 0, or VT_UNAUTHENTICATED with a reason; VT_INVALID_ARGUMENT for a NULL/empty key,
 * a NULL body with body_len > 0 or a negative tolerance; VT_INTERNAL if OpenSSL fails. */
int vt_auth_svix_verify(const vt_auth_svix_key *key, const char *id, const char *timestamp,
                        const char *signature, const void *body, size_t body_len, int64_t now_s,
                        int64_t tolerance_s, char *err, size_t errlen);

/* Header lookup by lower-case name; returns NULL when absent. */
typedef const char *(*vt_auth_header_fn)(void *ud, const char *name);

/* The same, reading the headers through get: the svix-id/-timestamp/-signature set
 * when all three are present, otherwise the webhook-* aliases (as the svix SDKs do). */
int vt_auth_svix_verify_headers(const vt_auth_svix_key *key, vt_auth_header_fn get, void *ud,
                                const void *body, size_t body_len, int64_t now_s,
                                int64_t tolerance_s, char *err, size_t errlen);

#endif
