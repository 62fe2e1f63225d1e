/*
 * arena.c — the per-call bump allocator.
 *
 * A call's memory has one lifetime: the call. So the decoded request (unpacked through
 * the protobuf-c allocator view), everything a handler hangs off the response, and
 * metadata copies are bump-allocated and released together when the call is done.
 * Freeing single objects is a no-op. Chunks grow geometrically so that a large message
 * costs a few mallocs, not one per field.
 */
#include <stdlib.h>
#include <string.h>

#include "rpc_internal.h"

struct arena_chunk {
    arena_chunk *next;
    max_align_t data[];
};

#define ARENA_ALIGN (sizeof(max_align_t))
#define ARENA_MIN_CHUNK 4096

static void *pb_alloc(void *data, size_t size)
{
    return rpc_arena_alloc(data, size);
}

static void pb_free(void *data, void *ptr)
{
    (void)data;
    (void)ptr;
}

void rpc_arena_init(rpc_arena *a, void *inline_buf, size_t inline_len)
{
    a->chunks = NULL;
    a->cur = inline_buf;
    a->left = inline_buf ? inline_len : 0;
    a->pb.alloc = pb_alloc;
    a->pb.free = pb_free;
    a->pb.allocator_data = a;
}

void *rpc_arena_alloc(rpc_arena *a, size_t size)
{
    size_t need = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
    if (need == 0)
        need = ARENA_ALIGN;
    /* Keep the bump pointer aligned: the inline buffer may start anywhere. */
    size_t pad = (ARENA_ALIGN - ((uintptr_t)a->cur & (ARENA_ALIGN - 1))) & (ARENA_ALIGN - 1);
    if (a->cur && a->left >= need + pad) {
        void *p = a->cur + pad;
        a->cur += pad + need;
        a->left -= pad + need;
        return p;
    }
    size_t grow = ARENA_MIN_CHUNK;
    for (arena_chunk *c = a->chunks; c && grow < (1u << 20); c = c->next)
        grow *= 2;
    size_t body = need > grow ? need : grow;
    arena_chunk *c = malloc(sizeof *c + body);
    if (!c)
        abort();
    c->next = a->chunks;
    a->chunks = c;
    a->cur = (char *)c->data + need;
    a->left = body - need;
    return c->data;
}

char *rpc_arena_strndup(rpc_arena *a, const char *s, size_t n)
{
    char *p = rpc_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void rpc_arena_release(rpc_arena *a)
{
    arena_chunk *c = a->chunks;
    while (c) {
        arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->chunks = NULL;
    a->cur = NULL;
    a->left = 0;
}
