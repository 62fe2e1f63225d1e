/*
 * rest_legacy.h — the original Venta backend's REST routes (rest_legacy.c), served
 * through the same gRPC calls as /api/v1 (docs/migration.md).
 */
#ifndef REST_LEGACY_H
#define REST_LEGACY_H

#include "rest_req.h"

/* POST /vendor, PUT /vendor/:id, GET /user/vendors, for an authenticated caller whose
 * request passed the rate limit: the call, then the original's answer. */
void rest_legacy_call(rest_req *req);
/* GET /health: the original's health answer (@nestjs/terminus' shape) for this process. */
void rest_legacy_health(rest_req *req);

#endif
