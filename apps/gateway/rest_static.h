/*
 * rest_static.h — the live map page, read once at start and served from memory
 * (rest_static.c), with the page's configuration (/config.json) built from the
 * environment at the same time.
 */
#ifndef REST_STATIC_H
#define REST_STATIC_H

#include "rest_req.h"

/* What the page learns from /config.json. Borrowed strings, copied by the loader. */
typedef struct {
    const char *tile_url;         /* VENTA_MAP_TILE_URL: "" for the offline basemap */
    const char *tile_attribution; /* VENTA_MAP_TILE_ATTRIBUTION: shown under the tiles */
} rest_static_config;

/* Read the map's files from dir into memory and build /config.json; returns how many
 * files were found (a missing file is logged, not fatal: the API works without it). */
int rest_static_load(const char *dir, const rest_static_config *cfg);
void rest_static_free(void);
/* Answer req with the file called name, or 404 when it was not loaded. */
void rest_static_serve(rest_req *req, const char *name);
/* Is tmpl a usable tile URL template ({z}, {x} and {y}, http or https)? NULL when it
 * is, else why not (for the one-line start error). */
const char *rest_static_tile_url_problem(const char *tmpl);

#endif
