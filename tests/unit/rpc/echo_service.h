/*
 * echo_service.h — venta.test.v1.Echo served by libs/rpc, for the rpc tests and the
 * gRPC benchmark (which both link it through rpc_echo_dep).
 *
 * Unary (and Blocking, the same) echoes the message and payload and reports what the server saw
 * (request id, user id, a metadata value, the deadline, the worker). Fields of EchoRequest steer
 * it: sleep_ms (stopping early when the call is cancelled), status_code/status_message,
 * response_size. A message "health-down:<dep>" or "health-up:<dep>" flips a
 * dependency's health, so that clients in other processes can drive Watch.
 */
#ifndef RPC_ECHO_SERVICE_H
#define RPC_ECHO_SERVICE_H

#include <stdatomic.h>

#include "venta/test/v1/echo.pb-c.h"
#include "vt_rpc.h"

typedef struct {
    vt_rpc_server *srv;
    atomic_int calls;     /* handler entries */
    atomic_int sleeping;  /* handlers inside a sleep right now */
    atomic_int cancelled; /* sleeps cut short by cancellation */
    atomic_int finished_sleeps;
    /* Handlers about to block (Blocking, or a sleep) that found responses of their
     * worker still held back (libs/rpc held_writes.c): must stay 0. */
    atomic_int held_when_blocking;
    /* 1 once a Unary handler found responses of its worker held back, i.e. grpc's
     * sendmsg really went through held_writes.c (it does under concurrent load). */
    atomic_int held_seen;
} rpc_echo_state;

/* Adds Echo/Unary (VT_RPC_NONBLOCKING; a sleep calls vt_rpc_ctx_will_block first) and
 * Echo/Blocking (the same handler, without the flag), with state as the handlers' user
 * pointer (state->srv = srv). */
int rpc_echo_register(vt_rpc_server *srv, rpc_echo_state *state);

#endif
