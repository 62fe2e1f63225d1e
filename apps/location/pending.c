/*
 * pending.c — see pending.h. A fixed array of entries linked in arrival order (a
 * doubly linked list through indices, so eviction and removal are O(1)) and an
 * open-addressing index from vendor id to entry (linear probing, backward-shift
 * deletion, so no tombstones accumulate). Everything is allocated once at start:
 * memory is bounded by construction.
 */
#include "pending.h"

#include <stdlib.h>
#include <string.h>

#define NIL UINT32_MAX

typedef struct {
    loc_update u;
    uint32_t prev, next; /* arrival order */
    uint32_t slot;       /* where the index points at us */
} entry;

struct pending {
    entry *entries;
    uint32_t *slots; /* entry index or NIL; size is a power of two >= 2 * capacity */
    size_t nslots;
    size_t capacity, count;
    uint32_t head, tail; /* oldest, newest */
    uint32_t free_list;  /* through .next */
};

static uint64_t hash_id(const char *id)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 1099511628211ULL;
    return h;
}

pending *pending_new(size_t capacity)
{
    if (capacity == 0 || capacity > (1u << 30))
        return NULL;
    pending *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->capacity = capacity;
    p->nslots = 16;
    while (p->nslots < capacity * 2)
        p->nslots <<= 1;
    p->entries = malloc(capacity * sizeof *p->entries);
    p->slots = malloc(p->nslots * sizeof *p->slots);
    if (!p->entries || !p->slots) {
        pending_free(p);
        return NULL;
    }
    for (size_t i = 0; i < p->nslots; i++)
        p->slots[i] = NIL;
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
    free(p->slots);
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

/* Slot holding id, or the empty slot where it would go. */
static size_t find_slot(const pending *p, const char *id)
{
    size_t mask = p->nslots - 1;
    size_t s = hash_id(id) & mask;
    while (p->slots[s] != NIL && strcmp(p->entries[p->slots[s]].u.vendor_id, id) != 0)
        s = (s + 1) & mask;
    return s;
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

/* Remove the index slot s, shifting later members of its probe run back. */
static void delete_slot(pending *p, size_t s)
{
    size_t mask = p->nslots - 1;
    size_t hole = s;
    p->slots[hole] = NIL;
    for (size_t j = (hole + 1) & mask; p->slots[j] != NIL; j = (j + 1) & mask) {
        size_t home = hash_id(p->entries[p->slots[j]].u.vendor_id) & mask;
        /* Move j into the hole unless its home lies cyclically in (hole, j]. */
        bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
        if (!stays) {
            p->slots[hole] = p->slots[j];
            p->entries[p->slots[hole]].slot = (uint32_t)hole;
            p->slots[j] = NIL;
            hole = j;
        }
    }
}

static void remove_entry(pending *p, uint32_t e)
{
    unlink_order(p, e);
    delete_slot(p, p->entries[e].slot);
    p->entries[e].next = p->free_list;
    p->free_list = e;
    p->count--;
}

static pending_result put(pending *p, const loc_update *u, bool may_drop, uint64_t *dropped)
{
    size_t s = find_slot(p, u->vendor_id);
    if (p->slots[s] != NIL) {
        entry *x = &p->entries[p->slots[s]];
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
        s = find_slot(p, u->vendor_id); /* the removal may have shifted the run */
    }
    uint32_t e = p->free_list;
    p->free_list = p->entries[e].next;
    p->entries[e].u = *u;
    p->entries[e].slot = (uint32_t)s;
    p->slots[s] = e;
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
