/*
 * rest_static.h — the live map page, read once at start and served from memory
 * (rest_static.c).
 */
#ifndef REST_STATIC_H
#define REST_STATIC_H

#include "rest_req.h"

/* Read web/'s files into memory; returns how many were found. */
int rest_static_load(const char *dir);
void rest_static_free(void);
/* Answer req with the file called name, or 404 when it was not loaded. */
void rest_static_serve(rest_req *req, const char *name);

#endif
