/*
 * allow.c — who may call what: the caller's name from its certificate, and the server's
 * allow-list (vt_rpc_allow rows, docs/security.md), checked before a handler runs.
 *
 * The handshake has already verified the certificate and that it carries one SPIFFE id
 * of the mesh (tls.c); grpc core puts that id in the call's auth context as
 * "peer_spiffe_id". Rows are few (a dozen for the whole mesh) and matched in order with
 * string compares: no table to build, nothing that can go stale.
 */
#include <stdio.h>
#include <string.h>

#include <grpc/grpc_security.h>

#include "rpc_internal.h"

const char *rpc_peer_name(grpc_call *call, rpc_arena *arena)
{
    grpc_auth_context *auth = grpc_call_auth_context(call);
    if (!auth)
        return NULL;
    const char *name = NULL;
    grpc_auth_property_iterator it =
        grpc_auth_context_find_properties_by_name(auth, GRPC_PEER_SPIFFE_ID_PROPERTY_NAME);
    const grpc_auth_property *p = grpc_auth_property_iterator_next(&it);
    size_t plen = strlen(VT_RPC_SPIFFE_PREFIX);
    if (p && p->value_length > plen && memcmp(p->value, VT_RPC_SPIFFE_PREFIX, plen) == 0 &&
        !grpc_auth_property_iterator_next(&it))
        name = rpc_arena_strndup(arena, p->value + plen, p->value_length - plen);
    grpc_auth_context_release(auth);
    return name;
}

/* "*", the exact path, or its service: "/pkg.Service/". */
static bool method_matches(const char *pattern, const char *path)
{
    if (strcmp(pattern, "*") == 0 || strcmp(pattern, path) == 0)
        return true;
    size_t n = strlen(pattern);
    return n >= 2 && pattern[n - 1] == '/' && strncmp(pattern, path, n) == 0 &&
           !strchr(path + n, '/');
}

bool rpc_allowed(const vt_rpc_allow *rows, const char *path, const char *peer, bool has_user_id,
                 char *why, size_t whylen)
{
    if (!peer) {
        snprintf(why, whylen, "the caller has no identity of the mesh");
        return false;
    }
    if (!rows)
        return true;
    bool may_call = false;
    for (const vt_rpc_allow *r = rows; r->method; r++) {
        if (!method_matches(r->method, path) ||
            (strcmp(r->caller, "*") != 0 && strcmp(r->caller, peer) != 0))
            continue;
        if (!has_user_id || r->user_id)
            return true;
        may_call = true;
    }
    if (may_call)
        snprintf(why, whylen, "%.100s may call %.200s but not on behalf of a user (x-user-id)",
                 peer, path);
    else
        snprintf(why, whylen, "%.100s may not call %.200s", peer, path);
    return false;
}
