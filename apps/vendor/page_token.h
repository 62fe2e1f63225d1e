/*
 * page_token.h — opaque cursors for ListVendors (page_token) and SearchVendors (cursor).
 *
 * A token is base64url (no padding) of "v1|<kind>|<fingerprint>|<sort key>|<vendor id>":
 * for List, the position after the last vendor of the previous page (keyset pagination:
 * no OFFSET, so pages neither skip nor repeat rows when vendors are added or deleted
 * meanwhile); for Search, the offset of the next page (search ranks by several keys and
 * stops at 1000 hits, as Algolia does, so an offset is cheap and exact enough). The fingerprint is
 * a hash of the query's own arguments (owner filter; search text and radius), so a token replayed
 * against another query is refused instead of silently starting somewhere odd. Clients must treat
 * tokens as opaque; the format may change with its version prefix.
 */
#ifndef VENTA_VENDOR_PAGE_TOKEN_H
#define VENTA_VENDOR_PAGE_TOKEN_H

#include "vt_core.h"

#include <stddef.h>
#include <stdint.h>

#define PAGE_TOKEN_MAX 256
#define PAGE_KEY_MAX 48

typedef struct {
    char kind; /* 'L' list, 'S' search */
    uint64_t fingerprint;
    char key[PAGE_KEY_MAX]; /* created_at text (L) or the next offset (S) */
    char id[VT_UUID_LEN + 1];
} page_token;

/* FNV-1a over a list of strings (NULL-terminated), with separators. */
uint64_t page_fingerprint(const char *const *parts);

/* Encode into out (PAGE_TOKEN_MAX bytes). 0, or VT_OUT_OF_RANGE when the key is too long. */
int page_token_encode(const page_token *t, char *out, size_t outlen);
/* Parse and check a token of the given kind: 0, or VT_INVALID_ARGUMENT when it is
 * malformed (bad base64, version, kind, key or id); the fingerprint is returned for
 * the caller to compare. */
int page_token_decode(const char *text, char kind, page_token *out);

#endif
