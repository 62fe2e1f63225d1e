/*
 * sio_only_vendor.c — which vendor an updateVendorLocation without vendorId means.
 *
 * The original gateway took the user's vendor from its database when the app named
 * none. Here the connection asks VendorService.ListVendors(owner_id = its user,
 * page_size 2) once, as that user (conn_rpc.c): one vendor is the answer, none or two are an
 * error the app can act on (create one; name one). sio_client.c holds the events that
 * wait for it and remembers a found vendor as if register-vendor had named it.
 */
#include "sio_only_vendor.h"

#include "conn_rpc.h"
#include "venta/vendor/v1/vendor.pb-c.h"
#include "ws_gateway.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    sio_only_vendor_done done;
    void *user;
} lookup;

static void on_answer(conn *c, void *user, const vt_rpc_reply *reply, bool open)
{
    lookup *lk = user;
    if (open) {
        int rc = vt_rpc_reply_status(reply);
        const Venta__Vendor__V1__ListVendorsResponse *r =
            (const Venta__Vendor__V1__ListVendorsResponse *)vt_rpc_reply_response(reply);
        char why[200];
        const char *id = NULL;
        if (rc != VT_OK || !r) {
            rc = rc != VT_OK ? rc : VT_INTERNAL;
            snprintf(why, sizeof why, "cannot look up your vendor now (%s); retry",
                     vt_status_name(rc));
        } else if (r->n_vendors == 0) {
            rc = VT_NOT_FOUND;
            snprintf(why, sizeof why,
                     "updateVendorLocation: you have no vendor yet; create one first");
        } else if (r->n_vendors > 1) {
            rc = VT_FAILED_PRECONDITION;
            snprintf(why, sizeof why,
                     "updateVendorLocation: you have several vendors; give vendorId or "
                     "register-vendor first");
        } else {
            id = r->vendors[0]->id;
            why[0] = '\0';
        }
        lk->done(c, lk->user, rc, id, why);
    }
    free(lk);
}

int sio_only_vendor_lookup(conn *c, sio_only_vendor_done done, void *user)
{
    lookup *lk = malloc(sizeof *lk);
    if (!lk)
        return VT_RESOURCE_EXHAUSTED;
    *lk = (lookup){.done = done, .user = user};
    Venta__Vendor__V1__ListVendorsRequest req = VENTA__VENDOR__V1__LIST_VENDORS_REQUEST__INIT;
    req.owner_id = c->user_id;
    req.page_size = 2; /* one is the answer; a second says there is a choice */
    int rc = conn_rpc_call(c, c->g->vendor_ch, &venta__vendor__v1__vendor_service__descriptor,
                           "ListVendors", &req.base, on_answer, lk);
    if (rc != VT_OK)
        free(lk);
    return rc;
}
