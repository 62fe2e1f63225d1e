/*
 * search_highlight.c — see search_highlight.h.
 *
 * The text is split with the same folding as the index (search_words_split keeps each
 * word's original byte range), each word is checked against every query word, and the
 * output is the original bytes with tags inserted, so accents and case survive.
 */
#include "search_highlight.h"

#include <stdlib.h>
#include <string.h>

/* A vendor's description is at most 2000 characters: at most 1000 words. */
#define TEXT_WORDS_MAX 1024

static bool put_text(vt_buf *out, const char *s, size_t n, bool escape)
{
    if (!escape)
        return vt_buf_put(out, s, n);
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        switch (s[i]) {
        case '&':
            ok = vt_buf_puts(out, "&amp;");
            break;
        case '<':
            ok = vt_buf_puts(out, "&lt;");
            break;
        case '>':
            ok = vt_buf_puts(out, "&gt;");
            break;
        case '"':
            ok = vt_buf_puts(out, "&quot;");
            break;
        case '\'':
            ok = vt_buf_puts(out, "&#39;");
            break;
        default:
            ok = vt_buf_putc(out, s[i]);
        }
    }
    return ok;
}

/* How many folded characters of w to wrap: all of it, a prefix of it, or 0. */
static size_t wrapped_chars(const search_word *w, const search_query *q, search_highlight_result *r)
{
    size_t best = 0;
    for (size_t i = 0; i < q->n; i++) {
        search_match m =
            search_words_match(q->words[i], q->lens[i], i + 1 == q->n, w->text, w->len);
        if (!m.matched)
            continue;
        r->matched[i] = true;
        size_t n = m.prefix ? q->lens[i] : w->len;
        if (n > best)
            best = n;
    }
    return best;
}

bool search_highlight(const char *text, const search_query *q, const search_highlight_opts *o,
                      vt_buf *out, search_highlight_result *r)
{
    memset(r, 0, sizeof *r);
    size_t len = strlen(text);
    search_word *words = malloc(TEXT_WORDS_MAX * sizeof *words);
    if (!words)
        return false;
    size_t n = search_words_split(text, len, words, TEXT_WORDS_MAX, NULL);
    size_t at = 0, whole = 0;
    bool ok = true;
    for (size_t k = 0; k < n && ok; k++) {
        size_t chars = wrapped_chars(&words[k], q, r);
        if (chars == 0)
            continue;
        whole += chars == words[k].len;
        size_t bytes = chars == words[k].len ? words[k].end - words[k].start
                                             : search_words_prefix_bytes(text, &words[k], chars);
        ok = put_text(out, text + at, words[k].start - at, o->escape) && vt_buf_puts(out, o->pre) &&
             put_text(out, text + words[k].start, bytes, o->escape) && vt_buf_puts(out, o->post);
        at = words[k].start + bytes;
    }
    ok = ok && put_text(out, text + at, len - at, o->escape);
    free(words);
    size_t matched = 0;
    for (size_t i = 0; i < q->n; i++)
        matched += r->matched[i];
    r->level = matched == 0      ? SEARCH_MATCH_NONE
               : matched == q->n ? SEARCH_MATCH_FULL
                                 : SEARCH_MATCH_PARTIAL;
    r->fully_highlighted = n > 0 && whole == n;
    return ok;
}

const char *search_match_level_name(search_match_level level)
{
    return level == SEARCH_MATCH_FULL ? "full" : level == SEARCH_MATCH_PARTIAL ? "partial" : "none";
}
