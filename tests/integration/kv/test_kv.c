/*
 * Integration tests of libs/kv against a real redis-server from the harness: commands
 * and replies, URL checks, commands refused while down, and reconnecting after Redis
 * restarts — including a restart that outlasts several refused redials, which once
 * left the client waiting forever (hiredis's libuv adapter ignored POLLERR).
 * Runs alone: it stops and starts the shared Redis.
 */
#include "vt_core.h"
#include "vt_harness.h"
#include "vt_kv.h"
#include "vt_test.h"

#include <unistd.h>

static uv_loop_t loop;

typedef struct {
    int done, status, type;
    char str[64];
    long long integer;
} result;

static void on_reply(int status, const vt_kv_reply *r, void *user)
{
    result *res = user;
    res->done = 1;
    res->status = status;
    if (r) {
        res->type = r->type;
        res->integer = r->integer;
        snprintf(res->str, sizeof res->str, "%.*s", (int)r->len, r->str ? r->str : "");
    }
}

/* Turn the loop until cond holds or ms pass. */
#define SPIN_UNTIL(cond, ms)                                                               \
    do {                                                                                   \
        for (int i_ = 0; i_ < (ms) / 5 && !(cond); i_++) {                                 \
            uv_run(&loop, UV_RUN_NOWAIT);                                                  \
            usleep(5000);                                                                  \
        }                                                                                  \
    } while (0)

static int command(vt_kv *kv, result *res, int argc, const char **argv)
{
    size_t lens[8];
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    memset(res, 0, sizeof *res);
    vt_kv_command_argv(kv, on_reply, res, argc, argv, lens);
    SPIN_UNTIL(res->done, 5000);
    return res->done ? res->status : -1;
}

static int states;
static void on_state(bool up, void *user)
{
    (void)user, (void)up;
    states++;
}

static void test_url_parsing(void)
{
    char host[64], err[128];
    int port, db;
    VT_CHECK_INT(vt_kv_url_parse("redis://127.0.0.1:6379/2", host, sizeof host, &port, &db, err,
                                 sizeof err),
                 VT_OK);
    VT_CHECK_STR(host, "127.0.0.1");
    VT_CHECK_INT(port, 6379);
    VT_CHECK_INT(db, 2);
    const char *bad[] = {"", "http://x:1", "redis://", "redis://host", "redis://h:1/x",
                         "redis://h:99999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        VT_CHECK_INT(vt_kv_url_parse(bad[i], host, sizeof host, &port, &db, err, sizeof err),
                     VT_INVALID_ARGUMENT);
}

static void test_commands_and_restarts(void)
{
    vt_kv *kv;
    char err[128];
    VT_REQUIRE(vt_kv_new(&loop, vt_harness_env("VENTA_TEST_REDIS_URL"), on_state, NULL, &kv, err,
                         sizeof err) == VT_OK);
    SPIN_UNTIL(vt_kv_connected(kv), 10000);
    VT_REQUIRE(vt_kv_connected(kv));
    result r;
    VT_CHECK_INT(command(kv, &r, 3, (const char *[]){"SET", "kv:test", "hello"}), VT_OK);
    VT_CHECK_INT(command(kv, &r, 2, (const char *[]){"GET", "kv:test"}), VT_OK);
    VT_CHECK_INT(r.type, VT_KV_STRING);
    VT_CHECK_STR(r.str, "hello");
    VT_CHECK_INT(command(kv, &r, 2, (const char *[]){"INCR", "kv:test"}), VT_OK);
    VT_CHECK_INT(r.type, VT_KV_ERROR); /* a Redis error is a reply, not a failure */

    for (int round = 0; round < 3; round++) {
        VT_REQUIRE(vt_harness_server("stop", "redis") == 0);
        SPIN_UNTIL(!vt_kv_connected(kv), 10000);
        VT_CHECK(!vt_kv_connected(kv));
        /* While down, commands are refused quickly, never hang. */
        VT_CHECK_INT(command(kv, &r, 2, (const char *[]){"GET", "kv:test"}), VT_UNAVAILABLE);
        /* Stay down long enough for several redials to be refused. */
        SPIN_UNTIL(false, 1500);
        VT_REQUIRE(vt_harness_server("start", "redis") == 0);
        SPIN_UNTIL(vt_kv_connected(kv), 15000);
        VT_CHECK(vt_kv_connected(kv));
        VT_CHECK_INT(command(kv, &r, 3, (const char *[]){"SET", "kv:test", "back"}), VT_OK);
    }
    VT_CHECK(states >= 7); /* up, then down and up three times */
    vt_kv_free(kv);
    uv_run(&loop, UV_RUN_DEFAULT); /* let the handles close */
}

int main(void)
{
    uv_loop_init(&loop);
    VT_RUN(test_url_parsing);
    VT_RUN(test_commands_and_restarts);
    VT_CHECK_INT(uv_loop_close(&loop), 0);
    return VT_TEST_RESULT();
}
