/*
 * held_writes.c — a worker's responses leave in one TCP push per run of ready work.
 *
 * grpc core writes each response with its own sendmsg as soon as the batch is started
 * (chttp2 writes at the end of every API call's execution context), and on loopback
 * each of those sendmsg calls also runs the receiver's TCP input and wakes it: half of
 * the server's CPU per unary call (docs/benchmarks.md, gRPC). Nothing in grpc's public
 * API lets one thread gather several responses into one write, so we gather them in the
 * kernel instead: while a worker holds (rpc_writes_hold(true)), every sendmsg it makes
 * carries MSG_MORE, which queues the bytes on the socket without transmitting a partial
 * segment, and the socket is remembered. rpc_writes_push then pushes each remembered
 * socket with setsockopt(TCP_NODELAY, 1), which transmits what is queued at once
 * (Linux: tcp_sock_set_nodelay pushes pending frames; grpc sets TCP_NODELAY on every
 * socket already, so nothing else changes). Unpushed bytes would still leave after
 * ~200 ms (the kernel's limit for corked data), never later.
 *
 * grpc core is linked statically (meson.build), so its calls to sendmsg can be routed
 * here with the linker's --wrap=sendmsg: only code linked into the executable is
 * affected (shared libraries such as libpq or nats.c call libc directly), and a thread
 * that never holds, which is every thread but a server worker, goes straight through.
 * Nothing linked statically sends datagrams with sendmsg; one sent while holding would
 * keep MSG_MORE's meaning for UDP (wait for more) and the TCP push would not send it,
 * so such code must not run on a holding worker.
 *
 * The server decides when to hold (server.c): a worker holds while it takes ready
 * events and runs non-blocking handlers, and pushes before it would block (no ready
 * event left, a handler that may wait on I/O, vt_rpc_ctx_will_block). A worker that
 * always finds more work ready (steady load from many clients) also pushes once its
 * oldest held write is 0.5 ms old, so no response waits behind an endless run.
 *
 * A pushed socket may meanwhile have been closed and its descriptor reused; the push
 * then sets TCP_NODELAY on whatever holds that number now, which is harmless: every TCP
 * socket in our processes runs with TCP_NODELAY (grpc, libpq, nats.c, hiredis all set
 * it) and anything else refuses the option.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "rpc_internal.h"

/* Sockets one worker writes to between two pushes: its connections with ready calls. A
 * write to one more goes out unheld. */
#define HELD_SOCKETS_MAX 64

/* The longest a worker that never runs out of ready work holds a response (see
 * rpc_writes_push_stale): a run of work under steady load is ~100 µs. */
#define HOLD_MAX_NS 500000

static __thread bool holding;
static __thread int held[HELD_SOCKETS_MAX];
static __thread int n_held;
static __thread int64_t held_since_ns; /* the first held write since the last push */

static int64_t monotonic_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

ssize_t __real_sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t __wrap_sendmsg(int fd, const struct msghdr *msg, int flags);

ssize_t __wrap_sendmsg(int fd, const struct msghdr *msg, int flags)
{
    if (!holding)
        return __real_sendmsg(fd, msg, flags);
    int i = 0;
    while (i < n_held && held[i] != fd)
        i++;
    if (i == n_held) {
        if (n_held == HELD_SOCKETS_MAX)
            return __real_sendmsg(fd, msg, flags);
        if (n_held == 0)
            held_since_ns = monotonic_ns();
        held[n_held++] = fd;
    }
    return __real_sendmsg(fd, msg, flags | MSG_MORE);
}

void rpc_writes_hold(bool on)
{
    holding = on;
}

void rpc_writes_push(void)
{
    static const int one = 1;
    for (int i = 0; i < n_held; i++)
        (void)setsockopt(held[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    n_held = 0;
}

void rpc_writes_push_stale(void)
{
    if (n_held > 0 && monotonic_ns() - held_since_ns >= HOLD_MAX_NS)
        rpc_writes_push();
}

int rpc_writes_held(void)
{
    return n_held;
}
