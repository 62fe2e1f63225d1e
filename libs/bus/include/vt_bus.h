/*
 * vt_bus.h — NATS for the mesh: one connection per process that never gives up.
 *
 * The connection is made with nats.c's retry-on-failed-connect, so a process starts
 * even while NATS is down, and reconnects forever with jittered backoff; nats.c
 * replays every subscription after a reconnect, so subscribers need do nothing.
 * Publishes while disconnected go to a bounded reconnect buffer (and fail with
 * VT_UNAVAILABLE once it is full). Message callbacks run on nats.c's threads: a
 * callback must be quick, or hand the message to its own queue.
 *
 * Traces (docs/tracing.md): a publish made while the thread has a current span
 * (vt_trace_current) carries it in the `traceparent` message header, stream publishes
 * included; every message callback and consumer handler runs as a child span of the
 * message's header (a new trace without one), current on its thread while it runs.
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
    /* The NATS user this process logs in as (VENTA_NATS_USER/VENTA_NATS_PASSWORD,
     * docs/security.md); NULL: none, as a server without authorization expects. */
    const char *user, *password;
} vt_bus_opts;

/* The inbox prefix of a process logged in as user: "_INBOX.<user>" (its replies arrive
 * on _INBOX.<user>.>, docs/security.md). VT_INVALID_ARGUMENT for a user that is not
 * one subject token of letters, digits, '-' and '_', or too long for out. */
#define VT_BUS_INBOX_PREFIX_MAX 72
int vt_bus_inbox_prefix(const char *user, char *out, size_t outlen);
/* VENTA_NATS_USER and VENTA_NATS_PASSWORD into vt_bus_opts.user/.password: both or
 * neither (NULL), a user fit for vt_bus_inbox_prefix; otherwise exits 2 naming the
 * variable (vt_config_fail). */
void vt_bus_login_from_env(const char **user, const char **password);

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

/* ---- JetStream (jetstream.c): domain events that wait for a consumer that is away ----
 *
 * Core NATS keeps nothing for a subscriber that is not there. A stream keeps what is
 * published on its subjects (bounded by age, bytes and count, oldest dropped first), a
 * publish through vt_bus_stream_publish returns once the stream has stored it, and a
 * consumer (vt_bus_consumer) reads it from where it left off, also after its process or
 * the server restarted. Core subscribers of the same subjects still receive every
 * message as before. */

typedef struct {
    const char *name;            /* "VENTA_EVENTS" */
    const char *subjects;        /* one subject filter, "evt.>" */
    int64_t max_age_ms;          /* default 7 days */
    int64_t max_bytes;           /* default 1 GiB */
    int64_t max_msgs;            /* default 1,000,000 */
    int replicas;                /* servers holding a copy: 1 (default), 3 or 5 */
    int64_t duplicate_window_ms; /* publishes with a msg_id seen within it are dropped (2 min) */
} vt_bus_stream_opts;

/* Create the stream, or bring an existing one to these settings (every service calls
 * it at start, so any start order works). File storage, oldest messages discarded past
 * a limit. 0, VT_INVALID_ARGUMENT (bad options) or VT_UNAVAILABLE (no server, or no
 * JetStream on it) with err. */
int vt_bus_stream_ensure(vt_bus *bus, const vt_bus_stream_opts *opts, char *err, size_t errlen);
/* Drop every message the stream holds (consumers then wait for new ones); a stream that
 * does not exist is already empty. For tests that start from an empty stream, and for
 * an operator who reset the databases the stream's events describe. 0 or VT_UNAVAILABLE
 * with err. */
int vt_bus_stream_purge(vt_bus *bus, const char *name, char *err, size_t errlen);
/* Publish on a stream's subject and wait (at most timeout_ms) for the stream's ack.
 * msg_id (may be NULL) goes into the Nats-Msg-Id header: the stream stores one message
 * per id within its duplicate window, so a repeat after a lost ack is harmless. 0,
 * VT_INVALID_ARGUMENT or VT_UNAVAILABLE (not stored, or no ack in time: publish again)
 * with err. */
int vt_bus_stream_publish(vt_bus *bus, const char *subject, const void *data, size_t len,
                          const char *msg_id, int timeout_ms, char *err, size_t errlen);

/* What a consumer's handler made of a message. */
typedef enum {
    VT_BUS_DONE = 0, /* handled (or nothing to do): acknowledged, never delivered again */
    VT_BUS_RETRY,    /* not now (the database is away): delivered again after a backoff */
    VT_BUS_REJECT,   /* malformed: acknowledged as terminal, never delivered again */
} vt_bus_verdict;

/* Runs on the consumer's own thread, one message at a time, in stream order; data is
 * valid only during the call. Return VT_BUS_DONE only once the effect is committed. */
typedef vt_bus_verdict (*vt_bus_event_fn)(const char *subject, const void *data, size_t len,
                                          void *user);

typedef struct vt_bus_consumer vt_bus_consumer;

typedef struct {
    const vt_bus_stream_opts *stream; /* ensured before the consumer is made */
    /* The durable consumer shared by every replica of a service ("location-vendor-
     * deleted"): each message is handled once per service, by one replica, and waits in
     * the stream while every replica is down. NULL: a consumer of this process alone
     * that reads every message still in the stream, from the oldest (for state each
     * replica keeps in memory), and forgets it when the process ends. */
    const char *durable;
    const char *subject; /* filter within the stream: "evt.vendor.deleted" */
    vt_bus_event_fn fn;
    void *user;
    int ack_wait_ms;  /* unacknowledged this long: delivered again (default 30000) */
    int retry_max_ms; /* VT_BUS_RETRY backs off from 250 ms doubling to this (10000) */
} vt_bus_consumer_opts;

/* Start a consumer thread: it creates the stream and the consumer (retrying every
 * second while NATS or JetStream is away), then fetches and handles messages until
 * vt_bus_consumer_free; when the server lost the consumer (a restart without its
 * store) it makes it again. 0, VT_INVALID_ARGUMENT or VT_RESOURCE_EXHAUSTED with err. */
int vt_bus_consumer_new(vt_bus *bus, const vt_bus_consumer_opts *opts, vt_bus_consumer **out,
                        char *err, size_t errlen);
/* The consumer exists on the server and this process reads it. */
bool vt_bus_consumer_attached(const vt_bus_consumer *c);
/* Stop (a message being handled is finished; an unacknowledged one is delivered again
 * later, to this service's other replicas or the next start), join the thread, free.
 * The durable consumer stays on the server. Call before vt_bus_free. NULL is a no-op. */
void vt_bus_consumer_free(vt_bus_consumer *c);

/* JetStream readiness of this connection's users: some stream was ensured through
 * bus and every consumer made on bus is attached. */
bool vt_bus_jetstream_ready(const vt_bus *bus);

/* Release nats.c's global state at process exit (after every vt_bus_free). */
void vt_bus_library_close(void);

#endif
