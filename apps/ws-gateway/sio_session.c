/*
 * sio_session.c — Engine.IO 4 session rules without I/O (see sio_session.h).
 *
 * The request check follows socket.io's server (engine.io `verify` and `handshake`):
 * an unknown transport is code 0 whatever else is wrong; a request with a sid needs a
 * known session (1) and may only use that session's transport, except the one
 * WebSocket upgrade of a polling session (else 3); a handshake must be a GET (2) of
 * protocol 4 (5). Polling requests of a session are GET or POST; socket.io answers
 * another method 400 too (code 3 here, with the body every other error has).
 */
#include "sio_session.h"

#include "vt_sio.h"

#include <string.h>

int sio_request_check(const sio_request *r)
{
    if (!r->transport ||
        (strcmp(r->transport, "polling") != 0 && strcmp(r->transport, "websocket") != 0))
        return VT_SIO_EIO_ERR_UNKNOWN_TRANSPORT;
    bool ws = strcmp(r->transport, "websocket") == 0;
    if (ws != r->websocket)
        return VT_SIO_EIO_ERR_BAD_REQUEST; /* transport=websocket without an upgrade, etc. */
    if (r->has_sid) {
        if (!r->sid_known)
            return VT_SIO_EIO_ERR_UNKNOWN_SID;
        if (ws) /* the upgrade of a polling session, once */
            return r->session_tx == SIO_TX_POLLING ? -1 : VT_SIO_EIO_ERR_BAD_REQUEST;
        if (r->session_tx == SIO_TX_WEBSOCKET || r->method == SIO_OTHER_METHOD)
            return VT_SIO_EIO_ERR_BAD_REQUEST;
        return -1;
    }
    if (r->method != SIO_GET)
        return VT_SIO_EIO_ERR_BAD_HANDSHAKE_METHOD;
    if (!r->eio || strcmp(r->eio, "4") != 0)
        return VT_SIO_EIO_ERR_UNSUPPORTED_PROTOCOL_VERSION;
    return -1;
}

void sio_hb_start(sio_heartbeat *h, int64_t now_ms, int ping_interval_ms)
{
    h->next_ping_ms = now_ms + ping_interval_ms;
    h->pong_deadline_ms = 0;
}

sio_hb_action sio_hb_step(sio_heartbeat *h, int64_t now_ms, int ping_timeout_ms, int64_t *wake_ms)
{
    if (h->next_ping_ms == 0) { /* a ping is out */
        *wake_ms = h->pong_deadline_ms;
        return now_ms >= h->pong_deadline_ms ? SIO_HB_TIMEOUT : SIO_HB_WAIT;
    }
    if (now_ms < h->next_ping_ms) {
        *wake_ms = h->next_ping_ms;
        return SIO_HB_WAIT;
    }
    h->next_ping_ms = 0;
    h->pong_deadline_ms = now_ms + ping_timeout_ms;
    *wake_ms = h->pong_deadline_ms;
    return SIO_HB_PING;
}

void sio_hb_pong(sio_heartbeat *h, int64_t now_ms, int ping_interval_ms)
{
    if (h->next_ping_ms != 0)
        return; /* no ping out: an unasked pong changes nothing */
    h->next_ping_ms = now_ms + ping_interval_ms;
    h->pong_deadline_ms = 0;
}
