/*
 * escape.h — the escaper's own header, for the two places that cannot include vt_json.h:
 * escape.c itself, a leaf with no dependencies, and libs/core's logger, which sits
 * below libs/json (core links the escaper as a leaf library; see libs/core/meson.build).
 * The public declarations, documented, are vt_json.h's; json_internal.h includes both
 * headers, so the compiler checks that they agree. Not on any dependent's include path.
 */
#ifndef VT_JSON_ESCAPE_H
#define VT_JSON_ESCAPE_H

#include <stddef.h>

size_t vt_utf8_seq_len(const unsigned char *s, size_t n);
size_t vt_json_escape_n(const char *text, size_t n, char *out, size_t outlen);
size_t vt_json_escape(const char *text, char *out, size_t outlen);

#endif
