/*
 * test_rpc_interop.c <node> <script_dir> <proto_root> — libs/rpc against @grpc/grpc-js,
 * both directions, using the project's own .proto files on both sides:
 *   1. our C echo server, called by grpcjs_client.js (which asserts and exits 0/1);
 *   2. grpcjs_server.js, called by our C client (asserted here).
 */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "echo_service.h"
#include "vt_test.h"
#include "vt_test_rpc.h"

#define ECHO (&venta__test__v1__echo__descriptor)

extern char **environ;
static const char *node, *script_dir, *proto_root;

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* waitpid with a time limit; kills the child when it is over. Returns the exit code,
 * or -1 when killed. */
static int wait_child(pid_t pid, int limit_ms)
{
    int status = 0;
    for (int waited = 0; waited < limit_ms; waited += 20) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        sleep_ms(20);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    fprintf(stderr, "child %d killed after %d ms\n", (int)pid, limit_ms);
    return -1;
}

static void test_grpcjs_client_calls_c_server(void)
{
    vt_rpc_server_opts so = {.threads = 2};
    vt_rpc_server *srv = vt_test_server(&so);
    static rpc_echo_state echo;
    VT_REQUIRE(srv && rpc_echo_register(srv, &echo) == 0);
    int port = 0;
    VT_REQUIRE(vt_rpc_server_listen(srv, "127.0.0.1:0", &port) == 0);
    VT_REQUIRE(vt_rpc_server_start(srv) == 0);

    char script[1024], target[64];
    snprintf(script, sizeof script, "%s/grpcjs_client.js", script_dir);
    snprintf(target, sizeof target, "127.0.0.1:%d", port);
    char *argv[] = {(char *)node, script, target, (char *)proto_root, NULL};
    pid_t pid;
    VT_REQUIRE(posix_spawn(&pid, node, NULL, NULL, argv, environ) == 0);
    VT_CHECK_INT(wait_child(pid, 90000), 0);
    VT_CHECK(atomic_load(&echo.calls) > 400);
    vt_rpc_server_shutdown(srv, 5000);
    vt_rpc_server_free(srv);
}

static pid_t start_node_server(int *port)
{
    int fds[2];
    VT_REQUIRE(pipe(fds) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    char script[1024];
    snprintf(script, sizeof script, "%s/grpcjs_server.js", script_dir);
    char *argv[] = {(char *)node, script, (char *)proto_root, NULL};
    pid_t pid;
    VT_REQUIRE(posix_spawn(&pid, node, &fa, NULL, argv, environ) == 0);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    char line[128] = "";
    *port = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "PORT %d", port) == 1)
            break;
    fclose(f); /* the server keeps writing nothing more to stdout */
    return pid;
}

static const Venta__Test__V1__EchoResponse *resp_of(const vt_rpc_reply *r)
{
    return (const Venta__Test__V1__EchoResponse *)vt_rpc_reply_response(r);
}

typedef struct {
    atomic_int done;
    int status;
} one_result;

static void on_done(vt_rpc_reply *r, void *user)
{
    one_result *res = user;
    res->status = vt_rpc_reply_status(r);
    vt_rpc_reply_free(r);
    atomic_store(&res->done, 1);
}

static void test_c_client_calls_grpcjs_server(void)
{
    int port = 0;
    pid_t pid = start_node_server(&port);
    VT_REQUIRE(port > 0);
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", port);
    vt_rpc_channel *ch = vt_test_channel(target, NULL);

    /* Round trip with metadata both ways. */
    Venta__Test__V1__EchoRequest req = VENTA__TEST__V1__ECHO_REQUEST__INIT;
    uint8_t bytes[4] = {9, 0, 8, 255};
    req.message = "from C";
    req.payload.data = bytes;
    req.payload.len = 4;
    req.metadata_key = "x-extra";
    vt_rpc_md extra[] = {{"x-extra", "xv"}};
    vt_rpc_call_opts o = {.timeout_ms = 20000,
                          .request_id = "c-req-1",
                          .user_id = "user_c",
                          .metadata = extra,
                          .metadata_count = 1};
    vt_rpc_reply *r;
    VT_CHECK_INT(vt_rpc_call_unary(ch, ECHO, "Unary", &req.base, &o, &r), VT_OK);
    const Venta__Test__V1__EchoResponse *resp = resp_of(r);
    if (resp) {
        VT_CHECK_STR(resp->message, "from C");
        VT_CHECK(resp->payload.len == 4 && memcmp(resp->payload.data, bytes, 4) == 0);
        VT_CHECK_STR(resp->request_id, "c-req-1");
        VT_CHECK_STR(resp->user_id, "user_c");
        VT_CHECK_STR(resp->metadata_value, "xv");
        VT_CHECK(resp->deadline_ms > 0 && resp->deadline_ms <= 21000);
    }
    VT_CHECK_STR(vt_rpc_reply_metadata(r, "x-echo-initial"), "initial");
    VT_CHECK_STR(vt_rpc_reply_metadata(r, "x-echo-trailer"), "trailer");
    vt_rpc_reply_free(r);

    /* Every status code with its message. */
    for (int code = 1; code < VT_STATUS_COUNT; code++) {
        Venta__Test__V1__EchoRequest fail = VENTA__TEST__V1__ECHO_REQUEST__INIT;
        char msg[64];
        snprintf(msg, sizeof msg, "node says %s ✓", vt_status_name(code));
        fail.status_code = code;
        fail.status_message = msg;
        VT_CHECK_INT(vt_rpc_call_unary(ch, ECHO, "Unary", &fail.base, &o, &r), code);
        VT_CHECK_STR(vt_rpc_reply_message(r), msg);
        vt_rpc_reply_free(r);
    }

    /* Deadline exceeded. */
    req.sleep_ms = 20000;
    vt_rpc_call_opts quick = {.timeout_ms = 300};
    VT_CHECK_INT(vt_rpc_call_unary(ch, ECHO, "Unary", &req.base, &quick, &r), VT_DEADLINE_EXCEEDED);
    vt_rpc_reply_free(r);

    /* Cancellation of an async call. */
    one_result res = {0};
    vt_rpc_async *h;
    VT_REQUIRE(vt_rpc_call_async(ch, ECHO, "Unary", &req.base, &o, on_done, &res, &h) == 0);
    sleep_ms(200);
    vt_rpc_async_cancel(h);
    for (int i = 0; i < 2000 && !atomic_load(&res.done); i++)
        sleep_ms(5);
    VT_CHECK(atomic_load(&res.done));
    VT_CHECK_INT(res.status, VT_CANCELLED);
    vt_rpc_async_free(h);

    /* The node server accepts 1 MiB: a bigger request is refused by it. */
    req.sleep_ms = 0;
    static uint8_t big[2 * 1024 * 1024];
    req.payload.data = big;
    req.payload.len = sizeof big;
    VT_CHECK_INT(vt_rpc_call_unary(ch, ECHO, "Unary", &req.base, &o, &r), VT_RESOURCE_EXHAUSTED);
    vt_rpc_reply_free(r);

    /* Unknown method. */
    VT_CHECK_INT(vt_rpc_call_raw(ch, "/venta.test.v1.Echo/Nope", "", 0, &o, &r), VT_UNIMPLEMENTED);
    vt_rpc_reply_free(r);

    vt_rpc_channel_free(ch);
    kill(pid, SIGTERM);
    int rc = wait_child(pid, 10000);
    VT_CHECK(rc == 0 || rc == -1);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s NODE SCRIPT_DIR PROTO_ROOT\n", argv[0]);
        return 2;
    }
    node = argv[1];
    script_dir = argv[2];
    proto_root = argv[3];
    vt_log_init("test-rpc-interop", VT_LOG_ERROR);
    signal(SIGPIPE, SIG_IGN);
    VT_RUN(test_grpcjs_client_calls_c_server);
    VT_RUN(test_c_client_calls_grpcjs_server);
    return VT_TEST_RESULT();
}
