/*
 * hmap.h — the small intrusive hash table behind fanout.c's cell and vendor tables.
 * Entries embed an hnode; the table only links them, so a lookup allocates nothing.
 */
#ifndef VENTA_WS_HMAP_H
#define VENTA_WS_HMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct hnode {
    struct hnode *next;
    uint64_t hash;
    const char *key; /* points into the entry */
} hnode;

typedef struct {
    hnode **buckets;
    size_t nbuckets, count;
} hmap;

uint64_t hmap_hash(const char *key);
hnode *hmap_get(const hmap *m, const char *key, uint64_t hash);
int hmap_put(hmap *m, hnode *n); /* n->key and n->hash set by the caller */
void hmap_del(hmap *m, hnode *n);
void hmap_free(hmap *m);
/* Iterate: for (hnode *n = hmap_first(m, &i); n; n = hmap_next(m, n, &i)) */
hnode *hmap_first(const hmap *m, size_t *i);
hnode *hmap_next(const hmap *m, hnode *n, size_t *i);

#endif
