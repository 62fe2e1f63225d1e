/*
 * bus_internal.h — what jetstream.c needs from bus.c: the nats.c connection and the
 * JetStream readiness counters that vt_bus_jetstream_ready reads.
 */
#ifndef VT_BUS_INTERNAL_H
#define VT_BUS_INTERNAL_H

#include "vt_bus.h"
#include "vt_core.h"

#include <nats/nats.h>

natsConnection *bus_conn(vt_bus *bus);
/* A stream was ensured through bus (readiness needs one). */
void bus_stream_ensured(vt_bus *bus);
/* delta (+1/-1) to the number of bus's consumers not attached. */
void bus_consumers_detached(vt_bus *bus, int delta);

/* trace_headers.c: a message for subject whose `traceparent` header is trace's span
 * (none when trace is NULL). NATS_OK with *out set (natsMsg_Destroy it), or an error. */
natsStatus bus_msg_new(natsMsg **out, const char *subject, const void *data, size_t len,
                       const vt_trace *trace);
/* Make span the child of msg's `traceparent` (a new trace without a valid one) and the
 * thread's current span; returns the previous current span, for vt_trace_set_current
 * once the message is handled. */
const vt_trace *bus_trace_enter(natsMsg *msg, vt_trace *span);

#endif
