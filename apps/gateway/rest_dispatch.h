/*
 * rest_dispatch.h — one request's way once its headers (and body) are in
 * (rest_dispatch.c): route, then the handler the route names.
 */
#ifndef REST_DISPATCH_H
#define REST_DISPATCH_H

#include "rest_req.h"

/* Answer req: at once (404, 405, preflight, health, ...) or through the async steps
 * of its route; either way the answer is queued with rest_respond. */
void rest_dispatch(rest_req *req);

#endif
