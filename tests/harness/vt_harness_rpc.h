/*
 * vt_harness_rpc.h — probing a service under test over gRPC: its grpc.health.v1 status,
 * and waiting until it serves (every dependency up).
 */
#ifndef VT_HARNESS_RPC_H
#define VT_HARNESS_RPC_H

#include "vt_rpc.h"

#include <stdbool.h>

/* The ServingStatus of service ("" = the whole server), or -code when the call failed. */
int vt_harness_health(vt_rpc_channel *ch, const char *service);
/* Poll Check("") until SERVING, for up to timeout_ms. */
bool vt_harness_wait_serving(vt_rpc_channel *ch, int timeout_ms);

#endif
