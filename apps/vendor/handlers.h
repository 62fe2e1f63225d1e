/*
 * handlers.h — venta.vendor.v1.VendorService over libs/rpc.
 */
#ifndef VENTA_VENDOR_HANDLERS_H
#define VENTA_VENDOR_HANDLERS_H

#include "profile_cache.h"
#include "profile_sync.h"
#include "publish.h"
#include "search_engine.h"
#include "vt_core.h"
#include "vt_service.h"

#include "venta/vendor/v1/vendor.pb-c.h"

typedef struct {
    vt_outbox_relay *outbox; /* publishes the events writes put in vendor.outbox */
    /* GetVendor's cache (NULL: off) and what says which of its reads may be served. */
    profile_cache *profiles;
    profile_sync *sync;
    /* SearchVendors' onlineNow: a live position at most this old (seconds). */
    double online_window_s;
    /* How SearchVendors runs its searches. */
    search_plan search;
} vendor_service;

/* Registers every VendorService method on svc (counted and timed by libs/service), with
 * app as their state; takes svc's outbox relay. */
int vendor_service_register(vendor_service *app, vt_service *svc);

/* UpdateVendor itself, for another service's handler acting for the same caller
 * (MediaService.SetVendorImage): identity, validation, ownership, the write and its
 * evt.vendor.updated. Returns the status, with the message set on ctx. */
int vendor_update(vt_rpc_ctx *ctx, vendor_service *svc,
                  const Venta__Vendor__V1__UpdateVendorRequest *req,
                  Venta__Vendor__V1__Vendor *out);

/* libs/rpc hands handlers generic messages; this defines fn##_call, which takes the
 * typed ones and passes the method's user pointer as the handler's state. */
#define VENDOR_TYPED_HANDLER(fn, in_type, out_type)                                                \
    static int fn##_call(vt_rpc_ctx *ctx, const ProtobufCMessage *in, ProtobufCMessage *out,       \
                         void *user)                                                               \
    {                                                                                              \
        return fn(ctx, user, (const in_type *)in, (out_type *)out);                                \
    }

#endif
