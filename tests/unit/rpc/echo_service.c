/*
 * echo_service.c — the Echo handler (see echo_service.h).
 */
#include <string.h>
#include <time.h>

#include "echo_service.h"
#include "rpc_internal.h"

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* Counts a handler about to block while its worker holds responses back. */
static void check_nothing_held(rpc_echo_state *st)
{
    if (rpc_writes_held() > 0)
        atomic_fetch_add(&st->held_when_blocking, 1);
}

static int echo_unary(vt_rpc_ctx *ctx, const ProtobufCMessage *in, ProtobufCMessage *out,
                      void *user)
{
    rpc_echo_state *st = user;
    const Venta__Test__V1__EchoRequest *req = (const void *)in;
    Venta__Test__V1__EchoResponse *resp = (void *)out;
    atomic_fetch_add(&st->calls, 1);
    resp->deadline_ms = vt_rpc_ctx_remaining_ms(ctx);
    if (resp->deadline_ms == INT64_MAX)
        resp->deadline_ms = -1;

    if (strncmp(req->message, "health-down:", 12) == 0)
        vt_rpc_health_set_dependency(st->srv, req->message + 12, false);
    else if (strncmp(req->message, "health-up:", 10) == 0)
        vt_rpc_health_set_dependency(st->srv, req->message + 10, true);

    /* Once is enough to know: no shared write per call on the benchmark's path. */
    if (rpc_writes_held() > 0 && !atomic_load_explicit(&st->held_seen, memory_order_relaxed))
        atomic_store_explicit(&st->held_seen, 1, memory_order_relaxed);
    if (req->sleep_ms > 0) {
        vt_rpc_ctx_will_block(ctx); /* Unary is VT_RPC_NONBLOCKING but for this */
        check_nothing_held(st);
        atomic_fetch_add(&st->sleeping, 1);
        int slept = 0;
        bool cut = false;
        while (slept < req->sleep_ms) {
            if (vt_rpc_ctx_cancelled(ctx)) {
                cut = true;
                break;
            }
            sleep_ms(5);
            slept += 5;
        }
        atomic_fetch_sub(&st->sleeping, 1);
        if (cut) {
            atomic_fetch_add(&st->cancelled, 1);
            if (vt_rpc_ctx_remaining_ms(ctx) <= 0)
                return vt_rpc_ctx_error(ctx, VT_DEADLINE_EXCEEDED,
                                        "deadline passed while sleeping");
            return vt_rpc_ctx_error(ctx, VT_CANCELLED, "cancelled while sleeping");
        }
        atomic_fetch_add(&st->finished_sleeps, 1);
    }

    vt_rpc_ctx_add_initial_metadata(ctx, "x-echo-initial", "initial");
    vt_rpc_ctx_add_trailing_metadata(ctx, "x-echo-trailer", "trailer");
    if (req->status_code != 0)
        return vt_rpc_ctx_error(ctx, req->status_code, "%s", req->status_message);

    resp->message = req->message; /* the request lives in the call arena too */
    if (req->response_size > 0) {
        resp->payload.len = (size_t)req->response_size;
        resp->payload.data = vt_rpc_ctx_alloc(ctx, resp->payload.len);
        memset(resp->payload.data, 'x', resp->payload.len);
    } else {
        resp->payload = req->payload;
    }
    resp->request_id = (char *)vt_rpc_ctx_request_id(ctx);
    const char *uid = vt_rpc_ctx_user_id(ctx);
    resp->user_id = uid ? (char *)uid : "";
    if (req->metadata_key[0]) {
        const char *v = vt_rpc_ctx_metadata(ctx, req->metadata_key);
        resp->metadata_value = v ? (char *)v : "";
    }
    resp->worker = vt_rpc_ctx_worker_index(ctx);
    return VT_OK;
}

static int echo_blocking(vt_rpc_ctx *ctx, const ProtobufCMessage *in, ProtobufCMessage *out,
                         void *user)
{
    check_nothing_held(user);
    return echo_unary(ctx, in, out, user);
}

int rpc_echo_register(vt_rpc_server *srv, rpc_echo_state *state)
{
    state->srv = srv;
    static const vt_rpc_method_entry table[] = {
        {"Unary", echo_unary, VT_RPC_NONBLOCKING, NULL},
        {"Blocking", echo_blocking, 0, NULL},
        {NULL, NULL, 0, NULL},
    };
    return vt_rpc_server_add_service(srv, &venta__test__v1__echo__descriptor, table, state);
}
