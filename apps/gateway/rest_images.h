/*
 * rest_images.h — vendor images at the edge (rest_images.c): the two uploads and
 * GET /images/{hash}.{webp|jpg}, all answered by venta-vendor's MediaService.
 */
#ifndef REST_IMAGES_H
#define REST_IMAGES_H

#include "rest_req.h"

#include <stdbool.h>

/* POST /upload/image (the original backend's, Cloudinary-shaped answer) and
 * PUT /api/v1/vendors/{id}/image (the updated vendor), once the caller is known. */
void rest_image_upload(rest_req *req);
void rest_vendor_image_put(rest_req *req);
/* GET /images/{hash}.{ext}: public, cacheable forever. */
void rest_image_get(rest_req *req);

/* ---- the pure parts, for tests ---- */

/* "<64 hex>.webp" or "<64 hex>.jpg" → hash and format (vt_media_format); false else. */
bool rest_image_name_parse(const char *name, char hash[65], int *format);
/* Does an Accept header list image/webp with a q above 0? */
bool rest_accepts_webp(const char *accept);
/* Does an If-None-Match header (a list, "*", weak or strong) match etag (quoted)? */
bool rest_etag_matches(const char *if_none_match, const char *etag);

#endif
