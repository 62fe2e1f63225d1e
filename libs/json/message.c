/*
 * message.c — how libs/json reaches into protobuf-c messages, allocates for them, and
 * words its errors.
 *
 * The decoder builds messages that protobuf_c_message_free_unpacked() must be able to
 * free, so it follows protobuf-c's own ownership rules: every string, byte array,
 * repeated array and submessage comes from the caller's allocator (malloc when none,
 * like protobuf-c's default allocator), a singular string left at "" points at the
 * descriptor's default (protobuf_c_empty_string), which free_unpacked skips, and a
 * oneof member is owned only while its case names it. Everything here is a small
 * function of the descriptor; nothing is cached.
 */
#include "json_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t jx_value_size(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return 4;
    case PROTOBUF_C_TYPE_FLOAT:
        return sizeof(float);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return 8;
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_ENUM:
        return sizeof(int);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    }
    return 0;
}

const char *jx_type_name(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
        return "int32";
    case PROTOBUF_C_TYPE_SINT32:
        return "sint32";
    case PROTOBUF_C_TYPE_SFIXED32:
        return "sfixed32";
    case PROTOBUF_C_TYPE_UINT32:
        return "uint32";
    case PROTOBUF_C_TYPE_FIXED32:
        return "fixed32";
    case PROTOBUF_C_TYPE_INT64:
        return "int64";
    case PROTOBUF_C_TYPE_SINT64:
        return "sint64";
    case PROTOBUF_C_TYPE_SFIXED64:
        return "sfixed64";
    case PROTOBUF_C_TYPE_UINT64:
        return "uint64";
    case PROTOBUF_C_TYPE_FIXED64:
        return "fixed64";
    case PROTOBUF_C_TYPE_FLOAT:
        return "float";
    case PROTOBUF_C_TYPE_DOUBLE:
        return "double";
    case PROTOBUF_C_TYPE_BOOL:
        return "bool";
    case PROTOBUF_C_TYPE_ENUM:
        return "enum";
    case PROTOBUF_C_TYPE_STRING:
        return "string";
    case PROTOBUF_C_TYPE_BYTES:
        return "bytes";
    case PROTOBUF_C_TYPE_MESSAGE:
        return "message";
    }
    return "?";
}

bool jx_is_oneof(const ProtobufCFieldDescriptor *f)
{
    return (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0;
}

bool jx_has_flag(const ProtobufCFieldDescriptor *f)
{
    return f->label == PROTOBUF_C_LABEL_OPTIONAL && !jx_is_oneof(f) &&
           f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE;
}

bool jx_may_share_empty_string(const ProtobufCFieldDescriptor *f)
{
    return f->type == PROTOBUF_C_TYPE_STRING && f->label != PROTOBUF_C_LABEL_REPEATED &&
           !jx_is_oneof(f) && f->default_value && ((const char *)f->default_value)[0] == '\0';
}

const ProtobufCFieldDescriptor *jx_oneof_member(const ProtobufCMessageDescriptor *d,
                                                uint32_t case_value)
{
    if (case_value == 0)
        return NULL;
    return protobuf_c_message_descriptor_get_field(d, case_value);
}

void *jx_alloc(ProtobufCAllocator *alloc, size_t size)
{
    if (size == 0)
        size = 1;
    return alloc ? alloc->alloc(alloc->allocator_data, size) : malloc(size);
}

void jx_free(ProtobufCAllocator *alloc, void *p)
{
    if (!p)
        return;
    if (alloc)
        alloc->free(alloc->allocator_data, p);
    else
        free(p);
}

char *jx_strndup(ProtobufCAllocator *alloc, const char *s, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *p = jx_alloc(alloc, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

ProtobufCMessage *jx_message_new(ProtobufCAllocator *alloc, const ProtobufCMessageDescriptor *d)
{
    ProtobufCMessage *m = jx_alloc(alloc, d->sizeof_message);
    if (m)
        protobuf_c_message_init(d, m);
    return m;
}

int jx_errf(char *err, size_t errlen, int status, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return status;
}

void jx_sanitize(const char *text, size_t max, bool quoted, char *out)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t n = strlen(text), i = 0, o = 0;

    while (i < n) {
        size_t k = vt_utf8_seq_len(s + i, n - i);
        if (k == 0) {
            k = 1;
            if (o + 1 > max)
                break;
            out[o++] = '?';
        } else if (k == 1) {
            if (o + 1 > max)
                break;
            out[o++] = (s[i] < 0x20 || s[i] == 0x7F || (quoted && (s[i] == '"' || s[i] == '\\')))
                           ? '?'
                           : (char)s[i];
        } else {
            if (o + k > max)
                break;
            memcpy(out + o, s + i, k);
            o += k;
        }
        i += k;
    }
    out[o] = '\0';
}
