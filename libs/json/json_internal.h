/*
 * json_internal.h — what the files of libs/json share: reaching into a protobuf-c
 * message through its descriptor, the allocator, strict text-to-number parsing, base64,
 * and error formatting. Not installed; only vt_json.h is public.
 */
#ifndef VT_JSON_INTERNAL_H
#define VT_JSON_INTERNAL_H

#include "vt_json.h"

#include "escape.h" /* the same declarations as vt_json.h's, checked against them */

#include <stdint.h>

/* The member of msg at a descriptor offset (offset or quantifier_offset). */
#define JX_MEMBER(type, msg, off) ((type *)((char *)(msg) + (off)))
#define JX_CMEMBER(type, msg, off) ((const type *)((const char *)(msg) + (off)))

/* ---- message layout (message.c) ---- */

/* Storage size of one value of a field's type (a repeated array's element size). */
size_t jx_value_size(ProtobufCType type);
/* The proto name of a type, for "out of range for int32" messages. */
const char *jx_type_name(ProtobufCType type);
bool jx_is_oneof(const ProtobufCFieldDescriptor *f);
/* proto2 `optional` scalars and bytes keep a has_<name> flag at quantifier_offset. */
bool jx_has_flag(const ProtobufCFieldDescriptor *f);
/* True when "" may be stored in this string field as the descriptor's default pointer
 * (protobuf_c_empty_string) instead of an allocation: a singular field outside any
 * oneof whose default is "". Never inside a oneof: protobuf-c's packer skips a oneof
 * member whose pointer equals the default, so {"name":""} in UpdateVendorRequest would
 * vanish on the wire. Never in a repeated field: free_unpacked frees every element. */
bool jx_may_share_empty_string(const ProtobufCFieldDescriptor *f);
/* The field of a oneof that is set, given its case value; NULL for none. */
const ProtobufCFieldDescriptor *jx_oneof_member(const ProtobufCMessageDescriptor *d,
                                                uint32_t case_value);

/* ---- allocation (message.c): alloc NULL means malloc/free, as protobuf-c does ---- */

void *jx_alloc(ProtobufCAllocator *alloc, size_t size);
void jx_free(ProtobufCAllocator *alloc, void *p);
/* A copy of s[0..n) plus NUL, or NULL on allocation failure. */
char *jx_strndup(ProtobufCAllocator *alloc, const char *s, size_t n);
/* A new message of type d, initialised with its defaults; NULL on failure. */
ProtobufCMessage *jx_message_new(ProtobufCAllocator *alloc, const ProtobufCMessageDescriptor *d);

/* ---- strict text parsing (scalar.c) ---- */

typedef enum { JX_PARSE_OK = 0, JX_PARSE_SYNTAX, JX_PARSE_RANGE } jx_parse_result;

/* Whole string as a decimal integer: optional '-' (signed only), then digits; nothing
 * else, no whitespace, no '+'. */
jx_parse_result jx_parse_int64(const char *s, int64_t *out);
jx_parse_result jx_parse_uint64(const char *s, uint64_t *out);
/* Whole string as a number ([-]digits[.digits][e[+-]digits] as strtod reads it, no hex,
 * no inf/nan spellings) or exactly "NaN", "Infinity", "-Infinity". Overflow is a range
 * error; underflow rounds to zero or a subnormal. */
jx_parse_result jx_parse_double(const char *s, double *out);

/* Base64 (standard or URL-safe alphabet, padding optional) of s[0..n) into a new
 * alloc'd buffer; *out NULL for empty input. Returns 0, VT_INVALID_ARGUMENT for bad
 * input, VT_RESOURCE_EXHAUSTED. */
int jx_base64_decode(ProtobufCAllocator *alloc, const char *s, size_t n, uint8_t **out,
                     size_t *outlen);
/* Standard padded base64 of data[0..n), as a quoted JSON string. */
void jx_base64_put(vt_buf *b, const uint8_t *data, size_t n);

/* ---- errors (message.c) ---- */

/* snprintf into err when err/errlen allow; returns status. */
int jx_errf(char *err, size_t errlen, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Untrusted text for an error message: at most max bytes of whole UTF-8 characters,
 * with control characters and invalid UTF-8 bytes replaced by '?', and '"' and '\\'
 * too when quoted (the text goes between quotes in the message). out needs max+1
 * bytes. */
void jx_sanitize(const char *text, size_t max, bool quoted, char *out);

#endif
