/*
 * import_source.h — reading the original Venta backend's database for import-venta.
 *
 * The tables are Prisma's (`"user"`, `vendor`, `user_subscription`, `integration`, quoted
 * camelCase columns, TIMESTAMP(3) holding UTC), found on the connection's search_path
 * (Prisma's `?schema=` is `options=-csearch_path=…` in a libpq URL). Only columns that
 * both of the original's migration histories create are read (`prisma/migrations/` and
 * `prisma/schema/migrations/`; the later one adds user.lat/long, which hold a viewer's
 * position and are not imported).
 *
 * The whole run reads one snapshot (a REPEATABLE READ, READ ONLY transaction), in pages
 * ordered by id (keyset: rows after the last id of the previous page), so rows written
 * to the original while the import runs neither appear half-way nor shift a page. The
 * source is never written.
 */
#ifndef VENTA_MIGRATE_IMPORT_SOURCE_H
#define VENTA_MIGRATE_IMPORT_SOURCE_H

#include "import_report.h"
#include "import_rows.h"

#include <libpq-fe.h>

typedef struct import_source import_source;

typedef struct {
    const char *url; /* libpq URL of the original's database */
} import_source_opts;

/* Connect, check that the four tables are there, and open the snapshot. 0 with *out,
 * or VT_INVALID_ARGUMENT / VT_UNAVAILABLE / VT_FAILED_PRECONDITION with err. */
int import_source_new(const import_source_opts *opts, import_source **out, char *err,
                      size_t errlen);
void import_source_free(import_source *s);

/* Up to limit rows of table t (IMPORT_LOCATIONS has none of its own) with ids after
 * `after` ("" for the first page), in id order. *res gets them (PQclear it). */
int import_source_page(import_source *s, import_table t, const char *after, int limit,
                       PGresult **res, char *err, size_t errlen);

/* Decode row i of a page of that table; strings point into res. */
void import_source_user(const PGresult *res, int i, import_user_row *out);
void import_source_vendor(const PGresult *res, int i, import_vendor_row *out);
void import_source_subscription(const PGresult *res, int i, import_subscription_row *out);
void import_source_integration(const PGresult *res, int i, import_integration_row *out);

#endif
