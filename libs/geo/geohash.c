/*
 * geohash.c — geohash text <-> cell index, decoding to bounds, neighbours, subject tokens.
 *
 * Encoding bisects the latitude and longitude ranges rather than computing
 * floor((v - lo) / width): the bisection midpoints are dyadic fractions of 180 and 360,
 * exact in a double for every precision we accept, so each comparison is exact and the
 * result is the true cell of the point, with no rounding error at cell edges (a point at
 * -1e-300 stays in the southern half). The same quantizer serves cover.c, which is why a
 * cover and an encoded position always agree on edges. Cell bounds are also exact:
 * index * 2^-bits * 360 needs fewer than 53 bits of mantissa.
 *
 * The prefix property holds by construction: bisecting further only appends bits, so
 * encode(p, 4) is a prefix of encode(p, 6), which is what lets a subscriber to
 * `loc.d.r.5.r.>` receive every vendor whose precision-6 cell lies in cell "dr5r".
 */
#include "vt_geo.h"

#include "geo_internal.h"

#include <math.h>
#include <string.h>

static const char alphabet[33] = "0123456789bcdefghjkmnpqrstuvwxyz";

/* Value of each geohash character plus one; 0 marks a character outside the alphabet. */
static const unsigned char char_value[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['b'] = 11, ['c'] = 12, ['d'] = 13, ['e'] = 14, ['f'] = 15, ['g'] = 16,
    ['h'] = 17, ['j'] = 18, ['k'] = 19, ['m'] = 20, ['n'] = 21, ['p'] = 22, ['q'] = 23, ['r'] = 24,
    ['s'] = 25, ['t'] = 26, ['u'] = 27, ['v'] = 28, ['w'] = 29, ['x'] = 30, ['y'] = 31, ['z'] = 32,
};

void vt_geo_ix_bits(int precision, int *lat_bits, int *lng_bits)
{
    int bits = 5 * precision;
    *lng_bits = (bits + 1) / 2; /* longitude takes the first bit */
    *lat_bits = bits / 2;
}

uint32_t vt_geo_ix_quantize(double v, double lo, double hi, int bits)
{
    uint32_t ix = 0;
    for (int i = 0; i < bits; i++) {
        double mid = (lo + hi) / 2;
        ix <<= 1;
        if (v >= mid) {
            ix |= 1;
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return ix;
}

vt_geo_ix vt_geo_ix_of(double lat, double lng, int precision)
{
    vt_geo_ix ix;
    vt_geo_ix_bits(precision, &ix.lat_bits, &ix.lng_bits);
    ix.row = vt_geo_ix_quantize(lat, -90.0, 90.0, ix.lat_bits);
    ix.col = vt_geo_ix_quantize(lng, -180.0, 180.0, ix.lng_bits);
    return ix;
}

void vt_geo_ix_format(const vt_geo_ix *ix, int precision, char *out)
{
    int lat_left = ix->lat_bits, lng_left = ix->lng_bits;
    for (int c = 0; c < precision; c++) {
        unsigned v = 0;
        for (int b = 0; b < 5; b++) {
            int bit = 5 * c + b;
            unsigned next;
            if (bit % 2 == 0)
                next = (ix->col >> --lng_left) & 1u;
            else
                next = (ix->row >> --lat_left) & 1u;
            v = (v << 1) | next;
        }
        out[c] = alphabet[v];
    }
    out[precision] = '\0';
}

/* Index of a geohash; returns its precision, or 0 when hash is not valid. */
static int parse(const char *hash, vt_geo_ix *ix)
{
    if (!hash)
        return 0;
    size_t len = strnlen(hash, VT_GEO_HASH_MAX + 1);
    if (len == 0 || len > VT_GEO_HASH_MAX)
        return 0;
    int precision = (int)len;
    vt_geo_ix_bits(precision, &ix->lat_bits, &ix->lng_bits);
    ix->row = ix->col = 0;
    for (int c = 0; c < precision; c++) {
        unsigned v = char_value[(unsigned char)hash[c]];
        if (v == 0)
            return 0;
        v -= 1;
        for (int b = 4; b >= 0; b--) {
            unsigned next = (v >> b) & 1u;
            if ((5 * c + 4 - b) % 2 == 0)
                ix->col = (ix->col << 1) | next;
            else
                ix->row = (ix->row << 1) | next;
        }
    }
    return precision;
}

bool vt_geo_hash_valid(const char *hash)
{
    vt_geo_ix ix;
    return parse(hash, &ix) != 0;
}

int vt_geo_hash_encode(double lat, double lng, int precision, char *out)
{
    if (!out || precision < 1 || precision > VT_GEO_HASH_MAX || !vt_geo_point_valid(lat, lng))
        return VT_INVALID_ARGUMENT;
    vt_geo_ix ix = vt_geo_ix_of(lat, lng, precision);
    vt_geo_ix_format(&ix, precision, out);
    return VT_OK;
}

int vt_geo_hash_decode(const char *hash, vt_geo_box *cell, vt_geo_point *center)
{
    vt_geo_ix ix;
    if (!parse(hash, &ix))
        return VT_INVALID_ARGUMENT;
    double lat_step = ldexp(180.0, -ix.lat_bits);
    double lng_step = ldexp(360.0, -ix.lng_bits);
    vt_geo_box b;
    b.sw.lat = -90.0 + ix.row * lat_step;
    b.sw.lng = -180.0 + ix.col * lng_step;
    b.ne.lat = b.sw.lat + lat_step;
    b.ne.lng = b.sw.lng + lng_step;
    if (cell)
        *cell = b;
    if (center) {
        center->lat = b.sw.lat + lat_step / 2;
        center->lng = b.sw.lng + lng_step / 2;
    }
    return VT_OK;
}

int vt_geo_hash_neighbor(const char *hash, int dlat, int dlng, char *out)
{
    vt_geo_ix ix;
    int precision = parse(hash, &ix);
    if (!precision || !out)
        return VT_INVALID_ARGUMENT;
    int64_t rows = (int64_t)1 << ix.lat_bits, cols = (int64_t)1 << ix.lng_bits;
    int64_t row = (int64_t)ix.row + dlat;
    if (row < 0 || row >= rows)
        return VT_OUT_OF_RANGE;
    int64_t col = ((int64_t)ix.col + dlng % cols + cols) % cols;
    ix.row = (uint32_t)row;
    ix.col = (uint32_t)col;
    vt_geo_ix_format(&ix, precision, out);
    return VT_OK;
}

int vt_geo_subject_tokens(const char *hash, char *out, size_t outlen)
{
    if (!out || !vt_geo_hash_valid(hash))
        return VT_INVALID_ARGUMENT;
    size_t len = strlen(hash);
    if (outlen < 2 * len) {
        if (outlen > 0)
            out[0] = '\0';
        return VT_OUT_OF_RANGE;
    }
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hash[i];
        out[2 * i + 1] = i + 1 < len ? '.' : '\0';
    }
    return VT_OK;
}
