/*
 * venta-user — users mirrored from Clerk and their RevenueCat subscription state:
 * venta.user.v1.UserService (API.md §3, §5), domain events on NATS (§6), the account
 * schema (§7).
 *
 * Configuration (besides vt_service's): VENTA_USER_ADDR (127.0.0.1:50051) where it
 * listens; VENTA_METRICS_ADDR (127.0.0.1:9101); VENTA_VENDOR_ADDR (127.0.0.1:50052)
 * where VendorService answers ListUserVendors; VENTA_VENDOR_TIMEOUT_MS (5000) the
 * longest a ListVendors call may take, always within the caller's own deadline.
 */
#include "store.h"
#include "user_service.h"
#include "vt_service.h"

#include <stdio.h>
#include <string.h>

int main(void)
{
    vt_service_opts spec = {
        .name = "venta-user",
        .addr_var = "VENTA_USER_ADDR",
        .addr_default = "127.0.0.1:50051",
        .metrics_default = "127.0.0.1:9101",
        .statements = store_statements,
        .outbox_table = "account.outbox",
    };
    spec.nstatements = store_nstatements;
    /* Our own variables first, so that a bad one stops us before anything starts. */
    vt_addr vendor_addr = vt_config_addr("VENTA_VENDOR_ADDR", "127.0.0.1:50052");
    char target[300];
    bool v6 = strchr(vendor_addr.host, ':') != NULL;
    snprintf(target, sizeof target, "%s%s%s:%u", v6 ? "[" : "", vendor_addr.host, v6 ? "]" : "",
             vendor_addr.port);
    int vendor_timeout_ms = (int)vt_config_int("VENTA_VENDOR_TIMEOUT_MS", 5000, 1, 600000);
    vt_service *svc = NULL;
    char err[256];
    if (vt_service_new(&spec, &svc, err, sizeof err) != VT_OK) {
        vt_error(NULL, "%s", err);
        return 1;
    }

    user_service app = {.vendor_timeout_ms = vendor_timeout_ms};
    vt_rpc_channel_opts co = {.target = target, .tls = svc->tls, .server_name = "venta-vendor"};
    if (vt_rpc_channel_new(&co, &app.vendor, err, sizeof err) != VT_OK) {
        vt_error(NULL, "cannot create a channel to the vendor service at %s: %s", target, err);
        return 1;
    }
    if (user_service_register(&app, svc) != VT_OK) {
        vt_error(NULL, "cannot register UserService");
        return 1;
    }
    int rc = vt_service_run(svc);
    /* The server has stopped: no handler uses the vendor channel any more. */
    vt_rpc_channel_free(app.vendor);
    vt_service_free(svc);
    return rc;
}
