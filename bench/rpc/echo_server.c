/*
 * echo_server.c — venta.test.v1.Echo on libs/rpc, for bench/rpc/run.
 *
 *   rpc-echo-server [threads]   listens on 127.0.0.1:<free port>, prints "PORT <n>",
 *                               serves until SIGTERM/SIGINT, then shuts down gracefully.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "echo_service.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    vt_log_init("rpc-echo-server", VT_LOG_WARN);
    vt_rpc_server_opts o = {.threads = argc > 1 ? atoi(argv[1]) : 2};
    vt_rpc_server *srv = vt_rpc_server_new(&o);
    static rpc_echo_state echo;
    int port = 0;
    if (!srv || rpc_echo_register(srv, &echo) != 0 ||
        vt_rpc_server_listen(srv, "127.0.0.1:0", &port) != 0 || vt_rpc_server_start(srv) != 0) {
        fprintf(stderr, "rpc-echo-server: cannot start\n");
        return 1;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    printf("PORT %d\n", port);
    fflush(stdout);
    while (!stop)
        pause();
    vt_rpc_server_shutdown(srv, 2000);
    vt_rpc_server_free(srv);
    fprintf(stderr, "rpc-echo-server: %d calls served\n", atomic_load(&echo.calls));
    return 0;
}
