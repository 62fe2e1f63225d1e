/*
 * buf.c — vt_buf, the one growable byte/string builder of the mesh (see vt_core.h).
 *
 * Every text that is built piece by piece goes through it: the JSON encoder, the
 * Prometheus rendering, the text arrays of the batch upserts, the live-map snapshots.
 * Failure is sticky (`oom`) rather than returned from every append, so a builder reads
 * straight and checks once at the end, and nothing appended after a failure can leave
 * a text with a hole in it. The data always has a NUL after len, so taking it hands out
 * a C string without a copy.
 *
 * The append fast path (room already there) is inline in vt_core.h; this file holds
 * the growing, which doubles so that n appends cost O(n) copies in all.
 */
#include "vt_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_CAP 64

void vt_buf_free(vt_buf *b)
{
    free(b->data);
    vt_buf_init(b);
}

bool vt_buf_grow(vt_buf *b, size_t extra)
{
    if (b->oom)
        return false;
    if (b->data && extra < b->cap - b->len)
        return true;
    if (extra > SIZE_MAX / 2 - b->len) {
        b->oom = true;
        return false;
    }
    size_t cap = b->cap ? b->cap : FIRST_CAP;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    b->data[b->len] = '\0';
    return true;
}

bool vt_buf_vprintf(vt_buf *b, const char *fmt, va_list ap)
{
    /* Format straight into the free space; only a text longer than it is formatted
     * twice (once to learn its length). */
    if (!vt_buf_grow(b, 0))
        return false;
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    if (n >= 0 && (size_t)n >= b->cap - b->len) {
        if (vt_buf_grow(b, (size_t)n))
            n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, again);
        else
            n = -2;
    }
    va_end(again);
    if (n < 0) {
        if (b->data)
            b->data[b->len] = '\0';
        b->oom = true; /* -1: an encoding error; -2: no memory. Either way the text is lost */
        return false;
    }
    b->len += (size_t)n;
    return true;
}

bool vt_buf_printf(vt_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bool ok = vt_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return ok;
}

char *vt_buf_take(vt_buf *b, size_t *len)
{
    if (!b->oom)
        vt_buf_grow(b, 0); /* an empty buffer still gives an allocated "" */
    if (b->oom) {
        vt_buf_free(b);
        if (len)
            *len = 0;
        return NULL;
    }
    char *text = b->data;
    if (len)
        *len = b->len;
    vt_buf_init(b);
    return text;
}
