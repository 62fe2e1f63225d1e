/*
 * media_handlers.c — venta.media.v1.MediaService (proto/venta/media/v1/media.proto):
 * vendor images, decoded and stored by libs/media on this service's worker threads.
 *
 * Why here and not in the gateway: decoding a 10 MiB photo takes a CPU for a while, and
 * the gateway's one loop thread must never wait; these workers may. None of these
 * methods is VT_RPC_NONBLOCKING: every one decodes or reads PostgreSQL.
 *
 * An upload is named by the SHA-256 of its bytes. If the store has that hash, the
 * upload is answered from the stored row without decoding it again and nothing is
 * written (the same bytes are stored once); else libs/media renders it and the store
 * puts it. A refusal (not an image, too many pixels, damaged, too large) carries the
 * trailing metadata venta-media-error, which the gateway turns into 415, 422 or 413.
 *
 * SetVendorImage checks the vendor and its owner before it decodes anything, so a
 * caller who may not change the vendor cannot make the service store an image; the
 * profile_image is then set through vendor_update, the same path as UpdateVendor
 * (validation, ownership in SQL, evt.vendor.updated through the outbox).
 *
 * Metrics: venta_vendor_image_uploads_total{outcome} (stored, duplicate, unsupported,
 * too-many-pixels, corrupt, too-large, error), venta_vendor_image_upload_bytes_total
 * (bytes received by uploads that were decoded) and venta_vendor_image_stored_bytes_total
 * (rendition bytes written).
 */
#include "media_handlers.h"

#include "store.h"
#include "venta/media/v1/media.pb-c.h"
#include "venta/vendor/v1/vendor.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEDIA_ERROR_MD "venta-media-error"

typedef enum {
    OUT_STORED = 0,
    OUT_DUPLICATE,
    OUT_UNSUPPORTED,
    OUT_TOO_MANY_PIXELS,
    OUT_CORRUPT,
    OUT_TOO_LARGE,
    OUT_ERROR,
    OUT_COUNT
} upload_outcome;

static const char *const outcome_names[OUT_COUNT] = {
    "stored", "duplicate", "unsupported", "too-many-pixels", "corrupt", "too-large", "error"};

static upload_outcome outcome_of(vt_media_refusal why)
{
    switch (why) {
    case VT_MEDIA_UNSUPPORTED:
        return OUT_UNSUPPORTED;
    case VT_MEDIA_TOO_MANY_PIXELS:
        return OUT_TOO_MANY_PIXELS;
    case VT_MEDIA_CORRUPT:
        return OUT_CORRUPT;
    case VT_MEDIA_TOO_LARGE:
        return OUT_TOO_LARGE;
    case VT_MEDIA_ACCEPTED:
        break;
    }
    return OUT_ERROR;
}

static vt_media_store *store_of(vt_rpc_ctx *ctx, media_service *app)
{
    int i = vt_rpc_ctx_worker_index(ctx);
    return i >= 0 && i < app->nstores ? app->stores[i] : NULL;
}

static int caller(vt_rpc_ctx *ctx, const char **out)
{
    const char *user = vt_rpc_ctx_user_id(ctx);
    if (!user || !*user)
        return vt_rpc_ctx_error(ctx, VT_UNAUTHENTICATED, "x-user-id metadata is required");
    *out = user;
    return VT_OK;
}

/* The upload's default rendition as the answer describes it. */
typedef struct {
    char hash[VT_MEDIA_HASH_LEN + 1];
    vt_media_info info;
    bool created;
} stored_image;

/* Find data's hash in the store, or decode, render and store it. */
static int store_upload(vt_rpc_ctx *ctx, media_service *app, const ProtobufCBinaryData *data,
                        stored_image *out)
{
    vt_media_store *store = store_of(ctx, app);
    if (!store)
        return vt_rpc_ctx_error(ctx, VT_INTERNAL, "no media store for this worker");
    if (data->len == 0)
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT, "the image is empty");
    char err[512];
    vt_media_hash(data->data, data->len, out->hash);
    int rc = vt_media_store_info(store, out->hash, &out->info, err, sizeof err);
    if (rc == VT_OK) {
        out->created = false;
        vt_counter_inc(app->uploads[OUT_DUPLICATE]);
        return VT_OK;
    }
    if (rc != VT_NOT_FOUND) {
        vt_counter_inc(app->uploads[OUT_ERROR]);
        return vt_service_db_error(ctx, "media store", rc, err);
    }
    vt_media_image *img = NULL;
    vt_media_refusal why = VT_MEDIA_ACCEPTED;
    vt_counter_add(app->received_bytes, data->len);
    rc = vt_media_process(NULL, data->data, data->len, &img, &why, err, sizeof err);
    if (rc != VT_OK) {
        vt_counter_inc(app->uploads[outcome_of(why)]);
        if (why == VT_MEDIA_ACCEPTED)
            return vt_rpc_ctx_error(ctx, rc, "%s", err);
        vt_rpc_ctx_add_trailing_metadata(ctx, MEDIA_ERROR_MD, vt_media_refusal_name(why));
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT, "%s", err);
    }
    rc = vt_media_store_put(store, img, &out->created, err, sizeof err);
    if (rc == VT_OK) {
        const vt_media_rendition *def =
            vt_media_image_rendition(img, vt_media_variants[0], VT_MEDIA_JPEG);
        out->info.width = def->width;
        out->info.height = def->height;
        out->info.bytes = (int64_t)def->len;
        snprintf(out->info.source_format, sizeof out->info.source_format, "%s", img->source_format);
        if (out->created)
            for (int i = 0; i < VT_MEDIA_RENDITIONS; i++)
                vt_counter_add(app->stored_bytes, img->r[i].len);
    }
    vt_media_image_free(img);
    if (rc != VT_OK) {
        vt_counter_inc(app->uploads[OUT_ERROR]);
        return vt_service_db_error(ctx, "media store", rc, err);
    }
    vt_counter_inc(app->uploads[out->created ? OUT_STORED : OUT_DUPLICATE]);
    return VT_OK;
}

static int upload_image(vt_rpc_ctx *ctx, media_service *app,
                        const Venta__Media__V1__UploadImageRequest *req,
                        Venta__Media__V1__Image *out)
{
    const char *owner = NULL;
    if (caller(ctx, &owner) != VT_OK)
        return VT_UNAUTHENTICATED;
    stored_image s;
    int rc = store_upload(ctx, app, &req->data, &s);
    if (rc != VT_OK)
        return rc;
    out->hash = vt_rpc_ctx_strdup(ctx, s.hash);
    out->width = s.info.width;
    out->height = s.info.height;
    out->format = (char *)vt_media_format_ext(VT_MEDIA_JPEG);
    out->bytes = s.info.bytes;
    out->source_format = vt_rpc_ctx_strdup(ctx, s.info.source_format);
    out->created = s.created;
    return VT_OK;
}

static int get_image(vt_rpc_ctx *ctx, media_service *app,
                     const Venta__Media__V1__GetImageRequest *req,
                     Venta__Media__V1__ImageContent *out)
{
    if (!vt_media_hash_valid(req->hash))
        return vt_rpc_ctx_error(ctx, VT_NOT_FOUND, "image %.64s not found", req->hash);
    int variant = req->variant ? req->variant : vt_media_variants[0];
    if (!vt_media_variant_valid(variant))
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT, "variant must be 1024 or 256");
    int format = vt_media_format_from_ext(req->format);
    if (format < 0)
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT, "format must be webp or jpg");
    vt_media_store *store = store_of(ctx, app);
    if (!store)
        return vt_rpc_ctx_error(ctx, VT_INTERNAL, "no media store for this worker");
    unsigned char *data = NULL;
    size_t len = 0;
    char err[512];
    int rc = vt_media_store_get(store, req->hash, variant, (vt_media_format)format, &data, &len,
                                err, sizeof err);
    if (rc == VT_NOT_FOUND)
        return vt_rpc_ctx_error(ctx, VT_NOT_FOUND, "image %s not found", req->hash);
    if (rc != VT_OK)
        return vt_service_db_error(ctx, "media store", rc, err);
    out->data.data = vt_rpc_ctx_alloc(ctx, len ? len : 1);
    memcpy(out->data.data, data, len);
    out->data.len = len;
    free(data);
    out->content_type = (char *)vt_media_format_mime((vt_media_format)format);
    return VT_OK;
}

/* The base the gateway serves /images on: an http(s) URL without a trailing slash. */
static bool base_url_valid(const char *url)
{
    size_t n = strlen(url);
    bool scheme = strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0;
    return scheme && n > 8 && n < 1024 && url[n - 1] != '/';
}

static int set_vendor_image(vt_rpc_ctx *ctx, media_service *app,
                            const Venta__Media__V1__SetVendorImageRequest *req,
                            Venta__Vendor__V1__Vendor *out)
{
    const char *owner = NULL;
    if (caller(ctx, &owner) != VT_OK)
        return VT_UNAUTHENTICATED;
    if (!*req->vendor_id)
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT, "vendorId is required");
    if (!vt_uuid_valid(req->vendor_id))
        return vt_rpc_ctx_error(ctx, VT_NOT_FOUND, "vendor %.64s not found", req->vendor_id);
    if (!base_url_valid(req->public_base_url))
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT,
                                "publicBaseUrl must be an http(s) URL without a trailing slash");
    /* Owner first: a caller who may not change the vendor stores nothing. */
    char err[512];
    PGresult *res;
    int rc = store_owner(vt_rpc_ctx_worker(ctx), req->vendor_id, &res, err, sizeof err);
    if (rc != VT_OK)
        return vt_service_db_error(ctx, "vendor store", rc, err);
    bool exists = PQntuples(res) == 1;
    bool mine = exists && strcmp(PQgetvalue(res, 0, 0), owner) == 0;
    PQclear(res);
    if (!exists)
        return vt_rpc_ctx_error(ctx, VT_NOT_FOUND, "vendor %s not found", req->vendor_id);
    if (!mine)
        return vt_rpc_ctx_error(ctx, VT_PERMISSION_DENIED, "only the vendor's owner may update it");
    stored_image s;
    rc = store_upload(ctx, app, &req->data, &s);
    if (rc != VT_OK)
        return rc;
    size_t n = strlen(req->public_base_url) + sizeof "/images/" + VT_MEDIA_HASH_LEN + 8;
    char *url = vt_rpc_ctx_alloc(ctx, n);
    snprintf(url, n, "%s/images/%s.%s", req->public_base_url, s.hash,
             vt_media_format_ext(VT_MEDIA_JPEG));
    Venta__Vendor__V1__UpdateVendorRequest update;
    venta__vendor__v1__update_vendor_request__init(&update);
    update.id = req->vendor_id;
    update.opt_profile_image_case =
        VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_PROFILE_IMAGE_PROFILE_IMAGE;
    update.profile_image = url;
    return vendor_update(ctx, app->vendors, &update, out);
}

/* ------------------------------------------------------------- registration ---- */

VENDOR_TYPED_HANDLER(upload_image, Venta__Media__V1__UploadImageRequest, Venta__Media__V1__Image)
VENDOR_TYPED_HANDLER(get_image, Venta__Media__V1__GetImageRequest, Venta__Media__V1__ImageContent)
VENDOR_TYPED_HANDLER(set_vendor_image, Venta__Media__V1__SetVendorImageRequest,
                     Venta__Vendor__V1__Vendor)

int media_service_register(media_service *app, vendor_service *vendors, vt_service *svc, char *err,
                           size_t errlen)
{
    if (vt_media_init(err, errlen) != VT_OK)
        return VT_INTERNAL;
    app->vendors = vendors;
    app->nstores = (int)vt_db_pool_size(svc->db);
    app->stores = calloc((size_t)app->nstores, sizeof *app->stores);
    if (!app->stores) {
        snprintf(err, errlen, "out of memory");
        return VT_RESOURCE_EXHAUSTED;
    }
    for (int i = 0; i < app->nstores; i++) {
        vt_media_pg_opts o = {.conn = vt_db_pool_conn(svc->db, (size_t)i)};
        int rc = vt_media_store_pg_new(&o, &app->stores[i], err, errlen);
        if (rc != VT_OK)
            return rc;
    }
    for (int i = 0; i < OUT_COUNT; i++) {
        char labels[64];
        snprintf(labels, sizeof labels, "outcome=\"%s\"", outcome_names[i]);
        app->uploads[i] = vt_metrics_counter(svc->metrics, "venta_vendor_image_uploads_total",
                                             "Image uploads by outcome.", labels);
    }
    app->received_bytes = vt_metrics_counter(svc->metrics, "venta_vendor_image_upload_bytes_total",
                                             "Bytes of uploaded images that were decoded.", NULL);
    app->stored_bytes = vt_metrics_counter(svc->metrics, "venta_vendor_image_stored_bytes_total",
                                           "Bytes of image renditions written to the store.", NULL);
    for (int i = 0; i < OUT_COUNT; i++)
        if (!app->uploads[i]) {
            snprintf(err, errlen, "cannot register the image metrics");
            return VT_INTERNAL;
        }
    if (!app->received_bytes || !app->stored_bytes) {
        snprintf(err, errlen, "cannot register the image metrics");
        return VT_INTERNAL;
    }
    static const vt_rpc_method_entry table[] = {
        {"UploadImage", upload_image_call, 0, NULL},
        {"GetImage", get_image_call, 0, NULL},
        {"SetVendorImage", set_vendor_image_call, 0, NULL},
        {NULL, NULL, 0, NULL},
    };
    int rc = vt_service_add_methods(svc, &venta__media__v1__media_service__descriptor, table, app);
    if (rc != VT_OK)
        snprintf(err, errlen, "cannot register MediaService (%s)", vt_status_name(rc));
    return rc;
}

void media_service_free(media_service *app)
{
    for (int i = 0; app->stores && i < app->nstores; i++)
        vt_media_store_free(app->stores[i]);
    free(app->stores);
    app->stores = NULL;
}
