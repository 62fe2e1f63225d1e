/*
 * test_auth_compare.c — libs/auth: constant-time compare, bearer tokens, strict base64.
 */
#include "auth_test_util.h"
#include "vt_test.h"

/* ---- constant-time compare ---- */

static void test_ct_equal(void)
{
    VT_CHECK(vt_auth_ct_equal("abc", 3, "abc", 3));
    VT_CHECK(!vt_auth_ct_equal("abd", 3, "abc", 3));
    VT_CHECK(!vt_auth_ct_equal("xbc", 3, "abc", 3));
    VT_CHECK(!vt_auth_ct_equal("ab", 2, "abc", 3));   /* prefix */
    VT_CHECK(!vt_auth_ct_equal("abcd", 4, "abc", 3)); /* extension */
    VT_CHECK(!vt_auth_ct_equal("abcabc", 6, "abc", 3));
    VT_CHECK(!vt_auth_ct_equal("", 0, "abc", 3));
    VT_CHECK(!vt_auth_ct_equal("abc", 3, "", 0));
    VT_CHECK(vt_auth_ct_equal("", 0, "", 0));
    unsigned char x[64], y[64];
    memset(x, 0x5a, sizeof(x));
    memcpy(y, x, sizeof(y));
    VT_CHECK(vt_auth_ct_equal(x, 64, y, 64));
    y[63] ^= 1;
    VT_CHECK(!vt_auth_ct_equal(x, 64, y, 64));
}

static void test_bearer_equal(void)
{
    VT_CHECK(vt_auth_bearer_equal("Bearer rc_secret_1", "Bearer rc_secret_1"));
    VT_CHECK(!vt_auth_bearer_equal("Bearer rc_secret_2", "Bearer rc_secret_1"));
    VT_CHECK(!vt_auth_bearer_equal("Bearer rc_secret_1 ", "Bearer rc_secret_1"));
    VT_CHECK(!vt_auth_bearer_equal("bearer rc_secret_1", "Bearer rc_secret_1"));
    VT_CHECK(!vt_auth_bearer_equal("", "Bearer rc_secret_1"));
    VT_CHECK(!vt_auth_bearer_equal(NULL, "Bearer rc_secret_1"));
    /* An unconfigured secret never matches, not even an empty header. */
    VT_CHECK(!vt_auth_bearer_equal("", ""));
    VT_CHECK(!vt_auth_bearer_equal("x", NULL));
}

static void test_bearer_token(void)
{
    const char *t;
    size_t n;
    VT_CHECK_INT(vt_auth_bearer_token("Bearer abc.def.ghi", &t, &n, err, sizeof(err)), VT_OK);
    VT_CHECK(n == 11 && strncmp(t, "abc.def.ghi", n) == 0);
    VT_CHECK_INT(vt_auth_bearer_token("bearer   abc  ", &t, &n, err, sizeof(err)), VT_OK);
    VT_CHECK(n == 3 && strncmp(t, "abc", n) == 0);
    VT_CHECK_INT(vt_auth_bearer_token("Basic dXNlcjpwdw==", &t, &n, err, sizeof(err)),
                 VT_UNAUTHENTICATED);
    VT_CHECK_INT(vt_auth_bearer_token("Bearer", &t, &n, err, sizeof(err)), VT_UNAUTHENTICATED);
    VT_CHECK_INT(vt_auth_bearer_token("Bearer   ", &t, &n, err, sizeof(err)), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "missing bearer token");
    VT_CHECK_INT(vt_auth_bearer_token("Bearerabc", &t, &n, err, sizeof(err)), VT_UNAUTHENTICATED);
    VT_CHECK_INT(vt_auth_bearer_token(NULL, &t, &n, err, sizeof(err)), VT_UNAUTHENTICATED);
}

/* ---- base64 ---- */

static void test_base64_vectors(void)
{
    /* RFC 4648 §10 */
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const std[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                      "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    static const char *const url[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    char out[32];
    unsigned char dec[32];
    size_t n;
    for (int i = 0; i < 7; i++) {
        size_t len = strlen(plain[i]);
        VT_CHECK_INT(vt_auth_base64_encode(plain[i], len, out, sizeof(out)), VT_OK);
        VT_CHECK_STR(out, std[i]);
        VT_CHECK_INT(vt_auth_base64_encoded_len(len), strlen(std[i]));
        VT_CHECK_INT(vt_auth_base64url_encode(plain[i], len, out, sizeof(out)), VT_OK);
        VT_CHECK_STR(out, url[i]);
        VT_CHECK_INT(vt_auth_base64url_encoded_len(len), strlen(url[i]));
        VT_CHECK_INT(vt_auth_base64_decode(std[i], strlen(std[i]), dec, sizeof(dec), &n), VT_OK);
        VT_CHECK(n == len && memcmp(dec, plain[i], len) == 0);
        VT_CHECK_INT(vt_auth_base64url_decode(url[i], strlen(url[i]), dec, sizeof(dec), &n), VT_OK);
        VT_CHECK(n == len && memcmp(dec, plain[i], len) == 0);
        VT_CHECK(vt_auth_base64_decoded_max(strlen(url[i])) >= len);
    }
    /* The alphabets differ in exactly two characters. */
    const unsigned char hi[] = {0xfb, 0xff, 0xbf};
    VT_CHECK_INT(vt_auth_base64_encode(hi, 3, out, sizeof(out)), VT_OK);
    VT_CHECK_STR(out, "+/+/");
    VT_CHECK_INT(vt_auth_base64url_encode(hi, 3, out, sizeof(out)), VT_OK);
    VT_CHECK_STR(out, "-_-_");
    VT_CHECK_INT(vt_auth_base64_decode("-_-_", 4, dec, sizeof(dec), &n), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(vt_auth_base64url_decode("+/+/", 4, dec, sizeof(dec), &n), VT_INVALID_ARGUMENT);
}

static void test_base64_strict(void)
{
    unsigned char dec[64];
    size_t n = 99;
    static const char *const bad_std[] = {
        "Zg",       /* padding missing */
        "Zg=",      /* length not a multiple of 4 */
        "Z===",     /* three pads */
        "====",     /* only padding */
        "Zh==",     /* non-zero unused bits (non-canonical "f") */
        "Zm9=",     /* non-zero unused bits */
        "Zg==Zg==", /* padding in the middle */
        "Zm9v YmFy", "Zm9v\nYmFy", "Zm9v\0YmF", "Zm9*", "Zm=v",
    };
    for (size_t i = 0; i < sizeof(bad_std) / sizeof(bad_std[0]); i++) {
        size_t len = i == 9 ? 8 : strlen(bad_std[i]);
        VT_CHECK_INT(vt_auth_base64_decode(bad_std[i], len, dec, sizeof(dec), &n),
                     VT_INVALID_ARGUMENT);
        VT_CHECK_INT(n, 0);
    }
    static const char *const bad_url[] = {"Zg==", "Zm8=", "Z",    "Zm9vY", "Zh",
                                          "Zm9",  "Zm+v", "Zm/v", "Zm9v.", " Zm9v"};
    for (size_t i = 0; i < sizeof(bad_url) / sizeof(bad_url[0]); i++)
        VT_CHECK_INT(vt_auth_base64url_decode(bad_url[i], strlen(bad_url[i]), dec, sizeof(dec), &n),
                     VT_INVALID_ARGUMENT);
    /* Bounded output: never writes past the capacity. */
    unsigned char small[4] = {0xee, 0xee, 0xee, 0xee};
    VT_CHECK_INT(vt_auth_base64url_decode("Zm9vYmFy", 8, small, 3, &n), VT_OUT_OF_RANGE);
    VT_CHECK_INT(small[3], 0xee);
    VT_CHECK_INT(vt_auth_base64_decode("Zm9vYmFy", 8, small, 5, &n), VT_OUT_OF_RANGE);
    VT_CHECK_INT(vt_auth_base64_decode("Zm9vYmFy", 8, dec, 6, &n), VT_OK);
    char out[5];
    VT_CHECK_INT(vt_auth_base64_encode("foob", 4, out, sizeof(out)), VT_OUT_OF_RANGE);
    VT_CHECK_STR(out, "");
    VT_CHECK_INT(vt_auth_base64url_encode("foo", 3, out, sizeof(out)), VT_OK);
    VT_CHECK_STR(out, "Zm9v");
    VT_CHECK_INT(vt_auth_base64url_encode("foo", 3, out, 4), VT_OUT_OF_RANGE);
}

static void test_base64_roundtrip(void)
{
    unsigned char data[200], back[200];
    char enc[300];
    size_t n;
    bool ok = true;
    for (size_t len = 0; len < sizeof(data); len++) {
        vt_random_bytes(data, len);
        ok &= vt_auth_base64_encode(data, len, enc, sizeof(enc)) == VT_OK;
        ok &= vt_auth_base64_decode(enc, strlen(enc), back, sizeof(back), &n) == VT_OK;
        ok &= n == len && memcmp(data, back, len) == 0;
        ok &= vt_auth_base64url_encode(data, len, enc, sizeof(enc)) == VT_OK;
        ok &= vt_auth_base64url_decode(enc, strlen(enc), back, sizeof(back), &n) == VT_OK;
        ok &= n == len && memcmp(data, back, len) == 0;
        /* Changing any one character changes the bytes or is rejected: no malleability. */
        if (len) {
            size_t at = len % strlen(enc);
            enc[at] = enc[at] == 'A' ? 'B' : 'A';
            ok &= vt_auth_base64url_decode(enc, strlen(enc), back, sizeof(back), &n) != VT_OK ||
                  memcmp(data, back, len) != 0;
        }
    }
    VT_CHECK(ok);
}

int main(void)
{
    VT_RUN(test_ct_equal);
    VT_RUN(test_bearer_equal);
    VT_RUN(test_bearer_token);
    VT_RUN(test_base64_vectors);
    VT_RUN(test_base64_strict);
    VT_RUN(test_base64_roundtrip);
    return VT_TEST_RESULT();
}
