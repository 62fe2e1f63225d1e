/*
 * import_rows.h — `venta-migrate import-venta`: the original Venta backend's rows
 * (Prisma tables `user`, `vendor`, `user_subscription`, `integration` at Venta-HQ/backend
 * 5f57d0e) as they come out of its database, and the pure decisions about each one: is
 * it importable, and what does it become in our tables. No I/O here, so every rule is a
 * unit test (tests/unit/migrate).
 *
 * Vendor profiles are checked with venta-vendor's own rules (apps/vendor/validate.c), so
 * an imported vendor is one that the VendorService itself would have accepted. A row
 * whose required part fails (ids, owner, name, subscription status) is skipped with a
 * reason; an optional field that fails (email, phone, website, primaryImage,
 * description, the location) is left out and noted, and the rest of the row imported.
 */
#ifndef VENTA_MIGRATE_IMPORT_ROWS_H
#define VENTA_MIGRATE_IMPORT_ROWS_H

#include "vt_core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMPORT_WHY_LEN 256
#define IMPORT_EVENT_ID_MAX 256 /* as account.webhook_events.event_id */
#define IMPORT_PRODUCT_ID_MAX 256

/* One `user` row. Strings are borrowed (they point into the source's result). */
typedef struct {
    const char *id, *clerk_id;
    int64_t created_ms, updated_ms;
} import_user_row;

/* One `vendor` row joined with the user whose id it shares (vendor.id references
 * user.id: the owner relation of vendor.prisma). NULL text columns arrive as NULL. */
typedef struct {
    const char *id;
    bool owner_exists;
    const char *owner_clerk_id; /* NULL when the user does not exist */
    bool has_lat, has_long;
    double lat, lng;
    const char *name, *description, *phone, *email, *website, *primary_image;
    bool open;
    int64_t created_ms, updated_ms;
} import_vendor_row;

/* One `user_subscription` row joined with its user and the user's newest RevenueCat
 * `integration` (rc_id NULL when there is none). */
typedef struct {
    const char *id;
    bool user_exists;
    const char *clerk_id;
    const char *status; /* "SubscriptionStatus" as text */
    int64_t updated_ms;
    const char *rc_id, *rc_data, *rc_provider_id; /* data as JSON text, may be NULL */
} import_subscription_row;

/* One `integration` row joined with its user. */
typedef struct {
    const char *id, *type; /* "IntegrationType" as text: Clerk, RevenueCat */
    const char *data;      /* JSON text or NULL */
    const char *provider_id;
    bool user_exists;
    const char *clerk_id;
    int64_t created_ms;
} import_integration_row;

/* What a RevenueCat integration's data holds: the INITIAL_PURCHASE it came from
 * ({"eventId","productId","transactionId"}, all strings, as the original wrote it). */
typedef struct {
    char event_id[IMPORT_EVENT_ID_MAX + 1];
    char product_id[IMPORT_PRODUCT_ID_MAX + 1];
    char transaction_id[IMPORT_PRODUCT_ID_MAX + 1];
} import_revenuecat_ids;

/* A vendor as it goes into vendor.vendors; strings borrowed from the row ("" = none). */
typedef struct {
    char id[VT_UUID_LEN + 1]; /* lowercase */
    const char *owner_id;     /* the owner's clerkId */
    const char *name, *description, *email, *phone, *website, *profile_image;
    bool is_open;
    bool has_location;
    double lat, lng;
    /* Optional parts left out, one sentence each ("email left out: …"). */
    char notes[6][IMPORT_WHY_LEN];
    int nnotes;
} import_vendor;

/* Our subscription for an original status. */
typedef struct {
    const char *original; /* "Active" */
    const char *status;   /* account.subscriptions.status */
    bool ends_at_update;  /* expires_at := the row's updatedAt (no entitlement left) */
} import_status;

/* The mapping table, for docs and tests; NULL-terminated on .original. */
extern const import_status import_statuses[];

/* The status for an original value, or NULL when it has none (skip the row). */
const import_status *import_status_for(const char *original);

/* 0 when clerk_id is one of ours (1..128 printable ASCII, no spaces, as the API's user
 * ids); otherwise VT_INVALID_ARGUMENT with the reason in why. */
int import_check_clerk_id(const char *clerk_id, char *why, size_t whylen);

/* 0 with *out filled, or VT_INVALID_ARGUMENT with why: the reason to skip the row. */
int import_map_vendor(const import_vendor_row *in, import_vendor *out, char *why, size_t whylen);

/* Parse a RevenueCat integration's data; 0, or VT_INVALID_ARGUMENT with why. */
int import_parse_revenuecat(const char *json, import_revenuecat_ids *out, char *why, size_t whylen);

/* Copy text for one report line: control bytes become '?', at most 96 bytes kept. */
void import_printable(const char *in, char *out, size_t outlen);

#endif
