/*
 * vt_json.h — the one JSON <-> protobuf transcoder of the mesh (API.md §3).
 *
 * The REST gateway turns a request body into the request message of a gRPC method and
 * the reply message back into JSON with these functions alone: everything is driven by
 * the protobuf-c descriptors, so there is no per-message JSON code anywhere. The mapping
 * is the proto3 JSON mapping (protobuf.dev/programming-guides/json):
 *
 *  - names: lowerCamelCase derived from the proto field name by protoc's rule (drop each
 *    '_' and upper-case the letter after it; owner_id -> ownerId), because protobuf-c
 *    1.4 descriptors carry no json_name. Input accepts either spelling, output writes
 *    lowerCamelCase. A field given twice (once per spelling) is an error.
 *  - int32/uint32/sint32/fixed32/sfixed32: JSON numbers out; numbers or decimal strings
 *    in. int64/uint64 and their variants: decimal strings out (JavaScript loses
 *    precision past 2^53); strings or numbers in. Numbers must be integral ("1.0" and
 *    "1e3" are accepted as 1 and 1000, 1.5 is not) and within the type's range.
 *  - float/double: numbers, with the strings "NaN", "Infinity", "-Infinity" both ways
 *    (numeric strings are accepted too). Output is the shortest text that reads back
 *    as the same value.
 *  - bool: true/false. string: UTF-8 text. bytes: standard base64 with padding out;
 *    standard or URL-safe base64, padded or not, in.
 *  - enum: value names out (a number not in the enum goes out as a number); names or
 *    numbers in.
 *  - message: object; repeated: array. On input `null` means unset (empty for repeated).
 *  - oneof (protobuf-c's `<oneof>_case` member): setting a member sets the case; two
 *    members of one oneof in one object is an error. Our protos express optional
 *    presence as one-field oneofs (see UpdateVendorRequest).
 *
 * Not supported, because nothing in proto/ uses them: map fields (protobuf-c shows them
 * as repeated entry messages, which would go out as arrays of {key, value}), the
 * google.protobuf well-known types with special JSON forms (Timestamp, Duration,
 * wrappers, Struct, Any, FieldMask), and proto2 extensions and groups.
 *
 * Errors: decoding and field setting write one sentence to err (errlen bytes, may be
 * NULL/0; always NUL-terminated, truncated to fit) that names the field by its JSON
 * name with a path for nested values ("location.lat", "vendors[2].name") and is safe to
 * return to the client (untrusted text in it is truncated and made printable).
 *
 * Threads: no global state; every function may run on any thread.
 */
#ifndef VT_JSON_H
#define VT_JSON_H

#include "vt_core.h"

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

/* Largest body vt_json_decode accepts, and its deepest nesting of objects and arrays.
 * The gateway answers 413 for a larger body before calling the decoder (API.md §3). */
#define VT_JSON_MAX_INPUT (64 * 1024)
#define VT_JSON_MAX_DEPTH 32

/* ---- decoding (decode.c) ---- */

/* Parse json[0..len) (not NUL-terminated necessarily) and build a message of type desc.
 *
 * Every allocation (the message, its strings, byte arrays, repeated arrays and
 * submessages) comes from alloc, or malloc when alloc is NULL, exactly as
 * protobuf_c_message_unpack would make them, so the caller frees the result with
 * protobuf_c_message_free_unpacked(*out, alloc). Strings set to "" keep protobuf-c's
 * shared empty string (never freed) instead of an allocation.
 *
 * Returns 0 and sets *out; or VT_INVALID_ARGUMENT with the reason in err (malformed
 * JSON with line and column, body too large or too deep, top level not an object,
 * unknown field, wrong type, out of range, bad enum name, bad base64, oneof conflict,
 * field given twice), or VT_RESOURCE_EXHAUSTED when the allocator failed. On failure
 * *out is NULL and everything allocated has been freed. */
int vt_json_decode(const ProtobufCMessageDescriptor *desc, const char *json, size_t len,
                   ProtobufCAllocator *alloc, ProtobufCMessage **out, char *err, size_t errlen);

/* ---- one field from text, for path and query parameters (set_field.c) ---- */

/* Set the field called name (JSON or proto spelling) of msg from the text value: decimal
 * integers parsed strictly ("12abc", " 1", "+1" and "1.5" are errors), floating point
 * numbers or NaN/Infinity/-Infinity, bools "true"/"false", enums by name or number,
 * bytes from base64, strings copied. Only singular scalar fields (oneof members
 * included; setting one sets its case) can be set; messages and repeated fields are
 * refused. A value already in the field is replaced: a previous string or byte array is
 * freed with alloc, so msg must come from vt_json_decode or otherwise hold only
 * alloc-allocated (or default) strings. Setting a oneof member while another member of
 * the same oneof is set is an error, as in vt_json_decode.
 *
 * Returns 0, VT_INVALID_ARGUMENT (unknown name, unsupported field, bad value; reason in
 * err) or VT_RESOURCE_EXHAUSTED; on failure msg is unchanged. */
int vt_json_set_field(ProtobufCMessage *msg, const char *name, const char *value,
                      ProtobufCAllocator *alloc, char *err, size_t errlen);

/* The field of desc called name in either spelling, or NULL. (names.c) */
const ProtobufCFieldDescriptor *vt_json_field_find(const ProtobufCMessageDescriptor *desc,
                                                   const char *name);

/* Write the JSON (lowerCamelCase) name of a field into out (cap bytes, NUL-terminated,
 * truncated to fit); returns the full length. (names.c) */
size_t vt_json_field_name(const ProtobufCFieldDescriptor *field, char *out, size_t cap);

/* ---- encoding (encode.c, buf.c) ---- */

typedef struct {
    /* true (the gateway's choice): every non-oneof scalar and repeated field is written
     * even when it holds its default, so clients see "isOpen":false, "description":""
     * and "aliases":[]; unset message fields and unset oneof members are left out.
     * false: the proto3 default, leaving out every field that holds its default value
     * (0, "", false, empty bytes, first enum value, empty repeated). A oneof member that
     * is set is written in both modes, whatever its value: the case is its presence. */
    bool emit_defaults;
} vt_json_encode_opts;

#define VT_JSON_ENCODE_OPTS_DEFAULT                                                                \
    {                                                                                              \
        .emit_defaults = true                                                                      \
    }

/* The encoder writes into the mesh's one builder, vt_buf (vt_core.h): appends never
 * fail in the call, a failure is sticky (`oom`) and the take returns NULL. */
/* text[0..n) as a quoted JSON string, escaped by vt_json_escape_n's rules (below). */
void vt_json_buf_put_string(vt_buf *b, const char *text, size_t n);
/* msg as a JSON object (fields in descriptor order, so output is deterministic).
 * opts NULL means VT_JSON_ENCODE_OPTS_DEFAULT. Returns 0, VT_INVALID_ARGUMENT when msg
 * nests messages deeper than 64 levels, or VT_RESOURCE_EXHAUSTED when the buffer
 * failed to grow. */
int vt_json_buf_put_message(vt_buf *b, const ProtobufCMessage *msg,
                            const vt_json_encode_opts *opts);

/* msg as a JSON object in a new NUL-terminated string: *out is the caller's to free(),
 * *len (may be NULL) its length. Same statuses as vt_json_buf_put_message; on failure
 * *out is NULL. */
int vt_json_encode(const ProtobufCMessage *msg, const vt_json_encode_opts *opts, char **out,
                   size_t *len);

/* ---- string escaping (escape.c): the one JSON string escaper of the mesh ---- */

/* Built as a leaf library that libs/core links (its log lines use it through the
 * escaper's own header, libs/json/escape.h, which nothing else includes).
 *
 * text[0..n) as the inside of a JSON string (no quotes) into out: '"', '\\' and control
 * characters are escaped (\b \f \n \r \t, else \u00XX; DEL as \u007f); valid UTF-8
 * passes through unchanged; every byte that is not part of a valid UTF-8 sequence
 * (stray continuation bytes, overlong forms, surrogates, > U+10FFFF, a truncated
 * sequence) becomes U+FFFD, so the output is always valid JSON and valid UTF-8.
 * Writes at most outlen-1 bytes and always terminates; returns the bytes needed (not
 * counting the NUL). A truncated output never splits an escape or a character. With
 * outlen 0 it only measures (out may be NULL). */
size_t vt_json_escape_n(const char *text, size_t n, char *out, size_t outlen);
/* The same for a NUL-terminated text (NULL counts as ""). */
size_t vt_json_escape(const char *text, char *out, size_t outlen);
/* Length of the valid UTF-8 sequence at s[0..n) (1-4), or 0 when s starts with a byte
 * that does not begin one (overlong forms, surrogates and > U+10FFFF are invalid). */
size_t vt_utf8_seq_len(const unsigned char *s, size_t n);

#endif
