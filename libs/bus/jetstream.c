/*
 * jetstream.c — streams, acknowledged publishes and consumers on NATS JetStream (see
 * vt_bus.h for the contract).
 *
 * A consumer is a pull consumer read by a thread of its own: fetch a few messages (at
 * most half a second of waiting, so a stop is prompt), hand each to the handler, ack,
 * nak with a growing delay, or terminate it as the handler says. Pull rather than push:
 * the thread asks for work only when it is free, replicas of a durable share it without
 * a delivery group, and every failure (no server, no JetStream, a consumer the server
 * lost) lands in one loop that makes the consumer again.
 *
 * A durable consumer is created (or updated) explicitly and then bound, so nats.c never
 * deletes it when the subscription ends: it outlives every replica. A per-process
 * consumer is ephemeral and starts from the stream's oldest message; if the server loses
 * it (a restart), it is made again from the message after the last one handled.
 */
#include "bus_internal.h"
#include "vt_core.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MS_NS 1000000LL
#define FETCH_BATCH 32
#define FETCH_WAIT_MS 500
#define ATTACH_RETRY_MS 1000
#define IDLE_CHECK_FETCHES 20 /* idle fetches between checks that the consumer exists */
#define WARN_EVERY_MS 30000
#define API_WAIT_MS 2000

/* ---- streams ---- */

static bool name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    return n > 0 && n <= 64 &&
           strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static bool subject_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > 0 && n <= 255 && !strpbrk(s, " \t\r\n") && s[0] != '.' && s[n - 1] != '.' &&
           !strstr(s, "..");
}

/* opts with its defaults filled in; false (err set) when a setting is out of range. */
static bool stream_settings(const vt_bus_stream_opts *in, vt_bus_stream_opts *out, char *err,
                            size_t errlen)
{
    *out = *in;
    if (!name_ok(in->name) || !subject_ok(in->subjects)) {
        snprintf(err, errlen, "a stream needs a name of [A-Za-z0-9_-] and a subject filter");
        return false;
    }
    if (in->replicas < 0 || in->replicas > 5) {
        snprintf(err, errlen, "stream %s: replicas must be 1 to 5, got %d", in->name, in->replicas);
        return false;
    }
    if (in->max_age_ms < 0 || in->max_bytes < 0 || in->max_msgs < 0 ||
        in->duplicate_window_ms < 0) {
        snprintf(err, errlen, "stream %s: limits must not be negative", in->name);
        return false;
    }
    if (!out->max_age_ms)
        out->max_age_ms = 7LL * 24 * 3600 * 1000;
    if (!out->max_bytes)
        out->max_bytes = 1LL << 30;
    if (!out->max_msgs)
        out->max_msgs = 1000000;
    if (!out->replicas)
        out->replicas = 1;
    if (!out->duplicate_window_ms)
        out->duplicate_window_ms = 120000;
    if (out->duplicate_window_ms > out->max_age_ms)
        out->duplicate_window_ms = out->max_age_ms;
    return true;
}

static jsCtx *js_new(vt_bus *bus)
{
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = API_WAIT_MS;
    jsCtx *js = NULL;
    return natsConnection_JetStream(&js, bus_conn(bus), &jo) == NATS_OK ? js : NULL;
}

/* "what: nats.c's status (JetStream error code)" into err. */
static void explain(char *err, size_t errlen, const char *what, natsStatus s, jsErrCode jerr)
{
    if (jerr)
        snprintf(err, errlen, "%s: %s (JetStream error %d)", what, natsStatus_GetText(s),
                 (int)jerr);
    else
        snprintf(err, errlen, "%s: %s", what, natsStatus_GetText(s));
}

int vt_bus_stream_ensure(vt_bus *bus, const vt_bus_stream_opts *opts, char *err, size_t errlen)
{
    vt_bus_stream_opts o;
    if (!opts || !stream_settings(opts, &o, err, errlen))
        return VT_INVALID_ARGUMENT;
    jsCtx *js = js_new(bus);
    if (!js) {
        snprintf(err, errlen, "out of memory for a JetStream context");
        return VT_UNAVAILABLE;
    }
    const char *subjects[1] = {o.subjects};
    jsStreamConfig sc;
    jsStreamConfig_Init(&sc);
    sc.Name = o.name;
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Retention = js_LimitsPolicy;
    sc.Discard = js_DiscardOld;
    sc.Storage = js_FileStorage;
    sc.MaxAge = o.max_age_ms * MS_NS;
    sc.MaxBytes = o.max_bytes;
    sc.MaxMsgs = o.max_msgs;
    sc.Replicas = o.replicas;
    sc.Duplicates = o.duplicate_window_ms * MS_NS;
    jsErrCode jerr = 0;
    natsStatus s = js_AddStream(NULL, js, &sc, NULL, &jerr);
    if (s != NATS_OK && jerr == JSStreamNameExistErr) { /* there, with other settings */
        jerr = 0;
        s = js_UpdateStream(NULL, js, &sc, NULL, &jerr);
    }
    jsCtx_Destroy(js);
    if (s != NATS_OK) {
        char what[128];
        snprintf(what, sizeof what, "JetStream stream %s", o.name);
        explain(err, errlen, what, s, jerr);
        return VT_UNAVAILABLE;
    }
    bus_stream_ensured(bus);
    return VT_OK;
}

int vt_bus_stream_purge(vt_bus *bus, const char *name, char *err, size_t errlen)
{
    if (!name_ok(name)) {
        snprintf(err, errlen, "bad stream name");
        return VT_INVALID_ARGUMENT;
    }
    jsCtx *js = js_new(bus);
    if (!js) {
        snprintf(err, errlen, "out of memory for a JetStream context");
        return VT_UNAVAILABLE;
    }
    jsErrCode jerr = 0;
    natsStatus s = js_PurgeStream(js, name, NULL, &jerr);
    jsCtx_Destroy(js);
    if (s != NATS_OK && jerr != JSStreamNotFoundErr) {
        explain(err, errlen, "JetStream purge", s, jerr);
        return VT_UNAVAILABLE;
    }
    return VT_OK;
}

int vt_bus_stream_publish(vt_bus *bus, const char *subject, const void *data, size_t len,
                          const char *msg_id, int timeout_ms, char *err, size_t errlen)
{
    if (!subject_ok(subject) || strpbrk(subject, "*>") || len > 1024 * 1024 ||
        (msg_id && (!*msg_id || strlen(msg_id) > 200))) {
        snprintf(err, errlen, "bad subject, payload or message id");
        return VT_INVALID_ARGUMENT;
    }
    jsCtx *js = js_new(bus);
    if (!js) {
        snprintf(err, errlen, "out of memory for a JetStream context");
        return VT_UNAVAILABLE;
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = timeout_ms > 0 ? timeout_ms : API_WAIT_MS;
    po.MsgId = msg_id;
    jsPubAck *ack = NULL;
    jsErrCode jerr = 0;
    natsMsg *msg = NULL;
    natsStatus s = bus_msg_new(&msg, subject, data, len, vt_trace_current());
    if (s == NATS_OK)
        s = js_PublishMsg(&ack, js, msg, &po, &jerr);
    natsMsg_Destroy(msg);
    jsPubAck_Destroy(ack);
    jsCtx_Destroy(js);
    if (s != NATS_OK) {
        char what[300];
        snprintf(what, sizeof what, "JetStream publish on %s", subject);
        explain(err, errlen, what, s, jerr);
        return VT_UNAVAILABLE;
    }
    return VT_OK;
}

/* ---- consumers ---- */

struct vt_bus_consumer {
    vt_bus *bus;
    vt_bus_consumer_opts opts; /* its strings point into the copies below */
    vt_bus_stream_opts stream;
    char *durable, *subject, *stream_name, *stream_subjects;
    pthread_t thread;
    bool started;
    atomic_bool stopping, attached;
    /* The thread's alone: */
    jsCtx *js;
    natsSubscription *sub;
    uint64_t last_seq; /* the last stream sequence handled (a per-process consumer resumes
                        * after it) */
    int64_t warned_ms;
};

static void warn_limited(vt_bus_consumer *c, const char *why)
{
    int64_t now = vt_now_ms();
    if (now - c->warned_ms < WARN_EVERY_MS)
        return;
    c->warned_ms = now;
    vt_warn(NULL, "jetstream consumer %s of %s: %s; retrying",
            c->durable ? c->durable : "(this process)", c->subject, why);
}

/* Sleep up to ms, waking early on a stop. */
static void pause_ms(vt_bus_consumer *c, int ms)
{
    for (int slept = 0; slept < ms && !atomic_load(&c->stopping); slept += 50)
        usleep(50000);
}

/* Make (or update) the durable consumer on the server. */
static natsStatus durable_ensure(vt_bus_consumer *c, jsErrCode *jerr)
{
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = c->durable;
    cc.FilterSubject = c->subject;
    cc.DeliverPolicy = js_DeliverAll;
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = (int64_t)c->opts.ack_wait_ms * MS_NS;
    cc.MaxDeliver = -1; /* a RETRY waits for the database however long it is away */
    cc.MaxAckPending = 1000;
    natsStatus s = js_AddConsumer(NULL, c->js, c->stream_name, &cc, NULL, jerr);
    if (s != NATS_OK && *jerr == JSConsumerNameExistErr) { /* there, with other settings */
        *jerr = 0;
        s = js_UpdateConsumer(NULL, c->js, c->stream_name, &cc, NULL, jerr);
    }
    return s;
}

static bool attach(vt_bus_consumer *c)
{
    char err[256];
    if (!vt_bus_connected(c->bus)) {
        warn_limited(c, "NATS is disconnected");
        return false;
    }
    if (vt_bus_stream_ensure(c->bus, &c->stream, err, sizeof err) != VT_OK) {
        warn_limited(c, err);
        return false;
    }
    jsErrCode jerr = 0;
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = c->stream_name;
    natsStatus s = NATS_OK;
    if (c->durable) {
        s = durable_ensure(c, &jerr);
        so.Consumer = c->durable; /* bound: nats.c leaves the consumer on the server */
    } else {
        so.Config.AckPolicy = js_AckExplicit;
        so.Config.AckWait = (int64_t)c->opts.ack_wait_ms * MS_NS;
        so.Config.MaxDeliver = -1;
        so.Config.DeliverPolicy = c->last_seq ? js_DeliverByStartSequence : js_DeliverAll;
        so.Config.OptStartSeq = c->last_seq + 1;
        so.Config.InactiveThreshold = 60000 * MS_NS; /* a dead process's goes after a minute */
    }
    if (s == NATS_OK)
        s = js_PullSubscribe(&c->sub, c->js, c->subject, c->durable, NULL, &so, &jerr);
    if (s != NATS_OK) {
        explain(err, sizeof err, "cannot create or bind the consumer", s, jerr);
        warn_limited(c, err);
        c->sub = NULL;
        return false;
    }
    return true;
}

static void detach(vt_bus_consumer *c)
{
    if (!c->sub)
        return;
    natsSubscription_Unsubscribe(c->sub); /* deletes only an ephemeral consumer */
    natsSubscription_Destroy(c->sub);
    c->sub = NULL;
    if (atomic_exchange(&c->attached, false))
        bus_consumers_detached(c->bus, +1);
}

/* The consumer is gone from the server (restart without its store, deleted by hand). */
static bool consumer_lost(vt_bus_consumer *c)
{
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus s = natsSubscription_GetConsumerInfo(&ci, c->sub, NULL, &jerr);
    jsConsumerInfo_Destroy(ci);
    return s == NATS_NOT_FOUND || jerr == JSConsumerNotFoundErr || jerr == JSStreamNotFoundErr;
}

static void handle(vt_bus_consumer *c, natsMsg *msg)
{
    jsMsgMetaData *meta = NULL;
    uint64_t delivered = 1;
    if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
        delivered = meta->NumDelivered ? meta->NumDelivered : 1;
        if (meta->Sequence.Stream > c->last_seq)
            c->last_seq = meta->Sequence.Stream;
        jsMsgMetaData_Destroy(meta);
    }
    vt_trace span;
    const vt_trace *outer = bus_trace_enter(msg, &span);
    vt_bus_verdict v = c->opts.fn(natsMsg_GetSubject(msg), natsMsg_GetData(msg),
                                  (size_t)natsMsg_GetDataLength(msg), c->opts.user);
    vt_log_level level = vt_trace_hop_level(&span);
    if (vt_log_enabled(level))
        vt_log(level, NULL, "bus: consumer %s took %s (delivery %llu): %s",
               c->durable ? c->durable : "of this process", natsMsg_GetSubject(msg),
               (unsigned long long)delivered,
               v == VT_BUS_DONE    ? "done"
               : v == VT_BUS_RETRY ? "retry"
                                   : "rejected");
    vt_trace_set_current(outer);
    if (v == VT_BUS_RETRY) {
        int64_t delay = 250;
        for (uint64_t i = 1; i < delivered && delay < c->opts.retry_max_ms; i++)
            delay *= 2;
        if (delay > c->opts.retry_max_ms)
            delay = c->opts.retry_max_ms;
        natsMsg_NakWithDelay(msg, delay, NULL);
    } else if (v == VT_BUS_REJECT) {
        natsMsg_Term(msg, NULL);
    } else {
        natsMsg_Ack(msg, NULL);
    }
}

static void *consumer_main(void *arg)
{
    vt_bus_consumer *c = arg;
    int errors = 0, idle = 0;
    while (!atomic_load(&c->stopping)) {
        if (!c->sub) {
            if (!attach(c)) {
                pause_ms(c, ATTACH_RETRY_MS);
                continue;
            }
            errors = idle = 0;
            atomic_store(&c->attached, true);
            bus_consumers_detached(c->bus, -1);
            vt_info(NULL, "jetstream consumer %s of %s: attached",
                    c->durable ? c->durable : "(this process)", c->subject);
        }
        natsMsgList list = {0};
        jsErrCode jerr = 0;
        natsStatus s = natsSubscription_Fetch(&list, c->sub, FETCH_BATCH, FETCH_WAIT_MS, &jerr);
        if (s == NATS_OK) {
            errors = idle = 0;
            for (int i = 0; i < list.Count; i++) {
                if (atomic_load(&c->stopping))
                    natsMsg_Nak(list.Msgs[i], NULL); /* to another replica, or the next start */
                else
                    handle(c, list.Msgs[i]);
            }
            natsMsgList_Destroy(&list);
            continue;
        }
        natsMsgList_Destroy(&list);
        if (s == NATS_TIMEOUT && ++idle % IDLE_CHECK_FETCHES != 0)
            continue;
        /* An error, or idle for a while: is the consumer still there? */
        if (vt_bus_connected(c->bus) && (s == NATS_TIMEOUT ? consumer_lost(c) : ++errors >= 3)) {
            warn_limited(c, s == NATS_TIMEOUT ? "the server lost the consumer"
                                              : natsStatus_GetText(s));
            detach(c);
            continue;
        }
        if (s != NATS_TIMEOUT)
            pause_ms(c, 250);
    }
    detach(c);
    return NULL;
}

static void consumer_release(vt_bus_consumer *c)
{
    jsCtx_Destroy(c->js);
    free(c->durable);
    free(c->subject);
    free(c->stream_name);
    free(c->stream_subjects);
    free(c);
}

int vt_bus_consumer_new(vt_bus *bus, const vt_bus_consumer_opts *opts, vt_bus_consumer **out,
                        char *err, size_t errlen)
{
    vt_bus_stream_opts settled;
    if (!bus || !opts || !opts->stream || !opts->fn || !subject_ok(opts->subject) ||
        (opts->durable && !name_ok(opts->durable))) {
        snprintf(err, errlen,
                 "a consumer needs a stream, a subject, a handler and a durable "
                 "name of [A-Za-z0-9_-] (or none)");
        return VT_INVALID_ARGUMENT;
    }
    if (!stream_settings(opts->stream, &settled, err, errlen))
        return VT_INVALID_ARGUMENT;
    vt_bus_consumer *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return VT_RESOURCE_EXHAUSTED;
    }
    c->bus = bus;
    c->opts = *opts;
    c->stream = settled;
    c->durable = opts->durable ? strdup(opts->durable) : NULL;
    c->subject = strdup(opts->subject);
    c->stream_name = strdup(settled.name);
    c->stream_subjects = strdup(settled.subjects);
    c->js = js_new(bus);
    if ((opts->durable && !c->durable) || !c->subject || !c->stream_name || !c->stream_subjects ||
        !c->js) {
        consumer_release(c);
        snprintf(err, errlen, "out of memory");
        return VT_RESOURCE_EXHAUSTED;
    }
    c->opts.durable = c->durable;
    c->opts.subject = c->subject;
    c->opts.stream = &c->stream;
    c->stream.name = c->stream_name;
    c->stream.subjects = c->stream_subjects;
    if (c->opts.ack_wait_ms <= 0)
        c->opts.ack_wait_ms = 30000;
    if (c->opts.retry_max_ms <= 0)
        c->opts.retry_max_ms = 10000;
    bus_consumers_detached(bus, +1);
    if (pthread_create(&c->thread, NULL, consumer_main, c) != 0) {
        bus_consumers_detached(bus, -1);
        consumer_release(c);
        snprintf(err, errlen, "cannot start the consumer thread");
        return VT_RESOURCE_EXHAUSTED;
    }
    c->started = true;
    *out = c;
    return VT_OK;
}

bool vt_bus_consumer_attached(const vt_bus_consumer *c)
{
    return c && atomic_load(&((vt_bus_consumer *)c)->attached);
}

void vt_bus_consumer_free(vt_bus_consumer *c)
{
    if (!c)
        return;
    atomic_store(&c->stopping, true);
    if (c->started)
        pthread_join(c->thread, NULL);
    /* The thread detached (counted +1) or never attached: either way one is ours. */
    bus_consumers_detached(c->bus, -1);
    consumer_release(c);
}
