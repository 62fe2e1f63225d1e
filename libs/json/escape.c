/*
 * escape.c — the one JSON string escaper of the mesh, and UTF-8 validation.
 *
 * Everything that writes a JSON string uses it: the transcoder's encoder (through
 * vt_json_buf_put_string), the log lines of libs/core, the REST and WebSocket edges'
 * hand-made messages, the CLI's tokens. It is libs/json's, declared in vt_json.h, but
 * built as a leaf library of its own (vt_json_escape, no dependencies) that libs/core
 * links: core's logger must escape JSON and core sits below libs/json, so the escaper
 * sits below both instead of being written twice. Its declarations are in vt_json.h
 * for everyone and in escape.h for this file and core's logger, which cannot include
 * vt_json.h.
 *
 * Rules: '"' and '\\' are escaped, control characters become \b \f \n \r \t or \u00XX,
 * DEL becomes \u007f; valid UTF-8 passes through byte for byte (no \u escapes, so text
 * stays compact and readable). Bytes that are not valid UTF-8 are replaced by U+FFFD,
 * one per byte, rather than escaped: JSON cannot carry raw bytes, and a string holding
 * them is already broken upstream, so the output must stay valid JSON (and a valid
 * WebSocket text frame) that every client parses while showing that something was
 * replaced. Bounded output is cut only between characters and escapes, never inside
 * one, so a truncated text is still valid UTF-8 and valid JSON string content.
 */
#include "escape.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

size_t vt_utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        need = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* UTF-16 surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* > U+10FFFF */
    } else
        return 0;
    if (n < need || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < need; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return need;
}

/* Bytes that are copied as they are: printable ASCII except '"' and '\\'. Bytes of
 * 0x80 and up go through UTF-8 validation. */
static bool plain_ascii(unsigned char c)
{
    return c >= 0x20 && c < 0x7F && c != '"' && c != '\\';
}

/* The escape (or the character, or U+FFFD) for the byte at s[0] of n left into esc;
 * returns its length and sets *used to the bytes of s it stands for. */
static size_t escape_one(const unsigned char *s, size_t n, char esc[6], size_t *used)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char c = s[0];
    *used = 1;
    if (c >= 0x80) {
        size_t k = vt_utf8_seq_len(s, n);
        if (!k) {
            memcpy(esc, "\xEF\xBF\xBD", 3); /* U+FFFD */
            return 3;
        }
        memcpy(esc, s, k);
        *used = k;
        return k;
    }
    esc[0] = '\\';
    switch (c) {
    case '"':
        esc[1] = '"';
        return 2;
    case '\\':
        esc[1] = '\\';
        return 2;
    case '\b':
        esc[1] = 'b';
        return 2;
    case '\f':
        esc[1] = 'f';
        return 2;
    case '\n':
        esc[1] = 'n';
        return 2;
    case '\r':
        esc[1] = 'r';
        return 2;
    case '\t':
        esc[1] = 't';
        return 2;
    default: /* other control characters and DEL */
        esc[1] = 'u';
        esc[2] = '0';
        esc[3] = '0';
        esc[4] = hex[c >> 4];
        esc[5] = hex[c & 15];
        return 6;
    }
}

size_t vt_json_escape_n(const char *text, size_t n, char *out, size_t outlen)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t room = outlen ? outlen - 1 : 0; /* bytes before the NUL */
    bool writing = outlen > 0;
    size_t need = 0, used = 0, i = 0;

    while (i < n) {
        /* Runs of plain text (nearly all of it) are copied whole. */
        size_t run = i;
        while (run < n && plain_ascii(s[run]))
            run++;
        if (run > i) {
            size_t k = run - i;
            if (writing) {
                size_t w = k <= room - used ? k : room - used; /* ASCII may be cut anywhere */
                memcpy(out + used, s + i, w);
                used += w;
                writing = w == k;
            }
            need += k;
            i = run;
            if (i == n)
                break;
        }
        char esc[6];
        size_t k;
        size_t e = escape_one(s + i, n - i, esc, &k);
        if (writing && e <= room - used) {
            memcpy(out + used, esc, e);
            used += e;
        } else {
            writing = false; /* never half an escape or a character, nor anything after */
        }
        need += e;
        i += k;
    }
    if (outlen)
        out[used] = '\0';
    return need;
}

size_t vt_json_escape(const char *text, char *out, size_t outlen)
{
    text = text ? text : "";
    return vt_json_escape_n(text, strlen(text), out, outlen);
}
