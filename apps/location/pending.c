/*
 * pending.c — see pending.h. A fixed array of entries linked in arrival order (a
 * doubly linked list through indices, so eviction and removal are O(1)) and the
 * mesh's id index (vt_index: linear probing, backward-shift deletion, so no tombstones
 * accumulate) from vendor id to entry, hashed with vt_hash_str. Everything is
 * allocated once at start, the index at twice the capacity so it never grows: memory
 * is bounded by construction.
 */
#include "pending.h"

#include <stdlib.h>
#include <string.h>

#define NIL UINT32_MAX

typedef struct {
    loc_update u;
    uint32_t prev, next; /* arrival order */
    uint64_t hash;       /* of the vendor id: removal and index shifts skip rehashing */
} entry;

struct pending {
    entry *entries;
    vt_index index; /* vendor id -> entry; at least 2 * capacity slots */
    size_t capacity, count;
    uint32_t head, tail; /* oldest, newest */
    uint32_t free_list;  /* through .next */
};

static bool entry_is(const void *ctx, uint32_t e, const void *id)
{
    const pending *p = ctx;
    return strcmp(p->entries[e].u.vendor_id, id) == 0;
}

static uint64_t entry_hash(const void *ctx, uint32_t e)
{
    const pending *p = ctx;
    return p->entries[e].hash;
}

pending *pending_new(size_t capacity)
{
    if (capacity == 0 || capacity > (1u << 30))
        return NULL;
    pending *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->capacity = capacity;
    p->entries = malloc(capacity * sizeof *p->entries);
    if (!p->entries || vt_index_init(&p->index, capacity * 2) != VT_OK) {
        pending_free(p);
        return NULL;
    }
    for (size_t i = 0; i < capacity; i++)
        p->entries[i].next = i + 1 < capacity ? (uint32_t)(i + 1) : NIL;
    p->free_list = 0;
    p->head = p->tail = NIL;
    return p;
}

void pending_free(pending *p)
{
    if (!p)
        return;
    free(p->entries);
    vt_index_free(&p->index);
    free(p);
}

size_t pending_count(const pending *p)
{
    return p->count;
}

size_t pending_capacity(const pending *p)
{
    return p->capacity;
}

static void unlink_order(pending *p, uint32_t e)
{
    entry *x = &p->entries[e];
    if (x->prev != NIL)
        p->entries[x->prev].next = x->next;
    else
        p->head = x->next;
    if (x->next != NIL)
        p->entries[x->next].prev = x->prev;
    else
        p->tail = x->prev;
}

static void append_order(pending *p, uint32_t e)
{
    entry *x = &p->entries[e];
    x->prev = p->tail;
    x->next = NIL;
    if (p->tail != NIL)
        p->entries[p->tail].next = e;
    else
        p->head = e;
    p->tail = e;
}

static void remove_entry(pending *p, uint32_t e)
{
    unlink_order(p, e);
    size_t s = vt_index_slot_of(&p->index, p->entries[e].hash, e);
    vt_index_delete(&p->index, s, entry_hash, p);
    p->entries[e].next = p->free_list;
    p->free_list = e;
    p->count--;
}

static pending_result put(pending *p, const loc_update *u, bool may_drop, uint64_t *dropped)
{
    uint64_t h = vt_hash_str(u->vendor_id);
    size_t s = vt_index_seek(&p->index, h, entry_is, p, u->vendor_id);
    if (vt_index_at(&p->index, s) != VT_INDEX_NONE) {
        entry *x = &p->entries[vt_index_at(&p->index, s)];
        if (u->ts < x->u.ts)
            return PENDING_STALE;
        x->u = *u; /* keeps its place in arrival order: it has been waiting longest */
        return PENDING_COALESCED;
    }
    if (p->count == p->capacity) {
        if (!may_drop)
            return PENDING_FULL;
        remove_entry(p, p->head);
        if (dropped)
            (*dropped)++;
        /* The removal may have shifted the run. */
        s = vt_index_seek(&p->index, h, entry_is, p, u->vendor_id);
    }
    uint32_t e = p->free_list;
    p->free_list = p->entries[e].next;
    p->entries[e].u = *u;
    p->entries[e].hash = h;
    vt_index_fill(&p->index, s, e);
    append_order(p, e);
    p->count++;
    return PENDING_ADDED;
}

pending_result pending_put(pending *p, const loc_update *u, uint64_t *dropped)
{
    return put(p, u, true, dropped);
}

pending_result pending_put_if_room(pending *p, const loc_update *u)
{
    return put(p, u, false, NULL);
}

size_t pending_take(pending *p, loc_update *out, size_t max)
{
    size_t n = 0;
    while (n < max && p->head != NIL) {
        uint32_t e = p->head;
        out[n++] = p->entries[e].u;
        remove_entry(p, e);
    }
    return n;
}
