/*
 * Unit tests of Algolia's query API shapes (apps/gateway/rest_algolia_shapes.c): the
 * params string and JSON fields into SearchVendors requests (every understood
 * parameter, both spellings, wrong values refused with a reason, unknown ones ignored),
 * the multi-query body, and the answer and error in Algolia's shape.
 */
#include "rest_algolia_shapes.h"
#include "vt_test.h"

#include <jansson.h>
#include <string.h>

static int one(const char *body, rest_algolia_query *q, char *err)
{
    return rest_algolia_parse_query("vendor", body, strlen(body), q, err, 256);
}

static void test_params_string(void)
{
    rest_algolia_query q;
    char err[256] = "";
    VT_REQUIRE(one("{\"params\":\"query=Tako%20Truk&hitsPerPage=5&page=2&aroundLatLng=40.7%2C"
                   "-73.9&aroundRadius=1500&filters=open%3Atrue&analytics=false&"
                   "highlightPreTag=__ais-highlight__&highlightPostTag=__%2Fais-highlight__\"}",
                   &q, err) == VT_OK);
    VT_CHECK_STR(q.req->q, "Tako Truk");
    VT_CHECK_STR(q.query, "Tako Truk");
    VT_CHECK_STR(q.index, "vendor");
    VT_CHECK_INT(q.page, 2);
    VT_CHECK_INT(q.req->page, 2);
    VT_CHECK_INT(q.hits_per_page, 5);
    VT_CHECK_INT(q.req->limit, 5);
    VT_CHECK(q.req->opt_lat_case == VENTA__VENDOR__V1__SEARCH_VENDORS_REQUEST__OPT_LAT_LAT);
    VT_CHECK_NEAR(q.req->lat, 40.7, 1e-12);
    VT_CHECK_NEAR(q.req->lng, -73.9, 1e-12);
    VT_CHECK_NEAR(q.req->radius_meters, 1500, 1e-9);
    VT_CHECK(q.req->open_now);
    VT_CHECK(!q.req->online_now);
    VT_CHECK_STR(q.req->highlight_pre_tag, "__ais-highlight__");
    VT_CHECK_STR(q.req->highlight_post_tag, "__/ais-highlight__");
    VT_CHECK(strncmp(q.params, "query=Tako%20Truk&hitsPerPage=5", 31) == 0); /* as sent */
    rest_algolia_query_free(&q);

    /* '+' is a space; defaults: page 0, 20 per page, no area, no filter, <em>. */
    VT_REQUIRE(one("{\"params\":\"query=horch+zeta\"}", &q, err) == VT_OK);
    VT_CHECK_STR(q.req->q, "horch zeta");
    VT_CHECK_INT(q.page, 0);
    VT_CHECK_INT(q.hits_per_page, 20);
    VT_CHECK(q.req->opt_lat_case == 0 && q.req->opt_sw_lat_case == 0 && !q.req->open_now);
    VT_CHECK_STR(q.req->highlight_pre_tag, "");
    rest_algolia_query_free(&q);
    /* A box in either corner order, and "all" as a radius. */
    VT_REQUIRE(one("{\"params\":\"query=x&insideBoundingBox=48.9%2C2.4%2C48.8%2C2.3&"
                   "aroundLatLng=48.85,2.35&aroundRadius=all\"}",
                   &q, err) == VT_OK);
    VT_CHECK_NEAR(q.req->sw_lat, 48.8, 1e-12);
    VT_CHECK_NEAR(q.req->ne_lat, 48.9, 1e-12);
    VT_CHECK_NEAR(q.req->sw_lng, 2.3, 1e-12);
    VT_CHECK_NEAR(q.req->ne_lng, 2.4, 1e-12);
    VT_CHECK(q.req->opt_radius_meters_case == 0);
    VT_CHECK(q.req->opt_lat_case != 0);
    rest_algolia_query_free(&q);
    /* More than SearchVendors' page is served 100 at a time (and says so). */
    VT_REQUIRE(one("{\"params\":\"query=x&hitsPerPage=500\"}", &q, err) == VT_OK);
    VT_CHECK_INT(q.hits_per_page, 100);
    rest_algolia_query_free(&q);
}

static void test_json_fields(void)
{
    rest_algolia_query q;
    char err[256] = "";
    VT_REQUIRE(one("{\"query\":\"horch\",\"hitsPerPage\":3,\"page\":\"1\",\"insideBoundingBox\":"
                   "[[10,20,-10,-20]],\"filters\":\"open:true AND online:true\","
                   "\"attributesToRetrieve\":[\"name\"],\"params\":\"query=ignored&page=0\"}",
                   &q, err) == VT_OK);
    VT_CHECK_STR(q.req->q, "horch"); /* fields win over the params string */
    VT_CHECK_INT(q.page, 1);
    VT_CHECK_INT(q.hits_per_page, 3);
    VT_CHECK_NEAR(q.req->sw_lat, -10, 0);
    VT_CHECK_NEAR(q.req->ne_lng, 20, 0);
    VT_CHECK(q.req->open_now && q.req->online_now);
    VT_CHECK(strstr(q.params, "query=ignored&page=0&query=horch") == q.params);
    rest_algolia_query_free(&q);
    VT_REQUIRE(one("", &q, err) == VT_OK); /* no body: an empty query */
    VT_CHECK_STR(q.req->q, "");
    rest_algolia_query_free(&q);
}

static void test_bad_params(void)
{
    static const struct {
        const char *body, *why;
    } bad[] = {
        {"[1]", "JSON object"},
        {"{", "not valid JSON"},
        {"{\"params\":3}", "params"},
        {"{\"params\":\"query=%zz\"}", "malformed parameter"},
        {"{\"params\":\"query=%00\"}", "malformed parameter"},
        {"{\"query\":5}", "query must be a string"},
        {"{\"page\":-1}", "page"},
        {"{\"page\":\"1x\"}", "page"},
        {"{\"hitsPerPage\":1001}", "hitsPerPage"},
        {"{\"params\":\"aroundLatLng=40.7\"}", "aroundLatLng"},
        {"{\"aroundLatLng\":[40,1]}", "aroundLatLng"},
        {"{\"params\":\"aroundRadius=100\"}", "aroundRadius needs aroundLatLng"},
        {"{\"params\":\"aroundLatLng=1,2&aroundRadius=-5\"}", "aroundRadius"},
        {"{\"insideBoundingBox\":[[1,2,3]]}", "insideBoundingBox"},
        {"{\"insideBoundingBox\":[[1,2,3,4],[5,6,7,8]]}", "insideBoundingBox"},
        {"{\"params\":\"insideBoundingBox=1,2,3,x\"}", "insideBoundingBox"},
        {"{\"filters\":\"price < 10\"}", "filters"},
        {"{\"filters\":\"open:false\"}", "filters"},
        {"{\"filters\":\"open:true OR online:true\"}", "filters"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rest_algolia_query q;
        char err[256] = "";
        int rc = one(bad[i].body, &q, err);
        VT_CHECK_INT(rc, VT_INVALID_ARGUMENT);
        if (!strstr(err, bad[i].why)) {
            fprintf(stderr, "  %s: \"%s\" lacks \"%s\"\n", bad[i].body, err, bad[i].why);
            VT_CHECK(false);
        }
    }
}

static void test_multi(void)
{
    rest_algolia_query qs[REST_ALGOLIA_QUERIES_MAX];
    size_t n = 0;
    char err[256] = "";
    const char *body = "{\"requests\":[{\"indexName\":\"vendor\",\"params\":\"query=taco\"},"
                       "{\"indexName\":\"vendor_by_name\",\"query\":\"zeta\",\"hitsPerPage\":2}],"
                       "\"strategy\":\"none\"}";
    VT_REQUIRE(rest_algolia_parse_queries(body, strlen(body), qs, &n, err, sizeof err) == VT_OK);
    VT_CHECK_INT(n, 2);
    VT_CHECK_STR(qs[0].req->q, "taco");
    VT_CHECK_STR(qs[1].index, "vendor_by_name");
    VT_CHECK_INT(qs[1].hits_per_page, 2);
    for (size_t i = 0; i < n; i++)
        rest_algolia_query_free(&qs[i]);
    const char *bad[] = {"{}", "{\"requests\":[]}", "{\"requests\":[{\"query\":\"x\"}]}",
                         "{\"requests\":[{\"indexName\":\"v\"},{\"indexName\":\"v\",\"page\":-2}]}",
                         "{\"requests\":[1]}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        VT_CHECK_INT(rest_algolia_parse_queries(bad[i], strlen(bad[i]), qs, &n, err, sizeof err),
                     VT_INVALID_ARGUMENT);
        VT_CHECK_INT(n, 0);
    }
    VT_CHECK(strstr(err, "requests[0]") != NULL);
    vt_buf many = VT_BUF_INIT;
    vt_buf_puts(&many, "{\"requests\":[");
    for (int i = 0; i <= REST_ALGOLIA_QUERIES_MAX; i++)
        vt_buf_printf(&many, "%s{\"indexName\":\"v\"}", i ? "," : "");
    vt_buf_puts(&many, "]}");
    VT_CHECK_INT(rest_algolia_parse_queries(many.data, many.len, qs, &n, err, sizeof err),
                 VT_INVALID_ARGUMENT);
    vt_buf_free(&many);
}

static void test_result_json(void)
{
    rest_algolia_query q;
    char err[256];
    VT_REQUIRE(one("{\"params\":\"query=horch&hitsPerPage=1\"}", &q, err) == VT_OK);
    Venta__Vendor__V1__Vendor v = VENTA__VENDOR__V1__VENDOR__INIT;
    v.id = "0a000000-0000-4000-8000-000000000001";
    v.name = "Taco Truck Zeta";
    v.description = "al pastor and horchata";
    v.is_open = true;
    Venta__Common__V1__Location loc = VENTA__COMMON__V1__LOCATION__INIT;
    loc.lat = 40.5, loc.lng = -73.25;
    v.location = &loc;
    Venta__Vendor__V1__HighlightedText name = VENTA__VENDOR__V1__HIGHLIGHTED_TEXT__INIT,
                                       desc = VENTA__VENDOR__V1__HIGHLIGHTED_TEXT__INIT;
    name.value = "Taco Truck Zeta";
    name.match_level = "none";
    desc.value = "al pastor and <em>horch</em>ata";
    desc.match_level = "full";
    char *words[] = {"horch"};
    desc.matched_words = words;
    desc.n_matched_words = 1;
    Venta__Vendor__V1__SearchMatch m = VENTA__VENDOR__V1__SEARCH_MATCH__INIT;
    m.name = &name;
    m.description = &desc;
    Venta__Vendor__V1__Vendor *vs[] = {&v};
    Venta__Vendor__V1__SearchMatch *ms[] = {&m};
    Venta__Vendor__V1__SearchVendorsResponse r = VENTA__VENDOR__V1__SEARCH_VENDORS_RESPONSE__INIT;
    r.vendors = vs, r.n_vendors = 1, r.matches = ms, r.n_matches = 1, r.total = 3;
    vt_buf b = VT_BUF_INIT;
    rest_algolia_result_json(&q, &r, 4, &b);
    json_error_t jerr;
    json_t *o = json_loadb(b.data, b.len, 0, &jerr);
    VT_REQUIRE(o);
    VT_CHECK_INT(json_integer_value(json_object_get(o, "nbHits")), 3);
    VT_CHECK_INT(json_integer_value(json_object_get(o, "nbPages")), 3);
    VT_CHECK_INT(json_integer_value(json_object_get(o, "hitsPerPage")), 1);
    VT_CHECK_INT(json_integer_value(json_object_get(o, "page")), 0);
    VT_CHECK_INT(json_integer_value(json_object_get(o, "processingTimeMS")), 4);
    VT_CHECK(json_is_true(json_object_get(o, "exhaustiveNbHits")));
    VT_CHECK_STR(json_string_value(json_object_get(o, "query")), "horch");
    VT_CHECK_STR(json_string_value(json_object_get(o, "params")), "query=horch&hitsPerPage=1");
    json_t *hit = json_array_get(json_object_get(o, "hits"), 0);
    VT_CHECK_STR(json_string_value(json_object_get(hit, "objectID")), v.id);
    VT_CHECK(json_is_true(json_object_get(hit, "open")));
    VT_CHECK_NEAR(json_real_value(json_object_get(json_object_get(hit, "_geoloc"), "lng")), -73.25,
                  0);
    json_t *hd = json_object_get(json_object_get(hit, "_highlightResult"), "description");
    VT_CHECK_STR(json_string_value(json_object_get(hd, "value")), desc.value);
    VT_CHECK_STR(json_string_value(json_object_get(hd, "matchLevel")), "full");
    VT_CHECK_STR(json_string_value(json_array_get(json_object_get(hd, "matchedWords"), 0)),
                 "horch");
    json_t *hn = json_object_get(json_object_get(hit, "_highlightResult"), "name");
    VT_CHECK_STR(json_string_value(json_object_get(hn, "matchLevel")), "none");
    VT_CHECK_INT(json_array_size(json_object_get(hn, "matchedWords")), 0);
    json_decref(o);
    vt_buf_reset(&b);
    r.total_estimated = true; /* a walk's estimate (docs/search.md) */
    rest_algolia_result_json(&q, &r, 4, &b);
    o = json_loadb(b.data, b.len, 0, &jerr);
    VT_REQUIRE(o);
    VT_CHECK(json_is_false(json_object_get(o, "exhaustiveNbHits")));
    VT_CHECK_INT(json_integer_value(json_object_get(o, "nbHits")), 3);
    json_decref(o);
    vt_buf_reset(&b);
    rest_algolia_result_json(&q, NULL, 0, &b); /* no call made: no hits */
    o = json_loadb(b.data, b.len, 0, &jerr);
    VT_REQUIRE(o);
    VT_CHECK_INT(json_array_size(json_object_get(o, "hits")), 0);
    VT_CHECK_INT(json_integer_value(json_object_get(o, "nbPages")), 0);
    json_decref(o);
    vt_buf_reset(&b);
    rest_algolia_error_json(403, "Invalid Application-ID or API key", &b);
    vt_buf_putc(&b, '\0');
    VT_CHECK_STR(b.data, "{\"message\":\"Invalid Application-ID or API key\",\"status\":403}");
    vt_buf_free(&b);
    rest_algolia_query_free(&q);
}

int main(void)
{
    VT_RUN(test_params_string);
    VT_RUN(test_json_fields);
    VT_RUN(test_bad_params);
    VT_RUN(test_multi);
    VT_RUN(test_result_json);
    return VT_TEST_RESULT();
}
