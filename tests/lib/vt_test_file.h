/*
 * vt_test_file.h — reading a fixture file, for the unit tests and fuzz targets that share
 * fixtures (tests/unit/auth: keys and tokens minted by npm jose).
 */
#ifndef VT_TEST_FILE_H
#define VT_TEST_FILE_H

#include <stdio.h>
#include <stdlib.h>

/* dir/name as a malloc'd string (up to 64 KiB) without its trailing line breaks, or NULL
 * when it cannot be read. */
static inline char *vt_test_read_file(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 65536);
    size_t n = buf ? fread(buf, 1, 65535, f) : 0;
    fclose(f);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return buf;
}

#endif
