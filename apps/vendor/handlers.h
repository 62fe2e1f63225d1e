/*
 * handlers.h — venta.vendor.v1.VendorService over libs/rpc.
 */
#ifndef VENTA_VENDOR_HANDLERS_H
#define VENTA_VENDOR_HANDLERS_H

#include "profile_cache.h"
#include "profile_sync.h"
#include "publish.h"
#include "vt_core.h"
#include "vt_metrics.h"
#include "vt_rpc.h"
#include "vt_service.h"

#include <stdatomic.h>

#define VENDOR_METHODS 6

typedef struct {
    vt_outbox_relay *outbox; /* publishes the events writes put in vendor.outbox */
    /* GetVendor's cache (NULL: off) and what says which of its reads may be served. */
    profile_cache *profiles;
    profile_sync *sync;
    vt_metrics *metrics;
    vt_histogram *latency[VENDOR_METHODS];
    /* venta_vendor_calls_total{method,code}: registered on first use of each pair. */
    _Atomic(vt_counter *) calls[VENDOR_METHODS][VT_STATUS_COUNT];
} vendor_service;

/* Registers metrics and every VendorService method on srv. Each worker's state
 * (vt_rpc_ctx_worker) must be its vt_db_conn. */
int vendor_service_register(vendor_service *svc, vt_rpc_server *srv, vt_metrics *metrics,
                            vt_outbox_relay *outbox);

#endif
