/*
 * handoff.c — the cross-thread queue of vt_handoff.h.
 *
 * Two vectors: `in` is where producers append under the mutex; the loop swaps it with
 * its own empty `out` vector under the same mutex and then runs `out` unlocked. The
 * vectors keep their capacity across swaps, so a steady flow allocates nothing.
 */
#include "vt_handoff.h"

#include "vt_core.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    vt_handoff_fn fn;
    void *payload;
} item;

typedef struct {
    item *v;
    size_t n, cap;
} item_vec;

struct vt_handoff {
    uv_async_t async;
    pthread_mutex_t lock;
    item_vec in;  /* guarded by lock */
    item_vec out; /* loop thread only */
    bool closing; /* guarded by lock */
    size_t max_depth;
    size_t max_batch;
    uint64_t pushed, rejected, batches;
    vt_handoff_batch_fn on_batch;
    void *user;
};

static bool grow_out(vt_handoff *h)
{
    item *v = realloc(h->out.v, h->max_batch * sizeof *v);
    if (!v)
        return false;
    h->out.v = v;
    h->out.cap = h->max_batch;
    return true;
}

static void run_batch(vt_handoff *h, bool closing)
{
    bool more = false;
    pthread_mutex_lock(&h->lock);
    if (!closing && h->max_batch && h->in.n > h->max_batch &&
        (h->out.cap >= h->max_batch || grow_out(h))) {
        /* Take the oldest max_batch items; the rest wait for the next loop turn, so
         * that sockets get written between batches. */
        memcpy(h->out.v, h->in.v, h->max_batch * sizeof *h->in.v);
        h->out.n = h->max_batch;
        h->in.n -= h->max_batch;
        memmove(h->in.v, h->in.v + h->max_batch, h->in.n * sizeof *h->in.v);
        more = true;
    } else {
        item_vec tmp = h->in;
        h->in = h->out;
        h->out = tmp;
    }
    pthread_mutex_unlock(&h->lock);
    if (more)
        uv_async_send(&h->async);
    size_t n = h->out.n;
    for (size_t i = 0; i < n; i++)
        h->out.v[i].fn(h->out.v[i].payload, h->user, closing);
    h->out.n = 0;
    if (n > 0) {
        __atomic_add_fetch(&h->batches, 1, __ATOMIC_RELAXED);
        if (h->on_batch && !closing)
            h->on_batch(n, h->user);
    }
}

static void on_async(uv_async_t *a)
{
    run_batch(a->data, false);
}

int vt_handoff_new(const vt_handoff_opts *opts, vt_handoff **out, char *err, size_t errlen)
{
    if (!opts || !opts->loop) {
        snprintf(err, errlen, "a handoff needs a loop");
        return VT_INVALID_ARGUMENT;
    }
    vt_handoff *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return VT_RESOURCE_EXHAUSTED;
    }
    if (pthread_mutex_init(&h->lock, NULL) != 0) {
        free(h);
        snprintf(err, errlen, "cannot create the handoff's lock");
        return VT_RESOURCE_EXHAUSTED;
    }
    int rc = uv_async_init(opts->loop, &h->async, on_async);
    if (rc != 0) {
        pthread_mutex_destroy(&h->lock);
        free(h);
        snprintf(err, errlen, "uv_async_init: %s", uv_strerror(rc));
        return VT_RESOURCE_EXHAUSTED;
    }
    h->async.data = h;
    h->on_batch = opts->on_batch;
    h->user = opts->user;
    *out = h;
    return VT_OK;
}

void vt_handoff_set_max_depth(vt_handoff *h, size_t max_depth)
{
    pthread_mutex_lock(&h->lock);
    h->max_depth = max_depth;
    pthread_mutex_unlock(&h->lock);
}

int vt_handoff_push(vt_handoff *h, vt_handoff_fn fn, void *payload)
{
    int rc = VT_OK;
    bool wake = false;
    pthread_mutex_lock(&h->lock);
    if (h->closing) {
        rc = VT_UNAVAILABLE;
    } else if (h->max_depth && h->in.n >= h->max_depth) {
        rc = VT_RESOURCE_EXHAUSTED;
    } else {
        if (h->in.n == h->in.cap) {
            size_t cap = h->in.cap ? 2 * h->in.cap : 256;
            item *v = realloc(h->in.v, cap * sizeof *v);
            if (!v) {
                rc = VT_RESOURCE_EXHAUSTED;
                goto out;
            }
            h->in.v = v;
            h->in.cap = cap;
        }
        h->in.v[h->in.n++] = (item){fn, payload};
        /* The loop was woken by the first item of this batch already. */
        wake = h->in.n == 1;
        h->pushed++;
    }
out:
    if (rc != VT_OK)
        h->rejected++;
    pthread_mutex_unlock(&h->lock);
    if (wake)
        uv_async_send(&h->async);
    return rc;
}

void vt_handoff_set_max_batch(vt_handoff *h, size_t max_batch)
{
    pthread_mutex_lock(&h->lock);
    h->max_batch = max_batch;
    pthread_mutex_unlock(&h->lock);
}

size_t vt_handoff_depth(vt_handoff *h)
{
    pthread_mutex_lock(&h->lock);
    size_t n = h->in.n;
    pthread_mutex_unlock(&h->lock);
    return n;
}

void vt_handoff_get_stats(vt_handoff *h, vt_handoff_stats *out)
{
    pthread_mutex_lock(&h->lock);
    out->pushed = h->pushed;
    out->rejected = h->rejected;
    pthread_mutex_unlock(&h->lock);
    out->batches = __atomic_load_n(&h->batches, __ATOMIC_RELAXED);
}

static void on_closed(uv_handle_t *handle)
{
    vt_handoff *h = handle->data;
    /* Producers cannot add anything now, but one may have slipped in between the
     * drain in vt_handoff_free and the flag: run it too. */
    run_batch(h, true);
    free(h->in.v);
    free(h->out.v);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

void vt_handoff_free(vt_handoff *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    h->closing = true;
    pthread_mutex_unlock(&h->lock);
    run_batch(h, true);
    uv_close((uv_handle_t *)&h->async, on_closed);
}
