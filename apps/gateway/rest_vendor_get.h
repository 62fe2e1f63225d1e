/*
 * rest_vendor_get.h — GET /api/v1/vendors/{id} with its live position (rest_vendor_get.c).
 */
#ifndef REST_VENDOR_GET_H
#define REST_VENDOR_GET_H

#include "rest_req.h"

/* Start with get_vendor (a GetVendorRequest, owned from here). */
void rest_vendor_get(rest_req *req, ProtobufCMessage *get_vendor);

#endif
