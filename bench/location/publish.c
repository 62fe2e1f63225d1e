/*
 * publish.c — the ingest load: vendors moving around cities, published on NATS exactly as
 * the WebSocket edge publishes them (vt_events_publish_location: the loc.<geohash>.<id>
 * subject, plus the left_cell copy on the old cell when a vendor crosses into another
 * cell), as fast as one thread can, then a wait until PostgreSQL holds every vendor's
 * latest position.
 *
 *   loc-publish NATS_URL DB_URL UPDATES VENDORS [seed=1] [rate=0]
 *
 * rate 0 publishes as fast as one thread can; rate R > 0 paces the fixes at R per second
 * (a fleet of VENDORS vendors each sending a fix every VENDORS / R seconds), to see
 * whether the writer keeps up with a given load rather than how much it can coalesce.
 * The load is UPDATES / VENDORS rounds; in each round every vendor sends one fix (a few
 * metres on from the last one, vendor time one second later). Vendor v's fix of round
 * r carries ts = start + r * 1000 ms, so "every latest position is stored" is the SQL
 * question "do VENDORS rows have reported_at >= start + (rounds - 1) s?". The clock
 * starts at the first publish; persisted_s is when that question first answers yes
 * (polled every 20 ms, so a run is timed to about 20 ms). Every update published is then
 * in the table either itself or through a newer fix of the same vendor that replaced it,
 * so UPDATES / persisted_s is the persisted update rate whatever the writer coalesced.
 * Prints one line of key=value pairs (see the end of main).
 */
#include "cities.h"
#include "venta/events/v1/events.pb-c.h"
#include "vt_bus.h"
#include "vt_core.h"
#include "vt_events.h"

#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define POLL_MS 20
#define TIMEOUT_S 60       /* after the last publish */
#define FIX_INTERVAL_S 5.0 /* simulated time between two fixes of one vendor */

typedef struct {
    char id[VT_UUID_LEN + 1];
    char cell[VT_EVENTS_CELL_PRECISION + 1];
    double lat, lng, heading, speed;
    int city;
} vendor;

static uint64_t rng_state;

static double rnd(void) /* splitmix64 → [0, 1) */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

static double gauss(void)
{
    return sqrt(-2 * log(1 - rnd())) * cos(2 * M_PI * rnd());
}

static int weighted_city(void)
{
    static int total;
    if (!total)
        for (int i = 0; i < BENCH_NCITIES; i++)
            total += bench_cities[i].weight;
    int x = (int)(rnd() * total);
    for (int i = 0; i < BENCH_NCITIES; i++)
        if ((x -= bench_cities[i].weight) < 0)
            return i;
    return 0;
}

static void vendor_init(vendor *v, int n)
{
    snprintf(v->id, sizeof v->id, "b0000000-0000-4000-8000-%012d", n);
    v->city = weighted_city();
    const bench_city *c = &bench_cities[v->city];
    v->lat = c->lat + gauss() * BENCH_CITY_SIGMA_KM / 111.32;
    v->lng = c->lng + gauss() * BENCH_CITY_SIGMA_KM / (111.32 * cos(c->lat * M_PI / 180));
    v->heading = rnd() * 360;
    v->speed = rnd() < 0.3 ? 0 : 1 + rnd() * 8; /* parked, walking or driving slowly */
    v->cell[0] = '\0';
}

/* One fix later: turn a little (back towards the centre when far out), move. */
static void vendor_step(vendor *v)
{
    const bench_city *c = &bench_cities[v->city];
    double dy = (v->lat - c->lat) * 111.32,
           dx = (v->lng - c->lng) * 111.32 * cos(c->lat * M_PI / 180);
    if (dx * dx + dy * dy > 9 * BENCH_CITY_SIGMA_KM * BENCH_CITY_SIGMA_KM)
        v->heading = fmod(atan2(-dx, -dy) * 180 / M_PI + 360, 360);
    else
        v->heading = fmod(v->heading + gauss() * 20 + 360, 360);
    double d = v->speed * FIX_INTERVAL_S;
    v->lat += d * cos(v->heading * M_PI / 180) / 111320;
    v->lng += d * sin(v->heading * M_PI / 180) / (111320 * cos(v->lat * M_PI / 180));
}

static double now_s(void)
{
    return (double)vt_monotonic_ns() / 1e9;
}

/* How many vendors have a stored position at least as new as their last fix; -1 on error. */
static long stored_latest(PGconn *pg, int64_t last_round_ts)
{
    char ts[32];
    snprintf(ts, sizeof ts, "%lld", (long long)(last_round_ts - 500));
    const char *params[1] = {ts};
    PGresult *r = PQexecParams(pg,
                               "SELECT count(*) FROM location.vendor_locations "
                               "WHERE reported_at >= to_timestamp($1::int8 / 1000.0)",
                               1, NULL, params, NULL, NULL, 0);
    long n = PQresultStatus(r) == PGRES_TUPLES_OK ? atol(PQgetvalue(r, 0, 0)) : -1;
    if (n < 0)
        fprintf(stderr, "loc-publish: poll failed: %s", PQerrorMessage(pg));
    PQclear(r);
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: loc-publish NATS_URL DB_URL UPDATES VENDORS [seed] [rate]\n");
        return 2;
    }
    long updates = atol(argv[3]), nvendors = atol(argv[4]);
    rng_state = argc > 5 ? strtoull(argv[5], NULL, 10) : 1;
    double rate = argc > 6 ? atof(argv[6]) : 0;
    if (nvendors < 1 || updates < nvendors) {
        fprintf(stderr, "loc-publish: need UPDATES >= VENDORS >= 1\n");
        return 2;
    }
    long rounds = updates / nvendors;
    updates = rounds * nvendors;
    vt_log_init("loc-publish", VT_LOG_ERROR);

    PGconn *pg = PQconnectdb(argv[2]);
    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "loc-publish: %s", PQerrorMessage(pg));
        return 1;
    }
    vt_bus *bus;
    char err[256];
    vt_bus_opts bo = {
        .urls = argv[1], .name = "loc-publish", .reconnect_buffer_bytes = 64 * 1024 * 1024};
    if (vt_bus_new(&bo, &bus, err, sizeof err) != VT_OK) {
        fprintf(stderr, "loc-publish: %s\n", err);
        return 1;
    }
    for (int i = 0; i < 200 && !vt_bus_connected(bus); i++)
        usleep(10000);
    if (!vt_bus_connected(bus)) {
        fprintf(stderr, "loc-publish: no NATS at %s\n", argv[1]);
        return 1;
    }

    vendor *vs = calloc((size_t)nvendors, sizeof *vs);
    for (long i = 0; i < nvendors; i++)
        vendor_init(&vs[i], (int)i);
    int64_t start_ts = vt_now_ms() - rounds * 1000; /* the last round is "now" */

    long messages = 0, left_cell = 0, failed = 0;
    int64_t wall0 = vt_now_ms();
    double t0 = now_s();
    for (long r = 0; r < rounds; r++) {
        for (long i = 0; i < nvendors; i++) {
            vendor *v = &vs[i];
            vendor_step(v);
            vt_events_position loc = {.lat = v->lat,
                                      .lng = v->lng,
                                      .heading = v->heading,
                                      .speed = v->speed,
                                      .accuracy = 5 + rnd() * 10,
                                      .ts = start_ts + r * 1000};
            memcpy(loc.vendor_id, v->id, sizeof loc.vendor_id);
            char cell[VT_EVENTS_CELL_PRECISION + 1];
            bool moved = v->cell[0] != '\0';
            if (vt_events_publish_location(bus, &loc, v->cell, cell) != VT_OK) {
                failed++;
                continue;
            }
            messages++;
            if (moved && strcmp(cell, v->cell) != 0) {
                messages++;
                left_cell++;
            }
            memcpy(v->cell, cell, sizeof cell);
            long sent = r * nvendors + i + 1;
            if (rate > 0 && sent % 500 == 0) {
                double ahead = (double)sent / rate - (now_s() - t0);
                if (ahead > 0)
                    usleep((useconds_t)(ahead * 1e6));
            }
        }
    }
    double t_pub = now_s();
    vt_bus_flush(bus, 30000);
    double t_flushed = now_s();

    int64_t last_ts = start_ts + (rounds - 1) * 1000;
    long stored = 0;
    double t_done = 0;
    while (now_s() - t_pub < TIMEOUT_S) {
        stored = stored_latest(pg, last_ts);
        if (stored >= nvendors) {
            t_done = now_s();
            break;
        }
        usleep(POLL_MS * 1000);
    }
    double pub_s = t_pub - t0, done_s = t_done - t0;
    printf("updates=%ld vendors=%ld rounds=%ld messages=%ld left_cell=%ld failed=%ld "
           "start_wall=%.3f publish_s=%.3f publish_per_s=%.0f flushed_s=%.3f persisted_s=%.3f "
           "persisted_per_s=%.0f lag_s=%.3f stored_latest=%ld complete=%d\n",
           updates, nvendors, rounds, messages, left_cell, failed, (double)wall0 / 1000, pub_s,
           updates / pub_s, t_flushed - t0, t_done ? done_s : -1.0, t_done ? updates / done_s : 0.0,
           t_done ? t_done - t_pub : -1.0, stored, t_done ? 1 : 0);
    free(vs);
    vt_bus_free(bus, 2000);
    vt_bus_library_close();
    PQfinish(pg);
    return t_done ? 0 : 1;
}
