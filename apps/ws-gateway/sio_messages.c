/*
 * sio_messages.c — socket.io events of the original apps to and from venta.v1.json
 * messages (see sio_messages.h for why both directions go through /ws).
 *
 * Out: a /ws message is parsed once per protocol that has recipients (sio_client.c
 * caches the result for the fan-out's loop over viewers), so the cost of jansson here
 * is per message, not per socket.io viewer. The field names are the original's: `id`,
 * `location.lat`, `location.long`.
 */
#include "sio_messages.h"

#include "vt_core.h"
#include "vt_sio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sio_msg_ref(const char *nsp, int64_t ack_id, char *out, size_t outlen)
{
    if (ack_id >= 0)
        snprintf(out, outlen, "%s#%lld", nsp, (long long)ack_id);
    else
        snprintf(out, outlen, "%s#", nsp);
}

/* The namespace and ack id a ref carries; false when it is not one of ours. */
static bool parse_ref(const char *ref, char *nsp, size_t nsplen, int64_t *ack_id)
{
    const char *hash = ref ? strrchr(ref, '#') : NULL;
    if (!hash || ref[0] != '/' || (size_t)(hash - ref) >= nsplen)
        return false;
    memcpy(nsp, ref, (size_t)(hash - ref));
    nsp[hash - ref] = '\0';
    *ack_id = -1;
    if (hash[1]) {
        char *end;
        long long v = strtoll(hash + 1, &end, 10);
        if (*end || v < 0)
            return false;
        *ack_id = v;
    }
    return true;
}

/* A socket.io packet with data as its JSON payload, in a new msgbuf. */
static msgbuf *packet(vt_sio_type type, const char *nsp, int64_t ack_id, const char *data,
                      size_t len)
{
    size_t cap = len + VT_SIO_NSP_MAX + 32;
    msgbuf *m = msg_new(cap);
    if (!m)
        return NULL;
    int n = vt_sio_encode(true, type, nsp, ack_id, data, len, m->data, cap);
    if (n < 0) {
        msg_unref(m);
        return NULL;
    }
    m->len = (uint32_t)n;
    return m;
}

msgbuf *sio_msg_event(const char *nsp, const char *name, const char *data, size_t len)
{
    vt_buf b = VT_BUF_INIT;
    vt_buf_printf(&b, "[\"%s\",", name); /* our own event names: nothing to escape */
    vt_buf_put(&b, data, len);
    vt_buf_putc(&b, ']');
    msgbuf *m = b.oom ? NULL : packet(VT_SIO_EVENT, nsp, -1, b.data, b.len);
    vt_buf_free(&b);
    return m;
}

char *sio_msg_error_json(const char *code, const char *message)
{
    json_t *o =
        json_pack("{s:s,s:s}", "code", code ? code : "INTERNAL", "message", message ? message : "");
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return text;
}

/* {"id":…,"location":{"lat":…,"long":…}} of one vendor. */
static void put_vendor(vt_buf *b, const char *id, double lat, double lng)
{
    char la[32], lo[32];
    msg_format_double(lat, la, sizeof la);
    msg_format_double(lng, lo, sizeof lo);
    vt_buf_printf(b, "{\"id\":\"%s\",\"location\":{\"lat\":%s,\"long\":%s}}", id, la, lo);
}

static const char *str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* location / enter → vendor_sync. */
static msgbuf *vendor_sync(const json_t *o, const char *nsp)
{
    const char *id = str(o, "vendorId");
    if (!id)
        return NULL;
    vt_buf b = VT_BUF_INIT;
    put_vendor(&b, id, json_number_value(json_object_get(o, "lat")),
               json_number_value(json_object_get(o, "lng")));
    msgbuf *m = b.oom ? NULL : sio_msg_event(nsp, "vendor_sync", b.data, b.len);
    vt_buf_free(&b);
    return m;
}

static msgbuf *vendor_disconnect(const json_t *o, const char *nsp)
{
    const char *id = str(o, "vendorId");
    char data[VT_UUID_LEN + 16];
    if (!id || strlen(id) > VT_UUID_LEN)
        return NULL;
    int n = snprintf(data, sizeof data, "{\"id\":\"%s\"}", id);
    return sio_msg_event(nsp, "vendor_disconnect", data, (size_t)n);
}

/* snapshot → vendor_channels: the vendors online in the box (the original listed the
 * live positions it held, so an offline vendor is not on the map). */
static msgbuf *vendor_channels(const json_t *o, const char *nsp)
{
    vt_buf b = VT_BUF_INIT;
    vt_buf_putc(&b, '[');
    size_t i, n = 0;
    json_t *v;
    json_array_foreach(json_object_get(o, "vendors"), i, v)
    {
        const char *id = str(v, "vendorId");
        if (!id || !json_is_true(json_object_get(v, "online")))
            continue;
        if (n++)
            vt_buf_putc(&b, ',');
        put_vendor(&b, id, json_number_value(json_object_get(v, "lat")),
                   json_number_value(json_object_get(v, "lng")));
    }
    vt_buf_putc(&b, ']');
    msgbuf *m = b.oom ? NULL : sio_msg_event(nsp, "vendor_channels", b.data, b.len);
    vt_buf_free(&b);
    return m;
}

/* error → the error event {code, message} on the request's namespace (or the viewer's,
 * for errors that answer no request, such as a partial snapshot). */
static msgbuf *error_event(const json_t *o, const char *nsp)
{
    char *data = sio_msg_error_json(str(o, "code"), str(o, "message"));
    msgbuf *m = data ? sio_msg_event(nsp, "error", data, strlen(data)) : NULL;
    free(data);
    return m;
}

msgbuf *sio_msg_from_ws(const msgbuf *m, const char *viewer_nsp)
{
    json_t *o = json_loadb(m->data, m->len, 0, NULL);
    const char *op = str(o, "op");
    if (!op) {
        json_decref(o);
        return NULL;
    }
    char nsp[VT_SIO_NSP_MAX + 1];
    int64_t ack_id = -1;
    bool has_ref = parse_ref(str(o, "ref"), nsp, sizeof nsp, &ack_id);
    if (!has_ref)
        snprintf(nsp, sizeof nsp, "%s", viewer_nsp ? viewer_nsp : "/");
    msgbuf *out = NULL;
    if (strcmp(op, "location") == 0 || strcmp(op, "enter") == 0)
        out = vendor_sync(o, nsp);
    else if (strcmp(op, "leave") == 0)
        out = vendor_disconnect(o, nsp);
    else if (strcmp(op, "status") == 0 && json_is_false(json_object_get(o, "online")))
        out = vendor_disconnect(o, nsp);
    else if (strcmp(op, "snapshot") == 0)
        out = vendor_channels(o, nsp);
    else if (strcmp(op, "error") == 0)
        out = error_event(o, nsp);
    else if (strcmp(op, "ack") == 0 && has_ref && ack_id >= 0)
        out = packet(VT_SIO_ACK, nsp, ack_id, "[{\"ok\":true}]", 13);
    json_decref(o);
    if (out) {
        out->coalesce = m->coalesce;
        out->t_in_ns = m->t_in_ns;
    }
    return out;
}

static int bad(int *status, char *err, size_t errlen, const char *why)
{
    *status = VT_INVALID_ARGUMENT;
    snprintf(err, errlen, "%s", why);
    return 0;
}

/* {lat, long} (or lng) of an app into a /ws {lat, lng}; NULL when not two numbers. */
static json_t *point(const json_t *p)
{
    json_t *lat = json_object_get(p, "lat"), *lng = json_object_get(p, "long");
    if (!lng)
        lng = json_object_get(p, "lng");
    if (!json_is_number(lat) || !json_is_number(lng))
        return NULL;
    return json_pack("{s:O,s:O}", "lat", lat, "lng", lng);
}

char *sio_msg_to_ws(const char *event, const json_t *arg, const char *vendor_default,
                    const char *ref, int *status, char *err, size_t errlen)
{
    json_t *o = NULL;
    *status = VT_OK;
    if (strcmp(event, "updateUserLocation") == 0) {
        json_t *ne = point(json_object_get(arg, "neLocation"));
        json_t *sw = point(json_object_get(arg, "swLocation"));
        if (ne && sw)
            o = json_pack("{s:s,s:o,s:o}", "op", "watch.bounds", "ne", ne, "sw", sw);
        else {
            json_decref(ne);
            json_decref(sw);
            bad(status, err, errlen,
                "updateUserLocation needs neLocation and swLocation, each {lat, long} numbers");
        }
    } else if (strcmp(event, "updateVendorLocation") == 0) {
        json_t *p = point(arg);
        const char *id = str(arg, "vendorId");
        if (!id)
            id = vendor_default;
        if (!p)
            bad(status, err, errlen, "updateVendorLocation needs lat and long numbers");
        else if (!id)
            bad(status, err, errlen,
                "updateVendorLocation needs a vendorId (or a register-vendor before it)");
        else if ((o = json_pack("{s:s,s:s}", "op", "location", "vendorId", id))) {
            json_object_update(o, p);
            /* The fix's trace, checked where the /ws message is parsed. */
            const char *traceparent = str(arg, VT_TRACEPARENT_HEADER);
            if (traceparent)
                json_object_set_new(o, VT_TRACEPARENT_HEADER, json_string(traceparent));
        }
        json_decref(p);
    } else {
        *status = VT_NOT_FOUND;
        snprintf(err, errlen, "unknown event %.60s", event);
    }
    if (!o) {
        if (*status == VT_OK)
            bad(status, err, errlen, "out of memory");
        return NULL;
    }
    json_object_set_new(o, "ref", json_string(ref));
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!text)
        bad(status, err, errlen, "out of memory");
    return text;
}
