/*
 * client.h — a connection's client: authentication, limits and the dispatch of its
 * messages (client.c). ws_server.c calls these for lws's events; client.c calls down
 * into fanout, snapshot, streams and conn, and nothing calls back up into it.
 */
#ifndef VENTA_WS_CLIENT_H
#define VENTA_WS_CLIENT_H

#include "conn.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The upgrade was accepted (lws ESTABLISHED): authenticate from the header or query, or
 * start the auth timer. 0, or -1 to refuse (c->close_code says whether to send a close). */
int client_established(conn *c);
/* One received fragment; -1 to close (the reason already set). */
int client_receive(conn *c, const void *in, size_t len, bool first, bool final, bool binary);
/* Verify a session token for c (API.md §2): 0 with c->user_id set; else
 * VT_UNAUTHENTICATED, or VT_PERMISSION_DENIED for another user than c's, with the
 * reason in err. */
int client_authenticate(conn *c, const char *token, size_t len, char *err, size_t errlen);
/* One whole client message in venta.v1.json (socket.io events are translated to it,
 * sio_client.c): the rate limit, strikes, dispatch and the reply. */
void client_message(conn *c, const char *text, size_t len);
/* The auth deadline passed. */
int client_timer(conn *c);
/* Once a second: close connections whose auth deadline passed. */
void client_sweep(ws_gateway *g, int64_t now_ms);
/* The socket closed (lws CLOSED): c's viewport and vendor streams end, then c. */
void client_closed(conn *c);

#endif
