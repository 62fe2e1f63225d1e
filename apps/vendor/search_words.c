/*
 * search_words.c — see search_words.h.
 *
 * Folding is a table of the Latin letters with accents (Latin-1 Supplement and Latin
 * Extended-A) and their base letters; prisma-free-sql/0011_search.sql's search_fold
 * holds the same table as translate() strings, and tests/integration/vendor checks that
 * SQL and C split a text holding every character of it into the same words. Anything
 * outside [A-Za-z0-9] and the table separates words.
 *
 * Typo tolerance is symmetric delete: a term within k typos of a query word shares a
 * deletion variant with it, each side deleting at most k letters (a substitution or a
 * transposition is one deletion on each side), so the index stores each term's variants
 * and the query looks up its own. The variants only find candidates; the distance here
 * decides, so a shared variant that is not within k typos (e.g. two substitutions of one
 * letter each side at k = 1) never matches.
 */
#include "search_words.h"

#include <stdint.h>
#include <string.h>

typedef struct {
    uint32_t cp;
    const char *base;
} fold_entry;

/* Sorted by code point, for bsearch. */
static const fold_entry fold_table[] = {
    {0x00C0, "a"},  {0x00C1, "a"},  {0x00C2, "a"},  {0x00C3, "a"},  {0x00C4, "a"},  {0x00C5, "a"},
    {0x00C6, "ae"}, {0x00C7, "c"},  {0x00C8, "e"},  {0x00C9, "e"},  {0x00CA, "e"},  {0x00CB, "e"},
    {0x00CC, "i"},  {0x00CD, "i"},  {0x00CE, "i"},  {0x00CF, "i"},  {0x00D1, "n"},  {0x00D2, "o"},
    {0x00D3, "o"},  {0x00D4, "o"},  {0x00D5, "o"},  {0x00D6, "o"},  {0x00D8, "o"},  {0x00D9, "u"},
    {0x00DA, "u"},  {0x00DB, "u"},  {0x00DC, "u"},  {0x00DD, "y"},  {0x00DF, "ss"}, {0x00E0, "a"},
    {0x00E1, "a"},  {0x00E2, "a"},  {0x00E3, "a"},  {0x00E4, "a"},  {0x00E5, "a"},  {0x00E6, "ae"},
    {0x00E7, "c"},  {0x00E8, "e"},  {0x00E9, "e"},  {0x00EA, "e"},  {0x00EB, "e"},  {0x00EC, "i"},
    {0x00ED, "i"},  {0x00EE, "i"},  {0x00EF, "i"},  {0x00F1, "n"},  {0x00F2, "o"},  {0x00F3, "o"},
    {0x00F4, "o"},  {0x00F5, "o"},  {0x00F6, "o"},  {0x00F8, "o"},  {0x00F9, "u"},  {0x00FA, "u"},
    {0x00FB, "u"},  {0x00FC, "u"},  {0x00FD, "y"},  {0x00FF, "y"},  {0x0100, "a"},  {0x0101, "a"},
    {0x0102, "a"},  {0x0103, "a"},  {0x0104, "a"},  {0x0105, "a"},  {0x0106, "c"},  {0x0107, "c"},
    {0x010C, "c"},  {0x010D, "c"},  {0x010E, "d"},  {0x010F, "d"},  {0x0110, "d"},  {0x0111, "d"},
    {0x0112, "e"},  {0x0113, "e"},  {0x0116, "e"},  {0x0117, "e"},  {0x0118, "e"},  {0x0119, "e"},
    {0x011A, "e"},  {0x011B, "e"},  {0x011E, "g"},  {0x011F, "g"},  {0x012A, "i"},  {0x012B, "i"},
    {0x012E, "i"},  {0x012F, "i"},  {0x0130, "i"},  {0x0131, "i"},  {0x0141, "l"},  {0x0142, "l"},
    {0x0143, "n"},  {0x0144, "n"},  {0x0147, "n"},  {0x0148, "n"},  {0x014C, "o"},  {0x014D, "o"},
    {0x0150, "o"},  {0x0151, "o"},  {0x0152, "oe"}, {0x0153, "oe"}, {0x0158, "r"},  {0x0159, "r"},
    {0x015A, "s"},  {0x015B, "s"},  {0x015E, "s"},  {0x015F, "s"},  {0x0160, "s"},  {0x0161, "s"},
    {0x0162, "t"},  {0x0163, "t"},  {0x0164, "t"},  {0x0165, "t"},  {0x016A, "u"},  {0x016B, "u"},
    {0x016E, "u"},  {0x016F, "u"},  {0x0170, "u"},  {0x0171, "u"},  {0x0172, "u"},  {0x0173, "u"},
    {0x0178, "y"},  {0x0179, "z"},  {0x017A, "z"},  {0x017B, "z"},  {0x017C, "z"},  {0x017D, "z"},
    {0x017E, "z"},  {0x1E9E, "ss"},
};

static const char *fold_cp(uint32_t cp)
{
    size_t lo = 0, hi = sizeof fold_table / sizeof fold_table[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (fold_table[mid].cp == cp)
            return fold_table[mid].base;
        if (fold_table[mid].cp < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Decode one UTF-8 character at s[i] (i < len): its code point, or 0xFFFFFFFF for an
 * invalid sequence; *n receives the bytes it takes (at least 1). */
static uint32_t next_cp(const unsigned char *s, size_t len, size_t i, size_t *n)
{
    unsigned c = s[i];
    *n = 1;
    if (c < 0x80)
        return c;
    size_t need = c >= 0xF5 ? 0 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (need == 0 || i + need > len)
        return 0xFFFFFFFF;
    uint32_t cp = c & (need == 2 ? 0x1F : need == 3 ? 0x0F : 0x07);
    for (size_t k = 1; k < need; k++) {
        if ((s[i + k] & 0xC0) != 0x80)
            return 0xFFFFFFFF;
        cp = cp << 6 | (s[i + k] & 0x3F);
    }
    *n = need;
    return cp;
}

/* The folded letters of one character ("" for a separator). */
static const char *fold_char(uint32_t cp, char ascii[2])
{
    if (cp < 0x80) {
        if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) {
            ascii[0] = (char)cp;
        } else if (cp >= 'A' && cp <= 'Z') {
            ascii[0] = (char)(cp - 'A' + 'a');
        } else {
            return "";
        }
        ascii[1] = '\0';
        return ascii;
    }
    const char *f = fold_cp(cp);
    return f ? f : "";
}

size_t search_words_split(const char *text, size_t len, search_word *out, size_t max, size_t *total)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t count = 0, i = 0;
    search_word cur = {0};
    bool in_word = false;
    while (i <= len) {
        size_t n = 1;
        char ascii[2];
        const char *f = i < len ? fold_char(next_cp(s, len, i, &n), ascii) : "";
        if (*f) {
            if (!in_word) {
                memset(&cur, 0, sizeof cur);
                cur.start = i;
                in_word = true;
            }
            for (; *f; f++)
                if (cur.len < SEARCH_WORD_MAX)
                    cur.text[cur.len++] = *f;
            cur.end = i + n;
        } else if (in_word) {
            cur.text[cur.len] = '\0';
            if (count < max)
                out[count] = cur;
            count++;
            in_word = false;
        }
        i += n;
    }
    if (total)
        *total = count;
    return count < max ? count : max;
}

size_t search_words_prefix_bytes(const char *text, const search_word *word, size_t n)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t folded = 0, i = word->start;
    while (i < word->end && folded < n) {
        size_t step = 1;
        char ascii[2];
        folded += strlen(fold_char(next_cp(s, word->end, i, &step), ascii));
        i += step;
    }
    return i - word->start;
}

int search_words_typos_allowed(size_t len)
{
    return len >= 8 ? 2 : len >= 4 ? 1 : 0;
}

static size_t add_unique(char (*out)[SEARCH_WORD_MAX + 1], size_t n, const char *w, size_t len)
{
    for (size_t k = 0; k < n; k++)
        if (strlen(out[k]) == len && memcmp(out[k], w, len) == 0)
            return n;
    memcpy(out[n], w, len);
    out[n][len] = '\0';
    return n + 1;
}

size_t search_words_deletes(const char *w, size_t len, char (*out)[SEARCH_WORD_MAX + 1])
{
    if (len > SEARCH_WORD_MAX)
        len = SEARCH_WORD_MAX;
    size_t n = add_unique(out, 0, w, len);
    int k = search_words_typos_allowed(len);
    char one[SEARCH_WORD_MAX], two[SEARCH_WORD_MAX];
    for (size_t i = 0; k >= 1 && i < len; i++) {
        memcpy(one, w, i);
        memcpy(one + i, w + i + 1, len - i - 1);
        n = add_unique(out, n, one, len - 1);
        for (size_t j = i; k >= 2 && j < len - 1; j++) {
            memcpy(two, one, j);
            memcpy(two + j, one + j + 1, len - j - 2);
            n = add_unique(out, n, two, len - 2);
        }
    }
    return n;
}

int search_words_distance(const char *a, size_t alen, const char *b, size_t blen, int max)
{
    if (alen > SEARCH_WORD_MAX || blen > SEARCH_WORD_MAX)
        return max + 1;
    size_t diff = alen > blen ? alen - blen : blen - alen;
    if (diff > (size_t)max)
        return max + 1;
    /* Three rows of the DP: two back for transpositions. */
    int rows[3][SEARCH_WORD_MAX + 1];
    int *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= blen; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= alen; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= blen; j++) {
            int cost = a[i - 1] == b[j - 1] ? 0 : 1;
            int v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            if (prev[j - 1] + cost < v)
                v = prev[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                prev2[j - 2] + 1 < v)
                v = prev2[j - 2] + 1;
            cur[j] = v;
        }
        int *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    int d = prev[blen];
    return d > max ? max + 1 : d;
}

search_match search_words_match(const char *q, size_t qlen, bool last, const char *term,
                                size_t tlen)
{
    search_match m = {0};
    if (last && qlen < tlen && memcmp(term, q, qlen) == 0) {
        m.matched = true;
        m.prefix = true;
        return m;
    }
    int k = search_words_typos_allowed(qlen);
    int d = search_words_distance(q, qlen, term, tlen, k);
    if (d <= k) {
        m.matched = true;
        m.typos = d;
    }
    return m;
}

void search_query_parse(const char *q, search_query *out)
{
    search_word w[SEARCH_QUERY_WORDS_MAX];
    out->n = search_words_split(q, strlen(q), w, SEARCH_QUERY_WORDS_MAX, NULL);
    for (size_t i = 0; i < out->n; i++) {
        memcpy(out->words[i], w[i].text, w[i].len + 1);
        out->lens[i] = w[i].len;
    }
}
