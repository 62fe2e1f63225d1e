/*
 * Unit tests of libs/core's building blocks: the vt_buf builder (appends, printf,
 * growth, take, reset, the sticky failure), the vt_hash values (pinned: page tokens
 * and shard choices depend on them), the vt_index id index against a brute-force model
 * (random inserts, deletes, renumberings and lookups with a weak hash that makes long
 * probe runs and wraps them around the end of the slots, plus resizing), base64
 * decoding in each variant, and the one JSON escaper's rules (shared with the encoder
 * and the log lines).
 */
#include "vt_core.h"
#include "vt_json.h"
#include "vt_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_buf(void)
{
    vt_buf b = VT_BUF_INIT;
    VT_CHECK(b.data == NULL && vt_buf_spare(&b) == 0);
    VT_CHECK(vt_buf_puts(&b, "ab"));
    VT_CHECK(vt_buf_putc(&b, 'c'));
    VT_CHECK(vt_buf_put(&b, "d\0e", 3)); /* raw bytes, NUL included */
    VT_CHECK_INT(b.len, 6);
    VT_CHECK(memcmp(b.data, "abcd\0e", 7) == 0); /* and a NUL after the text */
    VT_CHECK(vt_buf_printf(&b, "|%d|%s", 42, "x"));
    VT_CHECK_INT(b.len, 11);
    /* A formatted text longer than the free space is formatted again into room. */
    char big[5000];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    VT_CHECK(vt_buf_printf(&b, "<%s>", big));
    VT_CHECK_INT(b.len, 11 + 5001);
    VT_CHECK(b.data[b.len] == '\0' && b.data[11] == '<' && b.data[b.len - 1] == '>');
    VT_CHECK(b.cap > b.len);
    /* Writing in place. */
    VT_REQUIRE(vt_buf_reserve(&b, 3));
    VT_CHECK(vt_buf_spare(&b) >= 3);
    memcpy(vt_buf_tail(&b), "xyz", 3);
    vt_buf_advance(&b, 3);
    VT_CHECK(strcmp(b.data + b.len - 3, "xyz") == 0);
    size_t len = 0;
    char *text = vt_buf_take(&b, &len);
    VT_CHECK(text && len == 11 + 5001 + 3);
    VT_CHECK(text && memcmp(text, "abcd", 4) == 0 && text[len] == '\0');
    free(text);
    VT_CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
    /* An empty buffer takes as an allocated "". */
    text = vt_buf_take(&b, &len);
    VT_CHECK(text && text[0] == '\0' && len == 0);
    free(text);
    /* Reset keeps the memory, empties the text and forgets a failure. */
    vt_buf_puts(&b, "hello");
    char *mem = b.data;
    vt_buf_reset(&b);
    VT_CHECK(b.data == mem && b.len == 0 && b.data[0] == '\0');
    b.oom = true; /* as after a failed allocation */
    VT_CHECK(!vt_buf_puts(&b, "lost"));
    VT_CHECK(!vt_buf_printf(&b, "%s", "lost"));
    VT_CHECK(!vt_buf_reserve(&b, 1) && vt_buf_spare(&b) == 0);
    VT_CHECK_INT(b.len, 0);
    vt_buf_reset(&b);
    VT_CHECK(vt_buf_puts(&b, "again") && strcmp(b.data, "again") == 0);
    b.oom = true;
    VT_CHECK(vt_buf_take(&b, &len) == NULL && len == 0);
    VT_CHECK(b.data == NULL && !b.oom); /* freed and reset */
    /* A size no allocation can meet fails and sticks. */
    vt_buf_puts(&b, "x");
    VT_CHECK(!vt_buf_reserve(&b, SIZE_MAX - 8) && b.oom);
    VT_CHECK(!vt_buf_putc(&b, 'y'));
    vt_buf_free(&b);
    VT_CHECK(b.data == NULL && !b.oom);
}

static void test_hash(void)
{
    /* Pinned values: the shard of a vendor, the home slots and the page-token
     * fingerprints were computed with this exact function before it was shared. */
    uint64_t h = 1469598103934665603ULL;
    const char *id = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
    for (const char *p = id; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    VT_CHECK(vt_hash_str(id) == h);
    VT_CHECK(vt_hash_bytes(id, strlen(id)) == h);
    VT_CHECK(vt_hash_str("") == VT_HASH_INIT);
    VT_CHECK(vt_hash_add_str(vt_hash_str("ab"), "c") == vt_hash_str("abc"));
    VT_CHECK(vt_hash_add(vt_hash_str("a"), "\x1f", 1) != vt_hash_str("a"));
    VT_CHECK(vt_hash_str("a") == 0x44bd8ad473cd9906ULL);
}

/* ---- the index against a brute-force model ---- */

#define KEYS 600

typedef struct {
    uint64_t key[KEYS]; /* entry e holds key[e] while live[e] */
    bool live[KEYS];
    unsigned shift; /* weak hashes: many keys share a home slot */
} model;

/* 64 homes, the last 64 slots of any table of 64 or more: long runs that wrap. */
static uint64_t weak_hash(const model *m, uint64_t key)
{
    return ~(uint64_t)0 - ((key >> m->shift) * 0x9e3779b97f4a7c15ULL >> 58);
}

static bool entry_eq(const void *ctx, uint32_t e, const void *key)
{
    const model *m = ctx;
    return m->key[e] == *(const uint64_t *)key;
}

static uint64_t entry_hash(const void *ctx, uint32_t e)
{
    const model *m = ctx;
    return weak_hash(m, m->key[e]);
}

static uint32_t brute_find(const model *m, uint64_t key)
{
    for (uint32_t e = 0; e < KEYS; e++)
        if (m->live[e] && m->key[e] == key)
            return e;
    return VT_INDEX_NONE;
}

static uint32_t free_entry(const model *m, unsigned *seed)
{
    uint32_t start = (uint32_t)rand_r(seed) % KEYS;
    for (uint32_t i = 0; i < KEYS; i++)
        if (!m->live[(start + i) % KEYS])
            return (start + i) % KEYS;
    return VT_INDEX_NONE;
}

static void check_all(const vt_index *ix, const model *m, size_t count)
{
    VT_CHECK_INT(ix->count, count);
    size_t filled = 0;
    for (size_t s = 0; s < vt_index_nslots(ix); s++)
        filled += vt_index_at(ix, s) != VT_INDEX_NONE;
    VT_CHECK_INT(filled, count);
    for (uint32_t e = 0; e < KEYS; e++)
        if (m->live[e])
            VT_CHECK(vt_index_find(ix, weak_hash(m, m->key[e]), entry_eq, m, &m->key[e]) == e);
}

static void run_model(unsigned seed, unsigned shift, bool grow)
{
    static model m;
    memset(&m, 0, sizeof m);
    m.shift = shift;
    vt_index ix = {0};
    VT_CHECK(vt_index_find(&ix, 1, entry_eq, &m, &(uint64_t){1}) == VT_INDEX_NONE);
    if (!grow)
        VT_REQUIRE(vt_index_init(&ix, 2 * KEYS) == VT_OK);
    size_t count = 0;
    for (int step = 0; step < 60000; step++) {
        uint64_t key = (uint64_t)(rand_r(&seed) % 900) << shift; /* a small key space */
        uint64_t h = weak_hash(&m, key);
        int op = rand_r(&seed) % 10;
        uint32_t want = brute_find(&m, key);
        if (op < 5) { /* insert if absent */
            if (want != VT_INDEX_NONE || count == KEYS)
                continue;
            if (grow && vt_index_full(&ix, 3, 4))
                VT_REQUIRE(vt_index_resize(&ix, vt_index_nslots(&ix) * 2, entry_hash, &m) == VT_OK);
            size_t s = vt_index_seek(&ix, h, entry_eq, &m, &key);
            VT_REQUIRE(vt_index_at(&ix, s) == VT_INDEX_NONE);
            uint32_t e = free_entry(&m, &seed);
            m.key[e] = key;
            m.live[e] = true;
            vt_index_fill(&ix, s, e);
            count++;
        } else if (op < 8) { /* delete if present */
            if (ix.slots)
                VT_CHECK(vt_index_find(&ix, h, entry_eq, &m, &key) == want);
            if (want == VT_INDEX_NONE)
                continue;
            size_t s = vt_index_slot_of(&ix, h, want);
            VT_CHECK(s == vt_index_seek(&ix, h, entry_eq, &m, &key));
            vt_index_delete(&ix, s, entry_hash, &m);
            m.live[want] = false;
            count--;
        } else if (op < 9) { /* move an entry to another number of the caller's array */
            uint32_t e = free_entry(&m, &seed);
            if (want == VT_INDEX_NONE || e == VT_INDEX_NONE)
                continue;
            size_t s = vt_index_slot_of(&ix, h, want);
            m.key[e] = key;
            m.live[e] = true;
            m.live[want] = false;
            vt_index_renumber(&ix, s, e);
        } else if (ix.slots) {
            VT_CHECK(vt_index_find(&ix, h, entry_eq, &m, &key) == want);
        }
        if (step % 5000 == 0)
            check_all(&ix, &m, count);
    }
    check_all(&ix, &m, count);
    /* Resizing keeps every entry; a size that cannot hold them is refused. */
    if (count > 16)
        VT_CHECK(vt_index_resize(&ix, 16, entry_hash, &m) == VT_RESOURCE_EXHAUSTED);
    VT_REQUIRE(vt_index_resize(&ix, 4096, entry_hash, &m) == VT_OK);
    VT_CHECK_INT(vt_index_nslots(&ix), 4096);
    check_all(&ix, &m, count);
    vt_index_clear(&ix);
    VT_CHECK_INT(ix.count, 0);
    for (uint32_t e = 0; e < KEYS; e++)
        if (m.live[e])
            VT_CHECK(vt_index_find(&ix, weak_hash(&m, m.key[e]), entry_eq, &m, &m.key[e]) ==
                     VT_INDEX_NONE);
    vt_index_free(&ix);
    VT_CHECK(ix.slots == NULL && vt_index_nslots(&ix) == 0);
}

static void test_index_against_model(void)
{
    /* Weak hashes (64 homes at the end of the slots) over a table of 2048 slots with
     * up to 600 entries: runs hundreds of slots long, wrapping around to slot 0. */
    run_model(1, 0, false);
    run_model(2, 7, false);
    run_model(3, 0, true); /* growing from no slots at all */
}

static uint64_t const_hash(const void *ctx, uint32_t e)
{
    (void)ctx;
    (void)e;
    return 15;
}

static void test_index_wraparound_delete(void)
{
    static model m;
    memset(&m, 0, sizeof m);
    vt_index ix;
    VT_REQUIRE(vt_index_init(&ix, 16) == VT_OK);
    for (uint32_t e = 0; e < 10; e++) {
        m.key[e] = 100 + e;
        m.live[e] = true;
        vt_index_add(&ix, 15, e);
    }
    VT_CHECK(vt_index_at(&ix, 15) == 0 && vt_index_at(&ix, 0) == 1 && vt_index_at(&ix, 8) == 9 &&
             vt_index_at(&ix, 9) == VT_INDEX_NONE);
    /* Delete the one at the end (slot 15): the run shifts back across the wrap. */
    vt_index_delete(&ix, vt_index_slot_of(&ix, 15, 0), const_hash, NULL);
    m.live[0] = false;
    VT_CHECK(vt_index_at(&ix, 15) == 1 && vt_index_at(&ix, 7) == 9 &&
             vt_index_at(&ix, 8) == VT_INDEX_NONE);
    for (uint32_t e = 1; e < 10; e++)
        VT_CHECK(vt_index_find(&ix, 15, entry_eq, &m, &m.key[e]) == e);
    VT_CHECK(vt_index_find(&ix, 15, entry_eq, &m, &(uint64_t){100}) == VT_INDEX_NONE);
    VT_CHECK_INT(ix.count, 9);
    vt_index_free(&ix);
}

static void test_base64(void)
{
    unsigned char out[16];
    size_t n = 99;
    const unsigned std = VT_BASE64_STD | VT_BASE64_PAD, url = VT_BASE64_URL | VT_BASE64_NOPAD,
                   json = VT_BASE64_STD | VT_BASE64_URL;
    VT_CHECK(vt_base64_decode("aGk=", 4, std, out, sizeof out, &n) == VT_OK && n == 2 &&
             memcmp(out, "hi", 2) == 0);
    VT_CHECK(vt_base64_decode("aGk", 3, std, out, sizeof out, &n) == VT_INVALID_ARGUMENT);
    VT_CHECK(vt_base64_decode("aGk", 3, url, out, sizeof out, &n) == VT_OK && n == 2);
    VT_CHECK(vt_base64_decode("aGk=", 4, url, out, sizeof out, &n) == VT_INVALID_ARGUMENT);
    VT_CHECK(vt_base64_decode("aGk", 3, json, out, sizeof out, &n) == VT_OK && n == 2);
    VT_CHECK(vt_base64_decode("aGk=", 4, json, out, sizeof out, &n) == VT_OK && n == 2);
    VT_CHECK(vt_base64_decode("aGk==", 5, json, out, sizeof out, &n) == VT_INVALID_ARGUMENT);
    VT_CHECK(vt_base64_decode("+/-_", 4, json, out, sizeof out, &n) == VT_OK && n == 3 &&
             out[0] == 0xfb && out[1] == 0xff && out[2] == 0xbf);
    VT_CHECK(vt_base64_decode("+/-_", 4, std, out, sizeof out, &n) == VT_INVALID_ARGUMENT);
    VT_CHECK(vt_base64_decode("+/-_", 4, url, out, sizeof out, &n) == VT_INVALID_ARGUMENT);
    VT_CHECK(vt_base64_decode("aGl=", 4, std, out, sizeof out, &n) == VT_INVALID_ARGUMENT);
    VT_CHECK(vt_base64_decode("a", 1, json, out, sizeof out, &n) == VT_INVALID_ARGUMENT);
    VT_CHECK(vt_base64_decode("aG k", 4, json, out, sizeof out, &n) == VT_INVALID_ARGUMENT);
    VT_CHECK(vt_base64_decode("", 0, std, NULL, 0, &n) == VT_OK && n == 0);
    VT_CHECK(vt_base64_decode("aGk=", 4, std, out, 1, &n) == VT_OUT_OF_RANGE);
    VT_CHECK_INT(vt_base64_decoded_max(4), 3);
    VT_CHECK_INT(vt_base64_decoded_max(3), 2);
}

static void test_json_escape_rules(void)
{
    /* The one escaper's rules, as the encoder always wrote them (the log lines now
     * write \b, \f and DEL the same way). */
    char out[64];
    vt_json_escape("\b\f\x7f\x1f", out, sizeof out);
    VT_CHECK_STR(out, "\\b\\f\\u007f\\u001f");
    VT_CHECK_INT(vt_json_escape_n("a\0b", 3, out, sizeof out), 8);
    VT_CHECK_STR(out, "a\\u0000b");
    /* An ASCII run is cut anywhere; nothing is written after a cut. */
    char five[5];
    VT_CHECK_INT(vt_json_escape("abcdef", five, sizeof five), 6);
    VT_CHECK_STR(five, "abcd");
    VT_CHECK_INT(vt_json_escape("ab\ncd", five, sizeof five), 6);
    VT_CHECK_STR(five, "ab\\n");
}

int main(void)
{
    VT_RUN(test_buf);
    VT_RUN(test_hash);
    VT_RUN(test_index_against_model);
    VT_RUN(test_index_wraparound_delete);
    VT_RUN(test_base64);
    VT_RUN(test_json_escape_rules);
    return VT_TEST_RESULT();
}
