/*
 * vt_rpc.h — gRPC for Venta services: a server with a method table served by a pool of
 * threads, a client with blocking and asynchronous unary calls, and the standard
 * grpc.health.v1 service. Messages are protobuf-c; the transport is grpc core (the C
 * library under every official gRPC binding). Nothing outside libs/rpc includes a grpc
 * header: the grpc core API changes between releases and this header does not.
 *
 * Server in five lines:
 *
 *     vt_rpc_server *srv;
 *     vt_rpc_server_new(&opts, &srv, err, sizeof err);            // opts may be NULL
 *     vt_rpc_server_add_method(srv, &venta__vendor__v1__vendor_service__descriptor,
 *                              "GetVendor", get_vendor, app);
 *     vt_rpc_server_listen(srv, "127.0.0.1:50052", NULL);
 *     vt_rpc_server_start(srv);
 *     ... vt_rpc_server_shutdown(srv, 5000); vt_rpc_server_free(srv);
 *
 * A handler runs on one of the server's worker threads and may block (a database
 * query): concurrency is the number of workers. It reads the decoded request, fills
 * the pre-initialised response and returns a status code (vt_status, 0 = OK). Memory
 * that the response points to must outlive the handler: take it from the call's arena
 * (vt_rpc_ctx_alloc/_strdup/_allocator), which is released after the response is sent,
 * or point at memory that lives longer (string literals). The server never frees what
 * the response points to.
 *
 * Threads: every function is thread-safe unless noted. Handlers and async callbacks run
 * on threads owned by this library; they must not call vt_rpc_server_shutdown/_free or
 * vt_rpc_channel_free.
 */
#ifndef VT_RPC_H
#define VT_RPC_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vt_core.h"

/* Metadata keys that every call carries (API.md §2), and the W3C trace context
 * (VT_TRACEPARENT_HEADER, "traceparent") of every call made inside a trace. */
#define VT_RPC_MD_REQUEST_ID "x-request-id"
#define VT_RPC_MD_USER_ID "x-user-id"

#define VT_RPC_DEFAULT_MAX_MESSAGE (4 * 1024 * 1024)
#define VT_RPC_DEFAULT_TIMEOUT_MS 10000

/* One metadata entry; both strings are borrowed for the duration of the call. Keys are
 * lower case; binary values ("-bin" keys) are not supported. */
typedef struct {
    const char *key;
    const char *value;
} vt_rpc_md;

/* =========================================================================== tls == */

/* mTLS on every hop (docs/security.md): each process holds a certificate of the mesh CA
 * whose one URI SAN is its SPIFFE id, VT_RPC_SPIFFE_PREFIX + its name
 * ("spiffe://venta/venta-gateway"). A server requires and verifies the client's
 * certificate during the handshake and answers each call by the allow-list below; a
 * client verifies that the server's certificate chains to the CA and names the service
 * it meant to call. The three files are re-read every refresh_s seconds, so a rotated
 * certificate serves new connections without a restart. */
#define VT_RPC_SPIFFE_PREFIX "spiffe://venta/"

typedef struct {
    const char *ca_file;   /* PEM bundle of the mesh CA */
    const char *cert_file; /* this process's certificate (chain), PEM */
    const char *key_file;  /* its private key, PEM */
    int refresh_s;         /* how often the files are checked for changes (default 60) */
} vt_rpc_tls;

/* Reads VENTA_TLS_CA, VENTA_TLS_CERT, VENTA_TLS_KEY and VENTA_TLS_REFRESH_S into *out for
 * the process called name ("venta-vendor"). Returns true when TLS is on: the three
 * files are readable, the key matches the certificate and the certificate carries
 * spiffe://venta/<name>; exits 2 naming the variable otherwise, or when only some of
 * the three are set. Returns false, with one warning in the log, when none is set
 * (development: plaintext gRPC, trust rests on the network). The strings are the
 * environment's. */
bool vt_rpc_tls_from_env(const char *name, vt_rpc_tls *out);

/* One row of a server's allow-list: caller may call method. method is a full path
 * ("/venta.vendor.v1.VendorService/GetVendor"), a whole service, ending in '/'
 * ("/venta.vendor.v1.VendorService/"), or "*" (anything); caller is a name (the SPIFFE
 * id without its prefix) or "*" (any certificate of the mesh); user_id: the call may
 * carry x-user-id. */
typedef struct {
    const char *method;
    const char *caller;
    bool user_id;
} vt_rpc_allow;

/* ======================================================================== server == */

typedef struct vt_rpc_server vt_rpc_server;
/* One call being served; valid only while its handler runs. */
typedef struct vt_rpc_ctx vt_rpc_ctx;

typedef struct {
    /* Worker threads serving the completion queue (default 2, at most 256). */
    int threads;
    /* Largest request and response, bytes (default VT_RPC_DEFAULT_MAX_MESSAGE). A
     * bigger request is rejected with RESOURCE_EXHAUSTED before any handler runs; a
     * bigger response fails the call with RESOURCE_EXHAUSTED. */
    size_t max_message_bytes;
    /* Calls requested from grpc ahead of time per method (default 2 * threads + 8). */
    int requests_per_method;
    /* Connections older than this are asked to go away (GOAWAY; their calls get 30 s
     * more), so that clients dial again, resolve the name again and spread over
     * replicas that started since. 0: never (grpc's default). */
    int max_connection_age_ms;
    /* Optional per-worker state (e.g. one PostgreSQL connection each): worker_init runs
     * on each worker thread before it serves anything, its result is what
     * vt_rpc_ctx_worker returns there, and worker_fini runs on the same thread when the
     * server stops. index is 0..threads-1. */
    void *(*worker_init)(int index, void *arg);
    void (*worker_fini)(int index, void *worker, void *arg);
    void *worker_arg;
    /* Optional, copied by vt_rpc_server_new: listen with mTLS. Every call is then
     * checked against allow (rows up to one whose method is NULL; borrowed, static)
     * before its handler runs, grpc.health.v1 included: a call no row allows is answered
     * PERMISSION_DENIED. NULL allow lets any certificate of the mesh call anything. */
    const vt_rpc_tls *tls;
    const vt_rpc_allow *allow;
} vt_rpc_server_opts;

/* Returns a status code (vt_status). in and out are typed by the method's descriptors:
 * cast to the generated struct types. out is already initialised (message_init). */
typedef int (*vt_rpc_handler)(vt_rpc_ctx *ctx, const ProtobufCMessage *in, ProtobufCMessage *out,
                              void *user);

/* Method flag: the handler answers without waiting on I/O, a lock held across I/O or a
 * sleep (from memory, a queue hand-off). It then runs on the one worker taking events,
 * which keeps its responses in the kernel until it runs out of ready work and sends them
 * in one push (held_writes.c), instead of one write each. A handler of such a method
 * that must wait after all calls vt_rpc_ctx_will_block first; one that blocks without
 * it stalls the whole server meanwhile. Without the flag, the worker pushes what it
 * holds and hands the queue to another worker before the handler runs, so a handler
 * that blocks never delays anyone else. */
#define VT_RPC_NONBLOCKING 1u

typedef struct {
    const char *method; /* short name, e.g. "GetVendor" */
    vt_rpc_handler handler;
    unsigned flags; /* VT_RPC_NONBLOCKING or 0 */
    /* This method's own user pointer; NULL: the one given to add_service. For a caller
     * that wraps each handler with a record of its own (libs/service's metrics). */
    void *user;
} vt_rpc_method_entry;

/* NULL opts means all defaults. 0 with *out set, or VT_RESOURCE_EXHAUSTED (out of
 * memory) / VT_INTERNAL (grpc cannot create a server) with the reason in err. The
 * server registers grpc.health.v1.Health itself. */
int vt_rpc_server_new(const vt_rpc_server_opts *opts, vt_rpc_server **out, char *err,
                      size_t errlen);
/* Shuts down (grace 0) if still running, then releases everything. NULL is a no-op. */
void vt_rpc_server_free(vt_rpc_server *srv);

/* Before start. svc is a protobuf-c service descriptor (borrowed, static); method is its
 * short name; user is passed to the handler. Each service added is reported SERVING by
 * the health service (see vt_rpc_health_set). Returns VT_INVALID_ARGUMENT for an
 * unknown method, VT_ALREADY_EXISTS when added twice, VT_FAILED_PRECONDITION after start. */
int vt_rpc_server_add_method(vt_rpc_server *srv, const ProtobufCServiceDescriptor *svc,
                             const char *method, vt_rpc_handler handler, void *user);
/* Adds every entry of a table terminated by {NULL, NULL, 0, NULL}, with its flags; user goes
 * to the handlers of entries that have none of their own. */
int vt_rpc_server_add_service(vt_rpc_server *srv, const ProtobufCServiceDescriptor *svc,
                              const vt_rpc_method_entry *table, void *user);

/* Before start: listen on "host:port" (port 0 picks a free one; *port_out gets the
 * bound port when non-NULL), with mTLS when opts->tls was given, else plaintext.
 * Returns VT_UNAVAILABLE when the address cannot be bound. */
int vt_rpc_server_listen(vt_rpc_server *srv, const char *addr, int *port_out);
int vt_rpc_server_start(vt_rpc_server *srv);

/* Graceful stop: health turns NOT_SERVING and Watch streams end (UNAVAILABLE), new calls
 * are refused, calls in flight get up to grace_ms to finish; then the remaining ones are
 * cancelled (their handlers see vt_rpc_ctx_cancelled) and the call returns once every
 * handler has returned and the workers have exited. Idempotent. */
void vt_rpc_server_shutdown(vt_rpc_server *srv, int64_t grace_ms);

/* ---- the call context, for handlers ---- */

/* Milliseconds left before the caller's deadline (may be <= 0); INT64_MAX when the
 * caller set none. */
int64_t vt_rpc_ctx_remaining_ms(const vt_rpc_ctx *ctx);
/* True once the client cancelled, the deadline passed or shutdown cancelled the call.
 * Long handlers should poll it and give up early. */
bool vt_rpc_ctx_cancelled(const vt_rpc_ctx *ctx);
/* For a VT_RPC_NONBLOCKING method's handler about to wait (a cache miss going to the
 * database, a sleep): sends the responses its worker is holding back now and hands the
 * queue to another worker. Call it on the handler's own thread; elsewhere, and for other
 * methods, it does nothing. */
void vt_rpc_ctx_will_block(vt_rpc_ctx *ctx);
/* The caller's x-request-id when sane, else one generated for this call; never NULL. */
const char *vt_rpc_ctx_request_id(const vt_rpc_ctx *ctx);
/* The caller's x-user-id, or NULL when absent. */
const char *vt_rpc_ctx_user_id(const vt_rpc_ctx *ctx);
/* For vt_log(..., vt_rpc_ctx_log(ctx), ...): request and user id of this call. */
const vt_log_ctx *vt_rpc_ctx_log(const vt_rpc_ctx *ctx);
/* This call's span: a child of the caller's `traceparent` metadata when it was well
 * formed, else the root of a new trace. It is the handler thread's current span
 * (vt_trace_current) while the handler runs. */
const vt_trace *vt_rpc_ctx_trace(const vt_rpc_ctx *ctx);
/* Full method path, e.g. "/venta.vendor.v1.VendorService/GetVendor". */
const char *vt_rpc_ctx_method(const vt_rpc_ctx *ctx);
/* The caller's name from its certificate ("venta-gateway"), NULL without TLS. */
const char *vt_rpc_ctx_peer(const vt_rpc_ctx *ctx);
/* First value of a request metadata key (lower case), NULL when absent. The string
 * lives in the call arena. */
const char *vt_rpc_ctx_metadata(vt_rpc_ctx *ctx, const char *key);
/* The worker running this handler: its index and what worker_init returned. */
int vt_rpc_ctx_worker_index(const vt_rpc_ctx *ctx);
void *vt_rpc_ctx_worker(const vt_rpc_ctx *ctx);

/* Status message sent with a non-OK code (printf format). */
void vt_rpc_ctx_set_message(vt_rpc_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Sets the message and returns code: `return vt_rpc_ctx_error(ctx, VT_NOT_FOUND, ...)`. */
int vt_rpc_ctx_error(vt_rpc_ctx *ctx, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Response metadata; key and value are copied. Returns VT_INVALID_ARGUMENT for a key
 * grpc would refuse (upper case, reserved "grpc-" prefix, ...). */
int vt_rpc_ctx_add_initial_metadata(vt_rpc_ctx *ctx, const char *key, const char *value);
int vt_rpc_ctx_add_trailing_metadata(vt_rpc_ctx *ctx, const char *key, const char *value);

/* Call arena: freed after the response is sent. Never NULL (aborts on OOM). */
void *vt_rpc_ctx_alloc(vt_rpc_ctx *ctx, size_t size);
char *vt_rpc_ctx_strdup(vt_rpc_ctx *ctx, const char *text);
/* A protobuf-c allocator over the arena, e.g. for protobuf_c_message_unpack. */
ProtobufCAllocator *vt_rpc_ctx_allocator(vt_rpc_ctx *ctx);

/* ---- health (grpc.health.v1) ---- */

typedef enum {
    VT_RPC_HEALTH_UNKNOWN = 0,
    VT_RPC_HEALTH_SERVING = 1,
    VT_RPC_HEALTH_NOT_SERVING = 2,
    VT_RPC_HEALTH_SERVICE_UNKNOWN = 3,
} vt_rpc_health_status;

/* Sets the declared status of a service name ("" is the whole server). Services added
 * with add_method start SERVING, "" too. */
void vt_rpc_health_set(vt_rpc_server *srv, const char *service, vt_rpc_health_status status);
/* Declares or updates a dependency ("postgres", "nats", ...). While any dependency is
 * down, "" and every service report NOT_SERVING; a dependency can also be checked by
 * its own name. */
void vt_rpc_health_set_dependency(vt_rpc_server *srv, const char *dependency, bool up);
/* What Check would answer; VT_RPC_HEALTH_SERVICE_UNKNOWN for a name never set. */
vt_rpc_health_status vt_rpc_health_get(vt_rpc_server *srv, const char *service);

/* ======================================================================== client == */

typedef struct vt_rpc_channel vt_rpc_channel;
/* The outcome of a call: status, message, response, metadata. */
typedef struct vt_rpc_reply vt_rpc_reply;
/* A handle on an asynchronous call, for cancelling it. */
typedef struct vt_rpc_async vt_rpc_async;

typedef struct {
    /* Required: "host:port", or any grpc target (see vt_rpc_channel_new); copied. */
    const char *target;
    /* Threads that run async completions and callbacks (default 1, at most 64). */
    int async_threads;
    /* Largest request and response, bytes (default VT_RPC_DEFAULT_MAX_MESSAGE). */
    size_t max_message_bytes;
    /* Cap of grpc's reconnect backoff while the target is down (default 1000 ms). */
    int reconnect_backoff_max_ms;
    /* Optional: mTLS (copied at creation). server_name is then required: the name the
     * server's certificate must carry (spiffe://venta/<server_name>); a server with
     * another one fails the handshake, and calls UNAVAILABLE. */
    const vt_rpc_tls *tls;
    const char *server_name;
} vt_rpc_channel_opts;

/* A channel to opts->target ("host:port", or any grpc target such as
 * "ipv4:10.0.0.1:50052,10.0.0.2:50052"): connections are made lazily and re-made after
 * failures. The name may resolve to several addresses: each gets a connection and calls
 * take turns over the ready ones (round_robin), so a headless Kubernetes Service
 * spreads calls over its replicas. Thread-safe; share one per target in a process.
 * 0 with *out set, VT_INVALID_ARGUMENT without a target, or VT_RESOURCE_EXHAUSTED,
 * the reason in err. */
int vt_rpc_channel_new(const vt_rpc_channel_opts *opts, vt_rpc_channel **out, char *err,
                       size_t errlen);
/* Cancels async calls still running (their callbacks run, with CANCELLED), waits for
 * them, and releases the channel. Not from a callback. NULL is a no-op. */
void vt_rpc_channel_free(vt_rpc_channel *ch);
const char *vt_rpc_channel_target(const vt_rpc_channel *ch);
/* Where the channel's connection stands, without waiting: "ready", "idle" (unused for
 * a while), "connecting", "unavailable" (the last attempt failed: the target is down)
 * or "shutdown". An idle channel starts connecting. For readiness reports. */
const char *vt_rpc_channel_state(vt_rpc_channel *ch);

typedef struct {
    /* Deadline from now; <= 0 means VT_RPC_DEFAULT_TIMEOUT_MS (or the parent's). */
    int64_t timeout_ms;
    /* A handler's ctx when calling on behalf of a call being served: the deadline
     * becomes the smaller of timeout_ms and the parent's remaining time, and the
     * parent's request and user ids travel on unless set below. */
    const vt_rpc_ctx *parent;
    const char *request_id; /* NULL: parent's, else generated */
    const char *user_id;    /* NULL: parent's, else none; "": none, not even the parent's */
    /* The span the call is made from, sent as `traceparent` (the callee's parent). NULL:
     * the parent's, else the calling thread's current span (vt_trace_current), else
     * none (the callee starts a trace of its own). */
    const vt_trace *trace;
    const vt_rpc_md *metadata; /* extra request metadata, borrowed */
    size_t metadata_count;
    /* Safe to repeat: retried on UNAVAILABLE with jittered exponential backoff while the
     * deadline allows, at most max_attempts attempts in all (default 5). */
    bool idempotent;
    int max_attempts;
    int backoff_initial_ms; /* default 50 */
    int backoff_max_ms;     /* default 1000 */
} vt_rpc_call_opts;

/* Blocking unary call of svc's method. req must be of the method's input type. Returns
 * the status code and always sets *reply (free with vt_rpc_reply_free). NULL opts:
 * defaults. */
int vt_rpc_call_unary(vt_rpc_channel *ch, const ProtobufCServiceDescriptor *svc, const char *method,
                      const ProtobufCMessage *req, const vt_rpc_call_opts *opts,
                      vt_rpc_reply **reply);
/* The same with a raw path ("/pkg.Svc/Method") and pre-encoded request bytes; the reply
 * has bytes (vt_rpc_reply_bytes) and no decoded response. */
int vt_rpc_call_raw(vt_rpc_channel *ch, const char *path, const void *data, size_t len,
                    const vt_rpc_call_opts *opts, vt_rpc_reply **reply);

/* Completion of an async call; owns reply (free it). Runs on a channel queue thread:
 * hand the result to your own loop and return quickly. */
typedef void (*vt_rpc_done_fn)(vt_rpc_reply *reply, void *user);

/* Starts a unary call without blocking. Returns 0, and then done runs exactly once, on
 * a queue thread, never inside this function; or returns a status code when the call
 * could not be started at all (bad method, encoding, channel closing), and then done
 * never runs. When handle is non-NULL it receives a handle that the caller must
 * release with vt_rpc_async_free (before or after completion). */
int vt_rpc_call_async(vt_rpc_channel *ch, const ProtobufCServiceDescriptor *svc, const char *method,
                      const ProtobufCMessage *req, const vt_rpc_call_opts *opts,
                      vt_rpc_done_fn done, void *user, vt_rpc_async **handle);
/* Asks the call to stop: done then runs with CANCELLED unless it already finished. */
void vt_rpc_async_cancel(vt_rpc_async *handle);
void vt_rpc_async_free(vt_rpc_async *handle);

/* Deadline propagation without a parent pointer: the timeout to give a downstream call
 * made while serving ctx: min(remaining, cap_ms), never above cap_ms when cap_ms > 0;
 * 0 or less means the caller's deadline has already passed. */
int64_t vt_rpc_ctx_downstream_timeout_ms(const vt_rpc_ctx *ctx, int64_t cap_ms);

/* ---- replies ---- */

int vt_rpc_reply_status(const vt_rpc_reply *reply);
/* Status message, "" when none. */
const char *vt_rpc_reply_message(const vt_rpc_reply *reply);
/* Decoded response when the status is OK, else NULL. Owned by the reply. */
const ProtobufCMessage *vt_rpc_reply_response(const vt_rpc_reply *reply);
/* Takes the response out of the reply; free it with
 * protobuf_c_message_free_unpacked(msg, NULL). */
ProtobufCMessage *vt_rpc_reply_take_response(vt_rpc_reply *reply);
/* Raw response bytes (raw calls); NULL when there were none. */
const void *vt_rpc_reply_bytes(const vt_rpc_reply *reply, size_t *len);
/* First value of a response metadata key, initial metadata first, then trailing. */
const char *vt_rpc_reply_metadata(const vt_rpc_reply *reply, const char *key);
/* How many attempts the call took (retries). */
int vt_rpc_reply_attempts(const vt_rpc_reply *reply);
void vt_rpc_reply_free(vt_rpc_reply *reply);

/* Full path of a method: "/" + svc->name + "/" + method into out (outlen bytes).
 * Returns VT_INVALID_ARGUMENT when svc has no such method or out is too small. */
int vt_rpc_method_path(const ProtobufCServiceDescriptor *svc, const char *method, char *out,
                       size_t outlen);

#endif
