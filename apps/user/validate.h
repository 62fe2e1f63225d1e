/*
 * validate.h — checks of UserService input before it reaches the database, each
 * answering with a message that names the field (lowerCamelCase, as the REST API and
 * the webhook JSON call it). Pure functions; no allocation.
 */
#ifndef VENTA_USER_VALIDATE_H
#define VENTA_USER_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#define USER_ID_MAX 128  /* Clerk and RevenueCat app user ids */
#define EVENT_ID_MAX 256 /* svix-id, RevenueCat event.id */
#define EMAIL_MAX 320
#define NAME_MAX_CHARS 200
#define IMAGE_URL_MAX 2048
#define SHORT_TEXT_MAX 256 /* product ids, store, environment, event types */
#define ENTITLEMENTS_MAX 32
#define TRANSFER_USERS_MAX 32

/* An identifier: 1..max characters of printable ASCII without spaces (or empty when
 * !required). 0, or VT_INVALID_ARGUMENT with err naming field. */
int validate_id(const char *field, const char *value, size_t max, bool required, char *err,
                size_t errlen);
/* Free text: valid UTF-8, no control characters, at most max_chars characters. */
int validate_text(const char *field, const char *value, size_t max_chars, char *err, size_t errlen);
/* Empty, or at most EMAIL_MAX characters with exactly one '@' and text on both sides,
 * no spaces or control characters. */
int validate_email(const char *field, const char *value, char *err, size_t errlen);

#endif
