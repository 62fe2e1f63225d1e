/*
 * vt_harness_rpc.h — a gRPC service under test: starting its binary on free ports
 * against the harness's servers, probing its grpc.health.v1 status, and waiting until
 * it serves (every dependency up).
 */
#ifndef VT_HARNESS_RPC_H
#define VT_HARNESS_RPC_H

#include "vt_rpc.h"

#include <stdbool.h>

typedef struct {
    int pid;
    int grpc_port, metrics_port;
    vt_rpc_channel *channel; /* to grpc_port; the test frees it */
} vt_harness_service;

/* Start bin with VENTA_DATABASE_URL=db_url, the harness's VENTA_NATS_URL, addr_var and
 * VENTA_METRICS_ADDR on free ports, VENTA_LOG_LEVEL=warn and extra_env ("NAME=value",
 * NULL-terminated, may be NULL; later entries win); wait until it listens and open a
 * channel to it. Exits 1 when it does not come up. */
void vt_harness_service_start(vt_harness_service *s, const char *bin, const char *addr_var,
                              const char *db_url, const char *const *extra_env);

/* The ServingStatus of service ("" = the whole server), or -code when the call failed. */
int vt_harness_health(vt_rpc_channel *ch, const char *service);
/* Poll Check("") until SERVING, for up to timeout_ms. */
bool vt_harness_wait_serving(vt_rpc_channel *ch, int timeout_ms);

#endif
