/*
 * distance.c — haversine great-circle distance.
 *
 * A sphere of the IUGG mean radius is within about 0.5% of the WGS84 ellipsoid that
 * PostGIS geography measures on, which is plenty for "vendors near me" ordering and for
 * deciding whether a position update moved far enough to matter; exact radius queries
 * are left to ST_DWithin in the database. The haversine form stays accurate for the short
 * distances that dominate here (the law of cosines loses precision below a few metres);
 * the intermediate is clamped to [0, 1] so rounding near antipodes cannot make asin NaN.
 */
#include "vt_geo.h"

#include <math.h>

static double radians(double deg)
{
    return deg * (3.14159265358979323846 / 180.0);
}

int vt_geo_distance_m(double lat1, double lng1, double lat2, double lng2, double *metres)
{
    if (!metres || !vt_geo_point_valid(lat1, lng1) || !vt_geo_point_valid(lat2, lng2))
        return VT_INVALID_ARGUMENT;
    double s_lat = sin(radians(lat2 - lat1) / 2);
    double s_lng = sin(radians(lng2 - lng1) / 2);
    double a = s_lat * s_lat + cos(radians(lat1)) * cos(radians(lat2)) * s_lng * s_lng;
    if (a > 1.0)
        a = 1.0;
    if (a < 0.0)
        a = 0.0;
    *metres = 2.0 * VT_GEO_EARTH_RADIUS_M * asin(sqrt(a));
    return VT_OK;
}
