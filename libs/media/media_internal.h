/*
 * media_internal.h — what libs/media's files share and nobody else sees.
 */
#ifndef VT_MEDIA_INTERNAL_H
#define VT_MEDIA_INTERNAL_H

#include <stddef.h>

/* Drop the EXIF, XMP and ICC chunks of a WebP file in place (webp_strip.c) and clear
 * their flags in VP8X; *len shrinks. 0, or -1 when data is not a well-formed WebP
 * RIFF container (then it is unchanged). */
int media_webp_strip(unsigned char *data, size_t *len);

#endif
