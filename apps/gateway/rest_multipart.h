/*
 * rest_multipart.h — finding one field of a multipart/form-data body (RFC 7578)
 * (rest_multipart.c): the image uploads' `file`.
 *
 * A leaf like rest_routes.h: it knows nothing of libwebsockets or the request record,
 * so tests/unit/gateway fuzzes it directly.
 */
#ifndef REST_MULTIPART_H
#define REST_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

/* RFC 2046: a boundary is 1 to 70 characters. */
#define REST_MULTIPART_BOUNDARY_MAX 70

typedef struct {
    const char *data; /* points into the body */
    size_t len;
    char filename[256];     /* "" when the part has none (or a longer one) */
    char content_type[128]; /* the part's Content-Type, "" when absent */
} rest_multipart_part;

typedef enum {
    REST_MULTIPART_OK = 0,
    REST_MULTIPART_NOT_MULTIPART, /* Content-Type is not multipart/form-data */
    REST_MULTIPART_MALFORMED,     /* no usable boundary, or a body that does not follow it */
    REST_MULTIPART_NO_FIELD,      /* well formed, but no part of that name */
} rest_multipart_result;

/* Is content_type multipart/form-data (any case, parameters allowed)? */
bool rest_multipart_is_form(const char *content_type);

/* Find the first part named field in body (len bytes, borrowed) framed by the boundary
 * of content_type. On OK, out points into body; otherwise err says why in a sentence
 * for the client. The whole body must be well formed up to the closing delimiter: a
 * body cut short is MALFORMED even when the field was complete. */
rest_multipart_result rest_multipart_find(const char *content_type, const char *body, size_t len,
                                          const char *field, rest_multipart_part *out, char *err,
                                          size_t errlen);

#endif
