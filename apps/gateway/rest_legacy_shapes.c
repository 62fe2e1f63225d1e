/*
 * rest_legacy_shapes.c — the original backend's field names on our messages.
 *
 * Its vendor was {lat, long, open, primaryImage} where ours is {location{lat,lng},
 * isOpen, profileImage}; its create and update took `imageUrl`. Both spellings of the
 * image are accepted in; the original's go out. Bodies are read with jansson because
 * they are the original's shapes, not our protos (so the generic transcoder, which
 * refuses unknown fields, is not the tool).
 */
#include "rest_legacy_shapes.h"

#include "vt_json.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *jstr_or_empty(const char *s)
{
    return json_string(s ? s : "");
}

int rest_legacy_vendor_json(const Venta__Vendor__V1__Vendor *v, char **out, size_t *len)
{
    const Venta__Common__V1__Location *loc = v->location;
    json_t *o = json_pack("{s:{s:o,s:f,s:f,s:o,s:o,s:o,s:o,s:o,s:b,s:o,s:o,s:o}}", "vendor", "id",
                          jstr_or_empty(v->id), "lat", loc ? loc->lat : 0.0, "long",
                          loc ? loc->lng : 0.0, "name", jstr_or_empty(v->name), "description",
                          jstr_or_empty(v->description), "phone", jstr_or_empty(v->phone), "email",
                          jstr_or_empty(v->email), "website", jstr_or_empty(v->website), "open",
                          v->is_open, "primaryImage", jstr_or_empty(v->profile_image), "createdAt",
                          jstr_or_empty(v->created_at), "updatedAt", jstr_or_empty(v->updated_at));
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text)
        return VT_RESOURCE_EXHAUSTED;
    *out = text;
    *len = strlen(text);
    return VT_OK;
}

/* The body as an object; NULL with err otherwise. */
static json_t *body_object(const char *body, size_t len, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = len ? json_loadb(body, len, 0, &jerr) : NULL;
    if (!json_is_object(root)) {
        snprintf(err, errlen, "%s",
                 !len   ? "a JSON object body is required"
                 : root ? "the body must be a JSON object"
                        : "the body is not valid JSON");
        json_decref(root);
        return NULL;
    }
    return root;
}

/* The string fields both bodies share, and where each goes. */
typedef enum { F_NAME, F_DESCRIPTION, F_EMAIL, F_PHONE, F_WEBSITE, F_IMAGE, F_COUNT } field;
static const char *const field_keys[F_COUNT] = {"name",  "description", "email",
                                                "phone", "website",     "imageUrl"};

typedef struct {
    bool present[F_COUNT];
    const char *value[F_COUNT]; /* NULL for an explicit null */
    bool open_present, open;
} legacy_fields;

/* Read and type-check every known key of root. */
static int read_fields(json_t *root, legacy_fields *f, char *err, size_t errlen)
{
    *f = (legacy_fields){0};
    for (int i = 0; i < F_COUNT; i++) {
        const char *key = field_keys[i];
        json_t *v = json_object_get(root, key);
        if (!v && i == F_IMAGE)
            v = json_object_get(root, key = "primaryImage");
        if (!v)
            continue;
        if (!json_is_string(v) && !json_is_null(v)) {
            snprintf(err, errlen, "%s must be a string or null", key);
            return VT_INVALID_ARGUMENT;
        }
        f->present[i] = true;
        f->value[i] = json_string_value(v);
    }
    json_t *open = json_object_get(root, "open");
    if (open) {
        if (!json_is_boolean(open)) {
            snprintf(err, errlen, "open must be a boolean");
            return VT_INVALID_ARGUMENT;
        }
        f->open_present = true;
        f->open = json_is_true(open);
    }
    if (f->present[F_NAME] && (!f->value[F_NAME] || !f->value[F_NAME][0])) {
        snprintf(err, errlen, "name must be a non-empty string");
        return VT_INVALID_ARGUMENT;
    }
    return VT_OK;
}

/* The body's object and its fields (which point into it: copy them before the object
 * goes). NULL when the body is no object; *rc says whether the fields are good. */
static json_t *parse_fields(const char *body, size_t len, legacy_fields *f, int *rc, char *err,
                            size_t errlen)
{
    json_t *root = body_object(body, len, err, errlen);
    *rc = root ? read_fields(root, f, err, errlen) : VT_INVALID_ARGUMENT;
    return root;
}

/* A malloc'd copy for a protobuf-c string field ("" for null), NULL when out of memory. */
static char *copy(const char *s)
{
    return strdup(s ? s : "");
}

/* The end of both: the message out, or freed with err saying why. */
static int finish(int rc, ProtobufCMessage *m, void **out, char *err, size_t errlen)
{
    if (rc == VT_OK) {
        *out = m;
        return VT_OK;
    }
    if (m)
        protobuf_c_message_free_unpacked(m, NULL);
    if (rc == VT_RESOURCE_EXHAUSTED)
        snprintf(err, errlen, "out of memory");
    return rc;
}

int rest_legacy_create_request(const char *body, size_t len,
                               Venta__Vendor__V1__CreateVendorRequest **out, char *err,
                               size_t errlen)
{
    legacy_fields f;
    int rc;
    json_t *root = parse_fields(body, len, &f, &rc, err, errlen);
    if (!root)
        return rc;
    if (rc == VT_OK && !f.present[F_NAME]) {
        snprintf(err, errlen, "name is required");
        rc = VT_INVALID_ARGUMENT;
    }
    Venta__Vendor__V1__CreateVendorRequest *m = NULL;
    if (rc == VT_OK && !(m = malloc(sizeof *m)))
        rc = VT_RESOURCE_EXHAUSTED;
    if (rc == VT_OK) {
        venta__vendor__v1__create_vendor_request__init(m);
        char **dst[F_COUNT] = {&m->name,  &m->description, &m->email,
                               &m->phone, &m->website,     &m->profile_image};
        for (int i = 0; i < F_COUNT && rc == VT_OK; i++)
            if (f.present[i] && !(*dst[i] = copy(f.value[i])))
                rc = VT_RESOURCE_EXHAUSTED;
        m->is_open = f.open;
    }
    json_decref(root);
    return finish(rc, m ? &m->base : NULL, (void **)out, err, errlen);
}

int rest_legacy_update_request(const char *body, size_t len,
                               Venta__Vendor__V1__UpdateVendorRequest **out, char *err,
                               size_t errlen)
{
    legacy_fields f;
    int rc;
    json_t *root = parse_fields(body, len, &f, &rc, err, errlen);
    if (!root)
        return rc;
    Venta__Vendor__V1__UpdateVendorRequest *m = NULL;
    if (rc == VT_OK && !(m = malloc(sizeof *m)))
        rc = VT_RESOURCE_EXHAUSTED;
    if (rc == VT_OK) {
        venta__vendor__v1__update_vendor_request__init(m);
/* A key that was sent sets its one-field oneof (see UpdateVendorRequest). */
#define SET(i, fld, CASE)                                                                          \
    if (f.present[i] && rc == VT_OK) {                                                             \
        m->opt_##fld##_case = VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_##CASE;                \
        if (!(m->fld = copy(f.value[i])))                                                          \
            rc = VT_RESOURCE_EXHAUSTED;                                                            \
    }
        SET(F_NAME, name, NAME_NAME)
        SET(F_DESCRIPTION, description, DESCRIPTION_DESCRIPTION)
        SET(F_EMAIL, email, EMAIL_EMAIL)
        SET(F_PHONE, phone, PHONE_PHONE)
        SET(F_WEBSITE, website, WEBSITE_WEBSITE)
        SET(F_IMAGE, profile_image, PROFILE_IMAGE_PROFILE_IMAGE)
#undef SET
        if (f.open_present) {
            m->opt_is_open_case = VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_IS_OPEN_IS_OPEN;
            m->is_open = f.open;
        }
    }
    json_decref(root); /* after the copies: f points into it */
    return finish(rc, m ? &m->base : NULL, (void **)out, err, errlen);
}

void rest_legacy_vendor_names(const Venta__User__V1__ListUserVendorsResponse *r, vt_buf *acc)
{
    for (size_t i = 0; i < r->n_vendors; i++) {
        const Venta__Vendor__V1__Vendor *v = r->vendors[i];
        const char *id = v->id ? v->id : "", *name = v->name ? v->name : "";
        if (acc->len)
            vt_buf_putc(acc, ',');
        vt_buf_puts(acc, "{\"id\":");
        vt_json_buf_put_string(acc, id, strlen(id));
        vt_buf_puts(acc, ",\"name\":");
        vt_json_buf_put_string(acc, name, strlen(name));
        vt_buf_putc(acc, '}');
    }
}

bool rest_legacy_health_json(long long rss_bytes, long long limit_bytes, char *out, size_t n)
{
    bool up = rss_bytes < limit_bytes;
    const char *check = up ? "\"memory_rss\":{\"status\":\"up\"}"
                           : "\"memory_rss\":{\"status\":\"down\",\"message\":\"Used rss exceeded "
                             "the set threshold\"}";
    snprintf(out, n, "{\"status\":\"%s\",\"info\":{%s},\"error\":{%s},\"details\":{%s}}",
             up ? "ok" : "error", up ? check : "", up ? "" : check, check);
    return up;
}
