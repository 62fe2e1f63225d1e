/*
 * vt_http.h — what both gateways share on top of libwebsockets.
 */
#ifndef VT_HTTP_H
#define VT_HTTP_H

#include "vt_core.h"

#include <libwebsockets.h>
#include <uv.h>

/* Route libwebsockets' own log lines into our JSON-lines log (API.md §1: logs are JSON
 * lines on stderr): its errors always, its warnings when VENTA_LOG_LEVEL is debug.
 * VENTA_LWS_LOG (an lws LLL_* bit mask) overrides the selection, for debugging lws.
 * Call before creating the lws context. */
void vt_http_route_lws_log(void);

/* Refuse a WebSocket upgrade from lws's LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: write a
 * complete `status` answer with the error body {"error":{code,message,requestId}},
 * X-Request-ID and Connection: close. Returns what that callback must return (1, or -1
 * to just hang up when the answer could not be written). */
int vt_http_refuse_now(struct lws *wsi, unsigned int status, const char *code, const char *message);

/* The same with a body of the caller's (JSON, at most 512 bytes), e.g. socket.io's
 * {"code":N,"message":…}; request_id may be NULL. */
int vt_http_refuse_body_now(struct lws *wsi, unsigned int status, const char *request_id,
                            const char *body, size_t blen);

/* Replace addr's host by the numeric IPv4 address lws should listen on (a name such as
 * localhost resolves; lws would take it as an interface name and listen nowhere). A
 * host that does not resolve, or only to IPv6 (the gateways run lws on IPv4; an IPv6
 * literal used to end up on 0.0.0.0), exits 2 with a line naming var. */
void vt_http_resolve_listen(const char *var, vt_addr *addr);

/* TLS at the edges (tls.c): VENTA_HTTP_TLS_CERT (PEM, a chain allowed) and
 * VENTA_HTTP_TLS_KEY (PEM). Both set: true, *out names the files (checked: readable, the
 * key the certificate's). Neither: false, plaintext as before. One, or a bad file:
 * exits 2 naming the variable. */
typedef struct {
    const char *cert_file, *key_file;
} vt_http_tls;
bool vt_http_tls_from_env(vt_http_tls *out);
/* Make the context and vhost that info creates serve TLS with tls's files (NULL: leave
 * info as it is). Call before lws_create_context; the same info must create the vhost. */
void vt_http_tls_apply(const vt_http_tls *tls, struct lws_context_creation_info *info);

/* Idle keep-alive connections (keepalive.c says why): a gateway advertises
 * `Keep-Alive: timeout=<advertised_s>` on its answers and has lws close idle connections
 * only after vt_http_keepalive_close_s(advertised_s) (lws_context_creation_info
 * .keepalive_timeout), so a client never reuses a connection the server is closing,
 * even when the server's loop was busy for up to VT_HTTP_KEEPALIVE_GRACE_S. */
#define VT_HTTP_KEEPALIVE_GRACE_S 5
int vt_http_keepalive_close_s(int advertised_s);
/* Append the Keep-Alive header to an answer's headers being built in *p..end; 0, or
 * nonzero when it does not fit (lws_add_http_header_by_name's convention). */
int vt_http_add_keepalive_hint(struct lws *wsi, int advertised_s, unsigned char **p,
                               unsigned char *end);

/* lws_set_timeout, and a wake of lws's service so that it sees the new timeout now: with
 * a foreign libuv loop, lws 4.1 arms its loop timer for the timeouts it knew when it last
 * serviced, and one set from outside its service (or earlier than those) could wait for
 * the next unrelated wake. secs as lws_set_timeout's, LWS_TO_KILL_ASYNC included. */
void vt_http_set_timeout(struct lws *wsi, int reason, int secs);

/* The request-header timeout (header_watch.c says why it is not lws's): a connection
 * still without complete headers timeout_s after it was accepted is closed, unless bytes
 * it sent are waiting unread because the loop is behind. Give lws
 * vt_http_header_hard_timeout_s(timeout_s) as its timeout_secs_ah_idle (the one that
 * hung up such connections): the bound for a client that trickles bytes, and for
 * requests after the first on a kept-alive connection. Call vt_http_header_watch_event first in
 * the vhost's protocol callback with every reason; everything runs on the loop thread. */
typedef struct vt_http_header_watch vt_http_header_watch;
int vt_http_header_watch_new(uv_loop_t *loop, int timeout_s, vt_http_header_watch **out);
/* Closes its timer on the loop: run the loop once more to release it. NULL: no-op. */
void vt_http_header_watch_free(vt_http_header_watch *w);
void vt_http_header_watch_event(vt_http_header_watch *w, struct lws *wsi, int reason);
int vt_http_header_hard_timeout_s(int timeout_s);

#endif
