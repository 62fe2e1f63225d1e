/*
 * validate.c — see validate.h.
 *
 * Length limits are in characters (code points), matching the CHECK constraints of
 * prisma-free-sql/0002 (char_length), so a value that passes here is never refused by
 * the database; invalid UTF-8 is refused here because PostgreSQL would refuse it too,
 * with a message that does not name the field.
 */
#include "validate.h"

#include "vt_core.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

int validate_id(const char *field, const char *value, size_t max, bool required, char *err,
                size_t errlen)
{
    size_t n = strlen(value);
    if (n == 0) {
        if (!required)
            return VT_OK;
        snprintf(err, errlen, "%s is required", field);
        return VT_INVALID_ARGUMENT;
    }
    if (n > max) {
        snprintf(err, errlen, "%s must be at most %zu characters", field, max);
        return VT_INVALID_ARGUMENT;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)value[i];
        if (ch <= 0x20 || ch >= 0x7f) {
            snprintf(err, errlen, "%s must be printable ASCII without spaces", field);
            return VT_INVALID_ARGUMENT;
        }
    }
    return VT_OK;
}

/* Code points of s, or -1 for invalid UTF-8 (overlongs, surrogates, > U+10FFFF) or a
 * control character. */
static long utf8_chars(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    long count = 0;
    while (*p) {
        uint32_t cp;
        int extra;
        if (*p < 0x80) {
            cp = *p;
            extra = 0;
        } else if ((*p & 0xe0) == 0xc0) {
            cp = *p & 0x1f;
            extra = 1;
        } else if ((*p & 0xf0) == 0xe0) {
            cp = *p & 0x0f;
            extra = 2;
        } else if ((*p & 0xf8) == 0xf0) {
            cp = *p & 0x07;
            extra = 3;
        } else {
            return -1;
        }
        p++;
        for (int i = 0; i < extra; i++, p++) {
            if ((*p & 0xc0) != 0x80)
                return -1;
            cp = (cp << 6) | (*p & 0x3f);
        }
        static const uint32_t min_for[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min_for[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return -1;
        if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
            return -1;
        count++;
    }
    return count;
}

int validate_text(const char *field, const char *value, size_t max_chars, char *err, size_t errlen)
{
    long n = utf8_chars(value);
    if (n < 0) {
        snprintf(err, errlen, "%s must be UTF-8 text without control characters", field);
        return VT_INVALID_ARGUMENT;
    }
    if ((size_t)n > max_chars) {
        snprintf(err, errlen, "%s must be at most %zu characters", field, max_chars);
        return VT_INVALID_ARGUMENT;
    }
    return VT_OK;
}

int validate_email(const char *field, const char *value, char *err, size_t errlen)
{
    if (!*value)
        return VT_OK;
    int rc = validate_text(field, value, EMAIL_MAX, err, errlen);
    if (rc != VT_OK)
        return rc;
    const char *at = strchr(value, '@');
    if (!at || at == value || !at[1] || strchr(at + 1, '@') || strchr(value, ' ')) {
        snprintf(err, errlen, "%s must be an address with exactly one @", field);
        return VT_INVALID_ARGUMENT;
    }
    return VT_OK;
}
