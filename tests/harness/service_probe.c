/*
 * service_probe.c — see vt_harness_rpc.h.
 */
#include "vt_harness_rpc.h"

#include "grpc/health/v1/health.pb-c.h"
#include "vt_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void vt_harness_service_start(vt_harness_service *s, const char *bin, const char *addr_var,
                              const char *db_url, const char *const *extra_env)
{
    s->grpc_port = vt_harness_free_port();
    s->metrics_port = vt_harness_free_port();
    char db[1024], nats[512], addr[160], metrics[128];
    snprintf(db, sizeof db, "VENTA_DATABASE_URL=%s", db_url);
    snprintf(nats, sizeof nats, "VENTA_NATS_URL=%s", vt_harness_env("VENTA_TEST_NATS_URL"));
    snprintf(addr, sizeof addr, "%s=127.0.0.1:%d", addr_var, s->grpc_port);
    snprintf(metrics, sizeof metrics, "VENTA_METRICS_ADDR=127.0.0.1:%d", s->metrics_port);
    const char *env[32] = {db, nats, addr, metrics, "VENTA_LOG_LEVEL=warn"};
    size_t n = 5;
    for (const char *const *e = extra_env; e && *e && n < 31; e++)
        env[n++] = *e;
    env[n] = NULL;
    s->pid = vt_harness_spawn(bin, env); /* the child copies env before exec */
    if (vt_harness_wait_port(s->grpc_port, 20000) != 0) {
        fprintf(stderr, "harness: %s did not listen on port %d\n", bin, s->grpc_port);
        exit(1);
    }
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", s->grpc_port);
    vt_rpc_channel_opts co = {.target = target};
    char err[256];
    if (vt_rpc_channel_new(&co, &s->channel, err, sizeof err) != VT_OK) {
        fprintf(stderr, "harness: %s: %s\n", target, err);
        exit(1);
    }
}

int vt_harness_health(vt_rpc_channel *ch, const char *service)
{
    Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    req.service = (char *)service;
    vt_rpc_reply *reply;
    vt_rpc_call_opts o = {.timeout_ms = 2000};
    int rc = vt_rpc_call_unary(ch, &grpc__health__v1__health__descriptor, "Check", &req.base, &o,
                               &reply);
    int status = -rc;
    if (rc == VT_OK)
        status =
            ((const Grpc__Health__V1__HealthCheckResponse *)vt_rpc_reply_response(reply))->status;
    vt_rpc_reply_free(reply);
    return status;
}

bool vt_harness_wait_serving(vt_rpc_channel *ch, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 50) {
        if (vt_harness_health(ch, "") ==
            GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING)
            return true;
        usleep(50000);
    }
    return false;
}
