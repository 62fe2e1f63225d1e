/*
 * sio_server.h — the Engine.IO 4 transports of /socket.io/ (sio_server.c): sessions
 * by sid, HTTP long-polling, the WebSocket transport (direct or as the upgrade of a
 * polling session) and the heartbeat. ws_server.c hands it every lws event of a
 * /socket.io/ request; each session's socket.io layer is sio_client.c.
 */
#ifndef VENTA_WS_SIO_SERVER_H
#define VENTA_WS_SIO_SERVER_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct ws_gateway ws_gateway;

/* Whether an lws event with no socket.io state yet is one of /socket.io/'s (an HTTP
 * request, or a WebSocket upgrade being confirmed or established there). */
bool sio_server_claims(struct lws *wsi, enum lws_callback_reasons reason, const void *in);
/* One lws event of a /socket.io/ request. *slot is the request's per-session pointer
 * (NULL until this module sets it; slot itself may be NULL before lws allocated it).
 * Returns what the lws callback must return. */
int sio_server_callback(ws_gateway *g, struct lws *wsi, enum lws_callback_reasons reason,
                        void **slot, void *in, size_t len);
/* At shutdown, once lws is gone: release the process's socket.io state. */
void sio_server_free(ws_gateway *g);

#endif
