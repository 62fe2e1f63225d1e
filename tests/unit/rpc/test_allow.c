/*
 * test_allow.c — the allow-list of mTLS servers (libs/rpc/allow.c), white-box: which
 * method patterns cover which paths, callers by name and "*", the x-user-id rule, the
 * reasons given, and the mesh's own table (libs/service/mesh_allow.c) row by row for
 * the calls the processes make today. tests/integration/tls checks the same over real
 * connections with real certificates.
 */
#include <string.h>

#include "rpc_internal.h"
#include "vt_service.h"
#include "vt_test.h"

static bool allowed(const vt_rpc_allow *rows, const char *path, const char *peer, bool user,
                    char *why, size_t whylen)
{
    why[0] = '\0';
    return rpc_allowed(rows, path, peer, user, why, whylen);
}

static void test_patterns(void)
{
    static const vt_rpc_allow rows[] = {
        {"/pkg.A/", "svc-a", false}, {"/pkg.B/Get", "svc-b", true},
        {"*", "root", false},        {"/grpc.health.v1.Health/", "*", false},
        {NULL, NULL, false},
    };
    char why[512];
    VT_CHECK(allowed(rows, "/pkg.A/Any", "svc-a", false, why, sizeof why));
    VT_CHECK(!allowed(rows, "/pkg.A/Any", "svc-b", false, why, sizeof why));
    VT_CHECK_STR(why, "svc-b may not call /pkg.A/Any");
    /* A service row covers its methods, not a longer service name or a deeper path. */
    VT_CHECK(!allowed(rows, "/pkg.AB/Any", "svc-a", false, why, sizeof why));
    VT_CHECK(!allowed(rows, "/pkg.A/x/y", "svc-a", false, why, sizeof why));
    /* A method row is that method only. */
    VT_CHECK(allowed(rows, "/pkg.B/Get", "svc-b", true, why, sizeof why));
    VT_CHECK(!allowed(rows, "/pkg.B/GetAll", "svc-b", false, why, sizeof why));
    /* x-user-id only where the row says so; the reason says which rule failed. */
    VT_CHECK(!allowed(rows, "/pkg.A/Any", "svc-a", true, why, sizeof why));
    VT_CHECK_STR(why, "svc-a may call /pkg.A/Any but not on behalf of a user (x-user-id)");
    VT_CHECK(allowed(rows, "/anything/At", "root", false, why, sizeof why));
    VT_CHECK(!allowed(rows, "/anything/At", "root", true, why, sizeof why));
    VT_CHECK(allowed(rows, "/grpc.health.v1.Health/Check", "whoever", false, why, sizeof why));
    /* No identity: never, whatever the rows; no rows: any identity. */
    VT_CHECK(!allowed(rows, "/grpc.health.v1.Health/Check", NULL, false, why, sizeof why));
    VT_CHECK_STR(why, "the caller has no identity of the mesh");
    VT_CHECK(!allowed(NULL, "/pkg.A/Any", NULL, false, why, sizeof why));
    VT_CHECK(allowed(NULL, "/pkg.A/Any", "svc-z", true, why, sizeof why));
}

/* Every call the mesh makes today is allowed, and the ones the issue names are not. */
static void test_mesh_table(void)
{
    const vt_rpc_allow *t = vt_service_mesh_allow;
    char why[512];
    static const struct {
        const char *path, *peer;
        bool user, ok;
    } cases[] = {
        {"/venta.user.v1.UserService/UpsertUser", "venta-gateway", false, true},
        {"/venta.user.v1.UserService/ListUserVendors", "venta-gateway", true, true},
        {"/venta.vendor.v1.VendorService/UpdateVendor", "venta-gateway", true, true},
        {"/venta.media.v1.MediaService/UploadImage", "venta-gateway", true, true},
        {"/venta.location.v1.LocationService/VendorsNearby", "venta-gateway", true, true},
        {"/venta.vendor.v1.VendorService/GetVendor", "venta-ws-gateway", true, true},
        {"/venta.vendor.v1.VendorService/ListVendors", "venta-ws-gateway", true, true},
        {"/venta.location.v1.LocationService/VendorsInBounds", "venta-ws-gateway", true, true},
        {"/venta.vendor.v1.VendorService/ListVendors", "venta-user", false, true},
        {"/venta.vendor.v1.VendorService/ListVendors", "venta-cli", false, true},
        {"/grpc.health.v1.Health/Check", "venta-location", false, true},
        {"/grpc.health.v1.Health/Watch", "venta-cli", false, true},
        /* refused */
        {"/venta.vendor.v1.VendorService/DeleteVendor", "venta-ws-gateway", true, false},
        {"/venta.user.v1.UserService/GetUser", "venta-ws-gateway", true, false},
        {"/venta.vendor.v1.VendorService/ListVendors", "venta-user", true, false},
        {"/venta.vendor.v1.VendorService/DeleteVendor", "venta-user", false, false},
        {"/venta.vendor.v1.VendorService/GetVendor", "venta-location", false, false},
        {"/venta.user.v1.UserService/DeleteUser", "venta-vendor", false, false},
        {"/grpc.health.v1.Health/Check", "venta-cli", true, false},
        {"/venta.vendor.v1.VendorService/GetVendor", "stranger", false, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        bool ok = allowed(t, cases[i].path, cases[i].peer, cases[i].user, why, sizeof why);
        if (ok != cases[i].ok)
            fprintf(stderr, "case %zu: %s by %s (user %d): %s\n", i, cases[i].path, cases[i].peer,
                    cases[i].user, why);
        VT_CHECK(ok == cases[i].ok);
    }
}

int main(void)
{
    VT_RUN(test_patterns);
    VT_RUN(test_mesh_table);
    return VT_TEST_RESULT();
}
