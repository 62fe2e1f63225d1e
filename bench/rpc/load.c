/*
 * load.c — unary echo load generator over libs/rpc's async client.
 *
 *   rpc-load TARGET [seconds=10] [inflight=64] [channels=2] [payload=64] [warmup_s=1]
 *
 * Keeps `inflight` calls outstanding at all times (closed loop: each completion starts
 * the next call from the completion thread), spread over `channels` channels (one HTTP/2
 * connection each, one queue thread each). Every latency of the measured window is
 * kept (microseconds) and sorted at the end for exact percentiles. Prints one line:
 *   calls=N seconds=S calls_per_s=R p50_us=A p99_us=B errors=E
 * The same binary drives both servers of bench/rpc/run, so the client cost is equal.
 * With VENTA_TLS_* set it calls over mTLS as venta-bench-load (bench/rpc/tls).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "echo_service.h"

#define ECHO (&venta__test__v1__echo__descriptor)
#define MAX_SAMPLES (64u * 1024 * 1024)

typedef struct slot slot;
typedef struct {
    vt_rpc_channel **ch;
    int channels;
    Venta__Test__V1__EchoRequest req;
    atomic_bool measuring, stopping;
    atomic_int live;
    atomic_uint n_samples;
    atomic_uint errors;
    uint32_t *samples;
} bench;

struct slot {
    bench *b;
    int index;
    int64_t started_ns;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void on_done(vt_rpc_reply *r, void *user);

static void issue(slot *s)
{
    bench *b = s->b;
    s->started_ns = now_ns();
    vt_rpc_call_opts o = {.timeout_ms = 10000, .request_id = "bench"};
    if (vt_rpc_call_async(b->ch[s->index % b->channels], ECHO, "Unary", &b->req.base, &o, on_done,
                          s, NULL) != 0) {
        atomic_fetch_add(&b->errors, 1);
        atomic_fetch_sub(&b->live, 1);
    }
}

static void on_done(vt_rpc_reply *r, void *user)
{
    slot *s = user;
    bench *b = s->b;
    int64_t us = (now_ns() - s->started_ns) / 1000;
    if (vt_rpc_reply_status(r) != VT_OK)
        atomic_fetch_add(&b->errors, 1);
    else if (atomic_load(&b->measuring)) {
        unsigned i = atomic_fetch_add(&b->n_samples, 1);
        if (i < MAX_SAMPLES)
            b->samples[i] = (uint32_t)(us > UINT32_MAX ? UINT32_MAX : us);
    }
    vt_rpc_reply_free(r);
    if (atomic_load(&b->stopping))
        atomic_fetch_sub(&b->live, 1);
    else
        issue(s);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void sleep_s(double s)
{
    struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: rpc-load TARGET [seconds] [inflight] [channels] [payload] "
                        "[warmup_s]\n");
        return 2;
    }
    double seconds = argc > 2 ? atof(argv[2]) : 10;
    int inflight = argc > 3 ? atoi(argv[3]) : 64;
    int channels = argc > 4 ? atoi(argv[4]) : 2;
    int payload = argc > 5 ? atoi(argv[5]) : 64;
    double warmup = argc > 6 ? atof(argv[6]) : 1;
    if (seconds <= 0 || inflight < 1 || channels < 1 || payload < 0) {
        fprintf(stderr, "rpc-load: bad arguments\n");
        return 2;
    }
    vt_log_init("rpc-load", VT_LOG_ERROR);

    static bench b;
    b.channels = channels;
    b.ch = calloc((size_t)channels, sizeof *b.ch);
    /* With VENTA_TLS_* (bench/rpc/tls): mTLS as venta-bench-load. */
    vt_rpc_tls tls;
    bool tls_on = vt_rpc_tls_from_env("venta-bench-load", &tls);
    vt_rpc_channel_opts co = {
        .target = argv[1], .tls = tls_on ? &tls : NULL, .server_name = "venta-bench-echo"};
    char err[256];
    for (int i = 0; i < channels; i++)
        if (vt_rpc_channel_new(&co, &b.ch[i], err, sizeof err) != VT_OK) {
            fprintf(stderr, "rpc-load: %s\n", err);
            return 1;
        }
    b.samples = malloc(MAX_SAMPLES * sizeof *b.samples);
    uint8_t *data = malloc((size_t)payload + 1);
    memset(data, 'p', (size_t)payload);
    Venta__Test__V1__EchoRequest req = VENTA__TEST__V1__ECHO_REQUEST__INIT;
    req.message = "bench";
    req.payload.data = data;
    req.payload.len = (size_t)payload;
    b.req = req;

    slot *slots = calloc((size_t)inflight, sizeof *slots);
    atomic_store(&b.live, inflight);
    for (int i = 0; i < inflight; i++) {
        slots[i].b = &b;
        slots[i].index = i;
        issue(&slots[i]);
    }
    sleep_s(warmup);
    int64_t t0 = now_ns();
    atomic_store(&b.measuring, true);
    sleep_s(seconds);
    atomic_store(&b.measuring, false);
    int64_t t1 = now_ns();
    atomic_store(&b.stopping, true);
    while (atomic_load(&b.live) > 0)
        sleep_s(0.01);

    unsigned n = atomic_load(&b.n_samples);
    if (n > MAX_SAMPLES)
        n = MAX_SAMPLES;
    qsort(b.samples, n, sizeof *b.samples, cmp_u32);
    double secs = (double)(t1 - t0) / 1e9;
    printf("calls=%u seconds=%.2f calls_per_s=%.0f p50_us=%u p99_us=%u errors=%u\n", n, secs,
           n / secs, n ? b.samples[n / 2] : 0, n ? b.samples[(size_t)(n * 0.99)] : 0,
           atomic_load(&b.errors));
    for (int i = 0; i < channels; i++)
        vt_rpc_channel_free(b.ch[i]);
    free(b.ch);
    free(slots);
    free(data);
    free(b.samples);
    return 0;
}
