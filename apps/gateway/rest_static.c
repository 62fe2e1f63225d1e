/*
 * rest_static.c — the live map page served at / by the REST gateway.
 *
 * The page (web/: index.html, map.js, map.css) and what it loads from npm (Leaflet,
 * Leaflet.markercluster, topojson-client and Natural Earth's land from world-atlas at two scales,
 * which the build copies beside the page: web/meson.build) are read once at start from
 * VENTA_WEB_DIR (default: the build tree's web/, or the image's /usr/share/venta/web)
 * and kept in memory: serving them costs a copy, never a disk read on the loop. Only
 * the names in the table below are served, so no request path ever reaches the file
 * system. A missing file is not fatal — the API works without the map — and its route
 * then answers 404 saying why.
 *
 * /config.json is made here too, from the map's variables (VENTA_MAP_TILE_URL…), so a
 * deploy changes the basemap without rebuilding the page.
 */
#include "rest_static.h"
#include "rest_req.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The largest file served (the land at 1:10m is about 3 MiB). */
#define STATIC_MAX_BYTES (4 * 1024 * 1024)

#define TYPE_HTML "text/html; charset=utf-8"
#define TYPE_JS "text/javascript; charset=utf-8"
#define TYPE_CSS "text/css; charset=utf-8"
#define TYPE_JSON "application/json"

typedef struct {
    const char *name, *type;
    char *data;
    size_t len;
} static_file;

static static_file files[] = {
    {"index.html", TYPE_HTML, NULL, 0},
    {"map.js", TYPE_JS, NULL, 0},
    {"map.css", TYPE_CSS, NULL, 0},
    {"leaflet.js", TYPE_JS, NULL, 0},
    {"leaflet.css", TYPE_CSS, NULL, 0},
    {"leaflet.markercluster.js", TYPE_JS, NULL, 0},
    {"MarkerCluster.css", TYPE_CSS, NULL, 0},
    {"MarkerCluster.Default.css", TYPE_CSS, NULL, 0},
    {"topojson-client.min.js", TYPE_JS, NULL, 0},
    {"land-50m.json", TYPE_JSON, NULL, 0},
    {"land-10m.json", TYPE_JSON, NULL, 0},
    {"config.json", TYPE_JSON, NULL, 0}, /* made by make_config, not read */
};
#define NFILES (sizeof files / sizeof files[0])
#define CONFIG_FILE (NFILES - 1)

static char *make_config(const rest_static_config *cfg, size_t *len)
{
    json_t *o =
        json_pack("{s:s, s:s}", "tileUrl", cfg && cfg->tile_url ? cfg->tile_url : "",
                  "tileAttribution", cfg && cfg->tile_attribution ? cfg->tile_attribution : "");
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (text)
        *len = strlen(text);
    return text;
}

int rest_static_load(const char *dir, const rest_static_config *cfg)
{
    int loaded = 0;
    for (size_t i = 0; i < NFILES; i++) {
        size_t len = 0;
        char *data = NULL;
        char err[256] = "it is empty";
        if (i == CONFIG_FILE) {
            data = make_config(cfg, &len);
        } else {
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
            if (vt_file_read(path, STATIC_MAX_BYTES, false, &data, &len, err, sizeof err) ==
                    VT_OK &&
                len == 0) {
                free(data); /* an empty file serves nothing */
                data = NULL;
            }
        }
        if (!data) {
            vt_warn(NULL, "web: %s is not served (%s); the map page may not work", files[i].name,
                    err);
            continue;
        }
        free(files[i].data);
        files[i].data = data;
        files[i].len = len;
        loaded++;
    }
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

const char *rest_static_tile_url_problem(const char *tmpl)
{
    if (strncmp(tmpl, "https://", 8) != 0 && strncmp(tmpl, "http://", 7) != 0)
        return "must start with https:// or http://";
    if (!strstr(tmpl, "{z}") || !strstr(tmpl, "{x}") || !strstr(tmpl, "{y}"))
        return "must hold {z}, {x} and {y} (e.g. https://tiles.example.com/{z}/{x}/{y}.png)";
    for (const char *c = tmpl; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == '"' || *c == '<' || *c == '>' || *c == '\\')
            return "must be one URL without spaces, quotes or angle brackets";
    return NULL;
}
