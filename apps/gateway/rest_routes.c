/*
 * rest_routes.c — the REST surface of API.md §3 as data.
 *
 * Each row says which gRPC method serves a method + path template and where the
 * request's pieces go: the JSON body is decoded into the method's input message by the
 * generic transcoder (libs/json), the path's {id} and the caller's `sub` are set into
 * named fields afterwards (so a body can never override them), and whitelisted query
 * parameters are set by name. Nothing here knows a message's layout.
 *
 * Matching: a path matches a template segment by segment; "{id}" matches any one
 * non-empty segment. When several templates match, the one with literal segments
 * furthest to the left wins (so /vendors/nearby beats /vendors/{id}); its methods are
 * the Allow list of a 405.
 *
 * Neither matching nor the query map touches libwebsockets (which splits and
 * percent-decodes the query string before we see it), so tests/unit/gateway fuzzes
 * both directly.
 */
#include "rest_routes.h"
#include "vt_core.h"
#include "vt_json.h"

#include "venta/location/v1/location.pb-c.h"
#include "venta/media/v1/media.pb-c.h"
#include "venta/user/v1/user.pb-c.h"
#include "venta/vendor/v1/vendor.pb-c.h"

#include <stdio.h>
#include <string.h>

static const rest_query_map q_none[] = {{NULL, NULL, false}};
static const rest_query_map q_page[] = {
    {"pageSize", "page_size", false}, {"pageToken", "page_token", false}, {NULL, NULL, false}};
/* The box and the circle have no sensible default: a missing one is a bad request, not
 * an empty answer. */
static const rest_query_map q_bounds[] = {{"neLat", "ne_lat", true}, {"neLng", "ne_lng", true},
                                          {"swLat", "sw_lat", true}, {"swLng", "sw_lng", true},
                                          {"limit", "limit", false}, {NULL, NULL, false}};
static const rest_query_map q_nearby[] = {{"lat", "lat", true},
                                          {"lng", "lng", true},
                                          {"radius", "radius_meters", true},
                                          {"limit", "limit", false},
                                          {NULL, NULL, false}};
static const rest_query_map q_search[] = {
    {"q", "q", false},
    {"lat", "lat", false},
    {"lng", "lng", false},
    {"radius", "radius_meters", false},
    {"limit", "limit", false},
    {"cursor", "cursor", false},
    /* issue #19: a box, the open-now and online-now filters, a page number */
    {"neLat", "ne_lat", false},
    {"neLng", "ne_lng", false},
    {"swLat", "sw_lat", false},
    {"swLng", "sw_lng", false},
    {"openNow", "open_now", false},
    {"onlineNow", "online_now", false},
    {"page", "page", false},
    {NULL, NULL, false}};

static const char *const req_latlng[] = {"lat", "lng", NULL};

#define USER_SVC &venta__user__v1__user_service__descriptor
#define VENDOR_SVC &venta__vendor__v1__vendor_service__descriptor
#define LOCATION_SVC &venta__location__v1__location_service__descriptor
#define MEDIA_SVC &venta__media__v1__media_service__descriptor

const rest_route rest_routes[] = {
    {REST_GET, "/", REST_H_STATIC, .ok_status = 200, .query = q_none, .file = "index.html"},
    {REST_GET, "/map.js", REST_H_STATIC, .ok_status = 200, .query = q_none, .file = "map.js"},
    {REST_GET, "/map.css", REST_H_STATIC, .ok_status = 200, .query = q_none, .file = "map.css"},
    {REST_GET, "/config.json", REST_H_STATIC, .ok_status = 200, .query = q_none,
     .file = "config.json"},
    {REST_GET, "/leaflet.js", REST_H_STATIC, .ok_status = 200, .query = q_none,
     .file = "leaflet.js"},
    {REST_GET, "/leaflet.css", REST_H_STATIC, .ok_status = 200, .query = q_none,
     .file = "leaflet.css"},
    {REST_GET, "/leaflet.markercluster.js", REST_H_STATIC, .ok_status = 200, .query = q_none,
     .file = "leaflet.markercluster.js"},
    {REST_GET, "/MarkerCluster.css", REST_H_STATIC, .ok_status = 200, .query = q_none,
     .file = "MarkerCluster.css"},
    {REST_GET, "/MarkerCluster.Default.css", REST_H_STATIC, .ok_status = 200, .query = q_none,
     .file = "MarkerCluster.Default.css"},
    {REST_GET, "/topojson-client.min.js", REST_H_STATIC, .ok_status = 200, .query = q_none,
     .file = "topojson-client.min.js"},
    {REST_GET, "/land-50m.json", REST_H_STATIC, .ok_status = 200, .query = q_none,
     .file = "land-50m.json"},
    {REST_GET, "/land-10m.json", REST_H_STATIC, .ok_status = 200, .query = q_none,
     .file = "land-10m.json"},
    {REST_GET, "/healthz", REST_H_HEALTHZ, .ok_status = 200, .query = q_none},
    {REST_GET, "/readyz", REST_H_READYZ, .ok_status = 200, .query = q_none},
    {REST_GET, "/metrics", REST_H_METRICS, .ok_status = 200, .query = q_none},
    {REST_POST, "/webhooks/clerk", REST_H_WEBHOOK_CLERK, .ok_status = 200, .query = q_none},
    {REST_POST, "/webhooks/revenuecat", REST_H_WEBHOOK_REVENUECAT, .ok_status = 200,
     .query = q_none},
    {REST_GET, "/api/v1/users/me", REST_H_RPC, true, REST_UP_USER, USER_SVC, "GetUser",
     .user_field = "id", .query = q_none, .ok_status = 200},
    {REST_GET, "/api/v1/users/me/vendors", REST_H_RPC, true, REST_UP_USER, USER_SVC,
     "ListUserVendors", .user_field = "user_id", .query = q_page, .ok_status = 200},
    {REST_POST, "/api/v1/vendors", REST_H_RPC, true, REST_UP_VENDOR, VENDOR_SVC, "CreateVendor",
     .body = true, .user_field = "owner_id", .query = q_none, .ok_status = 201},
    {REST_GET, "/api/v1/vendors/in-bounds", REST_H_RPC, true, REST_UP_LOCATION, LOCATION_SVC,
     "VendorsInBounds", .query = q_bounds, .ok_status = 200},
    {REST_GET, "/api/v1/vendors/nearby", REST_H_RPC, true, REST_UP_LOCATION, LOCATION_SVC,
     "VendorsNearby", .query = q_nearby, .ok_status = 200},
    {REST_GET, "/api/v1/vendors/search", REST_H_RPC, true, REST_UP_VENDOR, VENDOR_SVC,
     "SearchVendors", .query = q_search, .ok_status = 200},
    {REST_GET, "/api/v1/vendors/{id}", REST_H_VENDOR_GET, true, REST_UP_VENDOR, VENDOR_SVC,
     "GetVendor", .id_field = "id", .query = q_none, .ok_status = 200},
    {REST_PATCH, "/api/v1/vendors/{id}", REST_H_RPC, true, REST_UP_VENDOR, VENDOR_SVC,
     "UpdateVendor", .body = true, .id_field = "id", .query = q_none, .ok_status = 200},
    {REST_DELETE, "/api/v1/vendors/{id}", REST_H_RPC, true, REST_UP_VENDOR, VENDOR_SVC,
     "DeleteVendor", .id_field = "id", .query = q_none, .ok_status = 204},
    {REST_PUT, "/api/v1/vendors/{id}/location", REST_H_LOCATION_PUT, true, REST_UP_LOCATION,
     LOCATION_SVC, "UpdateVendorLocation", .body = true, .required = req_latlng,
     .id_field = "vendor_id", .query = q_none, .ok_status = 200},
    /* The original Venta backend's routes (API.md §8, docs/migration.md): its field
     * names, its answers and its error envelope (.legacy). */
    {REST_GET, "/health", REST_H_LEGACY_HEALTH, .ok_status = 200, .query = q_none, .legacy = true},
    {REST_POST, "/vendor", REST_H_LEGACY_VENDOR_CREATE, true, REST_UP_VENDOR, VENDOR_SVC,
     "CreateVendor", .query = q_none, .ok_status = 201, .legacy = true},
    {REST_GET, "/vendor/{id}", REST_H_VENDOR_GET, true, REST_UP_VENDOR, VENDOR_SVC, "GetVendor",
     .id_field = "id", .query = q_none, .ok_status = 200, .legacy = true},
    {REST_PUT, "/vendor/{id}", REST_H_LEGACY_VENDOR_UPDATE, true, REST_UP_VENDOR, VENDOR_SVC,
     "UpdateVendor", .query = q_none, .ok_status = 200, .legacy = true},
    {REST_GET, "/user/vendors", REST_H_LEGACY_USER_VENDORS, true, REST_UP_USER, USER_SVC,
     "ListUserVendors", .query = q_none, .ok_status = 200, .legacy = true},
    {REST_POST, "/webhook/clerk", REST_H_WEBHOOK_CLERK, .ok_status = 200, .query = q_none,
     .legacy = true},
    {REST_POST, "/webhook/subscription", REST_H_WEBHOOK_REVENUECAT, .ok_status = 200,
     .query = q_none, .legacy = true},
    /* Vendor images (rest_images.c). The upload is the original backend's route: its
     * error envelope; unlike the original it needs the session token. */
    {REST_POST, "/upload/image", REST_H_IMAGE_UPLOAD, true, REST_UP_VENDOR, MEDIA_SVC,
     "UploadImage", .query = q_none, .ok_status = 201, .legacy = true,
     .max_body = REST_MAX_UPLOAD_BODY},
    {REST_PUT, "/api/v1/vendors/{id}/image", REST_H_VENDOR_IMAGE, true, REST_UP_VENDOR, MEDIA_SVC,
     "SetVendorImage", .id_field = "vendor_id", .query = q_none, .ok_status = 200,
     .max_body = REST_MAX_UPLOAD_BODY},
    {REST_GET, "/images/{id}", REST_H_IMAGE_GET, false, REST_UP_VENDOR, MEDIA_SVC, "GetImage",
     .query = q_none, .ok_status = 200},
    /* Algolia's query API (rest_algolia.c): its own key or a JWT, its error shape. The
     * multi-query's index segment is "*". */
    {REST_POST, "/1/indexes/{id}/query", REST_H_ALGOLIA_QUERY, false, REST_UP_VENDOR, VENDOR_SVC,
     "SearchVendors", .query = q_none, .ok_status = 200, .algolia = true},
    {REST_POST, "/1/indexes/{id}/queries", REST_H_ALGOLIA_QUERIES, false, REST_UP_VENDOR,
     VENDOR_SVC, "SearchVendors", .query = q_none, .ok_status = 200, .algolia = true},
};
const int rest_nroutes = (int)(sizeof rest_routes / sizeof rest_routes[0]);

static const char *const method_names[REST_METHOD_COUNT] = {"GET",    "POST",    "PUT", "PATCH",
                                                            "DELETE", "OPTIONS", "HEAD"};

const char *rest_method_name(int m)
{
    return m >= 0 && m < REST_METHOD_COUNT ? method_names[m] : "OTHER";
}

const char *rest_upstream_name(rest_upstream up)
{
    static const char *const names[REST_UP_COUNT] = {"user", "vendor", "location"};
    return up < REST_UP_COUNT ? names[up] : "?";
}

/* Does path match tmpl? Returns -1 for no, else a score whose higher bits mark literal
 * segments nearer the start; the {id} segment is copied to id. */
static long template_match(const char *tmpl, const char *path, char *id, size_t idlen)
{
    if (strcmp(tmpl, "/") == 0) /* the root has no segments to compare */
        return strcmp(path, "/") == 0 ? 1L << 30 : -1;
    long score = 0;
    int depth = 0;
    const char *t = tmpl, *p = path;
    while (*t && *p) {
        if (*t != '/' || *p != '/')
            return -1;
        t++;
        p++;
        const char *te = strchr(t, '/'), *pe = strchr(p, '/');
        size_t tl = te ? (size_t)(te - t) : strlen(t);
        size_t pl = pe ? (size_t)(pe - p) : strlen(p);
        if (pl == 0)
            return -1;
        if (tl == 4 && memcmp(t, "{id}", 4) == 0) {
            if (pl >= idlen)
                return -1;
            memcpy(id, p, pl);
            id[pl] = '\0';
        } else {
            if (tl != pl || memcmp(t, p, tl) != 0)
                return -1;
            score |= 1L << (30 - depth);
        }
        depth++;
        t += tl;
        p += pl;
    }
    return (*t || *p) ? -1 : score;
}

rest_match_result rest_route_match(int method, const char *path, const rest_route **route, char *id,
                                   size_t idlen, char *allow, size_t allowlen)
{
    long best = -1;
    char tmp[REST_ID_MAX + 1] = "";
    for (int i = 0; i < rest_nroutes; i++) {
        long s = template_match(rest_routes[i].path, path, tmp, sizeof tmp);
        if (s > best)
            best = s;
    }
    if (best < 0)
        return REST_MATCH_NONE;
    bool methods[REST_METHOD_COUNT] = {false};
    const rest_route *found = NULL;
    for (int i = 0; i < rest_nroutes; i++) {
        tmp[0] = '\0';
        if (template_match(rest_routes[i].path, path, tmp, sizeof tmp) != best)
            continue;
        methods[rest_routes[i].method] = true;
        if (rest_routes[i].method == REST_GET) /* a GET route answers HEAD too */
            methods[REST_HEAD] = true;
        bool serves = rest_routes[i].method == method ||
                      (method == REST_HEAD && rest_routes[i].method == REST_GET);
        if (serves && !found) {
            found = &rest_routes[i];
            snprintf(id, idlen, "%s", tmp);
        }
    }
    if (found) {
        *route = found;
        return REST_MATCH_OK;
    }
    size_t n = 0;
    allow[0] = '\0';
    for (int m = 0; m < REST_METHOD_COUNT; m++) {
        if (!methods[m])
            continue;
        n += (size_t)snprintf(allow + n, n < allowlen ? allowlen - n : 0, "%s%s", n ? ", " : "",
                              method_names[m]);
        if (n >= allowlen)
            break;
    }
    /* OPTIONS is always answered on a known path (CORS preflight). */
    if (n < allowlen)
        snprintf(allow + n, allowlen - n, ", OPTIONS");
    *route = NULL;
    return REST_MATCH_METHOD;
}

size_t rest_route_body_limit(int method, const char *path)
{
    const rest_route *r = NULL;
    char id[REST_ID_MAX + 1], allow[128];
    if (rest_route_match(method, path, &r, id, sizeof id, allow, sizeof allow) == REST_MATCH_OK &&
        r->max_body)
        return r->max_body;
    return REST_MAX_BODY;
}

/* The value of the first "name=value" fragment called name, or NULL. */
static const char *query_value(char *const *qargs, int nqargs, const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; i < nqargs; i++)
        if (strncmp(qargs[i], name, n) == 0 && qargs[i][n] == '=')
            return qargs[i] + n + 1;
    return NULL;
}

int rest_query_apply(const rest_query_map *map, char *const *qargs, int nqargs,
                     ProtobufCMessage *msg, char *err, size_t errlen)
{
    char why[256];
    for (const rest_query_map *q = map; q && q->param; q++) {
        const char *v = query_value(qargs, nqargs, q->param);
        if ((!v || !v[0]) && q->required) {
            snprintf(err, errlen, "query parameter %s is required", q->param);
            return VT_INVALID_ARGUMENT;
        }
        if (!v || !v[0])
            continue;
        if (vt_json_set_field(msg, q->field, v, NULL, why, sizeof why) != VT_OK) {
            snprintf(err, errlen, "query parameter %s: %s", q->param, why);
            return VT_INVALID_ARGUMENT;
        }
    }
    return VT_OK;
}
