/*
 * box.c — validation of points and boxes, containment, and the antimeridian split.
 *
 * Validation is strict on purpose: coordinates come from phones and browsers, and a NaN
 * or a longitude of 200 that slipped through would either poison a PostGIS query or
 * produce a cover of the wrong cells. Callers turn a false here into INVALID_ARGUMENT.
 *
 * A box crosses the antimeridian when sw.lng > ne.lng (API.md §4). Containment compares
 * numbers, edges included, with no equivalence between -180 and 180; cover.c follows the
 * same rule, so "inside the box" and "inside the cover" never disagree.
 */
#include "vt_geo.h"

#include <math.h>

bool vt_geo_point_valid(double lat, double lng)
{
    return isfinite(lat) && isfinite(lng) && lat >= -90.0 && lat <= 90.0 && lng >= -180.0 &&
           lng <= 180.0;
}

bool vt_geo_box_valid(const vt_geo_box *box)
{
    return box && vt_geo_point_valid(box->ne.lat, box->ne.lng) &&
           vt_geo_point_valid(box->sw.lat, box->sw.lng) && box->ne.lat >= box->sw.lat;
}

bool vt_geo_box_crosses_antimeridian(const vt_geo_box *box)
{
    return vt_geo_box_valid(box) && box->sw.lng > box->ne.lng;
}

bool vt_geo_box_contains(const vt_geo_box *box, double lat, double lng)
{
    if (!vt_geo_box_valid(box) || !vt_geo_point_valid(lat, lng))
        return false;
    if (lat < box->sw.lat || lat > box->ne.lat)
        return false;
    if (box->sw.lng <= box->ne.lng)
        return lng >= box->sw.lng && lng <= box->ne.lng;
    return lng >= box->sw.lng || lng <= box->ne.lng;
}

int vt_geo_box_split_antimeridian(const vt_geo_box *box, vt_geo_box out[2], size_t *n)
{
    if (n)
        *n = 0;
    if (!vt_geo_box_valid(box) || !out || !n)
        return VT_INVALID_ARGUMENT;
    if (box->sw.lng <= box->ne.lng) {
        out[0] = *box;
        *n = 1;
        return VT_OK;
    }
    out[0] = *box;
    out[0].ne.lng = 180.0;
    out[1] = *box;
    out[1].sw.lng = -180.0;
    *n = 2;
    return VT_OK;
}

int vt_geo_box_around(double lat, double lng, double radius_m, vt_geo_box *out)
{
    if (!out || !vt_geo_point_valid(lat, lng) || !isfinite(radius_m) || radius_m <= 0 ||
        radius_m > 2.0e7)
        return VT_INVALID_ARGUMENT;
    const double deg = 180.0 / M_PI;
    double angle = radius_m * 1.01 / VT_GEO_EARTH_RADIUS_M; /* radians of arc */
    double south = lat - angle * deg, north = lat + angle * deg;
    out->sw.lat = south < -90 ? -90 : south;
    out->ne.lat = north > 90 ? 90 : north;
    /* The widest longitude span of a spherical cap is asin(sin a / cos lat); a cap over a
     * pole spans every longitude. */
    double s = sin(angle) / cos(lat / deg);
    if (south <= -90 || north >= 90 || angle >= M_PI / 2 || s >= 1) {
        out->sw.lng = -180;
        out->ne.lng = 180;
        return VT_OK;
    }
    double dlng = asin(s) * deg;
    double west = lng - dlng, east = lng + dlng;
    out->sw.lng = west < -180 ? west + 360 : west;
    out->ne.lng = east > 180 ? east - 360 : east;
    return VT_OK;
}
