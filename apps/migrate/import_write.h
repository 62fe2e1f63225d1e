/*
 * import_write.h — import-venta's side of our database: each original row, already
 * mapped (import_rows.h), compared with what we hold and written with the statements'
 * shapes of the services that own the tables, and its outcome counted (import_report.h).
 *
 * Two connections, because each service schema has its own outbox and a domain event is
 * written in the same transaction as its change (libs/outbox): `account` (users,
 * subscriptions, webhook events; account.outbox) and `vendor` (vendors, their last known
 * location in vendor.vendors and location.vendor_locations; vendor.outbox). A batch
 * only touches one of them; the caller brackets it with import_write_begin/_end.
 *
 * Events: every row inserted or updated announces itself as the owning service would
 * (evt.user.created/updated, evt.vendor.created/updated, evt.subscription.changed;
 * request_id "import-venta-<run>"); unchanged and skipped rows announce nothing. The
 * running services' outbox relays publish them (or the first one to start).
 */
#ifndef VENTA_MIGRATE_IMPORT_WRITE_H
#define VENTA_MIGRATE_IMPORT_WRITE_H

#include "import_report.h"
#include "import_rows.h"

#include <stddef.h>

typedef struct import_write import_write;

typedef enum { IMPORT_ACCOUNT, IMPORT_VENDOR_SCHEMA } import_schema;

typedef struct {
    const char *url;        /* our database (VENTA_DATABASE_URL) */
    const char *request_id; /* carried by every event */
    import_report *report;  /* borrowed */
} import_write_opts;

/* Connects both; 0 with *out, or a VT_* code with err. */
int import_write_new(const import_write_opts *opts, import_write **out, char *err, size_t errlen);
void import_write_free(import_write *w);

/* BEGIN / COMMIT (or ROLLBACK when commit is false) on schema's connection. */
int import_write_begin(import_write *w, import_schema s, char *err, size_t errlen);
int import_write_end(import_write *w, import_schema s, bool commit, char *err, size_t errlen);

/* One row each, inside the transaction; the outcome (or the skip and its reason) goes
 * to the report. A non-zero return is a database failure: roll the batch back. */
int import_write_user(import_write *w, const import_user_row *u, char *err, size_t errlen);
int import_write_vendor(import_write *w, const import_vendor_row *v, char *err, size_t errlen);
int import_write_subscription(import_write *w, const import_subscription_row *s, char *err,
                              size_t errlen);
int import_write_integration(import_write *w, const import_integration_row *i, char *err,
                             size_t errlen);

#endif
