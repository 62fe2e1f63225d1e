/*
 * names.c — the small vocabulary of vt_media: refusal names (the venta-media-error
 * metadata), formats and their file extensions and MIME types, the variant sizes, the
 * first-bytes test of what an upload is, and the SHA-256 that names an image.
 *
 * Nothing here touches libvips, so the gateway's fuzz and unit tests can use it too.
 */
#include "vt_media.h"

#include <openssl/evp.h>
#include <string.h>

const int vt_media_variants[VT_MEDIA_VARIANT_COUNT] = {1024, 256};

static const char *const refusal_names[] = {
    [VT_MEDIA_ACCEPTED] = "",
    [VT_MEDIA_UNSUPPORTED] = "unsupported",
    [VT_MEDIA_TOO_MANY_PIXELS] = "too-many-pixels",
    [VT_MEDIA_CORRUPT] = "corrupt",
    [VT_MEDIA_TOO_LARGE] = "too-large",
};

const char *vt_media_refusal_name(vt_media_refusal why)
{
    return (unsigned)why < sizeof refusal_names / sizeof refusal_names[0] ? refusal_names[why] : "";
}

vt_media_refusal vt_media_refusal_from_name(const char *name)
{
    if (!name || !*name)
        return VT_MEDIA_ACCEPTED;
    for (size_t i = 1; i < sizeof refusal_names / sizeof refusal_names[0]; i++)
        if (strcmp(name, refusal_names[i]) == 0)
            return (vt_media_refusal)i;
    return VT_MEDIA_ACCEPTED;
}

const char *vt_media_format_ext(vt_media_format f)
{
    return f == VT_MEDIA_WEBP ? "webp" : "jpg";
}

const char *vt_media_format_mime(vt_media_format f)
{
    return f == VT_MEDIA_WEBP ? "image/webp" : "image/jpeg";
}

int vt_media_format_from_ext(const char *ext)
{
    if (!ext)
        return -1;
    if (strcmp(ext, "webp") == 0)
        return VT_MEDIA_WEBP;
    if (strcmp(ext, "jpg") == 0)
        return VT_MEDIA_JPEG;
    return -1;
}

bool vt_media_variant_valid(int size)
{
    for (int i = 0; i < VT_MEDIA_VARIANT_COUNT; i++)
        if (vt_media_variants[i] == size)
            return true;
    return false;
}

const vt_media_rendition *vt_media_image_rendition(const vt_media_image *img, int variant,
                                                   vt_media_format format)
{
    for (int i = 0; i < VT_MEDIA_RENDITIONS; i++)
        if (img->r[i].variant == variant && img->r[i].format == format)
            return &img->r[i];
    return NULL;
}

/* ISO BMFF brands of the HEIF family: HEIC (HEVC) and AVIF (AV1) stills and sequences. */
static bool heif_brand(const unsigned char *b)
{
    static const char *const brands[] = {"heic", "heix", "heim", "heis", "hevc",
                                         "hevx", "mif1", "msf1", "avif", "avis"};
    for (size_t i = 0; i < sizeof brands / sizeof brands[0]; i++)
        if (memcmp(b, brands[i], 4) == 0)
            return true;
    return false;
}

const char *vt_media_sniff(const void *data, size_t len)
{
    const unsigned char *b = data;
    if (!b)
        return NULL;
    if (len >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF)
        return "jpeg";
    if (len >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "png";
    if (len >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WEBP", 4) == 0)
        return "webp";
    if (len >= 12 && memcmp(b + 4, "ftyp", 4) == 0 && heif_brand(b + 8))
        return "heif";
    return NULL;
}

void vt_media_hash(const void *data, size_t len, char out[VT_MEDIA_HASH_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < n && i < VT_MEDIA_HASH_LEN / 2; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[VT_MEDIA_HASH_LEN] = '\0';
}

bool vt_media_hash_valid(const char *hash)
{
    if (!hash)
        return false;
    size_t i = 0;
    for (; hash[i]; i++)
        if (i >= VT_MEDIA_HASH_LEN ||
            !((hash[i] >= '0' && hash[i] <= '9') || (hash[i] >= 'a' && hash[i] <= 'f')))
            return false;
    return i == VT_MEDIA_HASH_LEN;
}
