/*
 * rest_vendor_get.c — GET /api/v1/vendors/{id}: "one vendor with its last known location"
 * (API.md §3).
 *
 * VendorService has the profile and a last-known location that its cache writes in
 * batches (VENTA_VENDOR_LOCATION_INTERVAL_MS, 5 s), so right after a location update it
 * can be seconds behind. LocationService has the live position. So: GetVendor, then
 * LocationService.GetVendorLocation, and the newer of the two positions goes into the
 * reply. A vendor that never reported a position (NOT_FOUND), or a location service
 * that does not answer, leaves the vendor as VendorService gave it: the profile is
 * the answer, the position a refinement. The original's GET /vendor/:id is the same
 * steps in its shape (rest_legacy_shapes.c).
 */
#include "rest_vendor_get.h"
#include "rest_app.h"
#include "rest_legacy_shapes.h"
#include "rest_metrics.h"
#include "rest_req.h"
#include "rest_upstream.h"

#include "venta/location/v1/location.pb-c.h"
#include "venta/vendor/v1/vendor.pb-c.h"
#include "vt_json.h"

#include <stdlib.h>
#include <string.h>

static void respond_vendor(rest_req *req, vt_rpc_reply *vendor_reply,
                           const Venta__Location__V1__VendorPosition *live)
{
    Venta__Vendor__V1__Vendor *v = (Venta__Vendor__V1__Vendor *)vt_rpc_reply_response(vendor_reply);
    Venta__Common__V1__Location *stored = v->location, fresh;
    /* The form VendorService writes too: comparable as text with the stored one. */
    char at[VT_RFC3339_MS_LEN + 1] = "";
    if (live)
        vt_rfc3339_ms(live->ts, at);
    if (live && (!stored || !stored->updated_at || strcmp(at, stored->updated_at) > 0)) {
        venta__common__v1__location__init(&fresh);
        fresh.lat = live->lat;
        fresh.lng = live->lng;
        fresh.updated_at = at;
        v->location = &fresh;
    }
    char *out = NULL;
    size_t len = 0;
    int rc = req->route && req->route->legacy ? rest_legacy_vendor_json(v, &out, &len)
                                              : vt_json_encode(&v->base, NULL, &out, &len);
    v->location = stored; /* the reply frees what it owns, not our stack copy */
    if (rc != VT_OK) {
        rest_respond_error(req, VT_INTERNAL, "cannot encode the response");
        return;
    }
    rest_respond(req, 200, "application/json", out, len);
}

static void on_location(rest_req *req, vt_rpc_reply *reply)
{
    vt_rpc_reply *vendor_reply = req->held_reply;
    req->held_reply = NULL;
    int status = vt_rpc_reply_status(reply);
    if (status != VT_OK && status != VT_NOT_FOUND)
        rest_metrics_upstream_error(req->app->m, REST_UP_LOCATION, status);
    respond_vendor(req, vendor_reply,
                   status == VT_OK
                       ? (const Venta__Location__V1__VendorPosition *)vt_rpc_reply_response(reply)
                       : NULL);
    vt_rpc_reply_free(reply);
    vt_rpc_reply_free(vendor_reply);
}

static void on_vendor(rest_req *req, vt_rpc_reply *reply)
{
    if (vt_rpc_reply_status(reply) != VT_OK || !vt_rpc_reply_response(reply)) {
        rest_respond_rpc_error(req, REST_UP_VENDOR, reply);
        vt_rpc_reply_free(reply);
        return;
    }
    req->held_reply = reply;
    Venta__Location__V1__GetVendorLocationRequest *q = malloc(sizeof *q);
    if (q) {
        venta__location__v1__get_vendor_location_request__init(q);
        q->vendor_id = strdup(req->id);
    }
    if (!q || !q->vendor_id ||
        rest_upstream_call(req, REST_UP_LOCATION,
                           &venta__location__v1__location_service__descriptor, "GetVendorLocation",
                           &q->base, on_location) != VT_OK) {
        if (q && !q->vendor_id)
            free(q);
        req->held_reply = NULL;
        respond_vendor(req, reply, NULL);
        vt_rpc_reply_free(reply);
    }
}

void rest_vendor_get(rest_req *req, ProtobufCMessage *get_vendor)
{
    if (rest_upstream_call(req, REST_UP_VENDOR, &venta__vendor__v1__vendor_service__descriptor,
                           "GetVendor", get_vendor, on_vendor) != VT_OK) {
        rest_metrics_upstream_error(req->app->m, REST_UP_VENDOR, VT_UNAVAILABLE);
        rest_respond_error(req, VT_UNAVAILABLE, "vendor service: cannot start the call");
    }
}
