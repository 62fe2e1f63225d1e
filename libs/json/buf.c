/*
 * buf.c — the output buffer of the encoder, and JSON string escaping.
 *
 * The buffer latches allocation failure (`failed`) instead of returning it from every
 * append, so the encoder reads straight and checks once at the end. It always keeps a
 * NUL after the text, so taking it hands out a C string without a copy.
 *
 * Strings: '"' and '\\' are escaped, control characters become \b \f \n \r \t or
 * \u00XX, DEL becomes \u007f; valid UTF-8 passes through byte for byte (no \u escapes,
 * so text stays compact and readable). Bytes that are not valid UTF-8 are replaced by
 * U+FFFD, one per byte, rather than escaped: JSON cannot carry raw bytes, and a string
 * field holding them is already broken upstream, so the output must stay valid JSON
 * that every client parses while showing that something was replaced.
 */
#include "json_internal.h"

#include <stdlib.h>
#include <string.h>

void vt_json_buf_init(vt_json_buf *b)
{
    memset(b, 0, sizeof *b);
}

void vt_json_buf_free(vt_json_buf *b)
{
    free(b->data);
    vt_json_buf_init(b);
}

char *vt_json_buf_take(vt_json_buf *b, size_t *len)
{
    if (!b->failed && !b->data)
        vt_json_buf_put(b, "", 0);
    if (b->failed) {
        vt_json_buf_free(b);
        if (len)
            *len = 0;
        return NULL;
    }
    char *text = b->data;
    if (len)
        *len = b->len;
    vt_json_buf_init(b);
    return text;
}

static bool grow(vt_json_buf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (b->len + extra + 1 <= b->cap && b->data)
        return true;
    if (extra > SIZE_MAX / 2 - b->len) {
        b->failed = true;
        return false;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void vt_json_buf_put(vt_json_buf *b, const void *data, size_t n)
{
    if (!grow(b, n))
        return;
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void vt_json_buf_puts(vt_json_buf *b, const char *text)
{
    vt_json_buf_put(b, text, strlen(text));
}

/* Bytes that may be copied as they are: printable ASCII except '"' and '\\'. Bytes of
 * 0x80 and up go through UTF-8 validation. */
static bool plain_ascii(unsigned char c)
{
    return c >= 0x20 && c < 0x7F && c != '"' && c != '\\';
}

void vt_json_buf_put_string(vt_json_buf *b, const char *text, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;

    /* Reserve the common case up front; escapes grow the buffer as they come. */
    grow(b, n + 2);
    vt_json_buf_put(b, "\"", 1);
    while (i < n) {
        size_t run = i;
        while (run < n && plain_ascii(s[run]))
            run++;
        vt_json_buf_put(b, s + i, run - i);
        i = run;
        if (i == n)
            break;

        unsigned char c = s[i];
        if (c >= 0x80) {
            size_t k = vt_utf8_seq_len(s + i, n - i);
            if (k)
                vt_json_buf_put(b, s + i, k);
            else
                vt_json_buf_put(b, "\xEF\xBF\xBD", 3); /* U+FFFD */
            i += k ? k : 1;
            continue;
        }
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t elen = 2;
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default: /* other control characters and DEL */
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
            break;
        }
        vt_json_buf_put(b, esc, elen);
        i++;
    }
    vt_json_buf_put(b, "\"", 1);
}
