/*
 * lws_log.c — see vt_http.h.
 */
#include "vt_http.h"

#include "vt_core.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

static void lws_to_log(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    vt_log(level == LLL_ERR ? VT_LOG_ERROR : VT_LOG_WARN, NULL, "lws: %.*s", (int)n, line);
}

void vt_http_route_lws_log(void)
{
    const char *mask = getenv("VENTA_LWS_LOG");
    int levels = mask ? atoi(mask) : LLL_ERR | (vt_log_enabled(VT_LOG_DEBUG) ? LLL_WARN : 0);
    lws_set_log_level(levels, lws_to_log);
}
