/*
 * service_internal.h — what the files of libs/service share and nobody else sees.
 */
#ifndef VT_SERVICE_INTERNAL_H
#define VT_SERVICE_INTERNAL_H

#include "vt_service.h"

/* calls.c: frees the records of vt_service_add_methods, once the server that ran their
 * wrappers is gone. */
void service_methods_free(vt_service_method *list);

#endif
