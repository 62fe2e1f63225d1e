/*
 * scalar.c — strict text to number conversion and base64, shared by the decoder
 * (int64 in JSON strings, "NaN", bytes) and by vt_json_set_field (path and query
 * parameters).
 *
 * strtoll and friends are lenient in ways an API must not be: they skip leading
 * whitespace, accept '+', stop quietly at the first bad character ("12abc" -> 12),
 * strtoull accepts "-1" and wraps it, strtod reads "inf", "nan" and hex floats. So each
 * parser checks the characters first and then demands that the libc call consumed the
 * whole string. Base64 follows the proto3 JSON mapping: output is standard padded
 * base64, input may use either alphabet, with or without padding (decoded by libs/core's
 * one strict decoder, which libs/auth uses too).
 */
#include "json_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

jx_parse_result jx_parse_int64(const char *s, int64_t *out)
{
    if (!all_digits(s[0] == '-' ? s + 1 : s))
        return JX_PARSE_SYNTAX;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end)
        return JX_PARSE_SYNTAX;
    if (errno == ERANGE)
        return JX_PARSE_RANGE;
    *out = (int64_t)v;
    return JX_PARSE_OK;
}

jx_parse_result jx_parse_uint64(const char *s, uint64_t *out)
{
    if (s[0] == '-' && all_digits(s + 1))
        return strspn(s + 1, "0") == strlen(s + 1) ? (*out = 0, JX_PARSE_OK) : JX_PARSE_RANGE;
    if (!all_digits(s))
        return JX_PARSE_SYNTAX;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end)
        return JX_PARSE_SYNTAX;
    if (errno == ERANGE)
        return JX_PARSE_RANGE;
    *out = (uint64_t)v;
    return JX_PARSE_OK;
}

jx_parse_result jx_parse_double(const char *s, double *out)
{
    if (strcmp(s, "NaN") == 0) {
        *out = NAN;
        return JX_PARSE_OK;
    }
    if (strcmp(s, "Infinity") == 0) {
        *out = INFINITY;
        return JX_PARSE_OK;
    }
    if (strcmp(s, "-Infinity") == 0) {
        *out = -INFINITY;
        return JX_PARSE_OK;
    }
    /* A digit must come first (after an optional sign), and only number characters
     * follow: that rules out whitespace, "inf", "nan" and "0x1p3". */
    const char *p = s[0] == '-' ? s + 1 : s;
    if (!(*p >= '0' && *p <= '9') && !(*p == '.' && p[1] >= '0' && p[1] <= '9'))
        return JX_PARSE_SYNTAX;
    if (p[strspn(p, "0123456789.eE+-")] != '\0')
        return JX_PARSE_SYNTAX;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (*end)
        return JX_PARSE_SYNTAX;
    if (errno == ERANGE && isinf(v))
        return JX_PARSE_RANGE;
    *out = v;
    return JX_PARSE_OK;
}

/* ---- base64 ---- */

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int jx_base64_decode(ProtobufCAllocator *alloc, const char *s, size_t n, uint8_t **out,
                     size_t *outlen)
{
    /* The proto3 mapping takes either alphabet, even mixed, padded or not: the one
     * strict decoder of libs/core with both alphabets and optional padding. */
    const unsigned flags = VT_BASE64_STD | VT_BASE64_URL;
    *out = NULL;
    *outlen = 0;
    size_t cap = vt_base64_decoded_max(n);
    if (cap == 0) /* "" decodes to nothing; "=", "==" and the like are errors */
        return vt_base64_decode(s, n, flags, NULL, 0, NULL);
    uint8_t *buf = jx_alloc(alloc, cap);
    if (!buf)
        return VT_RESOURCE_EXHAUSTED;
    size_t len;
    int rc = vt_base64_decode(s, n, flags, buf, cap, &len);
    if (rc != VT_OK || len == 0) {
        jx_free(alloc, buf);
        return rc;
    }
    *out = buf;
    *outlen = len;
    return 0;
}

void jx_base64_put(vt_buf *b, const uint8_t *data, size_t n)
{
    char quad[4];

    vt_buf_put(b, "\"", 1);
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)data[i + 1] << 8;
        if (i + 2 < n)
            v |= data[i + 2];
        quad[0] = b64_std[(v >> 18) & 63];
        quad[1] = b64_std[(v >> 12) & 63];
        quad[2] = i + 1 < n ? b64_std[(v >> 6) & 63] : '=';
        quad[3] = i + 2 < n ? b64_std[v & 63] : '=';
        vt_buf_put(b, quad, 4);
    }
    vt_buf_put(b, "\"", 1);
}
