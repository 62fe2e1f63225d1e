/*
 * rest_cors.h — Cross-Origin Resource Sharing for the web apps (rest_cors.c).
 */
#ifndef REST_CORS_H
#define REST_CORS_H

#include "rest_app.h"
#include "rest_req.h"

#include <stdbool.h>

/* Is origin (as the browser sent it; "" when absent) one of VENTA_CORS_ORIGINS? */
bool rest_cors_allowed(const rest_config *cfg, const char *origin);
/* Answer an OPTIONS request on a known path: 204 with Allow, and for an allowed origin
 * (req->cors_ok) asking with Access-Control-Request-Method, the Access-Control-Allow-*
 * headers. allow is the path's method list. */
void rest_cors_preflight(rest_req *req, const char *allow);

#endif
