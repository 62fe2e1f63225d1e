/*
 * fuzz_gateway_url.c — libFuzzer target for what the REST gateway makes of a request's
 * URL: rest_route_match (method + path to a route and its {id}) and rest_query_apply (the
 * route's query parameters into the gRPC request), both in apps/gateway/rest_routes.c, and
 * the path {id} set as rest_dispatch.c sets it (clang only, built by `ninja fuzz`, run by
 * the 'fuzz' suite; see tests/run-fuzz).
 *
 * The input is a request line without the version, "METHOD /path?a=b&c=d", as
 * libwebsockets hands it over: lws itself splits the query on '&' and percent-decodes
 * path and fragments (that parser is lws's and needs a live connection, so it is not
 * fuzzed here); this target splits on '&' and takes the bytes as they are, a superset
 * of what lws can deliver. For every input it checks:
 *  - a match (OK) is a route of that method whose template, with {id} replaced by the
 *    returned id (1..128 bytes, no '/'), is the path, and no literal template would
 *    have matched instead; METHOD means some template fits the path, the method is not
 *    in the Allow list, and the list ends with OPTIONS; NONE means no template fits;
 *  - for a matched route with an rpc, the query map and the {id} leave a request that
 *    holds every required parameter, or are refused with VT_INVALID_ARGUMENT and a
 *    message; an accepted request is complete (protobuf_c_message_check) and what the
 *    service unpacks from its wire form packs to the same bytes. (Strings are not
 *    checked for UTF-8: lws passes percent-decoded bytes through, and the services
 *    validate their text fields themselves.)
 *  - nothing leaks (ASan's leak check).
 *
 *   CC=clang meson setup build-fuzz -Db_sanitize=address,undefined -Dbenchmarks=false
 *   ninja -C build-fuzz fuzz && build-fuzz/tests/unit/gateway/fuzz-gateway-url \
 *       -max_total_time=60 tests/unit/gateway/corpus
 */
#include "rest_routes.h"
#include "vt_core.h"
#include "vt_json.h"
#include "vt_fuzz.h"

#include <string.h>

#define MAX_FRAGMENTS 64 /* as rest_server.c's capture_query */

/* Does path fit tmpl, {id} standing for one non-empty segment of at most REST_ID_MAX? */
static bool template_fits(const char *tmpl, const char *path)
{
    const char *brace = strstr(tmpl, "{id}");
    if (!brace)
        return strcmp(tmpl, path) == 0;
    size_t pre = (size_t)(brace - tmpl), post = strlen(brace + 4), n = strlen(path);
    if (n <= pre + post || strncmp(path, tmpl, pre) != 0 || strcmp(path + n - post, brace + 4))
        return false;
    size_t idl = n - pre - post;
    return idl <= REST_ID_MAX && memchr(path + pre, '/', idl) == NULL;
}

static bool any_fits(const char *path, bool literal_only)
{
    for (int i = 0; i < rest_nroutes; i++)
        if ((!literal_only || !strstr(rest_routes[i].path, "{id}")) &&
            template_fits(rest_routes[i].path, path))
            return true;
    return false;
}

static void check_match(int method, const char *path, rest_match_result res, const rest_route *r,
                        const char *id, const char *allow)
{
    switch (res) {
    case REST_MATCH_OK: {
        /* A GET route serves HEAD too. */
        FUZZ_CHECK(r != NULL && template_fits(r->path, path) &&
                   (r->method == method || (method == REST_HEAD && r->method == REST_GET)));
        const char *brace = strstr(r->path, "{id}");
        char rebuilt[2 * REST_ID_MAX + 64];
        snprintf(rebuilt, sizeof rebuilt, "%.*s%s%s", brace ? (int)(brace - r->path) : 0, r->path,
                 id, brace ? brace + 4 : r->path);
        FUZZ_CHECK(strcmp(rebuilt, path) == 0);
        FUZZ_CHECK(brace || !id[0]);
        FUZZ_CHECK(!brace || !any_fits(path, true));
        break;
    }
    case REST_MATCH_METHOD: {
        FUZZ_CHECK(r == NULL && any_fits(path, false));
        size_t n = strlen(allow);
        FUZZ_CHECK(n >= 7 && strcmp(allow + n - 7, "OPTIONS") == 0);
        char list[128];
        snprintf(list, sizeof list, "%s", allow);
        for (char *m = strtok(list, ", "); m; m = strtok(NULL, ", "))
            FUZZ_CHECK(method == REST_OPTIONS || strcmp(m, rest_method_name(method)) != 0);
        break;
    }
    case REST_MATCH_NONE:
        FUZZ_CHECK(!any_fits(path, false));
        break;
    }
}

static int parse_method(const char *line, size_t *len)
{
    *len = strcspn(line, " ");
    for (int m = 0; m < REST_METHOD_COUNT; m++)
        if (strlen(rest_method_name(m)) == *len && strncmp(line, rest_method_name(m), *len) == 0)
            return m;
    return REST_METHOD_OTHER;
}

/* The request goes upstream packed: it must be complete and survive unpacking. */
static void check_wire(const ProtobufCMessageDescriptor *d, const ProtobufCMessage *msg)
{
    FUZZ_CHECK(protobuf_c_message_check(msg));
    size_t len = protobuf_c_message_get_packed_size(msg), again_len;
    uint8_t *wire = malloc(len + 1), *again;
    FUZZ_CHECK(protobuf_c_message_pack(msg, wire) == len);
    ProtobufCMessage *back = protobuf_c_message_unpack(d, NULL, len, wire);
    FUZZ_CHECK(back != NULL);
    again_len = protobuf_c_message_get_packed_size(back);
    again = malloc(again_len + 1);
    FUZZ_CHECK(protobuf_c_message_pack(back, again) == again_len);
    FUZZ_CHECK(again_len == len && memcmp(again, wire, len) == 0);
    protobuf_c_message_free_unpacked(back, NULL);
    free(wire);
    free(again);
}

/* Build the route's request as rest_dispatch.c's build_request does, from the query
 * fragments and the path's id, and check the outcome. */
static void check_request(const rest_route *r, char *const *qargs, int nqargs, const char *id)
{
    const ProtobufCMethodDescriptor *md =
        protobuf_c_service_descriptor_get_method_by_name(r->svc, r->rpc);
    FUZZ_CHECK(md != NULL);
    ProtobufCMessage *msg = malloc(md->input->sizeof_message);
    protobuf_c_message_init(md->input, msg);
    char err[256] = "";

    int rc = rest_query_apply(r->query, qargs, nqargs, msg, err, sizeof err);
    if (rc == VT_OK && r->id_field)
        rc = vt_json_set_field(msg, r->id_field, id, NULL, err, sizeof err);
    if (rc == VT_OK && r->user_field)
        rc = vt_json_set_field(msg, r->user_field, "user_2fuzz", NULL, err, sizeof err);
    if (rc != VT_OK) {
        FUZZ_CHECK(rc == VT_INVALID_ARGUMENT && err[0]);
    } else {
        for (const rest_query_map *q = r->query; q->param; q++) {
            if (!q->required)
                continue;
            bool present = false;
            size_t n = strlen(q->param);
            for (int i = 0; i < nqargs && !present; i++)
                present = strncmp(qargs[i], q->param, n) == 0 && qargs[i][n] == '=';
            FUZZ_CHECK(present);
        }
        check_wire(md->input, msg);
    }
    protobuf_c_message_free_unpacked(msg, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = fuzz_cstr(data, size);
    size_t mlen;
    int method = parse_method(line, &mlen);
    char *path = line + mlen + (line[mlen] == ' ');
    char *query = strchr(path, '?');
    char *qargs[MAX_FRAGMENTS];
    int nqargs = 0;
    if (query) {
        *query++ = '\0';
        for (char *f = query; f && nqargs < MAX_FRAGMENTS; nqargs++) {
            qargs[nqargs] = f;
            f = strchr(f, '&');
            if (f)
                *f++ = '\0';
        }
    }

    const rest_route *r = NULL;
    char id[REST_ID_MAX + 1] = "", allow[128] = "";
    rest_match_result res = rest_route_match(method, path, &r, id, sizeof id, allow, sizeof allow);
    check_match(method, path, res, r, id, allow);
    if (res == REST_MATCH_OK && r->svc && r->rpc)
        check_request(r, qargs, nqargs, id);
    free(line);
    return 0;
}
