/*
 * refuse.c — see vt_http.h.
 *
 * An upgrade lws is about to perform can only be refused from its CONFIRM_UPGRADE
 * callback, and only by writing the whole answer there and then (lws returns to its
 * parser afterwards and closes). So this is a complete HTTP response in one write: the
 * error shape of API.md §3, the request id (the client's when sane), Connection: close.
 */
#include "vt_http.h"

#include "vt_core.h"
#include "vt_json.h"

#include <stdio.h>
#include <string.h>

int vt_http_refuse_now(struct lws *wsi, unsigned int status, const char *code, const char *message)
{
    char rid[130], request_id[129], emsg[256];
    int n = lws_hdr_custom_copy(wsi, rid, sizeof rid, "x-request-id:", 13);
    if (n > 0 && (size_t)n < sizeof request_id && vt_request_id_sane(rid))
        memcpy(request_id, rid, (size_t)n + 1);
    else
        vt_request_id_new(request_id);
    vt_json_escape(message, emsg, sizeof emsg);
    char body[512];
    int blen = snprintf(body, sizeof body,
                        "{\"error\":{\"code\":\"%s\",\"message\":\"%s\",\"requestId\":\"%s\"}}",
                        code, emsg, request_id);
    if (blen < 0 || (size_t)blen >= sizeof body)
        return -1;
    return vt_http_refuse_body_now(wsi, status, request_id, body, (size_t)blen);
}

int vt_http_refuse_body_now(struct lws *wsi, unsigned int status, const char *request_id,
                            const char *body, size_t blen)
{
    unsigned char buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start,
                                       *end = buf + sizeof buf - 1;
    if (lws_add_http_common_headers(wsi, status, "application/json", (lws_filepos_t)blen, &p,
                                    end) ||
        (request_id && lws_add_http_header_by_name(wsi, (const unsigned char *)"x-request-id:",
                                                   (const unsigned char *)request_id,
                                                   (int)strlen(request_id), &p, end)) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"connection:",
                                    (const unsigned char *)"close", 5, &p, end) ||
        lws_finalize_http_header(wsi, &p, end) || end - p < (long)blen)
        return -1;
    memcpy(p, body, blen);
    p += blen;
    if (lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_FINAL) != (int)(p - start))
        return -1;
    return 1;
}
