/*
 * health.c — grpc.health.v1.Health for every server built on libs/rpc.
 *
 * The registry maps names to a declared status. Two kinds of names: services (""
 * for the whole server, and each service added to the server, which start SERVING)
 * and dependencies ("postgres", "nats", ...) that the application reports up or down.
 * What Check answers for a service is its declared status, turned NOT_SERVING while
 * any dependency is down or the server is shutting down; a dependency answers its own
 * state. Unknown names get NOT_FOUND from Check and SERVICE_UNKNOWN from Watch, as the
 * protocol says.
 *
 * Watch is the one streaming method in the library. A watcher sends the current
 * status, then a new message whenever the answer for its name changes. grpc allows one
 * SEND_MESSAGE in flight per call, so a change that arrives while a send is pending
 * just records the latest status (intermediate ones are skipped: the newest status is
 * the only one that matters); the send completion sends it. A RECV_CLOSE_ON_SERVER
 * batch tells us when the client went away. On shutdown every stream is finished with
 * UNAVAILABLE so that clients reconnect elsewhere. A watcher is freed when its close
 * has completed and no batch of its own is pending. One mutex guards everything: the
 * registry is tiny and changes rarely; grpc never runs a completion inline, so starting
 * batches under the lock cannot deadlock.
 *
 * The two messages (HealthCheckRequest {string service = 1}, HealthCheckResponse
 * {ServingStatus status = 1}) are coded by hand here rather than taken from the
 * generated proto library, so that libs/rpc depends on no generated code and any service
 * gets health for free. The decoder skips unknown fields like any protobuf parser and checks
 * every length against the bytes actually received.
 */
#include <stdlib.h>
#include <string.h>

#include <grpc/slice.h>

#include "rpc_internal.h"

#define NAME_MAX_LEN 200

typedef struct {
    char *name;
    vt_rpc_health_status status;
    bool dependency;
} entry;

typedef struct watcher watcher;
struct watcher {
    rpc_tag send_tag, close_tag, finish_tag;
    rpc_health *h;
    grpc_call *call;
    char service[NAME_MAX_LEN + 1];
    int last_sent; /* -1 before the first */
    int want;      /* latest status to report */
    bool sending, closed, finish_wanted, finish_started, metadata_sent;
    int pending_ops;
    int close_cancelled;
    grpc_byte_buffer *out;
    grpc_slice finish_details;
    watcher *next;
};

struct rpc_health {
    pthread_mutex_t mu;
    entry *entries;
    size_t n, cap;
    bool shutting_down;
    watcher *watchers;
    int live; /* watchers not yet freed (closed ones included) */
};

/* ---- the two health messages ---- */

static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*p >= end)
            return false;
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* HealthCheckRequest -> service name into out (NAME_MAX_LEN + 1 bytes). */
static bool decode_request(const uint8_t *p, size_t len, char *out)
{
    const uint8_t *end = p + len;
    out[0] = '\0';
    while (p < end) {
        uint64_t key, v;
        if (!read_varint(&p, end, &key) || (key >> 3) == 0)
            return false;
        switch (key & 7) {
        case 0:
            if (!read_varint(&p, end, &v))
                return false;
            break;
        case 1:
            if (end - p < 8)
                return false;
            p += 8;
            break;
        case 5:
            if (end - p < 4)
                return false;
            p += 4;
            break;
        case 2:
            if (!read_varint(&p, end, &v) || v > (uint64_t)(end - p))
                return false;
            if ((key >> 3) == 1) {
                if (v > NAME_MAX_LEN || memchr(p, '\0', v))
                    return false;
                memcpy(out, p, v);
                out[v] = '\0';
            }
            p += v;
            break;
        default:
            return false;
        }
    }
    return true;
}

static grpc_byte_buffer *encode_response(vt_rpc_health_status st)
{
    uint8_t buf[2] = {0x08, (uint8_t)st};
    grpc_slice s = grpc_slice_from_copied_buffer((const char *)buf, st ? 2 : 0);
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    return bb;
}

rpc_health *rpc_health_new(void)
{
    rpc_health *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    pthread_mutex_init(&h->mu, NULL);
    rpc_health_set(h, "", VT_RPC_HEALTH_SERVING, false);
    return h;
}

void rpc_health_free(rpc_health *h)
{
    if (!h)
        return;
    /* Every watcher is gone by now: the server's shutdown waited for their calls. */
    for (size_t i = 0; i < h->n; i++)
        free(h->entries[i].name);
    free(h->entries);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

static entry *find(rpc_health *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->entries[i].name, name) == 0)
            return &h->entries[i];
    return NULL;
}

/* The answer for name; caller holds the lock. */
static vt_rpc_health_status effective(rpc_health *h, const char *name)
{
    entry *e = find(h, name);
    if (!e)
        return VT_RPC_HEALTH_SERVICE_UNKNOWN;
    if (e->dependency)
        return e->status;
    if (h->shutting_down)
        return VT_RPC_HEALTH_NOT_SERVING;
    if (e->status != VT_RPC_HEALTH_SERVING)
        return e->status;
    for (size_t i = 0; i < h->n; i++)
        if (h->entries[i].dependency && h->entries[i].status != VT_RPC_HEALTH_SERVING)
            return VT_RPC_HEALTH_NOT_SERVING;
    return VT_RPC_HEALTH_SERVING;
}

static void watcher_maybe_free(watcher *w)
{
    if (!w->closed || w->pending_ops > 0)
        return;
    if (w->out)
        grpc_byte_buffer_destroy(w->out);
    if (w->finish_started)
        grpc_slice_unref(w->finish_details);
    grpc_call_unref(w->call);
    w->h->live--;
    free(w);
}

static void start_finish(watcher *w)
{
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    op.data.send_status_from_server.status = GRPC_STATUS_UNAVAILABLE;
    w->finish_details = grpc_slice_from_static_string("server shutting down");
    op.data.send_status_from_server.status_details = &w->finish_details;
    w->finish_started = true;
    if (grpc_call_start_batch(w->call, &op, 1, &w->finish_tag, NULL) == GRPC_CALL_OK)
        w->pending_ops++;
}

/* Sends w->want when it differs from what the client last saw; lock held. */
static void pump(watcher *w)
{
    if (w->sending || w->closed || w->finish_started)
        return;
    if (w->want == w->last_sent) {
        /* The latest status is out: now the stream may end, if it should. */
        if (w->finish_wanted)
            start_finish(w);
        return;
    }
    w->out = encode_response((vt_rpc_health_status)w->want);
    grpc_op ops[2];
    memset(ops, 0, sizeof ops);
    size_t n = 0;
    if (!w->metadata_sent) {
        ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
        w->metadata_sent = true;
    }
    ops[n].op = GRPC_OP_SEND_MESSAGE;
    ops[n].data.send_message.send_message = w->out;
    n++;
    if (grpc_call_start_batch(w->call, ops, n, &w->send_tag, NULL) != GRPC_CALL_OK) {
        grpc_byte_buffer_destroy(w->out);
        w->out = NULL;
        return;
    }
    w->last_sent = w->want;
    w->sending = true;
    w->pending_ops++;
}

static void on_watch_sent(rpc_tag *tag, bool ok)
{
    watcher *w = container_of(tag, watcher, send_tag);
    rpc_health *h = w->h;
    pthread_mutex_lock(&h->mu);
    w->sending = false;
    w->pending_ops--;
    grpc_byte_buffer_destroy(w->out);
    w->out = NULL;
    if (ok)
        pump(w);
    watcher_maybe_free(w);
    pthread_mutex_unlock(&h->mu);
}

static void on_watch_finished(rpc_tag *tag, bool ok)
{
    (void)ok;
    watcher *w = container_of(tag, watcher, finish_tag);
    rpc_health *h = w->h;
    pthread_mutex_lock(&h->mu);
    w->pending_ops--;
    watcher_maybe_free(w);
    pthread_mutex_unlock(&h->mu);
}

static void on_watch_closed(rpc_tag *tag, bool ok)
{
    (void)ok;
    watcher *w = container_of(tag, watcher, close_tag);
    rpc_health *h = w->h;
    pthread_mutex_lock(&h->mu);
    for (watcher **p = &h->watchers; *p; p = &(*p)->next) {
        if (*p == w) {
            *p = w->next;
            break;
        }
    }
    w->closed = true;
    w->pending_ops--;
    watcher_maybe_free(w);
    pthread_mutex_unlock(&h->mu);
}

static void notify_all(rpc_health *h)
{
    for (watcher *w = h->watchers; w; w = w->next) {
        w->want = (int)effective(h, w->service);
        pump(w);
    }
}

void rpc_health_watch_begin(rpc_health *h, grpc_call *call, grpc_byte_buffer *payload)
{
    watcher *w = calloc(1, sizeof *w);
    if (!w) {
        grpc_call_cancel(call, NULL);
        grpc_call_unref(call);
        if (payload)
            grpc_byte_buffer_destroy(payload);
        return;
    }
    w->h = h;
    w->call = call;
    w->last_sent = -1;
    w->send_tag.fn = on_watch_sent;
    w->close_tag.fn = on_watch_closed;
    w->finish_tag.fn = on_watch_finished;
    bool bad = true;
    if (payload) {
        grpc_slice in = rpc_buffer_flatten(payload);
        grpc_byte_buffer_destroy(payload);
        bad = !decode_request(GRPC_SLICE_START_PTR(in), GRPC_SLICE_LENGTH(in), w->service);
        grpc_slice_unref(in);
    }

    pthread_mutex_lock(&h->mu);
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    op.data.recv_close_on_server.cancelled = &w->close_cancelled;
    if (grpc_call_start_batch(call, &op, 1, &w->close_tag, NULL) != GRPC_CALL_OK) {
        pthread_mutex_unlock(&h->mu);
        grpc_call_cancel(call, NULL);
        grpc_call_unref(call);
        free(w);
        return;
    }
    w->pending_ops++;
    h->live++;
    w->next = h->watchers;
    h->watchers = w;
    if (bad) {
        /* Not a HealthCheckRequest: end the stream with INVALID_ARGUMENT. */
        grpc_op fin[2];
        memset(fin, 0, sizeof fin);
        fin[0].op = GRPC_OP_SEND_INITIAL_METADATA;
        fin[1].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
        fin[1].data.send_status_from_server.status = GRPC_STATUS_INVALID_ARGUMENT;
        w->finish_details = grpc_slice_from_static_string("request is not a HealthCheckRequest");
        fin[1].data.send_status_from_server.status_details = &w->finish_details;
        w->finish_started = true;
        if (grpc_call_start_batch(call, fin, 2, &w->finish_tag, NULL) == GRPC_CALL_OK)
            w->pending_ops++;
    } else if (h->shutting_down) {
        w->finish_wanted = true;
        w->want = VT_RPC_HEALTH_NOT_SERVING;
        pump(w); /* sends NOT_SERVING first, then the status */
    } else {
        w->want = (int)effective(h, w->service);
        pump(w);
    }
    pthread_mutex_unlock(&h->mu);
}

void rpc_health_shutdown(rpc_health *h)
{
    pthread_mutex_lock(&h->mu);
    h->shutting_down = true;
    notify_all(h);
    for (watcher *w = h->watchers; w; w = w->next) {
        w->finish_wanted = true;
        pump(w);
    }
    pthread_mutex_unlock(&h->mu);
}

void rpc_health_add_service(rpc_health *h, const char *service)
{
    pthread_mutex_lock(&h->mu);
    bool known = find(h, service) != NULL;
    pthread_mutex_unlock(&h->mu);
    if (!known)
        rpc_health_set(h, service, VT_RPC_HEALTH_SERVING, false);
}

void rpc_health_set(rpc_health *h, const char *name, vt_rpc_health_status st, bool dependency)
{
    if (!name || strlen(name) > NAME_MAX_LEN)
        return;
    pthread_mutex_lock(&h->mu);
    entry *e = find(h, name);
    if (!e) {
        if (h->n == h->cap) {
            size_t cap = h->cap ? h->cap * 2 : 8;
            entry *es = realloc(h->entries, cap * sizeof *es);
            if (!es) {
                pthread_mutex_unlock(&h->mu);
                return;
            }
            h->entries = es;
            h->cap = cap;
        }
        e = &h->entries[h->n];
        e->name = strdup(name);
        if (!e->name) {
            pthread_mutex_unlock(&h->mu);
            return;
        }
        h->n++;
    }
    e->status = st;
    e->dependency = dependency;
    notify_all(h);
    pthread_mutex_unlock(&h->mu);
}

int rpc_health_live_watchers(rpc_health *h)
{
    pthread_mutex_lock(&h->mu);
    int n = h->live;
    pthread_mutex_unlock(&h->mu);
    return n;
}

vt_rpc_health_status rpc_health_get(rpc_health *h, const char *name)
{
    pthread_mutex_lock(&h->mu);
    vt_rpc_health_status st = effective(h, name);
    pthread_mutex_unlock(&h->mu);
    return st;
}

int rpc_health_check(rpc_health *h, vt_rpc_ctx *ctx, const uint8_t *req, size_t len,
                     grpc_byte_buffer **response)
{
    char service[NAME_MAX_LEN + 1];
    if (!decode_request(req, len, service))
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT, "request is not a HealthCheckRequest");
    vt_rpc_health_status st = rpc_health_get(h, service);
    if (st == VT_RPC_HEALTH_SERVICE_UNKNOWN)
        return vt_rpc_ctx_error(ctx, VT_NOT_FOUND, "unknown service \"%s\"", service);
    *response = encode_response(st);
    return VT_OK;
}
