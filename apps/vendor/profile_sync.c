/*
 * profile_sync.c — see profile_sync.h.
 *
 * epoch = connection << 40 | (dropped + undecodable) mod 2^40: both parts only grow,
 * and the connection's number (vt_bus_connections) is at least 1 while it is up and its
 * subscriptions confirmed, so a changed epoch is never 0.
 */
#include "profile_sync.h"

#include "venta/events/v1/events.pb-c.h"
#include "vt_core.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define LOW_BITS 40

struct profile_sync {
    vt_bus *bus;
    vt_bus_sub *sub;
    profile_cache *cache;
    atomic_uint_fast64_t undecodable;
    vt_counter *events, *unknown;
};

static void on_vendor_event(const char *subject, const void *data, size_t len, void *user)
{
    profile_sync *ps = user;
    Venta__Events__V1__VendorEvent *ev = venta__events__v1__vendor_event__unpack(NULL, len, data);
    if (!ev || !vt_uuid_valid(ev->vendor_id)) {
        /* Which vendor changed is unknown (protobuf-c decodes an empty or foreign payload
         * into an event without a vendor id): stop serving every earlier read. */
        atomic_fetch_add(&ps->undecodable, 1);
        vt_counter_inc(ps->unknown);
        vt_debug(NULL, "profile cache: event on %s names no vendor, cache reset", subject);
        if (ev)
            venta__events__v1__vendor_event__free_unpacked(ev, NULL);
        return;
    }
    profile_cache_forget(ps->cache, ev->vendor_id);
    vt_counter_inc(ps->events);
    venta__events__v1__vendor_event__free_unpacked(ev, NULL);
}

int profile_sync_start(vt_bus *bus, profile_cache *cache, vt_metrics *metrics, profile_sync **out,
                       char *err, size_t errlen)
{
    profile_sync *ps = calloc(1, sizeof *ps);
    if (!ps) {
        snprintf(err, errlen, "out of memory");
        return VT_RESOURCE_EXHAUSTED;
    }
    ps->bus = bus;
    ps->cache = cache;
    atomic_init(&ps->undecodable, 0);
    ps->events = vt_metrics_counter(metrics, "venta_vendor_profile_cache_events_total",
                                    "evt.vendor.* events applied to the profile cache.", NULL);
    ps->unknown = vt_metrics_counter(
        metrics, "venta_vendor_profile_cache_resets_total",
        "evt.vendor.* messages that named no vendor (undecodable): every cached read was dropped.",
        NULL);
    int rc =
        vt_bus_subscribe(bus, PROFILE_SYNC_SUBJECT, NULL, 65536, on_vendor_event, ps, &ps->sub);
    if (rc != VT_OK) {
        snprintf(err, errlen, "cannot subscribe to %s", PROFILE_SYNC_SUBJECT);
        free(ps);
        return rc;
    }
    /* Let the server register the subscription before reads are cached (when NATS is
     * up; otherwise the epoch stays 0 until it connects, SUB first). */
    vt_bus_flush(bus, 1000);
    *out = ps;
    return VT_OK;
}

uint64_t profile_sync_epoch(profile_sync *ps)
{
    uint64_t connection = ps ? vt_bus_connections(ps->bus) : 0;
    if (connection == 0)
        return 0;
    uint64_t missed = (uint64_t)vt_bus_sub_dropped(ps->sub) + atomic_load(&ps->undecodable);
    return connection << LOW_BITS | (missed & ((1ULL << LOW_BITS) - 1));
}

void profile_sync_stop(profile_sync *ps)
{
    if (!ps)
        return;
    vt_bus_unsubscribe(ps->sub);
    free(ps);
}
