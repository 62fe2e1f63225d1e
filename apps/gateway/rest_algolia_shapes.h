/*
 * rest_algolia_shapes.h — Algolia's query API ⇄ SearchVendors (rest_algolia_shapes.c):
 * the bodies of POST /1/indexes/{index}/query and /1/indexes/x/queries (where x is *), the
 * search parameters in them, and the answers in Algolia's shape. Pure: no request, no
 * loop, so tests/unit/gateway checks every mapping and fuzzes the parser.
 *
 * Parameters come either as one URL-encoded string ("params":"query=taco&page=1", as
 * algoliasearch v4 and InstantSearch send them) or as JSON fields (v5), or both (the
 * fields win). Understood: query, page, hitsPerPage, aroundLatLng, aroundRadius,
 * insideBoundingBox, filters (open:true, online:true, joined by AND), highlightPreTag
 * and highlightPostTag; others are accepted and ignored, as clients send many (facets,
 * analytics, clickAnalytics, ...). A value that is understood but wrong is a 400.
 */
#ifndef REST_ALGOLIA_SHAPES_H
#define REST_ALGOLIA_SHAPES_H

#include "venta/vendor/v1/vendor.pb-c.h"
#include "vt_core.h"

#include <stddef.h>
#include <stdint.h>

/* Queries in one multi-query request, at most. */
#define REST_ALGOLIA_QUERIES_MAX 16
/* Algolia's own bound on hitsPerPage. */
#define REST_ALGOLIA_HITS_PER_PAGE_MAX 1000

typedef struct {
    char *index;  /* indexName, as sent */
    char *params; /* the parameters as one URL-encoded string, echoed as "params" */
    char *query;  /* the query text, echoed as "query" */
    int page, hits_per_page;
    /* The request for VendorService.SearchVendors (malloc'd; q is never empty: an empty
     * query is answered without a call, as it matches nothing here). */
    Venta__Vendor__V1__SearchVendorsRequest *req;
} rest_algolia_query;

/* The body of /1/indexes/{index}/query into q. VT_OK, or VT_INVALID_ARGUMENT with the
 * reason in err (q then holds nothing to free). */
int rest_algolia_parse_query(const char *index, const char *body, size_t len, rest_algolia_query *q,
                             char *err, size_t errlen);

/* The body of /1/indexes/x/queries ({"requests":[{indexName, params | fields}...]}) into
 * qs (REST_ALGOLIA_QUERIES_MAX entries), *n of them. Same errors; on error none is left
 * to free. */
int rest_algolia_parse_queries(const char *body, size_t len, rest_algolia_query *qs, size_t *n,
                               char *err, size_t errlen);

void rest_algolia_query_free(rest_algolia_query *q);

/* One result of q in Algolia's shape, appended to out: hits (objectID, the original's
 * vendor fields, _geoloc, _highlightResult), nbHits, page, nbPages, hitsPerPage,
 * exhaustiveNbHits, processingTimeMS, query, params, index. resp NULL: no hits. */
void rest_algolia_result_json(const rest_algolia_query *q,
                              const Venta__Vendor__V1__SearchVendorsResponse *resp,
                              int64_t processing_ms, vt_buf *out);

/* Algolia's error body: {"message":"…","status":N}. */
void rest_algolia_error_json(int status, const char *message, vt_buf *out);

#endif
