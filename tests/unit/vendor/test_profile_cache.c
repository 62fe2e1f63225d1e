/*
 * Unit tests of venta-vendor's profile cache (apps/vendor/profile_cache.c): hits and
 * misses, epochs, the TTL, forgets, a read that raced a write (ticket), ids in any
 * case, slot collisions, many threads reading, filling and forgetting at once (run
 * under ASan/UBSan by scripts/test), and single flight: concurrent misses on one
 * vendor cost one read.
 */
#include "profile_cache.h"
#include "vt_test.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define A "0b0f3a52-5a53-4c31-9d55-0a2f6d1c7e01"
#define B "6e1d2f3a-1111-4222-8333-944455566677"

static store_vendor row(const char *id, const char *name)
{
    return (store_vendor){.id = id,
                          .owner_id = "user_1",
                          .name = name,
                          .description = "tacos",
                          .email = "",
                          .phone = "",
                          .website = "",
                          .profile_image = "",
                          .is_open = true,
                          .has_location = true,
                          .lat = 48.85,
                          .lng = 2.35,
                          .location_at = "2026-11-22T08:00:00.000Z",
                          .created_at = "2026-11-22T07:00:00.000Z",
                          .updated_at = "2026-11-22T07:30:00.000Z",
                          .created_key = "x"};
}

typedef struct {
    char name[64];
    double lat;
    bool is_open;
    int calls;
} seen;

static void remember(const store_vendor *r, void *arg)
{
    seen *s = arg;
    snprintf(s->name, sizeof s->name, "%s", r->name);
    s->lat = r->lat;
    s->is_open = r->is_open;
    s->calls++;
}

static bool get(profile_cache *pc, const char *id, uint64_t epoch, seen *s)
{
    memset(s, 0, sizeof *s);
    return profile_cache_get(pc, id, epoch, remember, s);
}

static void test_hit_after_put(void)
{
    profile_cache *pc = profile_cache_new(64, 60000, NULL);
    VT_REQUIRE(pc);
    seen s;
    VT_CHECK(!get(pc, A, 7, &s));
    profile_ticket t = profile_cache_ticket(pc, A);
    char name[] = "Tacos El Gordo";
    store_vendor r = row(A, name);
    profile_cache_put(pc, A, 7, t, &r);
    memset(name, 'X', sizeof name - 1); /* the cache keeps its own copy */
    VT_CHECK(get(pc, A, 7, &s));
    VT_CHECK_STR(s.name, "Tacos El Gordo");
    VT_CHECK_NEAR(s.lat, 48.85, 1e-12);
    VT_CHECK(s.is_open);
    VT_CHECK_INT(s.calls, 1);
    VT_CHECK(!get(pc, B, 7, &s)); /* another vendor */
    VT_CHECK_INT(s.calls, 0);
    profile_cache_free(pc);
}

static void test_epochs(void)
{
    profile_cache *pc = profile_cache_new(64, 60000, NULL);
    seen s;
    store_vendor r = row(A, "Tacos");
    profile_cache_put(pc, A, 0, profile_cache_ticket(pc, A), &r); /* NATS down: not kept */
    VT_CHECK(!get(pc, A, 0, &s));
    profile_cache_put(pc, A, 5, profile_cache_ticket(pc, A), &r);
    VT_CHECK(!get(pc, A, 0, &s)); /* NATS down now: not served */
    VT_CHECK(!get(pc, A, 6, &s)); /* a reconnect or a dropped event since the read */
    VT_CHECK(get(pc, A, 5, &s));
    profile_cache_free(pc);
}

static void test_ttl(void)
{
    /* 1 s: the hit right after the put holds on a loaded machine too. */
    profile_cache *pc = profile_cache_new(64, 1000, NULL);
    seen s;
    store_vendor r = row(A, "Tacos");
    profile_cache_put(pc, A, 1, profile_cache_ticket(pc, A), &r);
    VT_CHECK(get(pc, A, 1, &s));
    usleep(1100000);
    VT_CHECK(!get(pc, A, 1, &s));

    /* The age counts from the ticket, taken before the query: a row whose read began
     * more than the TTL ago (a slow query) is never served. */
    profile_ticket t = profile_cache_ticket(pc, A);
    usleep(1100000);
    profile_cache_put(pc, A, 1, t, &r);
    VT_CHECK(!get(pc, A, 1, &s));
    profile_cache_free(pc);
}

static void test_forget_and_race(void)
{
    profile_cache *pc = profile_cache_new(64, 60000, NULL);
    seen s;
    store_vendor r = row(A, "Old name");
    profile_cache_put(pc, A, 1, profile_cache_ticket(pc, A), &r);
    profile_cache_forget(pc, A);
    VT_CHECK(!get(pc, A, 1, &s));

    /* A read that started before a write and finishes after it must not be kept. */
    profile_ticket t = profile_cache_ticket(pc, A);
    profile_cache_forget(pc, A); /* the write commits meanwhile */
    profile_cache_put(pc, A, 1, t, &r);
    VT_CHECK(!get(pc, A, 1, &s));
    /* The next read is kept. */
    store_vendor fresh = row(A, "New name");
    profile_cache_put(pc, A, 1, profile_cache_ticket(pc, A), &fresh);
    VT_CHECK(get(pc, A, 1, &s));
    VT_CHECK_STR(s.name, "New name");
    /* Forgetting a vendor that is not cached, or an id that is no UUID, is harmless. */
    profile_cache_forget(pc, B);
    profile_cache_forget(pc, "");
    profile_cache_forget(pc, "not-a-uuid-but-far-too-long-to-be-one-at-all");
    VT_CHECK(get(pc, A, 1, &s));
    profile_cache_free(pc);
}

static void test_case_insensitive_ids(void)
{
    profile_cache *pc = profile_cache_new(64, 60000, NULL);
    seen s;
    store_vendor r = row(A, "Tacos");
    const char *upper = "0B0F3A52-5A53-4C31-9D55-0A2F6D1C7E01";
    profile_cache_put(pc, upper, 1, profile_cache_ticket(pc, upper), &r);
    VT_CHECK(get(pc, A, 1, &s));
    VT_CHECK(get(pc, upper, 1, &s));
    profile_cache_forget(pc, A); /* events carry the lowercase id */
    VT_CHECK(!get(pc, upper, 1, &s));
    profile_cache_free(pc);
}

static void test_collisions(void)
{
    profile_cache *pc = profile_cache_new(1, 60000, NULL); /* one slot: every id collides */
    seen s;
    store_vendor ra = row(A, "A"), rb = row(B, "B");
    profile_cache_put(pc, A, 1, profile_cache_ticket(pc, A), &ra);
    profile_cache_put(pc, B, 1, profile_cache_ticket(pc, B), &rb);
    VT_CHECK(!get(pc, A, 1, &s)); /* replaced */
    VT_CHECK(get(pc, B, 1, &s));
    VT_CHECK_STR(s.name, "B");
    profile_cache_forget(pc, A); /* another id in B's slot: B stays */
    VT_CHECK(get(pc, B, 1, &s));
    profile_cache_free(pc);
}

/* Threads fill, read and forget a few ids; a served row is always one that was put
 * for that id (its name is the id), never a torn or freed one. */
#define THREADS 4
#define ROUNDS 20000
static profile_cache *shared;
static const char *ids[] = {A, B, "11111111-2222-4333-8444-555555555555",
                            "99999999-8888-4777-8666-555555555555"};
static int mismatches;

static void *worker(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    for (int i = 0; i < ROUNDS; i++) {
        const char *id = ids[rand_r(&seed) % 4];
        seen s;
        switch (rand_r(&seed) % 3) {
        case 0:
            if (get(shared, id, 1, &s) && strcmp(s.name, id) != 0)
                __atomic_fetch_add(&mismatches, 1, __ATOMIC_RELAXED);
            break;
        case 1: {
            store_vendor r = row(id, id);
            profile_cache_put(shared, id, 1, profile_cache_ticket(shared, id), &r);
            break;
        }
        default:
            profile_cache_forget(shared, id);
        }
    }
    return NULL;
}

static void test_threads(void)
{
    shared = profile_cache_new(2, 60000, NULL);
    pthread_t t[THREADS];
    for (uintptr_t i = 0; i < THREADS; i++)
        VT_REQUIRE(pthread_create(&t[i], NULL, worker, (void *)(i + 1)) == 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    VT_CHECK_INT(mismatches, 0);
    profile_cache_free(shared);
}

/* Single flight: GETs that miss together on one vendor, the way handlers.c calls the
 * cache; each miss "reads the table" (counted, 50 ms) and puts, or finds nothing. */
#define FLIGHT 8
static profile_cache *flight;
static int reads, flight_hits;
static bool flight_found = true;

static void *flight_get(void *arg)
{
    (void)arg;
    seen s = {0};
    profile_ticket t;
    if (profile_cache_lookup(flight, A, 1, remember, &s, &t)) {
        __atomic_fetch_add(&flight_hits, 1, __ATOMIC_RELAXED);
        return NULL;
    }
    __atomic_fetch_add(&reads, 1, __ATOMIC_RELAXED);
    usleep(50000); /* the query */
    store_vendor r = row(A, "Read Once");
    if (flight_found)
        profile_cache_put(flight, A, 1, t, &r);
    else
        profile_cache_release(flight, A, t);
    return NULL;
}

static void run_flight(void)
{
    reads = flight_hits = 0;
    pthread_t t[FLIGHT];
    for (int i = 0; i < FLIGHT; i++)
        VT_REQUIRE(pthread_create(&t[i], NULL, flight_get, NULL) == 0);
    for (int i = 0; i < FLIGHT; i++)
        pthread_join(t[i], NULL);
}

static void test_single_flight(void)
{
    vt_metrics *m = vt_metrics_new();
    flight = profile_cache_new(64, 60000, m);
    VT_REQUIRE(flight);
    /* Found: one read, everyone else served from it. */
    run_flight();
    VT_CHECK_INT(reads, 1);
    VT_CHECK_INT(flight_hits, FLIGHT - 1);
    char *text = NULL;
    vt_metrics_render(m, &text);
    VT_CHECK(strstr(text, "venta_vendor_profile_cache_fill_waits_total ") != NULL);
    free(text);
    /* Not found (released, nothing put): the waiters read for themselves, one at a
     * time, and nobody hangs. */
    profile_cache_forget(flight, A);
    flight_found = false;
    run_flight();
    VT_CHECK_INT(reads, FLIGHT);
    VT_CHECK_INT(flight_hits, 0);
    flight_found = true;
    /* A claim never ended (a reader that died) does not hold others for more than the
     * wait bound: the next miss after it reads the table. */
    profile_cache_forget(flight, A);
    profile_ticket stuck = profile_cache_ticket(flight, A);
    VT_CHECK(stuck.fills);
    seen s;
    profile_ticket t;
    VT_CHECK(!profile_cache_lookup(flight, A, 1, remember, &s, &t));
    VT_CHECK(t.fills);
    profile_cache_release(flight, A, t);
    profile_cache_free(flight);
    vt_metrics_free(m);
}

int main(void)
{
    VT_RUN(test_hit_after_put);
    VT_RUN(test_epochs);
    VT_RUN(test_ttl);
    VT_RUN(test_forget_and_race);
    VT_RUN(test_case_insensitive_ids);
    VT_RUN(test_collisions);
    VT_RUN(test_threads);
    VT_RUN(test_single_flight);
    return VT_TEST_RESULT();
}
