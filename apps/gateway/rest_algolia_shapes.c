/*
 * rest_algolia_shapes.c — see rest_algolia_shapes.h.
 *
 * Every parameter, from the URL-encoded string or a JSON field, lands first in one
 * jansson object (strings stay strings: "page":"2" and page=2 are the same), and one
 * function reads that object into the SearchVendors request, so both spellings follow
 * the same rules. Hits carry the original backend's vendor fields (its Algolia records
 * were its vendor rows: id, name, description, email, phone, website, open,
 * primaryImage, createdAt, updatedAt, and _geoloc from lat/long), objectID being the
 * vendor id.
 */
#include "rest_algolia_shapes.h"

#include "vt_json.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_HITS_PER_PAGE 20
/* SearchVendors' own largest page. */
#define SERVICE_PAGE_MAX 100
/* Hits reachable by paging (SearchVendors', as Algolia's paginationLimitedTo). */
#define HITS_REACHABLE 1000

typedef Venta__Vendor__V1__SearchVendorsRequest SearchReq;

static int hexval(int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Form decoding of s[0..n) ('+' is a space, %XX a byte) into a new string; NULL for a
 * malformed escape or a NUL byte. */
static char *form_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%') {
            int hi = i + 2 < n ? hexval((unsigned char)s[i + 1]) : -1;
            int lo = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                free(out);
                return NULL;
            }
            out[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

/* The "params" string's pairs into p (every value a string). */
static int read_params_string(const char *s, json_t *p, char *err, size_t errlen)
{
    while (*s) {
        size_t n = strcspn(s, "&");
        const char *eq = memchr(s, '=', n);
        if (n > 0) {
            size_t kn = eq ? (size_t)(eq - s) : n;
            char *key = form_decode(s, kn);
            char *val = eq ? form_decode(eq + 1, n - kn - 1) : strdup("");
            bool ok = key && val && *key && json_object_set_new(p, key, json_string(val)) == 0;
            free(key);
            free(val);
            if (!ok) {
                snprintf(err, errlen, "params: malformed parameter \"%.*s\"",
                         (int)(n > 40 ? 40 : n), s);
                return VT_INVALID_ARGUMENT;
            }
        }
        s += n;
        if (*s == '&')
            s++;
    }
    return VT_OK;
}

/* An integer parameter (a JSON integer or a decimal string) in [lo, hi]. */
static int get_int(json_t *p, const char *key, long lo, long hi, long def, long *out, char *err,
                   size_t errlen)
{
    json_t *v = json_object_get(p, key);
    *out = def;
    if (!v)
        return VT_OK;
    long val = 0;
    bool ok = false;
    if (json_is_integer(v)) {
        val = (long)json_integer_value(v), ok = true;
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end = NULL;
        errno = 0;
        val = strtol(s, &end, 10);
        ok = *s && end && !*end && errno == 0;
    }
    if (!ok || val < lo || val > hi) {
        snprintf(err, errlen, "%s must be an integer from %ld to %ld", key, lo, hi);
        return VT_INVALID_ARGUMENT;
    }
    *out = val;
    return VT_OK;
}

/* Up to max comma-separated numbers of s; how many, or -1 for anything else. */
static int parse_numbers(const char *s, double *out, int max)
{
    int n = 0;
    while (*s) {
        char *end = NULL;
        while (*s == ' ')
            s++;
        double d = strtod(s, &end);
        if (end == s || n == max || !isfinite(d))
            return -1;
        out[n++] = d;
        s = end;
        while (*s == ' ')
            s++;
        if (*s == ',' && s[1])
            s++;
        else if (*s)
            return -1;
    }
    return n;
}

/* insideBoundingBox: "a,b,c,d", [a,b,c,d] or [[a,b,c,d]] (one box). */
static int get_box(json_t *v, double box[4])
{
    if (json_is_string(v))
        return parse_numbers(json_string_value(v), box, 4) == 4 ? VT_OK : VT_INVALID_ARGUMENT;
    if (json_is_array(v) && json_array_size(v) == 1 && json_is_array(json_array_get(v, 0)))
        v = json_array_get(v, 0);
    if (!json_is_array(v) || json_array_size(v) != 4)
        return VT_INVALID_ARGUMENT;
    for (size_t i = 0; i < 4; i++) {
        json_t *x = json_array_get(v, i);
        if (json_is_number(x))
            box[i] = json_number_value(x);
        else if (!json_is_string(x) || parse_numbers(json_string_value(x), &box[i], 1) != 1)
            return VT_INVALID_ARGUMENT;
    }
    return VT_OK;
}

/* filters: "open:true", "online:true" (or =1), joined by AND. */
static int get_filters(const char *f, SearchReq *req)
{
    char buf[256];
    if (strlen(f) >= sizeof buf)
        return VT_INVALID_ARGUMENT;
    snprintf(buf, sizeof buf, "%s", f);
    char *save = NULL;
    for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (strcasecmp(tok, "AND") == 0)
            continue;
        while (*tok == '(')
            tok++;
        size_t n = strlen(tok);
        while (n > 0 && tok[n - 1] == ')')
            tok[--n] = '\0';
        if (strcmp(tok, "open:true") == 0 || strcmp(tok, "open=1") == 0 ||
            strcmp(tok, "open:\"true\"") == 0)
            req->open_now = true;
        else if (strcmp(tok, "online:true") == 0 || strcmp(tok, "online=1") == 0 ||
                 strcmp(tok, "online:\"true\"") == 0)
            req->online_now = true;
        else
            return VT_INVALID_ARGUMENT;
    }
    return VT_OK;
}

static const char *get_str(json_t *p, const char *key)
{
    json_t *v = json_object_get(p, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

/* p's parameters into q. */
static int apply_params(json_t *p, rest_algolia_query *q, char *err, size_t errlen)
{
    SearchReq *req = q->req;
    json_t *qv = json_object_get(p, "query");
    if (qv && !json_is_string(qv)) {
        snprintf(err, errlen, "query must be a string");
        return VT_INVALID_ARGUMENT;
    }
    const char *text = qv ? json_string_value(qv) : "";
    if (strlen(text) > 512) {
        snprintf(err, errlen, "query is longer than 512 bytes");
        return VT_INVALID_ARGUMENT;
    }
    long page, hpp, radius = 0;
    if (get_int(p, "page", 0, HITS_REACHABLE, 0, &page, err, errlen) ||
        get_int(p, "hitsPerPage", 0, REST_ALGOLIA_HITS_PER_PAGE_MAX, DEFAULT_HITS_PER_PAGE, &hpp,
                err, errlen))
        return VT_INVALID_ARGUMENT;
    q->page = (int)page;
    q->hits_per_page = (int)(hpp > SERVICE_PAGE_MAX ? SERVICE_PAGE_MAX : hpp);
    req->page = q->page;
    req->limit = q->hits_per_page > 0 ? q->hits_per_page : 1;

    const char *around = get_str(p, "aroundLatLng");
    json_t *rv = json_object_get(p, "aroundRadius");
    bool radius_all = json_is_string(rv) && strcmp(json_string_value(rv), "all") == 0;
    if (rv && !radius_all &&
        get_int(p, "aroundRadius", 1, 20000000, 0, &radius, err, errlen) != VT_OK)
        return VT_INVALID_ARGUMENT;
    if (json_object_get(p, "aroundLatLng") && !around) {
        snprintf(err, errlen, "aroundLatLng must be a string \"lat,lng\"");
        return VT_INVALID_ARGUMENT;
    }
    if (around && *around) {
        double ll[2];
        if (parse_numbers(around, ll, 2) != 2) {
            snprintf(err, errlen, "aroundLatLng must be \"lat,lng\"");
            return VT_INVALID_ARGUMENT;
        }
        req->opt_lat_case = VENTA__VENDOR__V1__SEARCH_VENDORS_REQUEST__OPT_LAT_LAT;
        req->opt_lng_case = VENTA__VENDOR__V1__SEARCH_VENDORS_REQUEST__OPT_LNG_LNG;
        req->lat = ll[0], req->lng = ll[1];
        if (radius > 0) {
            req->opt_radius_meters_case =
                VENTA__VENDOR__V1__SEARCH_VENDORS_REQUEST__OPT_RADIUS_METERS_RADIUS_METERS;
            req->radius_meters = (double)radius;
        }
    } else if (radius > 0) {
        snprintf(err, errlen, "aroundRadius needs aroundLatLng");
        return VT_INVALID_ARGUMENT;
    }
    json_t *bv = json_object_get(p, "insideBoundingBox");
    if (bv && !(json_is_string(bv) && !*json_string_value(bv)) && !json_is_null(bv)) {
        double b[4];
        if (get_box(bv, b) != VT_OK) {
            snprintf(err, errlen, "insideBoundingBox must be one box \"lat1,lng1,lat2,lng2\"");
            return VT_INVALID_ARGUMENT;
        }
        /* Algolia reads the two corners in either order. */
        req->opt_sw_lat_case = VENTA__VENDOR__V1__SEARCH_VENDORS_REQUEST__OPT_SW_LAT_SW_LAT;
        req->opt_sw_lng_case = VENTA__VENDOR__V1__SEARCH_VENDORS_REQUEST__OPT_SW_LNG_SW_LNG;
        req->opt_ne_lat_case = VENTA__VENDOR__V1__SEARCH_VENDORS_REQUEST__OPT_NE_LAT_NE_LAT;
        req->opt_ne_lng_case = VENTA__VENDOR__V1__SEARCH_VENDORS_REQUEST__OPT_NE_LNG_NE_LNG;
        req->sw_lat = fmin(b[0], b[2]), req->ne_lat = fmax(b[0], b[2]);
        req->sw_lng = fmin(b[1], b[3]), req->ne_lng = fmax(b[1], b[3]);
    }
    json_t *fv = json_object_get(p, "filters");
    if (fv && (!json_is_string(fv) || get_filters(json_string_value(fv), req) != VT_OK)) {
        snprintf(err, errlen,
                 "filters: only open:true and online:true (joined by AND) are "
                 "supported");
        return VT_INVALID_ARGUMENT;
    }
    const char *pre = get_str(p, "highlightPreTag"), *post = get_str(p, "highlightPostTag");
    if ((pre && strlen(pre) > 64) || (post && strlen(post) > 64)) {
        snprintf(err, errlen, "highlightPreTag and highlightPostTag are 64 bytes at most");
        return VT_INVALID_ARGUMENT;
    }
    req->q = strdup(text);
    q->query = strdup(text);
    req->highlight_pre_tag = dup_or_empty(pre && post ? pre : NULL);
    req->highlight_post_tag = dup_or_empty(pre && post ? post : NULL);
    if (!req->q || !q->query || !req->highlight_pre_tag || !req->highlight_post_tag) {
        snprintf(err, errlen, "out of memory");
        return VT_RESOURCE_EXHAUSTED;
    }
    return VT_OK;
}

static void put_form(vt_buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
            vt_buf_putc(b, (char)c);
        else
            vt_buf_printf(b, "%%%02X", c);
    }
}

/* The parameters as one URL-encoded string: the params string as sent, then the JSON
 * fields. */
static char *echo_params(const char *given, json_t *fields)
{
    vt_buf b = VT_BUF_INIT;
    vt_buf_puts(&b, given ? given : "");
    const char *key;
    json_t *v;
    json_object_foreach(fields, key, v)
    {
        if (b.len)
            vt_buf_putc(&b, '&');
        put_form(&b, key);
        vt_buf_putc(&b, '=');
        char *text = json_is_string(v) ? strdup(json_string_value(v))
                                       : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (text)
            put_form(&b, text);
        free(text);
    }
    vt_buf_putc(&b, '\0');
    return vt_buf_take(&b, NULL);
}

/* One query object ({params?, other fields}) of index into q. */
static int parse_object(const char *index, json_t *obj, rest_algolia_query *q, char *err,
                        size_t errlen)
{
    memset(q, 0, sizeof *q);
    json_t *p = json_object(), *fields = json_object();
    json_t *pv = json_object_get(obj, "params");
    int rc = VT_OK;
    if (pv && !json_is_string(pv)) {
        snprintf(err, errlen, "params must be a URL-encoded string");
        rc = VT_INVALID_ARGUMENT;
    } else if (pv) {
        rc = read_params_string(json_string_value(pv), p, err, errlen);
    }
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        if (strcmp(key, "params") == 0 || strcmp(key, "indexName") == 0 || strcmp(key, "type") == 0)
            continue;
        json_object_set(p, key, v);
        json_object_set(fields, key, v);
    }
    q->req = malloc(sizeof *q->req);
    q->index = strdup(index);
    if (rc == VT_OK && (!q->req || !q->index || !p || !fields)) {
        snprintf(err, errlen, "out of memory");
        rc = VT_RESOURCE_EXHAUSTED;
    }
    if (q->req)
        venta__vendor__v1__search_vendors_request__init(q->req);
    if (rc == VT_OK)
        rc = apply_params(p, q, err, errlen);
    if (rc == VT_OK && !(q->params = echo_params(pv ? json_string_value(pv) : NULL, fields))) {
        snprintf(err, errlen, "out of memory");
        rc = VT_RESOURCE_EXHAUSTED;
    }
    json_decref(p);
    json_decref(fields);
    if (rc != VT_OK)
        rest_algolia_query_free(q);
    return rc;
}

static json_t *load_object(const char *body, size_t len, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = len ? json_loadb(body, len, 0, &jerr) : json_object(); /* no body: {} */
    if (!json_is_object(root)) {
        snprintf(err, errlen, "%s",
                 root ? "the body must be a JSON object" : "the body is not valid JSON");
        json_decref(root);
        return NULL;
    }
    return root;
}

int rest_algolia_parse_query(const char *index, const char *body, size_t len, rest_algolia_query *q,
                             char *err, size_t errlen)
{
    memset(q, 0, sizeof *q);
    json_t *root = load_object(body, len, err, errlen);
    if (!root)
        return VT_INVALID_ARGUMENT;
    int rc = parse_object(index, root, q, err, errlen);
    json_decref(root);
    return rc;
}

int rest_algolia_parse_queries(const char *body, size_t len, rest_algolia_query *qs, size_t *n,
                               char *err, size_t errlen)
{
    *n = 0;
    json_t *root = load_object(body, len, err, errlen);
    if (!root)
        return VT_INVALID_ARGUMENT;
    json_t *reqs = json_object_get(root, "requests");
    int rc = VT_OK;
    if (!json_is_array(reqs) || json_array_size(reqs) == 0 ||
        json_array_size(reqs) > REST_ALGOLIA_QUERIES_MAX) {
        snprintf(err, errlen, "requests must be an array of 1 to %d queries",
                 REST_ALGOLIA_QUERIES_MAX);
        rc = VT_INVALID_ARGUMENT;
    }
    for (size_t i = 0; rc == VT_OK && i < json_array_size(reqs); i++) {
        json_t *one = json_array_get(reqs, i);
        const char *index = json_string_value(json_object_get(one, "indexName"));
        if (!json_is_object(one) || !index || !*index || strlen(index) > 256) {
            snprintf(err, errlen, "requests[%zu].indexName must be a non-empty string", i);
            rc = VT_INVALID_ARGUMENT;
            break;
        }
        char why[200];
        rc = parse_object(index, one, &qs[i], why, sizeof why);
        if (rc != VT_OK)
            snprintf(err, errlen, "requests[%zu]: %s", i, why);
        else
            (*n)++;
    }
    if (rc != VT_OK) {
        for (size_t i = 0; i < *n; i++)
            rest_algolia_query_free(&qs[i]);
        *n = 0;
    }
    json_decref(root);
    return rc;
}

void rest_algolia_query_free(rest_algolia_query *q)
{
    free(q->index);
    free(q->params);
    free(q->query);
    if (q->req)
        protobuf_c_message_free_unpacked(&q->req->base, NULL);
    memset(q, 0, sizeof *q);
}

static void put_key_string(vt_buf *b, const char *key, const char *value)
{
    vt_buf_printf(b, "\"%s\":", key);
    vt_json_buf_put_string(b, value ? value : "", value ? strlen(value) : 0);
}

static void put_highlight(vt_buf *b, const char *key, const Venta__Vendor__V1__HighlightedText *h,
                          const char *plain)
{
    vt_buf_printf(b, "\"%s\":{", key);
    put_key_string(b, "value", h ? h->value : plain);
    vt_buf_putc(b, ',');
    put_key_string(b, "matchLevel",
                   h && h->match_level && *h->match_level ? h->match_level : "none");
    vt_buf_puts(b, ",\"matchedWords\":[");
    for (size_t i = 0; h && i < h->n_matched_words; i++) {
        if (i)
            vt_buf_putc(b, ',');
        vt_json_buf_put_string(b, h->matched_words[i], strlen(h->matched_words[i]));
    }
    vt_buf_putc(b, ']');
    if (h && h->match_level && strcmp(h->match_level, "none") != 0)
        vt_buf_printf(b, ",\"fullyHighlighted\":%s", h->fully_highlighted ? "true" : "false");
    vt_buf_putc(b, '}');
}

static void put_hit(vt_buf *b, const Venta__Vendor__V1__Vendor *v,
                    const Venta__Vendor__V1__SearchMatch *m)
{
    vt_buf_putc(b, '{');
    put_key_string(b, "objectID", v->id);
    static const char *const keys[] = {"id",           "name",      "description",
                                       "email",        "phone",     "website",
                                       "primaryImage", "createdAt", "updatedAt"};
    const char *vals[] = {v->id,      v->name,          v->description, v->email,     v->phone,
                          v->website, v->profile_image, v->created_at,  v->updated_at};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        vt_buf_putc(b, ',');
        put_key_string(b, keys[i], vals[i]);
    }
    vt_buf_printf(b, ",\"open\":%s", v->is_open ? "true" : "false");
    if (v->location)
        vt_buf_printf(b, ",\"_geoloc\":{\"lat\":%.17g,\"lng\":%.17g}", v->location->lat,
                      v->location->lng);
    vt_buf_puts(b, ",\"_highlightResult\":{");
    put_highlight(b, "name", m ? m->name : NULL, v->name);
    vt_buf_putc(b, ',');
    put_highlight(b, "description", m ? m->description : NULL, v->description);
    vt_buf_puts(b, "}}");
}

void rest_algolia_result_json(const rest_algolia_query *q,
                              const Venta__Vendor__V1__SearchVendorsResponse *resp,
                              int64_t processing_ms, vt_buf *out)
{
    long total = resp ? resp->total : 0;
    int hpp = q->hits_per_page;
    long reachable = total < HITS_REACHABLE ? total : HITS_REACHABLE;
    long pages = hpp > 0 ? (reachable + hpp - 1) / hpp : 0;
    vt_buf_puts(out, "{\"hits\":[");
    for (size_t i = 0; resp && hpp > 0 && i < resp->n_vendors; i++) {
        if (i)
            vt_buf_putc(out, ',');
        put_hit(out, resp->vendors[i], i < resp->n_matches ? resp->matches[i] : NULL);
    }
    vt_buf_printf(out,
                  "],\"nbHits\":%ld,\"page\":%d,\"nbPages\":%ld,\"hitsPerPage\":%d,"
                  "\"exhaustiveNbHits\":%s,\"processingTimeMS\":%lld,",
                  total, q->page, pages, hpp, resp && resp->total_estimated ? "false" : "true",
                  (long long)processing_ms);
    put_key_string(out, "query", q->query);
    vt_buf_putc(out, ',');
    put_key_string(out, "params", q->params);
    vt_buf_putc(out, ',');
    put_key_string(out, "index", q->index);
    vt_buf_putc(out, '}');
}

void rest_algolia_error_json(int status, const char *message, vt_buf *out)
{
    vt_buf_puts(out, "{");
    put_key_string(out, "message", message);
    vt_buf_printf(out, ",\"status\":%d}", status);
}
