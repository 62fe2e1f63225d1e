/*
 * test_held_writes.c — libs/rpc held_writes.c on real loopback TCP connections: while a
 * thread holds, its sendmsg calls queue bytes without sending them and remember the
 * socket; a push sends everything queued; a thread that does not hold writes straight
 * through; what has been held 0.5 ms is pushed on the next check. What the kernel has
 * not sent yet is read with SIOCOUTQNSD.
 *
 * The kernel sends held bytes by itself after ~200 ms, and a stale check pushes after
 * 0.5 ms, so each "still held" check is skipped when this thread was stalled for that
 * long; nothing else depends on time.
 */
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rpc_internal.h"
#include "vt_test.h"

typedef struct {
    int out, in; /* our end (the writer) and the peer */
} conn;

static conn conn_open(int listener)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    VT_REQUIRE(getsockname(listener, (struct sockaddr *)&a, &len) == 0);
    conn c;
    c.out = socket(AF_INET, SOCK_STREAM, 0);
    VT_REQUIRE(c.out >= 0 && connect(c.out, (struct sockaddr *)&a, sizeof a) == 0);
    c.in = accept(listener, NULL, NULL);
    VT_REQUIRE(c.in >= 0);
    int one = 1;
    VT_REQUIRE(setsockopt(c.out, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0);
    return c;
}

static int listener_open(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    VT_REQUIRE(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 80) == 0);
    return fd;
}

static void write_text(int fd, const char *text)
{
    struct iovec iov = {.iov_base = (void *)text, .iov_len = strlen(text)};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    VT_REQUIRE(sendmsg(fd, &m, MSG_NOSIGNAL) == (ssize_t)strlen(text)); /* wrapped */
}

static int unsent(int fd)
{
    int n = -1;
    VT_REQUIRE(ioctl(fd, SIOCOUTQNSD, &n) == 0);
    return n;
}

/* Reads exactly strlen(want) bytes (waiting up to 10 s) and compares. */
static void expect_read(int fd, const char *want)
{
    char buf[256];
    size_t got = 0, n = strlen(want);
    while (got < n) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        VT_REQUIRE(poll(&p, 1, 10000) == 1);
        ssize_t r = read(fd, buf + got, sizeof buf - 1 - got);
        VT_REQUIRE(r > 0);
        got += (size_t)r;
    }
    buf[got] = '\0';
    VT_CHECK_STR(buf, want);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void test_hold_then_push(void)
{
    int l = listener_open();
    conn a = conn_open(l), b = conn_open(l);

    rpc_writes_hold(true);
    double t0 = now_s();
    write_text(a.out, "one,");
    write_text(b.out, "two,");
    write_text(a.out, "three");
    VT_CHECK_INT(rpc_writes_held(), 2); /* two sockets, a once */
    if (now_s() - t0 < 0.1) {
        VT_CHECK_INT(unsent(a.out), 9);
        VT_CHECK_INT(unsent(b.out), 4);
    }
    rpc_writes_push();
    VT_CHECK_INT(rpc_writes_held(), 0);
    /* Pushed: nothing left unsent, and it all arrives, in order. */
    VT_CHECK_INT(unsent(a.out), 0);
    VT_CHECK_INT(unsent(b.out), 0);
    expect_read(a.in, "one,three");
    expect_read(b.in, "two,");

    /* Not holding: straight through, nothing remembered. */
    rpc_writes_hold(false);
    write_text(a.out, "direct");
    VT_CHECK_INT(rpc_writes_held(), 0);
    VT_CHECK_INT(unsent(a.out), 0);
    expect_read(a.in, "direct");

    close(a.out), close(a.in), close(b.out), close(b.in), close(l);
}

/* A thread that keeps holding still pushes what it has held for 0.5 ms. */
static void test_stale_push(void)
{
    int l = listener_open();
    conn a = conn_open(l);
    rpc_writes_hold(true);
    double t0 = now_s();
    write_text(a.out, "old");
    rpc_writes_push_stale();
    if (now_s() - t0 < 0.0004)
        VT_CHECK_INT(rpc_writes_held(), 1); /* too young to push */
    struct timespec ms = {.tv_nsec = 1000000};
    nanosleep(&ms, NULL);
    rpc_writes_push_stale();
    VT_CHECK_INT(rpc_writes_held(), 0);
    VT_CHECK_INT(unsent(a.out), 0);
    expect_read(a.in, "old");
    rpc_writes_hold(false);
    close(a.out), close(a.in), close(l);
}

/* Holding belongs to the thread that asked for it. */
static void *write_from_other_thread(void *arg)
{
    write_text(*(int *)arg, "other");
    return (void *)(intptr_t)rpc_writes_held();
}

static void test_other_threads_unaffected(void)
{
    int l = listener_open();
    conn a = conn_open(l);
    rpc_writes_hold(true);
    pthread_t th;
    void *held;
    VT_REQUIRE(pthread_create(&th, NULL, write_from_other_thread, &a.out) == 0);
    pthread_join(th, &held);
    VT_CHECK_INT((int)(intptr_t)held, 0);
    VT_CHECK_INT(rpc_writes_held(), 0);
    VT_CHECK_INT(unsent(a.out), 0);
    expect_read(a.in, "other");
    rpc_writes_hold(false);
    close(a.out), close(a.in), close(l);
}

/* Past the most sockets one thread remembers, writes go out unheld rather than be
 * forgotten in the kernel. */
static void test_too_many_sockets(void)
{
    enum { N = 70 };
    int l = listener_open();
    conn c[N];
    for (int i = 0; i < N; i++)
        c[i] = conn_open(l);
    rpc_writes_hold(true);
    for (int i = 0; i < N; i++)
        write_text(c[i].out, "x");
    int held = rpc_writes_held();
    VT_CHECK(held > 0 && held < N);
    for (int i = held; i < N; i++)
        VT_CHECK_INT(unsent(c[i].out), 0);
    rpc_writes_push();
    rpc_writes_hold(false);
    for (int i = 0; i < N; i++) {
        VT_CHECK_INT(unsent(c[i].out), 0);
        expect_read(c[i].in, "x");
        close(c[i].out), close(c[i].in);
    }
    close(l);
}

int main(void)
{
    VT_RUN(test_hold_then_push);
    VT_RUN(test_stale_push);
    VT_RUN(test_other_threads_unaffected);
    VT_RUN(test_too_many_sockets);
    return VT_TEST_RESULT();
}
