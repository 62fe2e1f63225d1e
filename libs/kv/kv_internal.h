/*
 * kv_internal.h — what the files of libs/kv share.
 */
#ifndef VT_KV_INTERNAL_H
#define VT_KV_INTERNAL_H

#include <hiredis/async.h>
#include <uv.h>

/* Drive ac's socket from loop (our replacement for hiredis's adapters/libuv.h). */
int kv_uv_attach(redisAsyncContext *ac, uv_loop_t *loop);

#endif
