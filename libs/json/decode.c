/*
 * decode.c — JSON text to protobuf-c message, by walking the descriptor.
 *
 * jansson parses (rejecting duplicate keys and trailing garbage); before it runs, the
 * input is bounded to VT_JSON_MAX_INPUT bytes and a one-pass scan bounds the nesting
 * to VT_JSON_MAX_DEPTH, so neither jansson's recursion nor ours can be driven deep by
 * a client. Then each object key is looked up in the descriptor (either spelling) and
 * its value converted by the field's type, strictly: a value of the wrong JSON type,
 * out of the type's range, or a non-integral number for an integer is an error naming
 * the field by its JSON path ("location.lat", "users[1].subscription.status").
 *
 * Ownership while building: every allocation is attached to the message the moment it
 * is made (a submessage is stored before it is filled, a repeated array is stored
 * zeroed with its full count before its elements are decoded, a oneof's case is set
 * before its value), so at any failure the half-built message is consistent and one
 * protobuf_c_message_free_unpacked() releases everything. Each field is decoded at most
 * once per object (a key given in both spellings is refused), so nothing is ever
 * overwritten and leaked.
 */
#include "json_internal.h"

#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_CAP 256
#define KEY_SHOWN 64 /* bytes of an unknown key quoted back in an error */

typedef struct {
    ProtobufCAllocator *alloc;
    char *err;
    size_t errlen;
    char path[PATH_CAP]; /* JSON path of the value being decoded */
    size_t pathlen;
} dctx;

/* ---- path and errors ---- */

/* Append text to the path; a path that no longer fits is cut (errors stay readable). */
static void path_append(dctx *c, const char *text)
{
    if (c->pathlen >= PATH_CAP - 1)
        return;
    int n = snprintf(c->path + c->pathlen, PATH_CAP - c->pathlen, "%s", text);
    if (n > 0)
        c->pathlen += (size_t)n < PATH_CAP - c->pathlen ? (size_t)n : PATH_CAP - 1 - c->pathlen;
}

static size_t path_push_name(dctx *c, const char *name)
{
    size_t saved = c->pathlen;
    if (saved)
        path_append(c, ".");
    path_append(c, name);
    return saved;
}

static size_t path_push_field(dctx *c, const ProtobufCFieldDescriptor *f)
{
    char name[128];
    vt_json_field_name(f, name, sizeof name);
    return path_push_name(c, name);
}

static size_t path_push_index(dctx *c, size_t i)
{
    size_t saved = c->pathlen;
    char text[32];
    snprintf(text, sizeof text, "[%zu]", i);
    path_append(c, text);
    return saved;
}

static void path_pop(dctx *c, size_t saved)
{
    c->pathlen = saved;
    c->path[saved] = '\0';
}

/* "field \"<path>\" <what>" */
static int bad(dctx *c, const char *what)
{
    return jx_errf(c->err, c->errlen, VT_INVALID_ARGUMENT, "field \"%s\" %s", c->path, what);
}

static int out_of_range(dctx *c, const ProtobufCFieldDescriptor *f)
{
    return jx_errf(c->err, c->errlen, VT_INVALID_ARGUMENT, "field \"%s\" is out of range for %s",
                   c->path, jx_type_name(f->type));
}

static int oom(dctx *c)
{
    return jx_errf(c->err, c->errlen, VT_RESOURCE_EXHAUSTED, "out of memory decoding JSON");
}

/* ---- numbers ---- */

static int get_signed(dctx *c, const ProtobufCFieldDescriptor *f, json_t *v, int64_t lo, int64_t hi,
                      int64_t *out)
{
    int64_t x;

    if (json_is_integer(v)) {
        x = json_integer_value(v);
    } else if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d != trunc(d))
            return bad(c, "must be an integer");
        if (d < -0x1p63 || d >= 0x1p63)
            return out_of_range(c, f);
        x = (int64_t)d;
    } else if (json_is_string(v)) {
        switch (jx_parse_int64(json_string_value(v), &x)) {
        case JX_PARSE_OK:
            break;
        case JX_PARSE_RANGE:
            return out_of_range(c, f);
        default:
            return bad(c, "must be an integer");
        }
    } else {
        return bad(c, "must be an integer");
    }
    if (x < lo || x > hi)
        return out_of_range(c, f);
    *out = x;
    return 0;
}

static int get_unsigned(dctx *c, const ProtobufCFieldDescriptor *f, json_t *v, uint64_t hi,
                        uint64_t *out)
{
    uint64_t x;

    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0)
            return out_of_range(c, f);
        x = (uint64_t)i;
    } else if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d != trunc(d))
            return bad(c, "must be an integer");
        if (d < 0 || d >= 0x1p64)
            return out_of_range(c, f);
        x = (uint64_t)d;
    } else if (json_is_string(v)) {
        switch (jx_parse_uint64(json_string_value(v), &x)) {
        case JX_PARSE_OK:
            break;
        case JX_PARSE_RANGE:
            return out_of_range(c, f);
        default:
            return bad(c, "must be an integer");
        }
    } else {
        return bad(c, "must be an integer");
    }
    if (x > hi)
        return out_of_range(c, f);
    *out = x;
    return 0;
}

static int get_double(dctx *c, const ProtobufCFieldDescriptor *f, json_t *v, double *out)
{
    double d;

    if (json_is_number(v)) {
        d = json_number_value(v);
    } else if (json_is_string(v)) {
        switch (jx_parse_double(json_string_value(v), &d)) {
        case JX_PARSE_OK:
            break;
        case JX_PARSE_RANGE:
            return out_of_range(c, f);
        default:
            return bad(c, "must be a number");
        }
    } else {
        return bad(c, "must be a number");
    }
    if (f->type == PROTOBUF_C_TYPE_FLOAT && isfinite(d) && fabs(d) > FLT_MAX)
        return out_of_range(c, f);
    *out = d;
    return 0;
}

/* ---- values ---- */

static int decode_object(dctx *c, const ProtobufCMessageDescriptor *d, json_t *obj,
                         ProtobufCMessage *m);

/* One value of field f into slot (the field itself, or one element of its array). An
 * array element that is "" still gets its own allocation: free_unpacked frees every
 * element of a repeated string field, whereas a singular field may point at the
 * shared default. */
static int decode_value(dctx *c, const ProtobufCFieldDescriptor *f, json_t *v, void *slot,
                        bool in_array)
{
    int rc = 0;

    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32: {
        int64_t x = 0;
        rc = get_signed(c, f, v, INT32_MIN, INT32_MAX, &x);
        if (!rc)
            *(int32_t *)slot = (int32_t)x;
        break;
    }
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: {
        uint64_t x = 0;
        rc = get_unsigned(c, f, v, UINT32_MAX, &x);
        if (!rc)
            *(uint32_t *)slot = (uint32_t)x;
        break;
    }
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: {
        int64_t x = 0;
        rc = get_signed(c, f, v, INT64_MIN, INT64_MAX, &x);
        if (!rc)
            *(int64_t *)slot = x;
        break;
    }
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: {
        uint64_t x = 0;
        rc = get_unsigned(c, f, v, UINT64_MAX, &x);
        if (!rc)
            *(uint64_t *)slot = x;
        break;
    }
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE: {
        double x = 0;
        rc = get_double(c, f, v, &x);
        if (!rc && f->type == PROTOBUF_C_TYPE_FLOAT)
            *(float *)slot = (float)x;
        else if (!rc)
            *(double *)slot = x;
        break;
    }
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(v))
            return bad(c, "must be a boolean");
        *(protobuf_c_boolean *)slot = json_is_true(v);
        break;
    case PROTOBUF_C_TYPE_ENUM:
        if (json_is_string(v)) {
            const ProtobufCEnumValue *ev =
                protobuf_c_enum_descriptor_get_value_by_name(f->descriptor, json_string_value(v));
            if (!ev) {
                char shown[KEY_SHOWN + 1];
                jx_sanitize(json_string_value(v), KEY_SHOWN, true, shown);
                return jx_errf(c->err, c->errlen, VT_INVALID_ARGUMENT,
                               "field \"%s\" has no enum value \"%s\"", c->path, shown);
            }
            *(int *)slot = ev->value;
        } else if (json_is_number(v)) {
            /* proto3 enums are open: any int32 number is kept, as the wire format does. */
            int64_t x = 0;
            rc = get_signed(c, f, v, INT32_MIN, INT32_MAX, &x);
            if (!rc)
                *(int *)slot = (int)x;
        } else {
            return bad(c, "must be an enum name or number");
        }
        break;
    case PROTOBUF_C_TYPE_STRING: {
        if (!json_is_string(v))
            return bad(c, "must be a string");
        size_t n = json_string_length(v);
        if (n == 0 && !in_array && jx_may_share_empty_string(f)) {
            *(char **)slot = (char *)f->default_value;
            break;
        }
        char *s = jx_strndup(c->alloc, json_string_value(v), n);
        if (!s)
            return oom(c);
        *(char **)slot = s;
        break;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        if (!json_is_string(v))
            return bad(c, "must be a base64 string");
        ProtobufCBinaryData *bd = slot;
        uint8_t *data;
        size_t n;
        rc = jx_base64_decode(c->alloc, json_string_value(v), json_string_length(v), &data, &n);
        if (rc == VT_RESOURCE_EXHAUSTED)
            return oom(c);
        if (rc)
            return bad(c, "is not valid base64");
        bd->data = data;
        bd->len = n;
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        if (!json_is_object(v))
            return bad(c, "must be an object");
        ProtobufCMessage *sub = jx_message_new(c->alloc, f->descriptor);
        if (!sub)
            return oom(c);
        *(ProtobufCMessage **)slot = sub;
        rc = decode_object(c, f->descriptor, v, sub);
        break;
    }
    }
    return rc;
}

static int decode_repeated(dctx *c, const ProtobufCFieldDescriptor *f, json_t *v,
                           ProtobufCMessage *m)
{
    if (json_is_null(v))
        return 0;
    if (!json_is_array(v))
        return bad(c, "must be an array");
    size_t n = json_array_size(v);
    if (n == 0)
        return 0;
    size_t step = jx_value_size(f->type);
    char *arr = jx_alloc(c->alloc, n * step); /* n <= VT_JSON_MAX_INPUT / 2: no overflow */
    if (!arr)
        return oom(c);
    memset(arr, 0, n * step);
    *JX_MEMBER(char *, m, f->offset) = arr;
    *JX_MEMBER(size_t, m, f->quantifier_offset) = n;
    for (size_t i = 0; i < n; i++) {
        size_t saved = path_push_index(c, i);
        int rc = decode_value(c, f, json_array_get(v, i), arr + i * step, true);
        path_pop(c, saved);
        if (rc)
            return rc;
    }
    return 0;
}

static int decode_field(dctx *c, const ProtobufCMessageDescriptor *d, ProtobufCMessage *m,
                        const ProtobufCFieldDescriptor *f, json_t *v)
{
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return decode_repeated(c, f, v, m);
    if (json_is_null(v))
        return 0; /* null = unset: the field keeps its default, a oneof stays unset */
    if (jx_is_oneof(f)) {
        uint32_t *casep = JX_MEMBER(uint32_t, m, f->quantifier_offset);
        if (*casep && *casep != f->id) {
            const ProtobufCFieldDescriptor *other = jx_oneof_member(d, *casep);
            char oname[128] = "?";
            if (other)
                vt_json_field_name(other, oname, sizeof oname);
            return jx_errf(c->err, c->errlen, VT_INVALID_ARGUMENT,
                           "field \"%s\" conflicts with \"%s\": both are in one oneof", c->path,
                           oname);
        }
        *casep = f->id;
    }
    int rc = decode_value(c, f, v, JX_MEMBER(char, m, f->offset), false);
    if (!rc && jx_has_flag(f))
        *JX_MEMBER(protobuf_c_boolean, m, f->quantifier_offset) = 1;
    return rc;
}

static int decode_object(dctx *c, const ProtobufCMessageDescriptor *d, json_t *obj,
                         ProtobufCMessage *m)
{
    /* Which fields this object already set: a bitmap on the stack for up to 256 fields,
     * which covers every message we have, else on the heap. */
    uint64_t seen_small[4] = {0};
    uint64_t *seen = seen_small;
    const char *key;
    json_t *v;
    int rc = 0;

    if (d->n_fields > 256) {
        seen = calloc((d->n_fields + 63) / 64, sizeof *seen);
        if (!seen)
            return oom(c);
    }
    json_object_foreach(obj, key, v)
    {
        const ProtobufCFieldDescriptor *f = vt_json_field_find(d, key);
        if (!f) {
            char shown[KEY_SHOWN + 1];
            jx_sanitize(key, KEY_SHOWN, true, shown);
            size_t saved = path_push_name(c, shown);
            rc = jx_errf(c->err, c->errlen, VT_INVALID_ARGUMENT, "unknown field \"%s\"", c->path);
            path_pop(c, saved);
            break;
        }
        size_t idx = (size_t)(f - d->fields);
        size_t saved = path_push_field(c, f);
        if (seen[idx / 64] & (UINT64_C(1) << (idx % 64))) {
            rc = bad(c, "is given more than once");
        } else {
            seen[idx / 64] |= UINT64_C(1) << (idx % 64);
            rc = decode_field(c, d, m, f, v);
        }
        path_pop(c, saved);
        if (rc)
            break;
    }
    if (seen != seen_small)
        free(seen);
    return rc;
}

/* ---- entry ---- */

/* True when json nests objects/arrays deeper than max. Strings are skipped (with their
 * escapes) so brackets inside them do not count; malformed input is left to jansson. */
static bool nests_deeper_than(const char *s, size_t n, int max)
{
    int depth = 0;
    bool in_string = false;

    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (in_string) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_string = false;
        } else if (ch == '"') {
            in_string = true;
        } else if (ch == '{' || ch == '[') {
            if (++depth > max)
                return true;
        } else if (ch == '}' || ch == ']') {
            depth--;
        }
    }
    return false;
}

int vt_json_decode(const ProtobufCMessageDescriptor *desc, const char *json, size_t len,
                   ProtobufCAllocator *alloc, ProtobufCMessage **out, char *err, size_t errlen)
{
    dctx c = {.alloc = alloc, .err = err, .errlen = errlen};
    json_error_t je;

    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (!desc || (!json && len))
        return jx_errf(err, errlen, VT_INVALID_ARGUMENT, "no descriptor or no input");
    if (len > VT_JSON_MAX_INPUT)
        return jx_errf(err, errlen, VT_INVALID_ARGUMENT, "JSON body is larger than %d bytes",
                       VT_JSON_MAX_INPUT);
    if (nests_deeper_than(json, len, VT_JSON_MAX_DEPTH))
        return jx_errf(err, errlen, VT_INVALID_ARGUMENT, "JSON nests deeper than %d levels",
                       VT_JSON_MAX_DEPTH);

    json_t *root = json_loadb(json ? json : "", len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!root) {
        char shown[sizeof je.text];
        jx_sanitize(je.text, sizeof shown - 1, false, shown);
        return jx_errf(err, errlen, VT_INVALID_ARGUMENT, "malformed JSON at line %d column %d: %s",
                       je.line, je.column, shown);
    }
    int rc;
    ProtobufCMessage *m = NULL;
    if (!json_is_object(root)) {
        rc = jx_errf(err, errlen, VT_INVALID_ARGUMENT, "JSON body must be an object");
    } else if (!(m = jx_message_new(alloc, desc))) {
        rc = oom(&c);
    } else {
        rc = decode_object(&c, desc, root, m);
    }
    json_decref(root);
    if (rc) {
        if (m)
            protobuf_c_message_free_unpacked(m, alloc);
        return rc;
    }
    *out = m;
    return 0;
}
