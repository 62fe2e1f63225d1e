/*
 * rest_legacy_shapes.h — the original Venta backend's JSON shapes ⇄ our gRPC messages
 * (rest_legacy_shapes.c). Pure: no request, no loop, so tests/unit/gateway checks
 * every mapping directly.
 */
#ifndef REST_LEGACY_SHAPES_H
#define REST_LEGACY_SHAPES_H

#include "venta/user/v1/user.pb-c.h"
#include "venta/vendor/v1/vendor.pb-c.h"
#include "vt_core.h"

#include <stdbool.h>
#include <stddef.h>

/* {"vendor":{id, lat, long, name, description, phone, email, website, open, primaryImage,
 * createdAt, updatedAt}} of v: the original's GET /vendor/:id. lat/long are v's location,
 * 0 when it has none (as the original). *out is malloc'd. VT_OK or VT_RESOURCE_EXHAUSTED. */
int rest_legacy_vendor_json(const Venta__Vendor__V1__Vendor *v, char **out, size_t *len);

/* The body of POST /vendor (name; description, email, phone, website, imageUrl or
 * primaryImage: strings or null; open: a boolean) as a CreateVendorRequest without its
 * owner. Unknown keys are ignored, as the original's schema stripped them. VT_OK, or
 * VT_INVALID_ARGUMENT with err naming the field. */
int rest_legacy_create_request(const char *body, size_t len,
                               Venta__Vendor__V1__CreateVendorRequest **out, char *err,
                               size_t errlen);

/* The body of PUT /vendor/:id as an UpdateVendorRequest without its id: a key sent sets
 * the field (null clears it, except name, which must stay a non-empty string), a key
 * left out keeps it. The same errors as above. */
int rest_legacy_update_request(const char *body, size_t len,
                               Venta__Vendor__V1__UpdateVendorRequest **out, char *err,
                               size_t errlen);

/* Append {"id","name"} of each vendor of r to acc, comma-separated (the items of GET
 * /user/vendors' array, which may take several pages). */
void rest_legacy_vendor_names(const Venta__User__V1__ListUserVendorsResponse *r, vt_buf *acc);

/* GET /health's body in the shape of @nestjs/terminus: one memory_rss check, up while
 * rss_bytes < limit_bytes. Returns whether it is up (200; else 503). out holds 512. */
bool rest_legacy_health_json(long long rss_bytes, long long limit_bytes, char *out, size_t n);

#endif
