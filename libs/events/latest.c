/*
 * latest.c — vt_events_latest, the latest position per vendor (see vt_events.h).
 *
 * The one coalescing table of the mesh: the location ingest's buffer between NATS and
 * PostgreSQL and the vendor service's location cache both keep "the newest position of
 * each vendor, bounded, oldest arrival first", so they share this instead of keeping a
 * table each.
 *
 * A fixed array of entries linked in arrival order (a doubly linked list through
 * indices, so eviction and removal are O(1)) and the mesh's id index (vt_index: linear
 * probing, backward-shift deletion, so no tombstones accumulate) from vendor id to
 * entry, hashed with vt_hash_str. Everything is allocated once, the index at twice the
 * capacity so that it never grows: memory is bounded by construction. Each entry keeps
 * when its vendor arrived; arrival order is time order, so "who has waited an interval"
 * (take_due) is a walk from the head that stops at the first vendor still too young.
 */
#include "vt_events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NIL UINT32_MAX

typedef struct {
    vt_events_position p;
    uint32_t prev, next; /* arrival order */
    uint64_t hash;       /* of the vendor id: removal and index shifts skip rehashing */
    int64_t arrived_ms;  /* when the vendor entered the table (a coalesced one keeps it) */
} entry;

struct vt_events_latest {
    entry *entries;
    vt_index index; /* vendor id -> entry; at least 2 * capacity slots */
    size_t capacity, count;
    uint32_t head, tail; /* oldest, newest */
    uint32_t free_list;  /* through .next */
};

static bool entry_is(const void *ctx, uint32_t e, const void *id)
{
    const vt_events_latest *t = ctx;
    return strcmp(t->entries[e].p.vendor_id, id) == 0;
}

static uint64_t entry_hash(const void *ctx, uint32_t e)
{
    const vt_events_latest *t = ctx;
    return t->entries[e].hash;
}

int vt_events_latest_new(const vt_events_latest_opts *opts, vt_events_latest **out, char *err,
                         size_t errlen)
{
    size_t capacity = opts->capacity;
    *out = NULL;
    if (capacity == 0 || capacity > (1u << 30)) {
        snprintf(err, errlen, "capacity must be 1 to 2^30 vendors, not %zu", capacity);
        return VT_INVALID_ARGUMENT;
    }
    vt_events_latest *t = calloc(1, sizeof *t);
    if (!t || !(t->entries = malloc(capacity * sizeof *t->entries)) ||
        vt_index_init(&t->index, capacity * 2) != VT_OK) {
        vt_events_latest_free(t);
        snprintf(err, errlen, "out of memory for %zu vendor positions", capacity);
        return VT_RESOURCE_EXHAUSTED;
    }
    t->capacity = capacity;
    for (size_t i = 0; i < capacity; i++)
        t->entries[i].next = i + 1 < capacity ? (uint32_t)(i + 1) : NIL;
    t->free_list = 0;
    t->head = t->tail = NIL;
    *out = t;
    return VT_OK;
}

void vt_events_latest_free(vt_events_latest *t)
{
    if (!t)
        return;
    free(t->entries);
    vt_index_free(&t->index);
    free(t);
}

size_t vt_events_latest_count(const vt_events_latest *t)
{
    return t->count;
}

size_t vt_events_latest_capacity(const vt_events_latest *t)
{
    return t->capacity;
}

static void unlink_order(vt_events_latest *t, uint32_t e)
{
    entry *x = &t->entries[e];
    if (x->prev != NIL)
        t->entries[x->prev].next = x->next;
    else
        t->head = x->next;
    if (x->next != NIL)
        t->entries[x->next].prev = x->prev;
    else
        t->tail = x->prev;
}

static void append_order(vt_events_latest *t, uint32_t e)
{
    entry *x = &t->entries[e];
    x->prev = t->tail;
    x->next = NIL;
    if (t->tail != NIL)
        t->entries[t->tail].next = e;
    else
        t->head = e;
    t->tail = e;
}

static void remove_entry(vt_events_latest *t, uint32_t e)
{
    unlink_order(t, e);
    size_t s = vt_index_slot_of(&t->index, t->entries[e].hash, e);
    vt_index_delete(&t->index, s, entry_hash, t);
    t->entries[e].next = t->free_list;
    t->free_list = e;
    t->count--;
}

static vt_events_latest_result put(vt_events_latest *t, const vt_events_position *p,
                                   int64_t arrived_ms, bool may_drop, uint64_t *dropped)
{
    uint64_t h = vt_hash_str(p->vendor_id);
    size_t s = vt_index_seek(&t->index, h, entry_is, t, p->vendor_id);
    if (vt_index_at(&t->index, s) != VT_INDEX_NONE) {
        entry *x = &t->entries[vt_index_at(&t->index, s)];
        if (p->ts < x->p.ts)
            return VT_EVENTS_LATEST_STALE;
        x->p = *p; /* keeps its place in arrival order: it has been waiting longest */
        return VT_EVENTS_LATEST_COALESCED;
    }
    if (t->count == t->capacity) {
        if (!may_drop)
            return VT_EVENTS_LATEST_FULL;
        remove_entry(t, t->head);
        if (dropped)
            (*dropped)++;
        /* The removal may have shifted the run. */
        s = vt_index_seek(&t->index, h, entry_is, t, p->vendor_id);
    }
    uint32_t e = t->free_list;
    t->free_list = t->entries[e].next;
    t->entries[e].p = *p;
    t->entries[e].hash = h;
    t->entries[e].arrived_ms = arrived_ms;
    vt_index_fill(&t->index, s, e);
    append_order(t, e);
    t->count++;
    return VT_EVENTS_LATEST_ADDED;
}

static int64_t monotonic_ms(void)
{
    return vt_monotonic_ns() / 1000000;
}

vt_events_latest_result vt_events_latest_put(vt_events_latest *t, const vt_events_position *p,
                                             uint64_t *dropped)
{
    return put(t, p, monotonic_ms(), true, dropped);
}

vt_events_latest_result vt_events_latest_put_at(vt_events_latest *t, const vt_events_position *p,
                                                int64_t arrived_ms, uint64_t *dropped)
{
    return put(t, p, arrived_ms, true, dropped);
}

vt_events_latest_result vt_events_latest_put_if_room(vt_events_latest *t,
                                                     const vt_events_position *p)
{
    return put(t, p, monotonic_ms(), false, NULL);
}

size_t vt_events_latest_take_due(vt_events_latest *t, int64_t arrived_by_ms,
                                 vt_events_position *out, size_t max)
{
    size_t n = 0;
    while (n < max && t->head != NIL && t->entries[t->head].arrived_ms <= arrived_by_ms) {
        uint32_t e = t->head;
        out[n++] = t->entries[e].p;
        remove_entry(t, e);
    }
    return n;
}

size_t vt_events_latest_take(vt_events_latest *t, vt_events_position *out, size_t max)
{
    return vt_events_latest_take_due(t, INT64_MAX, out, max);
}

bool vt_events_latest_take_vendor(vt_events_latest *t, const char *vendor_id,
                                  vt_events_position *out)
{
    size_t s = vt_index_seek(&t->index, vt_hash_str(vendor_id), entry_is, t, vendor_id);
    uint32_t e = vt_index_at(&t->index, s);
    if (e == VT_INDEX_NONE)
        return false;
    *out = t->entries[e].p;
    remove_entry(t, e);
    return true;
}

int64_t vt_events_latest_oldest_arrival(const vt_events_latest *t)
{
    return t->head != NIL ? t->entries[t->head].arrived_ms : -1;
}
