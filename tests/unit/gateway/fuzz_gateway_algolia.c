/*
 * fuzz_gateway_algolia.c — libFuzzer target for the Algolia query API's body parser
 * (apps/gateway/rest_algolia_shapes.c): the input is a request body, parsed both as a
 * single query and as a multi-query. For every input it checks:
 *  - the parser accepts (VT_OK) or refuses with VT_INVALID_ARGUMENT and a message,
 *    never anything else (memory aside);
 *  - an accepted query is a complete SearchVendorsRequest (protobuf_c_message_check)
 *    that packs and unpacks to the same bytes, with page >= 0, 1..100 hits asked,
 *    radius only with a position, the box's south not above its north, and the echoed
 *    params and query present;
 *  - rendering the Algolia answer for it (no hits) gives valid JSON;
 *  - nothing leaks (ASan's leak check).
 *
 *   ninja -C build-fuzz fuzz && build-fuzz/tests/unit/gateway/fuzz-gateway-algolia \
 *       -max_total_time=60 tests/unit/gateway/corpus-algolia
 */
#include "rest_algolia_shapes.h"
#include "vt_core.h"
#include "vt_fuzz.h"

#include <jansson.h>
#include <string.h>

static void check_query(const rest_algolia_query *q)
{
    const Venta__Vendor__V1__SearchVendorsRequest *r = q->req;
    FUZZ_CHECK(r && q->params && q->query && q->index);
    FUZZ_CHECK(protobuf_c_message_check(&r->base));
    FUZZ_CHECK(r->page >= 0 && r->limit >= 1 && r->limit <= 100);
    FUZZ_CHECK(r->opt_radius_meters_case == 0 || r->opt_lat_case != 0);
    FUZZ_CHECK(r->opt_sw_lat_case == 0 || r->sw_lat <= r->ne_lat);
    size_t n = protobuf_c_message_get_packed_size(&r->base);
    uint8_t *wire = malloc(n + 1);
    FUZZ_CHECK(wire);
    protobuf_c_message_pack(&r->base, wire);
    ProtobufCMessage *back = protobuf_c_message_unpack(r->base.descriptor, NULL, n, wire);
    FUZZ_CHECK(back);
    uint8_t *again = malloc(n + 1);
    FUZZ_CHECK(again && protobuf_c_message_get_packed_size(back) == n);
    protobuf_c_message_pack(back, again);
    FUZZ_CHECK(memcmp(wire, again, n) == 0);
    protobuf_c_message_free_unpacked(back, NULL);
    free(wire);
    free(again);
    vt_buf b = VT_BUF_INIT;
    rest_algolia_result_json(q, NULL, 0, &b);
    json_error_t jerr;
    json_t *o = json_loadb(b.data, b.len, 0, &jerr);
    FUZZ_CHECK(json_is_object(o));
    json_decref(o);
    vt_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    char err[256] = "";
    rest_algolia_query q;
    int rc = rest_algolia_parse_query("vendor", body, size, &q, err, sizeof err);
    FUZZ_CHECK(rc == VT_OK || (rc == VT_INVALID_ARGUMENT && err[0]));
    if (rc == VT_OK) {
        check_query(&q);
        rest_algolia_query_free(&q);
    }
    rest_algolia_query qs[REST_ALGOLIA_QUERIES_MAX];
    size_t n = 99;
    err[0] = '\0';
    rc = rest_algolia_parse_queries(body, size, qs, &n, err, sizeof err);
    FUZZ_CHECK(rc == VT_OK || (rc == VT_INVALID_ARGUMENT && err[0] && n == 0));
    for (size_t i = 0; rc == VT_OK && i < n; i++) {
        check_query(&qs[i]);
        rest_algolia_query_free(&qs[i]);
    }
    return 0;
}
