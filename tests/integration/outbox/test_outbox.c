/*
 * Integration tests of libs/outbox against the harness's PostgreSQL and NATS: events
 * written in a transaction are published once it commits (and never when it rolls
 * back), survive NATS being down and a process that died before relaying them, and two
 * relays on one table (two replicas) publish every event exactly once. Stops NATS: not
 * parallel with other tests.
 */
#include "venta/events/v1/events.pb-c.h"
#include "vt_bus.h"
#include "vt_core.h"
#include "vt_events.h"
#include "vt_harness.h"
#include "vt_outbox.h"
#include "vt_test.h"
#include "vt_test_bus.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TABLE "vendor.outbox"
#define MAX_SEEN 2048

static char *url;
static vt_metrics *metrics;
static vt_bus_stream_opts stream;
static vt_bus *main_bus;   /* the relays' (and the subscriber's) connection */
static vt_db_conn *writer; /* where the tests write events */
static char put_sql[160];
static vt_db_statement statements[1];

/* Every evt.vendor.* message received, by the vendor id it carries. */
static struct {
    pthread_mutex_t lock;
    char ids[MAX_SEEN][40];
    int n;
} seen = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void on_event(const char *subject, const void *data, size_t len, void *user)
{
    (void)subject, (void)user;
    Venta__Events__V1__VendorEvent *ev = venta__events__v1__vendor_event__unpack(NULL, len, data);
    if (!ev)
        return;
    pthread_mutex_lock(&seen.lock);
    if (seen.n < MAX_SEEN)
        snprintf(seen.ids[seen.n++], sizeof seen.ids[0], "%s", ev->vendor_id);
    pthread_mutex_unlock(&seen.lock);
    venta__events__v1__vendor_event__free_unpacked(ev, NULL);
}

static int seen_count(void)
{
    pthread_mutex_lock(&seen.lock);
    int n = seen.n;
    pthread_mutex_unlock(&seen.lock);
    return n;
}

static void seen_reset(void)
{
    pthread_mutex_lock(&seen.lock);
    seen.n = 0;
    pthread_mutex_unlock(&seen.lock);
}

static bool wait_seen(int want, int ms)
{
    for (int i = 0; i < ms / 10 && seen_count() < want; i++)
        usleep(10000);
    return seen_count() >= want;
}

static long rows_left(void)
{
    static PGconn *pg;
    PGresult *r = PQexec(vt_harness_pg(&pg, url), "SELECT count(*) FROM " TABLE);
    long n = PQresultStatus(r) == PGRES_TUPLES_OK ? atol(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return n;
}

/* Whether the table empties within ms. A subscriber can see an event before the relay
 * has deleted its row (the delete follows NATS's confirmation, a round trip later), so
 * "relayed and deleted" is waited for, not read once. */
static bool rows_drain(int ms)
{
    for (int i = 0; i < ms / 10 && rows_left() != 0; i++)
        usleep(10000);
    return rows_left() == 0;
}

/* Events "<prefix>-<i>" for i in [from, to), then the transaction commits or not. */
typedef struct {
    const char *prefix;
    int from, to;
    bool roll_back;
} batch;

static int put_batch(vt_db_conn *c, void *arg, char *err, size_t errlen)
{
    const batch *b = arg;
    for (int i = b->from; i < b->to; i++) {
        char id[40];
        snprintf(id, sizeof id, "%s-%d", b->prefix, i);
        Venta__Events__V1__VendorEvent ev = VENTA__EVENTS__V1__VENDOR_EVENT__INIT;
        ev.type = "created";
        ev.vendor_id = id;
        int rc = vt_outbox_put(c, "evt.vendor.created", &ev.base, err, errlen);
        if (rc != VT_OK)
            return rc;
    }
    if (b->roll_back) {
        snprintf(err, errlen, "rolled back on purpose");
        return VT_ABORTED;
    }
    return VT_OK;
}

static int write_batch(vt_db_conn *c, const char *prefix, int from, int to, bool roll_back)
{
    batch b = {.prefix = prefix, .from = from, .to = to, .roll_back = roll_back};
    char err[256];
    return vt_db_tx(c, "READ COMMITTED", 1, put_batch, &b, err, sizeof err);
}

static vt_outbox_relay *relay_start(vt_bus *bus)
{
    vt_outbox_relay_opts o = {
        .database_url = url,
        .table = TABLE,
        .bus = bus,
        .stream = &stream,
        .metrics = metrics,
        .idle_poll_ms = 200,
    };
    vt_outbox_relay *r = NULL;
    char err[256];
    VT_REQUIRE(vt_outbox_relay_new(&o, &r, err, sizeof err) == VT_OK);
    VT_REQUIRE(vt_outbox_relay_start(r, err, sizeof err) == VT_OK);
    return r;
}

static void test_committed_events_only(void)
{
    seen_reset();
    vt_outbox_relay *r = relay_start(main_bus);
    VT_CHECK_INT(write_batch(writer, "rolled-back", 0, 5, true), VT_ABORTED);
    VT_CHECK_INT(write_batch(writer, "kept", 0, 3, false), VT_OK);
    vt_outbox_relay_kick(r);
    VT_CHECK(wait_seen(3, 5000));
    usleep(300000); /* a rolled-back event would arrive by now */
    VT_CHECK_INT(seen_count(), 3);
    pthread_mutex_lock(&seen.lock);
    for (int i = 0; i < 3 && i < seen.n; i++) {
        char want[40];
        snprintf(want, sizeof want, "kept-%d", i);
        VT_CHECK_STR(seen.ids[i], want); /* in commit order */
    }
    pthread_mutex_unlock(&seen.lock);
    VT_CHECK(rows_drain(5000));
    vt_outbox_relay_free(r);
}

/* Committed while NATS is down: kept, then published once it is back. */
static void test_nats_down(void)
{
    seen_reset();
    vt_outbox_relay *r = relay_start(main_bus);
    VT_REQUIRE(vt_harness_server("stop", "nats") == 0);
    for (int i = 0; i < 300 && vt_bus_connected(main_bus); i++)
        usleep(10000);
    VT_CHECK_INT(write_batch(writer, "while-down", 0, 4, false), VT_OK);
    vt_outbox_relay_kick(r);
    usleep(800000);
    VT_CHECK_INT(rows_left(), 4);
    VT_REQUIRE(vt_harness_server("start", "nats") == 0);
    VT_CHECK(vt_test_bus_wait_connected(main_bus, 15000));
    VT_CHECK(wait_seen(4, 10000));
    usleep(300000);
    VT_CHECK_INT(seen_count(), 4);
    VT_CHECK(rows_drain(5000));
    vt_outbox_relay_free(r);
}

/* Committed by a process that died before relaying: the next relay to start sends it. */
static void test_left_behind(void)
{
    seen_reset();
    VT_CHECK_INT(write_batch(writer, "orphan", 0, 2, false), VT_OK);
    usleep(300000);
    VT_CHECK_INT(seen_count(), 0); /* nobody relays yet */
    vt_outbox_relay *r = relay_start(main_bus);
    VT_CHECK(wait_seen(2, 5000)); /* no kick: found by its poll */
    VT_CHECK(rows_drain(5000));
    vt_outbox_relay_free(r);
}

static int compare_ids(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Two replicas relaying one table: 600 events, each published exactly once. */
static void test_two_relays_no_duplicates(void)
{
    seen_reset();
    vt_bus *other = vt_test_bus_connect("test-outbox-replica");
    vt_outbox_relay *a = relay_start(main_bus), *b = relay_start(other);
    for (int k = 0; k < 6; k++) {
        VT_CHECK_INT(write_batch(writer, "pair", k * 100, (k + 1) * 100, false), VT_OK);
        vt_outbox_relay_kick(a);
        vt_outbox_relay_kick(b);
    }
    VT_CHECK(wait_seen(600, 10000));
    usleep(500000);
    VT_CHECK_INT(seen_count(), 600);
    pthread_mutex_lock(&seen.lock);
    qsort(seen.ids, (size_t)seen.n, sizeof seen.ids[0], compare_ids);
    int dup = 0;
    for (int i = 1; i < seen.n; i++)
        dup += strcmp(seen.ids[i - 1], seen.ids[i]) == 0;
    pthread_mutex_unlock(&seen.lock);
    VT_CHECK_INT(dup, 0);
    VT_CHECK(rows_drain(5000));
    vt_outbox_relay_free(a);
    vt_outbox_relay_free(b);
    vt_bus_free(other, 2000);
}

static void test_bad_options(void)
{
    vt_outbox_relay_opts o = {.database_url = url, .table = "x; DROP TABLE y", .bus = NULL};
    vt_outbox_relay *r = NULL;
    char err[256];
    VT_CHECK_INT(vt_outbox_relay_new(&o, &r, err, sizeof err), VT_INVALID_ARGUMENT);
    VT_CHECK(r == NULL);
    vt_db_statement st;
    char sql[160];
    VT_CHECK_INT(vt_outbox_put_statement("a.b; --", sql, sizeof sql, &st), VT_INVALID_ARGUMENT);
}

int main(void)
{
    vt_log_init("test-outbox", VT_LOG_ERROR);
    url = vt_harness_db_new_migrated("outbox");
    metrics = vt_metrics_new();
    stream = vt_events_stream(1);
    VT_REQUIRE(vt_outbox_put_statement(TABLE, put_sql, sizeof put_sql, &statements[0]) == VT_OK);
    vt_db_conn_opts wo = {.url = url, .statements = statements, .statement_count = 1};
    char why[256];
    VT_REQUIRE(vt_db_conn_new(&wo, &writer, why, sizeof why) == VT_OK);
    main_bus = vt_test_bus_connect("test-outbox");
    vt_bus_sub *sub = NULL;
    VT_REQUIRE(vt_bus_subscribe(main_bus, "evt.vendor.>", NULL, 0, on_event, NULL, &sub) == VT_OK);
    VT_REQUIRE(vt_bus_flush(main_bus, 5000) == VT_OK);

    VT_RUN(test_bad_options);
    VT_RUN(test_committed_events_only);
    VT_RUN(test_left_behind);
    VT_RUN(test_two_relays_no_duplicates);
    VT_RUN(test_nats_down);

    vt_bus_unsubscribe(sub);
    vt_bus_free(main_bus, 2000);
    vt_bus_library_close();
    vt_db_conn_free(writer);
    vt_metrics_free(metrics);
    free(url);
    return VT_TEST_RESULT();
}
