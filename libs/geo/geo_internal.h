/*
 * geo_internal.h — the integer cell index shared by geohash.c and cover.c (not public).
 *
 * A geohash of precision P is 5P bits that interleave a longitude column index (first bit,
 * then every other one) with a latitude row index. Working on the two indices instead of
 * on strings makes covers, neighbours and decoding plain integer arithmetic, and having
 * one quantizer for both encoding and covering is what guarantees that a point inside a
 * box encodes into a cell of the box's cover.
 */
#ifndef VT_GEO_INTERNAL_H
#define VT_GEO_INTERNAL_H

#include <stdint.h>

typedef struct {
    uint32_t row; /* latitude index, 0 = southmost */
    uint32_t col; /* longitude index, 0 = westmost */
    int lat_bits; /* rows = 2^lat_bits */
    int lng_bits; /* columns = 2^lng_bits */
} vt_geo_ix;

/* Bits of each index for a precision of 1..VT_GEO_HASH_MAX characters. */
void vt_geo_ix_bits(int precision, int *lat_bits, int *lng_bits);
/* Index of v in [lo, hi] split into 2^bits equal parts, by exact bisection: v == hi
 * lands in the last part. */
uint32_t vt_geo_ix_quantize(double v, double lo, double hi, int bits);
/* Cell index of a valid point. */
vt_geo_ix vt_geo_ix_of(double lat, double lng, int precision);
/* Geohash text of an index (precision characters and a NUL). */
void vt_geo_ix_format(const vt_geo_ix *ix, int precision, char *out);

#endif
