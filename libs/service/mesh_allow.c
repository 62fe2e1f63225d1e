/*
 * mesh_allow.c — who may call what in the Venta mesh: the allow-list every gRPC service
 * checks when mTLS is on (docs/security.md has it as a table, with the reasons).
 *
 * One table for the whole mesh, since a method path names its service: a server only
 * ever sees calls of its own methods, so the rows of the others never match there.
 * Least privilege: the REST gateway fronts every method of the API; the WebSocket
 * gateway calls the three methods it uses; venta-user lists a user's vendors; venta-cli
 * (the simulator) lists vendors. Only the two gateways, which verify the session JWT,
 * may say on whose behalf they call (x-user-id). Health is open to any certificate of
 * the mesh (the gateways' /readyz, venta-cli health).
 */
#include "vt_service.h"

const vt_rpc_allow vt_service_mesh_allow[] = {
    {"/grpc.health.v1.Health/", "*", false},

    {"/venta.user.v1.UserService/", "venta-gateway", true},
    {"/venta.vendor.v1.VendorService/", "venta-gateway", true},
    {"/venta.media.v1.MediaService/", "venta-gateway", true},
    {"/venta.location.v1.LocationService/", "venta-gateway", true},

    {"/venta.vendor.v1.VendorService/GetVendor", "venta-ws-gateway", true},
    {"/venta.vendor.v1.VendorService/ListVendors", "venta-ws-gateway", true},
    {"/venta.location.v1.LocationService/VendorsInBounds", "venta-ws-gateway", true},

    {"/venta.vendor.v1.VendorService/ListVendors", "venta-user", false},
    {"/venta.vendor.v1.VendorService/ListVendors", "venta-cli", false},
    {NULL, NULL, false},
};
