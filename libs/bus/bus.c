/*
 * bus.c — the NATS connection of a process, on nats.c (see vt_bus.h for the contract).
 *
 * nats.c does the hard parts (reconnect, resubscribe, buffering); this file fixes the
 * policy every Venta process shares — retry forever with jitter, a named connection,
 * bounded buffers — and turns nats.c statuses into VT_* codes.
 *
 * Connected or not is read from nats.c itself (its status and reconnect count, which
 * change the moment it loses or regains the server), not from our callbacks, which run
 * later on nats.c's callback thread. A reconnect counts only once a round trip on the
 * new connection confirmed the subscriptions nats.c replayed on it (confirm_subs):
 * until then a message published to them may still have been missed.
 */
#include "bus_internal.h"
#include "vt_core.h"

#include <ctype.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct flush_request {
    struct flush_request *next;
    void (*done)(int status, void *user);
    void *user;
    int timeout_ms;
} flush_request;

struct vt_bus {
    natsConnection *conn;
    natsOptions *opts;
    /* The last confirmed connection: its number (1, 2, ...) << 32 | nats.c's reconnect
     * count when it was confirmed. 0: none yet. */
    atomic_uint_fast64_t confirmed;
    atomic_bool closing;        /* vt_bus_free under way: disconnects are expected */
    pthread_mutex_t flush_lock; /* guards the flush queue and flusher state */
    pthread_cond_t flush_cond;
    flush_request *flush_head, **flush_tail;
    bool flusher_started, flusher_stop;
    pthread_t flusher;
    pthread_mutex_t close_lock; /* guards closed: nats.c's last callback sets it */
    pthread_cond_t close_cond;
    bool closed;
    vt_bus_state_fn on_state;
    void *state_user;
    atomic_bool stream_ensured;    /* jetstream.c: a stream was ensured */
    atomic_int consumers_detached; /* jetstream.c: consumers not attached yet */
};

struct vt_bus_sub {
    natsSubscription *sub;
    vt_bus_msg_fn fn;
    void *user;
    pthread_mutex_t lock; /* guards closed: set by nats.c once no callback can run */
    pthread_cond_t closed_cond;
    bool closed;
};

int vt_bus_urls_valid(const char *urls, char *err, size_t errlen)
{
    if (!urls || !*urls) {
        snprintf(err, errlen, "is empty");
        return VT_INVALID_ARGUMENT;
    }
    const char *p = urls;
    int servers = 0;
    while (*p) {
        if (++servers > VT_BUS_MAX_SERVERS) {
            snprintf(err, errlen, "lists more than %d servers", VT_BUS_MAX_SERVERS);
            return VT_INVALID_ARGUMENT;
        }
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char one[512];
        if (n == 0 || n >= sizeof one || strncmp(p, "nats://", 7) != 0) {
            snprintf(err, errlen, "must be a comma list of nats://host:port, got \"%.80s\"", urls);
            return VT_INVALID_ARGUMENT;
        }
        memcpy(one, p + 7, n - 7);
        one[n - 7] = '\0';
        /* Credentials (user:pass@) may precede the host. */
        char *hostport = strrchr(one, '@');
        hostport = hostport ? hostport + 1 : one;
        vt_addr addr;
        char aerr[160];
        if (vt_parse_addr(hostport, &addr, aerr, sizeof aerr) != VT_OK) {
            snprintf(err, errlen, "has a bad server \"%.80s\": %s", hostport, aerr);
            return VT_INVALID_ARGUMENT;
        }
        p += n;
        if (*p == ',' && *++p == '\0') {
            snprintf(err, errlen, "ends with a comma: \"%.80s\"", urls);
            return VT_INVALID_ARGUMENT;
        }
    }
    return VT_OK;
}

int vt_bus_inbox_prefix(const char *user, char *out, size_t outlen)
{
    size_t n = strlen(user);
    if (n == 0 || n + sizeof "_INBOX." > outlen)
        return VT_INVALID_ARGUMENT;
    for (const char *c = user; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_')
            return VT_INVALID_ARGUMENT;
    snprintf(out, outlen, "_INBOX.%s", user);
    return VT_OK;
}

void vt_bus_login_from_env(const char **user, const char **password)
{
    vt_config_login("VENTA_NATS_USER", "VENTA_NATS_PASSWORD", user, password);
    char inbox[VT_BUS_INBOX_PREFIX_MAX];
    if (*user && vt_bus_inbox_prefix(*user, inbox, sizeof inbox) != VT_OK)
        vt_config_fail("VENTA_NATS_USER", "must be letters, digits, '-' and '_' (at most 64)");
}

/* natsOptions_SetURL takes one server: a cluster list given to it never connects.
 * The list (already validated) becomes the server pool, tried in random order. */
static natsStatus set_servers(natsOptions *opts, const char *urls)
{
    char *copy = strdup(urls);
    const char *servers[VT_BUS_MAX_SERVERS];
    int n = 0;
    if (!copy)
        return NATS_NO_MEMORY;
    for (char *save = NULL, *one = strtok_r(copy, ",", &save); one && n < VT_BUS_MAX_SERVERS;
         one = strtok_r(NULL, ",", &save))
        servers[n++] = one;
    natsStatus s = natsOptions_SetServers(opts, servers, n);
    free(copy);
    return s;
}

/* nats.c's count of reconnects on nc (0 when it cannot tell). */
static uint64_t reconnects_of(natsConnection *nc)
{
    natsStatistics *stats = NULL;
    uint64_t n = 0;
    if (natsStatistics_Create(&stats) == NATS_OK && natsConnection_GetStats(nc, stats) == NATS_OK)
        natsStatistics_GetCounts(stats, NULL, NULL, NULL, NULL, &n);
    natsStatistics_Destroy(stats);
    return n;
}

static void confirm(vt_bus *bus, uint64_t reconnects)
{
    uint64_t number = (atomic_load(&bus->confirmed) >> 32) + 1;
    atomic_store(&bus->confirmed, number << 32 | (reconnects & 0xffffffffu));
}

/* After a (re)connect: one PING/PONG round trip shows that the server has processed the
 * subscriptions nats.c replayed before it. Retried while the same connection stays up
 * (a slow server); a newer connection is confirmed by its own callback. */
static void confirm_subs(vt_bus *bus, natsConnection *nc)
{
    uint64_t reconnects = reconnects_of(nc);
    while (!atomic_load(&bus->closing) && natsConnection_Status(nc) == NATS_CONN_STATUS_CONNECTED &&
           reconnects_of(nc) == reconnects) {
        if (natsConnection_FlushTimeout(nc, 1000) == NATS_OK) {
            if (reconnects_of(nc) == reconnects)
                confirm(bus, reconnects);
            return;
        }
    }
}

static void set_connected(vt_bus *bus, bool up)
{
    if (bus->on_state)
        bus->on_state(up, bus->state_user);
}

static void on_connected(natsConnection *nc, void *closure)
{
    vt_info(NULL, "nats: connected");
    confirm_subs(closure, nc);
    set_connected(closure, true);
}

static void on_disconnected(natsConnection *nc, void *closure)
{
    (void)nc;
    vt_bus *bus = closure;
    if (!atomic_load(&bus->closing))
        vt_warn(NULL, "nats: disconnected, reconnecting");
    set_connected(bus, false);
}

/* nats.c delivers connection callbacks in order on one thread, closed last: once it has
 * run, no callback will touch the vt_bus again and vt_bus_free may release it. */
static void on_closed(natsConnection *nc, void *closure)
{
    (void)nc;
    vt_bus *bus = closure;
    pthread_mutex_lock(&bus->close_lock);
    bus->closed = true;
    pthread_cond_signal(&bus->close_cond);
    pthread_mutex_unlock(&bus->close_lock);
}

static void on_async_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *closure)
{
    (void)nc, (void)sub, (void)closure;
    /* Slow consumers land here; the drop is counted per subscription. */
    vt_warn(NULL, "nats: %s", natsStatus_GetText(err));
}

/* What vt_bus_new made besides the connection. */
static void release(vt_bus *bus)
{
    natsOptions_Destroy(bus->opts);
    pthread_cond_destroy(&bus->flush_cond);
    pthread_mutex_destroy(&bus->flush_lock);
    pthread_cond_destroy(&bus->close_cond);
    pthread_mutex_destroy(&bus->close_lock);
    free(bus);
}

int vt_bus_new(const vt_bus_opts *o, vt_bus **out, char *err, size_t errlen)
{
    if (vt_bus_urls_valid(o->urls, err, errlen) != VT_OK)
        return VT_INVALID_ARGUMENT;
    vt_bus *bus = calloc(1, sizeof *bus);
    if (!bus) {
        snprintf(err, errlen, "out of memory");
        return VT_RESOURCE_EXHAUSTED;
    }
    bus->on_state = o->on_state;
    bus->state_user = o->state_user;
    pthread_mutex_init(&bus->close_lock, NULL);
    vt_cond_init_monotonic(&bus->close_cond);
    pthread_mutex_init(&bus->flush_lock, NULL);
    pthread_cond_init(&bus->flush_cond, NULL);
    bus->flush_tail = &bus->flush_head;
    natsStatus s = natsOptions_Create(&bus->opts);
    if (s == NATS_OK)
        s = set_servers(bus->opts, o->urls);
    if (s == NATS_OK && o->name)
        s = natsOptions_SetName(bus->opts, o->name);
    /* A user's replies (requests, JetStream) come back on its own inboxes, so that NATS
     * can let it subscribe to _INBOX.<user>.> and to no one else's. */
    char inbox[VT_BUS_INBOX_PREFIX_MAX];
    if (s == NATS_OK && o->user) {
        s = natsOptions_SetUserInfo(bus->opts, o->user, o->password ? o->password : "");
        if (s == NATS_OK && vt_bus_inbox_prefix(o->user, inbox, sizeof inbox) != VT_OK) {
            snprintf(err, errlen, "user \"%.64s\" must be letters, digits, '-' and '_'", o->user);
            release(bus);
            return VT_INVALID_ARGUMENT;
        }
        if (s == NATS_OK)
            s = natsOptions_SetCustomInboxPrefix(bus->opts, inbox);
    }
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(bus->opts, -1);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(bus->opts, 250);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectJitter(bus->opts, 250, 1000);
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(bus->opts, 2000);
    if (s == NATS_OK)
        s = natsOptions_SetPingInterval(bus->opts, 5000);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectBufSize(
            bus->opts, o->reconnect_buffer_bytes > 0 ? o->reconnect_buffer_bytes : 8 * 1024 * 1024);
    if (s == NATS_OK)
        s = natsOptions_SetDisconnectedCB(bus->opts, on_disconnected, bus);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectedCB(bus->opts, on_connected, bus);
    if (s == NATS_OK)
        s = natsOptions_SetErrorHandler(bus->opts, on_async_error, bus);
    if (s == NATS_OK)
        s = natsOptions_SetClosedCB(bus->opts, on_closed, bus);
    if (s == NATS_OK)
        s = natsOptions_SetRetryOnFailedConnect(bus->opts, true, on_connected, bus);
    if (s != NATS_OK) {
        snprintf(err, errlen, "nats options: %s", natsStatus_GetText(s));
        goto fail;
    }
    s = natsConnection_Connect(&bus->conn, bus->opts);
    if (s == NATS_OK) {
        confirm(bus, reconnects_of(bus->conn)); /* no subscription yet to confirm */
        set_connected(bus, true);
    } else if (s != NATS_NOT_YET_CONNECTED) {
        snprintf(err, errlen, "nats connect: %s", natsStatus_GetText(s));
        goto fail;
    } else {
        vt_warn(NULL, "nats: not reachable yet at %s, retrying in the background", o->urls);
    }
    *out = bus;
    return VT_OK;
fail:
    release(bus);
    return VT_UNAVAILABLE;
}

uint64_t vt_bus_connections(const vt_bus *bus)
{
    natsConnection *nc = bus->conn;
    uint64_t confirmed = atomic_load(&((vt_bus *)bus)->confirmed);
    if (!nc || confirmed == 0 || natsConnection_Status(nc) != NATS_CONN_STATUS_CONNECTED ||
        (reconnects_of(nc) & 0xffffffffu) != (confirmed & 0xffffffffu))
        return 0;
    return confirmed >> 32;
}

bool vt_bus_connected(const vt_bus *bus)
{
    return vt_bus_connections(bus) != 0;
}

static bool subject_valid(const char *subject)
{
    if (!subject || !*subject || strlen(subject) > 255)
        return false;
    for (const char *p = subject; *p; p++)
        if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            return false;
    return subject[0] != '.' && subject[strlen(subject) - 1] != '.' && !strstr(subject, "..");
}

int vt_bus_publish(vt_bus *bus, const char *subject, const void *data, size_t len)
{
    if (!subject_valid(subject) || len > 1024 * 1024)
        return VT_INVALID_ARGUMENT;
    const vt_trace *trace = vt_trace_current();
    if (!trace) {
        natsStatus s = natsConnection_Publish(bus->conn, subject, data, (int)len);
        return s == NATS_OK ? VT_OK : VT_UNAVAILABLE;
    }
    natsMsg *msg = NULL;
    natsStatus s = bus_msg_new(&msg, subject, data, len, trace);
    if (s == NATS_OK)
        s = natsConnection_PublishMsg(bus->conn, msg);
    natsMsg_Destroy(msg);
    return s == NATS_OK ? VT_OK : VT_UNAVAILABLE;
}

int vt_bus_flush(vt_bus *bus, int timeout_ms)
{
    return natsConnection_FlushTimeout(bus->conn, timeout_ms) == NATS_OK ? VT_OK : VT_UNAVAILABLE;
}

/* The flusher thread: one PING/PONG round trip answers every request queued before it
 * started, so a burst of watches costs one flush, not one each. */
static void *flusher_main(void *arg)
{
    vt_bus *bus = arg;
    pthread_mutex_lock(&bus->flush_lock);
    for (;;) {
        while (!bus->flush_head && !bus->flusher_stop)
            pthread_cond_wait(&bus->flush_cond, &bus->flush_lock);
        flush_request *batch = bus->flush_head;
        bus->flush_head = NULL;
        bus->flush_tail = &bus->flush_head;
        bool stop = bus->flusher_stop;
        pthread_mutex_unlock(&bus->flush_lock);
        int timeout = 0;
        for (flush_request *r = batch; r; r = r->next)
            timeout = r->timeout_ms > timeout ? r->timeout_ms : timeout;
        int status = VT_UNAVAILABLE;
        if (batch && !stop)
            status = natsConnection_FlushTimeout(bus->conn, timeout > 0 ? timeout : 1000) == NATS_OK
                         ? VT_OK
                         : VT_UNAVAILABLE;
        while (batch) {
            flush_request *next = batch->next;
            batch->done(status, batch->user);
            free(batch);
            batch = next;
        }
        pthread_mutex_lock(&bus->flush_lock);
        if (stop && !bus->flush_head)
            break;
    }
    pthread_mutex_unlock(&bus->flush_lock);
    return NULL;
}

int vt_bus_flush_async(vt_bus *bus, int timeout_ms, void (*done)(int status, void *user),
                       void *user)
{
    flush_request *r = calloc(1, sizeof *r);
    if (!r)
        return VT_RESOURCE_EXHAUSTED;
    r->done = done;
    r->user = user;
    r->timeout_ms = timeout_ms;
    pthread_mutex_lock(&bus->flush_lock);
    if (!bus->flusher_started && !bus->flusher_stop) {
        bus->flusher_started = pthread_create(&bus->flusher, NULL, flusher_main, bus) == 0;
    }
    if (!bus->flusher_started || bus->flusher_stop) {
        pthread_mutex_unlock(&bus->flush_lock);
        free(r);
        return VT_RESOURCE_EXHAUSTED;
    }
    *bus->flush_tail = r;
    bus->flush_tail = &r->next;
    pthread_cond_signal(&bus->flush_cond);
    pthread_mutex_unlock(&bus->flush_lock);
    return VT_OK;
}

static void deliver(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)nc, (void)sub;
    vt_bus_sub *s = closure;
    vt_trace span;
    const vt_trace *outer = bus_trace_enter(msg, &span);
    s->fn(natsMsg_GetSubject(msg), natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg),
          s->user);
    vt_trace_set_current(outer);
    natsMsg_Destroy(msg);
}

/* nats.c calls this after the subscription closed and its last callback returned. */
static void on_complete(void *closure)
{
    vt_bus_sub *s = closure;
    pthread_mutex_lock(&s->lock);
    s->closed = true;
    pthread_cond_signal(&s->closed_cond);
    pthread_mutex_unlock(&s->lock);
}

int vt_bus_subscribe(vt_bus *bus, const char *subject, const char *queue_group, int pending_limit,
                     vt_bus_msg_fn fn, void *user, vt_bus_sub **out)
{
    if (!subject_valid(subject) || (queue_group && !subject_valid(queue_group)))
        return VT_INVALID_ARGUMENT;
    vt_bus_sub *s = calloc(1, sizeof *s);
    if (!s)
        return VT_RESOURCE_EXHAUSTED;
    s->fn = fn;
    s->user = user;
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* vt_monotonic_deadline's clock */
    pthread_cond_init(&s->closed_cond, &ca);
    pthread_condattr_destroy(&ca);
    natsStatus st = queue_group ? natsConnection_QueueSubscribe(&s->sub, bus->conn, subject,
                                                                queue_group, deliver, s)
                                : natsConnection_Subscribe(&s->sub, bus->conn, subject, deliver, s);
    if (st == NATS_OK)
        st = natsSubscription_SetOnCompleteCB(s->sub, on_complete, s);
    if (st == NATS_OK && pending_limit > 0)
        st = natsSubscription_SetPendingLimits(s->sub, pending_limit, -1);
    if (st != NATS_OK) {
        if (s->sub) {
            natsSubscription_Unsubscribe(s->sub);
            natsSubscription_Destroy(s->sub);
        }
        pthread_cond_destroy(&s->closed_cond);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return VT_UNAVAILABLE;
    }
    *out = s;
    return VT_OK;
}

int64_t vt_bus_sub_dropped(vt_bus_sub *sub)
{
    int64_t dropped = 0;
    if (sub)
        natsSubscription_GetDropped(sub->sub, &dropped);
    return dropped;
}

void vt_bus_unsubscribe(vt_bus_sub *sub)
{
    if (!sub)
        return;
    /* A callback may be running right now on a nats.c thread: wait for nats.c to say
     * the last one returned before the caller frees what the callback uses. */
    if (natsSubscription_Unsubscribe(sub->sub) == NATS_OK) {
        pthread_mutex_lock(&sub->lock);
        while (!sub->closed)
            pthread_cond_wait(&sub->closed_cond, &sub->lock);
        pthread_mutex_unlock(&sub->lock);
    }
    natsSubscription_Destroy(sub->sub);
    pthread_cond_destroy(&sub->closed_cond);
    pthread_mutex_destroy(&sub->lock);
    free(sub);
}

void vt_bus_unsubscribe_drained(vt_bus_sub *sub, int timeout_ms)
{
    if (!sub)
        return;
    /* A drain unsubscribes and then delivers what the server had already sent us, and
     * nats.c calls on_complete after the last of those callbacks. When it cannot start
     * (disconnected) or does not finish in time, a plain unsubscribe ends it. */
    if (natsSubscription_DrainTimeout(sub->sub, timeout_ms) == NATS_OK &&
        natsSubscription_WaitForDrainCompletion(sub->sub, timeout_ms + 1000) == NATS_OK) {
        struct timespec until = vt_monotonic_deadline(2000000000LL);
        pthread_mutex_lock(&sub->lock);
        while (!sub->closed && pthread_cond_timedwait(&sub->closed_cond, &sub->lock, &until) == 0)
            ;
        bool closed = sub->closed;
        pthread_mutex_unlock(&sub->lock);
        if (closed) {
            natsSubscription_Destroy(sub->sub);
            pthread_cond_destroy(&sub->closed_cond);
            pthread_mutex_destroy(&sub->lock);
            free(sub);
            return;
        }
    }
    vt_bus_unsubscribe(sub);
}

void vt_bus_free(vt_bus *bus, int timeout_ms)
{
    if (!bus)
        return;
    /* Requests still queued are answered (UNAVAILABLE) before the connection goes. */
    pthread_mutex_lock(&bus->flush_lock);
    bus->flusher_stop = true;
    bool flusher = bus->flusher_started;
    pthread_cond_signal(&bus->flush_cond);
    pthread_mutex_unlock(&bus->flush_lock);
    if (flusher)
        pthread_join(bus->flusher, NULL);
    atomic_store(&bus->closing, true);
    /* Drain delivers what is in flight and flushes publishes, then closes by itself;
     * without a server (or if draining fails) close right away. Either way wait for
     * nats.c's closed callback before freeing what its callbacks use. */
    bool draining = natsConnection_Status(bus->conn) == NATS_CONN_STATUS_CONNECTED &&
                    natsConnection_DrainTimeout(bus->conn, timeout_ms) == NATS_OK;
    if (!draining)
        natsConnection_Close(bus->conn);
    struct timespec until = vt_monotonic_deadline(((int64_t)timeout_ms + 2000) * 1000000);
    pthread_mutex_lock(&bus->close_lock);
    while (!bus->closed) {
        if (pthread_cond_timedwait(&bus->close_cond, &bus->close_lock, &until) != 0) {
            pthread_mutex_unlock(&bus->close_lock);
            natsConnection_Close(bus->conn); /* drain overran: force it */
            pthread_mutex_lock(&bus->close_lock);
            while (!bus->closed)
                pthread_cond_wait(&bus->close_cond, &bus->close_lock);
        }
    }
    pthread_mutex_unlock(&bus->close_lock);
    natsConnection_Destroy(bus->conn);
    release(bus);
}

natsConnection *bus_conn(vt_bus *bus)
{
    return bus->conn;
}

void bus_stream_ensured(vt_bus *bus)
{
    atomic_store(&bus->stream_ensured, true);
}

void bus_consumers_detached(vt_bus *bus, int delta)
{
    atomic_fetch_add(&bus->consumers_detached, delta);
}

bool vt_bus_jetstream_ready(const vt_bus *bus)
{
    vt_bus *b = (vt_bus *)bus;
    return atomic_load(&b->stream_ensured) && atomic_load(&b->consumers_detached) == 0 &&
           vt_bus_connected(bus);
}

void vt_bus_library_close(void)
{
    nats_Close();
}
