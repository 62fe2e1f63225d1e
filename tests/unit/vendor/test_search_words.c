/*
 * test_search_words.c — venta-vendor's search words and highlighting: folding and
 * splitting, the allowed typos, deletion variants, the optimal-string-alignment distance
 * against a brute-force breadth-first search over edits, the symmetric-delete property
 * (every term within the allowed typos shares a variant with the query word) on random
 * words, the match rule, and Algolia-style highlights.
 */
#include "search_highlight.h"
#include "search_words.h"
#include "vt_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t split(const char *text, search_word *w, size_t max)
{
    return search_words_split(text, strlen(text), w, max, NULL);
}

static void test_split_and_fold(void)
{
    search_word w[8];
    size_t total = 0;
    const char *t = "Taco Truck ZETA: al-pastor & horchata!";
    size_t n = search_words_split(t, strlen(t), w, 8, &total);
    VT_CHECK_INT(n, 6);
    VT_CHECK_INT(total, 6);
    const char *want[] = {"taco", "truck", "zeta", "al", "pastor", "horchata"};
    for (size_t i = 0; i < 6 && i < n; i++)
        VT_CHECK_STR(w[i].text, want[i]);
    VT_CHECK_INT(w[0].start, 0);
    VT_CHECK_INT(w[0].end, 4);
    VT_CHECK_INT(w[2].start, 11);
    VT_CHECK_INT(w[2].end, 15);

    n = split("Crème Brûlée Straße ÆON Łódź İstanbul", w, 8);
    VT_CHECK_INT(n, 6);
    const char *folded[] = {"creme", "brulee", "strasse", "aeon", "lodz", "istanbul"};
    for (size_t i = 0; i < 6 && i < n; i++)
        VT_CHECK_STR(w[i].text, folded[i]);
    VT_CHECK_INT(w[0].end, 6); /* "Crème" is 6 bytes */
    /* Characters outside the table separate words, like punctuation. */
    n = split("pho\xe1\xbb\x9f ramen\xe2\x80\x94udon \xff\xfe bad", w, 8);
    VT_CHECK_INT(n, 4);
    VT_CHECK_STR(w[0].text, "pho");
    VT_CHECK_STR(w[1].text, "ramen");
    VT_CHECK_STR(w[2].text, "udon");
    VT_CHECK_STR(w[3].text, "bad");
    /* Long words are cut at 32 letters; only max words are stored, all are counted. */
    n = search_words_split("aaaaaaaaaabbbbbbbbbbccccccccccdddddddddd x y", 44, w, 2, &total);
    VT_CHECK_INT(n, 2);
    VT_CHECK_INT(total, 3);
    VT_CHECK_INT(w[0].len, SEARCH_WORD_MAX);
    VT_CHECK_INT(w[0].end, 40);
    VT_CHECK_INT(split("", w, 8), 0);
    VT_CHECK_INT(split(" -- !! ", w, 8), 0);
    /* The bytes of a folded prefix: "Crè" is 4 bytes, "Straß" → "stras" 6 bytes. */
    n = split("Crème Straße", w, 8);
    VT_CHECK_INT(search_words_prefix_bytes("Crème Straße", &w[0], 3), 4);
    VT_CHECK_INT(search_words_prefix_bytes("Crème Straße", &w[1], 5), 6);

    search_query q;
    search_query_parse("  Tako  TRUK ", &q);
    VT_CHECK_INT(q.n, 2);
    VT_CHECK_STR(q.words[0], "tako");
    VT_CHECK_INT(q.lens[1], 4);
    search_query_parse("a b c d e f g h i j k l", &q);
    VT_CHECK_INT(q.n, SEARCH_QUERY_WORDS_MAX);
}

static void test_typos_allowed(void)
{
    VT_CHECK_INT(search_words_typos_allowed(1), 0);
    VT_CHECK_INT(search_words_typos_allowed(3), 0);
    VT_CHECK_INT(search_words_typos_allowed(4), 1);
    VT_CHECK_INT(search_words_typos_allowed(7), 1);
    VT_CHECK_INT(search_words_typos_allowed(8), 2);
    VT_CHECK_INT(search_words_typos_allowed(32), 2);
}

/* Brute force: the fewest edits (insert, delete, substitute, swap adjacent) turning a
 * into b, by breadth-first search up to depth 2 over strings of a small alphabet. */
static int brute_distance(const char *a, const char *b, int max)
{
    if (strcmp(a, b) == 0)
        return 0;
    const char alpha[] = "abc";
    char frontier[4096][12];
    size_t nf = 1;
    snprintf(frontier[0], sizeof frontier[0], "%s", a);
    for (int d = 1; d <= max; d++) {
        static char next[65536][12];
        size_t nn = 0;
        for (size_t f = 0; f < nf; f++) {
            const char *s = frontier[f];
            size_t len = strlen(s);
            char t[12];
            for (size_t i = 0; i <= len && nn < 65000; i++) {
                if (i < len) { /* delete */
                    memcpy(t, s, i);
                    strcpy(t + i, s + i + 1);
                    snprintf(next[nn++], 12, "%s", t);
                }
                for (int c = 0; c < 3 && len < 10; c++) { /* insert */
                    memcpy(t, s, i);
                    t[i] = alpha[c];
                    strcpy(t + i + 1, s + i);
                    snprintf(next[nn++], 12, "%s", t);
                }
                for (int c = 0; c < 3 && i < len; c++) { /* substitute */
                    snprintf(t, sizeof t, "%s", s);
                    t[i] = alpha[c];
                    snprintf(next[nn++], 12, "%s", t);
                }
                if (i + 1 < len) { /* swap */
                    snprintf(t, sizeof t, "%s", s);
                    t[i] = s[i + 1];
                    t[i + 1] = s[i];
                    snprintf(next[nn++], 12, "%s", t);
                }
            }
        }
        for (size_t k = 0; k < nn; k++)
            if (strcmp(next[k], b) == 0)
                return d;
        if (d == max)
            break;
        /* Only the first 4096 distinct enough: depth 2 needs every depth-1 string, and
         * for words of up to 6 letters of "abc" there are fewer than 4096 of them. */
        nf = nn < 4096 ? nn : 4096;
        for (size_t k = 0; k < nf; k++)
            memcpy(frontier[k], next[k], 12);
    }
    return max + 1;
}

static uint64_t rng = 88172645463325252ULL;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static void random_word(char *w, size_t len)
{
    for (size_t i = 0; i < len; i++)
        w[i] = "abc"[rnd(3)];
    w[len] = '\0';
}

static void test_distance(void)
{
    VT_CHECK_INT(search_words_distance("tako", 4, "taco", 4, 1), 1);
    VT_CHECK_INT(search_words_distance("truk", 4, "truck", 5, 1), 1);
    VT_CHECK_INT(search_words_distance("horchatta", 9, "horchata", 8, 2), 1);
    VT_CHECK_INT(search_words_distance("hroch", 5, "horch", 5, 2), 1); /* transposition */
    VT_CHECK_INT(search_words_distance("ca", 2, "abc", 3, 3), 3);      /* OSA, not Damerau */
    VT_CHECK_INT(search_words_distance("taco", 4, "pizza", 5, 1), 2);  /* capped at max + 1 */
    VT_CHECK_INT(search_words_distance("", 0, "ab", 2, 2), 2);
    for (int n = 0; n < 400; n++) {
        char a[8], b[8];
        random_word(a, 1 + rnd(5));
        random_word(b, 1 + rnd(5));
        int want = brute_distance(a, b, 2);
        int got = search_words_distance(a, strlen(a), b, strlen(b), 2);
        /* The search allows swaps anywhere (unrestricted Damerau); OSA never edits a
         * swapped pair again, so it may say 3 where that says 2 ("ca" → "abc"), never
         * less, and always agrees up to 1. */
        if (want <= 1)
            VT_CHECK_INT(got, want);
        else if (want == 2)
            VT_CHECK(got == 2 || got == 3);
        else
            VT_CHECK_INT(got, 3);
    }
}

static bool shares_variant(const char *a, const char *b)
{
    static char va[SEARCH_VARIANTS_MAX][SEARCH_WORD_MAX + 1],
        vb[SEARCH_VARIANTS_MAX][SEARCH_WORD_MAX + 1];
    size_t na = search_words_deletes(a, strlen(a), va), nb = search_words_deletes(b, strlen(b), vb);
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++)
            if (strcmp(va[i], vb[j]) == 0)
                return true;
    return false;
}

static void test_deletes(void)
{
    static char v[SEARCH_VARIANTS_MAX][SEARCH_WORD_MAX + 1];
    VT_CHECK_INT(search_words_deletes("tac", 3, v), 1);
    VT_CHECK_STR(v[0], "tac");
    VT_CHECK_INT(search_words_deletes("taco", 4, v), 5);
    VT_CHECK_INT(search_words_deletes("aaaa", 4, v), 2); /* no duplicates */
    size_t n = search_words_deletes("horchata", 8, v);
    VT_CHECK_INT(n, 1 + 8 + 27); /* deleting "at" or "ta" both leave "horcha" */
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            VT_CHECK(strcmp(v[i], v[j]) != 0);
    /* Symmetric delete finds every term within the query word's allowed typos. */
    for (int k = 0; k < 3000; k++) {
        char q[12], t[12];
        random_word(q, 3 + rnd(8));
        random_word(t, 2 + rnd(9));
        int allowed = search_words_typos_allowed(strlen(q));
        int d = search_words_distance(q, strlen(q), t, strlen(t), 2);
        if (d <= allowed && !shares_variant(q, t)) {
            fprintf(stderr, "  %s ~ %s (distance %d) share no variant\n", q, t, d);
            VT_CHECK(false);
        }
    }
}

static void test_match(void)
{
    search_match m = search_words_match("tako", 4, false, "taco", 4);
    VT_CHECK(m.matched && !m.prefix && m.typos == 1);
    m = search_words_match("truk", 4, true, "truck", 5);
    VT_CHECK(m.matched && !m.prefix && m.typos == 1);
    m = search_words_match("horch", 5, true, "horchata", 8);
    VT_CHECK(m.matched && m.prefix && m.typos == 0);
    m = search_words_match("horch", 5, false, "horchata", 8); /* not last: no prefix */
    VT_CHECK(!m.matched);
    m = search_words_match("horchatta", 9, false, "horchata", 8);
    VT_CHECK(m.matched && m.typos == 1);
    m = search_words_match("tac", 3, false, "tab", 3); /* 3 letters: no typo */
    VT_CHECK(!m.matched);
    m = search_words_match("tako", 4, false, "tack", 4); /* 2 typos at 4 letters */
    VT_CHECK(!m.matched);
    m = search_words_match("horchxtx", 8, false, "horchata", 8); /* 2 typos at 8 */
    VT_CHECK(m.matched && m.typos == 2);
    m = search_words_match("taco", 4, true, "taco", 4);
    VT_CHECK(m.matched && !m.prefix && m.typos == 0);
}

static void highlight(const char *text, const char *query, const search_highlight_opts *o,
                      const char *want, search_match_level level)
{
    search_query q;
    search_query_parse(query, &q);
    vt_buf b = VT_BUF_INIT;
    search_highlight_result r;
    VT_CHECK(search_highlight(text, &q, o, &b, &r));
    vt_buf_putc(&b, '\0');
    VT_CHECK_STR(b.data, want);
    VT_CHECK_INT(r.level, level);
    vt_buf_free(&b);
}

static void test_highlight(void)
{
    search_highlight_opts em = {"<em>", "</em>", true};
    highlight("Taco Truck Zeta", "Tako Truk", &em, "<em>Taco</em> <em>Truck</em> Zeta",
              SEARCH_MATCH_FULL);
    highlight("al pastor and horchata", "horch", &em, "al pastor and <em>horch</em>ata",
              SEARCH_MATCH_FULL);
    highlight("Taco Truck Zeta", "taco horch", &em, "<em>Taco</em> Truck Zeta",
              SEARCH_MATCH_PARTIAL);
    highlight("Pizza", "taco", &em, "Pizza", SEARCH_MATCH_NONE);
    /* Escaped with the default tags; accents kept; a prefix cut after its bytes. */
    highlight("Crème <b>&</b> Crêpes", "creme cre", &em,
              "<em>Crème</em> &lt;b&gt;&amp;&lt;/b&gt; <em>Crê</em>pes", SEARCH_MATCH_FULL);
    search_highlight_opts ais = {"__ais-highlight__", "__/ais-highlight__", false};
    highlight("Fish & Chips", "fish", &ais, "__ais-highlight__Fish__/ais-highlight__ & Chips",
              SEARCH_MATCH_FULL);
    search_query q;
    search_query_parse("taco truck", &q);
    vt_buf b = VT_BUF_INIT;
    search_highlight_result r;
    VT_CHECK(search_highlight("Taco, truck!", &q, &em, &b, &r));
    VT_CHECK(r.fully_highlighted);
    VT_CHECK(r.matched[0] && r.matched[1]);
    vt_buf_free(&b);
    VT_CHECK_STR(search_match_level_name(SEARCH_MATCH_PARTIAL), "partial");
}

int main(void)
{
    VT_RUN(test_split_and_fold);
    VT_RUN(test_typos_allowed);
    VT_RUN(test_distance);
    VT_RUN(test_deletes);
    VT_RUN(test_match);
    VT_RUN(test_highlight);
    return VT_TEST_RESULT();
}
