/*
 * rest_upstream.c — gRPC calls that never block the loop.
 *
 * A call starts on the loop thread with vt_rpc_call_async; its completion runs on an
 * rpc queue thread, which only parks the reply in the call record and pushes the
 * record into the handoff. The loop then runs the request's continuation with the
 * reply. The call holds a reference on the request, so a client that disconnects
 * meanwhile (its request detached, the call cancelled) leaves a request that is freed
 * when the completion arrives, and nothing is written anywhere.
 *
 * A failed call's answer is made here too (rest_respond_rpc_error): only this file knows
 * which codes the transport, not the service, produced.
 *
 * Readiness (/readyz) is the same machinery fanned out: grpc.health.v1 Check on every
 * upstream and a PING to Redis, answered when all have reported.
 */
#include "rest_upstream.h"
#include "rest_app.h"
#include "rest_metrics.h"
#include "rest_req.h"
#include "vt_json.h"

#include "grpc/health/v1/health.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    rest_req *req;
    rest_upstream up;
    vt_rpc_reply *reply; /* set by the queue thread before the push */
    vt_rpc_async *handle;
    ProtobufCMessage *msg; /* owned request message */
    rest_rpc_done done;
    int64_t id;
    bool ready_check;
} rest_call;

static int64_t next_call_id = 1;

static void call_free(rest_call *c)
{
    if (c->handle)
        vt_rpc_async_free(c->handle);
    if (c->msg)
        protobuf_c_message_free_unpacked(c->msg, NULL);
    free(c);
}

static void on_loop(void *payload, void *user, bool closing);

/* Queue thread: hand the reply to the loop, nothing else. */
static void on_rpc_done(vt_rpc_reply *reply, void *user)
{
    rest_call *c = user;
    c->reply = reply;
    if (vt_handoff_push(c->req->app->handoff, on_loop, c) != 0) {
        /* Only when the handoff is closing, after every channel was freed: cannot
         * happen in order; leak rather than touch loop state from this thread. */
        vt_rpc_reply_free(reply);
    }
}

static void ready_done(rest_call *c, vt_rpc_reply *reply);

static void on_loop(void *payload, void *user, bool closing)
{
    (void)user;
    rest_call *c = payload;
    rest_req *req = c->req;
    vt_rpc_reply *reply = c->reply;
    if (!c->ready_check && req->pending_id == c->id) {
        req->pending = NULL; /* the handle is freed with the call record */
        req->pending_id = 0;
    }
    if (closing || !req->wsi || req->responded) {
        vt_rpc_reply_free(reply);
    } else if (c->ready_check) {
        ready_done(c, reply);
    } else {
        int code = vt_rpc_reply_status(reply);
        if (code != VT_OK)
            rest_metrics_upstream_error(req->app->m, c->up, code);
        c->done(req, reply);
    }
    call_free(c);
    rest_req_unref(req);
}

static int start_call(rest_req *req, rest_upstream up, const ProtobufCServiceDescriptor *svc,
                      const char *method, ProtobufCMessage *msg, rest_rpc_done done,
                      int64_t timeout_ms, bool ready_check)
{
    rest_call *c = calloc(1, sizeof *c);
    if (!c) {
        protobuf_c_message_free_unpacked(msg, NULL);
        return VT_RESOURCE_EXHAUSTED;
    }
    c->req = req;
    c->up = up;
    c->msg = msg;
    c->done = done;
    c->id = next_call_id++;
    c->ready_check = ready_check;
    vt_rpc_call_opts o = {
        .timeout_ms = timeout_ms,
        .request_id = req->request_id,
        .user_id = req->user_id[0] ? req->user_id : NULL,
        .trace = &req->trace,
    };
    rest_req_ref(req);
    int rc = vt_rpc_call_async(req->app->up[up], svc, method, msg, &o, on_rpc_done, c, &c->handle);
    if (rc != VT_OK) {
        call_free(c);
        rest_req_unref(req);
        return rc;
    }
    if (!ready_check) {
        req->pending = c->handle;
        req->pending_id = c->id;
    }
    return VT_OK;
}

int rest_upstream_call(rest_req *req, rest_upstream up, const ProtobufCServiceDescriptor *svc,
                       const char *method, ProtobufCMessage *msg, rest_rpc_done done)
{
    return start_call(req, up, svc, method, msg, done, req->app->cfg.upstream_timeout_ms, false);
}

void rest_upstream_call_or_fail(rest_req *req, rest_upstream up,
                                const ProtobufCServiceDescriptor *svc, const char *method,
                                ProtobufCMessage *msg, rest_rpc_done done)
{
    int rc = rest_upstream_call(req, up, svc, method, msg, done);
    if (rc != VT_OK) {
        rest_metrics_upstream_error(req->app->m, up, rc);
        rest_respond_error(req, VT_UNAVAILABLE, "%s service: cannot start the call (%s)",
                           rest_upstream_name(up), vt_status_name(rc));
    }
}

/* ---- failures ---- */

void rest_respond_rpc_error(rest_req *req, rest_upstream up, vt_rpc_reply *reply)
{
    int code = vt_rpc_reply_status(reply);
    const char *msg = vt_rpc_reply_message(reply);
    if (!msg || !msg[0])
        msg = vt_status_name(code);
    /* Codes a transport failure produces carry grpc core's words (addresses, "all
     * backends failing"): the client gets ours, the log keeps theirs. */
    const char *ours = code == VT_UNAVAILABLE         ? "is unavailable, retry later"
                       : code == VT_DEADLINE_EXCEEDED ? "did not answer in time"
                       : code == VT_CANCELLED         ? "cancelled the call"
                       : code == VT_UNKNOWN           ? "failed"
                                                      : NULL;
    if (!ours) {
        rest_respond_error(req, code, "%s", msg);
        return;
    }
    vt_log_ctx lc = rest_log_ctx(req);
    vt_warn(&lc, "%s service: %s: %s", rest_upstream_name(up), vt_status_name(code), msg);
    rest_respond_error(req, code, "%s service %s", rest_upstream_name(up), ours);
}

/* ---- /readyz ---- */

static void ready_finish(rest_req *req)
{
    if (--req->ready_pending > 0)
        return;
    bool ok = true;
    vt_buf b;
    vt_buf_init(&b);
    vt_buf_puts(&b, "{\"checks\":{");
    for (int i = 0; i <= REST_UP_COUNT; i++) {
        const char *name = i < REST_UP_COUNT ? rest_upstream_name((rest_upstream)i) : "redis";
        const char *res = req->ready_result[i] ? req->ready_result[i] : "no answer";
        if (strcmp(res, "ok") != 0)
            ok = false;
        if (i)
            vt_buf_puts(&b, ",");
        vt_json_buf_put_string(&b, name, strlen(name));
        vt_buf_puts(&b, ":");
        vt_json_buf_put_string(&b, res, strlen(res));
    }
    vt_buf_puts(&b, "},\"status\":");
    vt_buf_puts(&b, ok ? "\"ready\"}" : "\"unavailable\"}");
    size_t len = 0;
    char *text = vt_buf_take(&b, &len);
    rest_respond(req, ok ? 200 : 503, "application/json", text, text ? len : 0);
}

static void ready_done(rest_call *c, vt_rpc_reply *reply)
{
    rest_req *req = c->req;
    char buf[256];
    int code = vt_rpc_reply_status(reply);
    if (code != VT_OK) {
        snprintf(buf, sizeof buf, "%s: %s", vt_status_name(code), vt_rpc_reply_message(reply));
    } else {
        const Grpc__Health__V1__HealthCheckResponse *r =
            (const Grpc__Health__V1__HealthCheckResponse *)vt_rpc_reply_response(reply);
        if (r && r->status == GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING)
            snprintf(buf, sizeof buf, "ok");
        else
            snprintf(buf, sizeof buf, "NOT_SERVING");
    }
    vt_rpc_reply_free(reply);
    free(req->ready_result[c->up]);
    req->ready_result[c->up] = strdup(buf);
    ready_finish(req);
}

static void on_redis_ping(int status, const vt_kv_reply *reply, void *user)
{
    rest_req *req = user;
    if (req->wsi && !req->responded) {
        const char *res = "ok";
        if (status != VT_OK || !reply)
            res = "UNAVAILABLE: redis is not connected";
        else if (reply->type == VT_KV_ERROR)
            res = "redis error";
        req->ready_result[REST_UP_COUNT] = strdup(res);
        ready_finish(req);
    }
    rest_req_unref(req);
}

void rest_readyz_start(rest_req *req)
{
    req->ready_pending = REST_UP_COUNT + 1;
    int64_t timeout =
        req->app->cfg.upstream_timeout_ms < 2000 ? req->app->cfg.upstream_timeout_ms : 2000;
    for (int i = 0; i < REST_UP_COUNT; i++) {
        Grpc__Health__V1__HealthCheckRequest *m = malloc(sizeof *m);
        int rc = VT_RESOURCE_EXHAUSTED;
        if (m) {
            grpc__health__v1__health_check_request__init(m);
            m->service = strdup("");
            if (m->service)
                rc = start_call(req, (rest_upstream)i, &grpc__health__v1__health__descriptor,
                                "Check", &m->base, NULL, timeout, true);
            else
                free(m);
        }
        if (rc != VT_OK) {
            char buf[64];
            snprintf(buf, sizeof buf, "%s: cannot start check", vt_status_name(rc));
            req->ready_result[i] = strdup(buf);
            req->ready_pending--;
        }
    }
    rest_req_ref(req);
    static const char *argv[] = {"PING"};
    vt_kv_command_argv(req->app->kv, on_redis_ping, req, 1, argv, NULL);
}
