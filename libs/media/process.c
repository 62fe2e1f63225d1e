/*
 * process.c — an upload becomes its renditions, with libvips.
 *
 * The order is the defence:
 *  1. size: more than max_bytes is refused unread;
 *  2. first bytes (vt_media_sniff): only JPEG, PNG, WebP and HEIF go on, each to its own
 *     loader, so none of libvips' other loaders (PDF, SVG, matrix files, ...) ever sees
 *     an upload; vt_media_init also blocks libvips' untrusted operations;
 *  3. the header alone: libvips loaders are lazy, so opening gives width and height
 *     without decoding a pixel; width x height over max_pixels is refused here, before
 *     a 30000 x 30000 PNG of a few KiB can ask for 3.6 GB;
 *  4. the pixels: vips_thumbnail_buffer decodes with fail_on=truncated (a cut-off
 *     file fails instead of yielding a half-grey image), shrinks on load where the
 *     format allows (JPEG, WebP), rotates upright by the EXIF orientation and fits the
 *     longest edge in 1024 px; the result is made into memory once, so any decode error
 *     surfaces here, and the 256 px variant is shrunk from it;
 *  5. saving: sRGB, alpha flattened onto white for JPEG, every metadata item removed
 *     from the image (without_metadata) and strip=TRUE as well, so that no EXIF (GPS
 *     position included), XMP, IPTC or ICC block reaches the output.
 *
 * libvips' error buffer is one per process, shared by threads: its text goes to the
 * log only, and clients get our own sentences.
 */
#include "media_internal.h"
#include "vt_core.h"
#include "vt_media.h"

#include <vips/vips.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;

static void init_vips(void)
{
    if (VIPS_INIT("venta")) {
        init_rc = VT_INTERNAL;
        return;
    }
    /* Operations flagged untrusted (loaders of exotic formats, ImageMagick) refuse to run. */
    vips_block_untrusted_set(TRUE);
    /* Every image is processed once: a cache would only hold memory. */
    vips_cache_set_max(0);
    vips_cache_set_max_mem(0);
}

int vt_media_init(char *err, size_t errlen)
{
    pthread_once(&init_once, init_vips);
    if (init_rc != VT_OK)
        snprintf(err, errlen, "libvips: cannot start: %s", vips_error_buffer());
    return init_rc;
}

/* Log libvips' reason and clear it, so the next failure does not inherit it. */
static void log_vips(const char *what)
{
    char *text = vips_error_buffer_copy();
    vt_debug(NULL, "libvips: %s: %s", what, text ? text : "");
    g_free(text);
}

static int refuse(vt_media_refusal *why, vt_media_refusal r, char *err, size_t errlen,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int refuse(vt_media_refusal *why, vt_media_refusal r, char *err, size_t errlen,
                  const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    *why = r;
    return VT_INVALID_ARGUMENT;
}

/* Open with the loader of format only (header only: loaders are lazy). */
static VipsImage *open_header(const char *format, const void *data, size_t len)
{
    VipsImage *img = NULL;
    int rc = -1;
    if (strcmp(format, "jpeg") == 0)
        rc = vips_jpegload_buffer((void *)data, len, &img, "fail_on", VIPS_FAIL_ON_TRUNCATED, NULL);
    else if (strcmp(format, "png") == 0)
        rc = vips_pngload_buffer((void *)data, len, &img, "fail_on", VIPS_FAIL_ON_TRUNCATED, NULL);
    else if (strcmp(format, "webp") == 0)
        rc = vips_webpload_buffer((void *)data, len, &img, "fail_on", VIPS_FAIL_ON_TRUNCATED, NULL);
    else if (strcmp(format, "heif") == 0)
        rc = vips_heifload_buffer((void *)data, len, &img, "fail_on", VIPS_FAIL_ON_TRUNCATED, NULL);
    if (rc != 0) {
        log_vips("header");
        return NULL;
    }
    return img;
}

/* img (consumed) in sRGB with 8 bits per band. */
static VipsImage *to_srgb(VipsImage *img)
{
    VipsInterpretation in = vips_image_guess_interpretation(img);
    if (in == VIPS_INTERPRETATION_sRGB && img->BandFmt == VIPS_FORMAT_UCHAR)
        return img;
    VipsImage *out = NULL;
    int rc = vips_colourspace(img, &out, VIPS_INTERPRETATION_sRGB, NULL);
    g_object_unref(img);
    if (rc == 0 && out->BandFmt != VIPS_FORMAT_UCHAR) {
        VipsImage *cast = NULL;
        rc = vips_cast_uchar(out, &cast, NULL);
        g_object_unref(out);
        out = rc == 0 ? cast : NULL;
    }
    return rc == 0 ? out : NULL;
}

/* A copy of img (a new reference) without a single metadata item: EXIF (and the GPS
 * position in it), XMP, IPTC, ICC, orientation, comments, PNG text chunks. strip=TRUE
 * on saving is not enough: libvips 8.14's WebP saver still writes EXIF and XMP, and
 * the e2e test (tests/e2e/gateway/images.mjs) saw the GPS position come through. */
static VipsImage *without_metadata(VipsImage *img)
{
    VipsImage *copy = NULL;
    if (vips_copy(img, &copy, NULL) != 0)
        return NULL;
    gchar **names = vips_image_get_fields(copy);
    for (gchar **n = names; n && *n; n++)
        vips_image_remove(copy, *n); /* header fields (width, ...) are not removable */
    g_strfreev(names);
    return copy;
}

static int save(VipsImage *img, vt_media_format f, vt_media_rendition *r)
{
    void *buf = NULL;
    size_t len = 0;
    int rc;
    if (f == VT_MEDIA_WEBP) {
        rc = vips_webpsave_buffer(img, &buf, &len, "Q", 80, "strip", TRUE, NULL);
    } else {
        VipsImage *flat = img;
        g_object_ref(flat);
        if (vips_image_hasalpha(img)) {
            g_object_unref(flat);
            VipsArrayDouble *white = vips_array_double_newv(3, 255.0, 255.0, 255.0);
            rc = vips_flatten(img, &flat, "background", white, NULL);
            vips_area_unref(VIPS_AREA(white));
            if (rc != 0)
                return VT_INTERNAL;
        }
        rc = vips_jpegsave_buffer(flat, &buf, &len, "Q", 82, "strip", TRUE, "optimize_coding", TRUE,
                                  NULL);
        g_object_unref(flat);
    }
    if (rc != 0) {
        log_vips("save");
        return VT_INTERNAL;
    }
    /* Our own copy, so that everything a vt_media_image owns is freed with free(). */
    r->data = malloc(len ? len : 1);
    if (!r->data) {
        g_free(buf);
        return VT_RESOURCE_EXHAUSTED;
    }
    memcpy(r->data, buf, len);
    g_free(buf);
    if (f == VT_MEDIA_WEBP && media_webp_strip(r->data, &len) != 0) {
        free(r->data);
        r->data = NULL;
        return VT_INTERNAL; /* libvips wrote something that is not WebP */
    }
    r->len = len;
    r->format = f;
    r->width = vips_image_get_width(img);
    r->height = vips_image_get_height(img);
    return VT_OK;
}

static int render_variant(VipsImage *img, int variant, vt_media_rendition *r)
{
    for (int f = 0; f < VT_MEDIA_FORMAT_COUNT; f++) {
        r[f].variant = variant;
        int rc = save(img, (vt_media_format)f, &r[f]);
        if (rc != VT_OK)
            return rc;
    }
    return VT_OK;
}

int vt_media_process(const vt_media_process_opts *opts, const void *data, size_t len,
                     vt_media_image **out, vt_media_refusal *why, char *err, size_t errlen)
{
    vt_media_refusal ignored;
    if (!why)
        why = &ignored;
    *why = VT_MEDIA_ACCEPTED;
    *out = NULL;
    long long max_pixels = opts && opts->max_pixels > 0 ? opts->max_pixels : VT_MEDIA_MAX_PIXELS;
    size_t max_bytes = opts && opts->max_bytes > 0 ? opts->max_bytes : VT_MEDIA_MAX_BYTES;
    if (len > max_bytes)
        return refuse(why, VT_MEDIA_TOO_LARGE, err, errlen,
                      "the image is %zu bytes, more than the limit of %zu", len, max_bytes);
    const char *format = vt_media_sniff(data, len);
    if (!format)
        return refuse(why, VT_MEDIA_UNSUPPORTED, err, errlen,
                      "the file is not a JPEG, PNG, WebP, HEIC or AVIF image");
    if (vt_media_init(err, errlen) != VT_OK)
        return VT_INTERNAL;

    VipsImage *head = open_header(format, data, len);
    if (!head)
        return refuse(why, VT_MEDIA_CORRUPT, err, errlen,
                      "the %s image cannot be read: its header is damaged or truncated", format);
    long long w = vips_image_get_width(head), h = vips_image_get_height(head);
    g_object_unref(head);
    if (w <= 0 || h <= 0 || w * h > max_pixels)
        return refuse(why, VT_MEDIA_TOO_MANY_PIXELS, err, errlen,
                      "the image declares %lld x %lld pixels, more than the limit of %lld", w, h,
                      max_pixels);

    vt_media_image *img = calloc(1, sizeof *img);
    if (!img) {
        snprintf(err, errlen, "out of memory");
        return VT_RESOURCE_EXHAUSTED;
    }
    vt_media_hash(data, len, img->hash);
    img->source_format = format;
    img->source_bytes = len;

    int rc = VT_OK;
    VipsImage *big = NULL, *small = NULL;
    /* The loader options travel as a string; size=down never enlarges a small photo. */
    if (vips_thumbnail_buffer((void *)data, len, &big, vt_media_variants[0], "height",
                              vt_media_variants[0], "size", VIPS_SIZE_DOWN, "option_string",
                              "fail_on=truncated", NULL) != 0) {
        log_vips("thumbnail");
        big = NULL;
    }
    big = big ? to_srgb(big) : NULL;
    /* Decode now, once: a truncated file fails here rather than in each save. */
    VipsImage *mem = big ? vips_image_copy_memory(big) : NULL;
    if (big)
        g_object_unref(big);
    if (!mem) {
        log_vips("decode");
        vt_media_image_free(img);
        return refuse(why, VT_MEDIA_CORRUPT, err, errlen,
                      "the %s image cannot be decoded: it is truncated or damaged", format);
    }
    VipsImage *bare = without_metadata(mem);
    g_object_unref(mem);
    mem = bare;
    if (!mem) {
        vt_media_image_free(img);
        snprintf(err, errlen, "libvips cannot copy the image");
        return VT_INTERNAL;
    }
    rc = render_variant(mem, vt_media_variants[0], &img->r[0]);
    if (rc == VT_OK &&
        vips_thumbnail_image(mem, &small, vt_media_variants[1], "height", vt_media_variants[1],
                             "size", VIPS_SIZE_DOWN, "no_rotate", TRUE, NULL) != 0) {
        log_vips("variant");
        rc = VT_INTERNAL;
    }
    if (rc == VT_OK) {
        /* The resize may add fields of its own; none may reach the output. */
        VipsImage *bare_small = without_metadata(small);
        g_object_unref(small);
        small = bare_small;
        rc = small ? render_variant(small, vt_media_variants[1], &img->r[VT_MEDIA_FORMAT_COUNT])
                   : VT_INTERNAL;
    }
    if (small)
        g_object_unref(small);
    g_object_unref(mem);
    if (rc != VT_OK) {
        vt_media_image_free(img);
        snprintf(err, errlen, "libvips cannot render the image");
        return rc;
    }
    *out = img;
    return VT_OK;
}

void vt_media_image_free(vt_media_image *img)
{
    if (!img)
        return;
    for (int i = 0; i < VT_MEDIA_RENDITIONS; i++)
        free(img->r[i].data);
    free(img);
}
