/*
 * fuzz_geo.c — libFuzzer target for libs/geo (clang only, built by `ninja fuzz`, run by
 * the 'fuzz' suite; see tests/run-fuzz).
 *
 * The input is read as raw doubles and bytes, so the fuzzer reaches NaNs, infinities,
 * subnormals, ±0, exact cell edges and garbage geohash text. For every input it checks
 * what the unit tests check on samples: bad input is refused with a status and never
 * crashes; a valid box's cover is sorted, unique, bounded by max_cells and holds the
 * cells of the box's corners; encode/decode round-trip; tokens are well formed.
 *
 *   CC=clang meson setup build-fuzz -Db_sanitize=address,undefined -Dbenchmarks=false
 *   ninja -C build-fuzz fuzz && build-fuzz/tests/unit/geo/fuzz-geo -max_total_time=60 \
 *       tests/unit/geo/corpus
 */
#include "vt_geo.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static double take_double(const uint8_t **data, size_t *size)
{
    double v = 0;
    if (*size >= sizeof v) {
        memcpy(&v, *data, sizeof v);
        *data += sizeof v;
        *size -= sizeof v;
    }
    return v;
}

static void check_point_cell(const vt_geo_cell *cells, size_t n, int precision, double lat,
                             double lng)
{
    char h[VT_GEO_HASH_MAX + 1];
    if (vt_geo_hash_encode(lat, lng, precision, h) != 0)
        abort();
    for (size_t i = 0; i < n; i++)
        if (strcmp(cells[i].hash, h) == 0)
            return;
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static vt_geo_cell cells[256];
    vt_geo_box box;
    box.sw.lat = take_double(&data, &size);
    box.sw.lng = take_double(&data, &size);
    box.ne.lat = take_double(&data, &size);
    box.ne.lng = take_double(&data, &size);
    size_t max = 1;
    int precision = 1;
    if (size >= 2) {
        max = 1 + data[0];                         /* 1..256 */
        precision = 1 + data[1] % VT_GEO_HASH_MAX; /* 1..12 */
        data += 2;
        size -= 2;
    }

    /* Points: encode, decode, round trip. */
    char h[VT_GEO_HASH_MAX + 1];
    int rc = vt_geo_hash_encode(box.sw.lat, box.sw.lng, precision, h);
    if ((rc == 0) != vt_geo_point_valid(box.sw.lat, box.sw.lng))
        abort();
    if (rc == 0) {
        vt_geo_point c;
        char again[VT_GEO_HASH_MAX + 1];
        if (vt_geo_hash_decode(h, NULL, &c) != 0 ||
            vt_geo_hash_encode(c.lat, c.lng, precision, again) != 0 || strcmp(h, again) != 0)
            abort();
    }
    double d;
    rc = vt_geo_distance_m(box.sw.lat, box.sw.lng, box.ne.lat, box.ne.lng, &d);
    if (rc == 0 && !(d >= 0 && d <= 2.1e7))
        abort();

    /* Boxes and covers. */
    size_t n = 0;
    int p = 0;
    rc = vt_geo_cover(&box, max, cells, &n, &p);
    if (vt_geo_box_valid(&box)) {
        if (rc == 0) {
            if (n == 0 || n > max || p < 1 || p > VT_GEO_COVER_MAX_PRECISION)
                abort();
            for (size_t i = 1; i < n; i++)
                if (strcmp(cells[i - 1].hash, cells[i].hash) >= 0)
                    abort();
            check_point_cell(cells, n, p, box.sw.lat, box.sw.lng);
            check_point_cell(cells, n, p, box.ne.lat, box.ne.lng);
            check_point_cell(cells, n, p, box.sw.lat, box.ne.lng);
            check_point_cell(cells, n, p, box.ne.lat, box.sw.lng);
        } else if (rc != VT_OUT_OF_RANGE || max >= 32) {
            abort();
        }
        vt_geo_box halves[2];
        size_t nh = 0;
        if (vt_geo_box_split_antimeridian(&box, halves, &nh) != 0 || nh < 1 || nh > 2)
            abort();
    } else if (rc != VT_INVALID_ARGUMENT || n != 0 || p != 0) {
        abort();
    }

    /* The rest of the input as geohash text. */
    char text[32];
    size_t len = size < sizeof text - 1 ? size : sizeof text - 1;
    memcpy(text, data, len);
    text[len] = '\0';
    vt_geo_box cell;
    rc = vt_geo_hash_decode(text, &cell, NULL);
    if ((rc == 0) != vt_geo_hash_valid(text))
        abort();
    char tokens[VT_GEO_TOKENS_MAX];
    if (rc == 0) {
        if (!vt_geo_box_valid(&cell) || vt_geo_subject_tokens(text, tokens, sizeof tokens) != 0 ||
            strlen(tokens) != 2 * strlen(text) - 1)
            abort();
        char nb[VT_GEO_HASH_MAX + 1];
        rc = vt_geo_hash_neighbor(text, (int)(len % 3) - 1, (int)(len % 5) - 2, nb);
        if (rc != 0 && rc != VT_OUT_OF_RANGE)
            abort();
    }
    return 0;
}
