/*
 * livemap.c — see livemap.h.
 *
 * Layout: vendors live in one array of entries (freed ones chained for reuse), found
 * by id through the mesh's id index (vt_index: linear probing, deletion by backward
 * shift, 4-byte slots), and those with a fresh position are listed by place in a grid
 * of GRID_DEG-degree cells, each cell an array of entry indices (a vendor moving out is
 * swapped with the last one), found by key through a second vt_index; a cell that
 * empties is dropped, so the grid is as big as the live map. Both indexes probe with
 * static callbacks the compiler inlines, so lookups make no indirect call.
 *
 * Every stored vendor has an entry, fresh or not, as every vendor has a row: the rules
 * compare with what is stored (an older position is ignored, an offline applies to a
 * stale row), so forgetting a stale vendor would make the map answer differently from
 * the table when it comes back. Expiry only takes a vendor off the grid.
 *
 * A box query walks the grid cells its rows and columns span, or every cell made so
 * far when that is fewer (a box over a continent), and tests each vendor against the
 * exact box. A radius query does the same over a box around the circle and keeps the
 * nearest `limit` in a max-heap by distance.
 */
#include "livemap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GRID_DEG 0.02    /* ~2.2 km of latitude: a city box spans a few dozen cells */
#define GRID_ROWS 9001u  /* lat -90 .. 90 inclusive */
#define GRID_COLS 18001u /* lng -180 .. 180 inclusive: -180 and 180 stay apart */
#define NONE UINT32_MAX

typedef struct {
    unsigned char id[16];
    double lat, lng;
    float heading, speed, accuracy;
    bool online;
    bool online_known; /* online was decided (live position, presence, a loaded row),
                          not just the default of a vendor first seen without presence */
    bool used;
    bool in_grid;  /* listed in a cell: its position is fresh (not expired) */
    bool deleted;  /* a tombstone: the vendor was deleted; its positions are ignored */
    uint32_t seen; /* the load epoch it was last loaded or positioned in */
    int64_t ts, updated, offline_through;
    uint32_t cell; /* index into cells while in_grid; the next free entry while unused */
    uint32_t slot; /* index in that cell's members */
} entry;

typedef struct {
    uint32_t key;
    uint32_t n;
    size_t cap;
    uint32_t *members;
} cell;

struct livemap {
    entry *entries;
    size_t nentries, entries_cap, count;
    uint32_t free_head;

    vt_index by_id; /* vendor id -> entry; resized at 3/4 load */

    cell *cells;
    size_t ncells, cells_cap;
    vt_index by_key; /* cell key -> cell; resized at 1/2 load */

    uint32_t epoch; /* of the load under way or last done (livemap_begin_load) */
};

/* ---- ids ---- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static bool parse_id(const char *text, unsigned char out[16])
{
    if (!vt_uuid_valid(text))
        return false;
    size_t k = 0;
    for (size_t i = 0; i < VT_UUID_LEN; i += (text[i] == '-') ? 1 : 2) {
        if (text[i] == '-')
            continue;
        out[k++] = (unsigned char)(hexval(text[i]) << 4 | hexval(text[i + 1]));
    }
    return k == 16;
}

static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

/* The id's 16 bytes multiplied and mixed: as well spread as hashing its text
 * (vt_hash_str) and a fraction of the cost, on the hottest path of the map. */
static uint64_t id_hash(const unsigned char id[16])
{
    uint64_t a, b;
    memcpy(&a, id, 8);
    memcpy(&b, id + 8, 8);
    return mix(a * 0x9e3779b97f4a7c15ULL ^ b);
}

static bool entry_is(const void *ctx, uint32_t e, const void *id)
{
    const livemap *m = ctx;
    return memcmp(m->entries[e].id, id, 16) == 0;
}

static uint64_t entry_home(const void *ctx, uint32_t e)
{
    const livemap *m = ctx;
    return id_hash(m->entries[e].id);
}

/* ---- tables ---- */

/* Room for one more item in the array *items of *count items (doubling from first). */
static bool reserve_one(void *items, size_t count, size_t *cap, size_t size, size_t first)
{
    if (count < *cap)
        return true;
    size_t grown_cap = *cap ? *cap * 2 : first;
    void *grown = realloc(*(void **)items, grown_cap * size);
    if (!grown)
        return false;
    *(void **)items = grown;
    *cap = grown_cap;
    return true;
}

static bool id_table_grow(livemap *m)
{
    size_t n = vt_index_nslots(&m->by_id);
    return vt_index_resize(&m->by_id, n ? n * 2 : 1024, entry_home, m) == VT_OK;
}

/* The slot holding id, or the empty slot where it would go. */
static size_t id_slot(const livemap *m, const unsigned char id[16])
{
    return vt_index_seek(&m->by_id, id_hash(id), entry_is, m, id);
}

static entry *find(const livemap *m, const unsigned char id[16])
{
    uint32_t e = vt_index_find(&m->by_id, id_hash(id), entry_is, m, id);
    return e != VT_INDEX_NONE ? &m->entries[e] : NULL;
}

static uint32_t grid_row(double lat)
{
    double r = floor((lat + 90.0) / GRID_DEG);
    return r <= 0 ? 0 : r >= GRID_ROWS - 1 ? GRID_ROWS - 1 : (uint32_t)r;
}

static uint32_t grid_col(double lng)
{
    double c = floor((lng + 180.0) / GRID_DEG);
    return c <= 0 ? 0 : c >= GRID_COLS - 1 ? GRID_COLS - 1 : (uint32_t)c;
}

static uint64_t key_hash(uint32_t key)
{
    return mix((uint64_t)key * 0x9e3779b97f4a7c15ULL);
}

static bool cell_is(const void *ctx, uint32_t ci, const void *key)
{
    const livemap *m = ctx;
    return m->cells[ci].key == *(const uint32_t *)key;
}

static uint64_t cell_home(const void *ctx, uint32_t ci)
{
    const livemap *m = ctx;
    return key_hash(m->cells[ci].key);
}

static const cell *cell_find(const livemap *m, uint32_t key)
{
    uint32_t ci = vt_index_find(&m->by_key, key_hash(key), cell_is, m, &key);
    return ci != VT_INDEX_NONE ? &m->cells[ci] : NULL;
}

/* The index of key's cell, made if new; NONE when out of memory. */
static uint32_t cell_index(livemap *m, uint32_t key)
{
    const cell *c = cell_find(m, key);
    if (c)
        return (uint32_t)(c - m->cells);
    size_t n = vt_index_nslots(&m->by_key);
    if (vt_index_full(&m->by_key, 1, 2) &&
        vt_index_resize(&m->by_key, n ? n * 2 : 1024, cell_home, m) != VT_OK)
        return NONE;
    if (!reserve_one(&m->cells, m->ncells, &m->cells_cap, sizeof *m->cells, 256))
        return NONE;
    m->cells[m->ncells] = (cell){.key = key};
    vt_index_add(&m->by_key, key_hash(key), (uint32_t)m->ncells);
    return (uint32_t)m->ncells++;
}

/* Room for one more member in cell ci. */
static bool cell_reserve(livemap *m, uint32_t ci)
{
    cell *c = &m->cells[ci];
    return reserve_one(&c->members, c->n, &c->cap, sizeof *c->members, 4);
}

static void cell_add(livemap *m, uint32_t ci, uint32_t e)
{
    cell *c = &m->cells[ci];
    m->entries[e].cell = ci;
    m->entries[e].slot = c->n;
    c->members[c->n++] = e;
}

/* Drop empty cell ci: the last cell takes its index (its members are told). */
static void cell_drop(livemap *m, uint32_t ci)
{
    free(m->cells[ci].members);
    vt_index *ix = &m->by_key;
    vt_index_delete(ix, vt_index_slot_of(ix, key_hash(m->cells[ci].key), ci), cell_home, m);
    uint32_t last = (uint32_t)--m->ncells;
    if (ci == last)
        return;
    m->cells[ci] = m->cells[last];
    vt_index_renumber(ix, vt_index_slot_of(ix, key_hash(m->cells[ci].key), last), ci);
    for (uint32_t k = 0; k < m->cells[ci].n; k++)
        m->entries[m->cells[ci].members[k]].cell = ci;
}

/* Take the member at slot out of cell ci (the last member fills the gap); a cell left
 * empty is dropped. */
static void cell_remove(livemap *m, uint32_t ci, uint32_t slot)
{
    cell *c = &m->cells[ci];
    if (slot != --c->n) { /* (the entry leaving may already sit in another cell) */
        uint32_t last = c->members[c->n];
        c->members[slot] = last;
        m->entries[last].slot = slot;
    }
    if (c->n == 0)
        cell_drop(m, ci);
}

static void grid_leave(livemap *m, entry *en)
{
    if (en->in_grid)
        cell_remove(m, en->cell, en->slot);
    en->in_grid = false;
}

/* Put entry e (its lat/lng just set) in its grid cell, moving it when that changed.
 * On failure (out of memory) nothing moved. */
static bool place(livemap *m, uint32_t e)
{
    entry *en = &m->entries[e];
    uint32_t key = grid_row(en->lat) * GRID_COLS + grid_col(en->lng);
    if (en->in_grid && m->cells[en->cell].key == key)
        return true;
    uint32_t ci = cell_index(m, key);
    if (ci == NONE || !cell_reserve(m, ci))
        return false;
    bool was_in = en->in_grid;
    uint32_t old_cell = en->cell, old_slot = en->slot;
    cell_add(m, ci, e); /* first: dropping the old cell may move the new one */
    en->in_grid = true;
    if (was_in)
        cell_remove(m, old_cell, old_slot);
    return true;
}

/* ---- lifetime ---- */

livemap *livemap_new(void)
{
    livemap *m = calloc(1, sizeof *m);
    if (m)
        m->free_head = NONE;
    return m;
}

void livemap_clear(livemap *m)
{
    for (size_t i = 0; i < m->ncells; i++)
        free(m->cells[i].members);
    free(m->cells);
    vt_index_free(&m->by_key);
    vt_index_free(&m->by_id);
    free(m->entries);
    *m = (livemap){.free_head = NONE};
}

void livemap_free(livemap *m)
{
    if (!m)
        return;
    livemap_clear(m);
    free(m);
}

size_t livemap_count(const livemap *m)
{
    return m->count;
}

size_t livemap_cells(const livemap *m)
{
    return m->ncells;
}

/* A new entry for id, in the id table but not yet in the grid; NULL when out of memory. */
static entry *insert(livemap *m, const unsigned char id[16])
{
    if (vt_index_full(&m->by_id, 3, 4) && !id_table_grow(m))
        return NULL;
    uint32_t e;
    if (m->free_head != NONE) {
        e = m->free_head;
        m->free_head = m->entries[e].cell;
    } else {
        if (!reserve_one(&m->entries, m->nentries, &m->entries_cap, sizeof *m->entries, 1024))
            return NULL;
        e = (uint32_t)m->nentries++;
    }
    entry *en = &m->entries[e];
    *en = (entry){.used = true};
    memcpy(en->id, id, 16);
    vt_index_fill(&m->by_id, id_slot(m, id), e);
    m->count++;
    return en;
}

/* Forget en altogether. */
static void release(livemap *m, entry *en)
{
    uint32_t e = (uint32_t)(en - m->entries);
    grid_leave(m, en);
    vt_index_delete(&m->by_id, id_slot(m, en->id), entry_home, m);
    en->used = false;
    en->cell = m->free_head;
    m->free_head = e;
    m->count--;
}

/* Set the position of en and list it by place when `listed` (fresh), else keep it off
 * the grid. When listing fails (out of memory) en is forgotten rather than listed under
 * the wrong cell. */
static bool set_position(livemap *m, entry *en, double lat, double lng, double heading,
                         double speed, double accuracy, int64_t ts, bool listed)
{
    en->lat = lat;
    en->lng = lng;
    en->heading = (float)heading;
    en->speed = (float)speed;
    en->accuracy = (float)accuracy;
    en->ts = ts;
    en->seen = m->epoch;
    if (!listed) {
        grid_leave(m, en);
        return true;
    }
    if (place(m, (uint32_t)(en - m->entries)))
        return true;
    release(m, en);
    return false;
}

/* ---- updates ---- */

bool livemap_put(livemap *m, const vt_events_position *u, int64_t now_ms)
{
    unsigned char id[16];
    if (!parse_id(u->vendor_id, id))
        return true; /* validated upstream; nothing to store */
    entry *en = find(m, id);
    if (en && (en->deleted || u->ts < en->ts))
        return true;
    if (!en && !(en = insert(m, id)))
        return false;
    if (u->live) {
        en->online = en->offline_through == 0 || u->ts > en->offline_through;
        en->online_known = true;
    }
    en->updated = now_ms;
    return set_position(m, en, u->lat, u->lng, u->heading, u->speed, u->accuracy, u->ts, true);
}

void livemap_set_online(livemap *m, const char *vendor_id, bool online, int64_t ts_ms,
                        int64_t last_ts_ms)
{
    unsigned char id[16];
    entry *en = parse_id(vendor_id, id) ? find(m, id) : NULL;
    if (!en || en->deleted)
        return;
    bool applies = online || (last_ts_ms > 0 ? en->ts <= last_ts_ms : en->updated <= ts_ms);
    if (!applies)
        return;
    en->online = online;
    en->online_known = true;
    if (!online && last_ts_ms > 0 && last_ts_ms > en->offline_through)
        en->offline_through = last_ts_ms;
}

bool livemap_remove(livemap *m, const char *vendor_id)
{
    unsigned char id[16];
    if (!parse_id(vendor_id, id))
        return true;
    entry *en = find(m, id);
    if (!en && !(en = insert(m, id)))
        return false;
    grid_leave(m, en);
    en->deleted = true;
    en->online = false;
    en->seen = m->epoch;
    return true;
}

void livemap_begin_load(livemap *m)
{
    m->epoch++;
}

bool livemap_merge_row(livemap *m, const store_live_row *row, int64_t fresh_after_ms)
{
    unsigned char id[16];
    if (!parse_id(row->position.vendor_id, id))
        return true;
    entry *en = find(m, id);
    bool known = en != NULL;
    if (known && en->deleted)
        return true; /* deleted after its row was read */
    if (!en && !(en = insert(m, id)))
        return false;
    if (row->offline_through > en->offline_through)
        en->offline_through = row->offline_through;
    const store_position *p = &row->position;
    if (known && p->ts < en->ts) {
        /* What arrived meanwhile is newer; the row still knows presence better when
         * nothing here decided it, and an offline boundary the row knew may cover the
         * position that arrived. */
        if (!en->online_known)
            en->online = p->online;
        if (en->online && en->ts <= en->offline_through)
            en->online = false;
        en->online_known = true;
        en->seen = m->epoch;
        return true;
    }
    /* The row is newer, or the same position: the table's presence and time stand. */
    if (!known || p->ts > en->ts || !en->online_known)
        en->online = p->online;
    en->online_known = true;
    en->updated = row->updated;
    return set_position(m, en, p->lat, p->lng, p->heading, p->speed, p->accuracy, p->ts,
                        row->updated > fresh_after_ms);
}

size_t livemap_end_load(livemap *m)
{
    size_t dropped = 0;
    for (size_t i = 0; i < m->nentries; i++)
        if (m->entries[i].used && m->entries[i].seen != m->epoch && !m->entries[i].deleted) {
            release(m, &m->entries[i]);
            dropped++;
        }
    return dropped;
}

size_t livemap_expire(livemap *m, int64_t before_ms, size_t cursor, size_t max_visit)
{
    size_t end = cursor + max_visit < m->nentries ? cursor + max_visit : m->nentries;
    for (size_t i = cursor; i < end; i++)
        if (m->entries[i].used && m->entries[i].in_grid && m->entries[i].updated < before_ms)
            grid_leave(m, &m->entries[i]);
    return end < m->nentries ? end : 0;
}

/* ---- reads ---- */

static void to_position(const entry *en, double distance_m, store_position *out)
{
    vt_uuid_format(en->id, out->vendor_id);
    out->lat = en->lat;
    out->lng = en->lng;
    out->heading = en->heading;
    out->speed = en->speed;
    out->accuracy = en->accuracy;
    out->ts = en->ts;
    out->updated = en->updated;
    out->online = en->online;
    out->distance_m = distance_m;
}

bool livemap_get(const livemap *m, const char *vendor_id, int64_t fresh_after_ms,
                 store_position *out)
{
    unsigned char id[16];
    const entry *en = parse_id(vendor_id, id) ? find(m, id) : NULL;
    if (!en || en->deleted || en->updated <= fresh_after_ms)
        return false;
    to_position(en, 0, out);
    return true;
}

typedef struct {
    const livemap *m;
    const vt_geo_box *box; /* one part: does not cross the antimeridian */
    int64_t fresh_after;
    /* VendorsNearby: a circle, and a max-heap of the nearest by distance in out */
    bool radius;
    double lat, lng, radius_m;
    size_t limit, n;
    store_position *out;
} scan;

static void heap_down(store_position *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, big = i;
        if (l < n && h[l].distance_m > h[big].distance_m)
            big = l;
        if (r < n && h[r].distance_m > h[big].distance_m)
            big = r;
        if (big == i)
            return;
        store_position t = h[i];
        h[i] = h[big];
        h[big] = t;
        i = big;
    }
}

static void heap_up(store_position *h, size_t i)
{
    while (i > 0 && h[(i - 1) / 2].distance_m < h[i].distance_m) {
        store_position t = h[i];
        h[i] = h[(i - 1) / 2];
        h[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

/* Consider one vendor; false once a box scan has all it needs. */
static bool consider(scan *s, const entry *en)
{
    if (en->updated <= s->fresh_after || !vt_geo_box_contains(s->box, en->lat, en->lng))
        return true;
    if (!s->radius) {
        to_position(en, 0, &s->out[s->n++]);
        return s->n < s->limit;
    }
    double d;
    if (vt_geo_distance_m(s->lat, s->lng, en->lat, en->lng, &d) != VT_OK || d > s->radius_m)
        return true;
    if (s->n < s->limit) {
        to_position(en, d, &s->out[s->n]);
        heap_up(s->out, s->n++);
    } else if (d < s->out[0].distance_m) {
        to_position(en, d, &s->out[0]);
        heap_down(s->out, s->n, 0);
    }
    return true;
}

static bool scan_cell(scan *s, const cell *c)
{
    for (uint32_t i = 0; i < c->n; i++)
        if (!consider(s, &s->m->entries[c->members[i]]))
            return false;
    return true;
}

/* Every cell the box (not crossing the antimeridian) meets; false when full. */
static bool scan_box(scan *s)
{
    const livemap *m = s->m;
    uint32_t r0 = grid_row(s->box->sw.lat), r1 = grid_row(s->box->ne.lat);
    uint32_t c0 = grid_col(s->box->sw.lng), c1 = grid_col(s->box->ne.lng);
    uint64_t spanned = (uint64_t)(r1 - r0 + 1) * (c1 - c0 + 1);
    if (spanned > m->ncells) {
        for (size_t i = 0; i < m->ncells; i++) {
            uint32_t row = m->cells[i].key / GRID_COLS, col = m->cells[i].key % GRID_COLS;
            if (row >= r0 && row <= r1 && col >= c0 && col <= c1 && !scan_cell(s, &m->cells[i]))
                return false;
        }
        return true;
    }
    for (uint32_t r = r0; r <= r1; r++)
        for (uint32_t c = c0; c <= c1; c++) {
            const cell *found = cell_find(m, r * GRID_COLS + c);
            if (found && !scan_cell(s, found))
                return false;
        }
    return true;
}

static size_t scan_all(scan *s, const vt_geo_box *box)
{
    vt_geo_box parts[2];
    size_t nparts = 0;
    if (s->limit == 0 || vt_geo_box_split_antimeridian(box, parts, &nparts) != VT_OK)
        return 0;
    for (size_t i = 0; i < nparts; i++) {
        s->box = &parts[i];
        if (!scan_box(s))
            break;
    }
    return s->n;
}

size_t livemap_in_bounds(const livemap *m, const vt_geo_box *box, int64_t fresh_after_ms,
                         size_t limit, store_position *out)
{
    scan s = {.m = m, .fresh_after = fresh_after_ms, .limit = limit, .out = out};
    return scan_all(&s, box);
}

static int by_distance(const void *a, const void *b)
{
    double x = ((const store_position *)a)->distance_m, y = ((const store_position *)b)->distance_m;
    return (x > y) - (x < y);
}

size_t livemap_nearby(const livemap *m, double lat, double lng, double radius_m,
                      int64_t fresh_after_ms, size_t limit, store_position *out)
{
    vt_geo_box around;
    if (vt_geo_box_around(lat, lng, radius_m, &around) != VT_OK)
        return 0;
    scan s = {.m = m,
              .fresh_after = fresh_after_ms,
              .radius = true,
              .lat = lat,
              .lng = lng,
              .radius_m = radius_m,
              .limit = limit,
              .out = out};
    size_t n = scan_all(&s, &around);
    qsort(out, n, sizeof *out, by_distance);
    return n;
}
