/*
 * uv_adapter.c — hiredis's event hooks on a libuv loop.
 *
 * Why not hiredis's own adapters/libuv.h: when a non-blocking connect is refused, the
 * socket reports POLLERR and libuv stops the poll handle and calls back with an error
 * status; that adapter then returns without telling hiredis, so the failed connect is
 * never noticed, the context is never freed and the client never dials again (seen as
 * Redis "never coming back" after a restart that took longer than the first redial).
 * Here an error status makes hiredis look at the socket itself (it reads the pending
 * socket error and fails the connect or drops the link), and a handle libuv stopped is
 * started again while the context lives.
 */
#include "kv_internal.h"

#include <stdlib.h>

typedef struct {
    redisAsyncContext *ac; /* NULL once hiredis asked us to clean up */
    uv_poll_t poll;
    int events;
} uv_io;

static void on_poll(uv_poll_t *handle, int status, int events)
{
    uv_io *io = handle->data;
    if (status < 0)
        events = UV_READABLE | UV_WRITABLE; /* let hiredis find the socket error */
    if (io->ac && (events & UV_READABLE))
        redisAsyncHandleRead(io->ac);
    if (io->ac && (events & UV_WRITABLE))
        redisAsyncHandleWrite(io->ac);
    if (io->ac && status < 0 && io->events)
        uv_poll_start(&io->poll, io->events, on_poll); /* libuv stopped it on the error */
}

static void update(uv_io *io, int add, int remove)
{
    io->events = (io->events | add) & ~remove;
    if (io->events)
        uv_poll_start(&io->poll, io->events, on_poll);
    else
        uv_poll_stop(&io->poll);
}

static void add_read(void *p)
{
    update(p, UV_READABLE, 0);
}

static void del_read(void *p)
{
    update(p, 0, UV_READABLE);
}

static void add_write(void *p)
{
    update(p, UV_WRITABLE, 0);
}

static void del_write(void *p)
{
    update(p, 0, UV_WRITABLE);
}

static void free_io(uv_handle_t *handle)
{
    free(handle->data);
}

static void cleanup(void *p)
{
    uv_io *io = p;
    io->ac = NULL;
    uv_close((uv_handle_t *)&io->poll, free_io);
}

int kv_uv_attach(redisAsyncContext *ac, uv_loop_t *loop)
{
    if (ac->ev.data)
        return -1;
    uv_io *io = calloc(1, sizeof *io);
    if (!io)
        return -1;
    if (uv_poll_init_socket(loop, &io->poll, ac->c.fd) != 0) {
        free(io);
        return -1;
    }
    io->ac = ac;
    io->poll.data = io;
    ac->ev.addRead = add_read;
    ac->ev.delRead = del_read;
    ac->ev.addWrite = add_write;
    ac->ev.delWrite = del_write;
    ac->ev.cleanup = cleanup;
    ac->ev.data = io;
    return 0;
}
