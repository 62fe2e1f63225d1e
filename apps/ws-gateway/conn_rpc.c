/*
 * conn_rpc.c — a gRPC call for a connection, its reply handed back to the loop.
 */
#include "conn_rpc.h"

#include "ws_gateway.h"

#include <stdlib.h>

typedef struct {
    conn *c;
    conn_rpc_done done;
    void *user;
    vt_rpc_reply *reply;
} conn_call;

static void on_loop(void *payload, void *user, bool closing)
{
    (void)user;
    conn_call *cc = payload;
    cc->done(cc->c, cc->user, cc->reply, !closing && cc->c->state < CONN_CLOSING);
    vt_rpc_reply_free(cc->reply);
    conn_unref(cc->c);
    free(cc);
}

static void on_reply(vt_rpc_reply *reply, void *user)
{
    conn_call *cc = user;
    cc->reply = reply;
    if (vt_handoff_push(cc->c->g->handoff, on_loop, cc) != VT_OK) {
        /* Only while stopping: the connection goes with the loop. */
        vt_rpc_reply_free(reply);
        free(cc);
    }
}

int conn_rpc_call(conn *c, vt_rpc_channel *ch, const ProtobufCServiceDescriptor *svc,
                  const char *method, const ProtobufCMessage *req, conn_rpc_done done, void *user)
{
    conn_call *cc = calloc(1, sizeof *cc);
    if (!cc)
        return VT_RESOURCE_EXHAUSTED;
    *cc = (conn_call){.c = c, .done = done, .user = user};
    vt_rpc_call_opts o = {.timeout_ms = c->g->cfg.rpc_timeout_ms,
                          .request_id = c->request_id,
                          .user_id = c->user_id,
                          /* a fix's span when one is current, else the connection's */
                          .trace = vt_trace_current() ? vt_trace_current() : &c->trace,
                          .idempotent = true,
                          .max_attempts = 2};
    conn_ref(c);
    int rc = vt_rpc_call_async(ch, svc, method, req, &o, on_reply, cc, NULL);
    if (rc != VT_OK) {
        conn_unref(c);
        free(cc);
    }
    return rc;
}
