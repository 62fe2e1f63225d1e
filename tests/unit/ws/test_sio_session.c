/*
 * Unit tests of the Engine.IO 4 session rules (apps/ws-gateway/sio_session.c), the
 * decisions sio_server.c takes for every request to /socket.io/ and on every heartbeat
 * timer, driven directly with the facts sio_server.c gives them.
 *
 * The request table names each rule once, with the engine.io error code socket.io's
 * own server answers (engine.io `verify` + `handshake`): 0 unknown transport, 1 unknown
 * sid, 2 bad handshake method, 3 bad request, 5 unsupported protocol version. A sweep
 * over every combination then checks the rules' order: an unknown transport wins over
 * everything, an unknown sid over the method and version, and a handshake's method
 * over its version. The heartbeat is checked on one clock, step by step: the ping
 * comes when due and not before, one ping at a time, a pong only counts for a ping
 * that is out, and no pong by the deadline is a timeout.
 */
#include "sio_session.h"
#include "vt_sio.h"
#include "vt_test.h"

#include <stddef.h>

/* ------------------------------------------------------------------- requests */

enum { GO = -1 };

typedef struct {
    const char *what;
    sio_request r;
    int want;
} req_case;

#define HS(m_, ws_, eio_, tr_)                                                                     \
    {                                                                                              \
        .method = (m_), .websocket = (ws_), .eio = (eio_), .transport = (tr_)                      \
    }
#define SID(m_, ws_, tr_, tx_)                                                                     \
    {                                                                                              \
        .method = (m_), .websocket = (ws_), .eio = "4", .transport = (tr_), .has_sid = true,       \
        .sid_known = true, .session_tx = (tx_)                                                     \
    }

static const req_case cases[] = {
    /* the handshake: a GET of protocol 4, polling or a direct WebSocket */
    {"handshake GET polling EIO=4", HS(SIO_GET, false, "4", "polling"), GO},
    {"handshake direct websocket EIO=4", HS(SIO_GET, true, "4", "websocket"), GO},
    {"EIO missing", HS(SIO_GET, false, NULL, "polling"),
     VT_SIO_EIO_ERR_UNSUPPORTED_PROTOCOL_VERSION},
    {"EIO=3", HS(SIO_GET, false, "3", "polling"), VT_SIO_EIO_ERR_UNSUPPORTED_PROTOCOL_VERSION},
    {"EIO=5", HS(SIO_GET, false, "5", "polling"), VT_SIO_EIO_ERR_UNSUPPORTED_PROTOCOL_VERSION},
    {"EIO empty", HS(SIO_GET, false, "", "polling"), VT_SIO_EIO_ERR_UNSUPPORTED_PROTOCOL_VERSION},
    {"EIO=40", HS(SIO_GET, false, "40", "polling"), VT_SIO_EIO_ERR_UNSUPPORTED_PROTOCOL_VERSION},
    {"EIO=3 over websocket", HS(SIO_GET, true, "3", "websocket"),
     VT_SIO_EIO_ERR_UNSUPPORTED_PROTOCOL_VERSION},
    {"handshake POST", HS(SIO_POST, false, "4", "polling"), VT_SIO_EIO_ERR_BAD_HANDSHAKE_METHOD},
    {"handshake PUT", HS(SIO_OTHER_METHOD, false, "4", "polling"),
     VT_SIO_EIO_ERR_BAD_HANDSHAKE_METHOD},
    {"handshake POST EIO=3: the method first", HS(SIO_POST, false, "3", "polling"),
     VT_SIO_EIO_ERR_BAD_HANDSHAKE_METHOD},
    /* the transport */
    {"transport missing", HS(SIO_GET, false, "4", NULL), VT_SIO_EIO_ERR_UNKNOWN_TRANSPORT},
    {"transport flashsocket", HS(SIO_GET, false, "4", "flashsocket"),
     VT_SIO_EIO_ERR_UNKNOWN_TRANSPORT},
    {"transport Polling (case)", HS(SIO_GET, false, "4", "Polling"),
     VT_SIO_EIO_ERR_UNKNOWN_TRANSPORT},
    {"transport missing, POST, no EIO", HS(SIO_POST, false, NULL, NULL),
     VT_SIO_EIO_ERR_UNKNOWN_TRANSPORT},
    {"transport=websocket without an upgrade", HS(SIO_GET, false, "4", "websocket"),
     VT_SIO_EIO_ERR_BAD_REQUEST},
    {"an upgrade with transport=polling", HS(SIO_GET, true, "4", "polling"),
     VT_SIO_EIO_ERR_BAD_REQUEST},
    /* requests of a session */
    {"unknown sid GET",
     {.method = SIO_GET, .eio = "4", .transport = "polling", .has_sid = true},
     VT_SIO_EIO_ERR_UNKNOWN_SID},
    {"unknown sid POST",
     {.method = SIO_POST, .eio = "4", .transport = "polling", .has_sid = true},
     VT_SIO_EIO_ERR_UNKNOWN_SID},
    {"unknown sid websocket",
     {.method = SIO_GET, .websocket = true, .eio = "4", .transport = "websocket", .has_sid = true},
     VT_SIO_EIO_ERR_UNKNOWN_SID},
    {"unknown sid, unknown transport",
     {.method = SIO_GET, .eio = "4", .transport = "xhr", .has_sid = true},
     VT_SIO_EIO_ERR_UNKNOWN_TRANSPORT},
    {"polling GET", SID(SIO_GET, false, "polling", SIO_TX_POLLING), GO},
    {"polling POST", SID(SIO_POST, false, "polling", SIO_TX_POLLING), GO},
    {"polling DELETE", SID(SIO_OTHER_METHOD, false, "polling", SIO_TX_POLLING),
     VT_SIO_EIO_ERR_BAD_REQUEST},
    {"polling GET without EIO: the version is the handshake's",
     {.method = SIO_GET, .transport = "polling", .has_sid = true, .sid_known = true},
     GO},
    {"websocket upgrade of a polling session", SID(SIO_GET, true, "websocket", SIO_TX_POLLING), GO},
    {"a second upgrade while upgrading", SID(SIO_GET, true, "websocket", SIO_TX_UPGRADING),
     VT_SIO_EIO_ERR_BAD_REQUEST},
    {"an upgrade of a websocket session", SID(SIO_GET, true, "websocket", SIO_TX_WEBSOCKET),
     VT_SIO_EIO_ERR_BAD_REQUEST},
    {"polling GET while upgrading", SID(SIO_GET, false, "polling", SIO_TX_UPGRADING), GO},
    {"polling POST while upgrading", SID(SIO_POST, false, "polling", SIO_TX_UPGRADING), GO},
    {"polling POST to a websocket session", SID(SIO_POST, false, "polling", SIO_TX_WEBSOCKET),
     VT_SIO_EIO_ERR_BAD_REQUEST},
    {"polling GET of a websocket session", SID(SIO_GET, false, "polling", SIO_TX_WEBSOCKET),
     VT_SIO_EIO_ERR_BAD_REQUEST},
    {"transport=websocket without an upgrade, known sid",
     SID(SIO_GET, false, "websocket", SIO_TX_POLLING), VT_SIO_EIO_ERR_BAD_REQUEST},
};

static void test_request_table(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = sio_request_check(&cases[i].r);
        VT_CHECK_INT(got, cases[i].want);
        if (got != cases[i].want)
            fprintf(stderr, "  case: %s\n", cases[i].what);
    }
}

/* Every combination, checked for the order of the rules rather than each answer. */
static void test_request_precedence(void)
{
    const char *const eios[] = {NULL, "3", "4", "5"};
    const char *const transports[] = {NULL, "polling", "websocket", "jsonp"};
    int n = 0;
    for (int m = 0; m < 3; m++)
        for (int ws = 0; ws < 2; ws++)
            for (int e = 0; e < 4; e++)
                for (int t = 0; t < 4; t++)
                    for (int sid = 0; sid < 3; sid++) /* none, unknown, known */
                        for (int tx = 0; tx < 3; tx++) {
                            sio_request r = {.method = (sio_method)m,
                                             .websocket = ws,
                                             .eio = eios[e],
                                             .transport = transports[t],
                                             .has_sid = sid > 0,
                                             .sid_known = sid == 2,
                                             .session_tx = (sio_tx)tx};
                            int got = sio_request_check(&r);
                            n++;
                            bool known_tr = t == 1 || t == 2;
                            if (!known_tr) {
                                VT_CHECK_INT(got, VT_SIO_EIO_ERR_UNKNOWN_TRANSPORT);
                                continue;
                            }
                            if ((t == 2) != ws) {
                                VT_CHECK_INT(got, VT_SIO_EIO_ERR_BAD_REQUEST);
                                continue;
                            }
                            if (sid == 1)
                                VT_CHECK_INT(got, VT_SIO_EIO_ERR_UNKNOWN_SID);
                            else if (sid == 0 && m != SIO_GET)
                                VT_CHECK_INT(got, VT_SIO_EIO_ERR_BAD_HANDSHAKE_METHOD);
                            else if (sid == 0)
                                VT_CHECK_INT(
                                    got, e == 2 ? GO : VT_SIO_EIO_ERR_UNSUPPORTED_PROTOCOL_VERSION);
                            else /* a known session never fails on the version */
                                VT_CHECK(got == GO || got == VT_SIO_EIO_ERR_BAD_REQUEST);
                        }
    VT_CHECK_INT(n, 3 * 2 * 4 * 4 * 3 * 3);
}

/* ------------------------------------------------------------------ heartbeat */

enum { INTERVAL = 25000, TIMEOUT = 20000 };

static sio_hb_action step(sio_heartbeat *h, int64_t now, int64_t *wake)
{
    *wake = -1;
    return sio_hb_step(h, now, TIMEOUT, wake);
}

static void test_hb_ping_due(void)
{
    sio_heartbeat h;
    int64_t wake;
    sio_hb_start(&h, 1000, INTERVAL);
    VT_CHECK_INT(step(&h, 1000, &wake), SIO_HB_WAIT);
    VT_CHECK_INT(wake, 26000);
    VT_CHECK_INT(step(&h, 25999, &wake), SIO_HB_WAIT);
    VT_CHECK_INT(wake, 26000);
    VT_CHECK_INT(step(&h, 26000, &wake), SIO_HB_PING);
    VT_CHECK_INT(wake, 26000 + TIMEOUT); /* the pong deadline */
    /* one ping at a time: asked again before the deadline, nothing more is sent */
    VT_CHECK_INT(step(&h, 30000, &wake), SIO_HB_WAIT);
    VT_CHECK_INT(wake, 26000 + TIMEOUT);
    VT_CHECK_INT(step(&h, 26000 + TIMEOUT - 1, &wake), SIO_HB_WAIT);
}

/* A timer that fires late pings late, and the deadline runs from the ping sent. */
static void test_hb_late_timer(void)
{
    sio_heartbeat h;
    int64_t wake;
    sio_hb_start(&h, 0, INTERVAL);
    VT_CHECK_INT(step(&h, 31000, &wake), SIO_HB_PING);
    VT_CHECK_INT(wake, 31000 + TIMEOUT);
    VT_CHECK_INT(step(&h, 31000 + TIMEOUT - 1, &wake), SIO_HB_WAIT);
    VT_CHECK_INT(step(&h, 31000 + TIMEOUT, &wake), SIO_HB_TIMEOUT);
}

static void test_hb_pong_timeout(void)
{
    sio_heartbeat h;
    int64_t wake;
    sio_hb_start(&h, 0, INTERVAL);
    VT_CHECK_INT(step(&h, INTERVAL, &wake), SIO_HB_PING);
    VT_CHECK_INT(step(&h, INTERVAL + TIMEOUT, &wake), SIO_HB_TIMEOUT);
    VT_CHECK_INT(step(&h, INTERVAL + TIMEOUT + 5000, &wake), SIO_HB_TIMEOUT); /* it stays */
}

/* A pong within the deadline: no timeout, the next ping an interval after the pong. */
static void test_hb_pong_resets(void)
{
    sio_heartbeat h;
    int64_t wake;
    sio_hb_start(&h, 0, INTERVAL);
    VT_CHECK_INT(step(&h, INTERVAL, &wake), SIO_HB_PING);
    sio_hb_pong(&h, 40000, INTERVAL);
    VT_CHECK_INT(step(&h, INTERVAL + TIMEOUT, &wake), SIO_HB_WAIT);
    VT_CHECK_INT(wake, 40000 + INTERVAL);
    VT_CHECK_INT(step(&h, 40000 + INTERVAL - 1, &wake), SIO_HB_WAIT);
    /* a second pong for the same ping moves nothing */
    sio_hb_pong(&h, 60000, INTERVAL);
    VT_CHECK_INT(step(&h, 40000 + INTERVAL, &wake), SIO_HB_PING);
    VT_CHECK_INT(wake, 40000 + INTERVAL + TIMEOUT);
    /* and the cycle goes on: this ping too needs its pong */
    VT_CHECK_INT(step(&h, 40000 + INTERVAL + TIMEOUT, &wake), SIO_HB_TIMEOUT);
}

/* A pong nobody asked for does not postpone the ping (nor make a timeout). */
static void test_hb_unasked_pong(void)
{
    sio_heartbeat h;
    int64_t wake;
    sio_hb_start(&h, 0, INTERVAL);
    sio_hb_pong(&h, 20000, INTERVAL);
    VT_CHECK_INT(step(&h, INTERVAL - 1, &wake), SIO_HB_WAIT);
    VT_CHECK_INT(wake, INTERVAL);
    VT_CHECK_INT(step(&h, INTERVAL, &wake), SIO_HB_PING);
}

int main(void)
{
    VT_RUN(test_request_table);
    VT_RUN(test_request_precedence);
    VT_RUN(test_hb_ping_due);
    VT_RUN(test_hb_late_timer);
    VT_RUN(test_hb_pong_timeout);
    VT_RUN(test_hb_pong_resets);
    VT_RUN(test_hb_unasked_pong);
    return VT_TEST_RESULT();
}
