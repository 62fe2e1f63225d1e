/*
 * load.c — closed-loop load on a running venta-vendor over libs/rpc's blocking client.
 *
 *   vendor-load TARGET MODE [seconds=10] [threads=16] [channels=2] [seed=1000] [warmup_s=1]
 *
 * MODE get: first creates `seed` vendors (the seed is not measured), then each thread
 * calls GetVendor on a random one of them in a loop. MODE create: each thread calls
 * CreateVendor in a loop (distinct names, a realistic profile, one of 64 owners), which
 * is a committed INSERT plus an evt.vendor.created publish per call. Threads share
 * `channels` channels (one HTTP/2 connection each) round-robin. Every latency of the
 * measured window is kept (microseconds) and sorted at the end for exact percentiles.
 * Prints one line:
 *   mode=M calls=N seconds=S calls_per_s=R p50_us=A p99_us=B errors=E
 */
#include "venta/vendor/v1/vendor.pb-c.h"
#include "vt_core.h"
#include "vt_rpc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SVC (&venta__vendor__v1__vendor_service__descriptor)

typedef struct {
    vt_rpc_channel **ch;
    int channels;
    bool create;
    char (*ids)[VT_UUID_LEN + 1];
    int nids;
    atomic_bool measuring, stopping;
    atomic_uint errors;
} bench;

typedef struct {
    bench *b;
    int index;
    uint32_t *samples;
    size_t n, cap;
    uint64_t rng;
} worker;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int create_one(vt_rpc_channel *ch, int n, char *id_out)
{
    char name[64], owner[32];
    snprintf(name, sizeof name, "Bench Vendor %d tacos", n);
    snprintf(owner, sizeof owner, "user_bench_%02d", n % 64);
    Venta__Vendor__V1__CreateVendorRequest req = VENTA__VENDOR__V1__CREATE_VENDOR_REQUEST__INIT;
    req.name = name;
    req.description = "Street food from a bench: tacos, burritos and agua fresca.";
    req.email = "bench@example.com";
    req.phone = "+1 555-0100";
    req.website = "https://bench.example.com";
    req.is_open = true;
    vt_rpc_call_opts o = {.timeout_ms = 10000, .user_id = owner, .request_id = "bench"};
    vt_rpc_reply *reply;
    int rc = vt_rpc_call_unary(ch, SVC, "CreateVendor", &req.base, &o, &reply);
    if (rc == VT_OK && id_out)
        snprintf(id_out, VT_UUID_LEN + 1, "%s",
                 ((const Venta__Vendor__V1__Vendor *)vt_rpc_reply_response(reply))->id);
    vt_rpc_reply_free(reply);
    return rc;
}

static int get_one(vt_rpc_channel *ch, const char *id)
{
    Venta__Vendor__V1__GetVendorRequest req = VENTA__VENDOR__V1__GET_VENDOR_REQUEST__INIT;
    req.id = (char *)id;
    vt_rpc_call_opts o = {.timeout_ms = 10000, .request_id = "bench"};
    vt_rpc_reply *reply;
    int rc = vt_rpc_call_unary(ch, SVC, "GetVendor", &req.base, &o, &reply);
    vt_rpc_reply_free(reply);
    return rc;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    bench *b = w->b;
    vt_rpc_channel *ch = b->ch[w->index % b->channels];
    int n = w->index * 10000000;
    while (!atomic_load(&b->stopping)) {
        int64_t t0 = now_ns();
        int rc = b->create ? create_one(ch, n++, NULL)
                           : get_one(ch, b->ids[next_rand(&w->rng) % (uint64_t)b->nids]);
        int64_t us = (now_ns() - t0) / 1000;
        if (rc != VT_OK) {
            atomic_fetch_add(&b->errors, 1);
            continue;
        }
        if (!atomic_load(&b->measuring))
            continue;
        if (w->n == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 65536;
            w->samples = realloc(w->samples, w->cap * sizeof *w->samples);
            if (!w->samples)
                abort();
        }
        w->samples[w->n++] = (uint32_t)(us > UINT32_MAX ? UINT32_MAX : us);
    }
    return NULL;
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
    if (argc < 3 || (strcmp(argv[2], "get") != 0 && strcmp(argv[2], "create") != 0)) {
        fprintf(stderr, "usage: vendor-load TARGET get|create [seconds] [threads] [channels] "
                        "[seed] [warmup_s]\n");
        return 2;
    }
    double seconds = argc > 3 ? atof(argv[3]) : 10;
    int threads = argc > 4 ? atoi(argv[4]) : 16;
    int channels = argc > 5 ? atoi(argv[5]) : 2;
    int seed = argc > 6 ? atoi(argv[6]) : 1000;
    double warmup = argc > 7 ? atof(argv[7]) : 1;
    if (seconds <= 0 || threads < 1 || threads > 1024 || channels < 1 || seed < 1) {
        fprintf(stderr, "vendor-load: bad arguments\n");
        return 2;
    }
    vt_log_init("vendor-load", VT_LOG_ERROR);

    static bench b;
    b.create = strcmp(argv[2], "create") == 0;
    b.channels = channels;
    b.ch = calloc((size_t)channels, sizeof *b.ch);
    vt_rpc_channel_opts co = {.target = argv[1]};
    char err[256];
    for (int i = 0; i < channels; i++)
        if (vt_rpc_channel_new(&co, &b.ch[i], err, sizeof err) != VT_OK) {
            fprintf(stderr, "vendor-load: %s\n", err);
            return 1;
        }
    if (!b.create) {
        b.ids = calloc((size_t)seed, sizeof *b.ids);
        for (int i = 0; i < seed; i++)
            if (create_one(b.ch[i % channels], -1 - i, b.ids[b.nids]) == VT_OK)
                b.nids++;
        if (b.nids == 0) {
            fprintf(stderr, "vendor-load: could not create any vendor to read\n");
            return 1;
        }
    }

    worker *ws = calloc((size_t)threads, sizeof *ws);
    pthread_t *tids = calloc((size_t)threads, sizeof *tids);
    for (int i = 0; i < threads; i++) {
        ws[i] = (worker){.b = &b, .index = i, .rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1)};
        pthread_create(&tids[i], NULL, worker_main, &ws[i]);
    }
    sleep_s(warmup);
    int64_t t0 = now_ns();
    atomic_store(&b.measuring, true);
    sleep_s(seconds);
    atomic_store(&b.measuring, false);
    int64_t t1 = now_ns();
    atomic_store(&b.stopping, true);
    size_t n = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(tids[i], NULL);
        n += ws[i].n;
    }
    uint32_t *all = malloc((n ? n : 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < threads; i++) {
        if (ws[i].n)
            memcpy(all + k, ws[i].samples, ws[i].n * sizeof *all);
        k += ws[i].n;
        free(ws[i].samples);
    }
    qsort(all, n, sizeof *all, cmp_u32);
    double secs = (double)(t1 - t0) / 1e9;
    printf("mode=%s calls=%zu seconds=%.2f calls_per_s=%.0f p50_us=%u p99_us=%u errors=%u\n",
           argv[2], n, secs, (double)n / secs, n ? all[n / 2] : 0,
           n ? all[(size_t)((double)n * 0.99)] : 0, atomic_load(&b.errors));
    for (int i = 0; i < channels; i++)
        vt_rpc_channel_free(b.ch[i]);
    free(b.ch);
    free(b.ids);
    free(ws);
    free(tids);
    free(all);
    return 0;
}
