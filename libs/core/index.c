/*
 * index.c — vt_index, the one open-addressing id index (see vt_core.h).
 *
 * Every table that finds an entry of its own array by key (the live map's vendors and
 * grid cells, the location service's pending buffer, the vendor service's location
 * cache) uses it, so linear probing and backward-shift deletion are written once. The
 * probing is inline in vt_core.h; this file holds what runs rarely: making, emptying
 * and resizing the slot array.
 */
#include "vt_core.h"

#include <stdlib.h>
#include <string.h>

static size_t round_slots(size_t nslots)
{
    size_t n = 16;
    while (n < nslots && n <= SIZE_MAX / 2)
        n <<= 1;
    return n;
}

int vt_index_init(vt_index *ix, size_t nslots)
{
    size_t n = round_slots(nslots);
    *ix = (vt_index){0};
    if (n > SIZE_MAX / sizeof *ix->slots || !(ix->slots = calloc(n, sizeof *ix->slots)))
        return VT_RESOURCE_EXHAUSTED;
    ix->mask = n - 1;
    return VT_OK;
}

void vt_index_free(vt_index *ix)
{
    free(ix->slots);
    *ix = (vt_index){0};
}

void vt_index_clear(vt_index *ix)
{
    if (ix->count)
        memset(ix->slots, 0, (ix->mask + 1) * sizeof *ix->slots);
    ix->count = 0;
}

int vt_index_resize(vt_index *ix, size_t nslots, vt_index_hash_fn hash, const void *ctx)
{
    vt_index grown;
    if (round_slots(nslots) <= ix->count || vt_index_init(&grown, nslots) != VT_OK)
        return VT_RESOURCE_EXHAUSTED;
    for (size_t i = 0; ix->slots && i <= ix->mask; i++)
        if (ix->slots[i])
            vt_index_add(&grown, hash(ctx, ix->slots[i] - 1), ix->slots[i] - 1);
    free(ix->slots);
    *ix = grown;
    return VT_OK;
}
