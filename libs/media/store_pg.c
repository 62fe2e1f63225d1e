/*
 * store_pg.c — vt_media's PostgreSQL backend: the media schema of
 * prisma-free-sql/0010_media.sql on a worker's own connection.
 *
 * put is one transaction: the image row goes in with ON CONFLICT DO NOTHING, and only
 * when it went in (this upload is the first of these bytes; a concurrent one of the
 * same bytes waits on the primary key and then finds it) do the renditions follow. So
 * an image is stored once and never half. Rendition bytes travel as binary bytea
 * parameters and come back as a binary column: no hex on either way.
 */
#include "vt_core.h"
#include "vt_media.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    vt_db_conn *conn;
} pg_store;

typedef struct {
    const vt_media_image *img;
    bool created;
} put_args;

static int put_tx(vt_db_conn *c, void *user, char *err, size_t errlen)
{
    put_args *a = user;
    const vt_media_image *img = a->img;
    char bytes[32];
    snprintf(bytes, sizeof bytes, "%zu", img->source_bytes);
    const char *image_values[] = {img->hash, img->source_format, bytes};
    PGresult *res;
    int rc = vt_db_query_params(c,
                                "INSERT INTO media.images (hash, source_format, source_bytes) "
                                "VALUES ($1, $2, $3::bigint) ON CONFLICT (hash) DO NOTHING "
                                "RETURNING hash",
                                3, image_values, NULL, NULL, 0, &res, err, errlen);
    if (rc != VT_OK)
        return rc;
    a->created = PQntuples(res) == 1;
    PQclear(res);
    if (!a->created)
        return VT_OK;
    for (int i = 0; i < VT_MEDIA_RENDITIONS; i++) {
        const vt_media_rendition *r = &img->r[i];
        char variant[16], width[16], height[16];
        snprintf(variant, sizeof variant, "%d", r->variant);
        snprintf(width, sizeof width, "%d", r->width);
        snprintf(height, sizeof height, "%d", r->height);
        const char *values[] = {img->hash, variant, vt_media_format_ext(r->format),
                                width,     height,  (const char *)r->data};
        const int lengths[] = {0, 0, 0, 0, 0, (int)r->len};
        const int formats[] = {0, 0, 0, 0, 0, 1};
        rc = vt_db_query_params(c,
                                "INSERT INTO media.renditions "
                                "(hash, variant, format, width, height, content) "
                                "VALUES ($1, $2::int, $3, $4::int, $5::int, $6::bytea)",
                                6, values, lengths, formats, 0, &res, err, errlen);
        if (rc != VT_OK)
            return rc;
        PQclear(res);
    }
    return VT_OK;
}

static int pg_put(void *impl, const vt_media_image *img, bool *created, char *err, size_t errlen)
{
    pg_store *s = impl;
    put_args a = {.img = img};
    int rc = vt_db_tx(s->conn, "READ COMMITTED", 3, put_tx, &a, err, errlen);
    *created = rc == VT_OK && a.created;
    return rc;
}

/* Run a read of one row about hash; VT_NOT_FOUND when there is none. */
static int read_one(pg_store *s, const char *sql, int n, const char *const *values,
                    int result_format, const char *hash, PGresult **res, char *err, size_t errlen)
{
    int rc =
        vt_db_query_params(s->conn, sql, n, values, NULL, NULL, result_format, res, err, errlen);
    if (rc != VT_OK)
        return rc;
    if (PQntuples(*res) != 1) {
        PQclear(*res);
        *res = NULL;
        snprintf(err, errlen, "image %s not found", hash);
        return VT_NOT_FOUND;
    }
    return VT_OK;
}

static int pg_info(void *impl, const char *hash, vt_media_info *out, char *err, size_t errlen)
{
    pg_store *s = impl;
    const char *values[] = {hash};
    PGresult *res;
    int rc = read_one(s,
                      "SELECT r.width, r.height, octet_length(r.content), i.source_format "
                      "FROM media.images i JOIN media.renditions r "
                      "ON r.hash = i.hash AND r.variant = 1024 AND r.format = 'jpg' "
                      "WHERE i.hash = $1",
                      1, values, 0, hash, &res, err, errlen);
    if (rc != VT_OK)
        return rc;
    out->width = atoi(PQgetvalue(res, 0, 0));
    out->height = atoi(PQgetvalue(res, 0, 1));
    out->bytes = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
    snprintf(out->source_format, sizeof out->source_format, "%s", PQgetvalue(res, 0, 3));
    PQclear(res);
    return VT_OK;
}

static int pg_get(void *impl, const char *hash, int variant, vt_media_format format,
                  unsigned char **data, size_t *len, char *err, size_t errlen)
{
    pg_store *s = impl;
    char v[16];
    snprintf(v, sizeof v, "%d", variant);
    const char *values[] = {hash, v, vt_media_format_ext(format)};
    PGresult *res;
    int rc = read_one(s,
                      "SELECT content FROM media.renditions "
                      "WHERE hash = $1 AND variant = $2::int AND format = $3",
                      3, values, 1, hash, &res, err, errlen);
    if (rc != VT_OK)
        return rc;
    size_t n = (size_t)PQgetlength(res, 0, 0);
    *data = malloc(n ? n : 1);
    if (!*data) {
        PQclear(res);
        snprintf(err, errlen, "out of memory");
        return VT_RESOURCE_EXHAUSTED;
    }
    memcpy(*data, PQgetvalue(res, 0, 0), n);
    *len = n;
    PQclear(res);
    return VT_OK;
}

static void pg_free(void *impl)
{
    free(impl);
}

static const vt_media_store_ops pg_ops = {
    .put = pg_put,
    .info = pg_info,
    .get = pg_get,
    .free = pg_free,
};

int vt_media_store_pg_new(const vt_media_pg_opts *opts, vt_media_store **out, char *err,
                          size_t errlen)
{
    if (!opts || !opts->conn) {
        snprintf(err, errlen, "the PostgreSQL media store needs a connection");
        return VT_INVALID_ARGUMENT;
    }
    pg_store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return VT_RESOURCE_EXHAUSTED;
    }
    s->conn = opts->conn;
    vt_media_store_opts so = {.ops = &pg_ops, .impl = s};
    return vt_media_store_new(&so, out, err, errlen);
}
