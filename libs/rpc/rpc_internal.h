/*
 * rpc_internal.h — what the files of libs/rpc share and nobody else sees.
 *
 * Completion-queue tags: every tag handed to grpc points at an rpc_tag whose fn is
 * called by whichever thread takes the event from the queue (server worker or client
 * queue thread). Objects embed one rpc_tag per kind of pending operation and find
 * themselves again with container_of, so dispatch is one indirect call and no lookup.
 *
 * The call arena: everything a call allocates (decoded request, response fields,
 * metadata copies) comes from one bump allocator released in one go when the call
 * ends; the first chunk lives inside the call object, so small calls never malloc.
 */
#ifndef VT_RPC_INTERNAL_H
#define VT_RPC_INTERNAL_H

#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdatomic.h>

#include "vt_rpc.h"

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

typedef struct rpc_tag rpc_tag;
typedef void (*rpc_tag_fn)(rpc_tag *tag, bool ok);
struct rpc_tag {
    rpc_tag_fn fn;
};

/* ---- arena (arena.c) ---- */

typedef struct arena_chunk arena_chunk;
typedef struct {
    arena_chunk *chunks; /* malloc'd chunks, newest first */
    char *cur;
    size_t left;
    ProtobufCAllocator pb; /* protobuf-c view of this arena */
} rpc_arena;

/* inline_buf (may be NULL) serves the first allocations. */
void rpc_arena_init(rpc_arena *a, void *inline_buf, size_t inline_len);
void *rpc_arena_alloc(rpc_arena *a, size_t size);
char *rpc_arena_strndup(rpc_arena *a, const char *s, size_t n);
void rpc_arena_release(rpc_arena *a);

/* ---- metadata, messages, time (util.c) ---- */

/* A growable list of outgoing metadata whose slices this side owns. All-zero is an
 * empty list. The first RPC_MD_INLINE entries live inside the struct (a call's request
 * id plus a few handler entries need no malloc), so the struct must not be moved or
 * copied while it holds entries. */
#define RPC_MD_INLINE 4
typedef struct {
    grpc_metadata *items; /* inline_items, a malloc'd array, or NULL */
    size_t count, cap;
    grpc_metadata inline_items[RPC_MD_INLINE];
} rpc_md_out;

int rpc_md_out_add(rpc_md_out *md, const char *key, const char *value);
void rpc_md_out_release(rpc_md_out *md);
bool rpc_md_key_valid(const char *key);

/* First value of key in a received array, copied into out (outlen), or false. */
bool rpc_md_find(const grpc_metadata_array *arr, const char *key, char *out, size_t outlen);

/* Whole byte buffer as one slice: a ref on its only slice when it has one and is not
 * compressed, else a flattened copy. The caller unrefs it. */
grpc_slice rpc_buffer_flatten(grpc_byte_buffer *bb);
/* Packs msg into a new byte buffer; NULL when larger than max. */
grpc_byte_buffer *rpc_message_pack(const ProtobufCMessage *msg, size_t max, size_t *size_out);

/* Milliseconds from now until deadline (any clock); INT64_MAX for an infinite one. */
int64_t rpc_deadline_remaining_ms(gpr_timespec deadline);
gpr_timespec rpc_deadline_in_ms(int64_t ms);

/* grpc_init, first putting abseil in release mode once per process (see
 * absl_release_mode.cc). Every grpc_init of this library goes through here. */
void rpc_grpc_init(void);
/* absl_release_mode.cc */
void rpc_absl_release_mode(void);

/* ---- held writes (held_writes.c) ---- */

/* While on, this thread's socket writes (grpc's sendmsg) queue without being pushed. */
void rpc_writes_hold(bool on);
/* Pushes every socket this thread wrote to while holding. */
void rpc_writes_push(void);
/* The same, if the first write held since the last push is 0.5 ms old or more. */
void rpc_writes_push_stale(void);
/* Sockets this thread wrote to and has not pushed yet. */
int rpc_writes_held(void);

/* Channel arguments for grpc_channel_create / grpc_server_create. */
grpc_arg rpc_int_arg(const char *key, int value);
grpc_arg rpc_string_arg(const char *key, const char *value);

/* Find a method in a service descriptor. */
const ProtobufCMethodDescriptor *rpc_service_method(const ProtobufCServiceDescriptor *svc,
                                                    const char *method);

/* ---- mTLS (tls.c) and the allow-list (allow.c) ---- */

/* Credentials over the files of tls, re-read as they rotate; NULL when out of memory.
 * The channel's verifies that the server is spiffe://venta/<server_name>. */
grpc_server_credentials *rpc_tls_server_credentials(const vt_rpc_tls *tls);
grpc_channel_credentials *rpc_tls_channel_credentials(const vt_rpc_tls *tls,
                                                      const char *server_name);
/* The caller's name (its SPIFFE id without VT_RPC_SPIFFE_PREFIX), copied into arena;
 * NULL on a connection without a certificate. */
const char *rpc_peer_name(grpc_call *call, rpc_arena *arena);
/* Whether rows (NULL: any peer) let peer call path, with or without x-user-id; why
 * gets the reason when not. A NULL peer is never allowed. */
bool rpc_allowed(const vt_rpc_allow *rows, const char *path, const char *peer, bool has_user_id,
                 char *why, size_t whylen);

/* ---- server internals shared with health.c ---- */

typedef struct rpc_health rpc_health;

rpc_health *rpc_health_new(void);
void rpc_health_free(rpc_health *h);
/* Unary Check on the encoded request; sets *response (a HealthCheckResponse) on OK. */
int rpc_health_check(rpc_health *h, vt_rpc_ctx *ctx, const uint8_t *req, size_t len,
                     grpc_byte_buffer **response);
/* Takes over a Watch call whose request arrived (payload may be NULL); the health object
 * owns the call from here. */
void rpc_health_watch_begin(rpc_health *h, grpc_call *call, grpc_byte_buffer *payload);
/* Watch calls not yet released. */
int rpc_health_live_watchers(rpc_health *h);
/* Shutdown: report NOT_SERVING and finish every Watch stream. */
void rpc_health_shutdown(rpc_health *h);
/* A service added to the server. */
void rpc_health_add_service(rpc_health *h, const char *service);
void rpc_health_set(rpc_health *h, const char *name, vt_rpc_health_status st, bool dependency);
vt_rpc_health_status rpc_health_get(rpc_health *h, const char *name);

#endif
