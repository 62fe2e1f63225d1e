/*
 * vt_media.h — vendor images: decode, check, auto-rotate, strip and resize an upload
 * with libvips (process.c), and keep what came out in a content-addressed store behind
 * a small interface (store.c), PostgreSQL first (store_pg.c).
 *
 *     vt_media_init(err, sizeof err);                  // once, before any thread uses it
 *     vt_media_image *img; vt_media_refusal why;
 *     if (vt_media_process(NULL, data, len, &img, &why, err, sizeof err) == VT_OK) {
 *         vt_media_store_put(store, img, &created, err, sizeof err);
 *         vt_media_image_free(img);
 *     }
 *
 * What an upload becomes: only JPEG, PNG, WebP and HEIF (HEIC, AVIF) are opened, told
 * apart by their first bytes and read by that format's loader alone (libvips' other
 * loaders — PDF, SVG, ... — are never reached, and untrusted operations are blocked).
 * The header is read first and width x height checked against max_pixels before any
 * pixel is decoded. The pixels are then decoded with fail_on=truncated (a cut-off file
 * is an error, not a grey bottom half), rotated upright by their EXIF orientation,
 * converted to sRGB, shrunk so that the longest edge is at most 1024 and 256 px (never
 * enlarged), and each size saved as WebP and as JPEG with every piece of metadata
 * (EXIF with its GPS position, XMP, IPTC, ICC, comments) left out.
 *
 * Content addressing: an image is named by the lowercase hex SHA-256 of the uploaded
 * bytes. The upload is never stored; its renditions are, keyed by (hash, variant,
 * format), so the same bytes uploaded twice are stored once.
 *
 * Threads: every function is thread-safe once vt_media_init has returned; a store
 * handle is not (the PostgreSQL one wraps a worker's own connection).
 */
#ifndef VT_MEDIA_H
#define VT_MEDIA_H

#include "vt_core.h"
#include "vt_db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest upload, bytes. */
#define VT_MEDIA_MAX_BYTES (10 * 1024 * 1024)
/* The most pixels (width x height) an upload may declare: a 48 MP phone photo fits. */
#define VT_MEDIA_MAX_PIXELS (50LL * 1000 * 1000)
/* Lowercase hex SHA-256. */
#define VT_MEDIA_HASH_LEN 64

/* Why an upload was refused. */
typedef enum {
    VT_MEDIA_ACCEPTED = 0,
    VT_MEDIA_UNSUPPORTED,     /* not JPEG, PNG, WebP or HEIF */
    VT_MEDIA_TOO_MANY_PIXELS, /* a decompression bomb, or just too big */
    VT_MEDIA_CORRUPT,         /* truncated or damaged */
    VT_MEDIA_TOO_LARGE,       /* more than max_bytes */
} vt_media_refusal;

/* "unsupported", "too-many-pixels", "corrupt", "too-large" ("" for ACCEPTED): the
 * value of the venta-media-error metadata (proto/venta/media/v1/media.proto). */
const char *vt_media_refusal_name(vt_media_refusal why);
/* The refusal named so, or VT_MEDIA_ACCEPTED for anything else (NULL too). */
vt_media_refusal vt_media_refusal_from_name(const char *name);

typedef enum { VT_MEDIA_WEBP = 0, VT_MEDIA_JPEG, VT_MEDIA_FORMAT_COUNT } vt_media_format;

/* "webp", "jpg". */
const char *vt_media_format_ext(vt_media_format f);
/* "image/webp", "image/jpeg". */
const char *vt_media_format_mime(vt_media_format f);
/* The format for "webp" or "jpg"; -1 for anything else. */
int vt_media_format_from_ext(const char *ext);

/* The variants: longest edge at most this many pixels. The first is the default. */
#define VT_MEDIA_VARIANT_COUNT 2
extern const int vt_media_variants[VT_MEDIA_VARIANT_COUNT]; /* 1024, 256 */
/* Is size one of vt_media_variants? */
bool vt_media_variant_valid(int size);

/* One rendition: a variant in one format. */
typedef struct {
    int variant; /* 1024 or 256 */
    vt_media_format format;
    int width, height;
    unsigned char *data; /* owned by the image */
    size_t len;
} vt_media_rendition;

#define VT_MEDIA_RENDITIONS (VT_MEDIA_VARIANT_COUNT * VT_MEDIA_FORMAT_COUNT)

typedef struct {
    char hash[VT_MEDIA_HASH_LEN + 1];
    const char *source_format; /* "jpeg", "png", "webp", "heif" */
    size_t source_bytes;
    vt_media_rendition r[VT_MEDIA_RENDITIONS]; /* every variant x every format */
} vt_media_image;

/* The rendition of img for variant and format, or NULL. */
const vt_media_rendition *vt_media_image_rendition(const vt_media_image *img, int variant,
                                                   vt_media_format format);

/* Starts libvips (once per process; later calls return 0) and blocks its untrusted
 * operations. 0, or VT_INTERNAL with err. */
int vt_media_init(char *err, size_t errlen);

/* The format the first bytes say ("jpeg", "png", "webp", "heif"), or NULL. */
const char *vt_media_sniff(const void *data, size_t len);

/* SHA-256 of data as lowercase hex into out. */
void vt_media_hash(const void *data, size_t len, char out[VT_MEDIA_HASH_LEN + 1]);
/* Is hash 64 lowercase hex digits? */
bool vt_media_hash_valid(const char *hash);

typedef struct {
    long long max_pixels; /* 0: VT_MEDIA_MAX_PIXELS */
    size_t max_bytes;     /* 0: VT_MEDIA_MAX_BYTES */
} vt_media_process_opts;

/* Decode, check and render data (borrowed) as the header says. NULL opts: the defaults.
 * 0 with *out set (free with vt_media_image_free); VT_INVALID_ARGUMENT with *why set and
 * a sentence for the client in err when the upload is refused; VT_INTERNAL or
 * VT_RESOURCE_EXHAUSTED with err when libvips fails for another reason. */
int vt_media_process(const vt_media_process_opts *opts, const void *data, size_t len,
                     vt_media_image **out, vt_media_refusal *why, char *err, size_t errlen);
void vt_media_image_free(vt_media_image *img);

/* ---- the store (store.c) ---- */

/* What the store knows of an image without its pixels: its default rendition (the
 * 1024 px JPEG) and what it was made from. */
typedef struct {
    int width, height;
    int64_t bytes;
    char source_format[8];
} vt_media_info;

/* A backend: its functions, given the impl pointer passed to vt_media_store_new. Every
 * one returns 0 or a VT_* code with err set. */
typedef struct {
    /* Store every rendition of img unless its hash is stored already; *created says
     * which. All or nothing. */
    int (*put)(void *impl, const vt_media_image *img, bool *created, char *err, size_t errlen);
    /* VT_NOT_FOUND for a hash never stored. */
    int (*info)(void *impl, const char *hash, vt_media_info *out, char *err, size_t errlen);
    /* One rendition's bytes (malloc'd, the caller frees); VT_NOT_FOUND when absent. */
    int (*get)(void *impl, const char *hash, int variant, vt_media_format format,
               unsigned char **data, size_t *len, char *err, size_t errlen);
    void (*free)(void *impl);
} vt_media_store_ops;

typedef struct vt_media_store vt_media_store;

typedef struct {
    const vt_media_store_ops *ops; /* borrowed: a backend's static table */
    void *impl;                    /* owned from here: ops->free frees it with the store */
} vt_media_store_opts;

/* For backends: a store over opts->ops and opts->impl. 0; VT_INVALID_ARGUMENT without
 * ops or one of its functions; VT_RESOURCE_EXHAUSTED. On failure impl is freed too
 * (when ops->free exists), err says why. */
int vt_media_store_new(const vt_media_store_opts *opts, vt_media_store **out, char *err,
                       size_t errlen);
void vt_media_store_free(vt_media_store *s);
int vt_media_store_put(vt_media_store *s, const vt_media_image *img, bool *created, char *err,
                       size_t errlen);
int vt_media_store_info(vt_media_store *s, const char *hash, vt_media_info *out, char *err,
                        size_t errlen);
int vt_media_store_get(vt_media_store *s, const char *hash, int variant, vt_media_format format,
                       unsigned char **data, size_t *len, char *err, size_t errlen);

/* The PostgreSQL backend over the media schema (prisma-free-sql/0010_media.sql). */
typedef struct {
    vt_db_conn *conn; /* borrowed: a worker's own connection, which must outlive the store */
} vt_media_pg_opts;

/* 0 with *out set, VT_INVALID_ARGUMENT without a connection, or VT_RESOURCE_EXHAUSTED. */
int vt_media_store_pg_new(const vt_media_pg_opts *opts, vt_media_store **out, char *err,
                          size_t errlen);

#endif
