/*
 * validate.h — checks of vendor profile fields before they reach PostgreSQL.
 *
 * Each check returns 0 or VT_INVALID_ARGUMENT with a message that names the field by
 * its API (JSON) name, e.g. "name must be 1 to 120 characters", because that message
 * is what a web or mobile developer reads in the 400 body. Lengths count Unicode code
 * points, as the table's char_length CHECKs do, and text must be valid UTF-8. Limits
 * match prisma-free-sql/0003_vendor.sql, so the database constraints never fire for
 * input that passed here. Optional fields (email, phone, website, profileImage) accept
 * "" meaning "none".
 */
#ifndef VENTA_VENDOR_VALIDATE_H
#define VENTA_VENDOR_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#define VENDOR_NAME_MAX 120L
#define VENDOR_DESCRIPTION_MAX 2000L
#define VENDOR_EMAIL_MAX 320L
#define VENDOR_URL_MAX 2048L
#define VENDOR_OWNER_MAX 128L
#define VENDOR_QUERY_MAX 200L

int validate_name(const char *name, char *err, size_t errlen);
int validate_description(const char *description, char *err, size_t errlen);
int validate_email(const char *email, char *err, size_t errlen);
int validate_phone(const char *phone, char *err, size_t errlen);
/* field is the API name used in the message ("website", "profileImage"). */
int validate_url(const char *field, const char *url, char *err, size_t errlen);
/* The caller's identity from x-user-id (or a ListVendors ownerId filter). */
int validate_owner_id(const char *field, const char *owner_id, char *err, size_t errlen);
/* SearchVendors' q: 1 to VENDOR_QUERY_MAX characters, not blank. */
int validate_query(const char *q, char *err, size_t errlen);

/* Code points of valid UTF-8 text, counting at most max + 1 of them (so a megabyte is
 * not walked to learn it is too long); -1 when the text is not valid UTF-8. */
long utf8_count(const char *text, long max);

#endif
