/*
 * db_error.c — the one answer a handler gives when the database fails it.
 *
 * libs/db turns PostgreSQL's SQLSTATE into a vt status (vt_db_status_from_sqlstate);
 * this file decides what of that a client is told. The rule is what a client can act
 * on: UNAVAILABLE and ABORTED invite a retry (grpc clients and our gateways treat them
 * so), INVALID_ARGUMENT says the request itself was wrong, and everything else is our
 * fault, INTERNAL. PostgreSQL's own text goes to the log under the call's request id,
 * never into the reply: it names tables and constraints, which are ours, not the API's.
 *
 * Statuses a handler expects from the database (a unique violation meaning "already
 * exists", a foreign key meaning "no such owner") are the handler's to answer before
 * it gets here; arriving here, they were not expected, and are INTERNAL.
 */
#include "vt_service.h"

int vt_service_db_code(int db_status)
{
    switch (db_status) {
    case VT_UNAVAILABLE:      /* no connection, restarting, too many connections */
    case VT_ABORTED:          /* serialization failure or deadlock outlived vt_db_tx's retries */
    case VT_INVALID_ARGUMENT: /* data exception, check or not-null violation */
        return db_status;
    default:
        return VT_INTERNAL;
    }
}

int vt_service_db_error(vt_rpc_ctx *ctx, const char *store, int rc, const char *err)
{
    vt_warn(vt_rpc_ctx_log(ctx), "%s: %s (%s)", store, err, vt_status_name(rc));
    int code = vt_service_db_code(rc);
    switch (code) {
    case VT_UNAVAILABLE:
        return vt_rpc_ctx_error(ctx, code, "%s unavailable, retry later", store);
    case VT_ABORTED:
        return vt_rpc_ctx_error(ctx, code, "conflicting concurrent change, retry");
    case VT_INVALID_ARGUMENT:
        return vt_rpc_ctx_error(ctx, code, "value refused by the %s", store);
    default:
        return vt_rpc_ctx_error(ctx, code, "%s error", store);
    }
}
