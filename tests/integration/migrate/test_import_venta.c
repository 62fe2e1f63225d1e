/*
 * Integration test of `venta-migrate import-venta` against the harness's PostgreSQL: a
 * database with the original Venta backend's exact Prisma tables (venta_original_schema.sql,
 * written from its migration) filled with rows that exercise every mapping and every kind
 * of row to skip (venta_original_rows.sql), imported into a migrated database of ours by
 * the real binary. Checks: a dry run prints counts and writes nothing; the run writes the
 * rows we expect (users by clerkId, vendors with their id and owner, the last known
 * location in both tables, subscription statuses and RevenueCat ids, webhook event ids,
 * outbox events) and reports each skipped row once, with its reason; the imported vendor
 * reads back through a real venta-vendor over gRPC; a second run changes nothing and
 * says so; a change in the original is picked up and one made here is kept; bad
 * arguments change nothing.
 */
#include "venta/vendor/v1/vendor.pb-c.h"
#include "vt_core.h"
#include "vt_db.h"
#include "vt_harness.h"
#include "vt_harness_rpc.h"
#include "vt_rpc.h"
#include "vt_test.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALICE_VENDOR "0a000001-0000-4000-8000-000000000001"
#define BOB_VENDOR "0a000002-0000-4000-8000-000000000002"
#define UPPER_VENDOR "0a000009-0000-4000-8000-00000000000f"

static char *ours_url, *src_url;
static PGconn *ours_conn, *src_conn;

static PGconn *ours(void)
{
    return vt_harness_pg(&ours_conn, ours_url);
}

static PGconn *src(void)
{
    return vt_harness_pg(&src_conn, src_url);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    VT_REQUIRE(f != NULL);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    VT_REQUIRE(text && fread(text, 1, (size_t)n, f) == (size_t)n);
    text[n] = '\0';
    fclose(f);
    return text;
}

static void exec_or_die(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "setup failed: %s\n", PQresultErrorMessage(r));
        exit(1);
    }
    PQclear(r);
}

static void exec_file(PGconn *c, const char *env)
{
    char *sql = read_file(vt_harness_env(env));
    exec_or_die(c, sql);
    free(sql);
}

/* The single value of a query ("" for NULL), into a static buffer. */
static const char *value(PGconn *c, const char *sql)
{
    static char out[4][512];
    static int next;
    char *v = out[next++ % 4];
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        snprintf(v, 512, "%s", PQgetvalue(r, 0, 0));
    else
        snprintf(v, 512, "<%d rows: %s>", PQntuples(r), PQresultErrorMessage(r));
    PQclear(r);
    return v;
}

static long number(PGconn *c, const char *sql)
{
    return strtol(value(c, sql), NULL, 10);
}

typedef struct {
    int status;
    char *out, *err; /* stdout, stderr */
} run_result;

static void run_free(run_result *r)
{
    free(r->out);
    free(r->err);
}

/* venta-migrate with args against our database; stdout and stderr kept apart. */
static run_result run_migrate(const char *args)
{
    char errpath[] = "/tmp/venta-import-err-XXXXXX";
    int fd = mkstemp(errpath);
    VT_REQUIRE(fd >= 0);
    close(fd);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "VENTA_DATABASE_URL='%s' '%s' %s 2>'%s'", ours_url,
             vt_harness_env("VENTA_MIGRATE_BIN"), args, errpath);
    FILE *p = popen(cmd, "r");
    VT_REQUIRE(p != NULL);
    size_t cap = 1 << 16, n = 0;
    run_result r = {.out = malloc(cap)};
    size_t got;
    while ((got = fread(r.out + n, 1, cap - 1 - n, p)) > 0)
        n += got;
    r.out[n] = '\0';
    int st = pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r.err = read_file(errpath);
    unlink(errpath);
    return r;
}

static run_result import_run(const char *extra)
{
    char args[2048];
    snprintf(args, sizeof args, "import-venta --from '%s' --batch-size 4 %s", src_url, extra);
    return run_migrate(args);
}

static int count_lines(const char *text, const char *prefix)
{
    int n = 0;
    size_t len = strlen(prefix);
    for (const char *p = text; p && *p;) {
        if (strncmp(p, prefix, len) == 0)
            n++;
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    return n;
}

/* Does text hold a line with both a and b? */
static bool has_line(const char *text, const char *a, const char *b)
{
    for (const char *p = text; p && *p;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), p);
        if (strstr(line, a) && strstr(line, b))
            return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

/* The summary row of a table: read inserted updated unchanged skipped. */
static bool summary_row(const char *out, const char *table, long row[5])
{
    char key[64];
    snprintf(key, sizeof key, "\n%s ", table);
    const char *p = strstr(out, key);
    if (!p)
        return false;
    return sscanf(p + strlen(key), "%ld %ld %ld %ld %ld", &row[0], &row[1], &row[2], &row[3],
                  &row[4]) == 5;
}

static void check_row(const char *out, const char *table, long read, long ins, long upd, long same,
                      long skip)
{
    long row[5] = {-1, -1, -1, -1, -1};
    bool found = summary_row(out, table, row);
    if (!found)
        fprintf(stderr, "no summary row for %s in:\n%s\n", table, out);
    VT_CHECK(found);
    long want[5] = {read, ins, upd, same, skip};
    for (int i = 0; i < 5; i++) {
        if (row[i] != want[i])
            fprintf(stderr, "%s column %d: %ld, want %ld\n", table, i, row[i], want[i]);
        VT_CHECK_INT(row[i], want[i]);
    }
}

static long ours_rows(void)
{
    return number(ours(), "SELECT (SELECT count(*) FROM account.users) + "
                          "(SELECT count(*) FROM account.subscriptions) + "
                          "(SELECT count(*) FROM account.webhook_events) + "
                          "(SELECT count(*) FROM account.outbox) + "
                          "(SELECT count(*) FROM vendor.vendors) + "
                          "(SELECT count(*) FROM vendor.outbox) + "
                          "(SELECT count(*) FROM location.vendor_locations)");
}

static void setup(void)
{
    ours_url = vt_harness_db_new_migrated("import_ours");
    src_url = vt_harness_db_new("import_original");
    exec_file(src(), "VENTA_ORIGINAL_SCHEMA");
    exec_or_die(src(), "ALTER TYPE \"SubscriptionStatus\" ADD VALUE 'Trialing'");
    exec_file(src(), "VENTA_ORIGINAL_ROWS");
    /* A user deleted in Venta mesh before the import: its tombstone, and venta-vendor
     * remembering the owner (as evt.user.deleted leaves them). */
    exec_or_die(ours(), "INSERT INTO account.users (clerk_id, deleted_at) "
                        "VALUES ('user_deleted', now())");
    exec_or_die(ours(), "INSERT INTO vendor.deleted_owners (owner_id) VALUES ('user_deleted')");
}

static void test_dry_run_counts_and_writes_nothing(void)
{
    long before = ours_rows();
    run_result r = import_run("--dry-run");
    VT_CHECK_INT(r.status, 0);
    VT_CHECK(strstr(r.out, "dry run: nothing was written") != NULL);
    check_row(r.out, "users", 15, 12, 0, 0, 3);
    check_row(r.out, "vendors", 11, 5, 0, 0, 6);
    check_row(r.out, "subscriptions", 7, 5, 0, 0, 2);
    VT_CHECK_INT(count_lines(r.err, "skipped "), 18);
    VT_CHECK_INT(ours_rows(), before);
    run_free(&r);
}

static void test_import_writes_every_mapping(void)
{
    run_result r = import_run("");
    if (r.status != 0)
        fprintf(stderr, "import failed:\n%s\n%s\n", r.out, r.err);
    VT_CHECK_INT(r.status, 0);
    check_row(r.out, "users", 15, 12, 0, 0, 3);
    check_row(r.out, "vendors", 11, 5, 0, 0, 6);
    check_row(r.out, "locations", 4, 2, 0, 0, 2);
    check_row(r.out, "subscriptions", 7, 5, 0, 0, 2);
    check_row(r.out, "integrations", 6, 1, 0, 0, 5);
    VT_CHECK(strstr(r.out, "imported: 25 rows changed") != NULL);
    VT_CHECK(count_lines(r.err, "progress users: batch ") == 4); /* 15 rows by 4 */

    /* One line per skipped row, with its reason. */
    VT_CHECK_INT(count_lines(r.err, "skipped "), 18);
    VT_CHECK(has_line(r.err, "skipped users 0a000003-", "has no clerkId"));
    VT_CHECK(has_line(r.err, "skipped users 0a000004-", "printable ASCII"));
    VT_CHECK(has_line(r.err, "skipped users 0a000010-", "deleted in Venta mesh"));
    VT_CHECK(has_line(r.err, "skipped vendors ckx0cuid00000000user5", "not a UUID"));
    VT_CHECK(has_line(r.err, "skipped vendors 0a0000ff-", "does not exist"));
    VT_CHECK(has_line(r.err, "skipped vendors 0a000003-", "owner cannot be imported"));
    VT_CHECK(has_line(r.err, "skipped vendors 0a000006-", "name must be 1 to 120"));
    VT_CHECK(has_line(r.err, "skipped vendors 0a000007-", "name must not be blank"));
    VT_CHECK(has_line(r.err, "skipped vendors 0a000010-", "owner was deleted"));
    VT_CHECK(has_line(r.err, "skipped locations 0a000008-", "lat out of range"));
    VT_CHECK(has_line(r.err, "skipped locations 0a000015-", "lat without long"));
    VT_CHECK(has_line(r.err, "skipped subscriptions s13", "unknown subscription status"));
    VT_CHECK(has_line(r.err, "skipped subscriptions s3", "its user cannot be imported"));
    VT_CHECK(has_line(r.err, "skipped integrations i2", "Clerk"));
    VT_CHECK(has_line(r.err, "skipped integrations i3", "not a JSON object"));
    VT_CHECK(has_line(r.err, "skipped integrations i4", "null"));
    VT_CHECK(has_line(r.err, "skipped integrations i5", "transactionId"));
    VT_CHECK(has_line(r.err, "skipped integrations i6", "its user cannot be imported"));
    /* Optional parts left out of an imported vendor are noted. */
    VT_CHECK(has_line(r.err, "note vendors 0a000008-", "phone left out"));
    VT_CHECK(has_line(r.err, "note vendors 0a000008-", "website left out"));
    VT_CHECK(has_line(r.err, "note vendors 0a000008-", "primaryImage left out"));
    run_free(&r);

    /* Users by clerkId, with the original's creation time. */
    VT_CHECK_INT(number(ours(), "SELECT count(*) FROM account.users WHERE deleted_at IS NULL"), 12);
    VT_CHECK_STR(value(ours(), "SELECT to_char(created_at AT TIME ZONE 'UTC', "
                               "'YYYY-MM-DD HH24:MI:SS.MS') FROM account.users "
                               "WHERE clerk_id = 'user_alice'"),
                 "2024-08-01 10:00:00.123");
    VT_CHECK_STR(value(ours(), "SELECT deleted_at IS NOT NULL FROM account.users "
                               "WHERE clerk_id = 'user_deleted'"),
                 "t");

    /* Vendors keep their id; the owner is the clerkId of the user with that id. */
    VT_CHECK_STR(value(ours(),
                       "SELECT concat_ws('|', owner_id, name, description, phone, email, "
                       "website, profile_image, is_open, "
                       "to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS'), "
                       "round(ST_Y(last_location::geometry)::numeric, 4), "
                       "round(ST_X(last_location::geometry)::numeric, 4)) "
                       "FROM vendor.vendors WHERE id = '" ALICE_VENDOR "'"),
                 "user_alice|Tacos El Gordo|Al pastor since 1999|+1 212-555-0100|"
                 "hola@elgordo.example|https://elgordo.example|https://cdn.example/elgordo.jpg|"
                 "t|2024-09-01 12:00:00.250|40.7128|-74.0060");
    VT_CHECK_STR(value(ours(), "SELECT id::text FROM vendor.vendors WHERE owner_id = 'user_upper'"),
                 UPPER_VENDOR);
    VT_CHECK_STR(value(ours(), "SELECT concat_ws('|', description = '', phone IS NULL, "
                               "email IS NULL, website IS NULL, profile_image IS NULL, "
                               "last_location IS NULL) FROM vendor.vendors "
                               "WHERE owner_id = 'user_badloc'"),
                 "t|t|t|t|t|t");
    /* The last known location in venta-location's table: offline, dated by the vendor. */
    VT_CHECK_INT(number(ours(), "SELECT count(*) FROM location.vendor_locations"), 2);
    VT_CHECK_STR(value(ours(),
                       "SELECT concat_ws('|', online, "
                       "round(ST_Y(position)::numeric, 4), "
                       "to_char(reported_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')) "
                       "FROM location.vendor_locations WHERE vendor_id = '" UPPER_VENDOR "'"),
                 "f|-33.8688|2024-08-09 11:00");

    /* Subscriptions: status mapped, RevenueCat ids from integration.data. */
    VT_CHECK_STR(value(ours(), "SELECT concat_ws('|', s.status, s.entitled, s.product_id, "
                               "s.original_transaction_id, s.last_event_id, s.last_event_type) "
                               "FROM account.subscriptions s JOIN account.users u "
                               "ON u.id = s.user_id WHERE u.clerk_id = 'user_alice'"),
                 "active|t|venta_pro_monthly|1000000123|evt_alice_1|IMPORT");
    VT_CHECK_STR(value(ours(), "SELECT concat_ws('|', s.status, s.entitled, "
                               "to_char(s.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')) "
                               "FROM account.subscriptions s JOIN account.users u "
                               "ON u.id = s.user_id WHERE u.clerk_id = 'user_bob'"),
                 "cancelled|f|2024-10-03 12:00");
    VT_CHECK_STR(value(ours(), "SELECT string_agg(u.clerk_id || '=' || s.status || ':' || "
                               "s.entitled || ':' || coalesce(s.product_id, '-'), ',' "
                               "ORDER BY u.clerk_id) FROM account.subscriptions s "
                               "JOIN account.users u ON u.id = s.user_id WHERE u.clerk_id IN "
                               "('user_pending', 'user_inactive', 'user_badjson')"),
                 "user_badjson=active:true:venta_pro_yearly,"
                 "user_inactive=expired:false:venta_pro_monthly,user_pending=expired:false:p");
    VT_CHECK_STR(value(ours(), "SELECT string_agg(provider || ':' || event_id, ',') "
                               "FROM account.webhook_events"),
                 "revenuecat:evt_alice_1");

    /* Every insert announced through the owning schema's outbox. */
    VT_CHECK_INT(number(ours(), "SELECT count(*) FROM account.outbox "
                                "WHERE subject = 'evt.user.created'"),
                 12);
    VT_CHECK_INT(number(ours(), "SELECT count(*) FROM account.outbox "
                                "WHERE subject = 'evt.subscription.changed'"),
                 5);
    VT_CHECK_INT(number(ours(), "SELECT count(*) FROM vendor.outbox "
                                "WHERE subject = 'evt.vendor.created'"),
                 5);
}

static void test_vendor_reads_back_over_grpc(void)
{
    vt_harness_service s;
    vt_harness_service_start(&s, vt_harness_env("VENTA_VENDOR_BIN"), "VENTA_VENDOR_ADDR", ours_url,
                             NULL);
    VT_CHECK(vt_harness_wait_serving(s.channel, 15000));
    const char *ids[2] = {ALICE_VENDOR, "0A000009-0000-4000-8000-00000000000F"};
    for (int k = 0; k < 2; k++) {
        Venta__Vendor__V1__GetVendorRequest req = VENTA__VENDOR__V1__GET_VENDOR_REQUEST__INIT;
        req.id = (char *)ids[k];
        vt_rpc_reply *reply;
        vt_rpc_call_opts o = {.timeout_ms = 15000};
        int rc = vt_rpc_call_unary(s.channel, &venta__vendor__v1__vendor_service__descriptor,
                                   "GetVendor", &req.base, &o, &reply);
        VT_CHECK_INT(rc, VT_OK);
        Venta__Vendor__V1__Vendor *v =
            rc == VT_OK ? (Venta__Vendor__V1__Vendor *)vt_rpc_reply_take_response(reply) : NULL;
        vt_rpc_reply_free(reply);
        if (!v)
            continue;
        if (k == 0) {
            VT_CHECK_STR(v->id, ALICE_VENDOR);
            VT_CHECK_STR(v->owner_id, "user_alice");
            VT_CHECK_STR(v->name, "Tacos El Gordo");
            VT_CHECK_STR(v->profile_image, "https://cdn.example/elgordo.jpg");
            VT_CHECK(v->is_open);
            VT_CHECK(v->location != NULL);
            if (v->location) {
                VT_CHECK_NEAR(v->location->lat, 40.7128, 1e-9);
                VT_CHECK_NEAR(v->location->lng, -74.006, 1e-9);
                VT_CHECK_STR(v->location->updated_at, "2024-09-01T12:00:00.250Z");
            }
            VT_CHECK_STR(v->created_at, "2024-08-01T11:00:00.000Z");
        } else {
            VT_CHECK_STR(v->id, UPPER_VENDOR); /* the uppercase id finds it too */
            VT_CHECK_STR(v->owner_id, "user_upper");
        }
        protobuf_c_message_free_unpacked(&v->base, NULL);
    }
    vt_rpc_channel_free(s.channel);
    VT_CHECK_INT(vt_harness_stop(s.pid, SIGTERM, 10000), 0);
}

static void test_second_run_changes_nothing(void)
{
    const char *snapshot_sql =
        "SELECT md5(string_agg(t, ',' ORDER BY t)) FROM ("
        "SELECT id::text || updated_at || name || coalesce(last_location_at::text, '') AS t "
        "FROM vendor.vendors UNION ALL SELECT clerk_id || created_at || updated_at "
        "FROM account.users UNION ALL SELECT user_id::text || status || updated_at "
        "FROM account.subscriptions UNION ALL SELECT vendor_id::text || updated_at "
        "FROM location.vendor_locations) x";
    char before[64];
    snprintf(before, sizeof before, "%s", value(ours(), snapshot_sql));
    long rows = ours_rows();
    run_result r = import_run("");
    VT_CHECK_INT(r.status, 0);
    VT_CHECK(strstr(r.out, "no changes") != NULL);
    check_row(r.out, "users", 15, 0, 0, 12, 3);
    check_row(r.out, "vendors", 11, 0, 0, 5, 6);
    check_row(r.out, "locations", 4, 0, 0, 2, 2);
    check_row(r.out, "subscriptions", 7, 0, 0, 5, 2);
    check_row(r.out, "integrations", 6, 0, 0, 1, 5);
    VT_CHECK_INT(count_lines(r.err, "skipped "), 18);
    VT_CHECK_INT(ours_rows(), rows);
    VT_CHECK_STR(value(ours(), snapshot_sql), before);
    run_free(&r);
}

static void test_later_changes(void)
{
    /* The original changed a vendor after the import; we changed another one. */
    exec_or_die(src(), "UPDATE vendor SET name = 'Bob''s Better Dogs', lat = 40.75, "
                       "long = -73.99, \"updatedAt\" = '2024-11-01 09:00:00' "
                       "WHERE id = '" BOB_VENDOR "'");
    exec_or_die(ours(), "UPDATE vendor.vendors SET description = 'edited here', "
                        "updated_at = now() WHERE id = '" UPPER_VENDOR "'");
    run_result r = import_run("");
    VT_CHECK_INT(r.status, 0);
    check_row(r.out, "vendors", 11, 0, 1, 3, 7);
    check_row(r.out, "locations", 5, 1, 0, 2, 2);
    /* Reports name the original's id, as the original spells it. */
    VT_CHECK(has_line(r.err, "skipped vendors 0A000009-0000-4000-8000-00000000000F", "kept ours"));
    VT_CHECK_STR(value(ours(),
                       "SELECT name || '|' || round(ST_Y(last_location::geometry)::numeric, "
                       "2) FROM vendor.vendors WHERE id = '" BOB_VENDOR "'"),
                 "Bob's Better Dogs|40.75");
    VT_CHECK_STR(
        value(ours(), "SELECT description FROM vendor.vendors WHERE id = '" UPPER_VENDOR "'"),
        "edited here");
    VT_CHECK_INT(number(ours(), "SELECT count(*) FROM vendor.outbox "
                                "WHERE subject = 'evt.vendor.updated'"),
                 1);
    run_free(&r);
}

static void test_bad_arguments_change_nothing(void)
{
    long rows = ours_rows();
    run_result r = run_migrate("import-venta");
    VT_CHECK_INT(r.status, 2);
    VT_CHECK(strstr(r.err, "--from") != NULL);
    run_free(&r);
    r = import_run("--batch-size 0");
    VT_CHECK_INT(r.status, 2);
    VT_CHECK(strstr(r.err, "--batch-size") != NULL);
    run_free(&r);
    r = import_run("--sideways");
    VT_CHECK_INT(r.status, 2);
    run_free(&r);
    /* Our own database as the source: it has no "user" table. */
    char args[2048];
    snprintf(args, sizeof args, "import-venta --from '%s'", ours_url);
    r = run_migrate(args);
    VT_CHECK_INT(r.status, 1);
    VT_CHECK(strstr(r.err, "no table") != NULL);
    run_free(&r);
    r = run_migrate("import-venta --from postgresql://venta@127.0.0.1:1/none");
    VT_CHECK_INT(r.status, 1);
    VT_CHECK(strstr(r.err, "original database") != NULL);
    run_free(&r);
    VT_CHECK_INT(ours_rows(), rows);
}

int main(void)
{
    vt_log_init("test-import-venta", VT_LOG_ERROR);
    setup();
    VT_RUN(test_dry_run_counts_and_writes_nothing);
    VT_RUN(test_import_writes_every_mapping);
    VT_RUN(test_vendor_reads_back_over_grpc);
    VT_RUN(test_second_run_changes_nothing);
    VT_RUN(test_later_changes);
    VT_RUN(test_bad_arguments_change_nothing);
    PQfinish(ours_conn);
    PQfinish(src_conn);
    free(ours_url);
    free(src_url);
    return VT_TEST_RESULT();
}
