/*
 * handlers.c — the VendorService methods (API.md §3, §5).
 *
 * Identity: writes act for the caller named by x-user-id metadata (set by the gateways
 * from a verified JWT); without it Create, Update and Delete answer UNAUTHENTICATED.
 * Get, List and Search are reads of public profiles and need no identity.
 *
 * Every handler validates first (INVALID_ARGUMENT naming the field by its JSON name),
 * then runs one statement on the worker's own connection, then publishes the domain
 * event after the statement committed. Database trouble is answered as in every service
 * (vt_service_db_error: UNAVAILABLE or ABORTED to retry, INVALID_ARGUMENT, else
 * INTERNAL); PostgreSQL's own text stays in the log, not in the reply.
 *
 * Decisions where API.md is silent:
 * - UpdateVendor with no field present returns the vendor unchanged (after the same
 *   identity and ownership checks), publishes nothing and does not touch updated_at:
 *   an empty PATCH is a no-op, as in most REST APIs, not an error.
 * - CreateVendorRequest.owner_id may be left empty (the owner is always the caller);
 *   when set it must equal x-user-id, else PERMISSION_DENIED. A caller whose user was
 *   deleted (evt.user.deleted applied) gets PERMISSION_DENIED too.
 * - Setting email, phone, website or profileImage to "" clears it; description "" is
 *   an empty description; name cannot be cleared.
 * - pageSize/limit 0 means 20; above 100 is lowered to 100 (AIP-158); negative is
 *   INVALID_ARGUMENT.
 * - SearchVendors needs a non-blank q; lat and lng come together (they rank by
 *   distance), radiusMeters needs them; the four corners of a box come together. A page
 *   is a cursor or a page number, and reaches SEARCH_HITS_MAX hits at most (as Algolia's
 *   paginationLimitedTo): past it the page is empty.
 */
#include "handlers.h"

#include "page_token.h"
#include "search_engine.h"
#include "search_highlight.h"
#include "store.h"
#include "validate.h"
#include "venta/common/v1/common.pb-c.h"
#include "venta/vendor/v1/vendor.pb-c.h"
#include "vt_geo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_PAGE 20
#define MAX_PAGE 100
#define MAX_RADIUS_M 100000.0

typedef Venta__Vendor__V1__Vendor Vendor;

static vt_db_conn *db(vt_rpc_ctx *ctx)
{
    return vt_rpc_ctx_worker(ctx);
}

static int invalid(vt_rpc_ctx *ctx, const char *err)
{
    return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT, "%s", err);
}

/* The caller's identity for a write. */
static int caller(vt_rpc_ctx *ctx, const char **out)
{
    const char *user = vt_rpc_ctx_user_id(ctx);
    if (!user || !*user)
        return vt_rpc_ctx_error(ctx, VT_UNAUTHENTICATED, "x-user-id metadata is required");
    char err[128];
    if (validate_owner_id("x-user-id", user, err, sizeof err) != VT_OK)
        return vt_rpc_ctx_error(ctx, VT_UNAUTHENTICATED, "%s", err);
    *out = user;
    return VT_OK;
}

/* A missing id is a bad request; any other id that is not a UUID names no vendor
 * (API.md: `{"code":"NOT_FOUND","message":"vendor 123 not found"}`). */
static int check_id(vt_rpc_ctx *ctx, const char *id)
{
    if (!*id)
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT, "id is required");
    if (!vt_uuid_valid(id))
        return vt_rpc_ctx_error(ctx, VT_NOT_FOUND, "vendor %.64s not found", id);
    return VT_OK;
}

static int check_page_size(vt_rpc_ctx *ctx, const char *field, int32_t size, int *out)
{
    if (size < 0)
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT, "%s must not be negative", field);
    *out = size == 0 ? DEFAULT_PAGE : size > MAX_PAGE ? MAX_PAGE : size;
    return VT_OK;
}

/* Copy a row into a Vendor message; strings go to the call arena. */
static void fill_vendor(vt_rpc_ctx *ctx, Vendor *v, const store_vendor *r)
{
    v->id = vt_rpc_ctx_strdup(ctx, r->id);
    v->owner_id = vt_rpc_ctx_strdup(ctx, r->owner_id);
    v->name = vt_rpc_ctx_strdup(ctx, r->name);
    v->description = vt_rpc_ctx_strdup(ctx, r->description);
    v->email = vt_rpc_ctx_strdup(ctx, r->email);
    v->phone = vt_rpc_ctx_strdup(ctx, r->phone);
    v->website = vt_rpc_ctx_strdup(ctx, r->website);
    v->profile_image = vt_rpc_ctx_strdup(ctx, r->profile_image);
    v->is_open = r->is_open;
    v->created_at = vt_rpc_ctx_strdup(ctx, r->created_at);
    v->updated_at = vt_rpc_ctx_strdup(ctx, r->updated_at);
    if (r->has_location) {
        Venta__Common__V1__Location *loc = vt_rpc_ctx_alloc(ctx, sizeof *loc);
        venta__common__v1__location__init(loc);
        loc->lat = r->lat;
        loc->lng = r->lng;
        loc->updated_at = vt_rpc_ctx_strdup(ctx, r->location_at);
        v->location = loc;
    }
}

static Vendor *new_vendor(vt_rpc_ctx *ctx, const store_vendor *r)
{
    Vendor *v = vt_rpc_ctx_alloc(ctx, sizeof *v);
    venta__vendor__v1__vendor__init(v);
    fill_vendor(ctx, v, r);
    return v;
}

static int validate_profile(const store_profile *p, char *err, size_t errlen)
{
    int rc = VT_OK;
    if (p->name)
        rc = validate_name(p->name, err, errlen);
    if (rc == VT_OK && p->description)
        rc = validate_description(p->description, err, errlen);
    if (rc == VT_OK && p->email)
        rc = validate_email(p->email, err, errlen);
    if (rc == VT_OK && p->phone)
        rc = validate_phone(p->phone, err, errlen);
    if (rc == VT_OK && p->website)
        rc = validate_url("website", p->website, err, errlen);
    if (rc == VT_OK && p->profile_image)
        rc = validate_url("profileImage", p->profile_image, err, errlen);
    return rc;
}

/* After a write matched no row: NOT_FOUND, or PERMISSION_DENIED when someone else owns
 * the vendor. */
static int missing_or_foreign(vt_rpc_ctx *ctx, const char *id, const char *verb)
{
    char err[512];
    PGresult *res;
    int rc = store_owner(db(ctx), id, &res, err, sizeof err);
    if (rc != VT_OK)
        return vt_service_db_error(ctx, "vendor store", rc, err);
    bool exists = PQntuples(res) == 1;
    PQclear(res);
    if (!exists)
        return vt_rpc_ctx_error(ctx, VT_NOT_FOUND, "vendor %s not found", id);
    return vt_rpc_ctx_error(ctx, VT_PERMISSION_DENIED, "only the vendor's owner may %s it", verb);
}

/* ---------------------------------------------------------------- methods ---- */

/* The writes, as vendor_write runs them (with their events, in one transaction). */
typedef struct {
    const char *id, *owner;
    const store_profile *profile;
    const store_patch *patch;
} write_args;

static int write_insert(vt_db_conn *c, const void *args, PGresult **res, char *err, size_t errlen)
{
    const write_args *a = args;
    return store_insert(c, a->owner, a->profile, res, err, errlen);
}

static int write_update(vt_db_conn *c, const void *args, PGresult **res, char *err, size_t errlen)
{
    const write_args *a = args;
    return store_update(c, a->id, a->owner, a->patch, res, err, errlen);
}

static int write_delete(vt_db_conn *c, const void *args, PGresult **res, char *err, size_t errlen)
{
    const write_args *a = args;
    return store_delete(c, a->id, a->owner, res, err, errlen);
}

static int create_vendor(vt_rpc_ctx *ctx, vendor_service *svc,
                         const Venta__Vendor__V1__CreateVendorRequest *req, Vendor *out)
{
    const char *owner = NULL;
    if (caller(ctx, &owner) != VT_OK)
        return VT_UNAUTHENTICATED;
    if (*req->owner_id && strcmp(req->owner_id, owner) != 0)
        return vt_rpc_ctx_error(ctx, VT_PERMISSION_DENIED,
                                "ownerId must be the caller's own id (or empty)");
    store_profile p = {.name = req->name,
                       .description = req->description,
                       .email = req->email,
                       .phone = req->phone,
                       .website = req->website,
                       .profile_image = req->profile_image,
                       .is_open = req->is_open};
    char err[512];
    if (validate_profile(&p, err, sizeof err) != VT_OK)
        return invalid(ctx, err);
    PGresult *res;
    write_args a = {.owner = owner, .profile = &p};
    int rc = vendor_write(db(ctx), svc->outbox, svc->profiles, write_insert, &a, VENDOR_CREATED,
                          STORE_IS_OPEN_COLUMN, vt_rpc_ctx_request_id(ctx), &res, err, sizeof err);
    if (rc != VT_OK)
        return vt_service_db_error(ctx, "vendor store", rc, err);
    if (PQntuples(res) == 0) {
        PQclear(res);
        return vt_rpc_ctx_error(ctx, VT_PERMISSION_DENIED, "user %s was deleted", owner);
    }
    store_vendor r;
    store_row(res, 0, &r);
    fill_vendor(ctx, out, &r);
    PQclear(res);
    return VT_OK;
}

typedef struct {
    vt_rpc_ctx *ctx;
    Vendor *out;
} cached_fill;

static void fill_from_cache(const store_vendor *row, void *arg)
{
    cached_fill *f = arg;
    fill_vendor(f->ctx, f->out, row);
}

static int get_vendor(vt_rpc_ctx *ctx, vendor_service *svc,
                      const Venta__Vendor__V1__GetVendorRequest *req, Vendor *out)
{
    int idrc = check_id(ctx, req->id);
    if (idrc != VT_OK)
        return idrc;
    uint64_t epoch = 0;
    profile_ticket ticket = {0};
    if (svc->profiles) {
        epoch = profile_sync_epoch(svc->sync);
        cached_fill f = {ctx, out};
        if (profile_cache_lookup(svc->profiles, req->id, epoch, fill_from_cache, &f, &ticket))
            return VT_OK;
    }
    char err[512];
    PGresult *res;
    int rc = store_get(db(ctx), req->id, &res, err, sizeof err);
    if (rc != VT_OK || PQntuples(res) == 0) {
        if (svc->profiles)
            profile_cache_release(svc->profiles, req->id, ticket);
        if (rc != VT_OK)
            return vt_service_db_error(ctx, "vendor store", rc, err);
        PQclear(res);
        return vt_rpc_ctx_error(ctx, VT_NOT_FOUND, "vendor %s not found", req->id);
    }
    store_vendor r;
    store_row(res, 0, &r);
    fill_vendor(ctx, out, &r);
    if (svc->profiles)
        profile_cache_put(svc->profiles, req->id, epoch, ticket, &r);
    PQclear(res);
    return VT_OK;
}

int vendor_update(vt_rpc_ctx *ctx, vendor_service *svc,
                  const Venta__Vendor__V1__UpdateVendorRequest *req, Vendor *out)
{
    const char *owner = NULL;
    if (caller(ctx, &owner) != VT_OK)
        return VT_UNAUTHENTICATED;
    int idrc = check_id(ctx, req->id);
    if (idrc != VT_OK)
        return idrc;
    store_patch p = {
        .has_name = req->opt_name_case == VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_NAME_NAME,
        .has_description = req->opt_description_case ==
                           VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_DESCRIPTION_DESCRIPTION,
        .has_email =
            req->opt_email_case == VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_EMAIL_EMAIL,
        .has_phone =
            req->opt_phone_case == VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_PHONE_PHONE,
        .has_website =
            req->opt_website_case == VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_WEBSITE_WEBSITE,
        .has_profile_image =
            req->opt_profile_image_case ==
            VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_PROFILE_IMAGE_PROFILE_IMAGE,
        .has_is_open =
            req->opt_is_open_case == VENTA__VENDOR__V1__UPDATE_VENDOR_REQUEST__OPT_IS_OPEN_IS_OPEN,
    };
    p.v.name = p.has_name ? req->name : NULL;
    p.v.description = p.has_description ? req->description : NULL;
    p.v.email = p.has_email ? req->email : NULL;
    p.v.phone = p.has_phone ? req->phone : NULL;
    p.v.website = p.has_website ? req->website : NULL;
    p.v.profile_image = p.has_profile_image ? req->profile_image : NULL;
    p.v.is_open = p.has_is_open && req->is_open;
    char err[512];
    if (validate_profile(&p.v, err, sizeof err) != VT_OK)
        return invalid(ctx, err);

    bool any = p.has_name || p.has_description || p.has_email || p.has_phone || p.has_website ||
               p.has_profile_image || p.has_is_open;
    PGresult *res;
    store_vendor r = {0};
    write_args a = {.id = req->id, .owner = owner, .patch = &p};
    int rc =
        any ? vendor_write(db(ctx), svc->outbox, svc->profiles, write_update, &a, VENDOR_UPDATED,
                           STORE_IS_OPEN_COLUMN, vt_rpc_ctx_request_id(ctx), &res, err, sizeof err)
            : store_get(db(ctx), req->id, &res, err, sizeof err);
    if (rc != VT_OK)
        return vt_service_db_error(ctx, "vendor store", rc, err);
    if (PQntuples(res) == 1)
        store_row(res, 0, &r);
    if (PQntuples(res) == 0 || (!any && strcmp(r.owner_id, owner) != 0)) {
        PQclear(res);
        return missing_or_foreign(ctx, req->id, "update");
    }
    fill_vendor(ctx, out, &r);
    PQclear(res);
    return VT_OK;
}

static int delete_vendor(vt_rpc_ctx *ctx, vendor_service *svc,
                         const Venta__Vendor__V1__DeleteVendorRequest *req,
                         Venta__Vendor__V1__DeleteVendorResponse *out)
{
    const char *owner = NULL;
    if (caller(ctx, &owner) != VT_OK)
        return VT_UNAUTHENTICATED;
    int idrc = check_id(ctx, req->id);
    if (idrc != VT_OK)
        return idrc;
    char err[512];
    PGresult *res;
    write_args a = {.id = req->id, .owner = owner};
    int rc = vendor_write(db(ctx), svc->outbox, svc->profiles, write_delete, &a, VENDOR_DELETED,
                          STORE_DELETED_IS_OPEN_COLUMN, vt_rpc_ctx_request_id(ctx), &res, err,
                          sizeof err);
    if (rc != VT_OK)
        return vt_service_db_error(ctx, "vendor store", rc, err);
    if (PQntuples(res) == 0) {
        PQclear(res);
        return missing_or_foreign(ctx, req->id, "delete");
    }
    out->id = vt_rpc_ctx_strdup(ctx, PQgetvalue(res, 0, 0));
    PQclear(res);
    return VT_OK;
}

/* Rows of res (at most limit of them) into a repeated Vendor field. */
static void vendors_from_rows(vt_rpc_ctx *ctx, PGresult *res, int limit, size_t *n_out,
                              Vendor ***out)
{
    int n = PQntuples(res) < limit ? PQntuples(res) : limit;
    *out = n ? vt_rpc_ctx_alloc(ctx, (size_t)n * sizeof **out) : NULL;
    for (int i = 0; i < n; i++) {
        store_vendor r;
        store_row(res, i, &r);
        (*out)[i] = new_vendor(ctx, &r);
    }
    *n_out = (size_t)n;
}

/* The token that continues after row (limit - 1) when the query returned more. */
static char *next_token(vt_rpc_ctx *ctx, PGresult *res, int limit, char kind, uint64_t fp)
{
    if (PQntuples(res) <= limit)
        return (char *)"";
    store_vendor r;
    store_row(res, limit - 1, &r);
    page_token t = {.kind = kind, .fingerprint = fp};
    snprintf(t.key, sizeof t.key, "%s", r.created_key);
    snprintf(t.id, sizeof t.id, "%s", r.id);
    char *out = vt_rpc_ctx_alloc(ctx, PAGE_TOKEN_MAX);
    if (page_token_encode(&t, out, PAGE_TOKEN_MAX) != VT_OK)
        return (char *)"";
    return out;
}

static int list_vendors(vt_rpc_ctx *ctx, vendor_service *svc,
                        const Venta__Vendor__V1__ListVendorsRequest *req,
                        Venta__Vendor__V1__ListVendorsResponse *out)
{
    (void)svc;
    char err[512];
    if (*req->owner_id && validate_owner_id("ownerId", req->owner_id, err, sizeof err) != VT_OK)
        return invalid(ctx, err);
    int limit = DEFAULT_PAGE;
    if (check_page_size(ctx, "pageSize", req->page_size, &limit) != VT_OK)
        return VT_INVALID_ARGUMENT;
    const char *parts[] = {"list", req->owner_id, NULL};
    uint64_t fp = page_fingerprint(parts);
    page_token t = {0};
    bool after = *req->page_token != '\0';
    if (after && page_token_decode(req->page_token, 'L', &t) != VT_OK)
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT, "pageToken is malformed");
    if (after && t.fingerprint != fp)
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT,
                                "pageToken belongs to a different ownerId");
    PGresult *res;
    int rc = store_list(db(ctx), req->owner_id, after ? t.key : NULL, after ? t.id : NULL,
                        limit + 1, &res, err, sizeof err);
    if (rc != VT_OK)
        return vt_service_db_error(ctx, "vendor store", rc, err);
    vendors_from_rows(ctx, res, limit, &out->n_vendors, &out->vendors);
    out->next_page_token = next_token(ctx, res, limit, 'L', fp);
    PQclear(res);
    return VT_OK;
}

typedef Venta__Vendor__V1__SearchVendorsRequest SearchRequest;
typedef Venta__Vendor__V1__HighlightedText HighlightedText;

/* Position, radius and box of a search into r; INVALID_ARGUMENT answered otherwise. */
static int search_area(vt_rpc_ctx *ctx, const SearchRequest *req, search_request *r)
{
#define HAS(field, FIELD)                                                                          \
    (req->opt_##field##_case == VENTA__VENDOR__V1__SEARCH_VENDORS_REQUEST__OPT_##FIELD##_##FIELD)
    int point = HAS(lat, LAT) + HAS(lng, LNG);
    bool radius = HAS(radius_meters, RADIUS_METERS);
    int box = HAS(ne_lat, NE_LAT) + HAS(ne_lng, NE_LNG) + HAS(sw_lat, SW_LAT) + HAS(sw_lng, SW_LNG);
#undef HAS
    if (point == 1 || (radius && point != 2))
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT,
                                "lat and lng must be given together, and radiusMeters with them");
    if (box != 0 && box != 4)
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT,
                                "neLat, neLng, swLat and swLng must be given together");
    if (point == 2) {
        if (!vt_geo_point_valid(req->lat, req->lng))
            return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT,
                                    "lat must be in [-90, 90] and lng in [-180, 180]");
        if (radius && !(req->radius_meters > 0 && req->radius_meters <= MAX_RADIUS_M))
            return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT,
                                    "radiusMeters must be more than 0 and at most %.0f",
                                    MAX_RADIUS_M);
        r->near = true;
        r->lat = req->lat, r->lng = req->lng;
        r->radius_m = radius ? req->radius_meters : 0;
    }
    if (box == 4) {
        if (!vt_geo_point_valid(req->ne_lat, req->ne_lng) ||
            !vt_geo_point_valid(req->sw_lat, req->sw_lng) || req->sw_lat > req->ne_lat)
            return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT,
                                    "the box needs latitudes in [-90, 90] with swLat <= neLat "
                                    "and longitudes in [-180, 180]");
        r->box = true;
        r->ne_lat = req->ne_lat, r->ne_lng = req->ne_lng;
        r->sw_lat = req->sw_lat, r->sw_lng = req->sw_lng;
    }
    return VT_OK;
}

static HighlightedText *highlight(vt_rpc_ctx *ctx, const char *text, const search_query *q,
                                  const search_highlight_opts *o)
{
    HighlightedText *h = vt_rpc_ctx_alloc(ctx, sizeof *h);
    venta__vendor__v1__highlighted_text__init(h);
    vt_buf b = VT_BUF_INIT;
    search_highlight_result r;
    if (search_highlight(text, q, o, &b, &r) && vt_buf_putc(&b, '\0')) {
        h->value = vt_rpc_ctx_strdup(ctx, b.data);
        h->match_level = (char *)search_match_level_name(r.level);
        h->fully_highlighted = r.fully_highlighted;
        h->matched_words = vt_rpc_ctx_alloc(ctx, q->n * sizeof *h->matched_words + 1);
        for (size_t i = 0; i < q->n; i++)
            if (r.matched[i])
                h->matched_words[h->n_matched_words++] = vt_rpc_ctx_strdup(ctx, q->words[i]);
    }
    vt_buf_free(&b);
    return h;
}

/* The page's vendors and their matches. */
static void search_hits(vt_rpc_ctx *ctx, const SearchRequest *req, const search_result *sr,
                        Venta__Vendor__V1__SearchVendorsResponse *out)
{
    int n = sr->res ? PQntuples(sr->res) : 0;
    vendors_from_rows(ctx, sr->res, n, &out->n_vendors, &out->vendors);
    out->matches = n ? vt_rpc_ctx_alloc(ctx, (size_t)n * sizeof *out->matches) : NULL;
    search_highlight_opts o = {"<em>", "</em>", true};
    if (*req->highlight_pre_tag || *req->highlight_post_tag)
        o = (search_highlight_opts){req->highlight_pre_tag, req->highlight_post_tag, false};
    for (int i = 0; i < n; i++) {
        store_search_hit h;
        store_search_row(sr->res, i, &h);
        Venta__Vendor__V1__SearchMatch *m = vt_rpc_ctx_alloc(ctx, sizeof *m);
        venta__vendor__v1__search_match__init(m);
        m->name = highlight(ctx, out->vendors[i]->name, &sr->query, &o);
        m->description = highlight(ctx, out->vendors[i]->description, &sr->query, &o);
        m->typos = h.typos;
        if (h.has_distance) {
            m->opt_distance_meters_case =
                VENTA__VENDOR__V1__SEARCH_MATCH__OPT_DISTANCE_METERS_DISTANCE_METERS;
            m->distance_meters = h.distance_m;
        }
        out->matches[i] = m;
    }
    out->n_matches = (size_t)n;
    out->total = (int32_t)(sr->total > INT32_MAX ? INT32_MAX : sr->total);
    out->total_estimated = sr->estimated;
}

static int search_vendors(vt_rpc_ctx *ctx, vendor_service *svc, const SearchRequest *req,
                          Venta__Vendor__V1__SearchVendorsResponse *out)
{
    char err[512];
    if (validate_query(req->q, err, sizeof err) != VT_OK)
        return invalid(ctx, err);
    search_request r = {.q = req->q,
                        .open_now = req->open_now,
                        .online_window_s = req->online_now ? svc->online_window_s : 0,
                        .plan = svc->search};
    if (search_area(ctx, req, &r) != VT_OK)
        return VT_INVALID_ARGUMENT;
    if (check_page_size(ctx, "limit", req->limit, &r.limit) != VT_OK)
        return VT_INVALID_ARGUMENT;
    if (req->page < 0)
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT, "page must not be negative");
    if (strlen(req->highlight_pre_tag) > 64 || strlen(req->highlight_post_tag) > 64)
        return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT,
                                "highlightPreTag and highlightPostTag are 64 bytes at most");
    char where[256];
    snprintf(where, sizeof where, "%d|%.17g|%.17g|%.17g|%d|%.17g|%.17g|%.17g|%.17g|%d|%d|%d",
             r.near, r.lat, r.lng, r.radius_m, r.box, r.sw_lat, r.sw_lng, r.ne_lat, r.ne_lng,
             r.open_now, req->online_now, r.limit);
    const char *parts[] = {"search", req->q, where, NULL};
    uint64_t fp = page_fingerprint(parts);
    long offset = req->page > 0 ? (long)req->page * r.limit : 0;
    if (*req->cursor) {
        page_token t = {0};
        char *end = NULL;
        if (page_token_decode(req->cursor, 'S', &t) != VT_OK ||
            (offset = strtol(t.key, &end, 10), !end || *end || offset < 0))
            return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT, "cursor is malformed");
        if (t.fingerprint != fp)
            return vt_rpc_ctx_error(ctx, VT_INVALID_ARGUMENT,
                                    "cursor belongs to a different search");
    }
    r.offset = offset > SEARCH_HITS_MAX ? SEARCH_HITS_MAX : (int)offset;
    search_result sr;
    int rc = search_engine_run(db(ctx), &r, &sr, err, sizeof err);
    if (rc != VT_OK)
        return vt_service_db_error(ctx, "vendor store", rc, err);
    search_hits(ctx, req, &sr, out);
    out->next_cursor = "";
    if (r.offset + (long)out->n_vendors < sr.total && r.offset + r.limit < SEARCH_HITS_MAX &&
        out->n_vendors > 0) {
        page_token t = {.kind = 'S', .fingerprint = fp};
        snprintf(t.key, sizeof t.key, "%ld", (long)r.offset + r.limit);
        snprintf(t.id, sizeof t.id, "%s", out->vendors[0]->id);
        char *next = vt_rpc_ctx_alloc(ctx, PAGE_TOKEN_MAX);
        if (page_token_encode(&t, next, PAGE_TOKEN_MAX) == VT_OK)
            out->next_cursor = next;
    }
    PQclear(sr.res);
    return VT_OK;
}

/* ------------------------------------------------------------- registration ---- */

VENDOR_TYPED_HANDLER(create_vendor, Venta__Vendor__V1__CreateVendorRequest, Vendor)
VENDOR_TYPED_HANDLER(get_vendor, Venta__Vendor__V1__GetVendorRequest, Vendor)
VENDOR_TYPED_HANDLER(vendor_update, Venta__Vendor__V1__UpdateVendorRequest, Vendor)
VENDOR_TYPED_HANDLER(delete_vendor, Venta__Vendor__V1__DeleteVendorRequest,
                     Venta__Vendor__V1__DeleteVendorResponse)
VENDOR_TYPED_HANDLER(list_vendors, Venta__Vendor__V1__ListVendorsRequest,
                     Venta__Vendor__V1__ListVendorsResponse)
VENDOR_TYPED_HANDLER(search_vendors, Venta__Vendor__V1__SearchVendorsRequest,
                     Venta__Vendor__V1__SearchVendorsResponse)

int vendor_service_register(vendor_service *app, vt_service *svc)
{
    app->outbox = svc->outbox;
    static const vt_rpc_method_entry table[] = {
        {"CreateVendor", create_vendor_call, 0, NULL},
        /* Not VT_RPC_NONBLOCKING, even on a cache hit: the hit is checked against the
         * bus's connection epoch (profile_sync_epoch), read from nats.c under its
         * connection lock, which nats.c holds while it dials a lost server (up to the
         * 2 s connect timeout). A worker with the turn must never wait on that. */
        {"GetVendor", get_vendor_call, 0, NULL},
        {"UpdateVendor", vendor_update_call, 0, NULL},
        {"DeleteVendor", delete_vendor_call, 0, NULL},
        {"ListVendors", list_vendors_call, 0, NULL},
        {"SearchVendors", search_vendors_call, 0, NULL},
        {NULL, NULL, 0, NULL},
    };
    return vt_service_add_methods(svc, &venta__vendor__v1__vendor_service__descriptor, table, app);
}
