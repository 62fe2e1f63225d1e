/*
 * hmap.c — an intrusive chained hash table keyed by strings (cells, vendor ids).
 *
 * Entries embed an hnode; the table only links them, so lookups allocate nothing and
 * an entry is found and removed in O(1). Buckets double when the load passes 1.
 */
#include "hmap.h"

#include "vt_core.h"

#include <stdlib.h>
#include <string.h>

uint64_t hmap_hash(const char *key)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return h ^ (h >> 29);
}

hnode *hmap_get(const hmap *m, const char *key, uint64_t hash)
{
    if (!m->nbuckets)
        return NULL;
    for (hnode *n = m->buckets[hash & (m->nbuckets - 1)]; n; n = n->next)
        if (n->hash == hash && strcmp(n->key, key) == 0)
            return n;
    return NULL;
}

static int grow(hmap *m)
{
    size_t nb = m->nbuckets ? m->nbuckets * 2 : 64;
    hnode **b = calloc(nb, sizeof *b);
    if (!b)
        return VT_RESOURCE_EXHAUSTED;
    for (size_t i = 0; i < m->nbuckets; i++) {
        hnode *n = m->buckets[i];
        while (n) {
            hnode *next = n->next;
            n->next = b[n->hash & (nb - 1)];
            b[n->hash & (nb - 1)] = n;
            n = next;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = nb;
    return VT_OK;
}

int hmap_put(hmap *m, hnode *n)
{
    if (m->count + 1 > m->nbuckets && grow(m) != VT_OK)
        return VT_RESOURCE_EXHAUSTED;
    hnode **b = &m->buckets[n->hash & (m->nbuckets - 1)];
    n->next = *b;
    *b = n;
    m->count++;
    return VT_OK;
}

void hmap_del(hmap *m, hnode *n)
{
    for (hnode **p = &m->buckets[n->hash & (m->nbuckets - 1)]; *p; p = &(*p)->next)
        if (*p == n) {
            *p = n->next;
            m->count--;
            return;
        }
}

void hmap_free(hmap *m)
{
    free(m->buckets);
    memset(m, 0, sizeof *m);
}

hnode *hmap_first(const hmap *m, size_t *i)
{
    for (*i = 0; *i < m->nbuckets; (*i)++)
        if (m->buckets[*i])
            return m->buckets[*i];
    return NULL;
}

hnode *hmap_next(const hmap *m, hnode *n, size_t *i)
{
    if (n->next)
        return n->next;
    for ((*i)++; *i < m->nbuckets; (*i)++)
        if (m->buckets[*i])
            return m->buckets[*i];
    return NULL;
}
