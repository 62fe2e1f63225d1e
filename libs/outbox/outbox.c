/*
 * outbox.c — see vt_outbox.h.
 *
 * The relay is one thread with its own connection. A round is one transaction: take up
 * to BATCH rows in id order (FOR UPDATE SKIP LOCKED: rows another replica is relaying
 * are skipped, not waited for), publish each to the JetStream stream and wait for the
 * stream's ack, delete them, commit. Any failure rolls the round back and the rows stay
 * for the next one. Rounds start when a commit kicks the relay, and at least every
 * idle_poll_ms (rows of a replica that died, or of a round that failed). While NATS is
 * disconnected no round starts, and a round first makes sure the stream exists (once,
 * and again after a publish failed: a server that lost its store).
 *
 * Each publish carries the row's identity as Nats-Msg-Id, "<table>:<id>:<created_at
 * in µs>", so a row published again (its ack was lost, or the delete did not commit) is
 * stored once if it comes back within the stream's duplicate window. The table and the
 * creation time are in it because ids alone repeat: two services' outboxes both start
 * at 1, and so does a database restored or made anew (every test makes its own).
 */
#include "vt_outbox.h"

#include "vt_core.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH 256
#define ACK_TIMEOUT_MS 2000
#define WARN_EVERY_MS 30000

#define PUT_NAME "vt_outbox_put"

static bool table_name_ok(const char *table)
{
    size_t n = strlen(table);
    return n > 0 && n <= 64 && strspn(table, "abcdefghijklmnopqrstuvwxyz_.") == n;
}

int vt_outbox_put_statement(const char *table, char *sql, size_t sqllen, vt_db_statement *out)
{
    if (!table_name_ok(table))
        return VT_INVALID_ARGUMENT;
    snprintf(sql, sqllen,
             "INSERT INTO %s (subject, payload, traceparent) VALUES ($1, decode($2, 'hex'), $3)",
             table);
    *out = (vt_db_statement){PUT_NAME, sql};
    return VT_OK;
}

int vt_outbox_put(vt_db_conn *c, const char *subject, const ProtobufCMessage *msg, char *err,
                  size_t errlen)
{
    size_t n = protobuf_c_message_get_packed_size(msg);
    uint8_t *bytes = malloc(n ? n : 1);
    char *hex = malloc(2 * n + 1);
    if (!bytes || !hex) {
        free(bytes);
        free(hex);
        snprintf(err, errlen, "out of memory for a %zu-byte event", n);
        return VT_RESOURCE_EXHAUSTED;
    }
    protobuf_c_message_pack(msg, bytes);
    vt_hex_encode(bytes, n, hex);
    /* The span that writes the event (a gRPC handler, a consumed event) is its cause. */
    char traceparent[VT_TRACEPARENT_LEN + 1];
    const vt_trace *trace = vt_trace_current();
    if (trace)
        vt_trace_format(trace, traceparent);
    const char *params[3] = {subject, hex, trace ? traceparent : NULL};
    PGresult *res;
    int rc = vt_db_query(c, PUT_NAME, 3, params, &res, err, errlen);
    PQclear(res);
    free(bytes);
    free(hex);
    return rc;
}

/* ---- relay ---- */

enum { ST_TAKE, ST_DONE, ST_COUNT };

struct vt_outbox_relay {
    vt_outbox_relay_opts opts;
    char sql[ST_COUNT][320];
    vt_db_statement statements[ST_COUNT];
    vt_db_conn *db;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool kicked, stopping;
    bool running; /* the thread was started and not yet joined */
    int64_t warned_ms;
    size_t last_round; /* rows relayed by the last round */
    vt_counter *failed_rounds;
    bool stream_ok; /* the relay thread's: the stream was ensured, no publish failed since */
};

/* venta_outbox_published_total{subject="…"}, found or added on first use. */
static void count_published(vt_outbox_relay *r, const char *subject)
{
    char labels[192];
    snprintf(labels, sizeof labels, "subject=\"%.160s\"", subject);
    vt_counter *c = vt_metrics_counter(
        r->opts.metrics, "venta_outbox_published_total",
        "Domain events published and acknowledged by the JetStream stream.", labels);
    if (c)
        vt_counter_inc(c);
}

static void warn_limited(vt_outbox_relay *r, const char *what, const char *why)
{
    int64_t now = vt_now_ms();
    if (now - r->warned_ms < WARN_EVERY_MS)
        return;
    r->warned_ms = now;
    vt_warn(NULL, "outbox %s: %s (%s); the events stay queued", r->opts.table, what, why);
}

/* Text of an int8[] literal for ids of res's rows: "{1,2,3}". */
static char *id_array(const PGresult *res, int n)
{
    char *out = malloc((size_t)n * 21 + 3);
    if (!out)
        return NULL;
    size_t len = 0;
    out[len++] = '{';
    for (int i = 0; i < n; i++)
        len += (size_t)sprintf(out + len, "%s%lld", i ? "," : "",
                               (long long)vt_db_bin_int8(res, i, 0));
    out[len++] = '}';
    out[len] = '\0';
    return out;
}

static int relay_round(vt_db_conn *c, void *arg, char *err, size_t errlen)
{
    vt_outbox_relay *r = arg;
    r->last_round = 0;
    if (!r->stream_ok) {
        int rc = vt_bus_stream_ensure(r->opts.bus, r->opts.stream, err, errlen);
        if (rc != VT_OK)
            return rc;
        r->stream_ok = true;
    }
    PGresult *res;
    int rc = vt_db_query_binary(c, "take", 0, NULL, &res, err, errlen);
    if (rc != VT_OK)
        return rc;
    int n = PQntuples(res);
    for (int i = 0; i < n && rc == VT_OK; i++) {
        char msg_id[128];
        snprintf(msg_id, sizeof msg_id, "%s:%lld:%lld", r->opts.table,
                 (long long)vt_db_bin_int8(res, i, 0), (long long)vt_db_bin_int8(res, i, 3));
        /* Relaying is a span of the writer's trace; the publish sends it on. A row
         * without a trace (older than migration 0015) is published without one. */
        vt_trace span;
        bool traced = !PQgetisnull(res, i, 4);
        if (traced)
            vt_trace_start(PQgetvalue(res, i, 4), (size_t)PQgetlength(res, i, 4), &span);
        const vt_trace *outer = vt_trace_set_current(traced ? &span : NULL);
        const char *subject = PQgetvalue(res, i, 1);
        rc = vt_bus_stream_publish(r->opts.bus, subject, PQgetvalue(res, i, 2),
                                   (size_t)PQgetlength(res, i, 2), msg_id, ACK_TIMEOUT_MS, err,
                                   errlen);
        if (rc != VT_OK)
            r->stream_ok = false;
        vt_log_level level = vt_trace_hop_level(traced ? &span : NULL);
        if (rc == VT_OK && vt_log_enabled(level))
            vt_log(level, NULL, "outbox %s: published %s", r->opts.table, subject);
        vt_trace_set_current(outer);
    }
    char *ids = rc == VT_OK && n > 0 ? id_array(res, n) : NULL;
    if (rc == VT_OK && n > 0) {
        PGresult *done = NULL;
        const char *params[1] = {ids};
        rc = ids ? vt_db_query(c, "done", 1, params, &done, err, errlen) : VT_RESOURCE_EXHAUSTED;
        PQclear(done);
    }
    if (rc == VT_OK) {
        r->last_round = (size_t)n;
        for (int i = 0; i < n; i++)
            count_published(r, PQgetvalue(res, i, 1));
    }
    free(ids);
    PQclear(res);
    return rc;
}

/* Rounds until the table is empty (or a round fails). */
static void relay_drain(vt_outbox_relay *r)
{
    for (;;) {
        if (!vt_bus_connected(r->opts.bus)) {
            warn_limited(r, "not relaying", "NATS is disconnected");
            return;
        }
        char err[256];
        int rc = vt_db_tx(r->db, "READ COMMITTED", 1, relay_round, r, err, sizeof err);
        if (rc != VT_OK) {
            vt_counter_inc(r->failed_rounds);
            warn_limited(r, "relay round failed", err);
            return;
        }
        if (r->last_round < BATCH)
            return;
    }
}

static void *relay_main(void *arg)
{
    vt_outbox_relay *r = arg;
    pthread_mutex_lock(&r->mu);
    while (!r->stopping) {
        if (!r->kicked) {
            struct timespec until = vt_monotonic_deadline((int64_t)r->opts.idle_poll_ms * 1000000);
            pthread_cond_timedwait(&r->cv, &r->mu, &until);
        }
        r->kicked = false;
        pthread_mutex_unlock(&r->mu);
        relay_drain(r);
        pthread_mutex_lock(&r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    relay_drain(r); /* what committed before the stop */
    return NULL;
}

int vt_outbox_relay_new(const vt_outbox_relay_opts *opts, vt_outbox_relay **out, char *err,
                        size_t errlen)
{
    *out = NULL;
    if (!opts->database_url || !opts->table || !opts->bus || !opts->stream || !opts->metrics) {
        snprintf(err, errlen,
                 "outbox relay needs a database URL, a table, a bus, a stream and metrics");
        return VT_INVALID_ARGUMENT;
    }
    if (!table_name_ok(opts->table)) {
        snprintf(err, errlen, "outbox table name \"%s\" is not schema.table", opts->table);
        return VT_INVALID_ARGUMENT;
    }
    vt_outbox_relay *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return VT_RESOURCE_EXHAUSTED;
    }
    r->opts = *opts;
    if (r->opts.idle_poll_ms <= 0)
        r->opts.idle_poll_ms = 1000;
    snprintf(r->sql[ST_TAKE], sizeof r->sql[ST_TAKE],
             "SELECT id, subject, payload, (extract(epoch FROM created_at) * 1000000)::int8, "
             "traceparent FROM %s ORDER BY id LIMIT %d FOR UPDATE SKIP LOCKED",
             opts->table, BATCH);
    snprintf(r->sql[ST_DONE], sizeof r->sql[ST_DONE], "DELETE FROM %s WHERE id = ANY($1::int8[])",
             opts->table);
    r->statements[ST_TAKE] = (vt_db_statement){"take", r->sql[ST_TAKE]};
    r->statements[ST_DONE] = (vt_db_statement){"done", r->sql[ST_DONE]};
    char labels[96];
    snprintf(labels, sizeof labels, "table=\"%s\"", opts->table);
    r->failed_rounds = vt_metrics_counter(
        opts->metrics, "venta_outbox_failed_rounds_total",
        "Outbox relay rounds rolled back (database or NATS trouble); retried.", labels);
    vt_db_conn_opts db = {
        .url = opts->database_url, .statements = r->statements, .statement_count = ST_COUNT};
    pthread_mutex_init(&r->mu, NULL);
    vt_cond_init_monotonic(&r->cv);
    if (vt_db_conn_new(&db, &r->db, NULL, 0) != VT_OK) {
        vt_outbox_relay_free(r);
        snprintf(err, errlen, "cannot start the outbox relay");
        return VT_RESOURCE_EXHAUSTED;
    }
    *out = r;
    return VT_OK;
}

int vt_outbox_relay_start(vt_outbox_relay *r, char *err, size_t errlen)
{
    r->stopping = false;
    if (pthread_create(&r->thread, NULL, relay_main, r) != 0) {
        snprintf(err, errlen, "cannot start the outbox relay");
        return VT_RESOURCE_EXHAUSTED;
    }
    r->running = true;
    return VT_OK;
}

/* Set one of the relay's flags and wake it. */
static void wake(vt_outbox_relay *r, bool *flag)
{
    pthread_mutex_lock(&r->mu);
    *flag = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

void vt_outbox_relay_kick(vt_outbox_relay *r)
{
    if (r)
        wake(r, &r->kicked);
}

void vt_outbox_relay_stop(vt_outbox_relay *r)
{
    if (!r || !r->running)
        return;
    wake(r, &r->stopping);
    pthread_join(r->thread, NULL);
    r->running = false;
}

void vt_outbox_relay_free(vt_outbox_relay *r)
{
    if (!r)
        return;
    vt_outbox_relay_stop(r);
    vt_db_conn_free(r->db);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r);
}
