/*
 * set_field.c — one field from text, for the gateway's path and query parameters.
 *
 * `GET /api/v1/vendors/nearby?lat=..&lng=..&radius=..&limit=..` and
 * `PATCH /api/v1/vendors/{id}` put values in the URL, where everything is text. The
 * gateway maps each parameter onto the request message by name (either spelling), and
 * this file converts the text with the same strictness as the body decoder: "12abc",
 * " 12", "+12" and "1.5" are not integers, only "true" and "false" are bools.
 *
 * The new value is converted completely (including any allocation) before anything in
 * the message changes, so a failure leaves msg as it was. Replacing a value frees the
 * old string or byte array with the caller's allocator, which is how vt_json_decode
 * allocated it.
 */
#include "json_internal.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define NAME_SHOWN 64

typedef union {
    int32_t i32;
    uint32_t u32;
    int64_t i64;
    uint64_t u64;
    float f;
    double d;
    protobuf_c_boolean b;
    int e;
    char *s;
    ProtobufCBinaryData bytes;
} value_t;

static int set_err(char *err, size_t errlen, const char *jname, const char *what)
{
    return jx_errf(err, errlen, VT_INVALID_ARGUMENT, "field \"%s\" %s", jname, what);
}

static int range_err(char *err, size_t errlen, const char *jname, const ProtobufCFieldDescriptor *f)
{
    return jx_errf(err, errlen, VT_INVALID_ARGUMENT, "field \"%s\" is out of range for %s", jname,
                   jx_type_name(f->type));
}

/* Text to an integer within [lo, hi] (signed) or [0, uhi] (unsigned). */
static int parse_int(const ProtobufCFieldDescriptor *f, const char *text, bool is_signed,
                     int64_t lo, int64_t hi, uint64_t uhi, value_t *v, const char *jname, char *err,
                     size_t errlen)
{
    jx_parse_result r;
    if (is_signed) {
        r = jx_parse_int64(text, &v->i64);
        if (r == JX_PARSE_OK && (v->i64 < lo || v->i64 > hi))
            r = JX_PARSE_RANGE;
    } else {
        r = jx_parse_uint64(text, &v->u64);
        if (r == JX_PARSE_OK && v->u64 > uhi)
            r = JX_PARSE_RANGE;
    }
    if (r == JX_PARSE_SYNTAX)
        return set_err(err, errlen, jname, "must be an integer");
    if (r == JX_PARSE_RANGE)
        return range_err(err, errlen, jname, f);
    return 0;
}

/* Convert text into v by f's type. Strings and bytes are allocated with alloc. */
static int convert(const ProtobufCFieldDescriptor *f, const char *text, ProtobufCAllocator *alloc,
                   value_t *v, const char *jname, char *err, size_t errlen)
{
    int rc;

    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        rc = parse_int(f, text, true, INT32_MIN, INT32_MAX, 0, v, jname, err, errlen);
        if (!rc)
            v->i32 = (int32_t)v->i64;
        return rc;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        rc = parse_int(f, text, false, 0, 0, UINT32_MAX, v, jname, err, errlen);
        if (!rc)
            v->u32 = (uint32_t)v->u64;
        return rc;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return parse_int(f, text, true, INT64_MIN, INT64_MAX, 0, v, jname, err, errlen);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return parse_int(f, text, false, 0, 0, UINT64_MAX, v, jname, err, errlen);
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE: {
        double d;
        jx_parse_result r = jx_parse_double(text, &d);
        if (r == JX_PARSE_SYNTAX)
            return set_err(err, errlen, jname, "must be a number");
        if (r == JX_PARSE_RANGE ||
            (f->type == PROTOBUF_C_TYPE_FLOAT && isfinite(d) && fabs(d) > FLT_MAX))
            return range_err(err, errlen, jname, f);
        if (f->type == PROTOBUF_C_TYPE_FLOAT)
            v->f = (float)d;
        else
            v->d = d;
        return 0;
    }
    case PROTOBUF_C_TYPE_BOOL:
        if (strcmp(text, "true") == 0)
            v->b = 1;
        else if (strcmp(text, "false") == 0)
            v->b = 0;
        else
            return set_err(err, errlen, jname, "must be true or false");
        return 0;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumValue *ev =
            protobuf_c_enum_descriptor_get_value_by_name(f->descriptor, text);
        int64_t n;
        if (ev) {
            v->e = ev->value;
        } else if (jx_parse_int64(text, &n) == JX_PARSE_OK && n >= INT32_MIN && n <= INT32_MAX) {
            v->e = (int)n;
        } else {
            char shown[NAME_SHOWN + 1];
            jx_sanitize(text, NAME_SHOWN, true, shown);
            return jx_errf(err, errlen, VT_INVALID_ARGUMENT,
                           "field \"%s\" has no enum value \"%s\"", jname, shown);
        }
        return 0;
    }
    case PROTOBUF_C_TYPE_STRING:
        if (!text[0] && jx_may_share_empty_string(f)) {
            v->s = (char *)f->default_value;
            return 0;
        }
        v->s = jx_strndup(alloc, text, strlen(text));
        return v->s ? 0
                    : jx_errf(err, errlen, VT_RESOURCE_EXHAUSTED, "out of memory setting a field");
    case PROTOBUF_C_TYPE_BYTES:
        rc = jx_base64_decode(alloc, text, strlen(text), &v->bytes.data, &v->bytes.len);
        if (rc == VT_RESOURCE_EXHAUSTED)
            return jx_errf(err, errlen, rc, "out of memory setting a field");
        if (rc)
            return set_err(err, errlen, jname, "is not valid base64");
        return 0;
    case PROTOBUF_C_TYPE_MESSAGE:
        break;
    }
    return set_err(err, errlen, jname, "cannot be set from a parameter");
}

/* Free what the field owns now, before a new value replaces it. */
static void release_old(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
                        ProtobufCAllocator *alloc)
{
    void *slot = JX_MEMBER(char, msg, f->offset);

    if (jx_is_oneof(f) && *JX_MEMBER(uint32_t, msg, f->quantifier_offset) != f->id)
        return; /* the union holds nothing of ours */
    if (f->type == PROTOBUF_C_TYPE_STRING) {
        char *old = *(char **)slot;
        if (old && old != (const char *)f->default_value)
            jx_free(alloc, old);
    } else if (f->type == PROTOBUF_C_TYPE_BYTES) {
        ProtobufCBinaryData *old = slot;
        const ProtobufCBinaryData *def = f->default_value;
        if (old->data && (!def || def->data != old->data))
            jx_free(alloc, old->data);
    }
}

int vt_json_set_field(ProtobufCMessage *msg, const char *name, const char *value,
                      ProtobufCAllocator *alloc, char *err, size_t errlen)
{
    const ProtobufCMessageDescriptor *d;
    const ProtobufCFieldDescriptor *f;
    char jname[128];
    value_t v;

    if (err && errlen)
        err[0] = '\0';
    if (!msg || !name || !value)
        return jx_errf(err, errlen, VT_INVALID_ARGUMENT, "no message, name or value");
    d = msg->descriptor;
    f = vt_json_field_find(d, name);
    if (!f) {
        char shown[NAME_SHOWN + 1];
        jx_sanitize(name, NAME_SHOWN, true, shown);
        return jx_errf(err, errlen, VT_INVALID_ARGUMENT, "unknown field \"%s\"", shown);
    }
    vt_json_field_name(f, jname, sizeof jname);
    if (f->label == PROTOBUF_C_LABEL_REPEATED || f->type == PROTOBUF_C_TYPE_MESSAGE)
        return set_err(err, errlen, jname, "cannot be set from a parameter");
    if (jx_is_oneof(f)) {
        uint32_t cur = *JX_MEMBER(uint32_t, msg, f->quantifier_offset);
        if (cur && cur != f->id) {
            const ProtobufCFieldDescriptor *other = jx_oneof_member(d, cur);
            char oname[128] = "?";
            if (other)
                vt_json_field_name(other, oname, sizeof oname);
            return jx_errf(err, errlen, VT_INVALID_ARGUMENT,
                           "field \"%s\" conflicts with \"%s\": both are in one oneof", jname,
                           oname);
        }
    }

    memset(&v, 0, sizeof v);
    int rc = convert(f, value, alloc, &v, jname, err, errlen);
    if (rc)
        return rc;
    release_old(msg, f, alloc);
    memcpy(JX_MEMBER(char, msg, f->offset), &v, jx_value_size(f->type));
    if (jx_is_oneof(f))
        *JX_MEMBER(uint32_t, msg, f->quantifier_offset) = f->id;
    else if (jx_has_flag(f))
        *JX_MEMBER(protobuf_c_boolean, msg, f->quantifier_offset) = 1;
    return 0;
}
