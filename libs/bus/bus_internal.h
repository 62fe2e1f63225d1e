/*
 * bus_internal.h — what jetstream.c needs from bus.c: the nats.c connection and the
 * JetStream readiness counters that vt_bus_jetstream_ready reads.
 */
#ifndef VT_BUS_INTERNAL_H
#define VT_BUS_INTERNAL_H

#include "vt_bus.h"

#include <nats/nats.h>

natsConnection *bus_conn(vt_bus *bus);
/* A stream was ensured through bus (readiness needs one). */
void bus_stream_ensured(vt_bus *bus);
/* delta (+1/-1) to the number of bus's consumers not attached. */
void bus_consumers_detached(vt_bus *bus, int delta);

#endif
