/*
 * ws_messages.c — the JSON of API.md §4 in both directions.
 *
 * In: a client text message is parsed with jansson and checked field by field, so
 * that every problem becomes one precise INVALID_ARGUMENT message for the client
 * ("lat must be a number"), never a crash or a silent default. Out: server messages
 * are printed once into a refcounted msgbuf; fan-out shares the same bytes with every
 * recipient. Every string that goes out unescaped is a UUID, a JSON text jansson
 * produced (ref) or one of our literals; client-supplied text is escaped.
 */
#include "ws_messages.h"

#include "vt_events.h"
#include "vt_json.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

msgbuf *msg_new(size_t cap)
{
    msgbuf *m = malloc(sizeof *m + cap);
    if (!m)
        return NULL;
    m->refs = 1;
    m->len = 0;
    m->t_in_ns = 0;
    m->coalesce = NULL;
    return m;
}

void msg_unref(msgbuf *m)
{
    if (m && --m->refs == 0)
        free(m);
}

static msgbuf *msg_printf(size_t cap, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static msgbuf *msg_printf(size_t cap, const char *fmt, ...)
{
    msgbuf *m = msg_new(cap);
    if (!m)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(m->data, cap, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap) {
        free(m);
        return NULL;
    }
    m->len = (uint32_t)n;
    return m;
}

/* ------------------------------------------------------------------------- parsing */

static const struct {
    const char *name;
    client_op op;
} ops[] = {
    {"auth", OP_AUTH},
    {"location", OP_LOCATION},
    {"watch.bounds", OP_WATCH_BOUNDS},
    {"watch.vendor", OP_WATCH_VENDOR},
    {"unwatch.vendor", OP_UNWATCH_VENDOR},
    {"ping", OP_PING},
};

static int bad(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return VT_INVALID_ARGUMENT;
}

static int get_number(json_t *obj, const char *name, bool required, double *out, char *err,
                      size_t errlen)
{
    json_t *v = json_object_get(obj, name);
    if (!v || json_is_null(v)) {
        if (required)
            return bad(err, errlen, "%s is required", name);
        *out = 0;
        return VT_OK;
    }
    if (!json_is_number(v))
        return bad(err, errlen, "%s must be a number", name);
    *out = json_number_value(v);
    if (!isfinite(*out))
        return bad(err, errlen, "%s must be finite", name);
    return VT_OK;
}

static int get_vendor_id(json_t *obj, char *out, char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, "vendorId");
    if (!v)
        return bad(err, errlen, "vendorId is required");
    if (!json_is_string(v) || !vt_uuid_valid(json_string_value(v)))
        return bad(err, errlen, "vendorId must be a UUID");
    const char *s = json_string_value(v);
    for (int i = 0; i < VT_UUID_LEN; i++) /* one spelling per vendor: lower case */
        out[i] = (char)(s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 'a' : s[i]);
    out[VT_UUID_LEN] = '\0';
    return VT_OK;
}

static int get_corner(json_t *obj, const char *name, vt_geo_point *p, char *err, size_t errlen)
{
    json_t *c = json_object_get(obj, name);
    if (!json_is_object(c))
        return bad(err, errlen, "%s must be an object {lat, lng}", name);
    char field[16];
    snprintf(field, sizeof field, "%s.lat", name);
    json_t *lat = json_object_get(c, "lat"), *lng = json_object_get(c, "lng");
    if (!json_is_number(lat) || !json_is_number(lng))
        return bad(err, errlen, "%s.lat and %s.lng must be numbers", name, name);
    p->lat = json_number_value(lat);
    p->lng = json_number_value(lng);
    if (!vt_geo_point_valid(p->lat, p->lng))
        return bad(err, errlen, "%s must have lat in [-90, 90] and lng in [-180, 180]", name);
    return VT_OK;
}

static int parse_location(json_t *doc, client_msg *m, char *err, size_t errlen)
{
    vt_events_position *out = &m->pos;
    int rc;
    if ((rc = get_vendor_id(doc, out->vendor_id, err, errlen)) ||
        (rc = get_number(doc, "lat", true, &out->lat, err, errlen)) ||
        (rc = get_number(doc, "lng", true, &out->lng, err, errlen)) ||
        (rc = get_number(doc, "heading", false, &out->heading, err, errlen)) ||
        (rc = get_number(doc, "speed", false, &out->speed, err, errlen)) ||
        (rc = get_number(doc, "accuracy", false, &out->accuracy, err, errlen)))
        return rc;
    json_t *ts = json_object_get(doc, "ts");
    if (!ts || json_is_null(ts)) {
        out->ts = vt_now_ms();
    } else if (json_is_integer(ts)) {
        out->ts = (int64_t)json_integer_value(ts);
    } else if (json_is_real(ts) && json_real_value(ts) == floor(json_real_value(ts)) &&
               fabs(json_real_value(ts)) < 9e15) {
        out->ts = (int64_t)json_real_value(ts);
    } else {
        return bad(err, errlen, "ts must be an integer (Unix epoch milliseconds)");
    }
    json_t *tp = json_object_get(doc, VT_TRACEPARENT_HEADER);
    m->traced = json_is_string(tp) &&
                vt_trace_parse(json_string_value(tp), json_string_length(tp), &m->remote);
    return vt_events_position_valid(out, err, errlen);
}

int msg_parse(const char *text, size_t len, client_msg *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return bad(err, errlen, "malformed JSON: %s at position %d", jerr.text, jerr.position);
    out->doc = doc;
    if (!json_is_object(doc))
        return bad(err, errlen, "a message must be a JSON object");
    json_t *ref = json_object_get(doc, "ref");
    if (ref && (json_is_string(ref) || json_is_number(ref))) {
        char *t = json_dumps(ref, JSON_ENCODE_ANY | JSON_COMPACT);
        if (t && strlen(t) < sizeof out->ref)
            memcpy(out->ref, t, strlen(t) + 1);
        free(t);
        if (!out->ref[0])
            return bad(err, errlen, "ref must be at most %zu characters", sizeof out->ref - 3);
    } else if (ref && !json_is_null(ref)) {
        return bad(err, errlen, "ref must be a string or a number");
    }
    json_t *op = json_object_get(doc, "op");
    if (!json_is_string(op))
        return bad(err, errlen, "op must be a string");
    const char *name = json_string_value(op);
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(name, ops[i].name) == 0)
            out->op = ops[i].op;
    switch (out->op) {
    case OP_UNKNOWN: {
        char esc[64];
        vt_json_escape(name, esc, sizeof esc);
        return bad(err, errlen, "unknown op \"%s\"", esc);
    }
    case OP_AUTH: {
        json_t *t = json_object_get(doc, "token");
        if (!json_is_string(t) || json_string_length(t) == 0)
            return bad(err, errlen, "token must be a non-empty string");
        out->token = json_string_value(t);
        out->token_len = json_string_length(t);
        return VT_OK;
    }
    case OP_LOCATION:
        return parse_location(doc, out, err, errlen);
    case OP_WATCH_BOUNDS: {
        int rc;
        if ((rc = get_corner(doc, "ne", &out->box.ne, err, errlen)) ||
            (rc = get_corner(doc, "sw", &out->box.sw, err, errlen)))
            return rc;
        if (out->box.ne.lat < out->box.sw.lat)
            return bad(err, errlen, "ne.lat must be >= sw.lat");
        return VT_OK;
    }
    case OP_WATCH_VENDOR:
    case OP_UNWATCH_VENDOR:
        return get_vendor_id(doc, out->vendor_id, err, errlen);
    case OP_PING:
        return VT_OK;
    }
    return VT_OK;
}

void msg_parse_done(client_msg *m)
{
    if (m->doc)
        json_decref(m->doc);
    m->doc = NULL;
    m->token = NULL;
}

/* ------------------------------------------------------------------------ encoding */

/* The shortest of %.15g and %.17g that reads back as the same double, so clients get
 * exactly the coordinates the vendor sent. */
void msg_format_double(double v, char *out, size_t outlen)
{
    snprintf(out, outlen, "%.15g", v);
    if (strtod(out, NULL) != v)
        snprintf(out, outlen, "%.17g", v);
}

msgbuf *msg_encode_position(const char *op, const vt_events_position *p)
{
    char la[32], lo[32], he[32], sp[32];
    msg_format_double(p->lat, la, sizeof la);
    msg_format_double(p->lng, lo, sizeof lo);
    msg_format_double(p->heading, he, sizeof he);
    msg_format_double(p->speed, sp, sizeof sp);
    return msg_printf(256,
                      "{\"op\":\"%s\",\"vendorId\":\"%s\",\"lat\":%s,\"lng\":%s,"
                      "\"heading\":%s,\"speed\":%s,\"ts\":%lld}",
                      op, p->vendor_id, la, lo, he, sp, (long long)p->ts);
}

msgbuf *msg_encode_leave(const char *vendor_id)
{
    return msg_printf(96, "{\"op\":\"leave\",\"vendorId\":\"%s\"}", vendor_id);
}

msgbuf *msg_encode_status(const char *vendor_id, bool online)
{
    return msg_printf(112, "{\"op\":\"status\",\"vendorId\":\"%s\",\"online\":%s}", vendor_id,
                      online ? "true" : "false");
}

msgbuf *msg_encode_ack(const char *ref)
{
    if (ref && *ref)
        return msg_printf(128, "{\"op\":\"ack\",\"ref\":%s}", ref);
    return msg_printf(32, "{\"op\":\"ack\"}");
}

msgbuf *msg_encode_error(const char *code, const char *message, const char *ref)
{
    char esc[600];
    vt_json_escape(message, esc, sizeof esc);
    if (ref && *ref)
        return msg_printf(800, "{\"op\":\"error\",\"code\":\"%s\",\"message\":\"%s\",\"ref\":%s}",
                          code, esc, ref);
    return msg_printf(800, "{\"op\":\"error\",\"code\":\"%s\",\"message\":\"%s\"}", code, esc);
}
