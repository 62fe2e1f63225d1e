/*
 * svix.c — Clerk webhook signatures (Svix scheme, API.md §3 Webhooks).
 *
 * The endpoint secret "whsec_<base64>" is decoded once at start (vt_auth_svix_key_parse)
 * so a malformed secret stops the process instead of failing every delivery. Each
 * delivery is checked the way the svix SDKs do it: the timestamp must be a decimal
 * integer no more than the tolerance (5 minutes) away from now in either direction,
 * which bounds replays; the expected signature is HMAC-SHA256 over
 * "{msg id}.{timestamp}.{raw body}" (fed to EVP_MAC piecewise, the body is never
 * copied); the signature header is a space-separated list of "<version>,<base64>"
 * entries, where only v1 entries count and any one of them may match (Svix sends
 * several during secret rotation). Each v1 entry is decoded strictly and compared
 * with vt_auth_ct_equal, and every entry is examined whether or not an earlier one
 * matched. The header lookup helper accepts the webhook-* alias names (Standard
 * Webhooks), taking the svix-* set only when it is complete, as the svix SDKs do.
 */
#include "auth_internal.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <string.h>

#define SIG_HEADER_MAX 8192
#define ID_MAX 256

int vt_auth_svix_key_parse(const char *secret, vt_auth_svix_key *out, char *err, size_t errlen)
{
    if (!out)
        return VT_INVALID_ARGUMENT;
    memset(out, 0, sizeof(*out));
    if (!secret || !secret[0]) {
        auth_errf(err, errlen, "webhook secret is empty");
        return VT_INVALID_ARGUMENT;
    }
    if (strncmp(secret, "whsec_", 6) == 0)
        secret += 6;
    size_t n = strlen(secret);
    int rc = vt_auth_base64_decode(secret, n, out->key, sizeof(out->key), &out->len);
    if (rc != VT_OK || out->len == 0) {
        vt_auth_svix_key_clear(out);
        auth_errf(err, errlen,
                  rc == VT_OUT_OF_RANGE ? "webhook secret is too long"
                                        : "webhook secret is not whsec_<base64>");
        return VT_INVALID_ARGUMENT;
    }
    return VT_OK;
}

void vt_auth_svix_key_clear(vt_auth_svix_key *key)
{
    if (key)
        OPENSSL_cleanse(key, sizeof(*key));
}

/* Decimal seconds, 1..18 digits, nothing else. */
static bool parse_timestamp(const char *s, int64_t *out)
{
    int64_t v = 0;
    size_t i = 0;
    for (; s[i]; i++) {
        if (s[i] < '0' || s[i] > '9' || i >= 18)
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return i > 0;
}

static bool hmac_sha256(const vt_auth_svix_key *key, const char *id, const char *ts,
                        const void *body, size_t body_len, unsigned char mac[32])
{
    bool ok = false;
    size_t maclen = 0;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = hmac ? EVP_MAC_CTX_new(hmac) : NULL;

    if (ctx && EVP_MAC_init(ctx, key->key, key->len, params) == 1 &&
        EVP_MAC_update(ctx, (const unsigned char *)id, strlen(id)) == 1 &&
        EVP_MAC_update(ctx, (const unsigned char *)".", 1) == 1 &&
        EVP_MAC_update(ctx, (const unsigned char *)ts, strlen(ts)) == 1 &&
        EVP_MAC_update(ctx, (const unsigned char *)".", 1) == 1 &&
        (body_len == 0 || EVP_MAC_update(ctx, body, body_len) == 1) &&
        EVP_MAC_final(ctx, mac, &maclen, 32) == 1 && maclen == 32)
        ok = true;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(hmac);
    ERR_clear_error();
    return ok;
}

#define FAIL(status, ...)                                                                          \
    do {                                                                                           \
        auth_errf(err, errlen, __VA_ARGS__);                                                       \
        return status;                                                                             \
    } while (0)

int vt_auth_svix_verify(const vt_auth_svix_key *key, const char *id, const char *timestamp,
                        const char *signature, const void *body, size_t body_len, int64_t now_s,
                        int64_t tolerance_s, char *err, size_t errlen)
{
    int64_t ts;
    unsigned char mac[32];

    auth_errf(err, errlen, "%s", "");
    if (!key || key->len == 0 || (!body && body_len) || tolerance_s < 0)
        FAIL(VT_INVALID_ARGUMENT, "webhook verification misconfigured");
    if (!id || !id[0] || !timestamp || !timestamp[0] || !signature || !signature[0])
        FAIL(VT_UNAUTHENTICATED, "missing webhook signature headers");
    if (strlen(id) > ID_MAX)
        FAIL(VT_UNAUTHENTICATED, "webhook id too long");
    if (strlen(signature) > SIG_HEADER_MAX)
        FAIL(VT_UNAUTHENTICATED, "webhook signature header too long");
    if (!parse_timestamp(timestamp, &ts))
        FAIL(VT_UNAUTHENTICATED, "invalid webhook timestamp");
    if (ts < now_s - tolerance_s)
        FAIL(VT_UNAUTHENTICATED, "webhook timestamp too old");
    if (ts > now_s + tolerance_s)
        FAIL(VT_UNAUTHENTICATED, "webhook timestamp too new");
    if (!hmac_sha256(key, id, timestamp, body, body_len, mac))
        FAIL(VT_INTERNAL, "cannot compute HMAC-SHA256");

    bool any_v1 = false, match = false;
    const char *p = signature;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *end = strchr(p, ' ');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > 3 && memcmp(p, "v1,", 3) == 0) {
            unsigned char sig[32 + 3];
            size_t siglen;
            any_v1 = true;
            if (vt_auth_base64_decode(p + 3, n - 3, sig, sizeof(sig), &siglen) == VT_OK &&
                vt_auth_ct_equal(sig, siglen, mac, sizeof(mac)))
                match = true;
        }
        p += n;
    }
    OPENSSL_cleanse(mac, sizeof(mac));
    if (!any_v1)
        FAIL(VT_UNAUTHENTICATED, "no v1 webhook signature");
    if (!match)
        FAIL(VT_UNAUTHENTICATED, "bad webhook signature");
    return VT_OK;
}

int vt_auth_svix_verify_headers(const vt_auth_svix_key *key, vt_auth_header_fn get, void *ud,
                                const void *body, size_t body_len, int64_t now_s,
                                int64_t tolerance_s, char *err, size_t errlen)
{
    if (!get)
        FAIL(VT_INVALID_ARGUMENT, "webhook verification misconfigured");
    const char *id = get(ud, "svix-id");
    const char *ts = get(ud, "svix-timestamp");
    const char *sig = get(ud, "svix-signature");
    if (!id || !ts || !sig) {
        id = get(ud, "webhook-id");
        ts = get(ud, "webhook-timestamp");
        sig = get(ud, "webhook-signature");
    }
    return vt_auth_svix_verify(key, id, ts, sig, body, body_len, now_s, tolerance_s, err, errlen);
}
