/*
 * handlers.c — the LocationService methods (API.md §5).
 *
 * Reads come from the live map (live.h) once it is loaded, and from PostgreSQL on the
 * worker's own connection until then; a single vendor the map has no live position
 * for is looked up in the table, which also keeps positions older than the TTL
 * (find_position). A write
 * (UpdateVendorLocation) does not touch the database: it publishes on the vendor's
 * geohash subject exactly as the WebSocket edge does, and the ingest path stores it,
 * so storage and live fan-out have one source. The known position is read first only
 * to learn the vendor's previous cell (for the left-cell announcement) and its presence.
 */
#include "handlers.h"

#include "store.h"
#include "venta/location/v1/location.pb-c.h"
#include "vt_events.h"
#include "vt_geo.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_LIMIT 100
#define MAX_LIMIT 1000
#define MAX_RADIUS_M 100000.0

enum { M_UPDATE, M_GET, M_BOUNDS, M_NEARBY };

static vt_db_conn *db(vt_rpc_ctx *ctx)
{
    return vt_rpc_ctx_worker(ctx);
}

static void observe(location_service *svc, int method, int64_t t0)
{
    vt_histogram_observe(svc->latency[method], (double)(vt_monotonic_ns() - t0) / 1e9);
}

/* Online needs a position within the presence TTL as well as the stored flag: a live
 * vendor sends one at least that often (API.md §4: going silent makes it offline), and
 * an offline that was lost (venta-location down when it was sent) must not leave the
 * vendor online until its position goes stale. */
static bool present(const location_service *svc, const store_position *p)
{
    return p->online && p->updated > vt_now_ms() - (int64_t)svc->presence_ttl_s * 1000;
}

static Venta__Location__V1__VendorPosition *
position_out(vt_rpc_ctx *ctx, const location_service *svc, const store_position *p)
{
    Venta__Location__V1__VendorPosition *v = vt_rpc_ctx_alloc(ctx, sizeof *v);
    venta__location__v1__vendor_position__init(v);
    v->vendor_id = vt_rpc_ctx_strdup(ctx, p->vendor_id);
    v->lat = p->lat;
    v->lng = p->lng;
    v->heading = p->heading;
    v->speed = p->speed;
    v->accuracy = p->accuracy;
    v->ts = p->ts;
    v->online = present(svc, p);
    v->distance_meters = p->distance_m;
    return v;
}

/* Fill a repeated VendorPosition field from found[0..n). */
static void positions_out(vt_rpc_ctx *ctx, const location_service *svc, const store_position *found,
                          size_t n, size_t *n_out, Venta__Location__V1__VendorPosition ***out)
{
    *out = n ? vt_rpc_ctx_alloc(ctx, n * sizeof **out) : NULL;
    for (size_t i = 0; i < n; i++)
        (*out)[i] = position_out(ctx, svc, &found[i]);
    *n_out = n;
}

/* Every row of a table read (at most max) into found; frees res. */
static size_t rows_into(PGresult *res, store_position *found, size_t max)
{
    size_t n = (size_t)PQntuples(res);
    if (n > max)
        n = max;
    for (size_t i = 0; i < n; i++)
        store_row(res, (int)i, &found[i]);
    PQclear(res);
    return n;
}

static int check_limit(vt_rpc_ctx *ctx, int32_t limit, int *out)
{
    if (limit < 0 || limit > MAX_LIMIT)
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT, "limit must be between 1 and %d",
                                MAX_LIMIT);
    *out = limit ? limit : DEFAULT_LIMIT;
    return VT_OK;
}

/* A vendor's position: live from the map; otherwise the table, which also keeps
 * positions older than the TTL. VT_NOT_FOUND when neither has one. */
static int find_position(vt_rpc_ctx *ctx, const location_service *svc, const char *vendor_id,
                         store_position *out, char *err, size_t errlen)
{
    if (svc->live && live_get(svc->live, vendor_id, out) == VT_OK)
        return VT_OK;
    vt_rpc_ctx_will_block(ctx);
    PGresult *res;
    int rc = store_get(db(ctx), vendor_id, svc->ttl_s, &res, err, errlen);
    if (rc != VT_OK)
        return rc;
    return rows_into(res, out, 1) == 1 ? VT_OK : VT_NOT_FOUND;
}

static int update_vendor_location(vt_rpc_ctx *ctx, const ProtobufCMessage *in_msg,
                                  ProtobufCMessage *out_msg, void *user)
{
    location_service *svc = user;
    int64_t t0 = vt_monotonic_ns();
    const Venta__Location__V1__UpdateVendorLocationRequest *req = (const void *)in_msg;
    Venta__Location__V1__UpdateVendorLocationResponse *out = (void *)out_msg;

    /* One spelling of the id on the bus (NATS subjects are case-sensitive): the edge's. */
    if (!vt_uuid_valid(req->vendor_id))
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT, "vendorId must be a UUID");
    vt_events_position loc = {.lat = req->lat,
                              .lng = req->lng,
                              .heading = req->heading,
                              .speed = req->speed,
                              .accuracy = req->accuracy,
                              .ts = req->ts ? req->ts : vt_now_ms()};
    const char *vendor_id = loc.vendor_id;
    memcpy(loc.vendor_id, req->vendor_id, sizeof loc.vendor_id);
    for (char *c = loc.vendor_id; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    char err[256];
    if (vt_events_position_valid(&loc, err, sizeof err) != VT_OK)
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT, "%s", err);

    /* The stored position tells the previous cell and whether a connection holds the
     * vendor online: this position does not change that (it is not live). */
    char previous[VT_EVENTS_CELL_PRECISION + 1] = "";
    bool online = false;
    store_position stored;
    if (find_position(ctx, svc, vendor_id, &stored, err, sizeof err) == VT_OK) {
        vt_geo_hash_encode(stored.lat, stored.lng, VT_EVENTS_CELL_PRECISION, previous);
        online = present(svc, &stored);
    }

    int rc = vt_events_publish_location(svc->bus, &loc, previous, NULL);
    if (rc != VT_OK)
        return vt_rpc_ctx_error(ctx, VT_UNAVAILABLE, "live location bus unavailable");
    Venta__Location__V1__VendorPosition *p = vt_rpc_ctx_alloc(ctx, sizeof *p);
    venta__location__v1__vendor_position__init(p);
    p->vendor_id = vt_rpc_ctx_strdup(ctx, vendor_id);
    p->lat = loc.lat;
    p->lng = loc.lng;
    p->heading = loc.heading;
    p->speed = loc.speed;
    p->accuracy = loc.accuracy;
    p->ts = loc.ts;
    p->online = online;
    out->position = p;
    observe(svc, M_UPDATE, t0);
    return VT_OK;
}

static int get_vendor_location(vt_rpc_ctx *ctx, const ProtobufCMessage *in_msg,
                               ProtobufCMessage *out_msg, void *user)
{
    location_service *svc = user;
    int64_t t0 = vt_monotonic_ns();
    const Venta__Location__V1__GetVendorLocationRequest *req = (const void *)in_msg;
    if (!vt_uuid_valid(req->vendor_id))
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT, "vendorId must be a UUID");
    store_position found;
    char err[512];
    int rc = find_position(ctx, svc, req->vendor_id, &found, err, sizeof err);
    if (rc == VT_NOT_FOUND)
        return vt_rpc_ctx_error(ctx, VT_NOT_FOUND, "vendor %s has no known location",
                                req->vendor_id);
    if (rc != VT_OK)
        return vt_service_db_error(ctx, "location store", rc, err);
    Venta__Location__V1__VendorPosition *p = position_out(ctx, svc, &found);
    /* The response message is pre-initialised; copy the fields over. */
    Venta__Location__V1__VendorPosition *out = (void *)out_msg;
    ProtobufCMessage base = out->base;
    *out = *p;
    out->base = base;
    observe(svc, M_GET, t0);
    return VT_OK;
}

static int vendors_in_bounds(vt_rpc_ctx *ctx, const ProtobufCMessage *in_msg,
                             ProtobufCMessage *out_msg, void *user)
{
    location_service *svc = user;
    int64_t t0 = vt_monotonic_ns();
    const Venta__Location__V1__VendorsInBoundsRequest *req = (const void *)in_msg;
    Venta__Location__V1__VendorsInBoundsResponse *out = (void *)out_msg;
    vt_geo_box box = {.ne = {req->ne_lat, req->ne_lng}, .sw = {req->sw_lat, req->sw_lng}};
    if (!vt_geo_box_valid(&box))
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT,
                                "bounds must be valid coordinates with neLat >= swLat");
    int limit = DEFAULT_LIMIT;
    if (check_limit(ctx, req->limit, &limit) != VT_OK)
        return VT_INVALID_ARGUMENT;
    store_position *found = malloc((size_t)limit * sizeof *found);
    if (!found)
        return vt_rpc_ctx_error(ctx, VT_RESOURCE_EXHAUSTED, "out of memory");
    size_t n = 0;
    char err[512] = "";
    int rc = svc->live ? live_in_bounds(svc->live, &box, (size_t)limit, found, &n) : VT_UNAVAILABLE;
    if (rc == VT_UNAVAILABLE) { /* the live map is loading: read the table */
        vt_rpc_ctx_will_block(ctx);
        PGresult *res;
        rc = store_in_bounds(db(ctx), &box, svc->ttl_s, limit, &res, err, sizeof err);
        if (rc == VT_OK)
            n = rows_into(res, found, (size_t)limit);
    }
    if (rc == VT_OK)
        positions_out(ctx, svc, found, n, &out->n_vendors, &out->vendors);
    free(found);
    if (rc != VT_OK)
        return vt_service_db_error(ctx, "location store", rc, err);
    observe(svc, M_BOUNDS, t0);
    return VT_OK;
}

static int vendors_nearby(vt_rpc_ctx *ctx, const ProtobufCMessage *in_msg,
                          ProtobufCMessage *out_msg, void *user)
{
    location_service *svc = user;
    int64_t t0 = vt_monotonic_ns();
    const Venta__Location__V1__VendorsNearbyRequest *req = (const void *)in_msg;
    Venta__Location__V1__VendorsNearbyResponse *out = (void *)out_msg;
    if (!vt_geo_point_valid(req->lat, req->lng))
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT,
                                "lat must be in [-90, 90] and lng in [-180, 180]");
    if (!(req->radius_meters > 0 && req->radius_meters <= MAX_RADIUS_M))
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT,
                                "radius must be more than 0 and at most %.0f metres", MAX_RADIUS_M);
    int limit = DEFAULT_LIMIT;
    if (check_limit(ctx, req->limit, &limit) != VT_OK)
        return VT_INVALID_ARGUMENT;
    store_position *found = malloc((size_t)limit * sizeof *found);
    if (!found)
        return vt_rpc_ctx_error(ctx, VT_RESOURCE_EXHAUSTED, "out of memory");
    size_t n = 0;
    char err[512] = "";
    int rc = svc->live ? live_nearby(svc->live, req->lat, req->lng, req->radius_meters,
                                     (size_t)limit, found, &n)
                       : VT_UNAVAILABLE;
    if (rc == VT_UNAVAILABLE) { /* the live map is loading: read the table */
        vt_rpc_ctx_will_block(ctx);
        PGresult *res;
        rc = store_nearby(db(ctx), req->lat, req->lng, req->radius_meters, svc->ttl_s, limit, &res,
                          err, sizeof err);
        if (rc == VT_OK)
            n = rows_into(res, found, (size_t)limit);
    }
    if (rc == VT_OK)
        positions_out(ctx, svc, found, n, &out->n_vendors, &out->vendors);
    free(found);
    if (rc != VT_OK)
        return vt_service_db_error(ctx, "location store", rc, err);
    observe(svc, M_NEARBY, t0);
    return VT_OK;
}

int location_service_register(location_service *app, vt_service *svc)
{
    /* venta_location_query_seconds (successful calls) came before libs/service timed
     * every call in venta_location_call_seconds; it stays for the dashboards that read
     * it. */
    static const char *const names[] = {"UpdateVendorLocation", "GetVendorLocation",
                                        "VendorsInBounds", "VendorsNearby"};
    for (int i = 0; i < 4; i++) {
        char labels[64];
        snprintf(labels, sizeof labels, "method=\"%s\"", names[i]);
        app->latency[i] =
            vt_metrics_histogram(svc->metrics, "venta_location_query_seconds",
                                 "LocationService call latency (successful calls).", labels,
                                 vt_metrics_latency_bounds, vt_metrics_latency_nbounds);
    }
    static const vt_rpc_method_entry table[] = {
        {"UpdateVendorLocation", update_vendor_location, 0, NULL},
        /* Reads answer from the live map, calling vt_rpc_ctx_will_block before the
         * table (a vendor the map does not hold, the map still loading). */
        {"GetVendorLocation", get_vendor_location, VT_RPC_NONBLOCKING, NULL},
        {"VendorsInBounds", vendors_in_bounds, VT_RPC_NONBLOCKING, NULL},
        {"VendorsNearby", vendors_nearby, VT_RPC_NONBLOCKING, NULL},
        {NULL, NULL, 0, NULL},
    };
    return vt_service_add_methods(svc, &venta__location__v1__location_service__descriptor, table,
                                  app);
}
