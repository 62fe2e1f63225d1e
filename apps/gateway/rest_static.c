/*
 * rest_static.c — the live map page (web/) served at / by the REST gateway.
 *
 * Three small files, read once at start from VENTA_WEB_DIR (default: the source tree's
 * web/, or the image's /usr/share/venta/web) and kept in memory: serving them costs a
 * copy, never a disk read on the loop. A missing directory is not fatal — the API works
 * without the map — and / then answers 404 saying why.
 */
#include "rest_static.h"
#include "rest_req.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATIC_MAX_BYTES (1024 * 1024)

typedef struct {
    const char *name, *type;
    char *data;
    size_t len;
} static_file;

static static_file files[] = {
    {"index.html", "text/html; charset=utf-8", NULL, 0},
    {"map.js", "text/javascript; charset=utf-8", NULL, 0},
    {"map.css", "text/css; charset=utf-8", NULL, 0},
};
#define NFILES (sizeof files / sizeof files[0])

int rest_static_load(const char *dir)
{
    int loaded = 0;
    for (size_t i = 0; i < NFILES; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        char *buf = malloc(STATIC_MAX_BYTES);
        size_t n = buf ? fread(buf, 1, STATIC_MAX_BYTES, f) : 0;
        fclose(f);
        if (!buf || n == 0 || n == STATIC_MAX_BYTES) {
            free(buf);
            continue;
        }
        free(files[i].data);
        files[i].data = buf;
        files[i].len = n;
        loaded++;
    }
    if (loaded < (int)NFILES)
        vt_warn(NULL, "web: %d of %zu map files found in %s; the map page may not work", loaded,
                NFILES, dir);
    return loaded;
}

void rest_static_free(void)
{
    for (size_t i = 0; i < NFILES; i++) {
        free(files[i].data);
        files[i].data = NULL;
    }
}

void rest_static_serve(rest_req *req, const char *name)
{
    for (size_t i = 0; i < NFILES; i++) {
        if (strcmp(files[i].name, name) != 0)
            continue;
        if (!files[i].data)
            break;
        char *copy = malloc(files[i].len);
        if (!copy) {
            rest_respond_error(req, VT_INTERNAL, "out of memory");
            return;
        }
        memcpy(copy, files[i].data, files[i].len);
        rest_add_header(req, "cache-control", "no-cache");
        rest_respond(req, 200, files[i].type, copy, files[i].len);
        return;
    }
    rest_respond_error(req, VT_NOT_FOUND, "%s is not available (VENTA_WEB_DIR has no such file)",
                       name);
}
