/*
 * sio_only_vendor.h — the original apps' "user's only vendor" (sio_only_vendor.c): an
 * updateVendorLocation without vendorId, on a connection that sent no register-vendor,
 * is for the user's vendor when the user has exactly one.
 */
#ifndef VENTA_WS_SIO_ONLY_VENDOR_H
#define VENTA_WS_SIO_ONLY_VENDOR_H

#include "conn.h"

/* The answer, on the loop, only while c is open (never after it closed): status VT_OK
 * with the one vendor's id, or VT_NOT_FOUND (no vendor), VT_FAILED_PRECONDITION (more
 * than one) or the lookup's failure; why says it in words for the app. */
typedef void (*sio_only_vendor_done)(conn *c, void *user, int status, const char *vendor_id,
                                     const char *why);

/* Ask VendorService for the vendors c's user owns; done runs once, later. VT_OK, or
 * the status that kept the call from starting (done does not run then). */
int sio_only_vendor_lookup(conn *c, sio_only_vendor_done done, void *user);

#endif
