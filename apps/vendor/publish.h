/*
 * publish.h — the VendorService's domain events (API.md §6): evt.vendor.created /
 * evt.vendor.updated / evt.vendor.deleted, payload venta.events.v1.VendorEvent.
 *
 * A write and its events are one transaction (vendor_write): the statement, then one
 * event per row it returned into vendor.outbox. libs/outbox's relay publishes them
 * once committed — at least once, whatever happens to this process or to NATS in
 * between — and a write that fails or rolls back announces nothing.
 */
#ifndef VENTA_VENDOR_PUBLISH_H
#define VENTA_VENDOR_PUBLISH_H

#include "profile_cache.h"
#include "vt_db.h"
#include "vt_outbox.h"

#include <stdbool.h>

#define VENDOR_OUTBOX_TABLE "vendor.outbox"

typedef enum { VENDOR_CREATED, VENDOR_UPDATED, VENDOR_DELETED } vendor_event_type;

/* One write statement: runs on c, *res gets the rows it changed (caller PQclears). */
typedef int (*vendor_write_fn)(vt_db_conn *c, const void *args, PGresult **res, char *err,
                               size_t errlen);

/* In one transaction on c (which must have the outbox statement, see
 * vendor_statements_with_outbox): write(args), then a `type` event for every row it
 * returned. Those rows start with id, owner_id, name; is_open is column is_open_col.
 * request_id may be NULL. On success *res holds the rows and, when there are any,
 * outbox (may be NULL) is kicked and profiles (may be NULL) forgets each row's vendor. */
int vendor_write(vt_db_conn *c, vt_outbox_relay *outbox, profile_cache *profiles,
                 vendor_write_fn write, const void *args, vendor_event_type type, int is_open_col,
                 const char *request_id, PGresult **res, char *err, size_t errlen);

/* store_statements plus the outbox's insert, for connections that write (a static
 * array, built once; n gets its length). */
const vt_db_statement *vendor_statements_with_outbox(size_t *n);

#endif
