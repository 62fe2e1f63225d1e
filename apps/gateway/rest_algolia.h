/*
 * rest_algolia.h — Algolia's query API on venta-gateway (rest_algolia.c): the apps'
 * Algolia clients, pointed at the gateway, search the vendors through SearchVendors.
 */
#ifndef REST_ALGOLIA_H
#define REST_ALGOLIA_H

#include "rest_req.h"

/* POST /1/indexes/{index}/query and /1/indexes/x/queries: the key or JWT check, the
 * rate limit, the calls, the answer in Algolia's shape (errors too: route->algolia). */
void rest_algolia_start(rest_req *req);

#endif
