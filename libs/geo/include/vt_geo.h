/*
 * vt_geo.h — geohash cells, boxes, covers and distances for live vendor positions.
 *
 * How the mesh uses it (API.md §4, §6): a vendor's position is published on
 * `loc.<g1>.<g2>.<g3>.<g4>.<g5>.<g6>.<vendorId>`, the six tokens being the characters of
 * its precision-6 geohash. A viewer's box is turned into a bounded, sorted set of cells of
 * one precision (vt_geo_cover), and the edge subscribes to `loc.<tokens>.>` for each. The
 * contract that makes this correct: for every point p inside a box, the first `precision`
 * characters of vt_geo_hash_encode(p, 6) name a cell of the box's cover.
 *
 * Conventions:
 * - Coordinates are WGS84 degrees. A point is valid when both values are finite,
 *   lat is in [-90, 90] and lng in [-180, 180]. Nothing is silently clamped or wrapped:
 *   NaN, infinities and out-of-range values are VT_INVALID_ARGUMENT.
 * - A box is given by its north-east and south-west corners, edges included. It is valid
 *   when both corners are valid points and ne.lat >= sw.lat. When sw.lng > ne.lng the box
 *   crosses the antimeridian: it spans [sw.lng, 180] and [-180, ne.lng].
 * - Longitudes -180 and 180 are treated as different numbers, not as one meridian: a box
 *   [-180, -170] does not contain lng 180, and its cover need not hold the cell of 180.
 *   Geohash puts -180 in the westmost column and 180 in the eastmost.
 * - Geohashes use the standard alphabet "0123456789bcdefghjkmnpqrstuvwxyz", lower case
 *   only (NATS subjects are case-sensitive, so there is exactly one spelling of a cell),
 *   1..VT_GEO_HASH_MAX characters. A cell includes its south and west edges; the cells of
 *   the top row and the east column also include lat 90 and lng 180.
 * - Functions return 0 (VT_OK) or a status code from vt_core.h. Outputs are written by
 *   the caller into buffers the caller sizes; nothing here allocates or keeps state, so
 *   every function is safe to call from any thread.
 */
#ifndef VT_GEO_H
#define VT_GEO_H

#include <stdbool.h>
#include <stddef.h>

#include "vt_core.h"

/* Longest geohash accepted or produced (60 bits: ~3.7 cm by 1.9 cm at the equator). */
#define VT_GEO_HASH_MAX 12
/* Precision of the geohash in a `loc.` subject: one token per character. */
#define VT_GEO_SUBJECT_PRECISION 6
/* Finest precision vt_geo_cover picks; subscriptions cannot go deeper than the subject. */
#define VT_GEO_COVER_MAX_PRECISION VT_GEO_SUBJECT_PRECISION
/* Bytes for vt_geo_subject_tokens of the longest hash: "a.b.…" plus the terminator. */
#define VT_GEO_TOKENS_MAX (2 * VT_GEO_HASH_MAX)
/* Mean Earth radius (IUGG R1) used by the haversine distance. */
#define VT_GEO_EARTH_RADIUS_M 6371008.8

typedef struct {
    double lat;
    double lng;
} vt_geo_point;

typedef struct {
    vt_geo_point ne; /* north-east corner: the largest lat; the east edge's lng */
    vt_geo_point sw; /* south-west corner: the smallest lat; the west edge's lng */
} vt_geo_box;

/* One cell of a cover: a NUL-terminated geohash. */
typedef struct {
    char hash[VT_GEO_HASH_MAX + 1];
} vt_geo_cell;

/* ---- points and boxes (box.c) ---- */

/* True when lat, lng are finite and lat in [-90, 90], lng in [-180, 180]. */
bool vt_geo_point_valid(double lat, double lng);
/* True when box is non-NULL, both corners are valid points and ne.lat >= sw.lat. */
bool vt_geo_box_valid(const vt_geo_box *box);
/* True for a valid box whose sw.lng > ne.lng. */
bool vt_geo_box_crosses_antimeridian(const vt_geo_box *box);
/* True when the valid point lies in the valid box, edges included (false otherwise). */
bool vt_geo_box_contains(const vt_geo_box *box, double lat, double lng);
/* Split box into boxes that do not cross the antimeridian (for PostGIS `&&` envelopes).
 * out must hold 2 boxes; *n is set to 1 (a copy of box) or 2: out[0] spans
 * [sw.lng, 180] and out[1] spans [-180, ne.lng]. VT_INVALID_ARGUMENT for a bad box. */
int vt_geo_box_split_antimeridian(const vt_geo_box *box, vt_geo_box out[2], size_t *n);

/* A box that contains every point within radius_m metres of (lat, lng), a little
 * generous (1%, covering the sphere/ellipsoid difference), for index prefilters. It
 * crosses the antimeridian when the circle does and spans all longitudes when the
 * circle reaches a pole. VT_INVALID_ARGUMENT for a bad point or radius (<= 0, > 20,000 km). */
int vt_geo_box_around(double lat, double lng, double radius_m, vt_geo_box *out);

/* ---- geohash (geohash.c) ---- */

/* True for 1..VT_GEO_HASH_MAX characters of the lower-case geohash alphabet. */
bool vt_geo_hash_valid(const char *hash);
/* Geohash of a point with precision 1..VT_GEO_HASH_MAX characters into out, which must
 * hold precision + 1 bytes. VT_INVALID_ARGUMENT for a bad point, precision or out. */
int vt_geo_hash_encode(double lat, double lng, int precision, char *out);
/* The cell a geohash names: its bounds (sw = minimum corner, ne = maximum; a cell never
 * crosses the antimeridian) and/or its centre. Either output may be NULL.
 * VT_INVALID_ARGUMENT when hash is not vt_geo_hash_valid. */
int vt_geo_hash_decode(const char *hash, vt_geo_box *cell, vt_geo_point *center);
/* The cell of the same precision dlat rows north (negative: south) and dlng columns east
 * (negative: west) of hash, into out (strlen(hash) + 1 bytes). Columns wrap around the
 * antimeridian; rows do not wrap over a pole: VT_OUT_OF_RANGE when the row would leave
 * [-90, 90]. VT_INVALID_ARGUMENT for a bad hash or out. */
int vt_geo_hash_neighbor(const char *hash, int dlat, int dlng, char *out);
/* NATS subject tokens of a geohash, "dr5rkn" -> "d.r.5.r.k.n", into out (outlen bytes;
 * 2 * strlen(hash) suffices, VT_GEO_TOKENS_MAX always does). VT_INVALID_ARGUMENT for a
 * bad hash or NULL out; VT_OUT_OF_RANGE (out set to "") when outlen is too small. */
int vt_geo_subject_tokens(const char *hash, char *out, size_t outlen);

/* ---- covers (cover.c) ---- */

/* Cover box with the cells of the finest precision 1..VT_GEO_COVER_MAX_PRECISION that
 * needs at most max_cells cells. cells must hold max_cells entries; on success *ncells
 * cells are written, deduplicated and sorted (strcmp order), and *precision says which
 * precision was chosen. Every point the box contains encodes into one of the cells, and
 * every cell meets the box. Any valid box fits once max_cells >= 32 (precision 1 has 32
 * cells); otherwise VT_OUT_OF_RANGE when even precision 1 needs more than max_cells.
 * VT_INVALID_ARGUMENT for a bad box, max_cells == 0 or NULL outputs. On failure
 * *ncells and *precision are 0. */
int vt_geo_cover(const vt_geo_box *box, size_t max_cells, vt_geo_cell *cells, size_t *ncells,
                 int *precision);
/* The same at a fixed precision 1..VT_GEO_HASH_MAX: VT_OUT_OF_RANGE (and *ncells = 0)
 * when the cover needs more than max_cells cells. */
int vt_geo_cover_at(const vt_geo_box *box, int precision, size_t max_cells, vt_geo_cell *cells,
                    size_t *ncells);

/* ---- distance (distance.c) ---- */

/* Great-circle (haversine) distance in metres between two points on a sphere of radius
 * VT_GEO_EARTH_RADIUS_M, into *metres. Within 0.5% of the WGS84 ellipsoid distance that
 * PostGIS geography uses. VT_INVALID_ARGUMENT for a bad point or NULL metres. */
int vt_geo_distance_m(double lat1, double lng1, double lat2, double lng2, double *metres);

#endif
