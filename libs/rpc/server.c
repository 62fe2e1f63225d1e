/*
 * server.c — the gRPC server: a method table, one completion queue, a pool of workers.
 *
 * Every method is registered with grpc core up front (grpc_server_register_method with
 * READ_INITIAL_BYTE_BUFFER), so a call arrives with its request message already read and
 * a unary call costs two queue events: "call arrived", and "response sent". For each
 * method the server keeps requests_per_method calls requested from grpc at all times
 * (each arrival requests its replacement before running the handler), so concurrency is
 * bounded by the workers, not by grpc. Paths nobody registered come in through a few
 * unregistered requests and are answered UNIMPLEMENTED.
 *
 * Workers share one queue, one of them at a time taking events from it (it has the
 * turn, take_turn) and running whatever tag comes out. A handler runs on the worker that
 * took the arrival. Before a handler that may block (its method is not
 * VT_RPC_NONBLOCKING, or it calls vt_rpc_ctx_will_block) the worker passes the turn, so
 * another worker serves meanwhile; afterwards it waits for the turn again. The worker
 * with the turn holds the responses it writes and pushes them when it runs out of ready
 * events (held_writes.c).
 *
 * Client cancellation reaches a handler through a RECV_CLOSE_ON_SERVER batch, started
 * the first time the handler asks (vt_rpc_ctx_cancelled): when it completes with
 * "cancelled" the call's flag flips. Deadline and shutdown need no batch (the deadline
 * is compared, shutdown sets a flag). A handler that never asks, which is most of them,
 * gets RECV_CLOSE_ON_SERVER in its response batch instead: one batch and one queue event
 * less per call (7 % of the user-space instructions of a unary call, docs/benchmarks.md).
 *
 * A call object is shared by its pending operations (the close batch when started, the
 * response batch) and freed by whichever completes last (refs).
 *
 * Shutdown: health turns NOT_SERVING and ends Watch streams; grpc_server_shutdown_and_
 * notify stops accepting and fails the requested-but-unused calls; we wait for its tag
 * up to the grace period, then grpc_server_cancel_all_calls (and our own "force" flag for
 * handlers that are busy and have not yet seen their close event); when the tag arrives,
 * the queue is shut down, the workers drain it to GRPC_QUEUE_SHUTDOWN and exit.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <grpc/grpc_security.h>
#include <grpc/slice.h>

#include "rpc_internal.h"

#define MAX_THREADS 256
#define UNREGISTERED_REQUESTS 4
#define CALL_INLINE_ARENA 2048
#define USER_ID_MAX 256
/* How long calls may still run on a connection told to go away for its age. */
#define MAX_CONNECTION_AGE_GRACE_MS 30000

typedef enum { METHOD_UNARY, METHOD_HEALTH_CHECK, METHOD_HEALTH_WATCH } method_kind;

typedef struct {
    char *path;
    const ProtobufCMessageDescriptor *input, *output;
    vt_rpc_handler handler;
    void *user;
    method_kind kind;
    unsigned flags;   /* VT_RPC_NONBLOCKING */
    void *registered; /* grpc's handle */
} method;

typedef struct {
    vt_rpc_server *srv;
    int index;
    void *user;
    pthread_t thread;
    bool has_turn; /* this worker is the one taking events (see take_turn) */
} worker;

struct vt_rpc_ctx {
    vt_rpc_server *srv;
    const method *m;
    worker *w;
    rpc_arena *arena;
    const grpc_metadata_array *md_in;
    gpr_timespec deadline;
    const atomic_int *cancelled;
    char request_id[130];
    const char *user_id;
    const char *peer; /* the caller's name from its certificate; NULL without TLS */
    vt_trace trace;   /* this call's span, a child of the caller's traceparent */
    vt_log_ctx log;
    char *message;
    rpc_md_out initial, trailing;
};

typedef struct server_call {
    rpc_tag request_tag, close_tag, done_tag;
    vt_rpc_server *srv;
    method *m; /* NULL: an unregistered request */
    grpc_call *call;
    gpr_timespec deadline;
    grpc_metadata_array md;
    grpc_byte_buffer *payload;
    grpc_call_details details; /* unregistered only */
    atomic_int refs;
    atomic_int cancelled;
    int close_cancelled; /* written by grpc for RECV_CLOSE_ON_SERVER */
    bool close_watched;  /* the close batch was started (handler thread only) */
    grpc_slice status_slice;
    bool has_status_slice;
    grpc_byte_buffer *response;
    rpc_arena arena;
    vt_rpc_ctx ctx;
    max_align_t inline_arena[CALL_INLINE_ARENA / sizeof(max_align_t)];
} server_call;

struct vt_rpc_server {
    vt_rpc_server_opts opts;
    grpc_server *server;
    grpc_server_credentials *creds; /* mTLS; NULL: plaintext */
    grpc_completion_queue *cq;
    method *methods;
    size_t n_methods, cap_methods;
    worker *workers;
    rpc_health *health;
    rpc_tag shutdown_tag;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_mutex_t turn_mu; /* the turn to take events: turn_taken, turn_cv */
    pthread_cond_t turn_cv;
    bool turn_taken;
    bool started, shutdown_called, shutdown_done, stopped;
    atomic_bool shutting_down;
    atomic_bool force_cancel;
    atomic_int live_calls; /* arrived calls not yet released (grpc's tag can come first) */
};

static void request_next(vt_rpc_server *srv, method *m);

/* ---- ctx ---- */

int64_t vt_rpc_ctx_remaining_ms(const vt_rpc_ctx *ctx)
{
    return rpc_deadline_remaining_ms(ctx->deadline);
}

static void watch_close(server_call *sc);

bool vt_rpc_ctx_cancelled(const vt_rpc_ctx *ctx)
{
    /* The context is the caller's view of the call; watching for the client's close is
     * the call's own state, which only this handler's thread touches until it returns. */
    watch_close(container_of((vt_rpc_ctx *)ctx, server_call, ctx));
    return atomic_load(ctx->cancelled) || atomic_load(&ctx->srv->force_cancel) ||
           vt_rpc_ctx_remaining_ms(ctx) <= 0;
}

const char *vt_rpc_ctx_request_id(const vt_rpc_ctx *ctx)
{
    return ctx->request_id;
}

const char *vt_rpc_ctx_user_id(const vt_rpc_ctx *ctx)
{
    return ctx->user_id;
}

const vt_log_ctx *vt_rpc_ctx_log(const vt_rpc_ctx *ctx)
{
    return &ctx->log;
}

const vt_trace *vt_rpc_ctx_trace(const vt_rpc_ctx *ctx)
{
    return &ctx->trace;
}

const char *vt_rpc_ctx_method(const vt_rpc_ctx *ctx)
{
    return ctx->m->path;
}

const char *vt_rpc_ctx_peer(const vt_rpc_ctx *ctx)
{
    return ctx->peer;
}

const char *vt_rpc_ctx_metadata(vt_rpc_ctx *ctx, const char *key)
{
    size_t klen = strlen(key);
    for (size_t i = 0; i < ctx->md_in->count; i++) {
        const grpc_metadata *md = &ctx->md_in->metadata[i];
        if (GRPC_SLICE_LENGTH(md->key) == klen &&
            memcmp(GRPC_SLICE_START_PTR(md->key), key, klen) == 0)
            return rpc_arena_strndup(ctx->arena, (const char *)GRPC_SLICE_START_PTR(md->value),
                                     GRPC_SLICE_LENGTH(md->value));
    }
    return NULL;
}

int vt_rpc_ctx_worker_index(const vt_rpc_ctx *ctx)
{
    return ctx->w->index;
}

void *vt_rpc_ctx_worker(const vt_rpc_ctx *ctx)
{
    return ctx->w->user;
}

static void set_message_v(vt_rpc_ctx *ctx, const char *fmt, va_list ap)
{
    char buf[1024];
    vsnprintf(buf, sizeof buf, fmt, ap);
    ctx->message = vt_rpc_ctx_strdup(ctx, buf);
}

void vt_rpc_ctx_set_message(vt_rpc_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_message_v(ctx, fmt, ap);
    va_end(ap);
}

int vt_rpc_ctx_error(vt_rpc_ctx *ctx, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_message_v(ctx, fmt, ap);
    va_end(ap);
    return code;
}

int vt_rpc_ctx_add_initial_metadata(vt_rpc_ctx *ctx, const char *key, const char *value)
{
    return rpc_md_out_add(&ctx->initial, key, value);
}

int vt_rpc_ctx_add_trailing_metadata(vt_rpc_ctx *ctx, const char *key, const char *value)
{
    return rpc_md_out_add(&ctx->trailing, key, value);
}

void *vt_rpc_ctx_alloc(vt_rpc_ctx *ctx, size_t size)
{
    return rpc_arena_alloc(ctx->arena, size);
}

char *vt_rpc_ctx_strdup(vt_rpc_ctx *ctx, const char *text)
{
    return rpc_arena_strndup(ctx->arena, text, strlen(text));
}

ProtobufCAllocator *vt_rpc_ctx_allocator(vt_rpc_ctx *ctx)
{
    return &ctx->arena->pb;
}

int64_t vt_rpc_ctx_downstream_timeout_ms(const vt_rpc_ctx *ctx, int64_t cap_ms)
{
    int64_t left = vt_rpc_ctx_remaining_ms(ctx);
    if (cap_ms > 0 && left > cap_ms)
        return cap_ms;
    return left;
}

/* ---- calls ---- */

static void call_release(server_call *sc)
{
    if (atomic_fetch_sub(&sc->refs, 1) != 1)
        return;
    if (sc->call) {
        grpc_call_unref(sc->call);
        atomic_fetch_sub(&sc->srv->live_calls, 1);
    }
    grpc_metadata_array_destroy(&sc->md);
    if (!sc->m)
        grpc_call_details_destroy(&sc->details);
    if (sc->payload)
        grpc_byte_buffer_destroy(sc->payload);
    if (sc->response)
        grpc_byte_buffer_destroy(sc->response);
    if (sc->has_status_slice)
        grpc_slice_unref(sc->status_slice);
    rpc_md_out_release(&sc->ctx.initial);
    rpc_md_out_release(&sc->ctx.trailing);
    rpc_arena_release(&sc->arena);
    free(sc);
}

static void on_close(rpc_tag *tag, bool ok)
{
    server_call *sc = container_of(tag, server_call, close_tag);
    if (!ok || sc->close_cancelled)
        atomic_store(&sc->cancelled, 1);
    call_release(sc);
}

static void on_done(rpc_tag *tag, bool ok)
{
    (void)ok; /* a failed send means the client went away: nothing left to do */
    server_call *sc = container_of(tag, server_call, done_tag);
    call_release(sc);
}

/* From the handler's first vt_rpc_ctx_cancelled on, the client's cancellation flips the
 * call's flag (on_close). */
static void watch_close(server_call *sc)
{
    if (sc->close_watched)
        return;
    sc->close_watched = true;
    atomic_fetch_add(&sc->refs, 1);
    grpc_op close_op;
    memset(&close_op, 0, sizeof close_op);
    close_op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    close_op.data.recv_close_on_server.cancelled = &sc->close_cancelled;
    sc->close_tag.fn = on_close;
    if (grpc_call_start_batch(sc->call, &close_op, 1, &sc->close_tag, NULL) != GRPC_CALL_OK)
        call_release(sc);
}

/* Sends initial metadata, the response when there is one, and the status; receives the
 * client's close unless the handler already watches for it. */
static void finish_call(server_call *sc, int code, const char *message)
{
    grpc_op ops[4];
    memset(ops, 0, sizeof ops);
    size_t n = 0;
    if (!sc->close_watched) {
        ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
        ops[n].data.recv_close_on_server.cancelled = &sc->close_cancelled;
        n++;
    }
    ops[n].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[n].data.send_initial_metadata.count = sc->ctx.initial.count;
    ops[n].data.send_initial_metadata.metadata = sc->ctx.initial.items;
    n++;
    if (code == VT_OK && sc->response) {
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n].data.send_message.send_message = sc->response;
        n++;
    }
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.status = (grpc_status_code)code;
    ops[n].data.send_status_from_server.trailing_metadata_count = sc->ctx.trailing.count;
    ops[n].data.send_status_from_server.trailing_metadata = sc->ctx.trailing.items;
    if (message && *message) {
        sc->status_slice = grpc_slice_from_copied_string(message);
        sc->has_status_slice = true;
        ops[n].data.send_status_from_server.status_details = &sc->status_slice;
    }
    n++;
    sc->done_tag.fn = on_done;
    if (grpc_call_start_batch(sc->call, ops, n, &sc->done_tag, NULL) != GRPC_CALL_OK) {
        vt_error(&sc->ctx.log, "rpc: cannot send the response of %s", sc->m->path);
        call_release(sc);
    }
}

static void ctx_init(server_call *sc, worker *w)
{
    vt_rpc_ctx *ctx = &sc->ctx;
    ctx->srv = sc->srv;
    ctx->m = sc->m;
    ctx->w = w;
    ctx->arena = &sc->arena;
    ctx->md_in = &sc->md;
    ctx->deadline = sc->deadline;
    ctx->cancelled = &sc->cancelled;
    if (!rpc_md_find(&sc->md, VT_RPC_MD_REQUEST_ID, ctx->request_id, sizeof ctx->request_id) ||
        !vt_request_id_sane(ctx->request_id))
        vt_request_id_new(ctx->request_id);
    char user[USER_ID_MAX];
    ctx->user_id = NULL;
    if (rpc_md_find(&sc->md, VT_RPC_MD_USER_ID, user, sizeof user) && user[0])
        ctx->user_id = vt_rpc_ctx_strdup(ctx, user);
    /* Each call is a span of its own: the caller's trace continued, or a new one when
     * the caller sent none (or a malformed one). */
    char traceparent[VT_TRACEPARENT_LEN + 1];
    bool has_traceparent =
        rpc_md_find(&sc->md, VT_TRACEPARENT_HEADER, traceparent, sizeof traceparent);
    vt_trace_start(has_traceparent ? traceparent : NULL, has_traceparent ? strlen(traceparent) : 0,
                   &ctx->trace);
    ctx->log.request_id = ctx->request_id;
    ctx->log.user_id = ctx->user_id;
    ctx->log.trace = &ctx->trace;
    ctx->message = NULL;
    /* The caller learns the request id that its call is logged under. */
    rpc_md_out_add(&ctx->initial, VT_RPC_MD_REQUEST_ID, ctx->request_id);
}

/* With mTLS: who calls, and whether the allow-list lets it make this call. A refused
 * call is answered here, PERMISSION_DENIED, and no handler sees it. */
static bool caller_allowed(server_call *sc)
{
    vt_rpc_ctx *ctx = &sc->ctx;
    ctx->peer = rpc_peer_name(sc->call, &sc->arena);
    char why[400];
    if (rpc_allowed(sc->srv->opts.allow, sc->m->path, ctx->peer, ctx->user_id != NULL, why,
                    sizeof why))
        return true;
    vt_warn(&ctx->log, "rpc: refused: %s", why);
    finish_call(sc, VT_PERMISSION_DENIED, why);
    return false;
}

static int run_handler(server_call *sc)
{
    vt_rpc_ctx *ctx = &sc->ctx;
    const method *m = sc->m;
    if (!sc->payload)
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT, "no request message");
    grpc_slice in = rpc_buffer_flatten(sc->payload);
    if (m->kind == METHOD_HEALTH_CHECK) {
        int code = rpc_health_check(m->user, ctx, GRPC_SLICE_START_PTR(in), GRPC_SLICE_LENGTH(in),
                                    &sc->response);
        grpc_slice_unref(in);
        return code;
    }
    ProtobufCMessage *req = protobuf_c_message_unpack(
        m->input, &sc->arena.pb, GRPC_SLICE_LENGTH(in), GRPC_SLICE_START_PTR(in));
    grpc_slice_unref(in);
    if (!req)
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT, "request is not a valid %s",
                                m->input->name);
    ProtobufCMessage *resp = vt_rpc_ctx_alloc(ctx, m->output->sizeof_message);
    m->output->message_init(resp);
    int code = m->handler(ctx, req, resp, m->user);
    if (code < 0 || code >= VT_STATUS_COUNT) {
        vt_error(&ctx->log, "rpc: %s returned status %d", m->path, code);
        return vt_rpc_ctx_error(ctx, VT_UNKNOWN, "handler returned an invalid status");
    }
    if (code != VT_OK)
        return code;
    if (!protobuf_c_message_check(resp)) {
        vt_error(&ctx->log, "rpc: %s produced an invalid %s", m->path, m->output->name);
        return vt_rpc_ctx_error(ctx, VT_INTERNAL, "invalid response message");
    }
    size_t size = 0;
    sc->response = rpc_message_pack(resp, sc->srv->opts.max_message_bytes, &size);
    if (!sc->response)
        return vt_rpc_ctx_error(ctx, VT_RESOURCE_EXHAUSTED,
                                "response of %zu bytes exceeds the limit of %zu", size,
                                sc->srv->opts.max_message_bytes);
    return VT_OK;
}

static __thread worker *current_worker;

/* Sends what this worker held back and writes through from here (held_writes.c). */
static void stop_holding_writes(void)
{
    rpc_writes_push();
    rpc_writes_hold(false);
}

/* One worker at a time takes events from the queue: it has the turn. Non-blocking
 * handlers run on it one after the other, as on a single thread, with no wake-ups
 * between workers (grpc core hands its poller role to another waiting worker each time
 * one returns with events: two workers on this server cost more CPU per call than
 * one). A worker about to run a handler that may block passes the turn first, so
 * another takes over the queue and a slow handler never holds up the calls behind it. */
static void take_turn(worker *w)
{
    vt_rpc_server *srv = w->srv;
    pthread_mutex_lock(&srv->turn_mu);
    while (srv->turn_taken)
        pthread_cond_wait(&srv->turn_cv, &srv->turn_mu);
    srv->turn_taken = true;
    pthread_mutex_unlock(&srv->turn_mu);
    w->has_turn = true;
}

static void pass_turn(worker *w)
{
    vt_rpc_server *srv = w->srv;
    w->has_turn = false;
    pthread_mutex_lock(&srv->turn_mu);
    srv->turn_taken = false;
    pthread_cond_signal(&srv->turn_cv);
    pthread_mutex_unlock(&srv->turn_mu);
}

/* Before anything that may block on a worker: its held responses go out, and the turn
 * goes to another worker. */
static void before_blocking(worker *w)
{
    stop_holding_writes();
    if (w->has_turn)
        pass_turn(w);
}

void vt_rpc_ctx_will_block(vt_rpc_ctx *ctx)
{
    if (current_worker && ctx->w == current_worker)
        before_blocking(current_worker);
}

static void on_request(rpc_tag *tag, bool ok)
{
    server_call *sc = container_of(tag, server_call, request_tag);
    vt_rpc_server *srv = sc->srv;
    if (!ok) { /* shutdown: the request was never matched */
        call_release(sc);
        return;
    }
    atomic_fetch_add(&srv->live_calls, 1);
    request_next(srv, sc->m);

    if (!sc->m) { /* unregistered path */
        char path[256];
        size_t n = GRPC_SLICE_LENGTH(sc->details.method);
        if (n >= sizeof path)
            n = sizeof path - 1;
        memcpy(path, GRPC_SLICE_START_PTR(sc->details.method), n);
        path[n] = '\0';
        grpc_op ops[3];
        memset(ops, 0, sizeof ops);
        ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
        ops[1].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
        ops[1].data.recv_close_on_server.cancelled = &sc->close_cancelled;
        ops[2].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
        ops[2].data.send_status_from_server.status = GRPC_STATUS_UNIMPLEMENTED;
        char msg[320];
        snprintf(msg, sizeof msg, "unknown method %s", path);
        sc->status_slice = grpc_slice_from_copied_string(msg);
        sc->has_status_slice = true;
        ops[2].data.send_status_from_server.status_details = &sc->status_slice;
        sc->done_tag.fn = on_done;
        if (grpc_call_start_batch(sc->call, ops, 3, &sc->done_tag, NULL) != GRPC_CALL_OK)
            call_release(sc);
        return;
    }

    ctx_init(sc, current_worker);
    if (srv->creds && !caller_allowed(sc))
        return;
    if (sc->m->kind == METHOD_HEALTH_WATCH) {
        rpc_health_watch_begin(srv->health, sc->call, sc->payload);
        atomic_fetch_sub(&srv->live_calls, 1); /* counted by health from here */
        sc->call = NULL;
        sc->payload = NULL;
        call_release(sc);
        return;
    }

    if (!(sc->m->flags & VT_RPC_NONBLOCKING))
        before_blocking(current_worker);
    /* A non-blocking handler's response joins the worker's held writes; after
     * before_blocking the worker no longer holds, and its response goes straight out. */
    /* The call's span is the thread's while the handler runs: its log lines, the calls
     * it makes and the events it publishes carry it (the outbox rows too). */
    const vt_trace *outer = vt_trace_set_current(&sc->ctx.trace);
    int code = run_handler(sc);
    vt_trace_set_current(outer);
    vt_log_level level = vt_trace_hop_level(&sc->ctx.trace);
    if (vt_log_enabled(level) && code != VT_CANCELLED && code != VT_DEADLINE_EXCEEDED)
        vt_log(level, &sc->ctx.log, "rpc: %s -> %s %s", sc->m->path, vt_status_name(code),
               sc->ctx.message ? sc->ctx.message : "");
    finish_call(sc, code, sc->ctx.message);
}

static void request_next(vt_rpc_server *srv, method *m)
{
    if (atomic_load(&srv->shutting_down))
        return;
    /* Zero everything but the inline arena (most of the object), which the arena hands
     * out uninitialised anyway. */
    server_call *sc = malloc(sizeof *sc);
    if (!sc) {
        vt_error(NULL, "rpc: out of memory requesting a call");
        return;
    }
    memset(sc, 0, offsetof(server_call, inline_arena));
    sc->srv = srv;
    sc->m = m;
    atomic_init(&sc->refs, 1);
    atomic_init(&sc->cancelled, 0);
    sc->request_tag.fn = on_request;
    grpc_metadata_array_init(&sc->md);
    rpc_arena_init(&sc->arena, sc->inline_arena, sizeof sc->inline_arena);
    grpc_call_error err;
    if (m) {
        err = grpc_server_request_registered_call(srv->server, m->registered, &sc->call,
                                                  &sc->deadline, &sc->md, &sc->payload, srv->cq,
                                                  srv->cq, &sc->request_tag);
    } else {
        grpc_call_details_init(&sc->details);
        err = grpc_server_request_call(srv->server, &sc->call, &sc->details, &sc->md, srv->cq,
                                       srv->cq, &sc->request_tag);
    }
    if (err != GRPC_CALL_OK) {
        sc->call = NULL;
        call_release(sc);
    }
}

/* ---- workers ---- */

static void *worker_main(void *arg)
{
    worker *w = arg;
    vt_rpc_server *srv = w->srv;
    current_worker = w;
    if (srv->opts.worker_init)
        w->user = srv->opts.worker_init(w->index, srv->opts.worker_arg);
    /* Ready events are taken without blocking, holding the responses they produce
     * (held_writes.c); when none is left, the held responses go out in one push per
     * connection and the worker blocks with writes going straight out, so that what
     * grpc writes while this thread polls (pings, window updates) is never held. A
     * worker that keeps finding work ready pushes what it held 0.5 ms ago. */
    for (;;) {
        if (!w->has_turn) /* passed on for a handler that may block; it holds nothing */
            take_turn(w);
        rpc_writes_hold(true);
        grpc_event ev =
            grpc_completion_queue_next(srv->cq, gpr_inf_past(GPR_CLOCK_MONOTONIC), NULL);
        if (ev.type == GRPC_QUEUE_TIMEOUT) {
            stop_holding_writes();
            ev = grpc_completion_queue_next(srv->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
            rpc_writes_hold(true); /* for the run of work this event starts */
        }
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            break;
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        rpc_tag *tag = ev.tag;
        tag->fn(tag, ev.success != 0);
        rpc_writes_push_stale();
    }
    before_blocking(w); /* the next worker sees the shutdown too */
    if (srv->opts.worker_fini)
        srv->opts.worker_fini(w->index, w->user, srv->opts.worker_arg);
    current_worker = NULL;
    return NULL;
}

static void on_shutdown(rpc_tag *tag, bool ok)
{
    (void)ok;
    vt_rpc_server *srv = container_of(tag, vt_rpc_server, shutdown_tag);
    pthread_mutex_lock(&srv->mu);
    srv->shutdown_done = true;
    pthread_cond_broadcast(&srv->cv);
    pthread_mutex_unlock(&srv->mu);
}

/* ---- server ---- */

static int add_method(vt_rpc_server *srv, const char *path, const ProtobufCMessageDescriptor *in,
                      const ProtobufCMessageDescriptor *out, vt_rpc_handler handler, void *user,
                      method_kind kind, unsigned flags)
{
    if (srv->started)
        return VT_FAILED_PRECONDITION;
    for (size_t i = 0; i < srv->n_methods; i++)
        if (strcmp(srv->methods[i].path, path) == 0)
            return VT_ALREADY_EXISTS;
    if (srv->n_methods == srv->cap_methods) {
        size_t cap = srv->cap_methods ? srv->cap_methods * 2 : 8;
        method *ms = realloc(srv->methods, cap * sizeof *ms);
        if (!ms)
            return VT_RESOURCE_EXHAUSTED;
        srv->methods = ms;
        srv->cap_methods = cap;
    }
    method *m = &srv->methods[srv->n_methods];
    memset(m, 0, sizeof *m);
    m->path = strdup(path);
    if (!m->path)
        return VT_RESOURCE_EXHAUSTED;
    m->input = in;
    m->output = out;
    m->handler = handler;
    m->user = user;
    m->kind = kind;
    m->flags = flags;
    m->registered = grpc_server_register_method(srv->server, path, NULL,
                                                GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER, 0);
    if (!m->registered) {
        free(m->path);
        return VT_INTERNAL;
    }
    srv->n_methods++;
    return 0;
}

/* A unary method of svc, with its flags (VT_RPC_NONBLOCKING). */
static int add_unary_method(vt_rpc_server *srv, const ProtobufCServiceDescriptor *svc,
                            const char *method_name, vt_rpc_handler handler, void *user,
                            unsigned flags)
{
    const ProtobufCMethodDescriptor *md = rpc_service_method(svc, method_name);
    if (!md || !handler)
        return VT_INVALID_ARGUMENT;
    char path[512];
    int rc = vt_rpc_method_path(svc, method_name, path, sizeof path);
    if (rc)
        return rc;
    pthread_mutex_lock(&srv->mu);
    rc = add_method(srv, path, md->input, md->output, handler, user, METHOD_UNARY,
                    flags & VT_RPC_NONBLOCKING);
    pthread_mutex_unlock(&srv->mu);
    if (rc == 0)
        rpc_health_add_service(srv->health, svc->name);
    return rc;
}

int vt_rpc_server_add_method(vt_rpc_server *srv, const ProtobufCServiceDescriptor *svc,
                             const char *method_name, vt_rpc_handler handler, void *user)
{
    return add_unary_method(srv, svc, method_name, handler, user, 0);
}

int vt_rpc_server_add_service(vt_rpc_server *srv, const ProtobufCServiceDescriptor *svc,
                              const vt_rpc_method_entry *table, void *user)
{
    for (const vt_rpc_method_entry *e = table; e->method; e++) {
        int rc =
            add_unary_method(srv, svc, e->method, e->handler, e->user ? e->user : user, e->flags);
        if (rc)
            return rc;
    }
    return 0;
}

int vt_rpc_server_new(const vt_rpc_server_opts *opts, vt_rpc_server **out, char *err, size_t errlen)
{
    vt_rpc_server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        snprintf(err, errlen, "out of memory");
        return VT_RESOURCE_EXHAUSTED;
    }
    if (opts)
        srv->opts = *opts;
    if (srv->opts.threads <= 0)
        srv->opts.threads = 2;
    if (srv->opts.threads > MAX_THREADS)
        srv->opts.threads = MAX_THREADS;
    if (srv->opts.max_message_bytes == 0)
        srv->opts.max_message_bytes = VT_RPC_DEFAULT_MAX_MESSAGE;
    if (srv->opts.max_message_bytes > INT32_MAX)
        srv->opts.max_message_bytes = INT32_MAX;
    if (srv->opts.requests_per_method <= 0)
        srv->opts.requests_per_method = 2 * srv->opts.threads + 8;
    pthread_mutex_init(&srv->mu, NULL);
    pthread_mutex_init(&srv->turn_mu, NULL);
    pthread_cond_init(&srv->turn_cv, NULL);
    vt_cond_init_monotonic(&srv->cv);
    atomic_init(&srv->shutting_down, false);
    atomic_init(&srv->force_cancel, false);
    atomic_init(&srv->live_calls, 0);
    srv->shutdown_tag.fn = on_shutdown;

    rpc_grpc_init();
    if (srv->opts.tls) {
        srv->creds = rpc_tls_server_credentials(srv->opts.tls);
        srv->opts.tls = NULL; /* borrowed: the credentials hold what they need */
        if (!srv->creds) {
            vt_rpc_server_free(srv);
            snprintf(err, errlen, "grpc cannot create TLS credentials");
            return VT_INTERNAL;
        }
    }
    /* No SO_REUSEPORT (grpc core sets it by default): a second process on a port that is
     * taken must fail to listen, not silently take a share of the connections. The
     * connection-age pair comes last, left out when ages are off. */
    grpc_arg args[5] = {
        rpc_int_arg(GRPC_ARG_ALLOW_REUSEPORT, 0),
        rpc_int_arg(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, (int)srv->opts.max_message_bytes),
        rpc_int_arg(GRPC_ARG_MAX_SEND_MESSAGE_LENGTH, (int)srv->opts.max_message_bytes),
        rpc_int_arg(GRPC_ARG_MAX_CONNECTION_AGE_MS, srv->opts.max_connection_age_ms),
        rpc_int_arg(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS, MAX_CONNECTION_AGE_GRACE_MS),
    };
    grpc_channel_args cargs = {.num_args = srv->opts.max_connection_age_ms > 0 ? 5 : 3,
                               .args = args};
    srv->server = grpc_server_create(&cargs, NULL);
    srv->cq = grpc_completion_queue_create_for_next(NULL);
    srv->health = rpc_health_new();
    if (!srv->server || !srv->cq || !srv->health) {
        vt_rpc_server_free(srv);
        snprintf(err, errlen, "grpc cannot create a server");
        return VT_INTERNAL;
    }
    grpc_server_register_completion_queue(srv->server, srv->cq, NULL);
    /* Health messages are coded by hand in health.c, so that this library does not
     * depend on generated code. */
    int rc = add_method(srv, "/grpc.health.v1.Health/Check", NULL, NULL, NULL, srv->health,
                        METHOD_HEALTH_CHECK, VT_RPC_NONBLOCKING);
    if (rc == 0)
        rc = add_method(srv, "/grpc.health.v1.Health/Watch", NULL, NULL, NULL, srv->health,
                        METHOD_HEALTH_WATCH, VT_RPC_NONBLOCKING);
    if (rc) {
        vt_rpc_server_free(srv);
        snprintf(err, errlen, "cannot register the health service");
        return rc;
    }
    *out = srv;
    return VT_OK;
}

int vt_rpc_server_listen(vt_rpc_server *srv, const char *addr, int *port_out)
{
    if (srv->started)
        return VT_FAILED_PRECONDITION;
    grpc_server_credentials *creds =
        srv->creds ? srv->creds : grpc_insecure_server_credentials_create();
    int port = grpc_server_add_http2_port(srv->server, addr, creds);
    if (creds != srv->creds)
        grpc_server_credentials_release(creds);
    if (port <= 0) {
        vt_error(NULL, "rpc: cannot listen on %s", addr);
        return VT_UNAVAILABLE;
    }
    if (port_out)
        *port_out = port;
    return 0;
}

int vt_rpc_server_start(vt_rpc_server *srv)
{
    pthread_mutex_lock(&srv->mu);
    if (srv->started || srv->shutdown_called) {
        pthread_mutex_unlock(&srv->mu);
        return VT_FAILED_PRECONDITION;
    }
    srv->started = true;
    pthread_mutex_unlock(&srv->mu);

    grpc_server_start(srv->server);
    for (size_t i = 0; i < srv->n_methods; i++)
        for (int k = 0; k < srv->opts.requests_per_method; k++)
            request_next(srv, &srv->methods[i]);
    for (int k = 0; k < UNREGISTERED_REQUESTS; k++)
        request_next(srv, NULL);

    srv->workers = calloc((size_t)srv->opts.threads, sizeof *srv->workers);
    if (!srv->workers)
        abort();
    for (int i = 0; i < srv->opts.threads; i++) {
        srv->workers[i].srv = srv;
        srv->workers[i].index = i;
        if (pthread_create(&srv->workers[i].thread, NULL, worker_main, &srv->workers[i]) != 0) {
            vt_error(NULL, "rpc: cannot start worker %d", i);
            abort();
        }
    }
    return 0;
}

static bool wait_shutdown(vt_rpc_server *srv, int64_t grace_ms)
{
    struct timespec until = vt_monotonic_deadline(grace_ms * 1000000);
    pthread_mutex_lock(&srv->mu);
    while (!srv->shutdown_done)
        if (pthread_cond_timedwait(&srv->cv, &srv->mu, &until) != 0)
            break;
    bool done = srv->shutdown_done;
    pthread_mutex_unlock(&srv->mu);
    return done;
}

void vt_rpc_server_shutdown(vt_rpc_server *srv, int64_t grace_ms)
{
    pthread_mutex_lock(&srv->mu);
    if (srv->shutdown_called || !srv->started) {
        pthread_mutex_unlock(&srv->mu);
        return;
    }
    srv->shutdown_called = true;
    pthread_mutex_unlock(&srv->mu);

    atomic_store(&srv->shutting_down, true);
    rpc_health_shutdown(srv->health);
    grpc_server_shutdown_and_notify(srv->server, srv->cq, &srv->shutdown_tag);
    if (grace_ms < 0)
        grace_ms = 0;
    if (!wait_shutdown(srv, grace_ms)) {
        vt_info(NULL, "rpc: grace period of %lld ms over, cancelling calls in flight",
                (long long)grace_ms);
        atomic_store(&srv->force_cancel, true);
        grpc_server_cancel_all_calls(srv->server);
        while (!wait_shutdown(srv, 1000))
            ;
    }
    /* grpc reports shutdown once its calls are cancelled, but a handler may still be
     * running and about to send its (doomed) response on the queue: wait for every call
     * object and Watch stream to be released before shutting the queue down. */
    while (atomic_load(&srv->live_calls) > 0 || rpc_health_live_watchers(srv->health) > 0) {
        struct timespec ts = {.tv_nsec = 2000000};
        nanosleep(&ts, NULL);
    }
    grpc_completion_queue_shutdown(srv->cq);
    for (int i = 0; i < srv->opts.threads; i++)
        pthread_join(srv->workers[i].thread, NULL);
    pthread_mutex_lock(&srv->mu);
    srv->stopped = true;
    pthread_mutex_unlock(&srv->mu);
}

void vt_rpc_server_free(vt_rpc_server *srv)
{
    if (!srv)
        return;
    if (srv->started) {
        vt_rpc_server_shutdown(srv, 0);
    } else if (srv->cq) {
        /* Never started (or half built): grpc still wants a completed shutdown before
         * destroy, and nobody else serves the queue, so drain it here. */
        if (srv->server)
            grpc_server_shutdown_and_notify(srv->server, srv->cq, &srv->shutdown_tag);
        grpc_completion_queue_shutdown(srv->cq);
        while (grpc_completion_queue_next(srv->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
               GRPC_QUEUE_SHUTDOWN)
            ;
    }
    if (srv->server)
        grpc_server_destroy(srv->server);
    if (srv->cq)
        grpc_completion_queue_destroy(srv->cq);
    if (srv->creds)
        grpc_server_credentials_release(srv->creds);
    rpc_health_free(srv->health);
    for (size_t i = 0; i < srv->n_methods; i++)
        free(srv->methods[i].path);
    free(srv->methods);
    free(srv->workers);
    pthread_cond_destroy(&srv->cv);
    pthread_mutex_destroy(&srv->mu);
    pthread_cond_destroy(&srv->turn_cv);
    pthread_mutex_destroy(&srv->turn_mu);
    free(srv);
    grpc_shutdown();
}

void vt_rpc_health_set(vt_rpc_server *srv, const char *service, vt_rpc_health_status status)
{
    rpc_health_set(srv->health, service ? service : "", status, false);
}

void vt_rpc_health_set_dependency(vt_rpc_server *srv, const char *dependency, bool up)
{
    rpc_health_set(srv->health, dependency, up ? VT_RPC_HEALTH_SERVING : VT_RPC_HEALTH_NOT_SERVING,
                   true);
}

vt_rpc_health_status vt_rpc_health_get(vt_rpc_server *srv, const char *service)
{
    return rpc_health_get(srv->health, service ? service : "");
}
