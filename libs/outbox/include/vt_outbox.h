/*
 * vt_outbox.h — domain events that survive a crash: the transactional outbox.
 *
 * A service that changes its tables and announces the change on NATS cannot do both
 * atomically: publishing after COMMIT loses the event when the process dies (or its
 * NATS reconnect buffer is dropped) in between, publishing before it announces changes
 * that may roll back. So the event is written as a row of the service's outbox table in
 * the same transaction as the change (vt_outbox_put), and a relay thread publishes the
 * rows to the JetStream stream of domain events and deletes them once the stream has
 * acknowledged storing them. A row is deleted only after that ack, so every committed
 * event is stored in the stream at least once — after a crash, a NATS outage or restart,
 * a PostgreSQL restart, by this replica or any
 * other (rows are taken with FOR UPDATE SKIP LOCKED, so replicas share the work and
 * never publish the same row at the same time). A repeat within the stream's duplicate
 * window is dropped by the stream (the row's identity is the message id); consumers must
 * still tolerate one, and the payload carries the event's own timestamp and request id.
 *
 * Order: one relay publishes rows in commit order (by id); with several replicas
 * relaying at once, events of different batches may interleave.
 *
 * The table (see prisma-free-sql/0006_outbox.sql and 0015_outbox_trace.sql):
 *   (id bigserial PRIMARY KEY, subject text NOT NULL, payload bytea NOT NULL,
 *    created_at timestamptz NOT NULL DEFAULT now(), traceparent text)
 *
 * Traces: vt_outbox_put stores the thread's current span (vt_trace_current: the gRPC
 * call or consumed event that made the change) as the row's traceparent; the relay
 * publishes each row as a child span of it, so the event's consumers continue the trace.
 */
#ifndef VT_OUTBOX_H
#define VT_OUTBOX_H

#include "vt_bus.h"
#include "vt_db.h"
#include "vt_metrics.h"

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

/* The statement vt_outbox_put runs: add it to the service's prepared statements, e.g.
 * VT_OUTBOX_PUT_STATEMENT("account.outbox"). */
/* The statement vt_outbox_put runs, to add to the prepared statements of the
 * connections that write events: its text for table goes into sql. 0, or
 * VT_INVALID_ARGUMENT for a table name that is not [a-z_.]+. */
int vt_outbox_put_statement(const char *table, char *sql, size_t sqllen, vt_db_statement *out);

/* Inside the caller's transaction on c (prepared with vt_outbox_put_statement): the
 * event msg, to be published on subject once the transaction has committed. 0 or a
 * VT_* code with err. */
int vt_outbox_put(vt_db_conn *c, const char *subject, const ProtobufCMessage *msg, char *err,
                  size_t errlen);

typedef struct vt_outbox_relay vt_outbox_relay;

typedef struct {
    const char *database_url;
    const char *table; /* "account.outbox" */
    vt_bus *bus;
    /* The stream that takes the table's subjects (vt_events_stream); ensured by the
     * relay before it publishes. */
    const vt_bus_stream_opts *stream;
    /* venta_outbox_published_total{subject="…"} (events the stream acknowledged) and
     * venta_outbox_failed_rounds_total{table="…"} (rounds rolled back, retried). */
    vt_metrics *metrics;
    int idle_poll_ms; /* look for rows at least this often (default 1000) */
} vt_outbox_relay_opts;

/* A relay with its own database connection (it connects, and reconnects, by itself),
 * not yet running. 0 with *out set, or VT_INVALID_ARGUMENT / VT_RESOURCE_EXHAUSTED
 * with err. */
int vt_outbox_relay_new(const vt_outbox_relay_opts *opts, vt_outbox_relay **out, char *err,
                        size_t errlen);
/* Start the relay thread. 0, or VT_RESOURCE_EXHAUSTED with err. */
int vt_outbox_relay_start(vt_outbox_relay *r, char *err, size_t errlen);
/* A transaction that wrote events has committed: publish now rather than at the next
 * poll. Any thread; cheap. NULL is a no-op. */
void vt_outbox_relay_kick(vt_outbox_relay *r);
/* Publish what has committed (if NATS is there; each publish waits at most 2 s for its
 * ack) and stop the thread. Rows left behind are published by another
 * replica or after the next start. Call before freeing the bus. A relay not running
 * (and NULL) is left alone. */
void vt_outbox_relay_stop(vt_outbox_relay *r);
/* vt_outbox_relay_stop, then free. NULL is a no-op. */
void vt_outbox_relay_free(vt_outbox_relay *r);

#endif
