/*
 * string.c — a JSON string into the encoder's output buffer.
 *
 * The output buffer is the mesh's one builder (vt_buf) and the escaping is the one
 * escaper (escape.c, vt_json_escape_n). The escaper writes
 * straight into the buffer's free space, which is reserved for the unescaped length
 * first: most strings need no escape, so they are scanned and copied once; one that
 * grew by its escapes is escaped again into room for its measured length.
 */
#include "json_internal.h"

void vt_json_buf_put_string(vt_buf *b, const char *text, size_t n)
{
    if (!vt_buf_reserve(b, n + 2) || !vt_buf_putc(b, '"'))
        return;
    size_t spare = vt_buf_spare(b);
    size_t need = vt_json_escape_n(text, n, vt_buf_tail(b), spare + 1);
    if (need > spare) {
        if (!vt_buf_reserve(b, need + 1))
            return;
        vt_json_escape_n(text, n, vt_buf_tail(b), vt_buf_spare(b) + 1);
    }
    vt_buf_advance(b, need);
    vt_buf_putc(b, '"');
}
