/*
 * Integration tests of libs/kv against a real redis-server from the harness: commands
 * and replies (array elements included), URL checks, commands refused while down, and
 * reconnecting after Redis restarts — including a restart that outlasts several refused
 * redials, which once left the client waiting forever (hiredis's libuv adapter ignored
 * POLLERR). Runs alone: it stops and starts the shared Redis.
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
#define SPIN_UNTIL(cond, ms)                                                                       \
    do {                                                                                           \
        for (int i_ = 0; i_ < (ms) / 5 && !(cond); i_++) {                                         \
            uv_run(&loop, UV_RUN_NOWAIT);                                                          \
            usleep(5000);                                                                          \
        }                                                                                          \
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
    VT_CHECK_INT(
        vt_kv_url_parse("redis://127.0.0.1:6379/2", host, sizeof host, &port, &db, err, sizeof err),
        VT_OK);
    VT_CHECK_STR(host, "127.0.0.1");
    VT_CHECK_INT(port, 6379);
    VT_CHECK_INT(db, 2);
    const char *bad[] = {
        "", "http://x:1", "redis://", "redis://host", "redis://h:1/x", "redis://h:99999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        VT_CHECK_INT(vt_kv_url_parse(bad[i], host, sizeof host, &port, &db, err, sizeof err),
                     VT_INVALID_ARGUMENT);
}

/* A client connected to the harness's Redis (the test stops here if it cannot be). */
static vt_kv *connect_kv(vt_kv_state_fn on_state_fn)
{
    vt_kv *kv;
    char err[128];
    vt_kv_opts o = {
        .loop = &loop, .url = vt_harness_env("VENTA_TEST_REDIS_URL"), .on_state = on_state_fn};
    VT_REQUIRE(vt_kv_new(&o, &kv, err, sizeof err) == VT_OK);
    SPIN_UNTIL(vt_kv_connected(kv), 10000);
    VT_REQUIRE(vt_kv_connected(kv));
    return kv;
}

/* What an array reply held, copied out during the callback (the reply dies with it). */
typedef struct {
    int done, status, type;
    size_t n;
    int types[8];
    char str[8][16];
    size_t lens[8];
    long long integers[8];
    int past_end;  /* vt_kv_reply_element one past the last element */
    size_t nested; /* elements of a nested array (element 3 of the script's reply) */
    char nested_str[16];
} array_result;

static void copy_element(const vt_kv_reply *e, array_result *res, size_t i)
{
    res->types[i] = e->type;
    res->lens[i] = e->len;
    res->integers[i] = e->integer;
    if (e->str)
        memcpy(res->str[i], e->str, e->len < 15 ? e->len : 15);
}

static void on_array(int status, const vt_kv_reply *r, void *user)
{
    array_result *res = user;
    memset(res, 0, sizeof *res);
    res->done = 1;
    res->status = status;
    if (!r)
        return;
    res->type = r->type;
    res->n = r->nelements;
    vt_kv_reply e;
    for (size_t i = 0; i < r->nelements && i < 8; i++) {
        if (vt_kv_reply_element(r, i, &e) != VT_OK)
            return;
        copy_element(&e, res, i);
        vt_kv_reply inner;
        if (e.type == VT_KV_ARRAY && vt_kv_reply_element(&e, 0, &inner) == VT_OK) {
            res->nested = e.nelements;
            snprintf(res->nested_str, sizeof res->nested_str, "%.*s", (int)inner.len, inner.str);
        }
    }
    res->past_end = vt_kv_reply_element(r, r->nelements, &e);
}

static int array_command(vt_kv *kv, array_result *res, int argc, const char **argv,
                         const size_t *lens)
{
    res->done = 0;
    vt_kv_command_argv(kv, on_array, res, argc, argv, lens);
    SPIN_UNTIL(res->done, 5000);
    return res->done ? res->status : -1;
}

typedef struct {
    int type;
    const char *str; /* VT_KV_STRING: len bytes */
    size_t len;
    long long integer; /* VT_KV_INTEGER */
} expected;

static void check_array(const array_result *a, const expected *want, size_t n)
{
    VT_CHECK_INT(a->type, VT_KV_ARRAY);
    VT_CHECK_INT(a->n, n);
    for (size_t i = 0; i < n && i < a->n; i++) {
        VT_CHECK_INT(a->types[i], want[i].type);
        if (want[i].type == VT_KV_STRING) {
            VT_CHECK_INT(a->lens[i], want[i].len);
            VT_CHECK(memcmp(a->str[i], want[i].str, want[i].len) == 0);
        }
        if (want[i].type == VT_KV_INTEGER)
            VT_CHECK_INT(a->integers[i], want[i].integer);
    }
    VT_CHECK_INT(a->past_end, VT_INVALID_ARGUMENT);
}

/* Array replies: their elements, of every type, binary safe; out-of-range and non-array
 * reads refused. */
static void test_array_replies(void)
{
    vt_kv *kv = connect_kv(NULL);
    result r;
    command(kv, &r, 2, (const char *[]){"DEL", "kv:list"});
    /* "b\0c" is three bytes: the element's length comes from Redis, not strlen. */
    const char *push[] = {"RPUSH", "kv:list", "one", "b\0c", ""};
    size_t push_lens[] = {5, 7, 3, 3, 0};
    array_result a;
    VT_CHECK_INT(array_command(kv, &a, 5, push, push_lens), VT_OK);
    VT_CHECK_INT(a.type, VT_KV_INTEGER);
    VT_CHECK_INT(a.n, 0);
    VT_CHECK_INT(a.past_end, VT_INVALID_ARGUMENT); /* not an array */

    const char *range[] = {"LRANGE", "kv:list", "0", "-1"};
    VT_CHECK_INT(array_command(kv, &a, 4, range, (size_t[]){6, 7, 1, 2}), VT_OK);
    check_array(&a,
                (expected[]){{.type = VT_KV_STRING, .str = "one", .len = 3},
                             {.type = VT_KV_STRING, .str = "b\0c", .len = 3},
                             {.type = VT_KV_STRING, .str = "", .len = 0}},
                3);

    const char *empty[] = {"LRANGE", "kv:nothing", "0", "-1"};
    VT_CHECK_INT(array_command(kv, &a, 4, empty, (size_t[]){6, 10, 1, 2}), VT_OK);
    check_array(&a, NULL, 0);

    /* Mixed types from a script: string, integer, nil (Lua false), nested array. */
    const char *script = "return {'x', 42, false, {'deep', 7}}";
    const char *eval[] = {"EVAL", script, "0"};
    VT_CHECK_INT(array_command(kv, &a, 3, eval, (size_t[]){4, strlen(script), 1}), VT_OK);
    check_array(&a,
                (expected[]){{.type = VT_KV_STRING, .str = "x", .len = 1},
                             {.type = VT_KV_INTEGER, .integer = 42},
                             {.type = VT_KV_NIL},
                             {.type = VT_KV_ARRAY}},
                4);
    VT_CHECK_INT(a.nested, 2);
    VT_CHECK_STR(a.nested_str, "deep");

    vt_kv_free(kv);
    uv_run(&loop, UV_RUN_DEFAULT);
}

/* vt_kv_set_px, the presence write: the key expires in milliseconds. */
static void test_set_px(void)
{
    vt_kv *kv = connect_kv(NULL);
    result r = {0};
    VT_CHECK_INT(vt_kv_set_px(kv, "kv:px", "v", 60000, on_reply, &r), VT_OK);
    SPIN_UNTIL(r.done, 5000);
    VT_CHECK_INT(r.type, VT_KV_STATUS);
    VT_CHECK_INT(command(kv, &r, 2, (const char *[]){"PTTL", "kv:px"}), VT_OK);
    VT_CHECK(r.integer > 50000 && r.integer <= 60000);
    vt_kv_free(kv);
    uv_run(&loop, UV_RUN_DEFAULT);
}

/* Commands issued right before vt_kv_free still reach Redis and are answered (they
 * used to be dropped unsent); the next connection sees their effect. */
static void test_free_flushes_last_commands(void)
{
    vt_kv *kv = connect_kv(NULL);
    result r = {0};
    VT_CHECK_INT(vt_kv_set_px(kv, "kv:last", "written", 60000, NULL, NULL), VT_OK);
    VT_CHECK_INT(vt_kv_set_px(kv, "kv:last2", "answered", 60000, on_reply, &r), VT_OK);
    vt_kv_free(kv); /* nothing has been written to the socket yet */
    uv_run(&loop, UV_RUN_DEFAULT);
    VT_CHECK(r.done);
    VT_CHECK_INT(r.type, VT_KV_STATUS);
    vt_kv *again = connect_kv(NULL);
    VT_CHECK_INT(command(again, &r, 2, (const char *[]){"GET", "kv:last"}), VT_OK);
    VT_CHECK_INT(r.type, VT_KV_STRING);
    VT_CHECK_STR(r.str, "written");
    vt_kv_free(again);
    uv_run(&loop, UV_RUN_DEFAULT);
}

/* The URL's database is used (a key written through /3 is in database 3), and one the
 * server does not have leaves the client not connected rather than on database 0. */
static void test_database_selection(void)
{
    char url[300], err[128];
    vt_kv *kv;
    snprintf(url, sizeof url, "%s/3", vt_harness_env("VENTA_TEST_REDIS_URL"));
    vt_kv_opts o = {.loop = &loop, .url = url};
    VT_REQUIRE(vt_kv_new(&o, &kv, err, sizeof err) == VT_OK);
    SPIN_UNTIL(vt_kv_connected(kv), 10000);
    VT_REQUIRE(vt_kv_connected(kv));
    result r = {0};
    VT_CHECK_INT(vt_kv_set_px(kv, "kv:db3", "three", 60000, on_reply, &r), VT_OK);
    SPIN_UNTIL(r.done, 5000);
    vt_kv_free(kv);
    uv_run(&loop, UV_RUN_DEFAULT);
    vt_kv *zero = connect_kv(NULL);
    r = (result){0};
    VT_CHECK_INT(command(zero, &r, 2, (const char *[]){"EXISTS", "kv:db3"}), VT_OK);
    VT_CHECK(r.type == VT_KV_INTEGER && r.integer == 0); /* not in database 0 */
    vt_kv_free(zero);
    uv_run(&loop, UV_RUN_DEFAULT);

    snprintf(url, sizeof url, "%s/99", vt_harness_env("VENTA_TEST_REDIS_URL"));
    VT_REQUIRE(vt_kv_new(&o, &kv, err, sizeof err) == VT_OK);
    SPIN_UNTIL(false, 1500); /* connects and is refused its database, again and again */
    VT_CHECK(!vt_kv_connected(kv));
    vt_kv_free(kv);
    uv_run(&loop, UV_RUN_DEFAULT);
}

static void test_commands_and_restarts(void)
{
    vt_kv *kv = connect_kv(on_state);
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
    VT_RUN(test_array_replies);
    VT_RUN(test_set_px);
    VT_RUN(test_free_flushes_last_commands);
    VT_RUN(test_database_selection);
    VT_RUN(test_commands_and_restarts);
    VT_CHECK_INT(uv_loop_close(&loop), 0);
    return VT_TEST_RESULT();
}
