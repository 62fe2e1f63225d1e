/*
 * vt_handoff.h — hand work from any thread to a libuv loop thread, in batches.
 *
 * nats.c delivers messages on its own threads and grpc completes async calls on a
 * queue thread, but a gateway's state lives on its libuv loop and must be touched
 * there only. A vt_handoff is the one door between them: producers push (fn, payload)
 * items into a mutex-guarded vector and wake the loop with uv_async_send; the loop
 * swaps the whole vector out under one lock and runs every item without the lock.
 * uv_async_send coalesces wake-ups, so a burst of 10,000 messages costs one wake-up and
 * one lock on the loop side, not 10,000.
 *
 * Ownership: a pushed payload belongs to the item; fn receives it on the loop thread
 * and must free it. When the handoff closes, items still queued are run with
 * closing = true, so that fn can free the payload without acting on it.
 *
 * Threads: vt_handoff_push and vt_handoff_depth are thread-safe; everything else runs
 * on the loop thread.
 */
#ifndef VT_HANDOFF_H
#define VT_HANDOFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct vt_handoff vt_handoff;

/* Runs on the loop thread for each item, in push order. closing: see above. */
typedef void (*vt_handoff_fn)(void *payload, void *user, bool closing);

/* Called on the loop thread after each drained batch (may be NULL): a natural place
 * to flush work that the items produced (e.g. ask sockets for writeable callbacks). */
typedef void (*vt_handoff_batch_fn)(size_t items, void *user);

typedef struct {
    uv_loop_t *loop;              /* required; the handoff lives on its thread */
    vt_handoff_batch_fn on_batch; /* may be NULL */
    void *user;                   /* passed to every fn and to on_batch */
} vt_handoff_opts;

/* Create a handoff on opts->loop (must be called on the loop thread). 0 with *out set,
 * VT_INVALID_ARGUMENT without a loop, or VT_RESOURCE_EXHAUSTED when memory or libuv
 * fails, the reason in err. */
int vt_handoff_new(const vt_handoff_opts *opts, vt_handoff **out, char *err, size_t errlen);

/* Queue one item and wake the loop. Any thread. 0; or VT_UNAVAILABLE once the handoff
 * is closing (the payload is then still the caller's); VT_RESOURCE_EXHAUSTED when
 * memory runs out or the queue holds max_depth items already (see set_max_depth). */
int vt_handoff_push(vt_handoff *h, vt_handoff_fn fn, void *payload);

/* Bound the queue (0 = unbounded, the default): a producer that outruns the loop gets
 * VT_RESOURCE_EXHAUSTED instead of growing memory without limit. */
void vt_handoff_set_max_depth(vt_handoff *h, size_t max_depth);

/* Run at most max_batch items per loop turn (0 = all, the default); the rest run on
 * the next turn, after the loop has polled its sockets. Bounds how much work one
 * burst queues up before anything is written. Loop thread. */
void vt_handoff_set_max_batch(vt_handoff *h, size_t max_batch);

/* Items queued right now. Any thread. */
size_t vt_handoff_depth(vt_handoff *h);

typedef struct {
    uint64_t pushed;   /* items accepted */
    uint64_t rejected; /* pushes refused (full or closing) */
    uint64_t batches;  /* drains that ran at least one item */
} vt_handoff_stats;
void vt_handoff_get_stats(vt_handoff *h, vt_handoff_stats *out);

/* Refuse further pushes, run what is queued with closing = true, close the async
 * handle and free the handoff once libuv has released it (the loop must run on for
 * that, as for every libuv handle). Loop thread only. NULL is a no-op. */
void vt_handoff_free(vt_handoff *h);

#endif
