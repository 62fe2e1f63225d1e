/*
 * rest_images.c — vendor images at the edge. The gateway only frames and forwards:
 * decoding happens in venta-vendor's MediaService, on threads that may block, never
 * on this loop.
 *
 * Uploads (POST /upload/image, PUT /api/v1/vendors/{id}/image): the body (up to the
 * route's max_body, rest_server.c) is multipart/form-data; its field `file` is found
 * by rest_multipart.c, its first bytes checked here (415 at once for what is plainly
 * not an image, so 10 MiB of it never crosses to the service), and it is sent to
 * UploadImage or SetVendorImage. The service's refusals come back with the trailing
 * metadata venta-media-error and are answered 415 (unsupported), 422 (too many pixels,
 * truncated or damaged) or 413 (too large).
 *
 * The upload's answer has the fields the original backend's clients read from
 * Cloudinary's: secure_url and url (both the absolute URL of /images/<hash>.jpg on
 * VENTA_PUBLIC_URL, else on http://<Host>), public_id (the hash), width, height,
 * format ("jpg"), bytes (of that rendition), plus resource_type "image".
 *
 * Serving (GET /images/{hash}.{webp|jpg}[?w=256|1024]): the hash is the SHA-256 of the
 * uploaded bytes, the name of everything derived from them, so a URL's content never
 * changes: Cache-Control public, max-age one year, immutable, and a strong ETag
 * "<hash>-<w>.<ext>" of the rendition served. .webp always serves WebP; .jpg serves
 * WebP to a client whose Accept lists image/webp and JPEG to others (Vary: Accept).
 * If-None-Match with that ETag is answered 304 without asking the service: the
 * content behind an ETag cannot change.
 */
#include "rest_images.h"
#include "rest_app.h"
#include "rest_multipart.h"
#include "rest_req.h"
#include "rest_upstream.h"
#include "vt_json.h"
#include "vt_media.h"

#include "venta/media/v1/media.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MEDIA_SVC (&venta__media__v1__media_service__descriptor)
#define MEDIA_ERROR_MD "venta-media-error"

/* ---- the pure parts ---- */

bool rest_image_name_parse(const char *name, char hash[65], int *format)
{
    const char *dot = strchr(name, '.');
    if (!dot || dot - name != VT_MEDIA_HASH_LEN)
        return false;
    memcpy(hash, name, VT_MEDIA_HASH_LEN);
    hash[VT_MEDIA_HASH_LEN] = '\0';
    *format = vt_media_format_from_ext(dot + 1);
    return vt_media_hash_valid(hash) && *format >= 0;
}

/* The q of one Accept entry's parameters (";q=0.5"), 1 when absent. */
static double entry_q(const char *params, const char *end)
{
    for (const char *p = params; p < end; p++) {
        if (*p != ';')
            continue;
        p++;
        while (p < end && *p == ' ')
            p++;
        if (end - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=')
            return strtod(p + 2, NULL);
    }
    return 1.0;
}

bool rest_accepts_webp(const char *accept)
{
    if (!accept)
        return false;
    for (const char *p = accept; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *type_end = semi ? semi : end;
        while (type_end > p && type_end[-1] == ' ')
            type_end--;
        if (type_end - p == 10 && strncasecmp(p, "image/webp", 10) == 0)
            return entry_q(semi ? semi : end, end) > 0;
        p = end;
    }
    return false;
}

bool rest_etag_matches(const char *if_none_match, const char *etag)
{
    if (!if_none_match)
        return false;
    size_t el = strlen(etag);
    for (const char *p = if_none_match; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0) /* weak comparison, as RFC 9110 asks for GET */
            p += 2;
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n > 0 && p[n - 1] == ' ')
            n--;
        if (n == el && memcmp(p, etag, el) == 0)
            return true;
        p += n;
        while (*p && *p != ',')
            p++;
    }
    return false;
}

/* ---- uploads ---- */

/* Where /images is served, without a trailing slash: VENTA_PUBLIC_URL, else
 * http://<Host> (https:// when this edge serves TLS). false when there is neither (or
 * a Host that is not a host). */
static bool public_base(const rest_req *req, char *out, size_t outlen)
{
    if (req->app->cfg.public_url) {
        snprintf(out, outlen, "%s", req->app->cfg.public_url);
        return true;
    }
    const char *host = rest_req_header(req, "host");
    size_t n = host ? strlen(host) : 0;
    if (n == 0 || n > 255 || n + 8 >= outlen)
        return false;
    for (const char *p = host; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr(".-:[]", *p)))
            return false;
    snprintf(out, outlen, "%s://%s", req->app->cfg.http_tls ? "https" : "http", host);
    return true;
}

/* The body's `file` as the bytes of a request message (copied), or an error sent. */
static bool take_file(rest_req *req, ProtobufCBinaryData *out)
{
    char err[256];
    rest_multipart_part part;
    switch (rest_multipart_find(rest_req_header(req, "content-type"), req->body, req->body_len,
                                "file", &part, err, sizeof err)) {
    case REST_MULTIPART_OK:
        break;
    case REST_MULTIPART_NOT_MULTIPART:
        rest_respond_error_http(req, 415, "INVALID_ARGUMENT",
                                "send the image as the field \"file\" of a multipart/form-data "
                                "body");
        return false;
    case REST_MULTIPART_MALFORMED:
    case REST_MULTIPART_NO_FIELD:
        rest_respond_error(req, VT_INVALID_ARGUMENT, "%s", err);
        return false;
    }
    if (part.len == 0) {
        rest_respond_error(req, VT_INVALID_ARGUMENT, "the field \"file\" is empty");
        return false;
    }
    if (part.len > VT_MEDIA_MAX_BYTES) {
        rest_respond_error_http(req, 413, "RESOURCE_EXHAUSTED",
                                "the image is %zu bytes, more than the limit of %d", part.len,
                                VT_MEDIA_MAX_BYTES);
        return false;
    }
    if (!vt_media_sniff(part.data, part.len)) {
        rest_respond_error_http(req, 415, "INVALID_ARGUMENT",
                                "the file is not a JPEG, PNG, WebP, HEIC or AVIF image");
        return false;
    }
    out->data = malloc(part.len);
    if (!out->data) {
        rest_respond_error(req, VT_RESOURCE_EXHAUSTED, "out of memory");
        return false;
    }
    memcpy(out->data, part.data, part.len);
    out->len = part.len;
    return true;
}

/* A failed upload call: the service's refusal as its HTTP status, else as any call. */
static void respond_upload_error(rest_req *req, vt_rpc_reply *reply)
{
    const char *msg = vt_rpc_reply_message(reply);
    switch (vt_media_refusal_from_name(vt_rpc_reply_metadata(reply, MEDIA_ERROR_MD))) {
    case VT_MEDIA_UNSUPPORTED:
        rest_respond_error_http(req, 415, "INVALID_ARGUMENT", "%s", msg);
        break;
    case VT_MEDIA_TOO_MANY_PIXELS:
    case VT_MEDIA_CORRUPT:
        rest_respond_error_http(req, 422, "INVALID_ARGUMENT", "%s", msg);
        break;
    case VT_MEDIA_TOO_LARGE:
        rest_respond_error_http(req, 413, "RESOURCE_EXHAUSTED", "%s", msg);
        break;
    case VT_MEDIA_ACCEPTED:
        rest_respond_rpc_error(req, REST_UP_VENDOR, reply);
        break;
    }
}

static void on_uploaded(rest_req *req, vt_rpc_reply *reply)
{
    if (vt_rpc_reply_status(reply) != VT_OK || !vt_rpc_reply_response(reply)) {
        respond_upload_error(req, reply);
        vt_rpc_reply_free(reply);
        return;
    }
    const Venta__Media__V1__Image *img =
        (const Venta__Media__V1__Image *)vt_rpc_reply_response(reply);
    char base[300], url[400];
    if (!public_base(req, base, sizeof base)) {
        vt_rpc_reply_free(reply);
        rest_respond_error(req, VT_INVALID_ARGUMENT, "a Host header is required");
        return;
    }
    snprintf(url, sizeof url, "%s/images/%s.%s", base, img->hash, img->format);
    vt_buf b;
    vt_buf_init(&b);
    vt_buf_puts(&b, "{\"secure_url\":");
    vt_json_buf_put_string(&b, url, strlen(url));
    vt_buf_puts(&b, ",\"url\":");
    vt_json_buf_put_string(&b, url, strlen(url));
    vt_buf_puts(&b, ",\"public_id\":");
    vt_json_buf_put_string(&b, img->hash, strlen(img->hash));
    vt_buf_printf(&b, ",\"width\":%d,\"height\":%d,\"format\":", (int)img->width, (int)img->height);
    vt_json_buf_put_string(&b, img->format, strlen(img->format));
    vt_buf_printf(&b, ",\"bytes\":%lld,\"resource_type\":\"image\"}", (long long)img->bytes);
    vt_rpc_reply_free(reply);
    rest_respond_buf(req, req->route->ok_status, "application/json", &b);
}

void rest_image_upload(rest_req *req)
{
    Venta__Media__V1__UploadImageRequest *m = malloc(sizeof *m);
    if (!m) {
        rest_respond_error(req, VT_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    venta__media__v1__upload_image_request__init(m);
    if (!take_file(req, &m->data)) {
        free(m);
        return;
    }
    rest_upstream_call_or_fail(req, REST_UP_VENDOR, MEDIA_SVC, "UploadImage", &m->base,
                               on_uploaded);
}

static void on_vendor_image(rest_req *req, vt_rpc_reply *reply)
{
    if (vt_rpc_reply_status(reply) != VT_OK || !vt_rpc_reply_response(reply)) {
        respond_upload_error(req, reply);
        vt_rpc_reply_free(reply);
        return;
    }
    char *out = NULL;
    size_t len = 0;
    int rc = vt_json_encode(vt_rpc_reply_response(reply), NULL, &out, &len);
    vt_rpc_reply_free(reply);
    if (rc != VT_OK) {
        rest_respond_error(req, VT_INTERNAL, "cannot encode the response");
        return;
    }
    rest_respond(req, req->route->ok_status, "application/json", out, len);
}

void rest_vendor_image_put(rest_req *req)
{
    char base[300];
    if (!public_base(req, base, sizeof base)) {
        rest_respond_error(req, VT_INVALID_ARGUMENT, "a Host header is required");
        return;
    }
    Venta__Media__V1__SetVendorImageRequest *m = malloc(sizeof *m);
    if (!m) {
        rest_respond_error(req, VT_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    venta__media__v1__set_vendor_image_request__init(m);
    if (!take_file(req, &m->data)) {
        free(m);
        return;
    }
    m->vendor_id = strdup(req->id);
    m->public_base_url = strdup(base);
    if (!m->vendor_id || !m->public_base_url) {
        protobuf_c_message_free_unpacked(&m->base, NULL);
        rest_respond_error(req, VT_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    rest_upstream_call_or_fail(req, REST_UP_VENDOR, MEDIA_SVC, "SetVendorImage", &m->base,
                               on_vendor_image);
}

/* ---- serving ---- */

/* ?w=: 256 or 1024 (absent: 1024); 0 when it is anything else. */
static int requested_variant(const rest_req *req)
{
    for (int i = 0; i < req->nqargs; i++) {
        if (strncmp(req->qargs[i], "w=", 2) != 0)
            continue;
        char *end = NULL;
        long w = strtol(req->qargs[i] + 2, &end, 10);
        return end && !*end && vt_media_variant_valid((int)w) ? (int)w : 0;
    }
    return vt_media_variants[0];
}

/* What GET /images/{name} serves: hash, variant and format (after negotiation), and
 * the rendition's ETag. An error is answered when the name or w is not one of ours. */
static bool resolve(rest_req *req, char hash[VT_MEDIA_HASH_LEN + 1], int *variant, int *format,
                    char *etag, size_t etaglen)
{
    if (!rest_image_name_parse(req->id, hash, format)) {
        rest_respond_error(req, VT_NOT_FOUND,
                           "no image %.80s (images are <sha256>.webp or <sha256>.jpg)", req->id);
        return false;
    }
    *variant = requested_variant(req);
    if (!*variant) {
        rest_respond_error(req, VT_INVALID_ARGUMENT, "w must be 1024 or 256");
        return false;
    }
    /* The .jpg URL is the one uploads hand out: negotiate it. */
    if (*format == VT_MEDIA_JPEG && rest_accepts_webp(rest_req_header(req, "accept")))
        *format = VT_MEDIA_WEBP;
    snprintf(etag, etaglen, "\"%s-%d.%s\"", hash, *variant,
             vt_media_format_ext((vt_media_format)*format));
    return true;
}

/* Only on 200 and 304: an error must not be cached for a year. */
static void add_cache_headers(rest_req *req, const char *etag)
{
    rest_add_header(req, "etag", etag);
    rest_add_header(req, "cache-control", "public, max-age=31536000, immutable");
    if (strstr(req->id, ".jpg"))
        rest_add_header(req, "vary", "Accept");
}

static void on_image(rest_req *req, vt_rpc_reply *reply)
{
    if (vt_rpc_reply_status(reply) != VT_OK || !vt_rpc_reply_response(reply)) {
        rest_respond_rpc_error(req, REST_UP_VENDOR, reply);
        vt_rpc_reply_free(reply);
        return;
    }
    const Venta__Media__V1__ImageContent *c =
        (const Venta__Media__V1__ImageContent *)vt_rpc_reply_response(reply);
    size_t len = c->data.len;
    char *body = malloc(len ? len : 1);
    if (body)
        memcpy(body, c->data.data, len);
    vt_rpc_reply_free(reply);
    char hash[VT_MEDIA_HASH_LEN + 1], etag[VT_MEDIA_HASH_LEN + 24];
    int variant, format;
    if (!body) {
        rest_respond_error(req, VT_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    if (!resolve(req, hash, &variant, &format, etag, sizeof etag)) {
        free(body);
        return;
    }
    add_cache_headers(req, etag);
    rest_respond(req, 200, vt_media_format_mime((vt_media_format)format), body, len);
}

void rest_image_get(rest_req *req)
{
    char hash[VT_MEDIA_HASH_LEN + 1], etag[VT_MEDIA_HASH_LEN + 24];
    int variant, format;
    if (!resolve(req, hash, &variant, &format, etag, sizeof etag))
        return;
    if (rest_etag_matches(rest_req_header(req, "if-none-match"), etag)) {
        add_cache_headers(req, etag);
        rest_respond(req, 304, NULL, NULL, 0);
        return;
    }
    Venta__Media__V1__GetImageRequest *m = malloc(sizeof *m);
    if (m) {
        venta__media__v1__get_image_request__init(m);
        m->hash = strdup(hash);
        m->format = strdup(vt_media_format_ext((vt_media_format)format));
        m->variant = variant;
    }
    if (!m || !m->hash || !m->format) {
        if (m)
            protobuf_c_message_free_unpacked(&m->base, NULL);
        rest_respond_error(req, VT_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    rest_upstream_call_or_fail(req, REST_UP_VENDOR, MEDIA_SVC, "GetImage", &m->base, on_image);
}
