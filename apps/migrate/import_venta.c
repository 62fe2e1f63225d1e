/*
 * import_venta.c — see import_venta.h.
 */
#include "import_venta.h"

#include "import_report.h"
#include "import_source.h"
#include "import_write.h"
#include "vt_core.h"

#include <stdlib.h>
#include <string.h>

struct import_venta {
    import_venta_opts opts;
    import_report report;
    import_source *source;
    import_write *write;
};

int import_venta_new(const import_venta_opts *opts, import_venta **out, char *err, size_t errlen)
{
    if (opts->batch_size < 0 || opts->batch_size > IMPORT_BATCH_MAX) {
        snprintf(err, errlen, "--batch-size must be 1 to %d", IMPORT_BATCH_MAX);
        return VT_INVALID_ARGUMENT;
    }
    import_venta *iv = calloc(1, sizeof *iv);
    if (!iv) {
        snprintf(err, errlen, "out of memory");
        return VT_RESOURCE_EXHAUSTED;
    }
    iv->opts = *opts;
    if (!iv->opts.batch_size)
        iv->opts.batch_size = IMPORT_BATCH_DEFAULT;
    iv->report.lines = opts->lines ? opts->lines : stderr;
    iv->report.summary = opts->summary ? opts->summary : stdout;
    iv->report.dry_run = opts->dry_run;

    char run_id[VT_REQUEST_ID_LEN + 1], request_id[64];
    vt_request_id_new(run_id);
    snprintf(request_id, sizeof request_id, "import-venta-%.16s", run_id);
    import_source_opts so = {.url = opts->from_url};
    int rc = import_source_new(&so, &iv->source, err, errlen);
    if (rc == VT_OK) {
        import_write_opts wo = {
            .url = opts->target_url, .request_id = request_id, .report = &iv->report};
        rc = import_write_new(&wo, &iv->write, err, errlen);
    }
    if (rc != VT_OK) {
        import_venta_free(iv);
        return rc;
    }
    *out = iv;
    return VT_OK;
}

void import_venta_free(import_venta *iv)
{
    if (!iv)
        return;
    import_write_free(iv->write);
    import_source_free(iv->source);
    free(iv);
}

/* Which schema's connection a table's rows are written on. */
static import_schema schema_of(import_table t)
{
    return t == IMPORT_VENDORS ? IMPORT_VENDOR_SCHEMA : IMPORT_ACCOUNT;
}

static int write_row(import_venta *iv, import_table t, const PGresult *page, int i, char *err,
                     size_t errlen)
{
    import_report_read(&iv->report, t);
    switch (t) {
    case IMPORT_USERS: {
        import_user_row u;
        import_source_user(page, i, &u);
        return import_write_user(iv->write, &u, err, errlen);
    }
    case IMPORT_VENDORS: {
        import_vendor_row v;
        import_source_vendor(page, i, &v);
        return import_write_vendor(iv->write, &v, err, errlen);
    }
    case IMPORT_SUBSCRIPTIONS: {
        import_subscription_row s;
        import_source_subscription(page, i, &s);
        return import_write_subscription(iv->write, &s, err, errlen);
    }
    case IMPORT_INTEGRATIONS: {
        import_integration_row n;
        import_source_integration(page, i, &n);
        return import_write_integration(iv->write, &n, err, errlen);
    }
    default:
        return VT_OK;
    }
}

/* Every page of table t; outside a dry run each page is one transaction. */
static int import_table_pages(import_venta *iv, import_table t, char *err, size_t errlen)
{
    char after[1024] = "";
    bool dry = iv->opts.dry_run;
    import_schema s = schema_of(t);
    for (long batch = 1;; batch++) {
        PGresult *page;
        int rc = import_source_page(iv->source, t, after, iv->opts.batch_size, &page, err, errlen);
        if (rc != VT_OK)
            return rc;
        int n = PQntuples(page);
        if (n == 0) {
            PQclear(page);
            return VT_OK;
        }
        rc = dry ? VT_OK : import_write_begin(iv->write, s, err, errlen);
        for (int i = 0; i < n && rc == VT_OK; i++)
            rc = write_row(iv, t, page, i, err, errlen);
        if (!dry) {
            char ignored[256];
            if (rc == VT_OK)
                rc = import_write_end(iv->write, s, true, err, errlen);
            else
                import_write_end(iv->write, s, false, ignored, sizeof ignored);
        }
        if (rc == VT_OK && strlen(PQgetvalue(page, n - 1, 0)) >= sizeof after) {
            snprintf(err, errlen, "an id of the original's %s is over %zu bytes",
                     import_table_name(t), sizeof after - 1);
            rc = VT_FAILED_PRECONDITION;
        }
        if (rc == VT_OK)
            snprintf(after, sizeof after, "%s", PQgetvalue(page, n - 1, 0));
        PQclear(page);
        if (rc != VT_OK) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", err);
            snprintf(err, errlen,
                     "%s batch %ld failed and was rolled back (%s); batches before it are "
                     "committed, and running again resumes",
                     import_table_name(t), batch, msg);
            return rc;
        }
        import_report_progress(&iv->report, t, batch);
    }
}

int import_venta_run(import_venta *iv, char *err, size_t errlen)
{
    static const import_table order[] = {IMPORT_USERS, IMPORT_VENDORS, IMPORT_SUBSCRIPTIONS,
                                         IMPORT_INTEGRATIONS};
    bool dry = iv->opts.dry_run;
    int rc = VT_OK;
    /* A dry run is one transaction per schema, rolled back: later tables see what the
     * earlier ones would have written (subscriptions need their users). */
    if (dry) {
        rc = import_write_begin(iv->write, IMPORT_ACCOUNT, err, errlen);
        if (rc == VT_OK)
            rc = import_write_begin(iv->write, IMPORT_VENDOR_SCHEMA, err, errlen);
    }
    for (size_t k = 0; k < sizeof order / sizeof order[0] && rc == VT_OK; k++)
        rc = import_table_pages(iv, order[k], err, errlen);
    if (dry) {
        char ignored[256];
        import_write_end(iv->write, IMPORT_ACCOUNT, false, ignored, sizeof ignored);
        import_write_end(iv->write, IMPORT_VENDOR_SCHEMA, false, ignored, sizeof ignored);
    }
    if (rc == VT_OK)
        import_report_summary(&iv->report);
    return rc;
}
