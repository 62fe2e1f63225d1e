/*
 * eio.c — Engine.IO protocol 4 packets (see vt_sio.h): one packet per WebSocket frame,
 * packets of a long-polling body separated by 0x1e, the open packet, and the HTTP
 * errors with socket.io's codes and messages.
 *
 * A polling body is refused whole when any packet in it is bad, as socket.io's server
 * does: a client that sends garbage gets an error, not half of its batch applied.
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

/* A text packet: its type digit, then its data. */
static int decode_text(const char *p, size_t len, vt_sio_eio_packet *out, char *err, size_t errlen)
{
    if (len == 0)
        return fail(err, errlen, "empty Engine.IO packet");
    if (p[0] < '0' || p[0] > '6')
        return fail(err, errlen, "unknown Engine.IO packet type");
    out->type = (vt_sio_eio_type)(p[0] - '0');
    out->binary = false;
    out->data = p + 1;
    out->len = len - 1;
    return VT_OK;
}

int vt_sio_eio_decode_frame(const char *frame, size_t len, bool binary, vt_sio_eio_packet *out,
                            char *err, size_t errlen)
{
    if (binary) { /* Engine.IO 4 sends binary messages as bare binary frames */
        *out = (vt_sio_eio_packet){
            .type = VT_SIO_EIO_MESSAGE, .binary = true, .data = frame, .len = len};
        return VT_OK;
    }
    return decode_text(frame, len, out, err, errlen);
}

int vt_sio_eio_payload_next(const char *body, size_t len, size_t *pos, vt_sio_eio_packet *out,
                            char *err, size_t errlen)
{
    if (*pos > len) {
        fail(err, errlen, "bad payload position");
        return -1;
    }
    if (*pos == len)
        return 0;
    const char *start = body + *pos;
    const char *sep = memchr(start, VT_SIO_EIO_SEPARATOR, len - *pos);
    size_t n = sep ? (size_t)(sep - start) : len - *pos;
    *pos += n + (sep ? 1 : 0);
    if (sep && *pos == len) {
        fail(err, errlen, "empty Engine.IO packet at the end of the payload");
        return -1;
    }
    if (n > 0 && start[0] == 'b') {
        *out = (vt_sio_eio_packet){
            .type = VT_SIO_EIO_MESSAGE, .binary = true, .data = start + 1, .len = n - 1};
        return 1;
    }
    return decode_text(start, n, out, err, errlen) == VT_OK ? 1 : -1;
}

static const char *const error_messages[] = {
    [VT_SIO_EIO_ERR_UNKNOWN_TRANSPORT] = "Transport unknown",
    [VT_SIO_EIO_ERR_UNKNOWN_SID] = "Session ID unknown",
    [VT_SIO_EIO_ERR_BAD_HANDSHAKE_METHOD] = "Bad handshake method",
    [VT_SIO_EIO_ERR_BAD_REQUEST] = "Bad request",
    [VT_SIO_EIO_ERR_FORBIDDEN] = "Forbidden",
    [VT_SIO_EIO_ERR_UNSUPPORTED_PROTOCOL_VERSION] = "Unsupported protocol version",
};

const char *vt_sio_eio_error_message(vt_sio_eio_error e)
{
    if ((unsigned)e >= sizeof error_messages / sizeof error_messages[0])
        return "Bad request";
    return error_messages[e];
}

unsigned int vt_sio_eio_error_status(vt_sio_eio_error e)
{
    return e == VT_SIO_EIO_ERR_FORBIDDEN ? 403 : 400;
}

static int finish(int n, size_t outlen)
{
    return n < 0 || (size_t)n >= outlen ? -1 : n;
}

int vt_sio_eio_error_body(vt_sio_eio_error e, char *out, size_t outlen)
{
    return finish(snprintf(out, outlen, "{\"code\":%d,\"message\":\"%s\"}", (int)e,
                           vt_sio_eio_error_message(e)),
                  outlen);
}

int vt_sio_eio_encode_open(const vt_sio_eio_open_opts *o, char *out, size_t outlen)
{
    /* The sid is ours (letters, digits, '-', '_'), so it needs no escaping; refuse
     * anything else rather than write invalid JSON. */
    for (const char *c = o->sid; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '_'))
            return -1;
    return finish(snprintf(out, outlen,
                           "0{\"sid\":\"%s\",\"upgrades\":[%s],\"pingInterval\":%d,"
                           "\"pingTimeout\":%d,\"maxPayload\":%lld}",
                           o->sid, o->upgrade_to_websocket ? "\"websocket\"" : "",
                           o->ping_interval_ms, o->ping_timeout_ms, (long long)o->max_payload),
                  outlen);
}
