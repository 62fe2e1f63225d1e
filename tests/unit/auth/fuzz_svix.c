/*
 * fuzz_svix.c — libFuzzer target for Clerk (Svix) webhook verification in libs/auth
 * (clang only, built by `ninja fuzz`, run by the 'fuzz' suite; see tests/run-fuzz).
 *
 * The input is a delivery as it reaches the gateway: header lines "name: value"
 * separated by '\n', an empty line, then the raw body (bytes, NULs included). The
 * endpoint secret is the unit tests' whsec_ key and the clock stands at 1700000100, so
 * the npm svix signature in the seed corpus is valid. vt_auth_svix_verify_headers looks
 * the headers up through a callback, as the gateway does. For every input it checks the
 * outcome against a model written from API.md §3 with OpenSSL's one-shot HMAC(): the
 * svix-* headers when all three are present, else the webhook-* aliases; a delivery is
 * valid exactly when the id is 1..256 bytes, the signature header at most 8192 bytes
 * and holds the space-separated entry "v1,<base64 of HMAC-SHA256(key, id.ts.body)>",
 * and the timestamp is 1..18 decimal digits within 300 s of now. Valid deliveries must
 * be accepted (VT_OK) and every other one refused with VT_UNAUTHENTICATED and a
 * non-empty printable reason: an acceptance the model does not explain is a forgery.
 *
 *   CC=clang meson setup build-fuzz -Db_sanitize=address,undefined -Dbenchmarks=false
 *   ninja -C build-fuzz fuzz && build-fuzz/tests/unit/auth/fuzz-svix -max_total_time=60 \
 *       tests/unit/auth/corpus/svix
 */
#include "vt_auth.h"
#include "vt_fuzz.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define NOW INT64_C(1700000100)
#define TOLERANCE 300
#define MAX_HEADERS 16

typedef struct {
    const char *name[MAX_HEADERS], *value[MAX_HEADERS];
    int count;
} headers;

static const char *header_get(void *ud, const char *name)
{
    const headers *h = ud;
    for (int i = 0; i < h->count; i++)
        if (strcasecmp(h->name[i], name) == 0)
            return h->value[i];
    return NULL;
}

/* Split text (a writable copy of the input) into headers and body, in place. */
static void split_delivery(char *text, size_t size, headers *h, const char **body, size_t *body_len)
{
    char *p = text, *end = text + size;
    h->count = 0;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *line_end = nl ? nl : end;
        *line_end = '\0';
        if (line_end == p) { /* the empty line: the body follows */
            p = nl ? nl + 1 : end;
            break;
        }
        char *colon = strchr(p, ':');
        if (colon && h->count < MAX_HEADERS) {
            *colon = '\0';
            char *v = colon + 1;
            while (*v == ' ')
                v++;
            h->name[h->count] = p;
            h->value[h->count++] = v;
        }
        p = nl ? nl + 1 : end;
    }
    *body = p;
    *body_len = (size_t)(end - p);
}

static bool timestamp_in_window(const char *ts)
{
    size_t n = strlen(ts);
    if (n < 1 || n > 18 || strspn(ts, "0123456789") != n)
        return false;
    long long v = strtoll(ts, NULL, 10);
    return v >= NOW - TOLERANCE && v <= NOW + TOLERANCE;
}

/* Does the space-separated list hold exactly want as one entry? */
static bool has_entry(const char *list, const char *want)
{
    size_t wl = strlen(want);
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, " ");
        if (n == wl && memcmp(p, want, n) == 0)
            return true;
        p += n;
        p += strspn(p, " ");
    }
    return false;
}

static bool model_valid(const vt_auth_svix_key *key, const char *id, const char *ts,
                        const char *sig, const char *body, size_t body_len)
{
    if (!id || !ts || !sig || !id[0] || strlen(id) > 256 || strlen(sig) > 8192 ||
        !timestamp_in_window(ts))
        return false;
    size_t idl = strlen(id), tsl = strlen(ts);
    size_t clen = idl + 1 + tsl + 1 + body_len;
    unsigned char *content = malloc(clen), mac[EVP_MAX_MD_SIZE];
    unsigned maclen = 0;
    memcpy(content, id, idl);
    content[idl] = '.';
    memcpy(content + idl + 1, ts, tsl);
    content[idl + 1 + tsl] = '.';
    memcpy(content + idl + tsl + 2, body, body_len);
    FUZZ_CHECK(HMAC(EVP_sha256(), key->key, (int)key->len, content, clen, mac, &maclen));
    free(content);
    char want[3 + 44 + 1] = "v1,";
    FUZZ_CHECK(vt_auth_base64_encode(mac, maclen, want + 3, sizeof want - 3) == VT_OK);
    return has_entry(sig, want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static vt_auth_svix_key key;
    if (key.len == 0)
        FUZZ_CHECK(vt_auth_svix_key_parse(SECRET, &key, NULL, 0) == VT_OK);

    char *text = fuzz_cstr(data, size); /* NUL-terminated, but the body may hold NULs */
    headers h;
    const char *body;
    size_t body_len;
    split_delivery(text, size, &h, &body, &body_len);

    char err[256];
    int rc = vt_auth_svix_verify_headers(&key, header_get, &h, body, body_len, NOW, TOLERANCE, err,
                                         sizeof err);
    const char *id = header_get(&h, "svix-id"), *ts = header_get(&h, "svix-timestamp"),
               *sig = header_get(&h, "svix-signature");
    if (!id || !ts || !sig) {
        id = header_get(&h, "webhook-id");
        ts = header_get(&h, "webhook-timestamp");
        sig = header_get(&h, "webhook-signature");
    }
    if (model_valid(&key, id, ts, sig, body, body_len)) {
        FUZZ_CHECK(rc == VT_OK);
    } else {
        FUZZ_CHECK(rc == VT_UNAUTHENTICATED); /* VT_OK here would be a forged delivery */
        FUZZ_CHECK(fuzz_printable(err));
    }
    free(text);
    return 0;
}
