/*
 * test_auth_svix.c — libs/auth: Svix webhook signatures: a known answer produced by npm
 * `svix` (Webhook(secret).sign(...), pasted below as SVIX_KAT_*), signatures,
 * timestamps, missing parts and the header aliases.
 */
#include "auth_test_util.h"
#include "vt_test.h"

#include <openssl/hmac.h>

/* ---- Svix ---- */

/* Produced by npm svix 1.99.1:
 *   new Webhook(SVIX_KAT_SECRET).sign(SVIX_KAT_ID, new Date(SVIX_KAT_TS * 1000), SVIX_KAT_BODY)
 * (tests/unit/auth/fixtures/make_fixtures.mjs prints it). */
#define SVIX_KAT_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SVIX_KAT_ID "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
#define SVIX_KAT_TS 1700000000
#define SVIX_KAT_BODY "{\"type\":\"user.created\",\"data\":{\"id\":\"user_2svix\"}}"
#define SVIX_KAT_B64 "NgMmnlhCtiGDcElW/WD7kerfQRYX7Q+u0BsvwBizja8="
#define SVIX_KAT_SIG "v1," SVIX_KAT_B64

static vt_auth_svix_key svix_key;

static int svix(const char *id, const char *ts, const char *sig, const char *body, int64_t now)
{
    return vt_auth_svix_verify(&svix_key, id, ts, sig, body, body ? strlen(body) : 0, now,
                               VT_AUTH_SVIX_TOLERANCE_S, err, sizeof(err));
}

static void test_svix_known_answer(void)
{
    VT_REQUIRE(vt_auth_svix_key_parse(SVIX_KAT_SECRET, &svix_key, err, sizeof(err)) == VT_OK);
    VT_CHECK_INT(svix_key.len, 24);
    VT_CHECK_INT(svix(SVIX_KAT_ID, "1700000000", SVIX_KAT_SIG, SVIX_KAT_BODY, SVIX_KAT_TS), VT_OK);
    /* The same secret without its whsec_ prefix. */
    vt_auth_svix_key k2;
    VT_CHECK_INT(vt_auth_svix_key_parse(SVIX_KAT_SECRET + 6, &k2, err, sizeof(err)), VT_OK);
    VT_CHECK(k2.len == svix_key.len && memcmp(k2.key, svix_key.key, k2.len) == 0);
    vt_auth_svix_key_clear(&k2);
    VT_CHECK_INT(k2.len, 0);
    /* Signed content is exactly "{id}.{timestamp}.{body}": recompute it independently. */
    unsigned char mac[32];
    unsigned int n = 0;
    const char *content = SVIX_KAT_ID ".1700000000." SVIX_KAT_BODY;
    HMAC(EVP_sha256(), svix_key.key, (int)svix_key.len, (const unsigned char *)content,
         strlen(content), mac, &n);
    char b64[64];
    vt_auth_base64_encode(mac, n, b64, sizeof(b64));
    VT_CHECK_STR(b64, SVIX_KAT_B64);
}

static char *svix_sign(const char *id, const char *ts, const void *body, size_t len)
{
    size_t cl = strlen(id) + strlen(ts) + len + 2;
    unsigned char *content = malloc(cl + 1), mac[32];
    unsigned int n = 0;
    VT_REQUIRE(content);
    snprintf((char *)content, cl + 1, "%s.%s.", id, ts);
    memcpy(content + strlen(id) + strlen(ts) + 2, body, len);
    HMAC(EVP_sha256(), svix_key.key, (int)svix_key.len, content, cl, mac, &n);
    char b64[64];
    vt_auth_base64_encode(mac, n, b64, sizeof(b64));
    free(content);
    return xasprintf("v1,%s", b64);
}

static void test_svix_signatures(void)
{
    const char *body = SVIX_KAT_BODY, *id = SVIX_KAT_ID, *ts = "1700000000";
    const int64_t now = SVIX_KAT_TS;
    /* Several entries (key rotation): any v1 may match, others are ignored. */
    VT_CHECK_INT(
        svix(id, ts, "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= " SVIX_KAT_SIG, body, now),
        VT_OK);
    VT_CHECK_INT(
        svix(id, ts, SVIX_KAT_SIG " v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", body, now),
        VT_OK);
    VT_CHECK_INT(svix(id, ts, "v1a,c2lnbmF0dXJl v1,garbage!! " SVIX_KAT_SIG, body, now), VT_OK);
    VT_CHECK_INT(svix(id, ts, "  " SVIX_KAT_SIG "  ", body, now), VT_OK);
    /* v1a only (or other versions only): no usable signature. */
    VT_CHECK_INT(svix(id, ts, "v1a," SVIX_KAT_B64, body, now), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "no v1 webhook signature");
    VT_CHECK_INT(svix(id, ts, "v2," SVIX_KAT_B64, body, now), VT_UNAUTHENTICATED);
    VT_CHECK_INT(svix(id, ts, SVIX_KAT_B64, body, now), VT_UNAUTHENTICATED);
    VT_CHECK_INT(svix(id, ts, "v1,", body, now), VT_UNAUTHENTICATED);
    /* Signature truncated, or without padding: strict base64, so no match. */
    VT_CHECK_INT(svix(id, ts, "v1,NgMmnlhCtiGDcElW/WD7kerfQRYX7Q+u0BsvwBizja8", body, now),
                 VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "bad webhook signature");
    VT_CHECK_INT(svix(id, ts, "v1,NgMmnlhCtiGDcElW/WD7kerfQRYX7Q+u", body, now),
                 VT_UNAUTHENTICATED);
    /* Tampered body, id or timestamp string. */
    VT_CHECK_INT(svix(id, ts, SVIX_KAT_SIG,
                      "{\"type\":\"user.created\",\"data\":{\"id\":\"user_2evil\"}}", now),
                 VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "bad webhook signature");
    VT_CHECK_INT(svix(id, ts, SVIX_KAT_SIG, SVIX_KAT_BODY " ", now), VT_UNAUTHENTICATED);
    VT_CHECK_INT(svix("msg_other", ts, SVIX_KAT_SIG, body, now), VT_UNAUTHENTICATED);
    VT_CHECK_INT(svix(id, "1700000001", SVIX_KAT_SIG, body, now), VT_UNAUTHENTICATED);
    VT_CHECK_INT(svix(id, "01700000000", SVIX_KAT_SIG, body, now), VT_UNAUTHENTICATED);
    /* Wrong secret. */
    vt_auth_svix_key other;
    VT_REQUIRE(vt_auth_svix_key_parse("whsec_c2VjcmV0LXRoYXQtaXMtbm90LXRoZS1vbmU=", &other, err,
                                      sizeof(err)) == VT_OK);
    VT_CHECK_INT(vt_auth_svix_verify(&other, id, ts, SVIX_KAT_SIG, body, strlen(body), now, 300,
                                     err, sizeof(err)),
                 VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "bad webhook signature");
    /* A binary body with NUL bytes: the length counts, not strlen. */
    const unsigned char bin[] = {'{', 0, 1, 2, 0xff, '}'};
    char *sig = svix_sign(id, ts, bin, sizeof(bin));
    VT_CHECK_INT(
        vt_auth_svix_verify(&svix_key, id, ts, sig, bin, sizeof(bin), now, 300, err, sizeof(err)),
        VT_OK);
    VT_CHECK_INT(vt_auth_svix_verify(&svix_key, id, ts, sig, bin, 1, now, 300, err, sizeof(err)),
                 VT_UNAUTHENTICATED);
    free(sig);
    /* Empty body is a body too. */
    sig = svix_sign(id, ts, "", 0);
    VT_CHECK_INT(vt_auth_svix_verify(&svix_key, id, ts, sig, NULL, 0, now, 300, err, sizeof(err)),
                 VT_OK);
    free(sig);
}

static void test_svix_timestamps(void)
{
    const char *body = SVIX_KAT_BODY, *id = SVIX_KAT_ID, *ts = "1700000000";
    VT_CHECK_INT(svix(id, ts, SVIX_KAT_SIG, body, SVIX_KAT_TS + 300), VT_OK);
    VT_CHECK_INT(svix(id, ts, SVIX_KAT_SIG, body, SVIX_KAT_TS + 301), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "webhook timestamp too old");
    VT_CHECK_INT(svix(id, ts, SVIX_KAT_SIG, body, SVIX_KAT_TS + 86400), VT_UNAUTHENTICATED);
    VT_CHECK_INT(svix(id, ts, SVIX_KAT_SIG, body, SVIX_KAT_TS - 300), VT_OK);
    VT_CHECK_INT(svix(id, ts, SVIX_KAT_SIG, body, SVIX_KAT_TS - 301), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "webhook timestamp too new");
    const char *bad_ts[] = {
        "17000000x0", "abc",         "-1700000000", " 1700000000",  "1700000000 ",
        "1.7e9",      "+1700000000", "0x6553F100",  "1700000000.0", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof(bad_ts) / sizeof(bad_ts[0]); i++) {
        VT_CHECK_INT(svix(id, bad_ts[i], SVIX_KAT_SIG, body, SVIX_KAT_TS), VT_UNAUTHENTICATED);
        VT_CHECK_STR(err, "invalid webhook timestamp");
    }
}

static void test_svix_missing(void)
{
    const char *body = SVIX_KAT_BODY, *id = SVIX_KAT_ID, *ts = "1700000000";
    const int64_t now = SVIX_KAT_TS;
    VT_CHECK_INT(svix(NULL, ts, SVIX_KAT_SIG, body, now), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "missing webhook signature headers");
    VT_CHECK_INT(svix(id, NULL, SVIX_KAT_SIG, body, now), VT_UNAUTHENTICATED);
    VT_CHECK_INT(svix(id, ts, NULL, body, now), VT_UNAUTHENTICATED);
    VT_CHECK_INT(svix("", ts, SVIX_KAT_SIG, body, now), VT_UNAUTHENTICATED);
    VT_CHECK_INT(svix(id, "", SVIX_KAT_SIG, body, now), VT_UNAUTHENTICATED);
    VT_CHECK_INT(svix(id, ts, "", body, now), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "missing webhook signature headers");
    VT_CHECK_INT(
        vt_auth_svix_verify(NULL, id, ts, SVIX_KAT_SIG, body, 3, now, 300, err, sizeof(err)),
        VT_INVALID_ARGUMENT);
    VT_CHECK_INT(
        vt_auth_svix_verify(&svix_key, id, ts, SVIX_KAT_SIG, NULL, 3, now, 300, err, sizeof(err)),
        VT_INVALID_ARGUMENT);
    /* Secrets that cannot be keys. */
    vt_auth_svix_key k;
    const char *bad[] = {"", "whsec_", "whsec_not base64", "whsec_@@@@", "whsec_Zg"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        VT_CHECK_INT(vt_auth_svix_key_parse(bad[i], &k, err, sizeof(err)), VT_INVALID_ARGUMENT);
        VT_CHECK(err[0] != '\0');
        VT_CHECK(!bad[i][0] || !bad[i][6] || strstr(err, bad[i] + 6) == NULL); /* not echoed */
    }
}

/* Header lookup over a tiny name/value table, as a gateway would provide it. */
typedef struct {
    const char *names[6], *values[6];
} header_table;

static const char *lookup(void *ud, const char *name)
{
    header_table *h = ud;
    for (int i = 0; i < 6 && h->names[i]; i++)
        if (strcmp(h->names[i], name) == 0)
            return h->values[i];
    return NULL;
}

static void test_svix_header_aliases(void)
{
    const char *body = SVIX_KAT_BODY;
    size_t len = strlen(body);
    header_table svix_set = {{"svix-id", "svix-timestamp", "svix-signature"},
                             {SVIX_KAT_ID, "1700000000", SVIX_KAT_SIG}};
    header_table webhook_set = {{"webhook-id", "webhook-timestamp", "webhook-signature"},
                                {SVIX_KAT_ID, "1700000000", SVIX_KAT_SIG}};
    /* An incomplete svix-* set falls back to the complete webhook-* set. */
    header_table mixed = {{"svix-id", "webhook-id", "webhook-timestamp", "webhook-signature"},
                          {"msg_wrong", SVIX_KAT_ID, "1700000000", SVIX_KAT_SIG}};
    header_table partial = {{"svix-id", "svix-timestamp", "webhook-signature"},
                            {SVIX_KAT_ID, "1700000000", SVIX_KAT_SIG}};
    header_table none = {{NULL}, {NULL}};
    VT_CHECK_INT(vt_auth_svix_verify_headers(&svix_key, lookup, &svix_set, body, len, SVIX_KAT_TS,
                                             300, err, sizeof(err)),
                 VT_OK);
    VT_CHECK_INT(vt_auth_svix_verify_headers(&svix_key, lookup, &webhook_set, body, len,
                                             SVIX_KAT_TS, 300, err, sizeof(err)),
                 VT_OK);
    VT_CHECK_INT(vt_auth_svix_verify_headers(&svix_key, lookup, &mixed, body, len, SVIX_KAT_TS, 300,
                                             err, sizeof(err)),
                 VT_OK);
    VT_CHECK_INT(vt_auth_svix_verify_headers(&svix_key, lookup, &partial, body, len, SVIX_KAT_TS,
                                             300, err, sizeof(err)),
                 VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "missing webhook signature headers");
    VT_CHECK_INT(vt_auth_svix_verify_headers(&svix_key, lookup, &none, body, len, SVIX_KAT_TS, 300,
                                             err, sizeof(err)),
                 VT_UNAUTHENTICATED);
    VT_CHECK_INT(vt_auth_svix_verify_headers(&svix_key, lookup, &svix_set, body, len - 1,
                                             SVIX_KAT_TS, 300, err, sizeof(err)),
                 VT_UNAUTHENTICATED);
}

int main(void)
{
    VT_RUN(test_svix_known_answer);
    VT_RUN(test_svix_signatures);
    VT_RUN(test_svix_timestamps);
    VT_RUN(test_svix_missing);
    VT_RUN(test_svix_header_aliases);

    vt_auth_svix_key_clear(&svix_key);
    return VT_TEST_RESULT();
}
