/*
 * store.h — venta-user's SQL over the account schema (prisma-free-sql/0002, 0005):
 * users keyed by their Clerk id, one RevenueCat subscription per user, and the webhook
 * events that make every provider event idempotent. Every statement is prepared on each
 * worker connection and takes bound parameters only; times travel as Unix milliseconds
 * (NULL for "not given") and come back as RFC 3339 text.
 */
#ifndef VENTA_USER_STORE_H
#define VENTA_USER_STORE_H

#include "vt_db.h"

#include <stddef.h>
#include <stdint.h>

extern const vt_db_statement store_statements[];
extern const size_t store_nstatements;

/* Columns of the "user_get" statement, in order. */
enum {
    STORE_U_ID,
    STORE_U_EMAIL,
    STORE_U_FIRST_NAME,
    STORE_U_LAST_NAME,
    STORE_U_IMAGE_URL,
    STORE_U_CREATED_AT,
    STORE_U_UPDATED_AT,
    STORE_S_STATUS,
    STORE_S_PRODUCT_ID,
    STORE_S_ENTITLEMENT_IDS, /* text[] literal */
    STORE_S_EXPIRES_AT,
    STORE_S_PURCHASED_AT,
    STORE_S_PERIOD_TYPE,
    STORE_S_STORE,
    STORE_S_ENVIRONMENT,
    STORE_S_UPDATED_AT,
    STORE_S_ENTITLED, /* "t"/"f", computed at read time */
    STORE_S_EXPIRES_MS,
};

/* A PostgreSQL text[] literal of items: {"a","b\"c"}. Writes at most outlen bytes
 * (terminated) and returns the length needed without the terminator. */
size_t store_text_array_encode(char *const *items, size_t n, char *out, size_t outlen);
/* Parse a one-dimensional text[] as PostgreSQL prints it. Element text goes into buf
 * (at least strlen(literal) + 1 bytes) and items (at least strlen(literal) / 2 + 1
 * entries) points into it. Returns the element count, or -1 for a malformed literal. */
long store_text_array_decode(const char *literal, char *buf, char **items);

/* Milliseconds as decimal text into out[24]; NULL (SQL NULL) for ms <= 0. */
const char *store_ms(int64_t ms, char out[24]);

#endif
