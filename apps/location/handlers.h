/*
 * handlers.h — venta.location.v1.LocationService over libs/rpc.
 */
#ifndef VENTA_LOCATION_HANDLERS_H
#define VENTA_LOCATION_HANDLERS_H

#include "live.h"
#include "vt_bus.h"
#include "vt_metrics.h"
#include "vt_rpc.h"
#include "vt_service.h"

typedef struct {
    vt_bus *bus;
    int ttl_s; /* VENTA_LOCATION_TTL_S: positions older than this are not live */
    int presence_ttl_s; /* VENTA_PRESENCE_TTL_S: online needs a position this recent */
    live *live; /* box and radius reads once loaded; NULL: always the table */
    vt_histogram *latency[4];
} location_service;

/* Registers metrics and every LocationService method on srv. Each worker's state
 * (vt_rpc_ctx_worker) must be its vt_db_conn. */
int location_service_register(location_service *svc, vt_rpc_server *srv, vt_metrics *metrics);

#endif
