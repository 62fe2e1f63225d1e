/*
 * rest_legacy.c — POST /vendor, PUT /vendor/:id, GET /user/vendors and GET /health as the
 * original backend answered them. Requests are mapped by rest_legacy_shapes.c, go to
 * the same VendorService and UserService methods as /api/v1's, and come back in the
 * original's shapes; errors take its envelope (route->legacy, rest_req.c).
 *
 * Where the original was wrong we keep its shape and do the safe thing: PUT kept
 * nothing it was not sent (it wrote "" over every field left out), GET /user/vendors
 * lists every vendor (page by page, not the first page only).
 */
#include "rest_legacy.h"
#include "rest_app.h"
#include "rest_legacy_shapes.h"
#include "rest_metrics.h"
#include "rest_upstream.h"
#include "vt_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define USER_SVC (&venta__user__v1__user_service__descriptor)
#define VENDOR_SVC (&venta__vendor__v1__vendor_service__descriptor)
/* GET /user/vendors asks for pages of this size, at most this many. */
#define VENDOR_PAGE 100
#define VENDOR_PAGES_MAX 100

/* The reply's failure as the error body; true when there was one (reply freed). */
static bool failed(rest_req *req, rest_upstream up, vt_rpc_reply *reply)
{
    if (vt_rpc_reply_status(reply) == VT_OK && vt_rpc_reply_response(reply))
        return false;
    rest_respond_rpc_error(req, up, reply);
    vt_rpc_reply_free(reply);
    return true;
}

static void on_created(rest_req *req, vt_rpc_reply *reply)
{
    if (failed(req, REST_UP_VENDOR, reply))
        return;
    const Venta__Vendor__V1__Vendor *v = (const void *)vt_rpc_reply_response(reply);
    vt_buf b = VT_BUF_INIT;
    vt_buf_puts(&b, "{\"id\":");
    vt_json_buf_put_string(&b, v->id, strlen(v->id));
    vt_buf_putc(&b, '}');
    vt_rpc_reply_free(reply);
    rest_respond_buf(req, 201, "application/json", &b); /* NestJS' @Post() answers 201 */
}

static void on_updated(rest_req *req, vt_rpc_reply *reply)
{
    if (failed(req, REST_UP_VENDOR, reply))
        return;
    vt_rpc_reply_free(reply);
    rest_respond_json(req, 200, "{\"message\":\"Vendor updated successfully\",\"success\":true}");
}

/* GET /user/vendors' answer, built over as many pages as the user has. */
typedef struct {
    vt_buf items; /* the array's elements so far */
    int pages;    /* calls made */
} vendor_pages;

static void vendor_pages_free(void *p)
{
    vendor_pages *s = p;
    vt_buf_free(&s->items);
    free(s);
}

static void list_page(rest_req *req, const char *page_token);

static void on_vendor_page(rest_req *req, vt_rpc_reply *reply)
{
    if (failed(req, REST_UP_USER, reply))
        return;
    vendor_pages *s = req->held_state;
    const Venta__User__V1__ListUserVendorsResponse *r = (const void *)vt_rpc_reply_response(reply);
    rest_legacy_vendor_names(r, &s->items);
    if (r->next_page_token && r->next_page_token[0] && s->pages < VENDOR_PAGES_MAX) {
        list_page(req, r->next_page_token);
        vt_rpc_reply_free(reply);
        return;
    }
    vt_rpc_reply_free(reply);
    vt_buf b = VT_BUF_INIT;
    vt_buf_puts(&b, "{\"vendors\":[");
    vt_buf_put(&b, s->items.data, s->items.len);
    vt_buf_puts(&b, "]}");
    rest_respond_buf(req, 200, "application/json", &b);
}

static void list_page(rest_req *req, const char *page_token)
{
    Venta__User__V1__ListUserVendorsRequest *m = malloc(sizeof *m);
    if (m) {
        venta__user__v1__list_user_vendors_request__init(m);
        m->user_id = strdup(req->user_id);
        m->page_token = page_token ? strdup(page_token) : NULL;
        m->page_size = VENDOR_PAGE;
    }
    if (!m || !m->user_id || (page_token && !m->page_token)) {
        if (m)
            protobuf_c_message_free_unpacked(&m->base, NULL);
        rest_respond_error(req, VT_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    ((vendor_pages *)req->held_state)->pages++;
    rest_upstream_call_or_fail(req, REST_UP_USER, USER_SVC, "ListUserVendors", &m->base,
                               on_vendor_page);
}

void rest_legacy_call(rest_req *req)
{
    char err[256];
    int rc;
    switch (req->route->kind) {
    case REST_H_LEGACY_VENDOR_CREATE: {
        Venta__Vendor__V1__CreateVendorRequest *m;
        rc = rest_legacy_create_request(req->body, req->body_len, &m, err, sizeof err);
        if (rc == VT_OK && !(m->owner_id = strdup(req->user_id))) {
            protobuf_c_message_free_unpacked(&m->base, NULL);
            rc = VT_RESOURCE_EXHAUSTED, snprintf(err, sizeof err, "out of memory");
        }
        if (rc != VT_OK) {
            rest_respond_error(req, rc, "%s", err);
            return;
        }
        rest_upstream_call_or_fail(req, REST_UP_VENDOR, VENDOR_SVC, "CreateVendor", &m->base,
                                   on_created);
        return;
    }
    case REST_H_LEGACY_VENDOR_UPDATE: {
        Venta__Vendor__V1__UpdateVendorRequest *m;
        rc = rest_legacy_update_request(req->body, req->body_len, &m, err, sizeof err);
        if (rc == VT_OK && !(m->id = strdup(req->id))) {
            protobuf_c_message_free_unpacked(&m->base, NULL);
            rc = VT_RESOURCE_EXHAUSTED, snprintf(err, sizeof err, "out of memory");
        }
        if (rc != VT_OK) {
            rest_respond_error(req, rc, "%s", err);
            return;
        }
        rest_upstream_call_or_fail(req, REST_UP_VENDOR, VENDOR_SVC, "UpdateVendor", &m->base,
                                   on_updated);
        return;
    }
    case REST_H_LEGACY_USER_VENDORS:
        if (!(req->held_state = calloc(1, sizeof(vendor_pages)))) {
            rest_respond_error(req, VT_RESOURCE_EXHAUSTED, "out of memory");
            return;
        }
        req->held_state_free = vendor_pages_free;
        list_page(req, NULL);
        return;
    default:
        rest_respond_error(req, VT_INTERNAL, "route %s is not an original route", req->path);
        return;
    }
}

/* Resident memory of this process in bytes, 0 when unknown. */
static long long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long long size = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%lld %lld", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * sysconf(_SC_PAGESIZE);
}

void rest_legacy_health(rest_req *req)
{
    /* The original's basic check: the process's own memory (RSS under 3000 MiB). */
    char body[512];
    bool up = rest_legacy_health_json(rss_bytes(), 3000LL * 1024 * 1024, body, sizeof body);
    rest_respond_json(req, up ? 200 : 503, body);
}
