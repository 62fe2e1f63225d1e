/*
 * publish.c — see publish.h.
 */
#include "publish.h"

#include "store.h"
#include "venta/events/v1/events.pb-c.h"
#include "vt_core.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[3] = {"created", "updated", "deleted"};

typedef struct {
    vendor_write_fn write;
    const void *args;
    vendor_event_type type;
    int is_open_col;
    const char *request_id;
    PGresult *res;
} write_job;

static int put_event(vt_db_conn *c, const write_job *j, int row, char *err, size_t errlen)
{
    char subject[32];
    snprintf(subject, sizeof subject, "evt.vendor.%s", type_names[j->type]);
    Venta__Events__V1__VendorEvent ev = VENTA__EVENTS__V1__VENDOR_EVENT__INIT;
    ev.type = (char *)type_names[j->type];
    ev.vendor_id = PQgetvalue(j->res, row, 0);
    ev.owner_id = PQgetvalue(j->res, row, 1);
    ev.name = PQgetvalue(j->res, row, 2);
    ev.is_open = PQgetvalue(j->res, row, j->is_open_col)[0] == 't';
    ev.ts = vt_now_ms();
    ev.request_id = (char *)(j->request_id ? j->request_id : "");
    return vt_outbox_put(c, subject, &ev.base, err, errlen);
}

static int write_attempt(vt_db_conn *c, void *arg, char *err, size_t errlen)
{
    write_job *j = arg;
    PQclear(j->res);
    j->res = NULL;
    int rc = j->write(c, j->args, &j->res, err, errlen);
    for (int i = 0; rc == VT_OK && i < PQntuples(j->res); i++)
        rc = put_event(c, j, i, err, errlen);
    return rc;
}

int vendor_write(vt_db_conn *c, vt_outbox_relay *outbox, profile_cache *profiles,
                 vendor_write_fn write, const void *args, vendor_event_type type, int is_open_col,
                 const char *request_id, PGresult **res, char *err, size_t errlen)
{
    write_job j = {.write = write,
                   .args = args,
                   .type = type,
                   .is_open_col = is_open_col,
                   .request_id = request_id};
    int rc = vt_db_tx(c, "READ COMMITTED", 3, write_attempt, &j, err, errlen);
    if (rc != VT_OK) {
        PQclear(j.res);
        *res = NULL;
        return rc;
    }
    for (int i = 0; i < PQntuples(j.res); i++)
        profile_cache_forget(profiles, PQgetvalue(j.res, i, 0));
    if (PQntuples(j.res) > 0)
        vt_outbox_relay_kick(outbox);
    *res = j.res;
    return VT_OK;
}

static vt_db_statement *with_outbox;
static size_t with_outbox_n;
static char outbox_sql[160];

static void build_statements(void)
{
    with_outbox = calloc(store_nstatements + 1, sizeof *with_outbox);
    if (!with_outbox || vt_outbox_put_statement(VENDOR_OUTBOX_TABLE, outbox_sql, sizeof outbox_sql,
                                                &with_outbox[store_nstatements]) != VT_OK)
        abort(); /* out of memory at start, or a bad constant */
    memcpy(with_outbox, store_statements, store_nstatements * sizeof *with_outbox);
    with_outbox_n = store_nstatements + 1;
}

const vt_db_statement *vendor_statements_with_outbox(size_t *n)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, build_statements);
    *n = with_outbox_n;
    return with_outbox;
}
