/*
 * vt_test_rpc.h — gRPC servers and channels for tests (libs/rpc). Header-only: include
 * after vt_rpc.h and vt_test.h. A test that cannot make one stops, naming the reason.
 */
#ifndef VT_TEST_RPC_H
#define VT_TEST_RPC_H

#include <stdio.h>

/* A channel to target with base's other settings (NULL: the defaults). */
static inline vt_rpc_channel *vt_test_channel(const char *target, const vt_rpc_channel_opts *base)
{
    vt_rpc_channel_opts o = base ? *base : (vt_rpc_channel_opts){0};
    o.target = target;
    vt_rpc_channel *ch = NULL;
    char err[256];
    if (vt_rpc_channel_new(&o, &ch, err, sizeof err) != VT_OK)
        fprintf(stderr, "channel to %s: %s\n", target ? target : "(null)", err);
    VT_REQUIRE(ch != NULL);
    return ch;
}

/* A server with opts (NULL: the defaults). */
static inline vt_rpc_server *vt_test_server(const vt_rpc_server_opts *opts)
{
    vt_rpc_server *srv = NULL;
    char err[256];
    if (vt_rpc_server_new(opts, &srv, err, sizeof err) != VT_OK)
        fprintf(stderr, "server: %s\n", err);
    VT_REQUIRE(srv != NULL);
    return srv;
}

#endif
