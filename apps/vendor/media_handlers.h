/*
 * media_handlers.h — venta.media.v1.MediaService over libs/rpc (media_handlers.c):
 * vendor images uploaded, served and set as a vendor's profile image.
 */
#ifndef VENTA_VENDOR_MEDIA_HANDLERS_H
#define VENTA_VENDOR_MEDIA_HANDLERS_H

#include "handlers.h"
#include "vt_media.h"
#include "vt_metrics.h"
#include "vt_service.h"

typedef struct {
    vendor_service *vendors; /* SetVendorImage updates the vendor through it */
    vt_media_store **stores; /* one per worker, over the worker's own connection */
    int nstores;
    vt_counter *uploads[7]; /* by outcome, see media_handlers.c */
    vt_counter *received_bytes, *stored_bytes;
} media_service;

/* Starts libvips, makes a PostgreSQL media store per worker connection of svc and
 * registers every MediaService method on svc with app as their state. 0, or a VT_*
 * code with err. */
int media_service_register(media_service *app, vendor_service *vendors, vt_service *svc, char *err,
                           size_t errlen);
/* After vt_service_run returned: frees the stores. */
void media_service_free(media_service *app);

/* The largest MediaService message: an upload of VT_MEDIA_MAX_BYTES and room for the
 * rest of the request. What venta-vendor's gRPC server accepts. */
#define MEDIA_MAX_MESSAGE (VT_MEDIA_MAX_BYTES + 64 * 1024)

#endif
