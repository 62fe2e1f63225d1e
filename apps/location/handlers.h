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
    int ttl_s;                /* VENTA_LOCATION_TTL_S: positions older than this are not live */
    int presence_ttl_s;       /* VENTA_PRESENCE_TTL_S: online needs a position this recent */
    live *live;               /* box and radius reads once loaded; NULL: always the table */
    vt_histogram *latency[4]; /* venta_location_query_seconds: successful calls only */
} location_service;

/* Registers every LocationService method on svc (counted and timed by libs/service),
 * with app as their state. */
int location_service_register(location_service *app, vt_service *svc);

#endif
