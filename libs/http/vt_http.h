/*
 * vt_http.h — what both gateways share on top of libwebsockets.
 */
#ifndef VT_HTTP_H
#define VT_HTTP_H

/* Route libwebsockets' own log lines into our JSON-lines log (API.md §1: logs are JSON
 * lines on stderr): its errors always, its warnings when VENTA_LOG_LEVEL is debug.
 * VENTA_LWS_LOG (an lws LLL_* bit mask) overrides the selection, for debugging lws.
 * Call before creating the lws context. */
void vt_http_route_lws_log(void);

#endif
