/*
 * fuzz_gateway_multipart.c — libFuzzer target for apps/gateway/rest_multipart.c, the
 * parser of the image uploads' multipart/form-data bodies (clang only, built by
 * `ninja fuzz`, run by the 'fuzz' suite; see tests/run-fuzz).
 *
 * The input is the Content-Type header value, a newline, then the body bytes (NULs
 * included: a body is binary). For every input it checks:
 *  - the result is one of the four, and every refusal has a message;
 *  - a part found lies inside the body, right after an empty line (CRLF CRLF, or the
 *    CRLF that ends a delimiter line when the part has no headers), and is followed by
 *    CRLF "--" and the boundary of the Content-Type;
 *  - its filename and content type are NUL-terminated within their buffers;
 *  - the same body with its last byte cut off is never OK (the closing delimiter is
 *    required), unless what was cut lies after the closing delimiter;
 *  - nothing is read outside the body (ASan) and nothing leaks.
 *
 *   CC=clang meson setup build-fuzz -Db_sanitize=address,undefined -Dbenchmarks=false
 *   ninja -C build-fuzz fuzz && build-fuzz/tests/unit/gateway/fuzz-gateway-multipart \
 *       -max_total_time=60 tests/unit/gateway/corpus-multipart
 */
#include "rest_multipart.h"
#include "vt_fuzz.h"

#include <string.h>

static void check(const char *ct, const char *body, size_t len)
{
    rest_multipart_part part;
    char err[256] = "";
    rest_multipart_result rc = rest_multipart_find(ct, body, len, "file", &part, err, sizeof err);
    FUZZ_CHECK(rc == REST_MULTIPART_OK || rc == REST_MULTIPART_NOT_MULTIPART ||
               rc == REST_MULTIPART_MALFORMED || rc == REST_MULTIPART_NO_FIELD);
    if (rc != REST_MULTIPART_OK) {
        FUZZ_CHECK(err[0] != '\0');
        return;
    }
    FUZZ_CHECK(memchr(part.filename, '\0', sizeof part.filename) != NULL);
    FUZZ_CHECK(memchr(part.content_type, '\0', sizeof part.content_type) != NULL);
    FUZZ_CHECK(part.data >= body && part.data <= body + len);
    FUZZ_CHECK(part.len <= (size_t)(body + len - part.data));
    size_t off = (size_t)(part.data - body);
    FUZZ_CHECK(off >= 2 && memcmp(part.data - 2, "\r\n", 2) == 0);
    const char *after = part.data + part.len;
    size_t rest = (size_t)(body + len - after);
    FUZZ_CHECK(rest >= 4 && memcmp(after, "\r\n--", 4) == 0);
    /* A body cut anywhere inside the part is refused. */
    rest_multipart_part cut;
    FUZZ_CHECK(rest_multipart_find(ct, body, (size_t)(after - body) + 1, "file", &cut, err,
                                   sizeof err) != REST_MULTIPART_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    if (!nl)
        return 0;
    char *ct = fuzz_cstr(data, (size_t)(nl - data));
    size_t len = size - (size_t)(nl - data) - 1;
    /* A copy of exactly len bytes, so ASan sees any read past the end. */
    char *body = malloc(len ? len : 1);
    memcpy(body, nl + 1, len);
    check(ct, body, len);
    free(body);
    free(ct);
    return 0;
}
