/*
 * health.c — `venta-cli health`: grpc.health.v1 Check of every service of the mesh at
 * the addresses of API.md §1 (the same *_ADDR variables the services listen on), with
 * each dependency the service reports ("postgres", "nats", "jetstream"). Exit 0 when all
 * serve. With VENTA_TLS_* set it calls as spiffe://venta/venta-cli over mTLS
 * (docs/security.md).
 */
#include "cli.h"

#include "grpc/health/v1/health.pb-c.h"
#include "vt_core.h"
#include "vt_rpc.h"

#include <stdio.h>
#include <string.h>

static const char *status_word(int rc, const vt_rpc_reply *reply)
{
    if (rc != VT_OK)
        return vt_status_name(rc);
    const Grpc__Health__V1__HealthCheckResponse *res = (const void *)vt_rpc_reply_response(reply);
    switch (res->status) {
    case GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING:
        return "SERVING";
    case GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING:
        return "NOT_SERVING";
    default:
        return "UNKNOWN";
    }
}

static bool check(vt_rpc_channel *ch, const char *service, char *line, size_t len)
{
    Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    req.service = (char *)service;
    vt_rpc_call_opts o = {.timeout_ms = 2000};
    vt_rpc_reply *reply;
    int rc = vt_rpc_call_unary(ch, &grpc__health__v1__health__descriptor, "Check", &req.base, &o,
                               &reply);
    const char *word = status_word(rc, reply);
    snprintf(line, len, "%s", word);
    vt_rpc_reply_free(reply);
    return strcmp(word, "SERVING") == 0;
}

int cli_health(int argc, char **argv)
{
    (void)argv;
    if (argc != 0) {
        fprintf(stderr, "usage: venta-cli health\n");
        return 2;
    }
    static const struct {
        const char *name, *var, *fallback;
    } services[] = {
        {"venta-user", "VENTA_USER_ADDR", "127.0.0.1:50051"},
        {"venta-vendor", "VENTA_VENDOR_ADDR", "127.0.0.1:50052"},
        {"venta-location", "VENTA_LOCATION_ADDR", "127.0.0.1:50053"},
    };
    vt_rpc_tls tls;
    bool tls_on = vt_rpc_tls_from_env("venta-cli", &tls);
    bool all = true;
    for (size_t i = 0; i < sizeof services / sizeof *services; i++) {
        const char *target = vt_config_str(services[i].var, services[i].fallback);
        vt_rpc_channel_opts co = {
            .target = target, .tls = tls_on ? &tls : NULL, .server_name = services[i].name};
        vt_rpc_channel *ch = NULL;
        char err[256];
        if (vt_rpc_channel_new(&co, &ch, err, sizeof err) != VT_OK) {
            printf("%-15s %-22s %s\n", services[i].name, target, err);
            all = false;
            continue;
        }
        char overall[32], pg[32], nats[32], js[32];
        bool ok = check(ch, "", overall, sizeof overall);
        check(ch, "postgres", pg, sizeof pg);
        check(ch, "nats", nats, sizeof nats);
        check(ch, "jetstream", js, sizeof js);
        printf("%-15s %-22s %-12s postgres=%s nats=%s jetstream=%s\n", services[i].name, target,
               overall, pg, nats, js);
        all = all && ok;
        vt_rpc_channel_free(ch);
    }
    return all ? 0 : 1;
}
