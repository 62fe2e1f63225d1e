/*
 * status.c — names of the canonical gRPC status codes and their HTTP mapping.
 *
 * The REST gateway answers with the HTTP status grpc-gateway and Envoy use for each
 * code (API.md §3), so one table here keeps every edge consistent.
 */
#include "vt_core.h"

#include <string.h>

static const char *const status_names[VT_STATUS_COUNT] = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
};

static const short status_http[VT_STATUS_COUNT] = {
    200, /* OK */
    499, /* CANCELLED: client closed request */
    500, /* UNKNOWN */
    400, /* INVALID_ARGUMENT */
    504, /* DEADLINE_EXCEEDED */
    404, /* NOT_FOUND */
    409, /* ALREADY_EXISTS */
    403, /* PERMISSION_DENIED */
    429, /* RESOURCE_EXHAUSTED */
    400, /* FAILED_PRECONDITION */
    409, /* ABORTED */
    400, /* OUT_OF_RANGE */
    501, /* UNIMPLEMENTED */
    500, /* INTERNAL */
    503, /* UNAVAILABLE */
    500, /* DATA_LOSS */
    401, /* UNAUTHENTICATED */
};

const char *vt_status_name(int code)
{
    if (code < 0 || code >= VT_STATUS_COUNT)
        return "UNKNOWN";
    return status_names[code];
}

int vt_status_from_name(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < VT_STATUS_COUNT; i++)
        if (strcmp(status_names[i], name) == 0)
            return i;
    return -1;
}

int vt_status_http(int code)
{
    if (code < 0 || code >= VT_STATUS_COUNT)
        return 500;
    return status_http[code];
}
