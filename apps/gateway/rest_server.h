/*
 * rest_server.h — the HTTP server: libwebsockets on the app's libuv loop
 * (rest_server.c).
 */
#ifndef REST_SERVER_H
#define REST_SERVER_H

#include "rest_app.h"

#include <stddef.h>

/* Create the lws context on app->loop and listen on app->cfg.addr; app->port gets the
 * port bound. 0, or a status with the reason in err. */
int rest_server_start(rest_app *app, char *err, size_t errlen);
/* Stop listening; open connections stay until their requests are answered.
 * main.c watches app->inflight to know when the drain is over. */
void rest_server_drain(rest_app *app);
void rest_server_destroy(rest_app *app);

#endif
