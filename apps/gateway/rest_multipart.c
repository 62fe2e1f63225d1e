/*
 * rest_multipart.c — one field out of a multipart/form-data body (RFC 7578, framing
 * of RFC 2046 §5.1.1), for the image uploads' `file`.
 *
 * The body is in memory already (rest_server.c bounds it), so this is a scan, not a
 * stream: find the first delimiter "--boundary" (at the start, or after the preamble's
 * CRLF), then per part: the rest of the delimiter line, the part's headers up to the
 * empty line (at most PART_HEADERS_MAX bytes), and the content up to the next
 * "CRLF--boundary". The body must reach the closing "--boundary--": a body cut short is
 * refused even when the wanted part was complete, since the client did not send what it
 * meant to. Nothing is copied; the part found points into the body.
 *
 * Everything read from the wire is bounded: the boundary (1-70 characters of RFC 2046's
 * alphabet), the header block, the number of parts, and every name copied out.
 */
#include "rest_multipart.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define PART_HEADERS_MAX 8192
#define PARTS_MAX 64

static const char *skip_space(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* RFC 2046 bchars: DIGIT / ALPHA / "'()+_,-./:=?" and space (not last). */
static bool boundary_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           strchr("'()+_,-./:=? ", c) != NULL;
}

/* The value of parameter name in a header value "type; a=b; c=\"d\"" (between start and
 * end) into out (outlen bytes, NUL-terminated). A quoted value may escape with '\'.
 * false when absent, or when the value does not fit. */
static bool header_param(const char *start, const char *end, const char *name, char *out,
                         size_t outlen)
{
    size_t nl = strlen(name);
    const char *p = start;
    while (p < end) {
        /* to the next ';' outside quotes */
        bool quoted = false;
        while (p < end && (quoted || *p != ';')) {
            if (*p == '"')
                quoted = !quoted;
            else if (*p == '\\' && quoted && p + 1 < end)
                p++;
            p++;
        }
        if (p >= end)
            return false;
        p = skip_space(p + 1, end);
        const char *eq = p;
        while (eq < end && *eq != '=' && *eq != ';')
            eq++;
        const char *ne = eq;
        while (ne > p && (ne[-1] == ' ' || ne[-1] == '\t'))
            ne--;
        if (eq >= end || *eq != '=' || (size_t)(ne - p) != nl || strncasecmp(p, name, nl) != 0)
            continue;
        const char *v = skip_space(eq + 1, end);
        size_t n = 0;
        if (v < end && *v == '"') {
            for (v++; v < end && *v != '"'; v++) {
                if (*v == '\\' && v + 1 < end)
                    v++;
                if (n + 1 >= outlen)
                    return false;
                out[n++] = *v;
            }
            if (v >= end)
                return false; /* unterminated quote */
        } else {
            for (; v < end && *v != ';' && *v != ' ' && *v != '\t'; v++) {
                if (n + 1 >= outlen)
                    return false;
                out[n++] = *v;
            }
        }
        out[n] = '\0';
        return true;
    }
    return false;
}

bool rest_multipart_is_form(const char *content_type)
{
    static const char form[] = "multipart/form-data";
    if (!content_type)
        return false;
    const char *p = skip_space(content_type, content_type + strlen(content_type));
    if (strncasecmp(p, form, sizeof form - 1) != 0)
        return false;
    p += sizeof form - 1;
    p = skip_space(p, p + strlen(p));
    return *p == '\0' || *p == ';';
}

static bool boundary_of(const char *content_type, char *out, size_t outlen)
{
    if (!header_param(content_type, content_type + strlen(content_type), "boundary", out, outlen))
        return false;
    size_t n = strlen(out);
    if (n < 1 || n > REST_MULTIPART_BOUNDARY_MAX || out[n - 1] == ' ')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!boundary_char(out[i]))
            return false;
    return true;
}

/* A part's headers (between start and end, lines ending CRLF): its field name,
 * filename and Content-Type. */
static void part_headers(const char *start, const char *end, char *name, size_t namelen,
                         rest_multipart_part *part)
{
    name[0] = part->filename[0] = part->content_type[0] = '\0';
    for (const char *line = start; line < end;) {
        const char *eol = memmem(line, (size_t)(end - line), "\r\n", 2);
        if (!eol)
            eol = end;
        const char *colon = memchr(line, ':', (size_t)(eol - line));
        if (colon) {
            size_t hl = (size_t)(colon - line);
            const char *v = skip_space(colon + 1, eol);
            if (hl == 19 && strncasecmp(line, "content-disposition", 19) == 0) {
                const char *type_end = memchr(v, ';', (size_t)(eol - v));
                if (!type_end)
                    type_end = eol;
                size_t tl = (size_t)(type_end - v);
                while (tl > 0 && (v[tl - 1] == ' ' || v[tl - 1] == '\t'))
                    tl--;
                if (tl == 9 && strncasecmp(v, "form-data", 9) == 0) {
                    if (!header_param(v, eol, "name", name, namelen))
                        name[0] = '\0';
                    if (!header_param(v, eol, "filename", part->filename, sizeof part->filename))
                        part->filename[0] = '\0';
                }
            } else if (hl == 12 && strncasecmp(line, "content-type", 12) == 0) {
                size_t n = (size_t)(eol - v);
                if (n < sizeof part->content_type) {
                    memcpy(part->content_type, v, n);
                    part->content_type[n] = '\0';
                }
            }
        }
        line = eol + 2;
    }
}

static rest_multipart_result malformed(char *err, size_t errlen, const char *why)
{
    snprintf(err, errlen, "malformed multipart/form-data body: %s", why);
    return REST_MULTIPART_MALFORMED;
}

rest_multipart_result rest_multipart_find(const char *content_type, const char *body, size_t len,
                                          const char *field, rest_multipart_part *out, char *err,
                                          size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!rest_multipart_is_form(content_type)) {
        snprintf(err, errlen, "the body must be multipart/form-data");
        return REST_MULTIPART_NOT_MULTIPART;
    }
    char boundary[REST_MULTIPART_BOUNDARY_MAX + 8];
    if (!boundary_of(content_type, boundary, sizeof boundary))
        return malformed(err, errlen, "Content-Type has no valid boundary");
    /* "\r\n--boundary": the delimiter as it appears after the first. */
    char delim[REST_MULTIPART_BOUNDARY_MAX + 8];
    int dl = snprintf(delim, sizeof delim, "\r\n--%s", boundary);
    if (!body || len == 0)
        return malformed(err, errlen, "the body is empty");
    const char *end = body + len, *p;
    if (len >= (size_t)dl - 2 && memcmp(body, delim + 2, (size_t)dl - 2) == 0) {
        p = body + dl - 2;
    } else {
        const char *d = memmem(body, len, delim, (size_t)dl);
        if (!d)
            return malformed(err, errlen, "no boundary delimiter");
        p = d + dl;
    }
    bool found = false;
    for (int parts = 0;; parts++) {
        /* After a delimiter: "--" closes; else optional padding and CRLF. */
        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            break;
        if (parts >= PARTS_MAX)
            return malformed(err, errlen, "too many parts");
        p = skip_space(p, end);
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
            return malformed(err, errlen, "a delimiter line does not end with CRLF");
        p += 2;
        const char *hdr_end;
        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
            hdr_end = p; /* no headers at all */
        } else {
            size_t window = (size_t)(end - p);
            if (window > PART_HEADERS_MAX)
                window = PART_HEADERS_MAX;
            const char *blank = memmem(p, window, "\r\n\r\n", 4);
            if (!blank)
                return malformed(err, errlen, "a part's headers do not end");
            hdr_end = blank + 2;
        }
        const char *content = hdr_end + 2;
        const char *next = memmem(content, (size_t)(end - content), delim, (size_t)dl);
        if (!next)
            return malformed(err, errlen, "the body ends inside a part (truncated?)");
        if (!found) {
            char name[128];
            part_headers(p, hdr_end, name, sizeof name, out);
            if (strcmp(name, field) == 0) {
                found = true;
                out->data = content;
                out->len = (size_t)(next - content);
            }
        }
        p = next + dl;
    }
    if (!found) {
        memset(out, 0, sizeof *out);
        snprintf(err, errlen, "the multipart/form-data body has no field \"%s\"", field);
        return REST_MULTIPART_NO_FIELD;
    }
    return REST_MULTIPART_OK;
}
