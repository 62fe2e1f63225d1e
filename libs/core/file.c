/*
 * file.c — reading a whole file of bounded size: the one reader of the configuration
 * files, migrations and web assets that processes load once at start.
 *
 * The buffer is max + 1 bytes, so a file one byte too long is told from one that just
 * fits without a stat (whose size a growing file would outdate anyway), and it always
 * ends with a NUL, so text callers can use it as a C string.
 */
#include "vt_core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int vt_file_read(const char *path, size_t max, bool text, char **out, size_t *len, char *err,
                 size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return VT_NOT_FOUND;
    }
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    bool failed = !buf || ferror(f);
    fclose(f);
    if (failed || n > max) {
        free(buf);
        snprintf(err, errlen, "cannot read %s (or it is over %zu bytes)", path, max);
        return VT_INVALID_ARGUMENT;
    }
    buf[n] = '\0';
    if (text && memchr(buf, '\0', n)) {
        free(buf);
        snprintf(err, errlen, "%s contains a NUL byte", path);
        return VT_INVALID_ARGUMENT;
    }
    char *fit = realloc(buf, n + 1);
    *out = fit ? fit : buf;
    *len = n;
    return VT_OK;
}
