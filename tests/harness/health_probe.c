/*
 * health_probe.c — see vt_harness_rpc.h.
 */
#include "vt_harness_rpc.h"

#include "grpc/health/v1/health.pb-c.h"

#include <unistd.h>

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
        status = ((const Grpc__Health__V1__HealthCheckResponse *)vt_rpc_reply_response(reply))
                     ->status;
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
