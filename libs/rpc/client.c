/*
 * client.c — unary calls: blocking, and asynchronous with a callback.
 *
 * A vt_rpc_channel wraps one grpc channel (grpc multiplexes every call over its HTTP/2
 * connection and reconnects by itself), plus what the async path needs: a completion
 * queue served by async_threads threads, which run the callbacks, and one timer thread
 * that holds async calls waiting to be retried.
 *
 * A call is one batch of six ops (send metadata, message, close; receive metadata,
 * message, status). The request is encoded once into a slice and re-sent as is on each
 * attempt. A blocking call waits on its own pluck queue, so any number of threads can
 * call at once without sharing a queue (grpc caps the pluckers of one queue).
 *
 * Deadlines are absolute from the start: retries share the caller's budget, they do not
 * extend it. Retries happen only for calls marked idempotent and only on UNAVAILABLE
 * (the server was not reached or went away, so nothing ran or running twice is safe);
 * the pause before attempt n is drawn from [b/2, b] with b = initial * 2^(n-1) capped at
 * backoff_max ("equal jitter"), so a fleet of clients does not retry in lockstep, and
 * no retry starts when its pause would end past the deadline.
 *
 * Async ownership: the call object holds one reference for the operation and one for
 * the caller's handle, if asked for; whichever is dropped last frees it. Cancellation
 * and completion meet under the channel lock: the grpc call pointer is cleared there
 * before it is released, so a cancel never touches a released call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <grpc/grpc_security.h>
#include <grpc/slice.h>

#include "rpc_internal.h"

/* The least time one connection attempt is given (GRPC_ARG_MIN_RECONNECT_BACKOFF_MS). */
#define RPC_CONNECT_TIMEOUT_MS 2000
#define MAX_ASYNC_THREADS 64

typedef struct {
    char *key, *value;
} md_copy;

struct vt_rpc_reply {
    int status;
    char *message;
    ProtobufCMessage *response;
    void *bytes;
    size_t len;
    md_copy *md;
    size_t n_md;
    int attempts;
};

typedef struct client_call client_call;

struct vt_rpc_channel {
    grpc_channel *channel;
    char *target;
    vt_rpc_channel_opts opts;
    grpc_completion_queue *cq;
    pthread_t *threads;
    pthread_t timer;
    pthread_mutex_t mu;
    pthread_cond_t cv;       /* outstanding reached 0 */
    pthread_cond_t timer_cv; /* timer list changed */
    client_call *active;     /* async calls not yet completed */
    size_t outstanding;
    bool closing, timer_stop;
};

struct client_call {
    rpc_tag tag;
    vt_rpc_channel *ch;
    grpc_call *call;
    grpc_slice path;
    grpc_slice request;
    grpc_byte_buffer *req_bb;
    const ProtobufCMessageDescriptor *resp_desc;
    rpc_md_out md;
    gpr_timespec deadline;
    bool idempotent;
    int attempts, max_attempts, backoff_initial_ms, backoff_max_ms;
    /* receive side of the current attempt */
    grpc_metadata_array init_md, trail_md;
    grpc_byte_buffer *resp_bb;
    grpc_status_code status;
    grpc_slice details;
    bool attempt_live;
    /* async only */
    vt_rpc_done_fn done;
    void *user;
    int refs;
    bool cancelled, waiting_retry;
    int64_t retry_at_ns;
    client_call *prev, *next;
};

struct vt_rpc_async {
    client_call cc;
};

/* ---- replies ---- */

int vt_rpc_reply_status(const vt_rpc_reply *r)
{
    return r->status;
}

const char *vt_rpc_reply_message(const vt_rpc_reply *r)
{
    return r->message ? r->message : "";
}

const ProtobufCMessage *vt_rpc_reply_response(const vt_rpc_reply *r)
{
    return r->response;
}

ProtobufCMessage *vt_rpc_reply_take_response(vt_rpc_reply *r)
{
    ProtobufCMessage *m = r->response;
    r->response = NULL;
    return m;
}

const void *vt_rpc_reply_bytes(const vt_rpc_reply *r, size_t *len)
{
    if (len)
        *len = r->len;
    return r->bytes;
}

const char *vt_rpc_reply_metadata(const vt_rpc_reply *r, const char *key)
{
    for (size_t i = 0; i < r->n_md; i++)
        if (strcmp(r->md[i].key, key) == 0)
            return r->md[i].value;
    return NULL;
}

int vt_rpc_reply_attempts(const vt_rpc_reply *r)
{
    return r->attempts;
}

void vt_rpc_reply_free(vt_rpc_reply *r)
{
    if (!r)
        return;
    free(r->message);
    if (r->response)
        protobuf_c_message_free_unpacked(r->response, NULL);
    free(r->bytes);
    for (size_t i = 0; i < r->n_md; i++) {
        free(r->md[i].key);
        free(r->md[i].value);
    }
    free(r->md);
    free(r);
}

static char *slice_strdup(grpc_slice s)
{
    size_t n = GRPC_SLICE_LENGTH(s);
    char *p = malloc(n + 1);
    if (!p)
        abort();
    memcpy(p, GRPC_SLICE_START_PTR(s), n);
    p[n] = '\0';
    return p;
}

static void copy_md(vt_rpc_reply *r, const grpc_metadata_array *a)
{
    if (a->count == 0)
        return;
    md_copy *md = realloc(r->md, (r->n_md + a->count) * sizeof *md);
    if (!md)
        abort();
    r->md = md;
    for (size_t i = 0; i < a->count; i++) {
        r->md[r->n_md].key = slice_strdup(a->metadata[i].key);
        r->md[r->n_md].value = slice_strdup(a->metadata[i].value);
        r->n_md++;
    }
}

static vt_rpc_reply *reply_local(int status, const char *message, int attempts)
{
    vt_rpc_reply *r = calloc(1, sizeof *r);
    if (!r)
        abort();
    r->status = status;
    r->message = strdup(message ? message : "");
    r->attempts = attempts;
    return r;
}

/* Builds the reply of the attempt that just completed. */
static vt_rpc_reply *reply_from_attempt(client_call *cc)
{
    vt_rpc_reply *r = calloc(1, sizeof *r);
    if (!r)
        abort();
    r->status = (int)cc->status;
    if (r->status < 0 || r->status >= VT_STATUS_COUNT)
        r->status = VT_UNKNOWN;
    r->message = slice_strdup(cc->details);
    r->attempts = cc->attempts;
    copy_md(r, &cc->init_md);
    copy_md(r, &cc->trail_md);
    if (r->status != VT_OK)
        return r;
    if (!cc->resp_bb) {
        free(r->message);
        r->message = strdup("server sent no response message");
        r->status = VT_INTERNAL;
        return r;
    }
    grpc_slice s = rpc_buffer_flatten(cc->resp_bb);
    size_t n = GRPC_SLICE_LENGTH(s);
    if (cc->resp_desc) {
        r->response = protobuf_c_message_unpack(cc->resp_desc, NULL, n, GRPC_SLICE_START_PTR(s));
        if (!r->response) {
            free(r->message);
            r->message = strdup("response does not decode");
            r->status = VT_INTERNAL;
        }
    } else {
        r->bytes = malloc(n ? n : 1);
        if (!r->bytes)
            abort();
        memcpy(r->bytes, GRPC_SLICE_START_PTR(s), n);
        r->len = n;
    }
    grpc_slice_unref(s);
    return r;
}

/* ---- attempts ---- */

static int start_attempt(client_call *cc, grpc_completion_queue *cq)
{
    cc->attempts++;
    cc->call = grpc_channel_create_call(cc->ch->channel, NULL, GRPC_PROPAGATE_DEFAULTS, cq,
                                        cc->path, NULL, cc->deadline, NULL);
    if (!cc->call)
        return VT_INTERNAL;
    grpc_metadata_array_init(&cc->init_md);
    grpc_metadata_array_init(&cc->trail_md);
    cc->resp_bb = NULL;
    cc->details = grpc_empty_slice();
    cc->status = GRPC_STATUS_UNKNOWN;
    cc->req_bb = grpc_raw_byte_buffer_create(&cc->request, 1);
    cc->attempt_live = true;

    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = cc->md.count;
    ops[0].data.send_initial_metadata.metadata = cc->md.items;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = cc->req_bb;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &cc->init_md;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &cc->resp_bb;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &cc->trail_md;
    ops[5].data.recv_status_on_client.status = &cc->status;
    ops[5].data.recv_status_on_client.status_details = &cc->details;
    if (grpc_call_start_batch(cc->call, ops, 6, &cc->tag, NULL) != GRPC_CALL_OK)
        return VT_INTERNAL;
    return 0;
}

/* Releases the per-attempt state after its completion was taken. */
static void end_attempt(client_call *cc, grpc_call *call)
{
    if (!cc->attempt_live)
        return;
    cc->attempt_live = false;
    if (call)
        grpc_call_unref(call);
    grpc_metadata_array_destroy(&cc->init_md);
    grpc_metadata_array_destroy(&cc->trail_md);
    if (cc->resp_bb)
        grpc_byte_buffer_destroy(cc->resp_bb);
    cc->resp_bb = NULL;
    grpc_slice_unref(cc->details);
    grpc_byte_buffer_destroy(cc->req_bb);
    cc->req_bb = NULL;
}

/* The pause before the next attempt, or -1 when there must be no next attempt. */
static int64_t retry_pause_ms(const client_call *cc, int status)
{
    if (!cc->idempotent || status != VT_UNAVAILABLE || cc->attempts >= cc->max_attempts)
        return -1;
    int64_t b = cc->backoff_initial_ms;
    for (int i = 1; i < cc->attempts && b < cc->backoff_max_ms; i++)
        b *= 2;
    if (b > cc->backoff_max_ms)
        b = cc->backoff_max_ms;
    uint32_t r;
    vt_random_bytes(&r, sizeof r);
    int64_t pause = b / 2 + (int64_t)(r % (uint32_t)(b / 2 + 1));
    if (pause >= rpc_deadline_remaining_ms(cc->deadline))
        return -1;
    return pause;
}

/* Fills everything but the receive state; 0 or a status. */
static int call_prepare(client_call *cc, vt_rpc_channel *ch, const char *path,
                        const ProtobufCMessage *req, const void *raw, size_t raw_len,
                        const ProtobufCMessageDescriptor *resp_desc, const vt_rpc_call_opts *o,
                        char *err, size_t errlen)
{
    vt_rpc_call_opts dflt;
    memset(&dflt, 0, sizeof dflt);
    if (!o)
        o = &dflt;
    cc->ch = ch;
    cc->resp_desc = resp_desc;
    cc->idempotent = o->idempotent;
    cc->max_attempts = o->max_attempts > 0 ? o->max_attempts : 5;
    cc->backoff_initial_ms = o->backoff_initial_ms > 0 ? o->backoff_initial_ms : 50;
    cc->backoff_max_ms = o->backoff_max_ms > 0 ? o->backoff_max_ms : 1000;
    if (cc->backoff_max_ms < cc->backoff_initial_ms)
        cc->backoff_max_ms = cc->backoff_initial_ms;

    int64_t timeout = o->timeout_ms > 0 ? o->timeout_ms : VT_RPC_DEFAULT_TIMEOUT_MS;
    const char *request_id = o->request_id, *user_id = o->user_id;
    if (o->parent) {
        int64_t left = vt_rpc_ctx_remaining_ms(o->parent);
        if (o->timeout_ms <= 0 || left < timeout)
            timeout = left;
        if (!request_id)
            request_id = vt_rpc_ctx_request_id(o->parent);
        if (!user_id)
            user_id = vt_rpc_ctx_user_id(o->parent);
    }
    if (timeout <= 0) {
        snprintf(err, errlen, "deadline already passed before the call to %s", path);
        return VT_DEADLINE_EXCEEDED;
    }
    cc->deadline =
        timeout == INT64_MAX ? gpr_inf_future(GPR_CLOCK_MONOTONIC) : rpc_deadline_in_ms(timeout);

    char generated[VT_REQUEST_ID_LEN + 1];
    if (!request_id) {
        vt_request_id_new(generated);
        request_id = generated;
    }
    int rc = rpc_md_out_add(&cc->md, VT_RPC_MD_REQUEST_ID, request_id);
    if (rc == 0 && user_id && *user_id)
        rc = rpc_md_out_add(&cc->md, VT_RPC_MD_USER_ID, user_id);
    const vt_trace *trace = o->trace    ? o->trace
                            : o->parent ? vt_rpc_ctx_trace(o->parent)
                                        : vt_trace_current();
    if (rc == 0 && trace) {
        char traceparent[VT_TRACEPARENT_LEN + 1];
        vt_trace_format(trace, traceparent);
        rc = rpc_md_out_add(&cc->md, VT_TRACEPARENT_HEADER, traceparent);
    }
    for (size_t i = 0; rc == 0 && i < o->metadata_count; i++)
        rc = rpc_md_out_add(&cc->md, o->metadata[i].key, o->metadata[i].value);
    if (rc) {
        snprintf(err, errlen, "invalid request metadata");
        return VT_INVALID_ARGUMENT;
    }

    if (req) {
        size_t n = protobuf_c_message_get_packed_size(req);
        if (n > ch->opts.max_message_bytes) {
            snprintf(err, errlen, "request of %zu bytes exceeds the limit of %zu", n,
                     ch->opts.max_message_bytes);
            return VT_RESOURCE_EXHAUSTED;
        }
        cc->request = grpc_slice_malloc(n);
        protobuf_c_message_pack(req, GRPC_SLICE_START_PTR(cc->request));
    } else {
        cc->request = grpc_slice_from_copied_buffer(raw, raw_len);
    }
    cc->path = grpc_slice_from_copied_string(path);
    return 0;
}

static void call_cleanup(client_call *cc)
{
    grpc_slice_unref(cc->path);
    grpc_slice_unref(cc->request);
    rpc_md_out_release(&cc->md);
}

/* ---- blocking ---- */

static int call_blocking(vt_rpc_channel *ch, const char *path, const ProtobufCMessage *req,
                         const void *raw, size_t raw_len,
                         const ProtobufCMessageDescriptor *resp_desc, const vt_rpc_call_opts *opts,
                         vt_rpc_reply **out)
{
    client_call cc;
    memset(&cc, 0, sizeof cc);
    char err[256];
    cc.path = grpc_empty_slice();
    cc.request = grpc_empty_slice();
    int rc = call_prepare(&cc, ch, path, req, raw, raw_len, resp_desc, opts, err, sizeof err);
    if (rc) {
        call_cleanup(&cc);
        *out = reply_local(rc, err, 0);
        return rc;
    }
    grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
    vt_rpc_reply *r = NULL;
    for (;;) {
        if (start_attempt(&cc, cq) != 0) {
            end_attempt(&cc, cc.call);
            r = reply_local(VT_INTERNAL, "cannot start the call", cc.attempts);
            break;
        }
        grpc_completion_queue_pluck(cq, &cc.tag, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        int64_t pause = retry_pause_ms(&cc, (int)cc.status);
        if (pause < 0) {
            r = reply_from_attempt(&cc);
            end_attempt(&cc, cc.call);
            break;
        }
        end_attempt(&cc, cc.call);
        struct timespec ts = {.tv_sec = pause / 1000, .tv_nsec = (pause % 1000) * 1000000};
        while (nanosleep(&ts, &ts) != 0)
            ;
    }
    grpc_completion_queue_shutdown(cq);
    grpc_completion_queue_destroy(cq);
    call_cleanup(&cc);
    *out = r;
    return r->status;
}

int vt_rpc_call_unary(vt_rpc_channel *ch, const ProtobufCServiceDescriptor *svc, const char *method,
                      const ProtobufCMessage *req, const vt_rpc_call_opts *opts,
                      vt_rpc_reply **reply)
{
    const ProtobufCMethodDescriptor *md = rpc_service_method(svc, method);
    char path[512];
    if (!md || vt_rpc_method_path(svc, method, path, sizeof path) != 0) {
        *reply = reply_local(VT_INVALID_ARGUMENT, "unknown method", 0);
        return VT_INVALID_ARGUMENT;
    }
    if (!req || req->descriptor != md->input) {
        *reply = reply_local(VT_INVALID_ARGUMENT, "request is not the method's input type", 0);
        return VT_INVALID_ARGUMENT;
    }
    return call_blocking(ch, path, req, NULL, 0, md->output, opts, reply);
}

int vt_rpc_call_raw(vt_rpc_channel *ch, const char *path, const void *data, size_t len,
                    const vt_rpc_call_opts *opts, vt_rpc_reply **reply)
{
    if (!path || path[0] != '/' || (!data && len)) {
        *reply = reply_local(VT_INVALID_ARGUMENT, "bad path or data", 0);
        return VT_INVALID_ARGUMENT;
    }
    return call_blocking(ch, path, NULL, data ? data : "", len, NULL, opts, reply);
}

/* ---- async ---- */

static void async_release(client_call *cc)
{
    vt_rpc_channel *ch = cc->ch;
    pthread_mutex_lock(&ch->mu);
    bool last = --cc->refs == 0;
    pthread_mutex_unlock(&ch->mu);
    if (!last)
        return;
    call_cleanup(cc);
    free(container_of(cc, vt_rpc_async, cc));
}

/* Delivers the reply and retires the call; no attempt is live. */
static void async_complete(client_call *cc, vt_rpc_reply *r)
{
    vt_rpc_channel *ch = cc->ch;
    pthread_mutex_lock(&ch->mu);
    if (cc->prev)
        cc->prev->next = cc->next;
    else
        ch->active = cc->next;
    if (cc->next)
        cc->next->prev = cc->prev;
    cc->prev = cc->next = NULL;
    pthread_mutex_unlock(&ch->mu);

    cc->done(r, cc->user);

    pthread_mutex_lock(&ch->mu);
    if (--ch->outstanding == 0)
        pthread_cond_broadcast(&ch->cv);
    pthread_mutex_unlock(&ch->mu);
    async_release(cc);
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void on_async_done(rpc_tag *tag, bool ok)
{
    (void)ok; /* RECV_STATUS_ON_CLIENT always completes with a status */
    client_call *cc = container_of(tag, client_call, tag);
    vt_rpc_channel *ch = cc->ch;
    pthread_mutex_lock(&ch->mu);
    grpc_call *call = cc->call;
    cc->call = NULL;
    bool cancelled = cc->cancelled;
    pthread_mutex_unlock(&ch->mu);

    int64_t pause = cancelled ? -1 : retry_pause_ms(cc, (int)cc->status);
    if (pause < 0) {
        vt_rpc_reply *r = reply_from_attempt(cc);
        end_attempt(cc, call);
        async_complete(cc, r);
        return;
    }
    end_attempt(cc, call);
    pthread_mutex_lock(&ch->mu);
    cc->retry_at_ns = mono_ns() + pause * 1000000;
    cc->waiting_retry = true;
    pthread_cond_signal(&ch->timer_cv);
    pthread_mutex_unlock(&ch->mu);
}

static void async_attempt(client_call *cc)
{
    vt_rpc_channel *ch = cc->ch;
    pthread_mutex_lock(&ch->mu);
    if (cc->cancelled) {
        pthread_mutex_unlock(&ch->mu);
        async_complete(cc, reply_local(VT_CANCELLED, "cancelled", cc->attempts));
        return;
    }
    int rc = start_attempt(cc, ch->cq);
    pthread_mutex_unlock(&ch->mu);
    if (rc != 0) {
        grpc_call *call = cc->call;
        cc->call = NULL;
        end_attempt(cc, call);
        async_complete(cc, reply_local(VT_INTERNAL, "cannot start the call", cc->attempts));
    }
}

/* Holds async calls between attempts; also flushes cancelled ones promptly. */
static void *timer_main(void *arg)
{
    vt_rpc_channel *ch = arg;
    pthread_mutex_lock(&ch->mu);
    while (!ch->timer_stop) {
        int64_t now = mono_ns(), next = INT64_MAX;
        client_call *due = NULL;
        for (client_call *cc = ch->active; cc; cc = cc->next) {
            if (!cc->waiting_retry)
                continue;
            if (cc->cancelled || cc->retry_at_ns <= now) {
                due = cc;
                break;
            }
            if (cc->retry_at_ns < next)
                next = cc->retry_at_ns;
        }
        if (due) {
            due->waiting_retry = false;
            pthread_mutex_unlock(&ch->mu);
            async_attempt(due);
            pthread_mutex_lock(&ch->mu);
            continue;
        }
        if (next == INT64_MAX) {
            pthread_cond_wait(&ch->timer_cv, &ch->mu);
        } else {
            struct timespec until = vt_monotonic_deadline(next - now);
            pthread_cond_timedwait(&ch->timer_cv, &ch->mu, &until);
        }
    }
    pthread_mutex_unlock(&ch->mu);
    return NULL;
}

static void *queue_main(void *arg)
{
    vt_rpc_channel *ch = arg;
    for (;;) {
        grpc_event ev =
            grpc_completion_queue_next(ch->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            break;
        if (ev.type == GRPC_OP_COMPLETE) {
            rpc_tag *tag = ev.tag;
            tag->fn(tag, ev.success != 0);
        }
    }
    return NULL;
}

int vt_rpc_call_async(vt_rpc_channel *ch, const ProtobufCServiceDescriptor *svc, const char *method,
                      const ProtobufCMessage *req, const vt_rpc_call_opts *opts,
                      vt_rpc_done_fn done, void *user, vt_rpc_async **handle)
{
    if (handle)
        *handle = NULL;
    const ProtobufCMethodDescriptor *md = rpc_service_method(svc, method);
    char path[512];
    if (!md || !done || !req || req->descriptor != md->input ||
        vt_rpc_method_path(svc, method, path, sizeof path) != 0)
        return VT_INVALID_ARGUMENT;
    vt_rpc_async *a = calloc(1, sizeof *a);
    if (!a)
        return VT_RESOURCE_EXHAUSTED;
    client_call *cc = &a->cc;
    cc->tag.fn = on_async_done;
    cc->path = grpc_empty_slice();
    cc->request = grpc_empty_slice();
    cc->done = done;
    cc->user = user;
    char err[256];
    int rc = call_prepare(cc, ch, path, req, NULL, 0, md->output, opts, err, sizeof err);
    if (rc) {
        call_cleanup(cc);
        free(a);
        return rc;
    }
    pthread_mutex_lock(&ch->mu);
    if (ch->closing) {
        pthread_mutex_unlock(&ch->mu);
        call_cleanup(cc);
        free(a);
        return VT_CANCELLED;
    }
    cc->refs = handle ? 2 : 1;
    cc->next = ch->active;
    if (ch->active)
        ch->active->prev = cc;
    ch->active = cc;
    ch->outstanding++;
    if (handle)
        *handle = a;
    rc = start_attempt(cc, ch->cq);
    if (rc != 0) {
        /* Let the timer thread deliver the failure: done never runs inline. */
        grpc_call *call = cc->call;
        cc->call = NULL;
        end_attempt(cc, call);
        cc->cancelled = true;
        cc->waiting_retry = true;
        pthread_cond_signal(&ch->timer_cv);
    }
    pthread_mutex_unlock(&ch->mu);
    return 0;
}

void vt_rpc_async_cancel(vt_rpc_async *a)
{
    if (!a)
        return;
    client_call *cc = &a->cc;
    vt_rpc_channel *ch = cc->ch;
    pthread_mutex_lock(&ch->mu);
    cc->cancelled = true;
    if (cc->call)
        grpc_call_cancel(cc->call, NULL);
    else if (cc->waiting_retry)
        pthread_cond_signal(&ch->timer_cv);
    pthread_mutex_unlock(&ch->mu);
}

void vt_rpc_async_free(vt_rpc_async *a)
{
    if (a)
        async_release(&a->cc);
}

/* ---- channels ---- */

int vt_rpc_channel_new(const vt_rpc_channel_opts *opts, vt_rpc_channel **out, char *err,
                       size_t errlen)
{
    if (!opts || !opts->target) {
        snprintf(err, errlen, "a channel needs a target");
        return VT_INVALID_ARGUMENT;
    }
    if (opts->tls && (!opts->server_name || !*opts->server_name)) {
        snprintf(err, errlen, "a TLS channel needs the name of the server it calls");
        return VT_INVALID_ARGUMENT;
    }
    const char *target = opts->target;
    const vt_rpc_tls *tls = opts->tls;
    const char *server_name = opts->server_name;
    vt_rpc_channel *ch = calloc(1, sizeof *ch);
    if (!ch) {
        snprintf(err, errlen, "out of memory");
        return VT_RESOURCE_EXHAUSTED;
    }
    ch->opts = *opts;
    if (ch->opts.async_threads <= 0)
        ch->opts.async_threads = 1;
    if (ch->opts.async_threads > MAX_ASYNC_THREADS)
        ch->opts.async_threads = MAX_ASYNC_THREADS;
    if (ch->opts.max_message_bytes == 0 || ch->opts.max_message_bytes > INT32_MAX)
        ch->opts.max_message_bytes =
            ch->opts.max_message_bytes ? INT32_MAX : VT_RPC_DEFAULT_MAX_MESSAGE;
    if (ch->opts.reconnect_backoff_max_ms <= 0)
        ch->opts.reconnect_backoff_max_ms = 1000;
    ch->target = strdup(target);
    if (!ch->target) {
        free(ch);
        snprintf(err, errlen, "out of memory");
        return VT_RESOURCE_EXHAUSTED;
    }
    ch->opts.target = ch->target;
    ch->opts.tls = NULL; /* borrowed: the credentials hold what they need */
    ch->opts.server_name = NULL;
    pthread_mutex_init(&ch->mu, NULL);
    pthread_cond_init(&ch->cv, NULL);
    vt_cond_init_monotonic(&ch->timer_cv);

    rpc_grpc_init();
    int backoff = ch->opts.reconnect_backoff_max_ms;
    grpc_arg args[] = {
        rpc_int_arg(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, (int)ch->opts.max_message_bytes),
        rpc_int_arg(GRPC_ARG_MAX_SEND_MESSAGE_LENGTH, (int)ch->opts.max_message_bytes),
        rpc_int_arg(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, backoff < 100 ? backoff : 100),
        /* Despite its name, grpc core reads this as the least time a connection attempt
         * (TCP, then the HTTP/2 handshake) is given before it is abandoned. At 100 ms, a
         * busy machine (the ASan suite) abandoned good connections ("tcp handshaker
         * shutdown"), and every call failed UNAVAILABLE until the next attempt. A refused
         * connection still fails at once; only a silent peer is waited for this long. */
        rpc_int_arg(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, RPC_CONNECT_TIMEOUT_MS),
        rpc_int_arg(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, backoff),
        /* Every address the name resolves to gets a connection and calls take turns:
         * behind a headless Kubernetes Service that is every ready replica, where
         * grpc's default (pick_first) would send all of them to one. */
        rpc_string_arg(GRPC_ARG_LB_POLICY_NAME, "round_robin"),
    };
    grpc_channel_args cargs = {.num_args = sizeof args / sizeof args[0], .args = args};
    grpc_channel_credentials *creds =
        tls ? rpc_tls_channel_credentials(tls, server_name) : grpc_insecure_credentials_create();
    if (!creds)
        abort();
    ch->channel = grpc_channel_create(target, creds, &cargs);
    grpc_channel_credentials_release(creds);
    ch->cq = grpc_completion_queue_create_for_next(NULL);
    ch->threads = calloc((size_t)ch->opts.async_threads, sizeof *ch->threads);
    if (!ch->channel || !ch->cq || !ch->threads)
        abort();
    for (int i = 0; i < ch->opts.async_threads; i++)
        if (pthread_create(&ch->threads[i], NULL, queue_main, ch) != 0)
            abort();
    if (pthread_create(&ch->timer, NULL, timer_main, ch) != 0)
        abort();
    *out = ch;
    return VT_OK;
}

const char *vt_rpc_channel_target(const vt_rpc_channel *ch)
{
    return ch->target;
}

const char *vt_rpc_channel_state(vt_rpc_channel *ch)
{
    switch (grpc_channel_check_connectivity_state(ch->channel, 1)) {
    case GRPC_CHANNEL_IDLE:
        return "idle";
    case GRPC_CHANNEL_CONNECTING:
        return "connecting";
    case GRPC_CHANNEL_READY:
        return "ready";
    case GRPC_CHANNEL_TRANSIENT_FAILURE:
        return "unavailable";
    default:
        return "shutdown";
    }
}

void vt_rpc_channel_free(vt_rpc_channel *ch)
{
    if (!ch)
        return;
    pthread_mutex_lock(&ch->mu);
    ch->closing = true;
    for (client_call *cc = ch->active; cc; cc = cc->next) {
        cc->cancelled = true;
        if (cc->call)
            grpc_call_cancel(cc->call, NULL);
    }
    pthread_cond_signal(&ch->timer_cv);
    while (ch->outstanding > 0)
        pthread_cond_wait(&ch->cv, &ch->mu);
    ch->timer_stop = true;
    pthread_cond_signal(&ch->timer_cv);
    pthread_mutex_unlock(&ch->mu);
    pthread_join(ch->timer, NULL);

    grpc_channel_destroy(ch->channel);
    grpc_completion_queue_shutdown(ch->cq);
    for (int i = 0; i < ch->opts.async_threads; i++)
        pthread_join(ch->threads[i], NULL);
    grpc_completion_queue_destroy(ch->cq);
    free(ch->threads);
    pthread_cond_destroy(&ch->timer_cv);
    pthread_cond_destroy(&ch->cv);
    pthread_mutex_destroy(&ch->mu);
    free(ch->target);
    free(ch);
    grpc_shutdown();
}
