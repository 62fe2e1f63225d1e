/*
 * store.c — the storage interface of vt_media: a handle over a backend's functions.
 *
 * Callers (venta-vendor's MediaService) only see vt_media_store_put/info/get, so a
 * second backend — an S3-compatible bucket, say, with objects named
 * "<hash>/<variant>.<ext>" — is one more file with a vt_media_store_ops and a
 * constructor, and no caller changes. The PostgreSQL backend is store_pg.c.
 */
#include "vt_core.h"
#include "vt_media.h"

#include <stdio.h>
#include <stdlib.h>

struct vt_media_store {
    const vt_media_store_ops *ops;
    void *impl;
};

int vt_media_store_new(const vt_media_store_opts *opts, vt_media_store **out, char *err,
                       size_t errlen)
{
    const vt_media_store_ops *ops = opts ? opts->ops : NULL;
    if (!ops || !ops->put || !ops->info || !ops->get) {
        if (ops && ops->free)
            ops->free(opts->impl);
        snprintf(err, errlen, "a media store needs put, info and get");
        return VT_INVALID_ARGUMENT;
    }
    vt_media_store *s = calloc(1, sizeof *s);
    if (!s) {
        if (ops->free)
            ops->free(opts->impl);
        snprintf(err, errlen, "out of memory");
        return VT_RESOURCE_EXHAUSTED;
    }
    s->ops = ops;
    s->impl = opts->impl;
    *out = s;
    return VT_OK;
}

void vt_media_store_free(vt_media_store *s)
{
    if (!s)
        return;
    if (s->ops->free)
        s->ops->free(s->impl);
    free(s);
}

int vt_media_store_put(vt_media_store *s, const vt_media_image *img, bool *created, char *err,
                       size_t errlen)
{
    bool ignored;
    return s->ops->put(s->impl, img, created ? created : &ignored, err, errlen);
}

int vt_media_store_info(vt_media_store *s, const char *hash, vt_media_info *out, char *err,
                        size_t errlen)
{
    if (!vt_media_hash_valid(hash)) {
        snprintf(err, errlen, "not an image hash");
        return VT_NOT_FOUND;
    }
    return s->ops->info(s->impl, hash, out, err, errlen);
}

int vt_media_store_get(vt_media_store *s, const char *hash, int variant, vt_media_format format,
                       unsigned char **data, size_t *len, char *err, size_t errlen)
{
    *data = NULL;
    *len = 0;
    if (!vt_media_hash_valid(hash) || !vt_media_variant_valid(variant) ||
        (unsigned)format >= VT_MEDIA_FORMAT_COUNT) {
        snprintf(err, errlen, "no such rendition");
        return VT_NOT_FOUND;
    }
    return s->ops->get(s->impl, hash, variant, format, data, len, err, errlen);
}
