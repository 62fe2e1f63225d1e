/*
 * vt_bus.h — NATS for the mesh: one connection per process that never gives up.
 *
 * The connection is made with nats.c's retry-on-failed-connect, so a process starts
 * even while NATS is down, and reconnects forever with jittered backoff; nats.c
 * replays every subscription after a reconnect, so subscribers need do nothing.
 * Publishes while disconnected go to a bounded reconnect buffer (and fail with
 * VT_UNAVAILABLE once it is full). Message callbacks run on nats.c's threads: a
 * callback must be quick, or hand the message to its own queue.
 */
#ifndef VT_BUS_H
#define VT_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct vt_bus vt_bus;
typedef struct vt_bus_sub vt_bus_sub;

/* Called from a nats.c thread whenever the connection goes up or down. */
typedef void (*vt_bus_state_fn)(bool connected, void *user);
/* One message; data is valid only during the call. reply may be NULL. */
typedef void (*vt_bus_msg_fn)(const char *subject, const void *data, size_t len, void *user);

typedef struct {
    const char *urls; /* "nats://h:p[,nats://h2:p]" */
    const char *name; /* connection name shown by the server, e.g. "venta-location" */
    vt_bus_state_fn on_state;
    void *state_user;
    int reconnect_buffer_bytes; /* default 8 MiB */
} vt_bus_opts;

/* The most servers a VENTA_NATS_URL list may name. */
#define VT_BUS_MAX_SERVERS 64

/* Check a VENTA_NATS_URL value: a comma list of nats://host:port (a cluster), at most
 * VT_BUS_MAX_SERVERS. 0 or VT_INVALID_ARGUMENT with the reason in err. */
int vt_bus_urls_valid(const char *urls, char *err, size_t errlen);

/* Create the connection and start connecting (in the background if the server is not
 * there yet). Fails only for bad options. Free with vt_bus_free. */
int vt_bus_new(const vt_bus_opts *opts, vt_bus **out, char *err, size_t errlen);
/* Which connection is up: 0 while nats.c is not connected, and after a reconnect until
 * a round trip confirmed the subscriptions it replayed; otherwise the number of that
 * connection (1, 2, ... one more per reconnect). Read from nats.c's own state, so it
 * turns 0 the moment nats.c loses the server. A reader that saw the same non-zero
 * number before and after missed no message of a subscription made (and flushed)
 * before. */
uint64_t vt_bus_connections(const vt_bus *bus);
/* vt_bus_connections(bus) != 0. */
bool vt_bus_connected(const vt_bus *bus);

/* Publish payload on subject. 0, VT_INVALID_ARGUMENT (bad subject) or VT_UNAVAILABLE. */
int vt_bus_publish(vt_bus *bus, const char *subject, const void *data, size_t len);
/* Wait until the server has processed everything published so far. */
int vt_bus_flush(vt_bus *bus, int timeout_ms);

/* The same without blocking the caller (an event loop): done(status, user) runs on the
 * bus's flusher thread once the server has processed everything published or
 * subscribed before this call (one round trip serves every flush asked for meanwhile).
 * Returns VT_RESOURCE_EXHAUSTED when it cannot queue; done then never runs. */
int vt_bus_flush_async(vt_bus *bus, int timeout_ms, void (*done)(int status, void *user),
                       void *user);

/* Subscribe (queue group NULL: every subscriber gets every message). pending_limit
 * bounds messages queued for a slow callback (0: nats.c's default); past it nats.c
 * drops and vt_bus_sub_dropped counts. */
int vt_bus_subscribe(vt_bus *bus, const char *subject, const char *queue_group, int pending_limit,
                     vt_bus_msg_fn fn, void *user, vt_bus_sub **out);
int64_t vt_bus_sub_dropped(vt_bus_sub *sub);
/* Stop the subscription and free it; no callback runs after this returns. Never call
 * it from the subscription's own callback (it waits for that callback to return). */
void vt_bus_unsubscribe(vt_bus_sub *sub);
/* The same, but first deliver what NATS had already routed to this subscription (a
 * drain, at most timeout_ms): for a consumer that must not lose messages sent to it
 * before it stopped, such as a queue-group member on SIGTERM. */
void vt_bus_unsubscribe_drained(vt_bus_sub *sub, int timeout_ms);

/* Drain (deliver what is in flight, flush publishes) for up to timeout_ms, close, free. */
void vt_bus_free(vt_bus *bus, int timeout_ms);

/* Release nats.c's global state at process exit (after every vt_bus_free). */
void vt_bus_library_close(void);

#endif
