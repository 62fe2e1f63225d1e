/*
 * store.c — see store.h.
 *
 * Concurrency: handlers run each webhook as one READ COMMITTED transaction that starts
 * with "event_record" (INSERT … ON CONFLICT DO NOTHING). A second delivery of the same
 * event id blocks on the first one's uncommitted row and, once it commits, inserts
 * nothing: that is the duplicate. Users are created with INSERT … ON CONFLICT (clerk_id)
 * DO NOTHING and then locked with SELECT … FOR UPDATE, so concurrent events about one
 * user leave one row and apply one after the other, each deciding on the latest state.
 *
 * Ordering: a subscription remembers the provider timestamp of the last event applied
 * (last_event_at); the conflict branch of "sub_apply" only updates when the incoming
 * event is not older, so a late event is a no-op instead of a regression.
 *
 * Entitlement is computed when read (ENTITLED below), because time alone ends it: a
 * cancelled subscription stops granting access when expires_at passes, with no event.
 * The stored `entitled` column is refreshed on every write for SQL readers.
 */
#include "store.h"

#include <stdio.h>
#include <string.h>

/* clang-format off */
#define RFC3339(x)                                                                         \
    "coalesce(to_char(" x " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), '')"
#define MS_TO_TS(p) "to_timestamp(" p "::int8 / 1000.0)"
#define ENTITLED(s)                                                                        \
    "(" s ".status IN ('active', 'cancelled', 'billing_issue', 'paused') AND (" s          \
    ".expires_at IS NULL OR " s ".expires_at > now()))"

const vt_db_statement store_statements[] = {
    /* $1 provider, $2 event id, $3 event type: one row means "first delivery". */
    {"event_record",
     "INSERT INTO account.webhook_events (provider, event_id, event_type, processed_at) "
     "VALUES ($1::text, $2::text, $3::text, now()) "
     "ON CONFLICT (provider, event_id) DO NOTHING RETURNING 1"},

    /* $1 clerk id, $2 email, $3 first, $4 last, $5 image, $6 Clerk updated_at ms,
     * $7 Clerk created_at ms. Returns the row id when this call created it. */
    {"user_insert",
     "INSERT INTO account.users (clerk_id, email, first_name, last_name, image_url, "
     "clerk_updated_at, created_at) "
     "VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, " MS_TO_TS("$6") ", "
     "coalesce(" MS_TO_TS("$7") ", now())) "
     "ON CONFLICT (clerk_id) DO NOTHING RETURNING id::text"},
    /* $1 clerk id: id, deleted?, deleted_at ms, clerk_updated_at ms; locks the row. */
    {"user_lock",
     "SELECT id::text, deleted_at IS NOT NULL, "
     "coalesce((extract(epoch FROM deleted_at) * 1000)::int8, 0), "
     "coalesce((extract(epoch FROM clerk_updated_at) * 1000)::int8, 0) "
     "FROM account.users WHERE clerk_id = $1::text FOR UPDATE"},
    /* $1 row id, then as user_insert. A full profile replaces the stored one (Clerk
     * sends the whole user every time) and revives a deleted row. */
    {"user_update",
     "UPDATE account.users SET email = $2::text, first_name = $3::text, last_name = $4::text, "
     "image_url = $5::text, clerk_updated_at = coalesce(" MS_TO_TS("$6") ", clerk_updated_at), "
     "created_at = least(created_at, coalesce(" MS_TO_TS("$7") ", created_at)), "
     "deleted_at = NULL, updated_at = now() WHERE id = $1::uuid"},
    /* A user known only by id (first seen in a subscription event). */
    {"user_from_subscription",
     "INSERT INTO account.users (clerk_id) VALUES ($1::text) "
     "ON CONFLICT (clerk_id) DO NOTHING RETURNING id::text"},
    /* user.deleted for an id never seen: a tombstone, so that a late user.created
     * older than the deletion does not bring it to life. */
    {"user_tombstone",
     "INSERT INTO account.users (clerk_id, deleted_at) VALUES ($1::text, now()) "
     "ON CONFLICT (clerk_id) DO NOTHING RETURNING id::text"},
    /* Soft delete: the row stays as a tombstone without personal data. */
    {"user_delete",
     "UPDATE account.users SET deleted_at = now(), email = NULL, first_name = NULL, "
     "last_name = NULL, image_url = NULL, updated_at = now() WHERE id = $1::uuid"},
    {"sub_delete_all", "DELETE FROM account.subscriptions WHERE user_id = $1::uuid"},
    {"user_get",
     "SELECT u.clerk_id, coalesce(u.email, ''), coalesce(u.first_name, ''), "
     "coalesce(u.last_name, ''), coalesce(u.image_url, ''), " RFC3339("u.created_at") ", "
     RFC3339("u.updated_at") ", coalesce(s.status, 'none'), coalesce(s.product_id, ''), "
     "coalesce(s.entitlement_ids, '{}')::text, " RFC3339("s.expires_at") ", "
     RFC3339("s.purchased_at") ", coalesce(s.period_type, ''), coalesce(s.store, ''), "
     "coalesce(s.environment, ''), " RFC3339("s.updated_at") ", "
     "coalesce(" ENTITLED("s") ", false), "
     "coalesce((extract(epoch FROM s.expires_at) * 1000)::int8, 0) "
     "FROM account.users u LEFT JOIN account.subscriptions s "
     "ON s.user_id = u.id AND s.provider = 'revenuecat' "
     "WHERE u.clerk_id = $1::text AND u.deleted_at IS NULL"},

    /* One RevenueCat transition. $1 user row id; $2 product, $3 entitlement ids (text[]),
     * $4 status, $5 period type, $6 store, $7 environment, $8 purchased_at ms: NULL keeps
     * the stored value. $9 expires ms with $10 = true replaces expires_at even with NULL
     * (a new purchase period), false keeps it unless given. $11 event id, $12 type,
     * $13 event timestamp ms. Returns the row id, or nothing when the stored state comes
     * from a newer event. */
    {"sub_apply",
     "INSERT INTO account.subscriptions AS s (user_id, provider, product_id, entitlement_ids, "
     "status, period_type, store, environment, purchased_at, expires_at, last_event_id, "
     "last_event_type, last_event_at) "
     "VALUES ($1::uuid, 'revenuecat', $2::text, coalesce($3::text[], '{}'), "
     "coalesce($4::text, 'active'), $5::text, $6::text, $7::text, " MS_TO_TS("$8") ", "
     MS_TO_TS("$9") ", $11::text, $12::text, " MS_TO_TS("$13") ") "
     "ON CONFLICT (user_id, provider) DO UPDATE SET "
     "product_id = coalesce($2::text, s.product_id), "
     "entitlement_ids = coalesce($3::text[], s.entitlement_ids), "
     "status = coalesce($4::text, s.status), "
     "period_type = coalesce($5::text, s.period_type), store = coalesce($6::text, s.store), "
     "environment = coalesce($7::text, s.environment), "
     "purchased_at = coalesce(" MS_TO_TS("$8") ", s.purchased_at), "
     "expires_at = CASE WHEN $10::bool THEN " MS_TO_TS("$9") " ELSE coalesce(" MS_TO_TS("$9")
     ", s.expires_at) END, "
     "last_event_id = $11::text, last_event_type = $12::text, last_event_at = " MS_TO_TS("$13")
     ", updated_at = now() "
     "WHERE s.last_event_at IS NULL OR s.last_event_at <= " MS_TO_TS("$13") " "
     "RETURNING s.id::text"},
    {"sub_entitled",
     "UPDATE account.subscriptions s SET entitled = " ENTITLED("s") " WHERE s.id = $1::uuid"},

    /* TRANSFER. $1 text[] of the users it comes from: the subscription to move (one that
     * still grants something first, then the newest). */
    {"sub_transfer_source",
     "SELECT s.id::text FROM account.subscriptions s JOIN account.users u ON u.id = s.user_id "
     "WHERE u.clerk_id = ANY($1::text[]) AND s.provider = 'revenuecat' "
     "ORDER BY (s.status <> 'expired') DESC, s.last_event_at DESC NULLS LAST LIMIT 1 "
     "FOR UPDATE OF s"},
    /* $1 receiving user row id, $2 source subscription id, $3 event id, $4 event ms. */
    {"sub_transfer_to",
     "INSERT INTO account.subscriptions AS s (user_id, provider, product_id, entitlement_ids, "
     "status, period_type, store, environment, original_transaction_id, purchased_at, "
     "expires_at, last_event_id, last_event_type, last_event_at) "
     "SELECT $1::uuid, f.provider, f.product_id, f.entitlement_ids, f.status, f.period_type, "
     "f.store, f.environment, f.original_transaction_id, f.purchased_at, f.expires_at, "
     "$3::text, 'TRANSFER', " MS_TO_TS("$4") " FROM account.subscriptions f "
     "WHERE f.id = $2::uuid "
     "ON CONFLICT (user_id, provider) DO UPDATE SET product_id = EXCLUDED.product_id, "
     "entitlement_ids = EXCLUDED.entitlement_ids, status = EXCLUDED.status, "
     "period_type = EXCLUDED.period_type, store = EXCLUDED.store, "
     "environment = EXCLUDED.environment, "
     "original_transaction_id = EXCLUDED.original_transaction_id, "
     "purchased_at = EXCLUDED.purchased_at, expires_at = EXCLUDED.expires_at, "
     "last_event_id = EXCLUDED.last_event_id, last_event_type = 'TRANSFER', "
     "last_event_at = EXCLUDED.last_event_at, updated_at = now() "
     "WHERE s.last_event_at IS NULL OR s.last_event_at <= EXCLUDED.last_event_at "
     "RETURNING s.id::text"},
    /* $1 clerk id of a user it leaves, $2 event id, $3 event ms: the subscription stays
     * as a record, expired (so that older events cannot bring it back). */
    {"sub_transfer_from",
     "UPDATE account.subscriptions s SET status = 'expired', entitled = false, "
     "last_event_id = $2::text, last_event_type = 'TRANSFER', last_event_at = " MS_TO_TS("$3")
     ", updated_at = now() FROM account.users u "
     "WHERE u.id = s.user_id AND u.clerk_id = $1::text AND s.provider = 'revenuecat' "
     "AND (s.last_event_at IS NULL OR s.last_event_at <= " MS_TO_TS("$3") ") "
     "RETURNING s.id::text"},
};
/* clang-format on */
const size_t store_nstatements = sizeof store_statements / sizeof store_statements[0];

size_t store_text_array_encode(char *const *items, size_t n, char *out, size_t outlen)
{
    size_t len = 0;
#define PUT(ch)                                                                                    \
    do {                                                                                           \
        if (len + 1 < outlen)                                                                      \
            out[len] = (ch);                                                                       \
        len++;                                                                                     \
    } while (0)
    PUT('{');
    for (size_t i = 0; i < n; i++) {
        if (i)
            PUT(',');
        PUT('"');
        for (const char *p = items[i]; *p; p++) {
            if (*p == '"' || *p == '\\')
                PUT('\\');
            PUT(*p);
        }
        PUT('"');
    }
    PUT('}');
#undef PUT
    if (outlen)
        out[len < outlen ? len : outlen - 1] = '\0';
    return len;
}

long store_text_array_decode(const char *literal, char *buf, char **items)
{
    const char *p = literal;
    if (*p++ != '{')
        return -1;
    long n = 0;
    if (*p == '}')
        return p[1] == '\0' ? 0 : -1;
    for (;;) {
        items[n++] = buf;
        if (*p == '"') {
            for (p++; *p != '"'; p++) {
                if (*p == '\\')
                    p++;
                if (*p == '\0')
                    return -1;
                *buf++ = *p;
            }
            p++;
        } else {
            /* Unquoted elements have no quotes, braces, commas or backslashes. */
            while (*p && *p != ',' && *p != '}')
                *buf++ = *p++;
        }
        *buf++ = '\0';
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == '}' && p[1] == '\0')
            return n;
        return -1;
    }
}

const char *store_ms(int64_t ms, char out[24])
{
    if (ms <= 0)
        return NULL;
    snprintf(out, 24, "%lld", (long long)ms);
    return out;
}
