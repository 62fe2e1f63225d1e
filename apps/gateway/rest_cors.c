/*
 * rest_cors.c — Cross-Origin Resource Sharing for the web apps (VENTA_CORS_ORIGINS).
 *
 * An Origin in the configured list (exact match; "*" allows any) gets
 * Access-Control-Allow-Origin echoing that origin (never a literal "*", so that
 * credentials keep working), Vary: Origin, and Access-Control-Expose-Headers for the
 * headers a browser app wants to read (request id, rate limits). A preflight
 * (OPTIONS with Access-Control-Request-Method) on a known path answers 204 with the
 * path's methods and the requested headers; from a disallowed origin it answers 204
 * without any Access-Control-* header, which the browser treats as a refusal.
 */
#include "rest_cors.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

bool rest_cors_allowed(const rest_config *cfg, const char *origin)
{
    if (!origin[0])
        return false;
    if (cfg->origin_any)
        return true;
    for (int i = 0; i < cfg->norigins; i++)
        if (strcmp(cfg->origins[i], origin) == 0)
            return true;
    return false;
}

static bool header_list_sane(const char *v)
{
    for (; *v; v++)
        if (!isalnum((unsigned char)*v) && !strchr("-_, ", *v))
            return false;
    return true;
}

void rest_cors_preflight(rest_req *req, const char *allow)
{
    const char *acrm = rest_req_header(req, "access-control-request-method");
    rest_add_header(req, "allow", allow);
    if (acrm && req->cors_ok) {
        rest_add_header(req, "access-control-allow-methods", allow);
        const char *acrh = rest_req_header(req, "access-control-request-headers");
        rest_add_header(req, "access-control-allow-headers",
                        acrh && header_list_sane(acrh) && strlen(acrh) < 256
                            ? acrh
                            : "authorization, content-type, x-request-id, traceparent");
        rest_add_header(req, "access-control-max-age", "600");
    }
    rest_respond(req, 204, NULL, NULL, 0);
}
