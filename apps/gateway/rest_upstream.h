/*
 * rest_upstream.h — gRPC calls to the three services that never block the loop, and
 * readiness (rest_upstream.c).
 */
#ifndef REST_UPSTREAM_H
#define REST_UPSTREAM_H

#include "rest_req.h"
#include "rest_routes.h"
#include "vt_rpc.h"

/* Runs on the loop with the reply (owned from here) when the call completes and the
 * request still waits for an answer; never runs for a request whose client has gone. */
typedef void (*rest_rpc_done)(rest_req *req, vt_rpc_reply *reply);

/* Start method on up with msg (owned from here, also on failure); the call holds a
 * reference on req. 0, or the status that kept the call from starting. */
int rest_upstream_call(rest_req *req, rest_upstream up, const ProtobufCServiceDescriptor *svc,
                       const char *method, ProtobufCMessage *msg, rest_rpc_done done);
/* rest_upstream_call, and when the call cannot start, count it as an upstream error
 * and answer 503 naming the service. */
void rest_upstream_call_or_fail(rest_req *req, rest_upstream up,
                                const ProtobufCServiceDescriptor *svc, const char *method,
                                ProtobufCMessage *msg, rest_rpc_done done);
/* GET /readyz: grpc.health.v1 Check on every upstream and a Redis PING, then answer. */
void rest_readyz_start(rest_req *req);
/* An upstream's failure as the error body: its status and message, except for the
 * codes a transport failure produces, answered in our words naming the service. */
void rest_respond_rpc_error(rest_req *req, rest_upstream up, vt_rpc_reply *reply);

#endif
