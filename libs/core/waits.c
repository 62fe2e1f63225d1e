/*
 * waits.c — timed waits on condition variables against the monotonic clock.
 *
 * A worker thread that sleeps "until kicked or N ms passed" must not wake early or
 * late when the wall clock is stepped (NTP), so its condition variable uses
 * CLOCK_MONOTONIC and its deadline is computed on the same clock. Every such wait in
 * the mesh starts here instead of repeating the attribute dance and timespec carry.
 */
#include "vt_core.h"

#include <time.h>

void vt_cond_init_monotonic(pthread_cond_t *cv)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &ca);
    pthread_condattr_destroy(&ca);
}

struct timespec vt_monotonic_deadline(int64_t from_now_ns)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (from_now_ns < 0)
        from_now_ns = 0;
    ts.tv_sec += (time_t)(from_now_ns / 1000000000);
    ts.tv_nsec += (long)(from_now_ns % 1000000000);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}
