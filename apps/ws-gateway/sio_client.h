/*
 * sio_client.h — the socket.io layer of one connection (sio_client.c): namespaces and
 * their CONNECT with the session token, the original apps' events, and what a
 * venta.v1.json server message becomes for this client. sio_server.c owns one per
 * Engine.IO session and hands it each Engine.IO message; sio_client.c calls down into
 * client.c (authentication, limits, dispatch), fanout.h's viewer state and conn.c.
 */
#ifndef VENTA_WS_SIO_CLIENT_H
#define VENTA_WS_SIO_CLIENT_H

#include "conn.h"
#include "vt_core.h"

#include <jansson.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The namespaces the original apps use; any other gets CONNECT_ERROR. */
enum { SIO_NSP_ROOT = 0, SIO_NSP_USER, SIO_NSP_VENDOR, SIO_NSP_COUNT };

/* updateVendorLocation events held while the user's only vendor is looked up. */
#define SIO_WAITING_MAX 4

/* The last translation per viewer namespace: the fan-out sends one message to many
 * connections in a row, so a one-entry cache makes the encoding once per protocol
 * (and namespace). Holds a reference to both, so that src cannot be reused. */
typedef struct {
    msgbuf *src[SIO_NSP_COUNT], *out[SIO_NSP_COUNT];
} sio_cache;

typedef struct {
    conn *c;
    sio_cache *cache;             /* the process's */
    char *token;                  /* from the handshake (?token= or Authorization), or NULL */
    uint8_t connected;            /* bit per namespace */
    uint8_t viewer_nsp;           /* where vendor_* events go: the last updateUserLocation's */
    char vendor[VT_UUID_LEN + 1]; /* set by register-vendor, "" when none */
    /* updateVendorLocation events without a vendor, waiting for the user's only one
     * (sio_only_vendor.c); asking while a lookup is out. */
    bool asking;
    int nwaiting;
    struct {
        uint8_t nsp;
        int64_t ack_id;
        json_t *arg;
    } waiting[SIO_WAITING_MAX];
} sio_client;

/* c's socket.io layer (c->tx_data's owner keeps it); token: the handshake's, copied. */
void sio_client_init(sio_client *sc, conn *c, sio_cache *cache, const char *token, size_t len);
void sio_client_done(sio_client *sc);
/* One Engine.IO message (binary: a binary one). */
void sio_client_message(sio_client *sc, const char *data, size_t len, bool binary);
/* The conn_transport encode hook's work: m for this client (see conn_transport). */
msgbuf *sio_client_encode(sio_client *sc, msgbuf *m);
/* Release what the cache holds (shutdown). */
void sio_cache_clear(sio_cache *cache);

#endif
