/*
 * set_timeout.c — lws_set_timeout that takes effect now (vt_http.h says why).
 */
#include "vt_http.h"

void vt_http_set_timeout(struct lws *wsi, int reason, int secs)
{
    lws_set_timeout(wsi, (enum pending_timeout)reason, secs);
    lws_cancel_service(lws_get_context(wsi));
}
