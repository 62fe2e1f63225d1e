/*
 * handlers.h — venta.vendor.v1.VendorService over libs/rpc.
 */
#ifndef VENTA_VENDOR_HANDLERS_H
#define VENTA_VENDOR_HANDLERS_H

#include "profile_cache.h"
#include "profile_sync.h"
#include "publish.h"
#include "vt_core.h"
#include "vt_service.h"

typedef struct {
    vt_outbox_relay *outbox; /* publishes the events writes put in vendor.outbox */
    /* GetVendor's cache (NULL: off) and what says which of its reads may be served. */
    profile_cache *profiles;
    profile_sync *sync;
    /* SearchVendors' onlineNow: a live position at most this old (seconds). */
    double online_window_s;
} vendor_service;

/* Registers every VendorService method on svc (counted and timed by libs/service), with
 * app as their state; takes svc's outbox relay. */
int vendor_service_register(vendor_service *app, vt_service *svc);

#endif
