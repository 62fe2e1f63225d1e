/*
 * conn_rpc.h — a gRPC call made for a connection, answered on the loop (conn_rpc.c).
 *
 * The one way the gateway's modules (streams, snapshot, sio_only_vendor) ask a service
 * for a connection: the call runs on the rpc queue thread, its reply comes back through
 * the handoff, and the connection is kept alive (a reference) until the answer has run.
 */
#ifndef VENTA_WS_CONN_RPC_H
#define VENTA_WS_CONN_RPC_H

#include "conn.h"
#include "vt_rpc.h"

#include <stdbool.h>

/* The answer, on the loop. open: c is still open and the loop is not stopping (only
 * then may the answer touch c's state or send to it); user is the caller's either way,
 * to free. reply is freed after this returns. */
typedef void (*conn_rpc_done)(conn *c, void *user, const vt_rpc_reply *reply, bool open);

/* method of svc on ch with req (copied out before this returns), as c's user with c's
 * request id, the gateway's rpc timeout, idempotent (two attempts). VT_OK: done runs
 * once, later — except while the process stops, when a reply that cannot reach the
 * loop is dropped with its user. Otherwise the status that kept the call from starting,
 * and done never runs. */
int conn_rpc_call(conn *c, vt_rpc_channel *ch, const ProtobufCServiceDescriptor *svc,
                  const char *method, const ProtobufCMessage *req, conn_rpc_done done, void *user);

#endif
