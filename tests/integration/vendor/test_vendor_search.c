/*
 * test_vendor_search.c — venta-vendor's search as a user types (issue #19): the issue's
 * three examples, the ranking order (typos, name over description, exact, distance,
 * recency), highlights, each filter (radius, box across the antimeridian, open now,
 * online now), pages and totals, a deleted vendor and a renamed one, a write by direct
 * SQL, and the SQL and C folding giving the same words.
 */
#include "search_words.h"
#include "vendor_test_util.h"

typedef Venta__Vendor__V1__SearchVendorsRequest SearchReq;
typedef Venta__Vendor__V1__SearchVendorsResponse SearchRes;

#define REQ_INIT VENTA__VENDOR__V1__SEARCH_VENDORS_REQUEST__INIT
#define SET(req, field, FIELD, value)                                                              \
    ((req).opt_##field##_case = VENTA__VENDOR__V1__SEARCH_VENDORS_REQUEST__OPT_##FIELD##_##FIELD,  \
     (req).field = (value))

static SearchRes *find(SearchReq *req)
{
    SearchRes *res = NULL;
    int rc = call("SearchVendors", &req->base, NULL, NULL, &res);
    if (rc != VT_OK) {
        fprintf(stderr, "  SearchVendors(%s): %d %s\n", req->q, rc, msg);
        return NULL;
    }
    return res;
}

static SearchRes *find_q(const char *q)
{
    SearchReq req = REQ_INIT;
    req.q = (char *)q;
    return find(&req);
}

/* Index of id in res, -1 when absent. */
static int rank_of(const SearchRes *res, const char *id)
{
    for (size_t i = 0; res && i < res->n_vendors; i++)
        if (strcmp(res->vendors[i]->id, id) == 0)
            return (int)i;
    return -1;
}

static char zeta[VT_UUID_LEN + 1];

static void test_issue_examples(void)
{
    create_id("user_typist", "Taco Truck Zeta", "al pastor and horchata", zeta);
    char other[VT_UUID_LEN + 1];
    create_id("user_typist", "Tako Sushi", "nigiri and maki", other);
    const char *found[] = {"Taco Truk", "Tako Truk", "horch",      "horchatta", "taco truck zeta",
                           "TACO",      "Hörchata",  "zeta horch", "tace"};
    for (size_t i = 0; i < sizeof found / sizeof found[0]; i++) {
        SearchRes *res = find_q(found[i]);
        bool has = rank_of(res, zeta) >= 0;
        if (!has)
            fprintf(stderr, "  \"%s\" does not find Taco Truck Zeta\n", found[i]);
        VT_CHECK(has);
        free_msg(res);
    }
    /* Two typos on a 5-letter word, a prefix not at the end, a typo on 3 letters, a
     * missing space, a word it does not have: nothing. */
    const char *missed[] = {"Takko Truk", "horch zeta", "tca truck", "tacotruck", "zeta x"};
    for (size_t i = 0; i < sizeof missed / sizeof missed[0]; i++) {
        SearchRes *res = find_q(missed[i]);
        VT_CHECK(rank_of(res, zeta) < 0);
        free_msg(res);
    }

    SearchRes *res = find_q("horch");
    VT_REQUIRE(res && res->n_matches == res->n_vendors && res->n_vendors >= 1);
    int z = rank_of(res, zeta);
    VT_REQUIRE(z >= 0);
    const Venta__Vendor__V1__SearchMatch *m = res->matches[z];
    VT_CHECK_STR(m->description->value, "al pastor and <em>horch</em>ata");
    VT_CHECK_STR(m->description->match_level, "full");
    VT_CHECK_INT(m->description->n_matched_words, 1);
    VT_CHECK_STR(m->name->value, "Taco Truck Zeta");
    VT_CHECK_STR(m->name->match_level, "none");
    VT_CHECK_INT(res->total, 1);
    free_msg(res);

    res = find_q("Tako Truk");
    z = rank_of(res, zeta);
    VT_REQUIRE(z >= 0);
    VT_CHECK_STR(res->matches[z]->name->value, "<em>Taco</em> <em>Truck</em> Zeta");
    VT_CHECK_INT(res->matches[z]->typos, 2);
    VT_CHECK(res->matches[z]->opt_distance_meters_case !=
             VENTA__VENDOR__V1__SEARCH_MATCH__OPT_DISTANCE_METERS_DISTANCE_METERS);
    free_msg(res);

    /* Custom tags are the caller's, and then it escapes: no escaping here. */
    SearchReq req = REQ_INIT;
    req.q = "zeta";
    req.highlight_pre_tag = "__ais-highlight__";
    req.highlight_post_tag = "__/ais-highlight__";
    res = find(&req);
    VT_REQUIRE(res && res->n_vendors == 1);
    VT_CHECK_STR(res->matches[0]->name->value,
                 "Taco Truck __ais-highlight__Zeta__/ais-highlight__");
    free_msg(res);
}

static void set_updated(const char *id, const char *ago)
{
    const char *p[2] = {id, ago};
    PGresult *r = PQexecParams(db(),
                               "UPDATE vendor.vendors SET updated_at = now() - $2::interval "
                               "WHERE id = $1::uuid",
                               2, NULL, p, NULL, NULL, 0);
    VT_CHECK_INT(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
}

static void test_ranking(void)
{
    char exact[VT_UUID_LEN + 1], typo[VT_UUID_LEN + 1], desc[VT_UUID_LEN + 1];
    create_id("user_rank", "Gelato Corner", "", typo);                   /* "gelatto": 1 typo */
    create_id("user_rank", "Corner Cafe", "gelatto and espresso", desc); /* exact, description */
    create_id("user_rank", "Gelatto Bros", "", exact);                   /* exact, name */
    SearchRes *res = find_q("gelatto");
    VT_REQUIRE(res && res->n_vendors == 3);
    VT_CHECK_STR(res->vendors[0]->id, exact); /* no typo, in the name */
    VT_CHECK_STR(res->vendors[1]->id, desc);  /* no typo, in the description */
    VT_CHECK_STR(res->vendors[2]->id, typo);  /* a typo */
    VT_CHECK_INT(res->matches[2]->typos, 1);
    VT_CHECK_INT(res->total, 3);
    free_msg(res);

    /* Exact above prefix: "churro" is a word of one and a prefix of the other's. */
    char whole[VT_UUID_LEN + 1], prefix[VT_UUID_LEN + 1];
    create_id("user_rank", "Churrosaurus", "", prefix);
    create_id("user_rank", "Churro Stand", "", whole);
    res = find_q("churro");
    VT_REQUIRE(res && res->n_vendors == 2);
    VT_CHECK_STR(res->vendors[0]->id, whole);
    VT_CHECK_STR(res->matches[1]->name->value, "<em>Churro</em>saurus");
    free_msg(res);

    /* Same text: nearer first when a position is given, else the more recently active. */
    char near[VT_UUID_LEN + 1], far[VT_UUID_LEN + 1];
    create_id("user_rank", "Waffle Wagon", "", far);
    create_id("user_rank", "Waffle Wagon", "", near);
    set_updated(far, "1 minute");
    set_updated(near, "1 hour");
    res = find_q("waffle wagon");
    VT_REQUIRE(res && res->n_vendors == 2);
    VT_CHECK_STR(res->vendors[0]->id, far); /* updated more recently */
    free_msg(res);
    int64_t ts = vt_now_ms();
    publish_location(near, 45.7640, 4.8357, ts, NULL); /* Lyon */
    publish_location(far, 43.2965, 5.3698, ts, NULL);  /* Marseille */
    VT_CHECK(wait_location(near, 45.7640));
    VT_CHECK(wait_location(far, 43.2965));
    SearchReq req = REQ_INIT;
    req.q = "waffle wagon";
    SET(req, lat, LAT, 45.75);
    SET(req, lng, LNG, 4.85);
    res = find(&req);
    VT_REQUIRE(res && res->n_vendors == 2);
    VT_CHECK_STR(res->vendors[0]->id, near);
    VT_CHECK(res->matches[0]->opt_distance_meters_case ==
             VENTA__VENDOR__V1__SEARCH_MATCH__OPT_DISTANCE_METERS_DISTANCE_METERS);
    VT_CHECK(res->matches[0]->distance_meters > 500 && res->matches[0]->distance_meters < 5000);
    VT_CHECK(res->matches[1]->distance_meters > 250000);
    free_msg(res);
    /* Without a position, the location just written is the latest activity. */
    res = find_q("waffle wagon");
    VT_REQUIRE(res && res->n_vendors == 2);
    free_msg(res);
}

static void publish_live(const char *id, double lat, double lng)
{
    vt_events_position loc = {.lat = lat, .lng = lng, .ts = vt_now_ms(), .live = true};
    snprintf(loc.vendor_id, sizeof loc.vendor_id, "%s", id);
    VT_CHECK_INT(vt_events_publish_location(bus, &loc, NULL, NULL), VT_OK);
}

static void test_filters(void)
{
    char fiji[VT_UUID_LEN + 1], samoa[VT_UUID_LEN + 1], paris[VT_UUID_LEN + 1];
    profile open = {.name = "Kava Cart Fiji", .description = "kava", .is_open = true};
    Vendor *v = NULL;
    VT_REQUIRE(create("user_filter", &open, &v) == VT_OK);
    snprintf(fiji, sizeof fiji, "%s", v->id);
    free_msg(v);
    create_id("user_filter", "Kava Cart Samoa", "kava", samoa);
    create_id("user_filter", "Kava Cart Paris", "kava", paris);
    publish_live(fiji, -17.7134, 178.0650); /* just west of the antimeridian */
    publish_location(samoa, -13.7590, -172.1046, vt_now_ms(), NULL); /* stored, not live */
    publish_location(paris, 48.8566, 2.3522, vt_now_ms(), NULL);
    VT_CHECK(wait_location(fiji, -17.7134));
    VT_CHECK(wait_location(samoa, -13.7590));
    VT_CHECK(wait_location(paris, 48.8566));

    SearchReq req = REQ_INIT;
    req.q = "kava cart";
    SearchRes *res = find(&req);
    VT_CHECK(res && res->n_vendors == 3);
    free_msg(res);

    /* A box across the antimeridian holds Fiji and Samoa, not Paris. */
    SET(req, sw_lat, SW_LAT, -25.0);
    SET(req, sw_lng, SW_LNG, 170.0);
    SET(req, ne_lat, NE_LAT, -10.0);
    SET(req, ne_lng, NE_LNG, -165.0);
    res = find(&req);
    VT_CHECK(res && res->n_vendors == 2 && rank_of(res, paris) < 0);
    free_msg(res);
    /* A plain box around Paris. */
    req.sw_lat = 48, req.sw_lng = 2, req.ne_lat = 49, req.ne_lng = 3;
    res = find(&req);
    VT_CHECK(res && res->n_vendors == 1 && rank_of(res, paris) == 0);
    free_msg(res);
    req.opt_sw_lat_case = 0, req.opt_sw_lng_case = 0, req.opt_ne_lat_case = 0,
    req.opt_ne_lng_case = 0;

    /* Radius around Samoa (and Fiji is 1,000 km away). */
    SET(req, lat, LAT, -13.8);
    SET(req, lng, LNG, -172.1);
    SET(req, radius_meters, RADIUS_METERS, 50000.0);
    res = find(&req);
    VT_CHECK(res && res->n_vendors == 1 && rank_of(res, samoa) == 0);
    free_msg(res);
    req.opt_lat_case = 0, req.opt_lng_case = 0, req.opt_radius_meters_case = 0;

    req.open_now = true;
    res = find(&req);
    VT_CHECK(res && res->n_vendors == 1 && rank_of(res, fiji) == 0);
    free_msg(res);
    req.open_now = false;
    req.online_now = true; /* only Fiji's position came from a live connection */
    res = find(&req);
    VT_CHECK(res && res->n_vendors == 1 && rank_of(res, fiji) == 0);
    free_msg(res);

    /* Bad areas are refused, naming what is wrong. */
    SearchReq bad = REQ_INIT;
    bad.q = "kava";
    SET(bad, sw_lat, SW_LAT, 10.0);
    VT_CHECK_INT(call("SearchVendors", &bad.base, NULL, NULL, NULL), VT_INVALID_ARGUMENT);
    VT_CHECK(strstr(msg, "neLat") != NULL);
    SET(bad, sw_lng, SW_LNG, 10.0);
    SET(bad, ne_lat, NE_LAT, 5.0); /* south of sw */
    SET(bad, ne_lng, NE_LNG, 20.0);
    VT_CHECK_INT(call("SearchVendors", &bad.base, NULL, NULL, NULL), VT_INVALID_ARGUMENT);
    SearchReq r2 = REQ_INIT;
    r2.q = "kava";
    SET(r2, radius_meters, RADIUS_METERS, 10.0);
    VT_CHECK_INT(call("SearchVendors", &r2.base, NULL, NULL, NULL), VT_INVALID_ARGUMENT);
    r2.opt_radius_meters_case = 0;
    r2.page = -1;
    VT_CHECK_INT(call("SearchVendors", &r2.base, NULL, NULL, NULL), VT_INVALID_ARGUMENT);
}

static void test_pages(void)
{
    for (int i = 0; i < 7; i++) {
        char name[32], id[VT_UUID_LEN + 1];
        snprintf(name, sizeof name, "Pretzel Post %d", i);
        create_id("user_pages", name, "", id);
    }
    SearchReq req = REQ_INIT;
    req.q = "pretzel";
    req.limit = 3;
    char seen[9][VT_UUID_LEN + 1];
    int nseen = 0;
    for (int p = 0; p < 3; p++) {
        req.page = p;
        SearchRes *res = find(&req);
        VT_REQUIRE(res);
        VT_CHECK_INT(res->total, 7);
        VT_CHECK_INT(res->n_vendors, p < 2 ? 3 : 1);
        VT_CHECK((*res->next_cursor != '\0') == (p < 2));
        for (size_t i = 0; i < res->n_vendors && nseen < 9; i++)
            snprintf(seen[nseen++], sizeof seen[0], "%s", res->vendors[i]->id);
        free_msg(res);
    }
    VT_CHECK_INT(nseen, 7);
    for (int i = 0; i < nseen; i++)
        for (int j = i + 1; j < nseen; j++)
            VT_CHECK(strcmp(seen[i], seen[j]) != 0);
    req.page = 100; /* past the end: empty, not an error, and the total still told */
    SearchRes *res = find(&req);
    VT_CHECK(res && res->n_vendors == 0 && res->total == 7);
    free_msg(res);
}

static void test_writes_reindex(void)
{
    SearchRes *res = find_q("zeta");
    VT_CHECK(rank_of(res, zeta) >= 0);
    free_msg(res);
    /* Renamed: found by the new name only. */
    Venta__Vendor__V1__UpdateVendorRequest up = VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__INIT;
    up.id = zeta;
    up.opt_name_case = VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_NAME_NAME;
    up.name = "Quesadilla Queen";
    VT_CHECK_INT(update("user_typist", &up, NULL), VT_OK);
    res = find_q("zeta");
    VT_CHECK(rank_of(res, zeta) < 0);
    free_msg(res);
    res = find_q("quesadila quen");
    VT_CHECK(rank_of(res, zeta) >= 0);
    free_msg(res);
    res = find_q("horchata"); /* the description did not change */
    VT_CHECK(rank_of(res, zeta) >= 0);
    free_msg(res);
    /* A write by direct SQL (as venta-migrate import-venta does) is indexed too. */
    const char *p[1] = {zeta};
    PGresult *r = PQexecParams(db(),
                               "UPDATE vendor.vendors SET description = 'elote y esquites' "
                               "WHERE id = $1::uuid",
                               1, NULL, p, NULL, NULL, 0);
    VT_CHECK_INT(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    res = find_q("esquite");
    VT_CHECK(rank_of(res, zeta) >= 0);
    free_msg(res);
    res = find_q("horchata");
    VT_CHECK(rank_of(res, zeta) < 0);
    free_msg(res);
    /* Deleted: gone. */
    VT_CHECK_INT(del("user_typist", zeta), VT_OK);
    res = find_q("quesadilla");
    VT_CHECK(res && rank_of(res, zeta) < 0);
    free_msg(res);
}

/* Every character the folding table knows, in both cases, between ASCII words. */
static void test_sql_folding_matches_c(void)
{
    const char *text = "Ab1 ÀÁÂÃÄÅàáâãäåĀāĂăĄą-ÇçĆćČč ĎďĐđ ÈÉÊËèéêëĒēĖėĘęĚě Ğğ ÌÍÎÏìíîïĪīĮįİı Łł "
                       "ÑñŃńŇň ÒÓÔÕÖØòóôõöøŌōŐő Řř ŚśŞşŠš ŢţŤť ÙÚÛÜùúûüŪūŮůŰűŲų ÝýÿŸ ŹźŻżŽž "
                       "Straße ẞig Æsir æther Œuvre œil phở ramen—udon x_y "
                       "supercalifragilisticexpialidocious42";
    const char *p[1] = {text};
    PGresult *r = PQexecParams(db(),
                               "SELECT coalesce(string_agg(w, ' '), '') "
                               "FROM vendor.search_words($1) AS w",
                               1, NULL, p, NULL, NULL, 0);
    VT_REQUIRE(PQresultStatus(r) == PGRES_TUPLES_OK);
    search_word w[64];
    size_t n = search_words_split(text, strlen(text), w, 64, NULL);
    vt_buf c_words = VT_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        if (i)
            vt_buf_putc(&c_words, ' ');
        vt_buf_puts(&c_words, w[i].text);
    }
    vt_buf_putc(&c_words, '\0');
    VT_CHECK_STR(PQgetvalue(r, 0, 0), c_words.data ? c_words.data : "");
    vt_buf_free(&c_words);
    PQclear(r);
}

void vendor_search_tests(void)
{
    VT_RUN(test_issue_examples);
    VT_RUN(test_ranking);
    VT_RUN(test_filters);
    VT_RUN(test_pages);
    VT_RUN(test_writes_reindex);
    VT_RUN(test_sql_folding_matches_c);
}
