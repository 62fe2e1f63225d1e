/*
 * echo_server.c — venta.test.v1.Echo on libs/rpc, for bench/rpc/run.
 *
 *   rpc-echo-server [threads]   listens on 127.0.0.1:<free port>, prints "PORT <n>",
 *                               serves until SIGTERM/SIGINT, then shuts down gracefully.
 *                               With VENTA_TLS_* set: mTLS as venta-bench-echo.
 *
 * SIGTERM/SIGINT are blocked before grpc and the workers start (threads inherit the
 * mask) and taken with sigwait on the main thread: with a handler + pause(), a signal
 * delivered to a busy worker thread left main asleep and the server running.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "echo_service.h"

int main(int argc, char **argv)
{
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    vt_log_init("rpc-echo-server", VT_LOG_WARN);
    vt_rpc_server_opts o = {.threads = argc > 1 ? atoi(argv[1]) : 2};
    /* With VENTA_TLS_* (bench/rpc/tls): mTLS, and an allow-list checked on every call
     * as the services check theirs. */
    static const vt_rpc_allow allow[] = {
        {"/grpc.health.v1.Health/", "*", false},
        {"/venta.test.v1.Echo/", "venta-bench-load", true},
        {NULL, NULL, false},
    };
    vt_rpc_tls tls;
    if (vt_rpc_tls_from_env("venta-bench-echo", &tls)) {
        o.tls = &tls;
        o.allow = allow;
    }
    vt_rpc_server *srv = NULL;
    char err[256];
    static rpc_echo_state echo;
    int port = 0;
    if (vt_rpc_server_new(&o, &srv, err, sizeof err) != VT_OK ||
        rpc_echo_register(srv, &echo) != 0 ||
        vt_rpc_server_listen(srv, "127.0.0.1:0", &port) != 0 || vt_rpc_server_start(srv) != 0) {
        fprintf(stderr, "rpc-echo-server: cannot start\n");
        return 1;
    }
    printf("PORT %d\n", port);
    fflush(stdout);
    int sig;
    sigwait(&stop_signals, &sig);
    vt_rpc_server_shutdown(srv, 2000);
    vt_rpc_server_free(srv);
    fprintf(stderr, "rpc-echo-server: %d calls served\n", atomic_load(&echo.calls));
    return 0;
}
