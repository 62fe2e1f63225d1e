/*
 * names.c — JSON field names from proto field names.
 *
 * protobuf-c 1.4 descriptors carry the proto name ("owner_id") but not protoc's
 * json_name, so we derive it with protoc's rule (ToJsonName): drop every '_' and
 * upper-case the letter that follows it; nothing else changes (the first letter keeps
 * its case). owner_id -> ownerId, profile_image -> profileImage, a__b -> aB.
 *
 * The name is never stored: comparing a key against it walks both strings at once, and
 * the encoder writes it straight into the output. Lookup tries the proto spelling first
 * (binary search over fields_sorted_by_name), then the JSON spelling (a linear scan:
 * our messages have at most a few dozen fields, and the scan touches only the names).
 */
#include "json_internal.h"

#include <ctype.h>

/* Does key equal the JSON name of the proto name `proto`? */
static bool json_name_equals(const char *proto, const char *key)
{
    bool upper_next = false;

    for (; *proto; proto++) {
        if (*proto == '_') {
            upper_next = true;
            continue;
        }
        char want = upper_next ? (char)toupper((unsigned char)*proto) : *proto;
        upper_next = false;
        if (*key++ != want)
            return false;
    }
    return *key == '\0';
}

const ProtobufCFieldDescriptor *vt_json_field_find(const ProtobufCMessageDescriptor *desc,
                                                   const char *name)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(desc, name);
    if (f)
        return f;
    for (unsigned i = 0; i < desc->n_fields; i++)
        if (json_name_equals(desc->fields[i].name, name))
            return &desc->fields[i];
    return NULL;
}

size_t vt_json_field_name(const ProtobufCFieldDescriptor *field, char *out, size_t cap)
{
    bool upper_next = false;
    size_t n = 0;

    for (const char *p = field->name; *p; p++) {
        if (*p == '_') {
            upper_next = true;
            continue;
        }
        char c = upper_next ? (char)toupper((unsigned char)*p) : *p;
        upper_next = false;
        if (cap && n + 1 < cap)
            out[n] = c;
        n++;
    }
    if (cap)
        out[n < cap ? n : cap - 1] = '\0';
    return n;
}
