/*
 * venta-vendor — vendor profiles: VendorService over gRPC (API.md §5), vendor images
 * (MediaService, media_handlers.c: decoded here, on workers that may block), the domain
 * events evt.vendor.* (§6), the last-known location cache fed by loc.>, and the
 * clean-up of a deleted user's vendors from evt.user.deleted.
 *
 * Configuration (besides vt_service's VENTA_DATABASE_URL, VENTA_NATS_URL,
 * VENTA_METRICS_ADDR (127.0.0.1:9102), VENTA_RPC_THREADS, VENTA_SHUTDOWN_GRACE_MS,
 * VENTA_LOG_LEVEL): VENTA_VENDOR_ADDR (127.0.0.1:50052);
 * VENTA_VENDOR_LOCATION_INTERVAL_MS (5000) how often, at most, a vendor's last-known
 * location is written; VENTA_VENDOR_LOCATION_BUFFER (100000) vendors whose position
 * may wait for that write; VENTA_VENDOR_CACHE_ENTRIES (16384, 0 turns it off) vendors
 * GetVendor keeps in memory and VENTA_VENDOR_CACHE_TTL_MS (1000, at most 60000) how long
 * it may serve one (profile_cache.h); VENTA_VENDOR_ONLINE_WINDOW_S (40) how recent a
 * vendor's last live position must be for SearchVendors' onlineNow (the presence TTL
 * of 30 s, plus the location cache's interval, plus slack);
 * VENTA_VENDOR_SEARCH_PLAN (paths) `paths` or `aggregate`, how SearchVendors ranks
 * (search_engine.h); VENTA_VENDOR_SEARCH_WALK_MIN (2000, 0 never) the postings above
 * which a one-word search walks its best tier in recency order and
 * VENTA_VENDOR_SEARCH_WALK_BUDGET (4000) the vendors such a walk looks at, at most.
 *
 * Stop order on SIGTERM: the gRPC server drains (vt_service_run), then the consumers
 * stop — the location cache writes what it holds, deleted users still queued are
 * processed — while NATS is still up to carry their events, the profile cache stops
 * listening, then vt_service_free drains NATS and frees the rest.
 */
#include "handlers.h"
#include "location_cache.h"
#include "media_handlers.h"
#include "profile_cache.h"
#include "profile_sync.h"
#include "publish.h"
#include "store.h"
#include "user_events.h"
#include "vt_service.h"

int main(void)
{
    vt_service_opts spec = {
        .name = "venta-vendor",
        .addr_var = "VENTA_VENDOR_ADDR",
        .addr_default = "127.0.0.1:50052",
        .metrics_default = "127.0.0.1:9102",
        .statements = store_statements,
        .outbox_table = VENDOR_OUTBOX_TABLE,
        /* Image uploads (MediaService) are up to 10 MiB; every other message is small. */
        .max_message_bytes = MEDIA_MAX_MESSAGE,
    };
    spec.nstatements = store_nstatements;
    location_cache_opts lo = {
        .interval_ms = (int)vt_config_int("VENTA_VENDOR_LOCATION_INTERVAL_MS", 5000, 10, 3600000),
        .capacity = (size_t)vt_config_int("VENTA_VENDOR_LOCATION_BUFFER", 100000, 100, 10000000),
    };
    long cache_entries = vt_config_int("VENTA_VENDOR_CACHE_ENTRIES", 16384, 0, 1 << 24);
    /* At most a minute: the TTL bounds how stale a location another replica wrote may
     * look (profile_cache.h). */
    int cache_ttl_ms = (int)vt_config_int("VENTA_VENDOR_CACHE_TTL_MS", 1000, 1, 60000);
    double online_window_s = (double)vt_config_int("VENTA_VENDOR_ONLINE_WINDOW_S", 40, 1, 3600);
    static const char *const search_plans[] = {"paths", "aggregate", NULL};
    search_plan search = SEARCH_PLAN_DEFAULT;
    search.aggregate = vt_config_choice("VENTA_VENDOR_SEARCH_PLAN", "paths", search_plans) == 1;
    search.walk_min = vt_config_int("VENTA_VENDOR_SEARCH_WALK_MIN", search.walk_min, 0, 100000000);
    search.walk_budget =
        vt_config_int("VENTA_VENDOR_SEARCH_WALK_BUDGET", search.walk_budget, 1, 100000000);
    vt_service *svc = NULL;
    char err[256];
    if (vt_service_new(&spec, &svc, err, sizeof err) != VT_OK) {
        vt_error(NULL, "%s", err);
        return 1;
    }

    vt_db_pool_set_session_sql(svc->db, store_session_sql);
    static vendor_service app; /* the handlers' state: lives as long as main */
    app.online_window_s = online_window_s;
    app.search = search;
    if (vendor_service_register(&app, svc) != VT_OK) {
        vt_error(NULL, "cannot register VendorService");
        return 1;
    }
    static media_service media;
    if (media_service_register(&media, &app, svc, err, sizeof err) != VT_OK) {
        vt_error(NULL, "MediaService: %s", err);
        return 1;
    }
    profile_cache *profiles = NULL;
    profile_sync *sync = NULL;
    if (cache_entries > 0) {
        profiles = profile_cache_new((size_t)cache_entries, cache_ttl_ms, svc->metrics);
        if (!profiles ||
            profile_sync_start(svc->bus, profiles, svc->metrics, &sync, err, sizeof err) != VT_OK) {
            vt_error(NULL, "profile cache: %s", profiles ? err : "out of memory");
            return 1;
        }
    }
    app.profiles = profiles;
    app.sync = sync;
    lo.bus = svc->bus;
    lo.profiles = profiles;
    lo.database_url = svc->database_url;
    lo.metrics = svc->metrics;
    user_events_opts uo = {.bus = svc->bus,
                           .stream = &svc->events,
                           .database_url = svc->database_url,
                           .metrics = svc->metrics,
                           .outbox = svc->outbox,
                           .profiles = profiles};
    location_cache *cache = NULL;
    user_events *users = NULL;
    if (location_cache_start(&lo, &cache, err, sizeof err) != VT_OK) {
        vt_error(NULL, "location cache: %s", err);
        return 1;
    }
    if (user_events_start(&uo, &users, err, sizeof err) != VT_OK) {
        vt_error(NULL, "user events: %s", err);
        return 1;
    }
    int rc = vt_service_run(svc);
    user_events_stop(users);
    location_cache_stop(cache);
    profile_sync_stop(sync);
    media_service_free(&media);
    vt_service_free(svc);
    profile_cache_free(profiles);
    return rc;
}
