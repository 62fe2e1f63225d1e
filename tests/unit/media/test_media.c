/*
 * Unit tests of libs/media without a database: what vt_media_process makes of images
 * encoded here by libvips itself (sizes, rotation, formats, no metadata) and what it
 * refuses (not an image, too many pixels, truncated, too large), plus the names and
 * hashes. The store against PostgreSQL and the whole path with ImageMagick-made photos
 * carrying GPS tags are in tests/e2e/gateway/images.mjs.
 */
#include "vt_media.h"
#include "vt_test.h"

#include <vips/vips.h>

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* A w x h gradient as format ("jpeg", "png", "webp"), with an EXIF orientation and a
 * camera make when exif is set. The caller g_free()s it. */
static void *encode(int w, int h, const char *format, int orientation, size_t *len)
{
    VipsImage *xy = NULL, *rgb = NULL, *u8 = NULL, *img = NULL;
    VT_REQUIRE(vips_xyz(&xy, w, h, NULL) == 0); /* two bands: x and y */
    VT_REQUIRE(vips_bandjoin_const1(xy, &rgb, 128, NULL) == 0);
    VT_REQUIRE(vips_cast_uchar(rgb, &u8, NULL) == 0);
    VT_REQUIRE(vips_copy(u8, &img, "interpretation", VIPS_INTERPRETATION_sRGB, NULL) == 0);
    g_object_unref(xy);
    g_object_unref(rgb);
    g_object_unref(u8);
    if (orientation) {
        vips_image_set_int(img, VIPS_META_ORIENTATION, orientation);
        vips_image_set_string(img, "exif-ifd0-Make",
                              "VentaPhone (VentaPhone, ASCII, 11 components, 11 bytes)");
    }
    void *buf = NULL;
    int rc;
    if (strcmp(format, "jpeg") == 0)
        rc = vips_jpegsave_buffer(img, &buf, len, NULL);
    else if (strcmp(format, "png") == 0)
        rc = vips_pngsave_buffer(img, &buf, len, NULL);
    else if (strcmp(format, "webp") == 0)
        rc = vips_webpsave_buffer(img, &buf, len, NULL);
    else /* "avif" or "heic" */
        rc = vips_heifsave_buffer(img, &buf, len, "compression",
                                  strcmp(format, "avif") == 0 ? VIPS_FOREIGN_HEIF_COMPRESSION_AV1
                                                              : VIPS_FOREIGN_HEIF_COMPRESSION_HEVC,
                                  NULL);
    g_object_unref(img);
    VT_REQUIRE(rc == 0);
    return buf;
}

static bool contains(const unsigned char *data, size_t len, const char *needle)
{
    return memmem(data, len, needle, strlen(needle)) != NULL;
}

static void test_renditions(void)
{
    char err[256];
    size_t len;
    /* Stored 600 x 300 with orientation 6 (rotate 90° clockwise to show): upright it is
     * 300 x 600, so the 1024 variant keeps 300 x 600 (never enlarged) and the 256 one is
     * 128 x 256. */
    unsigned char *jpeg = encode(600, 300, "jpeg", 6, &len);
    VT_CHECK(contains(jpeg, len, "Exif"));
    vt_media_image *img = NULL;
    vt_media_refusal why = VT_MEDIA_CORRUPT;
    VT_REQUIRE(vt_media_process(NULL, jpeg, len, &img, &why, err, sizeof err) == VT_OK);
    VT_CHECK_INT(why, VT_MEDIA_ACCEPTED);
    VT_CHECK_STR(img->source_format, "jpeg");
    VT_CHECK_INT((long)img->source_bytes, (long)len);
    char hash[VT_MEDIA_HASH_LEN + 1];
    vt_media_hash(jpeg, len, hash);
    VT_CHECK_STR(img->hash, hash);
    for (int v = 0; v < VT_MEDIA_VARIANT_COUNT; v++) {
        for (int f = 0; f < VT_MEDIA_FORMAT_COUNT; f++) {
            const vt_media_rendition *r =
                vt_media_image_rendition(img, vt_media_variants[v], (vt_media_format)f);
            VT_REQUIRE(r != NULL);
            VT_CHECK_INT(r->width, v == 0 ? 300 : 128);
            VT_CHECK_INT(r->height, v == 0 ? 600 : 256);
            if (f == VT_MEDIA_JPEG)
                VT_CHECK(r->len > 3 && r->data[0] == 0xFF && r->data[1] == 0xD8);
            else
                VT_CHECK(r->len > 12 && memcmp(r->data + 8, "WEBP", 4) == 0);
            /* No EXIF block (nor its camera make), no XMP, no ICC. */
            VT_CHECK(!contains(r->data, r->len, "Exif"));
            VT_CHECK(!contains(r->data, r->len, "EXIF"));
            VT_CHECK(!contains(r->data, r->len, "VentaPhone"));
            VT_CHECK(!contains(r->data, r->len, "XMP"));
            VT_CHECK(!contains(r->data, r->len, "ICCP"));
            /* The output reads back as the size it claims, upright. */
            VipsImage *back = vips_image_new_from_buffer(r->data, r->len, "", NULL);
            VT_REQUIRE(back != NULL);
            VT_CHECK_INT(vips_image_get_width(back), r->width);
            VT_CHECK_INT(vips_image_get_height(back), r->height);
            VT_CHECK(!vips_image_get_typeof(back, VIPS_META_ORIENTATION) ||
                     vips_image_get_orientation(back) == 1);
            g_object_unref(back);
        }
    }
    vt_media_image_free(img);
    g_free(jpeg);

    /* PNG, WebP, AVIF and HEIC uploads are taken too; a large one is shrunk to 1024. */
    const char *const formats[] = {"png", "webp", "avif", "heic"};
    for (size_t i = 0; i < 4; i++) {
        unsigned char *data = encode(2048, 1024, formats[i], 0, &len);
        VT_REQUIRE(vt_media_process(NULL, data, len, &img, &why, err, sizeof err) == VT_OK);
        VT_CHECK_STR(img->source_format, i < 2 ? formats[i] : "heif");
        const vt_media_rendition *r = vt_media_image_rendition(img, 1024, VT_MEDIA_JPEG);
        VT_CHECK(r->width == 1024 && r->height == 512);
        vt_media_image_free(img);
        g_free(data);
    }
}

/* Append one PNG chunk (length, type, data, CRC) at p; returns the end. */
static unsigned char *png_chunk(unsigned char *p, const char *type, const unsigned char *data,
                                uint32_t n)
{
    for (int i = 0; i < 4; i++)
        *p++ = (unsigned char)(n >> (24 - 8 * i));
    unsigned char *typed = p;
    memcpy(p, type, 4);
    if (n)
        memcpy(p + 4, data, n);
    p += 4 + n;
    uLong crc = crc32(0, typed, 4 + n);
    for (int i = 0; i < 4; i++)
        *p++ = (unsigned char)(crc >> (24 - 8 * i));
    return p;
}

/* A PNG declaring w x h whose pixel data is one compressed row: a decompression bomb
 * of a few hundred bytes. */
static unsigned char *bomb_png(uint32_t w, uint32_t h, size_t *len)
{
    static unsigned char png[4096];
    unsigned char *p = png;
    memcpy(p, "\x89PNG\r\n\x1a\n", 8);
    p += 8;
    unsigned char ihdr[13] = {0};
    for (int i = 0; i < 4; i++) {
        ihdr[i] = (unsigned char)(w >> (24 - 8 * i));
        ihdr[4 + i] = (unsigned char)(h >> (24 - 8 * i));
    }
    ihdr[8] = 8; /* bit depth */
    ihdr[9] = 2; /* RGB */
    p = png_chunk(p, "IHDR", ihdr, sizeof ihdr);
    static unsigned char row[1 + 3 * 1000];
    unsigned char z[1024];
    uLongf zl = sizeof z;
    VT_REQUIRE(compress(z, &zl, row, sizeof row) == Z_OK);
    p = png_chunk(p, "IDAT", z, (uint32_t)zl);
    p = png_chunk(p, "IEND", NULL, 0);
    *len = (size_t)(p - png);
    return png;
}

static void test_refusals(void)
{
    char err[256];
    vt_media_image *img = (vt_media_image *)1;
    vt_media_refusal why;
    const char text[] = "GIF89a is not on the list, and neither is text";
    VT_CHECK(vt_media_process(NULL, text, sizeof text, &img, &why, err, sizeof err) ==
             VT_INVALID_ARGUMENT);
    VT_CHECK_INT(why, VT_MEDIA_UNSUPPORTED);
    VT_CHECK(img == NULL);
    VT_CHECK(strstr(err, "not a JPEG") != NULL);
    const char svg[] = "<svg xmlns='http://www.w3.org/2000/svg'/>";
    VT_CHECK(vt_media_process(NULL, svg, sizeof svg, &img, &why, err, sizeof err) ==
                 VT_INVALID_ARGUMENT &&
             why == VT_MEDIA_UNSUPPORTED);

    size_t len;
    unsigned char *bomb = bomb_png(30000, 30000, &len);
    VT_CHECK(vt_media_process(NULL, bomb, len, &img, &why, err, sizeof err) == VT_INVALID_ARGUMENT);
    VT_CHECK_INT(why, VT_MEDIA_TOO_MANY_PIXELS);
    VT_CHECK(strstr(err, "30000 x 30000") != NULL);

    /* The limits are the caller's: 2048 x 1024 is over a 1 MP limit. */
    unsigned char *png = encode(2048, 1024, "png", 0, &len);
    vt_media_process_opts lim = {.max_pixels = 1000 * 1000};
    VT_CHECK(vt_media_process(&lim, png, len, &img, &why, err, sizeof err) == VT_INVALID_ARGUMENT &&
             why == VT_MEDIA_TOO_MANY_PIXELS);
    lim = (vt_media_process_opts){.max_bytes = len - 1};
    VT_CHECK(vt_media_process(&lim, png, len, &img, &why, err, sizeof err) == VT_INVALID_ARGUMENT &&
             why == VT_MEDIA_TOO_LARGE);
    /* Truncated: half a PNG, half a JPEG, a JPEG of its header alone. */
    VT_CHECK(vt_media_process(NULL, png, len / 2, &img, &why, err, sizeof err) ==
                 VT_INVALID_ARGUMENT &&
             why == VT_MEDIA_CORRUPT);
    g_free(png);
    unsigned char *jpeg = encode(800, 600, "jpeg", 0, &len);
    VT_CHECK(vt_media_process(NULL, jpeg, len / 2, &img, &why, err, sizeof err) ==
                 VT_INVALID_ARGUMENT &&
             why == VT_MEDIA_CORRUPT);
    VT_CHECK(vt_media_process(NULL, jpeg, 8, &img, &why, err, sizeof err) == VT_INVALID_ARGUMENT &&
             why == VT_MEDIA_CORRUPT);
    g_free(jpeg);
    VT_CHECK(img == NULL);
}

static void test_names(void)
{
    VT_CHECK_STR(vt_media_sniff("\xFF\xD8\xFF\xE0", 4), "jpeg");
    VT_CHECK_STR(vt_media_sniff("\x89PNG\r\n\x1a\n", 8), "png");
    VT_CHECK_STR(vt_media_sniff("RIFF\0\0\0\0WEBPVP8 ", 16), "webp");
    VT_CHECK_STR(vt_media_sniff("\0\0\0\x18"
                                "ftypheic",
                                12),
                 "heif");
    VT_CHECK_STR(vt_media_sniff("\0\0\0\x1c"
                                "ftypavif",
                                12),
                 "heif");
    VT_CHECK(vt_media_sniff("\0\0\0\x18"
                            "ftypmp42",
                            12) == NULL); /* a video */
    VT_CHECK(vt_media_sniff("RIFF\0\0\0\0WAVE", 12) == NULL);
    VT_CHECK(vt_media_sniff("GIF89a", 6) == NULL);
    VT_CHECK(vt_media_sniff("\xFF\xD8", 2) == NULL);
    VT_CHECK(vt_media_sniff(NULL, 0) == NULL);

    char hash[VT_MEDIA_HASH_LEN + 1];
    vt_media_hash("test", 4, hash);
    VT_CHECK_STR(hash, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
    VT_CHECK(vt_media_hash_valid(hash));
    VT_CHECK(
        !vt_media_hash_valid("9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"));
    VT_CHECK(!vt_media_hash_valid("9f86d0"));
    VT_CHECK(!vt_media_hash_valid(NULL));
    char longer[80];
    snprintf(longer, sizeof longer, "%s0", hash);
    VT_CHECK(!vt_media_hash_valid(longer));

    for (int r = VT_MEDIA_UNSUPPORTED; r <= VT_MEDIA_TOO_LARGE; r++)
        VT_CHECK_INT(vt_media_refusal_from_name(vt_media_refusal_name((vt_media_refusal)r)), r);
    VT_CHECK_INT(vt_media_refusal_from_name("nonsense"), VT_MEDIA_ACCEPTED);
    VT_CHECK_INT(vt_media_refusal_from_name(NULL), VT_MEDIA_ACCEPTED);
    VT_CHECK_INT(vt_media_format_from_ext("webp"), VT_MEDIA_WEBP);
    VT_CHECK_INT(vt_media_format_from_ext("jpg"), VT_MEDIA_JPEG);
    VT_CHECK_INT(vt_media_format_from_ext("jpeg"), -1);
    VT_CHECK_STR(vt_media_format_mime(VT_MEDIA_WEBP), "image/webp");
    VT_CHECK(vt_media_variant_valid(256) && vt_media_variant_valid(1024));
    VT_CHECK(!vt_media_variant_valid(512));
}

int main(void)
{
    char err[256];
    VT_REQUIRE(vt_media_init(err, sizeof err) == VT_OK);
    VT_RUN(test_names);
    VT_RUN(test_renditions);
    VT_RUN(test_refusals);
    return VT_TEST_RESULT();
}
