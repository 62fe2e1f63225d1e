/*
 * Unit tests of the latest-position-per-vendor table (libs/events/latest.c), the
 * location ingest's buffer and the vendor location cache's tables:
 * latest-wins per vendor, stale updates ignored, arrival order, bounded size with the
 * oldest dropped, put-back without eviction, taking only what has waited an interval
 * (a coalesced vendor keeps its first arrival), and a randomized comparison with a
 * simple reference model (which exercises the hash index's backward-shift deletes).
 */
#include "vt_events.h"
#include "vt_test.h"

#include <stdint.h>

static vt_events_position upd(int vendor, int64_t ts)
{
    vt_events_position u = {.lat = vendor * 0.001, .lng = ts * 0.001, .ts = ts};
    snprintf(u.vendor_id, sizeof u.vendor_id, "00000000-0000-4000-8000-%012d", vendor);
    return u;
}

static vt_events_latest *latest_new(size_t capacity)
{
    vt_events_latest *t = NULL;
    char err[128];
    int rc =
        vt_events_latest_new(&(vt_events_latest_opts){.capacity = capacity}, &t, err, sizeof err);
    VT_CHECK(rc == VT_OK ? t != NULL : t == NULL && err[0] != '\0');
    return t;
}

static int vendor_of(const vt_events_position *u)
{
    return atoi(u->vendor_id + 24);
}

static void test_coalescing_and_order(void)
{
    vt_events_latest *p = latest_new(8);
    uint64_t dropped = 0;
    vt_events_position a1 = upd(1, 100), b1 = upd(2, 100), a2 = upd(1, 200), a0 = upd(1, 150);
    VT_CHECK_INT(vt_events_latest_put(p, &a1, &dropped), VT_EVENTS_LATEST_ADDED);
    VT_CHECK_INT(vt_events_latest_put(p, &b1, &dropped), VT_EVENTS_LATEST_ADDED);
    VT_CHECK_INT(vt_events_latest_put(p, &a2, &dropped), VT_EVENTS_LATEST_COALESCED);
    VT_CHECK_INT(vt_events_latest_put(p, &a0, &dropped), VT_EVENTS_LATEST_STALE);
    VT_CHECK_INT(vt_events_latest_put(p, &a2, &dropped),
                 VT_EVENTS_LATEST_COALESCED); /* duplicate: same ts */
    VT_CHECK_INT(vt_events_latest_count(p), 2);
    vt_events_position out[8];
    VT_CHECK_INT(vt_events_latest_take(p, out, 8), 2);
    VT_CHECK_INT(vendor_of(&out[0]), 1); /* vendor 1 arrived first */
    VT_CHECK_INT(out[0].ts, 200);        /* with its latest position */
    VT_CHECK_INT(vendor_of(&out[1]), 2);
    VT_CHECK_INT(vt_events_latest_count(p), 0);
    VT_CHECK_INT(vt_events_latest_take(p, out, 8), 0);
    VT_CHECK_INT(dropped, 0);
    vt_events_latest_free(p);
}

static void test_bounded_drops_oldest(void)
{
    vt_events_latest *p = latest_new(3);
    uint64_t dropped = 0;
    for (int v = 1; v <= 5; v++) {
        vt_events_position u = upd(v, 10);
        vt_events_latest_put(p, &u, &dropped);
    }
    VT_CHECK_INT(vt_events_latest_count(p), 3);
    VT_CHECK_INT(dropped, 2);
    vt_events_position back = upd(9, 1);
    VT_CHECK_INT(vt_events_latest_put_if_room(p, &back), VT_EVENTS_LATEST_FULL);
    vt_events_position newer = upd(4, 20);
    VT_CHECK_INT(vt_events_latest_put_if_room(p, &newer), VT_EVENTS_LATEST_COALESCED);
    vt_events_position out[3];
    VT_CHECK_INT(vt_events_latest_take(p, out, 2), 2);
    VT_CHECK_INT(vendor_of(&out[0]), 3);
    VT_CHECK_INT(vendor_of(&out[1]), 4);
    VT_CHECK_INT(out[1].ts, 20);
    VT_CHECK_INT(vt_events_latest_put_if_room(p, &back), VT_EVENTS_LATEST_ADDED);
    VT_CHECK_INT(vt_events_latest_take(p, out, 3), 2);
    VT_CHECK_INT(vendor_of(&out[0]), 5);
    VT_CHECK_INT(vendor_of(&out[1]), 9);
    VT_CHECK(latest_new(0) == NULL);
    vt_events_latest_free(p);
}

/* take_due: only vendors that first arrived by the cutoff, oldest first; a vendor that
 * keeps sending stays due from its first fix, with its latest position. */
static void test_take_due_waits_an_interval(void)
{
    vt_events_latest *p = latest_new(8);
    vt_events_position out[8];
    VT_CHECK_INT(vt_events_latest_oldest_arrival(p), -1);
    vt_events_position a1 = upd(1, 100), b1 = upd(2, 100), a2 = upd(1, 200), c1 = upd(3, 300);
    VT_CHECK_INT(vt_events_latest_put_at(p, &a1, 1000, NULL), VT_EVENTS_LATEST_ADDED);
    VT_CHECK_INT(vt_events_latest_put_at(p, &b1, 1500, NULL), VT_EVENTS_LATEST_ADDED);
    VT_CHECK_INT(vt_events_latest_put_at(p, &a2, 2500, NULL), VT_EVENTS_LATEST_COALESCED);
    VT_CHECK_INT(vt_events_latest_put_at(p, &c1, 3000, NULL), VT_EVENTS_LATEST_ADDED);
    VT_CHECK_INT(vt_events_latest_oldest_arrival(p), 1000); /* vendor 1 kept its first */
    VT_CHECK_INT(vt_events_latest_take_due(p, 999, out, 8), 0);
    VT_CHECK_INT(vt_events_latest_take_due(p, 1500, out, 1), 1); /* max bounds it */
    VT_CHECK_INT(vendor_of(&out[0]), 1);
    VT_CHECK_INT(out[0].ts, 200);
    VT_CHECK_INT(vt_events_latest_take_due(p, 2999, out, 8), 1);
    VT_CHECK_INT(vendor_of(&out[0]), 2);
    VT_CHECK_INT(vt_events_latest_oldest_arrival(p), 3000);
    /* Vendor 1 sends again: it arrives anew and waits behind vendor 3. */
    vt_events_position a3 = upd(1, 300);
    VT_CHECK_INT(vt_events_latest_put_at(p, &a3, 3200, NULL), VT_EVENTS_LATEST_ADDED);
    VT_CHECK_INT(vt_events_latest_take_due(p, 3100, out, 8), 1);
    VT_CHECK_INT(vendor_of(&out[0]), 3);
    /* One vendor taken out of turn (a presence change writes its position first). */
    vt_events_position d1 = upd(4, 400), got;
    VT_CHECK_INT(vt_events_latest_put_at(p, &d1, 3300, NULL), VT_EVENTS_LATEST_ADDED);
    VT_CHECK(!vt_events_latest_take_vendor(p, "00000000-0000-4000-8000-000000000005", &got));
    VT_CHECK(vt_events_latest_take_vendor(p, d1.vendor_id, &got));
    VT_CHECK_INT(got.ts, 400);
    VT_CHECK(!vt_events_latest_take_vendor(p, d1.vendor_id, &got));
    VT_CHECK_INT(vt_events_latest_take_due(p, 3200, out, 8), 1);
    VT_CHECK_INT(vendor_of(&out[0]), 1);
    VT_CHECK_INT(vt_events_latest_count(p), 0);
    VT_CHECK_INT(vt_events_latest_oldest_arrival(p), -1);
    vt_events_latest_free(p);
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
    vt_events_latest *p = latest_new(CAP);
    uint64_t dropped = 0, model_dropped = 0;
    int64_t seq = 0;
    int count = 0;
    vt_events_position out[CAP];
    for (int step = 0; step < 200000; step++) {
        if (rnd() % 50 == 0) {
            size_t want = rnd() % (CAP + 1);
            size_t got = vt_events_latest_take(p, out, want);
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
        vt_events_position u = upd(v, ts);
        vt_events_latest_result r = vt_events_latest_put(p, &u, &dropped);
        if (model_seq[v]) {
            VT_CHECK_INT(r, ts < model_ts[v] ? VT_EVENTS_LATEST_STALE : VT_EVENTS_LATEST_COALESCED);
            if (ts >= model_ts[v])
                model_ts[v] = ts;
        } else {
            VT_CHECK_INT(r, VT_EVENTS_LATEST_ADDED);
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
        VT_CHECK_INT(vt_events_latest_count(p), count);
    }
    VT_CHECK_INT(dropped, model_dropped);
    VT_CHECK(model_dropped > 0);
    vt_events_latest_free(p);
}

int main(void)
{
    VT_RUN(test_coalescing_and_order);
    VT_RUN(test_bounded_drops_oldest);
    VT_RUN(test_take_due_waits_an_interval);
    VT_RUN(test_matches_reference_model);
    return VT_TEST_RESULT();
}
