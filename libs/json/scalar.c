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
 * base64, input may use either alphabet, with or without padding.
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

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

int jx_base64_decode(ProtobufCAllocator *alloc, const char *s, size_t n, uint8_t **out,
                     size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    /* Padding is optional, but when present it must complete the last quantum. */
    size_t pad = 0;
    while (pad < 2 && n > pad && s[n - 1 - pad] == '=')
        pad++;
    if (pad && n % 4 != 0)
        return VT_INVALID_ARGUMENT;
    size_t data = n - pad;
    if (data % 4 == 1)
        return VT_INVALID_ARGUMENT;
    if (data == 0)
        return 0;

    size_t cap = data / 4 * 3 + (data % 4 ? data % 4 - 1 : 0);
    uint8_t *buf = jx_alloc(alloc, cap);
    if (!buf)
        return VT_RESOURCE_EXHAUSTED;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < data; i++) {
        int v = b64_value((unsigned char)s[i]);
        if (v < 0) {
            jx_free(alloc, buf);
            return VT_INVALID_ARGUMENT;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* Leftover bits of the last character must be zero, so each byte string has one
     * encoding per alphabet (and a typo in the last character is not silently lost). */
    if (acc != 0) {
        jx_free(alloc, buf);
        return VT_INVALID_ARGUMENT;
    }
    *out = buf;
    *outlen = o;
    return 0;
}

void jx_base64_put(vt_json_buf *b, const uint8_t *data, size_t n)
{
    char quad[4];

    vt_json_buf_put(b, "\"", 1);
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
        vt_json_buf_put(b, quad, 4);
    }
    vt_json_buf_put(b, "\"", 1);
}
