/*
 * vt_test_bus.h — NATS connections for integration tests (libs/bus against the
 * harness's nats-server). Header-only: include after vt_bus.h, vt_harness.h, vt_test.h.
 */
#ifndef VT_TEST_BUS_H
#define VT_TEST_BUS_H

#include <stdbool.h>
#include <unistd.h>

/* Wait up to ms for bus to be connected; true when it is. */
static inline bool vt_test_bus_wait_connected(vt_bus *bus, int ms)
{
    for (int i = 0; i < ms / 10 && !vt_bus_connected(bus); i++)
        usleep(10000);
    return vt_bus_connected(bus);
}

/* A connection named name to the harness's NATS, connected (or the test stops). */
static inline vt_bus *vt_test_bus_connect(const char *name)
{
    vt_bus_opts o = {.urls = vt_harness_env("VENTA_TEST_NATS_URL"), .name = name};
    vt_bus *bus = NULL;
    char err[256];
    VT_REQUIRE(vt_bus_new(&o, &bus, err, sizeof err) == VT_OK);
    VT_REQUIRE(vt_test_bus_wait_connected(bus, 10000));
    return bus;
}

/* Empty a JetStream stream (VT_EVENTS_STREAM, the domain events): a test that reuses
 * fixed vendor ids must not meet the deletions of an earlier test run under the same
 * harness (each venta-location replica's live map replays every deletion the stream
 * keeps). */
static inline void vt_test_bus_purge(vt_bus *bus, const char *stream)
{
    char err[256];
    VT_REQUIRE(vt_test_bus_wait_connected(bus, 10000));
    VT_REQUIRE(vt_bus_stream_purge(bus, stream, err, sizeof err) == VT_OK);
}

#endif
