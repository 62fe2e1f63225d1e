/*
 * keepalive.c — see vt_http.h (keep-alive without the reuse race).
 *
 * HTTP/1.1 lets either side drop an idle connection at any time, so a request can be
 * on the wire when the server closes: the client sees "socket hang up" (Node) or a
 * reset, and cannot tell whether the request ran. The race is widest when both sides
 * use the same idle timeout, which is what lws's default (5 s) and Node's agent (5 s)
 * do, and it opens further when the server's loop is busy: libuv runs the timers that
 * are due before it reads the sockets, so a request that arrived while the loop was
 * still working on other things is dropped unread by a timeout that fired later.
 *
 * The usual cure, and what Node's own server does: advertise a timeout with
 * `Keep-Alive: timeout=N` (clients that honour it, Node's agent among them, stop
 * reusing the connection before N) and close idle connections only after N plus a
 * grace period, which is how long the loop may be stalled without losing a request.
 */
#include "vt_http.h"

#include <stdio.h>

int vt_http_keepalive_close_s(int advertised_s)
{
    return advertised_s + VT_HTTP_KEEPALIVE_GRACE_S;
}

int vt_http_add_keepalive_hint(struct lws *wsi, int advertised_s, unsigned char **p,
                               unsigned char *end)
{
    char value[32];
    int n = snprintf(value, sizeof value, "timeout=%d", advertised_s);
    return lws_add_http_header_by_name(
        wsi, (const unsigned char *)"keep-alive:", (const unsigned char *)value, n, p, end);
}
