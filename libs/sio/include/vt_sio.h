/*
 * vt_sio.h — the wire formats of socket.io 4: Engine.IO protocol 4 packets and
 * socket.io protocol 5 packets, parsed and written without any I/O.
 *
 * The original Venta apps speak socket.io to their backend (API.md §8), so the
 * WebSocket edge serves it beside its own venta.v1.json. This library is only the
 * codec; sessions, transports (HTTP long-polling and WebSocket) and namespaces are the
 * gateway's. Two layers, as in socket.io itself:
 *
 *  - Engine.IO 4 (the transport's packets): a type digit (0 open, 1 close, 2 ping,
 *    3 pong, 4 message, 5 upgrade, 6 noop) followed by the data. Over WebSocket one
 *    frame is one packet (a binary frame is a binary message, no type digit); over
 *    HTTP long-polling a body holds several packets separated by 0x1e, a binary
 *    message there being "b" + base64.
 *  - socket.io 5 (inside an Engine.IO message):
 *    <type>[<attachments>-][/<namespace>,][<ack id>][<JSON>], types 0 CONNECT,
 *    1 DISCONNECT, 2 EVENT, 3 ACK, 4 CONNECT_ERROR, 5 BINARY_EVENT, 6 BINARY_ACK.
 *
 * Every parser takes a length from the wire as untrusted: nothing is read past len,
 * every failure is a status with a message for the sender, and parsed views point
 * into the caller's bytes (no allocation) except the decoded EVENT arguments.
 * Writers append to a caller's buffer and report when it is too small.
 */
#ifndef VT_SIO_H
#define VT_SIO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------- Engine.IO 4 */

typedef enum {
    VT_SIO_EIO_OPEN = 0,
    VT_SIO_EIO_CLOSE = 1,
    VT_SIO_EIO_PING = 2,
    VT_SIO_EIO_PONG = 3,
    VT_SIO_EIO_MESSAGE = 4,
    VT_SIO_EIO_UPGRADE = 5,
    VT_SIO_EIO_NOOP = 6,
} vt_sio_eio_type;

/* One Engine.IO packet; data points into the parsed bytes. binary: a binary message
 * (over polling data is then still the base64 text after the "b"). */
typedef struct {
    vt_sio_eio_type type;
    bool binary;
    const char *data;
    size_t len;
} vt_sio_eio_packet;

/* The record separator between packets of a long-polling body. */
#define VT_SIO_EIO_SEPARATOR '\x1e'

/* One packet from a WebSocket frame (binary: the frame was binary). 0, or
 * VT_INVALID_ARGUMENT with err for the sender (empty, unknown type). */
int vt_sio_eio_decode_frame(const char *frame, size_t len, bool binary, vt_sio_eio_packet *out,
                            char *err, size_t errlen);

/* Walk a long-polling body: *pos starts at 0; each call parses the next packet and
 * moves *pos past it and its separator. 1 with *out set, 0 at the end, or -1 with
 * err (an empty or unknown packet: the whole body is refused, as socket.io does). */
int vt_sio_eio_payload_next(const char *body, size_t len, size_t *pos, vt_sio_eio_packet *out,
                            char *err, size_t errlen);

/* The Engine.IO HTTP errors, with the codes and messages socket.io's server sends in
 * its {"code":N,"message":…} bodies. */
typedef enum {
    VT_SIO_EIO_ERR_UNKNOWN_TRANSPORT = 0,
    VT_SIO_EIO_ERR_UNKNOWN_SID = 1,
    VT_SIO_EIO_ERR_BAD_HANDSHAKE_METHOD = 2,
    VT_SIO_EIO_ERR_BAD_REQUEST = 3,
    VT_SIO_EIO_ERR_FORBIDDEN = 4,
    VT_SIO_EIO_ERR_UNSUPPORTED_PROTOCOL_VERSION = 5,
} vt_sio_eio_error;

/* "Session ID unknown" and the like. */
const char *vt_sio_eio_error_message(vt_sio_eio_error e);
/* The HTTP status that goes with it (403 for FORBIDDEN, else 400). */
unsigned int vt_sio_eio_error_status(vt_sio_eio_error e);
/* The body {"code":N,"message":"…"} into out (NUL-terminated); its length, or -1
 * when out is too small. */
int vt_sio_eio_error_body(vt_sio_eio_error e, char *out, size_t outlen);

/* The open packet: 0{"sid":…,"upgrades":[…],"pingInterval":…,"pingTimeout":…,
 * "maxPayload":…}. upgrade_to_websocket: offer "websocket" (a polling session), else
 * no upgrades (already on WebSocket). Length, or -1 when out is too small. */
typedef struct {
    const char *sid;
    bool upgrade_to_websocket;
    int ping_interval_ms;
    int ping_timeout_ms;
    int64_t max_payload;
} vt_sio_eio_open_opts;
int vt_sio_eio_encode_open(const vt_sio_eio_open_opts *o, char *out, size_t outlen);

/* -------------------------------------------------------------------- socket.io 5 */

typedef enum {
    VT_SIO_CONNECT = 0,
    VT_SIO_DISCONNECT = 1,
    VT_SIO_EVENT = 2,
    VT_SIO_ACK = 3,
    VT_SIO_CONNECT_ERROR = 4,
    VT_SIO_BINARY_EVENT = 5,
    VT_SIO_BINARY_ACK = 6,
} vt_sio_type;

#define VT_SIO_NSP_MAX 64 /* longest namespace name accepted, "/" included */

/* One socket.io packet; data points into the parsed bytes (JSON text, possibly
 * empty). ack_id is -1 when the packet asks for no acknowledgement. */
typedef struct {
    vt_sio_type type;
    char nsp[VT_SIO_NSP_MAX + 1];
    int64_t ack_id;
    int attachments;
    const char *data;
    size_t len;
} vt_sio_packet;

/* Parse the text of an Engine.IO message. 0, or VT_INVALID_ARGUMENT with err (bad
 * type, namespace or ack id, a payload that is not JSON of the shape the type needs:
 * CONNECT an object or nothing, DISCONNECT nothing, EVENT a non-empty array starting
 * with a non-reserved event name, ACK an array, CONNECT_ERROR an object or string).
 * Binary packets parse (the caller decides whether it takes attachments). */
int vt_sio_decode(const char *text, size_t len, vt_sio_packet *out, char *err, size_t errlen);

/* An EVENT's name and arguments (the array after the name), decoded with jansson:
 * *args is a new reference the caller releases with json_decref. 0, or
 * VT_INVALID_ARGUMENT with err. The name is copied into name (truncated names are
 * refused). */
int vt_sio_event_decode(const vt_sio_packet *p, char *name, size_t namelen, json_t **args,
                        char *err, size_t errlen);

/* Write a socket.io packet as the text of an Engine.IO message, "4" prefix included
 * when with_eio_type (the form one WebSocket frame or one polling packet carries):
 * type, namespace ("/" is left out), ack id (< 0: none) and data (JSON text or NULL).
 * Length, or -1 when out is too small. */
int vt_sio_encode(bool with_eio_type, vt_sio_type type, const char *nsp, int64_t ack_id,
                  const char *data, size_t len, char *out, size_t outlen);

#endif
