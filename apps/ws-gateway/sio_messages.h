/*
 * sio_messages.h — the original Venta apps' socket.io events, in terms of venta.v1.json
 * (sio_messages.c). Pure (jansson, libs/sio and libc), like ws_messages.c: the unit
 * tests compile it as it is.
 *
 * Both directions go through the /ws protocol on purpose. In: an app's event becomes
 * the /ws client message that means the same (updateUserLocation → watch.bounds,
 * updateVendorLocation → location), so that client.c checks, limits and dispatches it
 * exactly as it does for /ws. Out: a /ws server message (encoded once by fanout.c,
 * snapshot.c or conn.c) becomes the socket.io packet the original sent (location and
 * enter → vendor_sync, leave and offline → vendor_disconnect, snapshot →
 * vendor_channels, error → the error event, ack → a socket.io ACK).
 *
 * The namespace and ack id of a request travel through /ws as its "ref": the JSON
 * string "<namespace>#<ack id>" (no digits after '#': no ack asked for).
 */
#ifndef VENTA_WS_SIO_MESSAGES_H
#define VENTA_WS_SIO_MESSAGES_H

#include "ws_messages.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* The ref of a request of namespace nsp with ack_id (< 0: none): the string's text. */
void sio_msg_ref(const char *nsp, int64_t ack_id, char *out, size_t outlen);

/* A /ws server message as the socket.io packet of the original (the text of an
 * Engine.IO message, its "4" included), in a new msgbuf that keeps m's coalesce and
 * t_in_ns; NULL when it means nothing to a socket.io app (an online status, an ack
 * nobody asked for) or is not understood. viewer_nsp: where vendor_* events go (the
 * namespace of the last updateUserLocation); replies go to their request's namespace. */
msgbuf *sio_msg_from_ws(const msgbuf *m, const char *viewer_nsp);

/* An event packet of our own (the error event of a refused request, vendor_disconnect
 * of a vendor outside a new box): "42<nsp>,[name,data]" with data JSON text. */
msgbuf *sio_msg_event(const char *nsp, const char *name, const char *data, size_t len);
/* {"code":code,"message":message} as JSON text (malloc'd), for the error event. */
char *sio_msg_error_json(const char *code, const char *message);

/* The /ws client message (malloc'd JSON text) for an app's event name with its first
 * argument arg: updateUserLocation {neLocation:{lat,long}, swLocation:{lat,long}} →
 * watch.bounds; updateVendorLocation {lat, long, vendorId?} → location, for vendorId,
 * else vendor_default (may be NULL). ref: sio_msg_ref's string. NULL with err for a
 * malformed argument, or VT_NOT_FOUND in *status for an event this is not for. */
char *sio_msg_to_ws(const char *event, const json_t *arg, const char *vendor_default,
                    const char *ref, int *status, char *err, size_t errlen);

#endif
