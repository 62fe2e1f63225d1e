/*
 * Unit tests of the location service's coalescing buffer (apps/location/pending.c):
 * latest-wins per vendor, stale updates ignored, arrival order, bounded size with the
 * oldest dropped, put-back without eviction, and a randomized comparison with a
 * simple reference model (which exercises the hash index's backward-shift deletes).
 */
#include "pending.h"
#include "vt_test.h"

#include <stdint.h>

static loc_update upd(int vendor, int64_t ts)
{
    loc_update u = {.lat = vendor * 0.001, .lng = ts * 0.001, .ts = ts};
    snprintf(u.vendor_id, sizeof u.vendor_id, "00000000-0000-4000-8000-%012d", vendor);
    return u;
}

static int vendor_of(const loc_update *u)
{
    return atoi(u->vendor_id + 24);
}

static void test_coalescing_and_order(void)
{
    pending *p = pending_new(8);
    uint64_t dropped = 0;
    loc_update a1 = upd(1, 100), b1 = upd(2, 100), a2 = upd(1, 200), a0 = upd(1, 150);
    VT_CHECK_INT(pending_put(p, &a1, &dropped), PENDING_ADDED);
    VT_CHECK_INT(pending_put(p, &b1, &dropped), PENDING_ADDED);
    VT_CHECK_INT(pending_put(p, &a2, &dropped), PENDING_COALESCED);
    VT_CHECK_INT(pending_put(p, &a0, &dropped), PENDING_STALE);
    VT_CHECK_INT(pending_put(p, &a2, &dropped), PENDING_COALESCED); /* duplicate: same ts */
    VT_CHECK_INT(pending_count(p), 2);
    loc_update out[8];
    VT_CHECK_INT(pending_take(p, out, 8), 2);
    VT_CHECK_INT(vendor_of(&out[0]), 1); /* vendor 1 arrived first */
    VT_CHECK_INT(out[0].ts, 200);        /* with its latest position */
    VT_CHECK_INT(vendor_of(&out[1]), 2);
    VT_CHECK_INT(pending_count(p), 0);
    VT_CHECK_INT(pending_take(p, out, 8), 0);
    VT_CHECK_INT(dropped, 0);
    pending_free(p);
}

static void test_bounded_drops_oldest(void)
{
    pending *p = pending_new(3);
    uint64_t dropped = 0;
    for (int v = 1; v <= 5; v++) {
        loc_update u = upd(v, 10);
        pending_put(p, &u, &dropped);
    }
    VT_CHECK_INT(pending_count(p), 3);
    VT_CHECK_INT(dropped, 2);
    loc_update back = upd(9, 1);
    VT_CHECK_INT(pending_put_if_room(p, &back), PENDING_FULL);
    loc_update newer = upd(4, 20);
    VT_CHECK_INT(pending_put_if_room(p, &newer), PENDING_COALESCED);
    loc_update out[3];
    VT_CHECK_INT(pending_take(p, out, 2), 2);
    VT_CHECK_INT(vendor_of(&out[0]), 3);
    VT_CHECK_INT(vendor_of(&out[1]), 4);
    VT_CHECK_INT(out[1].ts, 20);
    VT_CHECK_INT(pending_put_if_room(p, &back), PENDING_ADDED);
    VT_CHECK_INT(pending_take(p, out, 3), 2);
    VT_CHECK_INT(vendor_of(&out[0]), 5);
    VT_CHECK_INT(vendor_of(&out[1]), 9);
    VT_CHECK(pending_new(0) == NULL);
    pending_free(p);
}

/* Reference model: arrays indexed by vendor, arrival sequence numbers. */
enum { VENDORS = 300, CAP = 64 };
static int64_t model_ts[VENDORS];
static int64_t model_seq[VENDORS]; /* 0 = not pending */

static uint64_t rng_state = 42;
static uint32_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33);
}

static void test_matches_reference_model(void)
{
    pending *p = pending_new(CAP);
    uint64_t dropped = 0, model_dropped = 0;
    int64_t seq = 0;
    int count = 0;
    loc_update out[CAP];
    for (int step = 0; step < 200000; step++) {
        if (rnd() % 50 == 0) {
            size_t want = rnd() % (CAP + 1);
            size_t got = pending_take(p, out, want);
            VT_CHECK_INT(got, (long)(want < (size_t)count ? want : (size_t)count));
            for (size_t i = 0; i < got; i++) {
                int v = vendor_of(&out[i]);
                /* oldest arrival first, with the model's latest ts */
                int64_t oldest = INT64_MAX;
                int ov = -1;
                for (int k = 0; k < VENDORS; k++)
                    if (model_seq[k] && model_seq[k] < oldest)
                        oldest = model_seq[k], ov = k;
                VT_CHECK_INT(v, ov);
                VT_CHECK_INT(out[i].ts, model_ts[v]);
                model_seq[v] = 0;
                count--;
            }
            continue;
        }
        int v = (int)(rnd() % VENDORS);
        int64_t ts = rnd() % 1000;
        loc_update u = upd(v, ts);
        pending_result r = pending_put(p, &u, &dropped);
        if (model_seq[v]) {
            VT_CHECK_INT(r, ts < model_ts[v] ? PENDING_STALE : PENDING_COALESCED);
            if (ts >= model_ts[v])
                model_ts[v] = ts;
        } else {
            VT_CHECK_INT(r, PENDING_ADDED);
            if (count == CAP) {
                int64_t oldest = INT64_MAX;
                int ov = -1;
                for (int k = 0; k < VENDORS; k++)
                    if (model_seq[k] && model_seq[k] < oldest)
                        oldest = model_seq[k], ov = k;
                model_seq[ov] = 0;
                model_dropped++;
                count--;
            }
            model_seq[v] = ++seq;
            model_ts[v] = ts;
            count++;
        }
        VT_CHECK_INT(pending_count(p), count);
    }
    VT_CHECK_INT(dropped, model_dropped);
    VT_CHECK(model_dropped > 0);
    pending_free(p);
}

int main(void)
{
    VT_RUN(test_coalescing_and_order);
    VT_RUN(test_bounded_drops_oldest);
    VT_RUN(test_matches_reference_model);
    return VT_TEST_RESULT();
}
