/*
 * rest_routes.h — the REST surface as data (rest_routes.c): HTTP methods, the three
 * upstream services, the route table, matching a request line to a route and setting
 * a route's query parameters into its gRPC request.
 *
 * A leaf: nothing here knows libwebsockets, the request record or the loop, so the
 * fuzz target and the unit tests in tests/unit/gateway call it directly.
 */
#ifndef REST_ROUTES_H
#define REST_ROUTES_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

/* The longest path {id} a route accepts; a longer segment matches no template. */
#define REST_ID_MAX 128

typedef enum {
    REST_UP_USER = 0,
    REST_UP_VENDOR,
    REST_UP_LOCATION,
    REST_UP_COUNT,
} rest_upstream;

/* "user", "vendor", "location": the label in metrics, logs and error messages. */
const char *rest_upstream_name(rest_upstream up);

typedef enum {
    REST_GET = 0,
    REST_POST,
    REST_PUT,
    REST_PATCH,
    REST_DELETE,
    REST_OPTIONS,
    REST_HEAD,
    REST_METHOD_COUNT,
    REST_METHOD_OTHER = -1,
} rest_method;

/* "GET" … "HEAD", or "OTHER" for anything else. */
const char *rest_method_name(int m);

typedef struct {
    const char *param; /* query parameter name */
    const char *field; /* request message field (either spelling) */
    bool required;     /* absent or empty → 400 naming it */
} rest_query_map;

typedef enum {
    REST_H_RPC = 0,      /* plain transcoded call */
    REST_H_LOCATION_PUT, /* owner check, then LocationService.UpdateVendorLocation */
    REST_H_VENDOR_GET,   /* GetVendor, then its live position (rest_vendor_get.c) */
    REST_H_HEALTHZ,
    REST_H_READYZ,
    REST_H_METRICS,
    REST_H_WEBHOOK_CLERK,
    REST_H_WEBHOOK_REVENUECAT,
    REST_H_STATIC,       /* a file of the live map page (rest_static.c) */
    REST_H_IMAGE_UPLOAD, /* multipart `file` → MediaService.UploadImage (rest_images.c) */
    REST_H_VENDOR_IMAGE, /* multipart `file` → MediaService.SetVendorImage */
    REST_H_IMAGE_GET,    /* GET /images/{hash}.{ext}: public, cached (rest_images.c) */
    /* The original Venta backend's routes (rest_legacy.c) */
    REST_H_LEGACY_VENDOR_CREATE,
    REST_H_LEGACY_VENDOR_UPDATE,
    REST_H_LEGACY_USER_VENDORS,
    REST_H_LEGACY_HEALTH,
    /* Algolia's query API (rest_algolia.c) */
    REST_H_ALGOLIA_QUERY,
    REST_H_ALGOLIA_QUERIES,
} rest_handler_kind;

/* The body a route accepts unless its row says more (max_body). */
#define REST_MAX_BODY (64 * 1024)
/* The image uploads: a 10 MiB file (VT_MEDIA_MAX_BYTES) and its multipart framing. */
#define REST_MAX_UPLOAD_BODY (10 * 1024 * 1024 + 16 * 1024)

typedef struct rest_route {
    int method;
    const char *path; /* template, "{id}" for the one path parameter */
    rest_handler_kind kind;
    bool auth;
    rest_upstream upstream;
    const ProtobufCServiceDescriptor *svc;
    const char *rpc;
    bool body;                   /* JSON body decoded into the request message */
    const char *const *required; /* body keys that must be present */
    const char *id_field;        /* path {id} goes here */
    const char *user_field;      /* caller's sub goes here */
    const rest_query_map *query; /* {NULL, NULL}-terminated */
    int ok_status;               /* 200, 201, 204 */
    const char *file;            /* REST_H_STATIC: which file of web/ */
    bool legacy;     /* a route of the original Venta backend: its error envelope (rest_req.c) */
    size_t max_body; /* largest body, bytes; 0: REST_MAX_BODY */
    bool algolia;    /* Algolia's query API: its error body {"message","status"} (rest_req.c) */
} rest_route;

extern const rest_route rest_routes[];
extern const int rest_nroutes;

typedef enum { REST_MATCH_NONE = 0, REST_MATCH_OK, REST_MATCH_METHOD } rest_match_result;

/* Find the route for method+path. OK: *route and id filled. METHOD: the path exists
 * but not for this method; allow receives "GET, PATCH, OPTIONS" (allowlen bytes). */
rest_match_result rest_route_match(int method, const char *path, const rest_route **route, char *id,
                                   size_t idlen, char *allow, size_t allowlen);

/* The largest body a request for method + path may send: its route's max_body, else
 * REST_MAX_BODY (also for a path no route matches). */
size_t rest_route_body_limit(int method, const char *path);

/* Set the query parameters of map (a route's, {NULL}-terminated) into msg from the
 * request's decoded "name=value" fragments; the first fragment of a name counts.
 * 0, or VT_INVALID_ARGUMENT with the reason for the client in err: a required parameter
 * absent or empty, or a value its field refuses (msg may then hold the parameters set
 * before it). */
int rest_query_apply(const rest_query_map *map, char *const *qargs, int nqargs,
                     ProtobufCMessage *msg, char *err, size_t errlen);

#endif
