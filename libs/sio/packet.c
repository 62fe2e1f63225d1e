/*
 * packet.c — socket.io protocol 5 packets (see vt_sio.h), read and written as
 * socket.io's own parser does: type, attachment count for binary packets, namespace,
 * ack id, then a JSON payload whose shape the type decides.
 *
 * The payload is checked with jansson at parse time, so a packet that parses is one
 * the gateway can act on; the gateway decodes an EVENT's arguments once more, with
 * vt_sio_event_decode, only for the events it serves (a few per second per client).
 */
#include "vt_sio.h"

#include "vt_core.h"

#include <stdio.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *why)
{
    snprintf(err, errlen, "%s", why);
    return VT_INVALID_ARGUMENT;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Event names socket.io keeps for itself: a client may not emit them. */
static bool reserved_event(const char *name)
{
    static const char *const reserved[] = {"connect",       "connect_error", "disconnect",
                                           "disconnecting", "newListener",   "removeListener"};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (strcmp(name, reserved[i]) == 0)
            return true;
    return false;
}

/* Whether payload has the shape the packet type needs (socket.io's isPayloadValid). */
static bool payload_valid(vt_sio_type type, const json_t *payload)
{
    switch (type) {
    case VT_SIO_CONNECT:
        return json_is_object(payload);
    case VT_SIO_DISCONNECT:
        return false; /* carries none */
    case VT_SIO_CONNECT_ERROR:
        return json_is_object(payload) || json_is_string(payload);
    case VT_SIO_EVENT:
    case VT_SIO_BINARY_EVENT: {
        const json_t *name = json_array_get(payload, 0);
        return json_is_array(payload) &&
               (json_is_number(name) ||
                (json_is_string(name) && !reserved_event(json_string_value(name))));
    }
    case VT_SIO_ACK:
    case VT_SIO_BINARY_ACK:
        return json_is_array(payload);
    }
    return false;
}

/* Digits of a non-negative decimal integer at p[*i..len), at most 15 of them (ids and
 * counts this large are no client's); *i moves past them. -1 when there are none. */
static int64_t read_number(const char *p, size_t len, size_t *i)
{
    size_t start = *i;
    int64_t v = 0;
    while (*i < len && is_digit(p[*i]) && *i - start < 15)
        v = v * 10 + (p[(*i)++] - '0');
    if (*i == start || (*i < len && is_digit(p[*i])))
        return -1;
    return v;
}

int vt_sio_decode(const char *text, size_t len, vt_sio_packet *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->ack_id = -1;
    if (len == 0)
        return fail(err, errlen, "empty socket.io packet");
    if (text[0] < '0' || text[0] > '6')
        return fail(err, errlen, "unknown socket.io packet type");
    out->type = (vt_sio_type)(text[0] - '0');
    size_t i = 1;
    if (out->type == VT_SIO_BINARY_EVENT || out->type == VT_SIO_BINARY_ACK) {
        int64_t n = read_number(text, len, &i);
        if (n < 0 || n > 1000 || i >= len || text[i] != '-')
            return fail(err, errlen, "illegal attachment count");
        out->attachments = (int)n;
        i++;
    }
    if (i < len && text[i] == '/') {
        size_t start = i;
        while (i < len && text[i] != ',')
            i++;
        if (i - start > VT_SIO_NSP_MAX)
            return fail(err, errlen, "namespace name too long");
        memcpy(out->nsp, text + start, i - start);
        out->nsp[i - start] = '\0';
        if (i < len)
            i++; /* the ',' */
    } else {
        strcpy(out->nsp, "/");
    }
    if (i < len && is_digit(text[i])) {
        out->ack_id = read_number(text, len, &i);
        if (out->ack_id < 0)
            return fail(err, errlen, "ack id too long");
    }
    out->data = text + i;
    out->len = len - i;
    if (out->len == 0)
        return out->type == VT_SIO_EVENT || out->type == VT_SIO_BINARY_EVENT ||
                       out->type == VT_SIO_ACK || out->type == VT_SIO_BINARY_ACK
                   ? fail(err, errlen, "socket.io packet without its payload")
                   : VT_OK;
    json_error_t jerr;
    json_t *payload =
        json_loadb(out->data, out->len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (!payload)
        return fail(err, errlen, "socket.io payload is not JSON");
    bool valid = payload_valid(out->type, payload);
    json_decref(payload);
    return valid ? VT_OK : fail(err, errlen, "invalid payload for this socket.io packet type");
}

int vt_sio_event_decode(const vt_sio_packet *p, char *name, size_t namelen, json_t **args,
                        char *err, size_t errlen)
{
    *args = NULL;
    if (p->type != VT_SIO_EVENT)
        return fail(err, errlen, "not an EVENT packet");
    json_error_t jerr;
    json_t *all = json_loadb(p->data, p->len, JSON_REJECT_DUPLICATES, &jerr);
    const json_t *first = json_array_get(all, 0);
    int n = -1;
    if (json_is_string(first))
        n = snprintf(name, namelen, "%s", json_string_value(first));
    else if (json_is_integer(first))
        n = snprintf(name, namelen, "%lld", (long long)json_integer_value(first));
    if (!json_is_array(all) || n < 0 || (size_t)n >= namelen) {
        json_decref(all);
        return fail(err, errlen, "an EVENT needs an event name of a sane length");
    }
    json_array_remove(all, 0);
    *args = all;
    return VT_OK;
}

static int finish(int n, size_t outlen)
{
    return n < 0 || (size_t)n >= outlen ? -1 : n;
}

int vt_sio_encode(bool with_eio_type, vt_sio_type type, const char *nsp, int64_t ack_id,
                  const char *data, size_t len, char *out, size_t outlen)
{
    bool named = nsp && strcmp(nsp, "/") != 0;
    char ack[24] = "";
    if (ack_id >= 0)
        snprintf(ack, sizeof ack, "%lld", (long long)ack_id);
    int n = snprintf(out, outlen, "%s%d%s%s%s", with_eio_type ? "4" : "", (int)type,
                     named ? nsp : "", named ? "," : "", ack);
    if (finish(n, outlen) < 0 || (size_t)n + len >= outlen)
        return -1;
    if (len)
        memcpy(out + n, data, len);
    out[n + len] = '\0';
    return n + (int)len;
}
