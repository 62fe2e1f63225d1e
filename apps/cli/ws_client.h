/*
 * ws_client.h — a minimal blocking-connect, non-blocking-run WebSocket client (RFC 6455,
 * text frames, no TLS, no extensions) for the vendor simulator: it behaves on the wire
 * as a vendor app does, and nothing more.
 */
#ifndef VENTA_CLI_WS_CLIENT_H
#define VENTA_CLI_WS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    int fd;         /* -1 when closed */
    char rx[16384]; /* bytes received and not yet parsed */
    size_t rx_len;
    int close_code; /* the server's close code, 0 while open */
} ws_client;

/* Connect to host:port, upgrade GET path with the given Authorization header value and
 * subprotocol; 0 on success, -1 with a reason in err. */
int ws_client_connect(ws_client *c, const char *host, int port, const char *path,
                      const char *authorization, const char *subprotocol, char *err, size_t errlen);
/* Send one masked text frame; 0 or -1 (connection broken). */
int ws_client_send_text(ws_client *c, const char *text, size_t len);
/* Read what is available (non-blocking): answers pings, notes a close; the text frames
 * are handed to on_text (may be NULL). Returns -1 once the connection is gone. */
int ws_client_pump(ws_client *c, void (*on_text)(const char *text, size_t len, void *user),
                   void *user);
void ws_client_close(ws_client *c);

#endif
