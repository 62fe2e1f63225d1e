/*
 * search_highlight.h — Algolia-style highlighting of a vendor's name or description
 * (search_highlight.c): the words that match a query are wrapped in tags (<em>…</em> by
 * default), with a match level and the query words that matched.
 *
 * A word of the text matches a query word by search_words_match, the rule that found
 * the vendor: a typo match wraps the whole word, a prefix match only the prefix
 * ("<em>horch</em>ata"), as Algolia does.
 */
#ifndef VENTA_VENDOR_SEARCH_HIGHLIGHT_H
#define VENTA_VENDOR_SEARCH_HIGHLIGHT_H

#include "search_words.h"
#include "vt_core.h"

#include <stdbool.h>

typedef enum {
    SEARCH_MATCH_NONE = 0,
    SEARCH_MATCH_PARTIAL, /* some query words matched */
    SEARCH_MATCH_FULL,    /* every query word matched */
} search_match_level;

typedef struct {
    const char *pre, *post; /* the tags around a match */
    /* HTML-escape the text between tags (& < > " '): on with the default tags, so that
     * a vendor's name can never inject markup into an app that renders the value as
     * HTML; off when the caller brings its own tags and escapes itself (InstantSearch). */
    bool escape;
} search_highlight_opts;

typedef struct {
    search_match_level level;
    bool matched[SEARCH_QUERY_WORDS_MAX]; /* per query word */
    bool fully_highlighted;               /* every word of the text wrapped whole */
} search_highlight_result;

/* text with its matches wrapped, appended to out; the result into r. false when out ran
 * out of memory. */
bool search_highlight(const char *text, const search_query *q, const search_highlight_opts *o,
                      vt_buf *out, search_highlight_result *r);

/* "none", "partial" or "full". */
const char *search_match_level_name(search_match_level level);

#endif
