/*
 * test_rpc_server.c — libs/rpc under stress and at the edges of its life: many threads
 * calling at once (half of them a method that may block, which must never find responses
 * held back), handlers that block while the others keep serving, graceful shutdown with
 * calls in flight (finishing within the grace period, cancelled after it), garbage bytes
 * on the port, retries of idempotent calls while the server is still down, health Watch
 * streams (changes pushed, ended by shutdown), calls spread over two servers behind one
 * target, and connections aged out by the server without failing a call. Watch is driven
 * by a minimal client written directly on grpc core, since vt_rpc has no streaming client.
 */
#include <arpa/inet.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "echo_service.h"
#include "grpc/health/v1/health.pb-c.h"
#include "vt_test.h"
#include "vt_test_rpc.h"

#define ECHO (&venta__test__v1__echo__descriptor)

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static bool wait_atomic(atomic_int *v, int want)
{
    for (int i = 0; i < 3000 && atomic_load(v) < want; i++)
        sleep_ms(5);
    return atomic_load(v) >= want;
}

typedef struct {
    vt_rpc_server *srv;
    rpc_echo_state echo;
    int port;
    char target[64];
} server;

static void server_start(server *s, int threads, int port)
{
    memset(s, 0, sizeof *s);
    vt_rpc_server_opts o = {.threads = threads};
    s->srv = vt_test_server(&o);
    VT_REQUIRE(s->srv);
    VT_REQUIRE(rpc_echo_register(s->srv, &s->echo) == 0);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    VT_REQUIRE(vt_rpc_server_listen(s->srv, addr, &s->port) == 0);
    VT_REQUIRE(vt_rpc_server_start(s->srv) == 0);
    snprintf(s->target, sizeof s->target, "127.0.0.1:%d", s->port);
}

static void server_stop(server *s, int64_t grace_ms)
{
    vt_rpc_server_shutdown(s->srv, grace_ms);
    vt_rpc_server_free(s->srv);
    s->srv = NULL;
}

/* ---- many threads ---- */

typedef struct {
    vt_rpc_channel *ch;
    int index, ok, wrong;
} caller;

static void *caller_main(void *arg)
{
    caller *c = arg;
    for (int i = 0; i < 150; i++) {
        char msg[64], rid[64];
        snprintf(msg, sizeof msg, "t%d-%d", c->index, i);
        snprintf(rid, sizeof rid, "rid-%d-%d", c->index, i);
        Venta__Test__V1__EchoRequest req = VENTA__TEST__V1__ECHO_REQUEST__INIT;
        req.message = msg;
        vt_rpc_call_opts o = {.request_id = rid, .timeout_ms = 30000};
        vt_rpc_reply *r;
        /* Half the callers use the method whose handler may block, and a quarter ask
         * Unary for a 1 ms sleep (vt_rpc_ctx_will_block): those handlers must find
         * nothing of their worker's held back (echo.held_when_blocking). */
        const char *method = c->index % 2 ? "Blocking" : "Unary";
        if (c->index % 4 == 2)
            req.sleep_ms = 1;
        if (vt_rpc_call_unary(c->ch, ECHO, method, &req.base, &o, &r) == VT_OK) {
            const Venta__Test__V1__EchoResponse *resp = (const void *)vt_rpc_reply_response(r);
            /* Each reply belongs to its own request: nothing crossed between threads. */
            if (strcmp(resp->message, msg) == 0 && strcmp(resp->request_id, rid) == 0)
                c->ok++;
            else
                c->wrong++;
        }
        vt_rpc_reply_free(r);
    }
    return NULL;
}

static void test_many_threads(void)
{
    server s;
    server_start(&s, 4, 0);
    vt_rpc_channel *ch = vt_test_channel(s.target, NULL);
    enum { N = 16 };
    caller cs[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        cs[i] = (caller){.ch = ch, .index = i};
        pthread_create(&th[i], NULL, caller_main, &cs[i]);
    }
    int ok = 0, wrong = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        ok += cs[i].ok;
        wrong += cs[i].wrong;
    }
    VT_CHECK_INT(ok, N * 150);
    VT_CHECK_INT(wrong, 0);
    VT_CHECK_INT(atomic_load(&s.echo.calls), N * 150);
    VT_CHECK_INT(atomic_load(&s.echo.held_when_blocking), 0);
    /* And responses were held: grpc's writes do go through held_writes.c. */
    VT_CHECK(atomic_load(&s.echo.held_seen) > 0);
    vt_rpc_channel_free(ch);
    server_stop(&s, 5000);
}

/* ---- shutdown ---- */

typedef struct {
    pthread_mutex_t mu;
    int done, ok, cancelled_or_unavailable;
    int statuses[64];
} results;

static void on_done(vt_rpc_reply *r, void *user)
{
    results *res = user;
    int st = vt_rpc_reply_status(r);
    pthread_mutex_lock(&res->mu);
    if (res->done < 64)
        res->statuses[res->done] = st;
    res->done++;
    if (st == VT_OK)
        res->ok++;
    else if (st == VT_CANCELLED || st == VT_UNAVAILABLE)
        res->cancelled_or_unavailable++;
    pthread_mutex_unlock(&res->mu);
    vt_rpc_reply_free(r);
}

static int results_done(results *res)
{
    pthread_mutex_lock(&res->mu);
    int d = res->done;
    pthread_mutex_unlock(&res->mu);
    return d;
}

static bool wait_results(results *res, int n)
{
    for (int i = 0; i < 6000 && results_done(res) < n; i++)
        sleep_ms(5);
    return results_done(res) >= n;
}

/* Starts a server with `threads` workers and n async calls whose handlers sleep sleep_ms
 * (call i on methods[i], or Unary when methods is NULL; its handle in handles[i] unless
 * handles is NULL), and returns a channel to it once all n are inside their handlers. */
static vt_rpc_channel *start_sleepers(server *s, int threads, int n, const char *const *methods,
                                      int sleep_ms, results *res, vt_rpc_async **handles)
{
    server_start(s, threads, 0);
    vt_rpc_channel *ch = vt_test_channel(s->target, NULL);
    Venta__Test__V1__EchoRequest req = VENTA__TEST__V1__ECHO_REQUEST__INIT;
    req.sleep_ms = sleep_ms;
    vt_rpc_call_opts o = {.timeout_ms = 2 * (int64_t)sleep_ms + 30000};
    for (int i = 0; i < n; i++)
        VT_CHECK_INT(vt_rpc_call_async(ch, ECHO, methods ? methods[i] : "Unary", &req.base, &o,
                                       on_done, res, handles ? &handles[i] : NULL),
                     0);
    VT_CHECK(wait_atomic(&s->echo.sleeping, n));
    return ch;
}

static void test_shutdown_lets_calls_finish(void)
{
    server s;
    results res = {.mu = PTHREAD_MUTEX_INITIALIZER};
    vt_rpc_channel *ch = start_sleepers(&s, 4, 4, NULL, 500, &res, NULL);
    /* All four are inside their handlers: shutdown must wait for them. */
    vt_rpc_server_shutdown(s.srv, 20000);
    VT_CHECK_INT(atomic_load(&s.echo.finished_sleeps), 4);
    VT_CHECK_INT(atomic_load(&s.echo.cancelled), 0);
    VT_CHECK(wait_results(&res, 4));
    VT_CHECK_INT(res.ok, 4);

    /* After shutdown nobody answers: a new call fails UNAVAILABLE. */
    vt_rpc_reply *r;
    vt_rpc_call_opts quick = {.timeout_ms = 5000};
    Venta__Test__V1__EchoRequest req = VENTA__TEST__V1__ECHO_REQUEST__INIT;
    VT_CHECK_INT(vt_rpc_call_unary(ch, ECHO, "Unary", &req.base, &quick, &r), VT_UNAVAILABLE);
    vt_rpc_reply_free(r);
    vt_rpc_channel_free(ch);
    vt_rpc_server_free(s.srv);
}

/* One worker at a time takes events (server.c, take_turn); a handler that blocks must
 * hand that turn on. Two handlers sleep, one of a method without VT_RPC_NONBLOCKING and
 * one behind vt_rpc_ctx_will_block, and the third worker still serves everyone else. */
static void test_blocking_handlers_hold_up_nobody(void)
{
    server s;
    results res = {.mu = PTHREAD_MUTEX_INITIALIZER};
    vt_rpc_async *sleepers[2];
    static const char *const methods[2] = {"Blocking", "Unary"};
    vt_rpc_channel *ch = start_sleepers(&s, 3, 2, methods, 60000, &res, sleepers);
    Venta__Test__V1__EchoRequest req = VENTA__TEST__V1__ECHO_REQUEST__INIT;
    req.message = "meanwhile";
    vt_rpc_call_opts quick = {.timeout_ms = 10000};
    int ok = 0;
    for (int i = 0; i < 50; i++) {
        vt_rpc_reply *r;
        if (vt_rpc_call_unary(ch, ECHO, "Unary", &req.base, &quick, &r) == VT_OK)
            ok++;
        vt_rpc_reply_free(r);
    }
    VT_CHECK_INT(ok, 50);
    VT_CHECK_INT(atomic_load(&s.echo.sleeping), 2); /* both still asleep */
    for (int i = 0; i < 2; i++)
        vt_rpc_async_cancel(sleepers[i]);
    VT_CHECK(wait_results(&res, 2));
    VT_CHECK_INT(res.cancelled_or_unavailable, 2);
    for (int i = 0; i < 2; i++)
        vt_rpc_async_free(sleepers[i]);
    VT_CHECK_INT(atomic_load(&s.echo.held_when_blocking), 0);
    vt_rpc_channel_free(ch);
    server_stop(&s, 5000);
}

static void test_shutdown_cancels_after_grace(void)
{
    server s;
    results res = {.mu = PTHREAD_MUTEX_INITIALIZER};
    vt_rpc_channel *ch = start_sleepers(&s, 2, 2, NULL, 60000, &res, NULL);
    /* The handlers would sleep a minute; the grace period is 200 ms. */
    vt_rpc_server_shutdown(s.srv, 200);
    VT_CHECK_INT(atomic_load(&s.echo.cancelled), 2);
    VT_CHECK_INT(atomic_load(&s.echo.finished_sleeps), 0);
    VT_CHECK(wait_results(&res, 2));
    VT_CHECK_INT(res.ok, 0);
    VT_CHECK_INT(res.cancelled_or_unavailable, 2);
    vt_rpc_channel_free(ch);
    vt_rpc_server_free(s.srv);
}

/* ---- garbage on the port ---- */

static int connect_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void send_and_close(int port, const void *data, size_t len, bool read_back)
{
    int fd = connect_port(port);
    VT_CHECK(fd >= 0);
    if (fd < 0)
        return;
    ssize_t w = send(fd, data, len, MSG_NOSIGNAL); /* the server may hang up first */
    (void)w;
    if (read_back) {
        struct timeval tv = {.tv_sec = 2};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char buf[512];
        ssize_t n = read(fd, buf, sizeof buf);
        (void)n;
    }
    close(fd);
}

static int echo_ok(vt_rpc_channel *ch)
{
    Venta__Test__V1__EchoRequest req = VENTA__TEST__V1__ECHO_REQUEST__INIT;
    req.message = "still here";
    vt_rpc_call_opts o = {.timeout_ms = 10000};
    vt_rpc_reply *r;
    int rc = vt_rpc_call_unary(ch, ECHO, "Unary", &req.base, &o, &r);
    vt_rpc_reply_free(r);
    return rc;
}

static void test_garbage_on_port(void)
{
    server s;
    server_start(&s, 2, 0);
    vt_rpc_channel *ch = vt_test_channel(s.target, NULL);
    VT_CHECK_INT(echo_ok(ch), VT_OK);

    uint8_t noise[4096];
    vt_random_bytes(noise, sizeof noise);
    send_and_close(s.port, noise, sizeof noise, true);
    static const char http1[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    send_and_close(s.port, http1, sizeof http1 - 1, true);
    /* A valid HTTP/2 preface followed by a frame header claiming 16 MiB, then noise. */
    static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    uint8_t frames[64 + sizeof noise];
    size_t n = sizeof preface - 1;
    memcpy(frames, preface, n);
    const uint8_t bad_frame[9] = {0xff, 0xff, 0xff, 0x01, 0x05, 0x00, 0x00, 0x00, 0x01};
    memcpy(frames + n, bad_frame, 9);
    n += 9;
    memcpy(frames + n, noise, sizeof noise);
    n += sizeof noise;
    send_and_close(s.port, frames, n, true);
    /* Preface + a HEADERS frame with a garbage HPACK block. */
    memcpy(frames, preface, sizeof preface - 1);
    n = sizeof preface - 1;
    const uint8_t settings[9] = {0, 0, 0, 0x04, 0, 0, 0, 0, 0};
    memcpy(frames + n, settings, 9);
    n += 9;
    const uint8_t headers[9] = {0, 0, 64, 0x01, 0x05, 0, 0, 0, 1};
    memcpy(frames + n, headers, 9);
    n += 9;
    memcpy(frames + n, noise, 64);
    n += 64;
    send_and_close(s.port, frames, n, true);
    /* Connections that say nothing and vanish. */
    for (int i = 0; i < 20; i++) {
        int fd = connect_port(s.port);
        if (fd >= 0)
            close(fd);
    }
    /* Lots of small random writes on many connections at once. */
    int fds[16];
    for (int i = 0; i < 16; i++)
        fds[i] = connect_port(s.port);
    for (int round = 0; round < 8; round++)
        for (int i = 0; i < 16; i++)
            if (fds[i] >= 0) {
                ssize_t w = send(fds[i], noise + round * 100 + i, 37, MSG_NOSIGNAL);
                (void)w;
            }
    for (int i = 0; i < 16; i++)
        if (fds[i] >= 0)
            close(fds[i]);

    VT_CHECK_INT(echo_ok(ch), VT_OK);
    vt_rpc_channel *fresh = vt_test_channel(s.target, NULL);
    VT_CHECK_INT(echo_ok(fresh), VT_OK);
    vt_rpc_channel_free(fresh);
    vt_rpc_channel_free(ch);
    server_stop(&s, 5000);
}

/* ---- retries ---- */

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    VT_REQUIRE(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    VT_REQUIRE(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    close(fd);
    return ntohs(a.sin_port);
}

typedef struct {
    server s;
    int port;
    int delay_ms;
} late_server;

static void *late_start(void *arg)
{
    late_server *ls = arg;
    sleep_ms(ls->delay_ms);
    server_start(&ls->s, 2, ls->port);
    return NULL;
}

static void test_retry_idempotent(void)
{
    int port = free_port();
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", port);
    vt_rpc_channel_opts co = {.reconnect_backoff_max_ms = 200};
    vt_rpc_channel *ch = vt_test_channel(target, &co);
    Venta__Test__V1__EchoRequest req = VENTA__TEST__V1__ECHO_REQUEST__INIT;
    req.message = "retry";

    /* Nobody listens: not idempotent fails at once, after one attempt. */
    vt_rpc_call_opts once = {.timeout_ms = 10000};
    vt_rpc_reply *r;
    VT_CHECK_INT(vt_rpc_call_unary(ch, ECHO, "Unary", &req.base, &once, &r), VT_UNAVAILABLE);
    VT_CHECK_INT(vt_rpc_reply_attempts(r), 1);
    vt_rpc_reply_free(r);
    /* Idempotent, still nobody: gives up after max_attempts, within the deadline. */
    vt_rpc_call_opts few = {.timeout_ms = 20000,
                            .idempotent = true,
                            .max_attempts = 3,
                            .backoff_initial_ms = 20,
                            .backoff_max_ms = 40};
    VT_CHECK_INT(vt_rpc_call_unary(ch, ECHO, "Unary", &req.base, &few, &r), VT_UNAVAILABLE);
    VT_CHECK_INT(vt_rpc_reply_attempts(r), 3);
    vt_rpc_reply_free(r);

    /* The server comes up 600 ms later: an idempotent call gets through. */
    late_server ls = {.port = port, .delay_ms = 600};
    pthread_t th;
    pthread_create(&th, NULL, late_start, &ls);
    vt_rpc_call_opts retry = {.timeout_ms = 30000,
                              .idempotent = true,
                              .max_attempts = 100,
                              .backoff_initial_ms = 50,
                              .backoff_max_ms = 200};
    VT_CHECK_INT(vt_rpc_call_unary(ch, ECHO, "Unary", &req.base, &retry, &r), VT_OK);
    VT_CHECK(vt_rpc_reply_attempts(r) > 1);
    vt_rpc_reply_free(r);
    pthread_join(th, NULL);
    server_stop(&ls.s, 5000);

    /* The same through the async path (retries wait on the channel's timer thread). */
    results res = {.mu = PTHREAD_MUTEX_INITIALIZER};
    late_server ls2 = {.port = port, .delay_ms = 600};
    /* Wait until the channel has noticed the server is gone. */
    for (int i = 0; i < 200; i++) {
        VT_CHECK(1);
        int rc = vt_rpc_call_unary(ch, ECHO, "Unary", &req.base, &once, &r);
        vt_rpc_reply_free(r);
        if (rc == VT_UNAVAILABLE)
            break;
        sleep_ms(20);
    }
    pthread_create(&th, NULL, late_start, &ls2);
    VT_CHECK_INT(vt_rpc_call_async(ch, ECHO, "Unary", &req.base, &retry, on_done, &res, NULL), 0);
    VT_CHECK(wait_results(&res, 1));
    VT_CHECK_INT(res.ok, 1);
    pthread_join(th, NULL);
    server_stop(&ls2.s, 5000);
    vt_rpc_channel_free(ch);
}

/* ---- health Watch over raw grpc core ---- */

typedef struct {
    grpc_channel *ch;
    grpc_completion_queue *cq;
    grpc_call *call;
    grpc_metadata_array init_md, trail_md;
    grpc_status_code status;
    grpc_slice details;
} watch_client;

static bool cq_wait(grpc_completion_queue *cq, void *tag)
{
    grpc_event ev = grpc_completion_queue_pluck(
        cq, tag,
        gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_seconds(20, GPR_TIMESPAN)), NULL);
    return ev.type == GRPC_OP_COMPLETE && ev.success;
}

static void watch_open(watch_client *w, const char *target, const char *service)
{
    memset(w, 0, sizeof *w);
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    w->ch = grpc_channel_create(target, creds, NULL);
    grpc_channel_credentials_release(creds);
    w->cq = grpc_completion_queue_create_for_pluck(NULL);
    grpc_slice method = grpc_slice_from_static_string("/grpc.health.v1.Health/Watch");
    w->call = grpc_channel_create_call(w->ch, NULL, GRPC_PROPAGATE_DEFAULTS, w->cq, method, NULL,
                                       gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    req.service = (char *)service;
    uint8_t buf[256];
    size_t n = grpc__health__v1__health_check_request__pack(&req, buf);
    grpc_slice s = grpc_slice_from_copied_buffer((const char *)buf, n);
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    grpc_metadata_array_init(&w->init_md);
    grpc_metadata_array_init(&w->trail_md);
    grpc_op ops[4];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = bb;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &w->init_md;
    VT_REQUIRE(grpc_call_start_batch(w->call, ops, 4, (void *)1, NULL) == GRPC_CALL_OK);
    VT_CHECK(cq_wait(w->cq, (void *)1));
    grpc_byte_buffer_destroy(bb);
}

/* Next status on the stream, or -1 when the stream ended. */
static int watch_next(watch_client *w)
{
    grpc_byte_buffer *bb = NULL;
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &bb;
    VT_REQUIRE(grpc_call_start_batch(w->call, &op, 1, (void *)2, NULL) == GRPC_CALL_OK);
    if (!cq_wait(w->cq, (void *)2) || !bb)
        return -1;
    grpc_byte_buffer_reader rd;
    grpc_byte_buffer_reader_init(&rd, bb);
    grpc_slice s = grpc_byte_buffer_reader_readall(&rd);
    grpc_byte_buffer_reader_destroy(&rd);
    grpc_byte_buffer_destroy(bb);
    Grpc__Health__V1__HealthCheckResponse *resp = grpc__health__v1__health_check_response__unpack(
        NULL, GRPC_SLICE_LENGTH(s), GRPC_SLICE_START_PTR(s));
    grpc_slice_unref(s);
    if (!resp)
        return -2;
    int st = resp->status;
    grpc__health__v1__health_check_response__free_unpacked(resp, NULL);
    return st;
}

static int watch_status(watch_client *w)
{
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    op.data.recv_status_on_client.trailing_metadata = &w->trail_md;
    op.data.recv_status_on_client.status = &w->status;
    op.data.recv_status_on_client.status_details = &w->details;
    VT_REQUIRE(grpc_call_start_batch(w->call, &op, 1, (void *)3, NULL) == GRPC_CALL_OK);
    VT_CHECK(cq_wait(w->cq, (void *)3));
    grpc_slice_unref(w->details);
    return (int)w->status;
}

static void watch_close(watch_client *w, bool cancel)
{
    if (cancel) {
        grpc_call_cancel(w->call, NULL);
        watch_status(w);
    }
    grpc_call_unref(w->call);
    grpc_metadata_array_destroy(&w->init_md);
    grpc_metadata_array_destroy(&w->trail_md);
    grpc_channel_destroy(w->ch);
    grpc_completion_queue_shutdown(w->cq);
    grpc_completion_queue_destroy(w->cq);
}

enum { SERVING = 1, NOT_SERVING = 2, SERVICE_UNKNOWN = 3 };

static void test_health_watch(void)
{
    grpc_init();
    server s;
    server_start(&s, 2, 0);

    watch_client all, unknown, cancelled;
    watch_open(&all, s.target, "");
    VT_CHECK_INT(watch_next(&all), SERVING);
    watch_open(&unknown, s.target, "venta.nope.v1.Nope");
    VT_CHECK_INT(watch_next(&unknown), SERVICE_UNKNOWN);
    watch_open(&cancelled, s.target, "venta.test.v1.Echo");
    VT_CHECK_INT(watch_next(&cancelled), SERVING);

    vt_rpc_health_set_dependency(s.srv, "postgres", false);
    VT_CHECK_INT(watch_next(&all), NOT_SERVING);
    VT_CHECK_INT(watch_next(&cancelled), NOT_SERVING);
    /* A client that goes away is dropped without disturbing the others. */
    watch_close(&cancelled, true);
    vt_rpc_health_set_dependency(s.srv, "postgres", true);
    VT_CHECK_INT(watch_next(&all), SERVING);
    /* A service that appears later is reported to its watchers. */
    vt_rpc_health_set(s.srv, "venta.nope.v1.Nope", VT_RPC_HEALTH_SERVING);
    VT_CHECK_INT(watch_next(&unknown), SERVING);

    /* Shutdown: NOT_SERVING, then the stream ends with UNAVAILABLE; and shutdown does
     * not hang on open streams even with a long grace period. */
    vt_rpc_server_shutdown(s.srv, 30000);
    VT_CHECK_INT(watch_next(&all), NOT_SERVING);
    VT_CHECK_INT(watch_next(&all), -1);
    VT_CHECK_INT(watch_status(&all), GRPC_STATUS_UNAVAILABLE);
    VT_CHECK_INT(watch_next(&unknown), NOT_SERVING);
    VT_CHECK_INT(watch_next(&unknown), -1);
    VT_CHECK_INT(watch_status(&unknown), GRPC_STATUS_UNAVAILABLE);
    watch_close(&all, false);
    watch_close(&unknown, false);
    vt_rpc_server_free(s.srv);
    grpc_shutdown();
}

/* ---- several replicas behind one target ---- */

static int call_echo(vt_rpc_channel *ch, const char *msg)
{
    Venta__Test__V1__EchoRequest req = VENTA__TEST__V1__ECHO_REQUEST__INIT;
    req.message = (char *)msg;
    vt_rpc_call_opts o = {.timeout_ms = 5000, .idempotent = true};
    vt_rpc_reply *r;
    int rc = vt_rpc_call_unary(ch, ECHO, "Unary", &req.base, &o, &r);
    vt_rpc_reply_free(r);
    return rc;
}

/* A target naming two servers (as a headless Service's DNS name does) spreads calls
 * over both; with one of them gone, every call still succeeds on the other. */
static void test_calls_spread_over_replicas(void)
{
    server a, b;
    server_start(&a, 2, 0);
    server_start(&b, 2, 0);
    char target[128];
    snprintf(target, sizeof target, "ipv4:127.0.0.1:%d,127.0.0.1:%d", a.port, b.port);
    vt_rpc_channel *ch = vt_test_channel(target, NULL);
    VT_REQUIRE(ch);
    int ok = 0;
    for (int i = 0; i < 60; i++)
        ok += call_echo(ch, "spread") == VT_OK;
    VT_CHECK_INT(ok, 60);
    int on_a = atomic_load(&a.echo.calls), on_b = atomic_load(&b.echo.calls);
    VT_CHECK(on_a + on_b == 60);
    VT_CHECK(on_a >= 20 && on_b >= 20); /* round robin: ~30 each once both are ready */

    server_stop(&a, 0);
    ok = 0;
    for (int i = 0; i < 40; i++)
        ok += call_echo(ch, "one left") == VT_OK;
    VT_CHECK_INT(ok, 40);
    VT_CHECK_INT(atomic_load(&b.echo.calls), on_b + 40);
    vt_rpc_channel_free(ch);
    server_stop(&b, 0);
}

/* A server that ages its connections out: the client's calls keep succeeding across
 * the GOAWAYs (it dials again by itself), so replicas can be rebalanced this way. */
static void test_max_connection_age(void)
{
    vt_rpc_server_opts o = {.threads = 2, .max_connection_age_ms = 200};
    server s;
    memset(&s, 0, sizeof s);
    s.srv = vt_test_server(&o);
    VT_REQUIRE(s.srv);
    VT_REQUIRE(rpc_echo_register(s.srv, &s.echo) == 0);
    VT_REQUIRE(vt_rpc_server_listen(s.srv, "127.0.0.1:0", &s.port) == 0);
    VT_REQUIRE(vt_rpc_server_start(s.srv) == 0);
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", s.port);
    vt_rpc_channel *ch = vt_test_channel(target, NULL);
    int ok = 0, calls = 0;
    int64_t end = vt_monotonic_ns() + 1500 * 1000000LL; /* ~7 connection lifetimes */
    while (vt_monotonic_ns() < end) {
        ok += call_echo(ch, "aging") == VT_OK;
        calls++;
        sleep_ms(2);
    }
    VT_CHECK(calls > 50);
    VT_CHECK_INT(ok, calls);
    vt_rpc_channel_free(ch);
    server_stop(&s, 0);
}

int main(void)
{
    vt_log_init("test-rpc-server", VT_LOG_ERROR);
    VT_RUN(test_many_threads);
    VT_RUN(test_blocking_handlers_hold_up_nobody);
    VT_RUN(test_shutdown_lets_calls_finish);
    VT_RUN(test_shutdown_cancels_after_grace);
    VT_RUN(test_garbage_on_port);
    VT_RUN(test_retry_idempotent);
    VT_RUN(test_health_watch);
    VT_RUN(test_calls_spread_over_replicas);
    VT_RUN(test_max_connection_age);
    return VT_TEST_RESULT();
}
