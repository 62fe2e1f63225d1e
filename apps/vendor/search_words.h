/*
 * search_words.h — the words of vendor search (search_words.c): folding a text into words
 * exactly as prisma-free-sql/0011_search.sql's vendor.search_words does, the typos a word
 * allows, its symmetric-delete variants, the optimal-string-alignment distance, and the
 * one rule that says whether an indexed word matches a query word.
 *
 * Pure functions on bytes: tests/unit/vendor checks each against brute force.
 */
#ifndef VENTA_VENDOR_SEARCH_WORDS_H
#define VENTA_VENDOR_SEARCH_WORDS_H

#include <stdbool.h>
#include <stddef.h>

/* Longest word kept (longer ones are cut, as in SQL's left(w, 32)). */
#define SEARCH_WORD_MAX 32
/* Query words used; more are ignored. */
#define SEARCH_QUERY_WORDS_MAX 10
/* Variants of one word: itself, 32 single and 496 double deletions at most. */
#define SEARCH_VARIANTS_MAX (1 + SEARCH_WORD_MAX + SEARCH_WORD_MAX * (SEARCH_WORD_MAX - 1) / 2)

/* One word of a text: its folded form ([a-z0-9], NUL-terminated) and where it is in
 * the original bytes [start, end). */
typedef struct {
    char text[SEARCH_WORD_MAX + 1];
    size_t len;
    size_t start, end;
} search_word;

/* Split text (UTF-8; invalid bytes are separators) into at most max words, folded: ASCII
 * letters lower-cased, Latin accented letters to their base ("é" → "e", "ß" → "ss"),
 * every other character a separator. Returns the number of words stored; *total (may
 * be NULL) receives how many the text has. */
size_t search_words_split(const char *text, size_t len, search_word *out, size_t max,
                          size_t *total);

/* How many original bytes of word (its start..end) fold into its first n characters. */
size_t search_words_prefix_bytes(const char *text, const search_word *word, size_t n);

/* Typos a query word of len letters may have: 0 below 4 letters, 1 for 4-7, 2 for 8+. */
int search_words_typos_allowed(size_t len);

/* The word itself and its deletion variants (1 deletion for 4-7 letters, up to 2 for
 * 8+), without duplicates, into out (SEARCH_VARIANTS_MAX entries). Returns the count. */
size_t search_words_deletes(const char *w, size_t len, char (*out)[SEARCH_WORD_MAX + 1]);

/* Optimal-string-alignment distance (insertions, deletions, substitutions and adjacent
 * transpositions, each 1) of a and b, or max + 1 when it exceeds max. */
int search_words_distance(const char *a, size_t alen, const char *b, size_t blen, int max);

/* How an indexed word matched a query word. */
typedef struct {
    bool matched;
    bool prefix; /* the query word is a proper prefix of the term (last word only) */
    int typos;
} search_match;

/* Does term match query word q? Within q's allowed typos, or (when q is the query's
 * last word) as a prefix with no typo. A prefix match is preferred over a typo match. */
search_match search_words_match(const char *q, size_t qlen, bool last, const char *term,
                                size_t tlen);

/* A query: its folded words (at most SEARCH_QUERY_WORDS_MAX); the last one also
 * matches as a prefix. */
typedef struct {
    char words[SEARCH_QUERY_WORDS_MAX][SEARCH_WORD_MAX + 1];
    size_t lens[SEARCH_QUERY_WORDS_MAX];
    size_t n;
} search_query;

/* The words of q; n is 0 when q has none (only separators). */
void search_query_parse(const char *q, search_query *out);

#endif
