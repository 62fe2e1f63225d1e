/*
 * Unit tests of the gateway's image pieces that need no server: the multipart parser
 * (apps/gateway/rest_multipart.c) on bodies as browsers, curl and Node's FormData
 * frame them and on broken ones; the /images name, Accept and If-None-Match rules
 * (rest_images.c); and the per-route body limit (rest_routes.c). The whole path, with
 * real clients, is tests/e2e/gateway/images.mjs.
 */
#include "rest_images.h"
#include "rest_multipart.h"
#include "rest_routes.h"
#include "vt_media.h"
#include "vt_test.h"

#include <string.h>

#define CT "multipart/form-data; boundary=----WebKitFormBoundaryABC123"

static rest_multipart_result find(const char *ct, const char *body, rest_multipart_part *p)
{
    char err[256] = "";
    rest_multipart_result rc =
        rest_multipart_find(ct, body, strlen(body), "file", p, err, sizeof err);
    VT_CHECK(rc == REST_MULTIPART_OK || err[0]);
    return rc;
}

static void test_multipart_found(void)
{
    /* As a browser frames it: a text field first, then the file with its headers. */
    const char *body = "------WebKitFormBoundaryABC123\r\n"
                       "Content-Disposition: form-data; name=\"caption\"\r\n\r\n"
                       "tacos\r\n"
                       "------WebKitFormBoundaryABC123\r\n"
                       "Content-Disposition: form-data; name=\"file\"; filename=\"p.jpg\"\r\n"
                       "Content-Type: image/jpeg\r\n\r\n"
                       "JPEG\r\nwith a CRLF and --WebKit inside\r\n"
                       "------WebKitFormBoundaryABC123--\r\n";
    rest_multipart_part p;
    VT_REQUIRE(find(CT, body, &p) == REST_MULTIPART_OK);
    VT_CHECK_INT((long)p.len, (long)strlen("JPEG\r\nwith a CRLF and --WebKit inside"));
    VT_CHECK(memcmp(p.data, "JPEG\r\n", 6) == 0);
    VT_CHECK_STR(p.filename, "p.jpg");
    VT_CHECK_STR(p.content_type, "image/jpeg");

    /* Quoted boundary, preamble, case-insensitive names, no filename, empty content. */
    const char *ct = "Multipart/Form-Data ; charset=utf-8; BOUNDARY=\"a b'c\"";
    body = "preamble to ignore\r\n--a b'c\r\ncontent-disposition: form-data; name=file\r\n\r\n"
           "\r\n--a b'c--";
    VT_REQUIRE(find(ct, body, &p) == REST_MULTIPART_OK);
    VT_CHECK_INT((long)p.len, 0);
    VT_CHECK_STR(p.filename, "");

    /* The first part of the name counts; "filename" is not "name". */
    body = "--b\r\nContent-Disposition: form-data; filename=\"file\"; name=\"other\"\r\n\r\nA\r\n"
           "--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nB\r\n"
           "--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nC\r\n--b--";
    VT_REQUIRE(find("multipart/form-data; boundary=b", body, &p) == REST_MULTIPART_OK);
    VT_CHECK(p.len == 1 && p.data[0] == 'B');
}

static void test_multipart_refused(void)
{
    rest_multipart_part p;
    const char *good = "--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nX\r\n--b--";
    VT_CHECK(find("application/json", good, &p) == REST_MULTIPART_NOT_MULTIPART);
    VT_CHECK(find(NULL, good, &p) == REST_MULTIPART_NOT_MULTIPART);
    VT_CHECK(find("multipart/form-dataX; boundary=b", good, &p) == REST_MULTIPART_NOT_MULTIPART);
    /* Boundaries: missing, empty, too long (71), a character outside RFC 2046's set,
     * a trailing space, an unterminated quote. */
    VT_CHECK(find("multipart/form-data", good, &p) == REST_MULTIPART_MALFORMED);
    VT_CHECK(find("multipart/form-data; boundary=", good, &p) == REST_MULTIPART_MALFORMED);
    char ct[200];
    snprintf(ct, sizeof ct, "multipart/form-data; boundary=%071d", 0);
    VT_CHECK(find(ct, good, &p) == REST_MULTIPART_MALFORMED);
    VT_CHECK(find("multipart/form-data; boundary=a;b", good, &p) == REST_MULTIPART_NO_FIELD ||
             find("multipart/form-data; boundary=a;b", good, &p) == REST_MULTIPART_MALFORMED);
    VT_CHECK(find("multipart/form-data; boundary=\"b \"", good, &p) == REST_MULTIPART_MALFORMED);
    VT_CHECK(find("multipart/form-data; boundary=\"b", good, &p) == REST_MULTIPART_MALFORMED);
    VT_CHECK(find("multipart/form-data; boundary=b<", good, &p) == REST_MULTIPART_MALFORMED);
    /* The good body works; cut short anywhere it does not. */
    const char *b = "multipart/form-data; boundary=b";
    VT_CHECK(find(b, good, &p) == REST_MULTIPART_OK);
    char err[256];
    for (size_t n = 0; n < strlen(good); n++)
        VT_CHECK(rest_multipart_find(b, good, n, "file", &p, err, sizeof err) != REST_MULTIPART_OK);
    /* No such field, no delimiter, headers that never end, a delimiter line with junk. */
    VT_CHECK(find(b, "--b\r\nContent-Disposition: form-data; name=\"pic\"\r\n\r\nX\r\n--b--", &p) ==
             REST_MULTIPART_NO_FIELD);
    VT_CHECK(find(b, "just some bytes", &p) == REST_MULTIPART_MALFORMED);
    VT_CHECK(find(b, "--b\r\nContent-Disposition: form-data; name=\"file\"\r\n", &p) ==
             REST_MULTIPART_MALFORMED);
    VT_CHECK(find(b, "--bjunk\r\n\r\nX\r\n--b--", &p) == REST_MULTIPART_MALFORMED);
    VT_CHECK(rest_multipart_find(b, NULL, 0, "file", &p, err, sizeof err) ==
             REST_MULTIPART_MALFORMED);
}

static void test_image_names(void)
{
    char hash[65];
    int format = -1;
    const char *h = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    char name[80];
    snprintf(name, sizeof name, "%s.jpg", h);
    VT_CHECK(rest_image_name_parse(name, hash, &format));
    VT_CHECK_STR(hash, h);
    VT_CHECK_INT(format, VT_MEDIA_JPEG);
    snprintf(name, sizeof name, "%s.webp", h);
    VT_CHECK(rest_image_name_parse(name, hash, &format) && format == VT_MEDIA_WEBP);
    snprintf(name, sizeof name, "%s.png", h);
    VT_CHECK(!rest_image_name_parse(name, hash, &format));
    snprintf(name, sizeof name, "%s.jpg.jpg", h);
    VT_CHECK(!rest_image_name_parse(name, hash, &format));
    VT_CHECK(!rest_image_name_parse(
        "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08.jpg", hash, &format));
    VT_CHECK(!rest_image_name_parse("abc.jpg", hash, &format));
    VT_CHECK(!rest_image_name_parse("", hash, &format));
}

static void test_accept_and_etag(void)
{
    VT_CHECK(rest_accepts_webp("image/avif,image/webp,image/apng,*/*;q=0.8"));
    VT_CHECK(rest_accepts_webp("IMAGE/WEBP"));
    VT_CHECK(rest_accepts_webp("image/png, image/webp ;q=0.5"));
    VT_CHECK(!rest_accepts_webp("image/webp;q=0"));
    VT_CHECK(!rest_accepts_webp("*/*"));
    VT_CHECK(!rest_accepts_webp("image/*"));
    VT_CHECK(!rest_accepts_webp("image/webpx"));
    VT_CHECK(!rest_accepts_webp(""));
    VT_CHECK(!rest_accepts_webp(NULL));

    const char *etag = "\"abc-1024.jpg\"";
    VT_CHECK(rest_etag_matches("\"abc-1024.jpg\"", etag));
    VT_CHECK(rest_etag_matches("\"x\", W/\"abc-1024.jpg\"", etag));
    VT_CHECK(rest_etag_matches("*", etag));
    VT_CHECK(!rest_etag_matches("\"abc-1024.webp\"", etag));
    VT_CHECK(!rest_etag_matches("abc-1024.jpg", etag));
    VT_CHECK(!rest_etag_matches("\"abc-1024.jpg", etag));
    VT_CHECK(!rest_etag_matches("", etag));
    VT_CHECK(!rest_etag_matches(NULL, etag));
}

static void test_body_limits(void)
{
    VT_CHECK_INT((long)rest_route_body_limit(REST_POST, "/upload/image"),
                 (long)REST_MAX_UPLOAD_BODY);
    VT_CHECK_INT((long)rest_route_body_limit(
                     REST_PUT, "/api/v1/vendors/0b5e6f0e-8f7c-4a53-9a43-1e0f6a4d2c11/image"),
                 (long)REST_MAX_UPLOAD_BODY);
    /* Everything else keeps the small limit, unknown paths and other methods too. */
    VT_CHECK_INT((long)rest_route_body_limit(REST_POST, "/api/v1/vendors"), (long)REST_MAX_BODY);
    VT_CHECK_INT((long)rest_route_body_limit(REST_GET, "/upload/image"), (long)REST_MAX_BODY);
    VT_CHECK_INT((long)rest_route_body_limit(REST_POST, "/nowhere"), (long)REST_MAX_BODY);
    VT_CHECK(REST_MAX_UPLOAD_BODY > VT_MEDIA_MAX_BYTES);
}

int main(void)
{
    VT_RUN(test_multipart_found);
    VT_RUN(test_multipart_refused);
    VT_RUN(test_image_names);
    VT_RUN(test_accept_and_etag);
    VT_RUN(test_body_limits);
    return VT_TEST_RESULT();
}
