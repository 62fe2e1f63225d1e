/*
 * profile_cache.c — see profile_cache.h.
 *
 * A slot's `gen` counts forgets of every id that maps to it; a ticket is that count,
 * so a put after a forget of the same slot is refused (a forget of another id in the
 * same slot refuses it too, which only costs a later miss). A row's strings are copied
 * into one allocation owned by the slot.
 *
 * Single flight: a miss claims its slot's fill (fill_id, fill_ns) unless another caller
 * is already reading the same vendor; then it waits on the stripe's condition variable
 * for that read to be put (or released) and looks again, so concurrent misses on a hot
 * entry at expiry cost one query, not one per caller. A claim older than FILL_WAIT_MS
 * counts as abandoned (its reader is stuck or gone): nobody waits on it, and the next
 * miss claims the slot again.
 */
#include "profile_cache.h"

#include "vt_core.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define STRIPES 64
#define FILL_WAIT_MS 1000

typedef struct {
    char id[VT_UUID_LEN + 1]; /* "" when empty */
    uint64_t gen, epoch;
    int64_t read_ns;
    store_vendor row; /* strings point into blob */
    char *blob;
    char fill_id[VT_UUID_LEN + 1]; /* a caller is reading this id ("" when none) */
    int64_t fill_ns;               /* since when */
} slot;

struct profile_cache {
    slot *slots;
    size_t mask;
    int64_t ttl_ns;
    pthread_mutex_t locks[STRIPES];
    pthread_cond_t filled[STRIPES]; /* a fill of a slot of this stripe ended */
    vt_counter *hits, *misses, *forgotten, *fill_waits;
};

/* The lowercase key of id into key[VT_UUID_LEN + 1]; false for ids that cannot be
 * cached (empty or longer than a UUID). */
static bool key_of(const char *id, char *key)
{
    size_t n = strlen(id);
    if (n == 0 || n > VT_UUID_LEN)
        return false;
    for (size_t i = 0; i <= n; i++)
        key[i] = (id[i] >= 'A' && id[i] <= 'Z') ? (char)(id[i] - 'A' + 'a') : id[i];
    return true;
}

static size_t slot_of(const profile_cache *pc, const char *key)
{
    uint64_t h = vt_hash_str(key);
    return (size_t)(h ^ (h >> 29)) & pc->mask;
}

static pthread_mutex_t *lock_of(profile_cache *pc, size_t i)
{
    return &pc->locks[i % STRIPES];
}

profile_cache *profile_cache_new(size_t slots, int ttl_ms, vt_metrics *metrics)
{
    size_t n = 1;
    while (n < slots && n < ((size_t)1 << 30))
        n <<= 1;
    profile_cache *pc = calloc(1, sizeof *pc);
    if (!pc)
        return NULL;
    pc->slots = calloc(n, sizeof *pc->slots);
    if (!pc->slots) {
        free(pc);
        return NULL;
    }
    pc->mask = n - 1;
    pc->ttl_ns = (int64_t)ttl_ms * 1000000;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* vt_monotonic_ns's clock */
    for (int i = 0; i < STRIPES; i++) {
        pthread_mutex_init(&pc->locks[i], NULL);
        pthread_cond_init(&pc->filled[i], &ca);
    }
    pthread_condattr_destroy(&ca);
    if (metrics) {
        pc->hits = vt_metrics_counter(metrics, "venta_vendor_profile_cache_hits_total",
                                      "GetVendor calls answered from the profile cache.", NULL);
        pc->misses = vt_metrics_counter(metrics, "venta_vendor_profile_cache_misses_total",
                                        "GetVendor calls that read the table.", NULL);
        pc->forgotten = vt_metrics_counter(
            metrics, "venta_vendor_profile_cache_forgotten_total",
            "Vendors forgotten by the profile cache (a write here, or an evt.vendor.* event).",
            NULL);
        pc->fill_waits = vt_metrics_counter(metrics, "venta_vendor_profile_cache_fill_waits_total",
                                            "GetVendor misses that waited for another call's read "
                                            "of the same vendor (single flight).",
                                            NULL);
    }
    return pc;
}

void profile_cache_free(profile_cache *pc)
{
    if (!pc)
        return;
    for (size_t i = 0; i <= pc->mask; i++)
        free(pc->slots[i].blob);
    for (int i = 0; i < STRIPES; i++) {
        pthread_mutex_destroy(&pc->locks[i]);
        pthread_cond_destroy(&pc->filled[i]);
    }
    free(pc->slots);
    free(pc);
}

/* Whether the slot holds key, fresh and read under epoch. Under the slot's lock. */
static bool fresh(const profile_cache *pc, const slot *s, const char *key, uint64_t epoch,
                  int64_t now)
{
    return s->blob && s->epoch == epoch && now - s->read_ns < pc->ttl_ns && strcmp(s->id, key) == 0;
}

/* Whether another caller's read of key into s is under way. Under the slot's lock. */
static bool being_filled(const slot *s, const char *key, int64_t now)
{
    return s->fill_id[0] && now - s->fill_ns < (int64_t)FILL_WAIT_MS * 1000000 &&
           strcmp(s->fill_id, key) == 0;
}

/* The ticket for a read of key into slot i, claiming its fill when nobody else's is
 * under way. Under the slot's lock. */
static profile_ticket take_ticket(slot *s, const char *key, int64_t now)
{
    profile_ticket t = {.gen = s->gen, .read_ns = now, .fills = false};
    if (!s->fill_id[0] || now - s->fill_ns >= (int64_t)FILL_WAIT_MS * 1000000) {
        memcpy(s->fill_id, key, VT_UUID_LEN + 1);
        s->fill_ns = now;
        t.fills = true;
    }
    return t;
}

/* A hit (use called) or a miss, waiting first for another caller's fill of key when
 * wait; *ticket (when not NULL) is then taken in the same locked section. */
static bool look(profile_cache *pc, const char *id, uint64_t epoch,
                 void (*use)(const store_vendor *row, void *arg), void *arg, bool wait,
                 profile_ticket *ticket)
{
    char key[VT_UUID_LEN + 1];
    if (ticket)
        *ticket = (profile_ticket){.gen = 0, .read_ns = vt_monotonic_ns()};
    if (!key_of(id, key)) {
        vt_counter_inc(pc->misses);
        return false;
    }
    size_t i = slot_of(pc, key);
    slot *s = &pc->slots[i];
    int64_t now = vt_monotonic_ns(), deadline = now + (int64_t)FILL_WAIT_MS * 1000000;
    bool hit = false, waited = false;
    pthread_mutex_lock(lock_of(pc, i));
    for (;;) {
        hit = epoch != 0 && fresh(pc, s, key, epoch, now);
        if (hit || !wait || epoch == 0 || !being_filled(s, key, now) || now >= deadline)
            break;
        struct timespec until = {.tv_sec = deadline / 1000000000, .tv_nsec = deadline % 1000000000};
        pthread_cond_timedwait(&pc->filled[i % STRIPES], lock_of(pc, i), &until);
        waited = true;
        now = vt_monotonic_ns();
    }
    if (hit)
        use(&s->row, arg);
    else if (ticket)
        *ticket = take_ticket(s, key, now);
    pthread_mutex_unlock(lock_of(pc, i));
    vt_counter_inc(hit ? pc->hits : pc->misses);
    if (waited)
        vt_counter_inc(pc->fill_waits);
    return hit;
}

bool profile_cache_get(profile_cache *pc, const char *id, uint64_t epoch,
                       void (*use)(const store_vendor *row, void *arg), void *arg)
{
    return look(pc, id, epoch, use, arg, false, NULL);
}

bool profile_cache_lookup(profile_cache *pc, const char *id, uint64_t epoch,
                          void (*use)(const store_vendor *row, void *arg), void *arg,
                          profile_ticket *ticket)
{
    return look(pc, id, epoch, use, arg, true, ticket);
}

profile_ticket profile_cache_ticket(profile_cache *pc, const char *id)
{
    profile_ticket t = {.gen = 0, .read_ns = vt_monotonic_ns()};
    char key[VT_UUID_LEN + 1];
    if (!key_of(id, key))
        return t;
    size_t i = slot_of(pc, key);
    pthread_mutex_lock(lock_of(pc, i));
    t = take_ticket(&pc->slots[i], key, t.read_ns);
    pthread_mutex_unlock(lock_of(pc, i));
    return t;
}

/* End t's claim on slot i, waking whoever waits for it. Under the slot's lock. */
static void end_fill(profile_cache *pc, size_t i, const char *key, profile_ticket t)
{
    slot *s = &pc->slots[i];
    if (t.fills && strcmp(s->fill_id, key) == 0 && s->fill_ns == t.read_ns) {
        s->fill_id[0] = '\0';
        pthread_cond_broadcast(&pc->filled[i % STRIPES]);
    }
}

void profile_cache_release(profile_cache *pc, const char *id, profile_ticket ticket)
{
    char key[VT_UUID_LEN + 1];
    if (!ticket.fills || !key_of(id, key))
        return;
    size_t i = slot_of(pc, key);
    pthread_mutex_lock(lock_of(pc, i));
    end_fill(pc, i, key, ticket);
    pthread_mutex_unlock(lock_of(pc, i));
}

/* Copy of s with its pointer moved into the blob at *at. */
static const char *copy_into(char **at, const char *s)
{
    size_t n = strlen(s) + 1;
    memcpy(*at, s, n);
    const char *out = *at;
    *at += n;
    return out;
}

void profile_cache_put(profile_cache *pc, const char *id, uint64_t epoch, profile_ticket ticket,
                       const store_vendor *row)
{
    char key[VT_UUID_LEN + 1];
    if (epoch == 0 || !key_of(id, key)) {
        profile_cache_release(pc, id, ticket);
        return;
    }
    const char *strings[] = {row->id,          row->owner_id,   row->name,      row->description,
                             row->email,       row->phone,      row->website,   row->profile_image,
                             row->location_at, row->created_at, row->updated_at};
    size_t size = 0;
    for (size_t k = 0; k < sizeof strings / sizeof *strings; k++)
        size += strlen(strings[k]) + 1;
    char *blob = malloc(size), *at = blob;
    if (!blob) {
        profile_cache_release(pc, id, ticket);
        return; /* a miss later, nothing worse */
    }
    store_vendor copy = *row;
    copy.id = copy_into(&at, row->id);
    copy.owner_id = copy_into(&at, row->owner_id);
    copy.name = copy_into(&at, row->name);
    copy.description = copy_into(&at, row->description);
    copy.email = copy_into(&at, row->email);
    copy.phone = copy_into(&at, row->phone);
    copy.website = copy_into(&at, row->website);
    copy.profile_image = copy_into(&at, row->profile_image);
    copy.location_at = copy_into(&at, row->location_at);
    copy.created_at = copy_into(&at, row->created_at);
    copy.updated_at = copy_into(&at, row->updated_at);
    copy.created_key = ""; /* List's key: not a GetVendor's */

    size_t i = slot_of(pc, key);
    slot *s = &pc->slots[i];
    pthread_mutex_lock(lock_of(pc, i));
    if (s->gen == ticket.gen) {
        char *old = s->blob;
        memcpy(s->id, key, sizeof key);
        s->epoch = epoch;
        s->read_ns = ticket.read_ns;
        s->row = copy;
        s->blob = blob;
        blob = old;
    }
    end_fill(pc, i, key, ticket);
    pthread_mutex_unlock(lock_of(pc, i));
    free(blob); /* the refused copy, or the entry it replaced */
}

void profile_cache_forget(profile_cache *pc, const char *id)
{
    char key[VT_UUID_LEN + 1];
    if (!pc || !key_of(id, key))
        return;
    size_t i = slot_of(pc, key);
    slot *s = &pc->slots[i];
    char *old = NULL;
    pthread_mutex_lock(lock_of(pc, i));
    s->gen++;
    if (s->blob && strcmp(s->id, key) == 0) {
        old = s->blob;
        s->blob = NULL;
        s->id[0] = '\0';
    }
    pthread_mutex_unlock(lock_of(pc, i));
    free(old);
    vt_counter_inc(pc->forgotten);
}
