/*
 * import_source.c — see import_source.h.
 */
#include "import_source.h"

#include "vt_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct import_source {
    PGconn *conn;
};

/* Epoch milliseconds of a Prisma DateTime column (timestamp(3) without zone, in UTC). */
#define MS(col) "(extract(epoch FROM " col " AT TIME ZONE 'UTC') * 1000)::int8"

static const char *const page_sql[IMPORT_TABLES] = {
    [IMPORT_USERS] = "SELECT u.id, u.\"clerkId\", " MS("u.\"createdAt\"") ", " MS(
        "u.\"updatedAt\"") " FROM \"user\" u WHERE u.id > $1 ORDER BY u.id LIMIT $2::int",
    [IMPORT_VENDORS] =
        "SELECT v.id, u.id IS NOT NULL, u.\"clerkId\", v.lat, v.long, v.name, v.description, "
        "v.phone, v.email, v.website, v.open, v.\"primaryImage\", " MS("v.\"createdAt\"") ", " MS(
            "v.\"updatedAt\"") " FROM vendor v LEFT JOIN \"user\" u ON u.id = v.id "
                               "WHERE v.id > $1 ORDER BY v.id LIMIT $2::int",
    [IMPORT_SUBSCRIPTIONS] = "SELECT s.id, u.id IS NOT NULL, u.\"clerkId\", s.status::text, " MS(
        "s.\"updatedAt\"") ", i.id, i.data::text, i.\"providerId\" "
                           "FROM user_subscription s LEFT JOIN \"user\" u ON u.id = s.\"userId\" "
                           "LEFT JOIN LATERAL (SELECT n.id, n.data, n.\"providerId\" "
                           "FROM integration n WHERE n.\"userId\" = s.\"userId\" "
                           "AND n.type::text = 'RevenueCat' "
                           "ORDER BY n.\"createdAt\" DESC, n.id DESC LIMIT 1) i ON true "
                           "WHERE s.id > $1 ORDER BY s.id LIMIT $2::int",
    [IMPORT_INTEGRATIONS] =
        "SELECT i.id, i.type::text, i.data::text, i.\"providerId\", u.id IS NOT NULL, "
        "u.\"clerkId\", " MS("i.\"createdAt\"") " FROM integration i "
                                                "LEFT JOIN \"user\" u ON u.id = i.\"userId\" "
                                                "WHERE i.id > $1 ORDER BY i.id LIMIT $2::int",
};

static int exec_ok(PGconn *c, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(c, sql);
    int st = PQresultStatus(r);
    int rc = VT_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "original database: %s", PQresultErrorMessage(r));
        rc = VT_FAILED_PRECONDITION;
    }
    PQclear(r);
    return rc;
}

/* The four tables must be there: a wrong --from says so, by name, before anything runs. */
static int check_tables(PGconn *c, char *err, size_t errlen)
{
    static const char *const tables[] = {"user", "vendor", "user_subscription", "integration"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char quoted[64];
        snprintf(quoted, sizeof quoted, "\"%s\"", tables[i]);
        const char *p[1] = {quoted};
        PGresult *r =
            PQexecParams(c, "SELECT to_regclass($1) IS NOT NULL", 1, NULL, p, NULL, NULL, 0);
        bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQgetvalue(r, 0, 0)[0] == 't';
        PQclear(r);
        if (!ok) {
            snprintf(err, errlen,
                     "the --from database has no table \"%s\" on its search_path: is it the "
                     "original Venta backend's?",
                     tables[i]);
            return VT_FAILED_PRECONDITION;
        }
    }
    return VT_OK;
}

int import_source_new(const import_source_opts *opts, import_source **out, char *err, size_t errlen)
{
    if (!opts || !opts->url || vt_db_url_valid(opts->url, err, errlen) != VT_OK) {
        if (!opts || !opts->url)
            snprintf(err, errlen, "--from needs the original database's URL");
        return VT_INVALID_ARGUMENT;
    }
    import_source *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return VT_RESOURCE_EXHAUSTED;
    }
    char why[512];
    s->conn = vt_db_connect(opts->url, why, sizeof why);
    if (!s->conn) {
        snprintf(err, errlen, "original database (--from): %s", why);
        free(s);
        return VT_UNAVAILABLE;
    }
    int rc = check_tables(s->conn, err, errlen);
    if (rc == VT_OK)
        rc = exec_ok(s->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err, errlen);
    if (rc != VT_OK) {
        import_source_free(s);
        return rc;
    }
    *out = s;
    return VT_OK;
}

void import_source_free(import_source *s)
{
    if (!s)
        return;
    if (s->conn) {
        PQclear(PQexec(s->conn, "ROLLBACK"));
        PQfinish(s->conn);
    }
    free(s);
}

int import_source_page(import_source *s, import_table t, const char *after, int limit,
                       PGresult **res, char *err, size_t errlen)
{
    *res = NULL;
    if (t >= IMPORT_TABLES || !page_sql[t]) {
        snprintf(err, errlen, "no source table for %s", import_table_name(t));
        return VT_INVALID_ARGUMENT;
    }
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    const char *p[2] = {after, lim};
    PGresult *r = PQexecParams(s->conn, page_sql[t], 2, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "reading the original's %s: %s", import_table_name(t),
                 PQresultErrorMessage(r));
        PQclear(r);
        return VT_FAILED_PRECONDITION;
    }
    *res = r;
    return VT_OK;
}

static const char *text_or_null(const PGresult *res, int i, int col)
{
    return PQgetisnull(res, i, col) ? NULL : PQgetvalue(res, i, col);
}

static bool flag(const PGresult *res, int i, int col)
{
    return PQgetvalue(res, i, col)[0] == 't';
}

static int64_t ms(const PGresult *res, int i, int col)
{
    return strtoll(PQgetvalue(res, i, col), NULL, 10);
}

void import_source_user(const PGresult *res, int i, import_user_row *out)
{
    out->id = PQgetvalue(res, i, 0);
    out->clerk_id = PQgetvalue(res, i, 1);
    out->created_ms = ms(res, i, 2);
    out->updated_ms = ms(res, i, 3);
}

void import_source_vendor(const PGresult *res, int i, import_vendor_row *out)
{
    out->id = PQgetvalue(res, i, 0);
    out->owner_exists = flag(res, i, 1);
    out->owner_clerk_id = text_or_null(res, i, 2);
    out->has_lat = !PQgetisnull(res, i, 3);
    out->has_long = !PQgetisnull(res, i, 4);
    out->lat = out->has_lat ? strtod(PQgetvalue(res, i, 3), NULL) : 0;
    out->lng = out->has_long ? strtod(PQgetvalue(res, i, 4), NULL) : 0;
    out->name = PQgetvalue(res, i, 5);
    out->description = text_or_null(res, i, 6);
    out->phone = text_or_null(res, i, 7);
    out->email = text_or_null(res, i, 8);
    out->website = text_or_null(res, i, 9);
    out->open = flag(res, i, 10);
    out->primary_image = text_or_null(res, i, 11);
    out->created_ms = ms(res, i, 12);
    out->updated_ms = ms(res, i, 13);
}

void import_source_subscription(const PGresult *res, int i, import_subscription_row *out)
{
    out->id = PQgetvalue(res, i, 0);
    out->user_exists = flag(res, i, 1);
    out->clerk_id = text_or_null(res, i, 2);
    out->status = PQgetvalue(res, i, 3);
    out->updated_ms = ms(res, i, 4);
    out->rc_id = text_or_null(res, i, 5);
    out->rc_data = text_or_null(res, i, 6);
    out->rc_provider_id = text_or_null(res, i, 7);
}

void import_source_integration(const PGresult *res, int i, import_integration_row *out)
{
    out->id = PQgetvalue(res, i, 0);
    out->type = PQgetvalue(res, i, 1);
    out->data = text_or_null(res, i, 2);
    out->provider_id = text_or_null(res, i, 3);
    out->user_exists = flag(res, i, 4);
    out->clerk_id = text_or_null(res, i, 5);
    out->created_ms = ms(res, i, 6);
}
