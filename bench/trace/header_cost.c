/*
 * header_cost.c — what a trace costs per NATS message (docs/tracing.md): the span and
 * the traceparent text (libs/core), a nats.c message with a `traceparent` header made
 * and freed, and a publish received by a subscriber on the same loopback nats-server,
 * without a header, with one, and with one the subscriber reads (libs/bus's
 * bus_trace_enter does what the last one does). CPU time of this process (publisher,
 * nats.c's threads and the subscriber together) per message; bench/trace/run prints
 * the table.
 *
 *   trace-header-cost nats://127.0.0.1:PORT [messages]
 */
#include "vt_core.h"

#include <nats/nats.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SUBJECT "loc.d.r.5.r.u.g.00000000-0000-4000-8000-000000000001"

static atomic_int received;
static bool read_header;

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)nc, (void)sub, (void)closure;
    if (read_header) {
        const char *tp = NULL;
        vt_trace span;
        if (natsMsgHeader_Get(msg, VT_TRACEPARENT_HEADER, &tp) != NATS_OK)
            tp = NULL;
        vt_trace_start(tp, tp ? strlen(tp) : 0, &span);
    }
    natsMsg_Destroy(msg);
    atomic_fetch_add(&received, 1);
}

static natsMsg *traced_msg(const void *payload, size_t len, const char *traceparent)
{
    natsMsg *m = NULL;
    if (natsMsg_Create(&m, SUBJECT, NULL, payload, (int)len) != NATS_OK ||
        natsMsgHeader_Set(m, VT_TRACEPARENT_HEADER, traceparent) != NATS_OK) {
        fprintf(stderr, "cannot make a message\n");
        exit(1);
    }
    return m;
}

/* One row: publish n messages (with a header or not), wait until all arrived. */
static double round_trip_us(natsConnection *pub, natsConnection *subc, int n, bool header,
                            const char *traceparent, const void *payload, size_t len)
{
    natsSubscription *sub = NULL;
    if (natsConnection_Subscribe(&sub, subc, "loc.>", on_msg, NULL) != NATS_OK ||
        natsSubscription_SetPendingLimits(sub, -1, -1) != NATS_OK ||
        natsConnection_Flush(subc) != NATS_OK) {
        fprintf(stderr, "cannot subscribe\n");
        exit(1);
    }
    atomic_store(&received, 0);
    double t0 = cpu_s();
    for (int i = 0; i < n; i++) {
        if (!header) {
            natsConnection_Publish(pub, SUBJECT, payload, (int)len);
            continue;
        }
        natsMsg *m = traced_msg(payload, len, traceparent);
        natsConnection_PublishMsg(pub, m);
        natsMsg_Destroy(m);
    }
    natsConnection_Flush(pub);
    while (atomic_load(&received) < n)
        usleep(1000);
    double us = (cpu_s() - t0) / n * 1e6;
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    return us;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: trace-header-cost nats://HOST:PORT [messages]\n");
        return 2;
    }
    int n = argc > 2 ? atoi(argv[2]) : 200000;
    if (n <= 0 || nats_Open(-1) != NATS_OK)
        return 2;
    unsigned char payload[96]; /* about a VendorLocation */
    memset(payload, 0x2a, sizeof payload);

    vt_trace root, span;
    vt_trace_child(NULL, &root);
    double t0 = cpu_s();
    for (int i = 0; i < n; i++)
        vt_trace_child(&root, &span);
    double child_us = (cpu_s() - t0) / n * 1e6;
    char traceparent[VT_TRACEPARENT_LEN + 1];
    vt_trace parsed;
    t0 = cpu_s();
    for (int i = 0; i < n; i++) {
        vt_trace_format(&span, traceparent);
        vt_trace_parse(traceparent, VT_TRACEPARENT_LEN, &parsed);
    }
    double text_us = (cpu_s() - t0) / n * 1e6;
    t0 = cpu_s();
    for (int i = 0; i < n; i++)
        natsMsg_Destroy(traced_msg(payload, sizeof payload, traceparent));
    double msg_us = (cpu_s() - t0) / n * 1e6;

    natsConnection *pub = NULL, *subc = NULL;
    if (natsConnection_ConnectTo(&pub, argv[1]) != NATS_OK ||
        natsConnection_ConnectTo(&subc, argv[1]) != NATS_OK) {
        fprintf(stderr, "cannot connect to %s\n", argv[1]);
        return 1;
    }
    read_header = false;
    double plain = round_trip_us(pub, subc, n, false, traceparent, payload, sizeof payload);
    double with = round_trip_us(pub, subc, n, true, traceparent, payload, sizeof payload);
    read_header = true;
    double plain_read = round_trip_us(pub, subc, n, false, traceparent, payload, sizeof payload);
    double with_read = round_trip_us(pub, subc, n, true, traceparent, payload, sizeof payload);

    printf("| what | CPU µs per message |\n|---|---:|\n");
    printf("| vt_trace_child (a span) | %.3f |\n", child_us);
    printf("| vt_trace_format + vt_trace_parse | %.3f |\n", text_us);
    printf("| natsMsg with a traceparent header, made and freed | %.3f |\n", msg_us);
    printf("| publish + receive, plain PUB | %.3f |\n", plain);
    printf("| publish + receive, with the header | %.3f |\n", with);
    printf("| publish + receive, plain, subscriber looks for the header | %.3f |\n", plain_read);
    printf("| publish + receive, with the header, subscriber reads it | %.3f |\n", with_read);
    printf("\nheader cost per message, both ends: %.2f µs (%.2fx a plain message)\n",
           with_read - plain_read, with_read / plain_read);
    natsConnection_Destroy(pub);
    natsConnection_Destroy(subc);
    nats_Close();
    return 0;
}
