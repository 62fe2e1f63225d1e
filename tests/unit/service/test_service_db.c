/*
 * Unit tests of libs/service's one mapping from database failures to replies: each
 * SQLSTATE class PostgreSQL can answer, through libs/db's status, to the code a client
 * gets. The wording of the replies is tested with a real call in
 * tests/integration/service.
 */
#include "vt_db.h"
#include "vt_service.h"
#include "vt_test.h"

typedef struct {
    const char *sqlstate; /* NULL: no result at all (the connection failed) */
    int reply;
} case_t;

static void test_sqlstate_classes(void)
{
    static const case_t cases[] = {
        /* retry later: the connection, the server going down, too many clients */
        {NULL, VT_UNAVAILABLE},
        {"", VT_UNAVAILABLE},
        {"08006", VT_UNAVAILABLE},
        {"08001", VT_UNAVAILABLE},
        {"57P01", VT_UNAVAILABLE},
        {"57P03", VT_UNAVAILABLE},
        {"53300", VT_UNAVAILABLE},
        /* retry the call: serialization failure, deadlock (the user service answered
         * these ABORTED alone; vendor and location said INTERNAL) */
        {"40001", VT_ABORTED},
        {"40P01", VT_ABORTED},
        /* the request's values: data exceptions, NOT NULL and CHECK violations */
        {"22001", VT_INVALID_ARGUMENT},
        {"22P02", VT_INVALID_ARGUMENT},
        {"22012", VT_INVALID_ARGUMENT},
        {"23502", VT_INVALID_ARGUMENT},
        {"23514", VT_INVALID_ARGUMENT},
        /* a handler answers the ones it expects before asking; unexpected, ours */
        {"23505", VT_INTERNAL},
        {"23503", VT_INTERNAL},
        {"57014", VT_INTERNAL},
        {"40002", VT_INTERNAL},
        {"42P01", VT_INTERNAL},
        {"42703", VT_INTERNAL},
        {"53100", VT_INTERNAL},
        {"XX000", VT_INTERNAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int got = vt_service_db_code(vt_db_status_from_sqlstate(cases[i].sqlstate));
        if (got != cases[i].reply)
            fprintf(stderr, "SQLSTATE %s: %s, want %s\n",
                    cases[i].sqlstate ? cases[i].sqlstate : "(none)", vt_status_name(got),
                    vt_status_name(cases[i].reply));
        VT_CHECK_INT(got, cases[i].reply);
    }
}

/* Statuses libs/db makes without a SQLSTATE (a failed connect, a prepare that failed)
 * and codes no database call returns all end as one of the four answers. */
static void test_every_status(void)
{
    for (int s = 0; s < VT_STATUS_COUNT; s++) {
        int got = vt_service_db_code(s);
        bool kept = s == VT_UNAVAILABLE || s == VT_ABORTED || s == VT_INVALID_ARGUMENT;
        VT_CHECK_INT(got, kept ? s : VT_INTERNAL);
    }
    VT_CHECK_INT(vt_service_db_code(-1), VT_INTERNAL);
    VT_CHECK_INT(vt_service_db_code(VT_STATUS_COUNT), VT_INTERNAL);
}

int main(void)
{
    VT_RUN(test_sqlstate_classes);
    VT_RUN(test_every_status);
    return VT_TEST_RESULT();
}
