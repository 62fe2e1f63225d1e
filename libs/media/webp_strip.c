/*
 * webp_strip.c — metadata out of a WebP file, by editing its RIFF container.
 *
 * libvips 8.14's WebP saver writes an EXIF chunk (orientation, resolution) even with
 * strip=TRUE, and in 8.14.1 it carried the upload's EXIF with its GPS position through
 * (tests/e2e/gateway/images.mjs saw both). So process.c does not trust the saver: the
 * file it wrote goes through here, which keeps every chunk but EXIF, XMP and ICCP and
 * clears those three flags in the VP8X header. The pixels (VP8, VP8L, ALPH, ANIM...)
 * are not touched.
 *
 * Layout (Google's "WebP Container Specification"): "RIFF" size "WEBP", then chunks of
 * FourCC, little-endian 32-bit size, payload, and a pad byte when the size is odd.
 */
#include "media_internal.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define VP8X_ICC 0x20
#define VP8X_EXIF 0x08
#define VP8X_XMP 0x04

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

/* Bytes from p to the next chunk (header, payload, pad; a last odd chunk may lack its
 * pad byte), or 0 when the chunk at p does not fit before end. */
static size_t chunk_step(const unsigned char *data, size_t p, size_t end)
{
    if (end - p < 8)
        return 0;
    size_t size = le32(data + p + 4);
    if (size > end - p - 8)
        return 0;
    size_t step = 8 + size + (size & 1);
    return step > end - p ? end - p : step;
}

int media_webp_strip(unsigned char *data, size_t *len)
{
    size_t n = *len;
    if (n < 12 || memcmp(data, "RIFF", 4) != 0 || memcmp(data + 8, "WEBP", 4) != 0 ||
        (size_t)le32(data + 4) + 8 > n)
        return -1;
    size_t end = (size_t)le32(data + 4) + 8;
    /* Check the whole chunk list before changing a byte. */
    for (size_t p = 12, step; p < end; p += step)
        if (!(step = chunk_step(data, p, end)))
            return -1;
    size_t out = 12;
    for (size_t p = 12, step; p < end; p += step) {
        step = chunk_step(data, p, end);
        bool drop = memcmp(data + p, "EXIF", 4) == 0 || memcmp(data + p, "XMP ", 4) == 0 ||
                    memcmp(data + p, "ICCP", 4) == 0;
        if (drop)
            continue;
        if (memcmp(data + p, "VP8X", 4) == 0 && step > 8)
            data[p + 8] &= (unsigned char)~(VP8X_ICC | VP8X_EXIF | VP8X_XMP);
        memmove(data + out, data + p, step);
        out += step;
    }
    put_le32(data + 4, (uint32_t)(out - 8));
    *len = out;
    return 0;
}
