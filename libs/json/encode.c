/*
 * encode.c — protobuf-c message to proto3 JSON, by walking the descriptor.
 *
 * Fields go out in descriptor order (declaration order), so the same message always
 * gives the same bytes. Which fields go out (vt_json_encode_opts.emit_defaults):
 *
 *   field kind                      emit_defaults=true     emit_defaults=false
 *   proto3 scalar, not in a oneof   always                 when not the default
 *   repeated                        always ([] if empty)   when not empty
 *   message                         when set (non-NULL)    when set
 *   oneof member                    when its case is set   when its case is set
 *   proto2 optional scalar/bytes    when has_ is set       when has_ is set
 *
 * Numbers: 32-bit integers as JSON numbers, 64-bit as decimal strings; floating point
 * as the shortest of %.{15,16,17}g (%.{6..9}g for float) that reads back to the same
 * value, NaN and infinities as the strings proto3 names. snprintf's %g follows
 * LC_NUMERIC; our processes never call setlocale, so it is always the "C" locale's '.'.
 */
#include "json_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nesting bound for messages handed to us: they come from our own services, but a
 * runaway structure should fail, not overflow the stack. */
#define ENCODE_MAX_DEPTH 64

typedef struct {
    vt_buf *b;
    bool emit_defaults;
} ectx;

static void put_double(vt_buf *b, double d, bool is_float)
{
    char tmp[40];

    if (isnan(d)) {
        vt_buf_puts(b, "\"NaN\"");
        return;
    }
    if (isinf(d)) {
        vt_buf_puts(b, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        return;
    }
    if (d == 0 && signbit(d)) {
        /* "-0" would read back as the integer 0 (jansson, JavaScript's JSON.parse keeps
         * it, but not every parser does); "-0.0" is a real everywhere. */
        vt_buf_puts(b, "-0.0");
        return;
    }
    int lo = is_float ? 6 : 15, hi = is_float ? 9 : 17;
    for (int prec = lo; prec <= hi; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (prec == hi || (is_float ? strtof(tmp, NULL) == (float)d : strtod(tmp, NULL) == d))
            break;
    }
    vt_buf_puts(b, tmp);
}

static int put_message(ectx *c, const ProtobufCMessage *m, int depth);

/* One value of field f stored at p (an element of a repeated field, or the field). */
static int put_value(ectx *c, const ProtobufCFieldDescriptor *f, const void *p, int depth)
{
    char tmp[32];

    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        snprintf(tmp, sizeof tmp, "%" PRId32, *(const int32_t *)p);
        vt_buf_puts(c->b, tmp);
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        snprintf(tmp, sizeof tmp, "%" PRIu32, *(const uint32_t *)p);
        vt_buf_puts(c->b, tmp);
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        snprintf(tmp, sizeof tmp, "\"%" PRId64 "\"", *(const int64_t *)p);
        vt_buf_puts(c->b, tmp);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        snprintf(tmp, sizeof tmp, "\"%" PRIu64 "\"", *(const uint64_t *)p);
        vt_buf_puts(c->b, tmp);
        break;
    case PROTOBUF_C_TYPE_FLOAT:
        put_double(c->b, *(const float *)p, true);
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        put_double(c->b, *(const double *)p, false);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        vt_buf_puts(c->b, *(const protobuf_c_boolean *)p ? "true" : "false");
        break;
    case PROTOBUF_C_TYPE_ENUM: {
        int v = *(const int *)p;
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);
        if (ev) {
            vt_json_buf_put_string(c->b, ev->name, strlen(ev->name));
        } else {
            snprintf(tmp, sizeof tmp, "%d", v);
            vt_buf_puts(c->b, tmp);
        }
        break;
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        if (!s)
            s = "";
        vt_json_buf_put_string(c->b, s, strlen(s));
        break;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *bd = p;
        jx_base64_put(c->b, bd->data, bd->data ? bd->len : 0);
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)p;
        if (!sub) { /* only possible inside a repeated field: a hole in the array */
            vt_buf_puts(c->b, "{}");
            break;
        }
        return put_message(c, sub, depth + 1);
    }
    }
    return 0;
}

/* Does a proto3 singular value hold its type's default? */
static bool is_default(const ProtobufCFieldDescriptor *f, const void *p)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return *(const uint32_t *)p == 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return *(const uint64_t *)p == 0;
    case PROTOBUF_C_TYPE_FLOAT: {
        /* -0.0 is not the default: proto3 writes it on the wire, and so do we. */
        float v = *(const float *)p;
        return v == 0 && !signbit(v);
    }
    case PROTOBUF_C_TYPE_DOUBLE: {
        double v = *(const double *)p;
        return v == 0 && !signbit(v);
    }
    case PROTOBUF_C_TYPE_BOOL:
        return !*(const protobuf_c_boolean *)p;
    case PROTOBUF_C_TYPE_ENUM:
        return *(const int *)p == 0;
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        return !s || !*s;
    }
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)p)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(ProtobufCMessage *const *)p == NULL;
    }
    return false;
}

static void put_name(vt_buf *b, const ProtobufCFieldDescriptor *f, bool *first)
{
    char name[128];
    size_t n = vt_json_field_name(f, name, sizeof name);

    if (!*first)
        vt_buf_put(b, ",", 1);
    *first = false;
    vt_buf_put(b, "\"", 1);
    if (n < sizeof name) {
        vt_buf_put(b, name, n);
    } else { /* a name this long is unusual, not wrong */
        char *big = malloc(n + 1);
        if (!big) {
            b->oom = true;
            return;
        }
        vt_json_field_name(f, big, n + 1);
        vt_buf_put(b, big, n);
        free(big);
    }
    vt_buf_put(b, "\":", 2);
}

static int put_message(ectx *c, const ProtobufCMessage *m, int depth)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    bool first = true;

    if (depth > ENCODE_MAX_DEPTH)
        return VT_INVALID_ARGUMENT;
    vt_buf_put(c->b, "{", 1);
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const void *p = JX_CMEMBER(char, m, f->offset);
        int rc = 0;

        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *JX_CMEMBER(size_t, m, f->quantifier_offset);
            const char *arr = *(char *const *)p;
            size_t step = jx_value_size(f->type);
            if (!arr)
                n = 0;
            if (n == 0 && !c->emit_defaults)
                continue;
            put_name(c->b, f, &first);
            vt_buf_put(c->b, "[", 1);
            for (size_t k = 0; k < n && rc == 0; k++) {
                if (k)
                    vt_buf_put(c->b, ",", 1);
                rc = put_value(c, f, arr + k * step, depth);
            }
            vt_buf_put(c->b, "]", 1);
        } else {
            if (jx_is_oneof(f)) {
                if (*JX_CMEMBER(uint32_t, m, f->quantifier_offset) != f->id)
                    continue;
            } else if (jx_has_flag(f)) {
                if (!*JX_CMEMBER(protobuf_c_boolean, m, f->quantifier_offset))
                    continue;
            } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
                if (!*(ProtobufCMessage *const *)p)
                    continue;
            } else if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
                /* proto2 optional string: present when not NULL. */
                if (!*(char *const *)p)
                    continue;
            } else if (f->label == PROTOBUF_C_LABEL_NONE && !c->emit_defaults && is_default(f, p)) {
                continue;
            }
            if (f->type == PROTOBUF_C_TYPE_MESSAGE && !*(ProtobufCMessage *const *)p)
                continue; /* a oneof member that is a message, selected but NULL */
            put_name(c->b, f, &first);
            rc = put_value(c, f, p, depth);
        }
        if (rc)
            return rc;
    }
    vt_buf_put(c->b, "}", 1);
    return 0;
}

int vt_json_buf_put_message(vt_buf *b, const ProtobufCMessage *msg, const vt_json_encode_opts *opts)
{
    ectx c = {.b = b, .emit_defaults = opts ? opts->emit_defaults : true};
    int rc = put_message(&c, msg, 0);
    if (rc)
        return rc;
    return b->oom ? VT_RESOURCE_EXHAUSTED : 0;
}

int vt_json_encode(const ProtobufCMessage *msg, const vt_json_encode_opts *opts, char **out,
                   size_t *len)
{
    vt_buf b;

    vt_buf_init(&b);
    *out = NULL;
    if (len)
        *len = 0;
    int rc = vt_json_buf_put_message(&b, msg, opts);
    if (rc) {
        vt_buf_free(&b);
        return rc;
    }
    *out = vt_buf_take(&b, len);
    return *out ? 0 : VT_RESOURCE_EXHAUSTED;
}
