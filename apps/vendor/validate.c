/*
 * validate.c — see validate.h.
 *
 * The email check is deliberately the practical subset that mail providers accept
 * (dot-atom local part, a domain of LDH labels with a letter TLD), not RFC 5322's
 * quoted strings and comments: a vendor's contact address is shown to customers and
 * must be one they can type. URLs must be absolute http or https with a host and no
 * whitespace or control characters; anything else (javascript:, data:, relative
 * paths) would end up in an <a href> or <img src> on someone's screen.
 */
#include "validate.h"

#include "vt_core.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

long utf8_count(const char *text, long max)
{
    const unsigned char *p = (const unsigned char *)text;
    long n = 0;
    while (*p && n <= max) {
        unsigned c = *p;
        int extra;
        uint32_t cp;
        if (c < 0x80) {
            extra = 0, cp = c;
        } else if ((c & 0xe0) == 0xc0) {
            extra = 1, cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            extra = 2, cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            extra = 3, cp = c & 0x07;
        } else {
            return -1;
        }
        p++;
        for (int i = 0; i < extra; i++, p++) {
            if ((*p & 0xc0) != 0x80)
                return -1;
            cp = (cp << 6) | (*p & 0x3f);
        }
        /* Overlong forms, surrogates and values past U+10FFFF are not UTF-8. */
        static const uint32_t min_cp[4] = {0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[extra] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return -1;
        n++;
    }
    return n;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return VT_INVALID_ARGUMENT;
}

/* Length in [min, max] code points, valid UTF-8, and no control characters except
 * those allowed (e.g. "\n\r\t" in a description). */
static int check_text(const char *field, const char *text, long min, long max,
                      const char *allowed_controls, char *err, size_t errlen)
{
    long n = utf8_count(text, max);
    if (n < 0)
        return fail(err, errlen, "%s is not valid UTF-8", field);
    if (n < min || n > max) {
        if (min > 0)
            return fail(err, errlen, "%s must be %ld to %ld characters", field, min, max);
        return fail(err, errlen, "%s must be at most %ld characters", field, max);
    }
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if ((*p < 0x20 || *p == 0x7f) && !strchr(allowed_controls, *p))
            return fail(err, errlen, "%s must not contain control characters", field);
    return VT_OK;
}

static bool blank(const char *text)
{
    for (; *text; text++)
        if (*text != ' ' && *text != '\t' && *text != '\n' && *text != '\r')
            return false;
    return true;
}

int validate_name(const char *name, char *err, size_t errlen)
{
    int rc = check_text("name", name, 1, VENDOR_NAME_MAX, "", err, errlen);
    if (rc == VT_OK && blank(name))
        return fail(err, errlen, "%s must not be blank", "name");
    return rc;
}

int validate_description(const char *description, char *err, size_t errlen)
{
    return check_text("description", description, 0, VENDOR_DESCRIPTION_MAX, "\n\r\t", err, errlen);
}

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool domain_valid(const char *d, size_t len)
{
    size_t labels = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && d[i] != '.') {
            if (!is_alnum(d[i]) && d[i] != '-')
                return false;
            continue;
        }
        size_t n = i - start;
        if (n < 1 || n > 63 || d[start] == '-' || d[i - 1] == '-')
            return false;
        labels++;
        if (i == len) { /* the TLD: letters only, at least two */
            if (n < 2)
                return false;
            for (size_t k = start; k < i; k++)
                if (!((d[k] >= 'a' && d[k] <= 'z') || (d[k] >= 'A' && d[k] <= 'Z')))
                    return false;
        }
        start = i + 1;
    }
    return labels >= 2 && len <= 253;
}

int validate_email(const char *email, char *err, size_t errlen)
{
    if (!*email)
        return VT_OK;
    size_t len = strlen(email);
    if (len > VENDOR_EMAIL_MAX)
        return fail(err, errlen, "%s must be at most %ld characters", "email", VENDOR_EMAIL_MAX);
    const char *at = strchr(email, '@');
    bool ok = at && at != email && strchr(at + 1, '@') == NULL && (size_t)(at - email) <= 64;
    for (const char *p = email; ok && p < at; p++) {
        bool dot = *p == '.';
        ok = is_alnum(*p) || (dot && p != email && p + 1 != at && p[1] != '.') ||
             (!dot && strchr("!#$%&'*+/=?^_`{|}~-", *p) != NULL);
    }
    if (ok)
        ok = domain_valid(at + 1, len - (size_t)(at + 1 - email));
    if (!ok)
        return fail(err, errlen, "%s is not a valid email address", "email");
    return VT_OK;
}

int validate_phone(const char *phone, char *err, size_t errlen)
{
    if (!*phone)
        return VT_OK;
    long digits = 0;
    bool ok = strlen(phone) <= 32;
    for (const char *p = phone; ok && *p; p++) {
        if (*p >= '0' && *p <= '9')
            digits++;
        else
            ok = (*p == '+' && p == phone) || ((*p == ' ' || *p == '-') && p != phone);
    }
    if (!ok || digits < 7 || digits > 20)
        return fail(err, errlen, "%s must be 7 to %ld digits, optionally with +, spaces, dashes",
                    "phone", 20L);
    return VT_OK;
}

int validate_url(const char *field, const char *url, char *err, size_t errlen)
{
    if (!*url)
        return VT_OK;
    long n = utf8_count(url, VENDOR_URL_MAX);
    if (n < 0)
        return fail(err, errlen, "%s is not valid UTF-8", field);
    if (n > VENDOR_URL_MAX)
        return fail(err, errlen, "%s must be at most %ld characters", field, VENDOR_URL_MAX);
    const char *host = NULL;
    if (strncasecmp(url, "http://", 7) == 0)
        host = url + 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        host = url + 8;
    bool ok = host != NULL;
    /* The authority: up to the first '/', '?' or '#'; a host name must be there. */
    size_t auth = ok ? strcspn(host, "/?#") : 0;
    ok = ok && auth > 0;
    const char *hostname = host;
    if (ok) {
        const char *at = memchr(host, '@', auth);
        if (at)
            hostname = at + 1;
        ok = hostname < host + auth && *hostname != ':';
        for (const char *p = hostname; ok && p < host + auth; p++)
            ok = is_alnum(*p) || strchr(".-:[]_", *p) || (unsigned char)*p >= 0x80;
    }
    for (const unsigned char *p = (const unsigned char *)url; ok && *p; p++)
        ok = *p > 0x20 && *p != 0x7f;
    if (!ok)
        return fail(err, errlen, "%s must be an http(s) URL", field);
    return VT_OK;
}

int validate_owner_id(const char *field, const char *owner_id, char *err, size_t errlen)
{
    size_t n = strlen(owner_id);
    bool ok = n >= 1 && n <= VENDOR_OWNER_MAX;
    for (const char *p = owner_id; ok && *p; p++)
        ok = *p > 0x20 && *p < 0x7f;
    if (!ok)
        return fail(err, errlen, "%s must be 1 to %ld printable ASCII characters", field,
                    VENDOR_OWNER_MAX);
    return VT_OK;
}

int validate_query(const char *q, char *err, size_t errlen)
{
    int rc = check_text("q", q, 1, VENDOR_QUERY_MAX, "\t", err, errlen);
    if (rc == VT_OK && blank(q))
        return fail(err, errlen, "%s must not be blank", "q");
    return rc;
}
