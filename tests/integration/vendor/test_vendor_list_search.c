/*
 * test_vendor_list_search.c — venta-vendor: keyset pagination without duplicates or gaps,
 * the last-known location fed from loc.>, search ranking, typo tolerance and the radius
 * filter (the search of issue #19 in depth: test_vendor_search.c).
 */
#include "vendor_test_util.h"

static void test_list_pagination(void)
{
    enum { N = 23 };
    char ids[N][VT_UUID_LEN + 1];
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof name, "Pager %02d", i);
        create_id("user_pager", name, "", ids[i]);
    }
    /* Walk pages of 5 while one vendor already seen is deleted midway. */
    char seen[N][VT_UUID_LEN + 1];
    int nseen = 0, pages = 0;
    char token[512] = "";
    bool deleted = false;
    do {
        page pg;
        VT_REQUIRE(list("user_pager", 5, token, &pg) == VT_OK);
        pages++;
        VT_CHECK(pg.n <= 5);
        for (int i = 0; i < pg.n && nseen < N; i++) {
            for (int k = 0; k < nseen; k++)
                VT_CHECK(strcmp(seen[k], pg.ids[i]) != 0); /* no duplicates */
            snprintf(seen[nseen++], sizeof seen[0], "%s", pg.ids[i]);
        }
        if (!deleted) {
            VT_CHECK_INT(del("user_pager", ids[0]), VT_OK);
            deleted = true;
        }
        snprintf(token, sizeof token, "%s", pg.next);
    } while (*token && pages < 20);
    VT_CHECK_INT(pages, 5);
    VT_CHECK_INT(nseen, N); /* no gaps: every vendor seen once, in creation order */
    for (int i = 0; i < N && i < nseen; i++)
        VT_CHECK_STR(seen[i], ids[i]);

    page pg;
    VT_CHECK_INT(list("user_pager", 0, "", &pg), VT_OK); /* default 20 */
    VT_CHECK_INT(pg.n, 20);
    VT_CHECK(*pg.next != '\0');
    VT_CHECK_INT(list("user_pager", 1000, "", &pg), VT_OK); /* capped at 100 */
    VT_CHECK_INT(pg.n, N - 1);
    VT_CHECK_STR(pg.next, "");
    VT_CHECK_INT(list("", 100, "", &pg), VT_OK); /* every owner */
    VT_CHECK(pg.n > N);
    VT_CHECK_INT(list("user_nobody", 10, "", &pg), VT_OK);
    VT_CHECK_INT(pg.n, 0);
    VT_CHECK_STR(pg.next, "");

    VT_CHECK_INT(list("user_pager", -1, "", NULL), VT_INVALID_ARGUMENT);
    VT_CHECK(strstr(msg, "pageSize") != NULL);
    const char *bad[] = {"!!!",        "djF8THwxMjM",
                         "AAAA",       "dGFjb3M",
                         "v1|L|x|y|z", "djF8THwwMDAwMDAwMDAwMDAwMDAwfCcpOyBEUk9QfG5vdC1hLXV1aWQ"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        VT_CHECK_INT(list("user_pager", 5, bad[i], NULL), VT_INVALID_ARGUMENT);
        VT_CHECK_STR(msg, "pageToken is malformed");
    }
    VT_CHECK_INT(list("user_pager", 5, "", &pg), VT_OK);
    VT_CHECK_INT(list("user_alice", 5, pg.next, NULL), VT_INVALID_ARGUMENT); /* other owner */
}

static char tacos[VT_UUID_LEN + 1], pizza[VT_UUID_LEN + 1], burger[VT_UUID_LEN + 1];

static void test_location_cache(void)
{
    create_id("user_search", "Tacos El Gordo", "Al pastor and carne asada tacos, late night",
              tacos);
    create_id("user_search", "Pizza Napoli", "Wood-fired pizza; on Tuesdays we also do tacos",
              pizza);
    create_id("user_search", "Burger Barn", "Smash burgers and fries", burger);
    int64_t ts = vt_now_ms();
    VT_CHECK_INT(get(tacos, NULL), VT_OK); /* cached without a location */
    VT_CHECK_INT(get(pizza, NULL), VT_OK);
    publish_location(tacos, 48.8566, 2.3522, ts, NULL);  /* Paris */
    publish_location(pizza, 51.5074, -0.1278, ts, NULL); /* London */
    VT_CHECK(wait_location(tacos, 48.8566));
    VT_CHECK(wait_location(pizza, 51.5074));
    Vendor *v = NULL;
    VT_CHECK_INT(get(tacos, &v), VT_OK);
    if (v && v->location) {
        VT_CHECK_NEAR(v->location->lng, 2.3522, 1e-9);
        VT_CHECK(rfc3339_ms(v->location->updated_at));
    }
    free_msg(v);

    /* A burst for one vendor coalesces to its newest position; an older one is ignored,
     * and the left-cell copy (published on the old cell) changes nothing. */
    for (int i = 1; i <= 40; i++)
        publish_location(burger, 40.0 + i * 0.001, -3.7, ts + i, NULL);
    publish_location(burger, 10, 10, ts - 1000, NULL);
    VT_CHECK(wait_location(burger, 40.040));
    VT_CHECK(metric("venta_vendor_location_cache_coalesced_total") > 0);
    publish_location(burger, 40.5, -3.7, ts + 100, "u09tvw"); /* moved "from Paris" */
    VT_CHECK(wait_location(burger, 40.5));
    VT_CHECK(metric("venta_vendor_location_cache_left_cell_total") >= 1);
    /* Positions of unknown vendors are harmless. */
    publish_location("00000000-0000-4000-8000-00000000beef", 1, 1, ts, NULL);
    VT_CHECK(wait_serving(2000));
}

static void test_search(void)
{
    page pg;
    VT_CHECK_INT(search("tacos", NULL, NULL, NULL, 0, "", &pg), VT_OK);
    VT_CHECK_INT(pg.n, 2);
    if (pg.n == 2) {
        VT_CHECK_STR(pg.ids[0], tacos); /* name match (weight A) outranks description */
        VT_CHECK_STR(pg.ids[1], pizza);
    }
    VT_CHECK_STR(pg.next, "");
    VT_CHECK_INT(search("tacso", NULL, NULL, NULL, 0, "", &pg), VT_OK); /* typo */
    VT_CHECK(page_has(&pg, tacos));
    VT_CHECK(!page_has(&pg, burger));
    VT_CHECK_INT(search("BURGERS", NULL, NULL, NULL, 0, "", &pg), VT_OK); /* stemming, case */
    VT_CHECK_INT(pg.n, 1);
    VT_CHECK(page_has(&pg, burger));
    /* Quotes and minus signs are separators: every word must match. */
    VT_CHECK_INT(search("\"carne asada\" -pizza", NULL, NULL, NULL, 0, "", &pg), VT_OK);
    VT_CHECK_INT(pg.n, 0);
    VT_CHECK_INT(search("\"carne asada\"", NULL, NULL, NULL, 0, "", &pg), VT_OK);
    VT_CHECK_INT(pg.n, 1);
    VT_CHECK(page_has(&pg, tacos));
    VT_CHECK_INT(search("'; DROP TABLE vendor.vendors; --", NULL, NULL, NULL, 0, "", &pg), VT_OK);

    /* Cursor pagination through the same ranking. */
    VT_CHECK_INT(search("tacos", NULL, NULL, NULL, 1, "", &pg), VT_OK);
    VT_CHECK_INT(pg.n, 1);
    VT_CHECK_STR(pg.ids[0], tacos);
    VT_CHECK(*pg.next != '\0');
    char cursor[512];
    snprintf(cursor, sizeof cursor, "%s", pg.next);
    VT_CHECK_INT(search("tacos", NULL, NULL, NULL, 1, cursor, &pg), VT_OK);
    VT_CHECK_INT(pg.n, 1);
    if (pg.n == 1)
        VT_CHECK_STR(pg.ids[0], pizza);
    VT_CHECK_STR(pg.next, "");
    VT_CHECK_INT(search("pizza", NULL, NULL, NULL, 1, cursor, NULL), VT_INVALID_ARGUMENT);
    VT_CHECK_INT(search("tacos", NULL, NULL, NULL, 1, "bm9wZQ", NULL), VT_INVALID_ARGUMENT);
    VT_CHECK_STR(msg, "cursor is malformed");

    /* Within 5 km of Paris: only the Paris vendor. */
    double lat = 48.86, lng = 2.35, r5 = 5000, r1000k = 100000;
    VT_CHECK_INT(search("tacos", &lat, &lng, &r5, 0, "", &pg), VT_OK);
    VT_CHECK_INT(pg.n, 1);
    VT_CHECK(page_has(&pg, tacos));
    double london_lat = 51.5, london_lng = -0.12;
    VT_CHECK_INT(search("tacos", &london_lat, &london_lng, &r1000k, 0, "", &pg), VT_OK);
    VT_CHECK_INT(pg.n, 1);
    VT_CHECK(page_has(&pg, pizza));

    VT_CHECK_INT(search("tacos", &lat, NULL, NULL, 0, "", NULL), VT_INVALID_ARGUMENT);
    VT_CHECK(strstr(msg, "radiusMeters") != NULL);
    /* A position without a radius ranks by distance and filters nothing. */
    VT_CHECK_INT(search("tacos", &london_lat, &london_lng, NULL, 0, "", &pg), VT_OK);
    VT_CHECK_INT(pg.n, 2);
    double zero = 0, bad_lat = 91;
    VT_CHECK_INT(search("tacos", &lat, &lng, &zero, 0, "", NULL), VT_INVALID_ARGUMENT);
    VT_CHECK(strstr(msg, "radiusMeters") != NULL);
    VT_CHECK_INT(search("tacos", &bad_lat, &lng, &r5, 0, "", NULL), VT_INVALID_ARGUMENT);
    VT_CHECK(strstr(msg, "lat") != NULL);
    VT_CHECK_INT(search("", NULL, NULL, NULL, 0, "", NULL), VT_INVALID_ARGUMENT);
    VT_CHECK(strstr(msg, "q ") == msg);
    VT_CHECK_INT(search("tacos", NULL, NULL, NULL, -5, "", NULL), VT_INVALID_ARGUMENT);
    VT_CHECK(strstr(msg, "limit") != NULL);

    /* Deleted vendors drop out of search. */
    VT_CHECK_INT(del("user_search", pizza), VT_OK);
    VT_CHECK_INT(search("tacos", NULL, NULL, NULL, 0, "", &pg), VT_OK);
    VT_CHECK_INT(pg.n, 1);
    VT_CHECK(!page_has(&pg, pizza));
}

void vendor_list_search_tests(void)
{
    VT_RUN(test_list_pagination);
    VT_RUN(test_location_cache);
    VT_RUN(test_search);
}
