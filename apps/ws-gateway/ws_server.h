/*
 * ws_server.h — libwebsockets on the process's libuv loop (ws_server.c): the one port
 * for GET /ws and the plain HTTP routes; lws's events go to client.c and conn.c.
 */
#ifndef VENTA_WS_SERVER_H
#define VENTA_WS_SERVER_H

#include <stddef.h>

typedef struct ws_gateway ws_gateway;

int ws_server_start(ws_gateway *g, char *err, size_t errlen);
/* Close every connection with 1001 (SIGTERM). */
void ws_server_close_all(ws_gateway *g);
/* Start releasing lws's handles (they close as the loop runs). */
void ws_server_destroy(ws_gateway *g);
/* After the loop has stopped: release the context for good. */
void ws_server_free(ws_gateway *g);

#endif
