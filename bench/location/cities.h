/*
 * cities.h — where the location benchmarks put their vendors: 50 large cities on every
 * continent, with a weight (rough relative size) so that a few cities are dense and
 * most are not. The publisher moves vendors around them, the seed SQL (loc-query
 * seed-sql) scatters 1,000,000 stored vendors around them, and the query load
 * generator aims its boxes and circles at them, so all three agree on where the data is.
 */
#ifndef BENCH_LOCATION_CITIES_H
#define BENCH_LOCATION_CITIES_H

typedef struct {
    const char *name;
    double lat, lng;
    int weight;
} bench_city;

static const bench_city bench_cities[] = {
    {"Tokyo", 35.6762, 139.6503, 10},
    {"Delhi", 28.7041, 77.1025, 9},
    {"Shanghai", 31.2304, 121.4737, 9},
    {"Sao Paulo", -23.5505, -46.6333, 8},
    {"Mexico City", 19.4326, -99.1332, 8},
    {"Cairo", 30.0444, 31.2357, 7},
    {"Mumbai", 19.0760, 72.8777, 8},
    {"Beijing", 39.9042, 116.4074, 8},
    {"Dhaka", 23.8103, 90.4125, 7},
    {"Osaka", 34.6937, 135.5023, 6},
    {"New York", 40.7128, -74.0060, 8},
    {"Karachi", 24.8607, 67.0011, 6},
    {"Buenos Aires", -34.6037, -58.3816, 6},
    {"Istanbul", 41.0082, 28.9784, 6},
    {"Kolkata", 22.5726, 88.3639, 5},
    {"Manila", 14.5995, 120.9842, 5},
    {"Lagos", 6.5244, 3.3792, 6},
    {"Rio de Janeiro", -22.9068, -43.1729, 5},
    {"Los Angeles", 34.0522, -118.2437, 6},
    {"Moscow", 55.7558, 37.6173, 5},
    {"Paris", 48.8566, 2.3522, 5},
    {"London", 51.5074, -0.1278, 5},
    {"Bangkok", 13.7563, 100.5018, 5},
    {"Jakarta", -6.2088, 106.8456, 5},
    {"Lima", -12.0464, -77.0428, 4},
    {"Bogota", 4.7110, -74.0721, 4},
    {"Seoul", 37.5665, 126.9780, 5},
    {"Chicago", 41.8781, -87.6298, 4},
    {"Ho Chi Minh City", 10.8231, 106.6297, 4},
    {"Tehran", 35.6892, 51.3890, 4},
    {"Kinshasa", -4.4419, 15.2663, 4},
    {"Madrid", 40.4168, -3.7038, 3},
    {"Berlin", 52.5200, 13.4050, 3},
    {"Singapore", 1.3521, 103.8198, 3},
    {"Sydney", -33.8688, 151.2093, 3},
    {"Johannesburg", -26.2041, 28.0473, 3},
    {"Nairobi", -1.2921, 36.8219, 3},
    {"Toronto", 43.6532, -79.3832, 3},
    {"Riyadh", 24.7136, 46.6753, 3},
    {"Santiago", -33.4489, -70.6693, 3},
    {"Houston", 29.7604, -95.3698, 3},
    {"Rome", 41.9028, 12.4964, 2},
    {"Addis Ababa", 9.0300, 38.7400, 2},
    {"Casablanca", 33.5731, -7.5898, 2},
    {"Melbourne", -37.8136, 144.9631, 2},
    {"Auckland", -36.8485, 174.7633, 1},
    {"Honolulu", 21.3069, -157.8583, 1},
    {"Anchorage", 61.2181, -149.9003, 1},
    {"Reykjavik", 64.1466, -21.9426, 1},
    {"Suva", -18.1416, 178.4419, 1},
};
#define BENCH_NCITIES ((int)(sizeof bench_cities / sizeof bench_cities[0]))

/* Vendors spread around a city centre with this standard deviation, km. */
#define BENCH_CITY_SIGMA_KM 6.0

#endif
