/*
 * fanout.c — from NATS to the viewers who should see it.
 *
 * Interest-based routing (DESIGN.md): a viewer's box becomes a bounded set of geohash
 * cells (vt_geo_cover); each cell is one NATS subscription `loc.<tokens>.>` shared by
 * every connection of this process that watches it, refcounted by the connections in
 * its list, and unsubscribed when the last one leaves. watch.vendor works the same
 * with `loc.*.*.*.*.*.*.<id>` per vendor. Status events (`vendor.*.status`) are rare
 * and come from one process-wide subscription. Deletions (`evt.vendor.deleted`) come
 * from the JetStream stream of domain events, through a consumer of this process alone
 * (fanout_nats_consume): one that passed while the NATS connection was down still
 * arrives once it is back (docs/events.md).
 *
 * nats.c calls fanout_on_nats on its threads (the stream's consumer thread calls
 * fanout_on_event); each copies the message into one allocation and hands it to the
 * loop through the handoff queue, which runs fanout_handle in batches. Everything after
 * that is loop-only:
 *
 *  - Local delivery: a position a vendor streams to this process is delivered to its
 *    viewers here as soon as it is published (fanout_local_position), without the NATS
 *    round trip, which was most of the vendor→viewer latency at light load
 *    (docs/benchmarks.md, ninth and eleventh sessions). NATS still brings it back (other
 *    processes need it on the same subjects, and the subscription cannot tell our
 *    messages from theirs); that copy has the ts already seen and is dropped like any
 *    duplicate, counted as an echo.
 *  - Stale updates: each vendor keeps the newest ts seen; an older (or duplicate)
 *    position is dropped. Duplicates are normal: overlapping subscriptions (cells of
 *    two precisions, a cell and a vendor watch) each deliver the same message.
 *    Left-cell copies carry the same ts as their main message and may arrive before
 *    it, so they are tracked with a ts of their own.
 *  - Enter/leave: each viewer knows which vendors are inside its box (the inside set,
 *    a member object linked from both the vendor and the connection). A position is
 *    matched against the exact box (antimeridian included) of every connection in the
 *    cells that are prefixes of the subject's cell, plus every connection that had the
 *    vendor inside: in and was in → location, in and was not → enter, out and was in
 *    → leave. A left-cell copy only ever produces leaves.
 *  - Each outgoing message is encoded at most once per NATS message and shared.
 *  - The cell and vendor tables are fanout_tables: the mesh's vt_index over arrays of
 *    the entries, probed inline (no call per lookup), the hash kept in each entry so
 *    that a probe compares strings only on a full hash match.
 *  - While a viewer waits for its snapshot, its inside set is kept up to date but
 *    nothing is queued for it: snapshot.c merges that live state into the snapshot.
 */
#include "fanout.h"

#include "vt_events.h"
#include "ws_gateway.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define VENDOR_IDLE_MS 120000

typedef struct {
    int64_t t_in_ns;
    vt_trace trace; /* the message's span (libs/bus made it from its traceparent) */
    bool traced;
    uint32_t subject_len, len;
    char data[]; /* subject, NUL, payload */
} nats_item;

/* ---------------------------------------------------------- the cell and vendor tables */

/* Room for one more pointer in an array of n of *cap (doubling). */
static bool grow_ptrs(void *arrp, uint32_t n, uint32_t *cap)
{
    void ***arr = arrp;
    if (n < *cap)
        return true;
    uint32_t nc = *cap ? *cap * 2 : 4;
    void **a = realloc(*arr, nc * sizeof *a);
    if (!a)
        return false;
    *arr = a;
    *cap = nc;
    return true;
}

typedef struct {
    const char *key;
    uint64_t hash;
} table_key;

static bool node_is(const void *ctx, uint32_t e, const void *key)
{
    const fanout_node *n = ((const fanout_table *)ctx)->items[e];
    const table_key *k = key;
    return n->hash == k->hash && strcmp(n->key, k->key) == 0;
}

static uint64_t node_hash(const void *ctx, uint32_t e)
{
    return ((const fanout_table *)ctx)->items[e]->hash;
}

static fanout_node *table_get(const fanout_table *t, const char *key, uint64_t hash)
{
    table_key k = {key, hash};
    uint32_t e = vt_index_find(&t->index, hash, node_is, t, &k);
    return e == VT_INDEX_NONE ? NULL : t->items[e];
}

/* Add n (key and hash set, the key absent), growing at half load. */
static int table_add(fanout_table *t, fanout_node *n)
{
    if (!grow_ptrs(&t->items, t->n, &t->cap))
        return VT_RESOURCE_EXHAUSTED;
    if (vt_index_full(&t->index, 1, 2)) {
        size_t nslots = vt_index_nslots(&t->index) ? vt_index_nslots(&t->index) * 2 : 64;
        int rc = t->index.slots ? vt_index_resize(&t->index, nslots, node_hash, t)
                                : vt_index_init(&t->index, nslots);
        if (rc != VT_OK)
            return rc;
    }
    n->at = t->n;
    t->items[t->n++] = n;
    vt_index_add(&t->index, n->hash, n->at);
    return VT_OK;
}

/* Take n out; the last entry moves into its place. */
static void table_del(fanout_table *t, fanout_node *n)
{
    vt_index_delete(&t->index, vt_index_slot_of(&t->index, n->hash, n->at), node_hash, t);
    fanout_node *last = t->items[--t->n];
    if (last != n) {
        vt_index_renumber(&t->index, vt_index_slot_of(&t->index, last->hash, t->n), n->at);
        last->at = n->at;
        t->items[n->at] = last;
    }
}

static void table_free(fanout_table *t)
{
    vt_index_free(&t->index);
    free(t->items);
    memset(t, 0, sizeof *t);
}

/* The same table for other modules (sio_server.c's sessions by sid): calls, so that
 * the fan-out's own probes above stay inline. */
fanout_node *fanout_table_get(const fanout_table *t, const char *key, uint64_t hash)
{
    return table_get(t, key, hash);
}

int fanout_table_add(fanout_table *t, fanout_node *n)
{
    return table_add(t, n);
}

void fanout_table_del(fanout_table *t, fanout_node *n)
{
    table_del(t, n);
}

void fanout_table_free(fanout_table *t)
{
    table_free(t);
}

/* -------------------------------------------------------------------- vendor table */

ventry *fanout_vendor_get(ws_gateway *g, const char *id, bool create)
{
    uint64_t h = vt_hash_str(id);
    fanout_node *n = table_get(&g->vendors, id, h);
    if (n || !create)
        return (ventry *)n;
    ventry *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    memcpy(v->id, id, VT_UUID_LEN + 1);
    v->node.key = v->id;
    v->node.hash = h;
    v->online = true;
    v->touched_ms = vt_now_ms();
    if (table_add(&g->vendors, &v->node) != VT_OK) {
        free(v);
        return NULL;
    }
    return v;
}

static void ventry_free(ws_gateway *g, ventry *v)
{
    table_del(&g->vendors, &v->node);
    if (v->sub) {
        g->fanout_hooks->unsubscribe(v->sub);
        vt_gauge_add(g->m.vendor_subs, -1);
    }
    free(v->inside);
    free(v->watchers);
    free(v);
}

/* ------------------------------------------------------------------ inside members */

void fanout_member_add(conn *c, ventry *v)
{
    viewer *vw = c->view;
    if (!grow_ptrs(&v->inside, v->ninside, &v->capinside) ||
        !grow_ptrs(&vw->inside, vw->ninside, &vw->capinside))
        return;
    member *m = malloc(sizeof *m);
    if (!m)
        return;
    m->c = c;
    m->v = v;
    m->vi = v->ninside;
    m->ci = vw->ninside;
    v->inside[v->ninside++] = m;
    vw->inside[vw->ninside++] = m;
}

static void member_remove(member *m)
{
    ventry *v = m->v;
    viewer *vw = m->c->view;
    member *last = v->inside[--v->ninside];
    v->inside[m->vi] = last;
    last->vi = m->vi;
    last = vw->inside[--vw->ninside];
    vw->inside[m->ci] = last;
    last->ci = m->ci;
    free(m);
}

static void clear_inside(conn *c)
{
    viewer *vw = c->view;
    while (vw->ninside)
        member_remove(vw->inside[vw->ninside - 1]);
}

/* --------------------------------------------------------------------------- cells */

static cell *cell_get(ws_gateway *g, const char *hash, char *err, size_t errlen)
{
    uint64_t h = vt_hash_str(hash);
    fanout_node *n = table_get(&g->cells, hash, h);
    if (n)
        return (cell *)n;
    cell *ce = calloc(1, sizeof *ce);
    if (!ce)
        return NULL;
    snprintf(ce->hash, sizeof ce->hash, "%s", hash);
    ce->node.key = ce->hash;
    ce->node.hash = h;
    char subject[VT_EVENTS_SUBJECT_MAX];
    if (vt_events_cell_subject(hash, subject, sizeof subject) != VT_OK ||
        g->fanout_hooks->subscribe(g, subject, &ce->sub) != VT_OK ||
        table_add(&g->cells, &ce->node) != VT_OK) {
        if (ce->sub)
            g->fanout_hooks->unsubscribe(ce->sub);
        free(ce);
        snprintf(err, errlen, "cannot subscribe to cell %s", hash);
        return NULL;
    }
    vt_gauge_add(g->m.cells, 1);
    return ce;
}

static bool cell_add_conn(cell *ce, conn *c, cell_ref *ref)
{
    if (!grow_ptrs(&ce->conns, ce->n, &ce->cap))
        return false;
    ref->c = ce;
    ref->idx = ce->n;
    ce->conns[ce->n++] = c;
    return true;
}

static void cell_remove_conn(ws_gateway *g, cell_ref *ref)
{
    cell *ce = ref->c;
    uint32_t last = --ce->n;
    if (ref->idx != last) {
        conn *moved = ce->conns[last];
        ce->conns[ref->idx] = moved;
        viewer *mv = moved->view;
        for (uint32_t i = 0; i < mv->ncells; i++)
            if (mv->cells[i].c == ce) {
                mv->cells[i].idx = ref->idx;
                break;
            }
    }
    if (ce->n == 0) {
        table_del(&g->cells, &ce->node);
        g->fanout_hooks->unsubscribe(ce->sub);
        vt_gauge_add(g->m.cells, -1);
        free(ce->conns);
        free(ce);
    }
}

static viewer *viewer_of(conn *c)
{
    if (!c->view)
        c->view = calloc(1, sizeof *c->view);
    return c->view;
}

int fanout_watch_bounds(conn *c, const vt_geo_box *box, char *err, size_t errlen)
{
    ws_gateway *g = c->g;
    size_t max = (size_t)g->cfg.max_cells, n = 0;
    int precision = 0;
    vt_geo_cell *cells = malloc(max * sizeof *cells);
    cell_ref *refs = calloc(max ? max : 1, sizeof *refs);
    viewer *vw = viewer_of(c);
    if (!cells || !refs || !vw) {
        free(cells);
        free(refs);
        snprintf(err, errlen, "out of memory");
        return VT_INTERNAL;
    }
    int rc = vt_geo_cover(box, max, cells, &n, &precision);
    if (rc != VT_OK) {
        free(cells);
        free(refs);
        snprintf(err, errlen, "the box cannot be covered with %zu cells", max);
        return VT_INVALID_ARGUMENT;
    }
    /* Both lists are sorted: merge, so that a cell in both keeps its place (and its
     * subscription), new cells are added first and old ones released last. */
    uint32_t i = 0, j = 0, k = 0;
    cell_ref *old = vw->cells;
    uint32_t nold = vw->ncells;
    while (i < n || j < nold) {
        int cmp = i >= n ? 1 : j >= nold ? -1 : strcmp(cells[i].hash, old[j].c->hash);
        if (cmp == 0) {
            refs[k++] = old[j++];
            i++;
        } else if (cmp < 0) {
            cell *ce = cell_get(g, cells[i].hash, err, errlen);
            if (ce && cell_add_conn(ce, c, &refs[k]))
                k++;
            i++;
        } else {
            j++;
        }
    }
    /* Install the new list before releasing the old cells: cell_remove_conn fixes up
     * indices through moved->view->cells, which must hold this conn's current refs. */
    vw->cells = refs;
    vw->ncells = k;
    for (j = 0; j < nold; j++) {
        bool kept = false;
        for (uint32_t r = 0; r < k && !kept; r++)
            kept = refs[r].c == old[j].c;
        if (!kept)
            cell_remove_conn(g, &old[j]);
    }
    free(old);
    free(cells);
    clear_inside(c);
    vw->box = *box;
    vw->has_box = true;
    vw->snapshot_pending = true;
    vw->snapshot_seq++;
    return VT_OK;
}

/* ------------------------------------------------------------------ vendor watches */

int fanout_watch_vendor(conn *c, const char *vendor_id, char *err, size_t errlen)
{
    ws_gateway *g = c->g;
    viewer *vw = viewer_of(c);
    if (!vw)
        return VT_INTERNAL;
    for (uint32_t i = 0; i < vw->nwatched; i++)
        if (strcmp(vw->watched[i]->id, vendor_id) == 0)
            return VT_OK; /* already watched: idempotent */
    if (vw->nwatched >= (uint32_t)g->cfg.max_watched_vendors) {
        snprintf(err, errlen, "at most %d watched vendors per connection",
                 g->cfg.max_watched_vendors);
        return VT_RESOURCE_EXHAUSTED;
    }
    ventry *v = fanout_vendor_get(g, vendor_id, true);
    ventry **w = v ? realloc(vw->watched, (vw->nwatched + 1) * sizeof *w) : NULL;
    if (!w || !grow_ptrs(&v->watchers, v->nwatchers, &v->capwatchers)) {
        if (w)
            vw->watched = w;
        snprintf(err, errlen, "out of memory");
        return VT_INTERNAL;
    }
    vw->watched = w;
    if (!v->sub) {
        char subject[VT_EVENTS_SUBJECT_MAX];
        snprintf(subject, sizeof subject, "loc.*.*.*.*.*.*.%s", vendor_id);
        if (g->fanout_hooks->subscribe(g, subject, &v->sub) != VT_OK) {
            snprintf(err, errlen, "cannot subscribe to vendor %s", vendor_id);
            return VT_INTERNAL;
        }
        vt_gauge_add(g->m.vendor_subs, 1);
    }
    v->watchers[v->nwatchers++] = c;
    vw->watched[vw->nwatched++] = v;
    return VT_OK;
}

static void unwatch(ws_gateway *g, conn *c, uint32_t idx)
{
    viewer *vw = c->view;
    ventry *v = vw->watched[idx];
    vw->watched[idx] = vw->watched[--vw->nwatched];
    for (uint32_t i = 0; i < v->nwatchers; i++)
        if (v->watchers[i] == c) {
            v->watchers[i] = v->watchers[--v->nwatchers];
            break;
        }
    if (v->nwatchers == 0 && v->sub) {
        g->fanout_hooks->unsubscribe(v->sub);
        v->sub = NULL;
        vt_gauge_add(g->m.vendor_subs, -1);
    }
    v->touched_ms = vt_now_ms();
}

int fanout_unwatch_vendor(conn *c, const char *vendor_id, char *err, size_t errlen)
{
    viewer *vw = c->view;
    for (uint32_t i = 0; vw && i < vw->nwatched; i++)
        if (strcmp(vw->watched[i]->id, vendor_id) == 0) {
            unwatch(c->g, c, i);
            return VT_OK;
        }
    snprintf(err, errlen, "vendor %s is not watched", vendor_id);
    return VT_INVALID_ARGUMENT;
}

void fanout_conn_gone(conn *c)
{
    viewer *vw = c->view;
    if (!vw)
        return;
    clear_inside(c);
    while (vw->ncells) {
        /* Remove from the end so that the fix-ups in cell_remove_conn see valid refs. */
        cell_ref ref = vw->cells[--vw->ncells];
        cell_remove_conn(c->g, &ref);
    }
    while (vw->nwatched)
        unwatch(c->g, c, vw->nwatched - 1);
    free(vw->cells);
    free(vw->inside);
    free(vw->watched);
    free(vw);
    c->view = NULL;
}

/* ---------------------------------------------------------------------- delivering */

typedef struct {
    ws_gateway *g;
    ventry *v;
    const vt_events_position *loc;
    int64_t t_in_ns;
    uint64_t seq;
    uint32_t sent; /* messages queued to viewers, for the fix's trace line */
    msgbuf *location, *enter, *leave;
    msgbuf *status; /* after each enter, when the vendor's status is untold (status_untold) */
} delivery;

static msgbuf *lazy(delivery *d, msgbuf **slot, const char *op)
{
    if (!*slot) {
        const vt_events_position *l = d->loc;
        *slot = op ? msg_encode_position(op, l) : msg_encode_leave(d->v->id);
        if (*slot) {
            (*slot)->t_in_ns = d->t_in_ns;
            if (op && strcmp(op, "location") == 0)
                (*slot)->coalesce = d->v;
        }
    }
    return *slot;
}

static void deliver(conn *c, msgbuf *m)
{
    if (m && !(c->view && c->view->snapshot_pending))
        conn_send(c, m);
}

static void deliver_counted(delivery *d, conn *c, msgbuf *m)
{
    if (m && !(c->view && c->view->snapshot_pending)) {
        conn_send(c, m);
        d->sent++;
    }
}

static void consider(delivery *d, conn *c)
{
    viewer *vw = c->view;
    if (!vw || !vw->has_box || c->state >= CONN_CLOSING)
        return;
    const vt_events_position *l = d->loc;
    bool now_in = vt_geo_box_contains(&vw->box, l->lat, l->lng);
    bool was_in = c->mark_in == d->seq;
    if (now_in && !l->left_cell) {
        if (!was_in) {
            fanout_member_add(c, d->v);
            deliver_counted(d, c, lazy(d, &d->enter, "enter"));
            if (d->v->status_untold) {
                if (!d->status && (d->status = msg_encode_status(d->v->id, d->v->online)))
                    d->status->t_in_ns = d->t_in_ns;
                deliver_counted(d, c, d->status);
            }
        } else {
            deliver_counted(d, c, lazy(d, &d->location, "location"));
        }
        c->mark_sent = d->seq;
    } else if (!now_in && was_in) {
        for (uint32_t i = 0; i < d->v->ninside; i++)
            if (d->v->inside[i]->c == c) {
                member_remove(d->v->inside[i]);
                break;
            }
        deliver_counted(d, c, lazy(d, &d->leave, NULL));
    }
}

/* A position not delivered: the copy of one delivered locally, or stale. */
static void dropped(ws_gateway *g, const ventry *v, const vt_events_position *l)
{
    vt_counter_inc(l->ts == v->local_ts ? g->m.dropped_echo : g->m.dropped_stale);
}

/* l was decoded from a loc subject: l->cell is the subject's cell (the old one, for a
 * left-cell copy); or it was published here (local: fanout_local_position). */
static void handle_location(ws_gateway *g, const vt_events_position *l, int64_t t_in_ns, bool local)
{
    ventry *v = fanout_vendor_get(g, l->vendor_id, true);
    if (!v)
        return;
    if (l->left_cell) {
        if (l->ts <= v->last_left_ts || l->ts < v->last_ts) {
            dropped(g, v, l);
            return;
        }
        v->last_left_ts = l->ts;
    } else {
        if (v->has_pos && l->ts <= v->last_ts) {
            dropped(g, v, l);
            return;
        }
        v->last_ts = l->ts;
    }
    if (local)
        v->local_ts = l->ts;
    v->pos = *l;
    v->has_pos = true;
    v->touched_ms = vt_now_ms();

    delivery d = {.g = g, .v = v, .loc = l, .t_in_ns = t_in_ns, .seq = ++g->seq};
    for (uint32_t i = 0; i < v->ninside; i++)
        v->inside[i]->c->mark_in = d.seq;
    char prefix[VT_EVENTS_CELL_PRECISION + 1];
    for (int p = 1; p <= VT_EVENTS_CELL_PRECISION; p++) {
        memcpy(prefix, l->cell, (size_t)p);
        prefix[p] = '\0';
        cell *ce = (cell *)table_get(&g->cells, prefix, vt_hash_str(prefix));
        if (!ce)
            continue;
        for (uint32_t i = 0; i < ce->n; i++) {
            conn *c = ce->conns[i];
            if (c->mark_seen == d.seq)
                continue;
            c->mark_seen = d.seq;
            consider(&d, c);
        }
    }
    /* Viewers that had it inside but do not watch the subject's cell: it left them. */
    for (uint32_t i = v->ninside; i-- > 0;) {
        conn *c = v->inside[i]->c;
        if (c->mark_seen == d.seq)
            continue;
        c->mark_seen = d.seq;
        consider(&d, c);
    }
    if (!l->left_cell)
        for (uint32_t i = 0; i < v->nwatchers; i++) {
            conn *c = v->watchers[i];
            if (c->mark_sent != d.seq && c->state < CONN_CLOSING) {
                c->mark_sent = d.seq;
                if (lazy(&d, &d.location, "location")) {
                    conn_send(c, d.location);
                    d.sent++;
                }
            }
        }
    v->status_untold = false;
    /* Following a fix to its viewers (docs/tracing.md): one line per fix and process,
     * never one per delivery, under the fix's span (current: the NATS message's, or the
     * publishing vendor's for a local delivery). */
    const vt_trace *trace = vt_trace_current();
    vt_log_level level = vt_trace_hop_level(trace);
    if (d.sent && trace && vt_log_enabled(level))
        vt_log(level, NULL, "ws: vendor %s fix ts %lld%s to %u viewer messages (%s)", v->id,
               (long long)l->ts, l->left_cell ? " (left its cell)" : "", d.sent,
               local ? "local" : "from NATS");
    msg_unref(d.location);
    msg_unref(d.enter);
    msg_unref(d.leave);
    msg_unref(d.status);
}

static void handle_status(ws_gateway *g, const vt_events_status *st, int64_t t_in_ns)
{
    /* Kept for a vendor not seen here yet: its first position may follow at once (the
     * two travel on different subjects, so either may arrive first). */
    ventry *v = fanout_vendor_get(g, st->vendor_id, true);
    if (!v)
        return;
    if (st->ts < v->status_ts) {
        vt_counter_inc(g->m.dropped_stale);
        return;
    }
    v->status_ts = st->ts;
    v->online = st->online;
    if (!v->has_pos)
        v->status_untold = true;
    if (!v->ninside && !v->nwatchers)
        return;
    msgbuf *m = msg_encode_status(v->id, st->online);
    if (!m)
        return;
    m->t_in_ns = t_in_ns;
    uint64_t seq = ++g->seq;
    for (uint32_t i = 0; i < v->ninside; i++) {
        conn *c = v->inside[i]->c;
        c->mark_seen = seq;
        deliver(c, m);
    }
    for (uint32_t i = 0; i < v->nwatchers; i++) {
        conn *c = v->watchers[i];
        if (c->mark_seen != seq) {
            c->mark_seen = seq;
            conn_send(c, m);
        }
    }
    msg_unref(m);
}

/* A deleted vendor leaves every box it was in, and its streams here end. */
static void handle_deleted(ws_gateway *g, const char *vendor_id)
{
    char id[VT_UUID_LEN + 1];
    for (int i = 0; i <= VT_UUID_LEN; i++)
        id[i] = (char)tolower((unsigned char)vendor_id[i]);
    g->fanout_hooks->vendor_deleted(g, id);
    vt_log_level level = vt_trace_hop_level(vt_trace_current());
    if (vt_log_enabled(level))
        vt_log(level, NULL, "ws: vendor %s deleted: its streams end, its viewers see it leave", id);
    ventry *v = fanout_vendor_get(g, id, false);
    if (!v || !v->ninside)
        return;
    msgbuf *leave = msg_encode_leave(v->id);
    while (v->ninside) {
        conn *c = v->inside[v->ninside - 1]->c;
        member_remove(v->inside[v->ninside - 1]);
        deliver(c, leave);
    }
    msg_unref(leave);
}

void fanout_handle(ws_gateway *g, const char *subject, const void *payload, size_t len,
                   int64_t t_in_ns)
{
    if (strncmp(subject, "loc.", 4) == 0) {
        /* Left-cell copies are handled too: they tell the old cell's viewers it left. */
        vt_events_position l;
        if (vt_events_decode_location(subject, payload, len, &l) != VT_EVENTS_LOC_INVALID)
            handle_location(g, &l, t_in_ns, false);
    } else if (strcmp(subject, VT_EVENTS_VENDOR_DELETED) == 0) {
        char vid[VT_UUID_LEN + 1];
        if (vt_events_decode_deleted(payload, len, vid) == VT_OK)
            handle_deleted(g, vid);
    } else {
        vt_events_status st;
        if (vt_events_decode_status(subject, payload, len, &st) == VT_OK)
            handle_status(g, &st, t_in_ns);
    }
}

/* Would NATS bring this process l (on l->cell)? Only through a subscription: a cell that
 * is a prefix of it, or the vendor's own. */
static bool subscribed(ws_gateway *g, const vt_events_position *l)
{
    const ventry *v = fanout_vendor_get(g, l->vendor_id, false);
    if (v && v->sub)
        return true;
    char prefix[VT_EVENTS_CELL_PRECISION + 1];
    for (int p = 1; p <= VT_EVENTS_CELL_PRECISION && l->cell[p - 1]; p++) {
        memcpy(prefix, l->cell, (size_t)p);
        prefix[p] = '\0';
        if (table_get(&g->cells, prefix, vt_hash_str(prefix)))
            return true;
    }
    return false;
}

void fanout_local_position(ws_gateway *g, const vt_events_position *pos, const char *new_cell,
                           const char *previous_cell, int64_t t_in_ns)
{
    /* Each copy is handled here only where NATS would bring it: the state it leaves
     * (the vendor's newest ts) is then the same as before, only sooner. */
    vt_events_position l = *pos; /* as the subscribers decode it */
    l.left_cell = false;
    snprintf(l.cell, sizeof l.cell, "%s", new_cell);
    if (subscribed(g, &l))
        handle_location(g, &l, t_in_ns, true);
    if (previous_cell && *previous_cell && strcmp(previous_cell, new_cell) != 0) {
        l.left_cell = true;
        snprintf(l.cell, sizeof l.cell, "%s", previous_cell);
        if (subscribed(g, &l))
            handle_location(g, &l, t_in_ns, true);
    }
}

static void handle_item(void *payload, void *user, bool closing)
{
    nats_item *it = payload;
    if (!closing) {
        const vt_trace *outer = vt_trace_set_current(it->traced ? &it->trace : NULL);
        fanout_handle(user, it->data, it->data + it->subject_len + 1, it->len, it->t_in_ns);
        vt_trace_set_current(outer);
    }
    free(it);
}

/* Copy a message (NATS or the stream) and queue it for the loop: false when dropped. */
static bool hand_to_loop(ws_gateway *g, const char *subject, const void *data, size_t len)
{
    size_t slen = strlen(subject);
    nats_item *it = malloc(sizeof *it + slen + 1 + len);
    if (!it) {
        vt_counter_inc(g->m.dropped_nats);
        return false;
    }
    it->t_in_ns = vt_monotonic_ns();
    const vt_trace *trace = vt_trace_current();
    it->traced = trace != NULL;
    if (trace)
        it->trace = *trace;
    it->subject_len = (uint32_t)slen;
    it->len = (uint32_t)len;
    memcpy(it->data, subject, slen + 1);
    memcpy(it->data + slen + 1, data, len);
    vt_counter_inc(g->m.nats_in);
    if (vt_handoff_push(g->handoff, handle_item, it) != VT_OK) {
        vt_counter_inc(g->m.dropped_nats);
        free(it);
        return false;
    }
    return true;
}

void fanout_on_nats(const char *subject, const void *data, size_t len, void *user)
{
    hand_to_loop(user, subject, data, len);
}

vt_bus_verdict fanout_on_event(const char *subject, const void *data, size_t len, void *user)
{
    /* Done once queued: the effect is in this process's memory only, and a restart
     * reads the stream from its oldest event again. */
    return hand_to_loop(user, subject, data, len) ? VT_BUS_DONE : VT_BUS_RETRY;
}

int fanout_nats_subscribe(ws_gateway *g, const char *subject, vt_bus_sub **out)
{
    return vt_bus_subscribe(g->bus, subject, NULL, 0, fanout_on_nats, g, out);
}

int fanout_nats_consume(ws_gateway *g, const char *subject, vt_bus_consumer **out)
{
    vt_bus_consumer_opts co = {.stream = &g->cfg.events, /* durable NULL: ours */
                               .subject = subject,
                               .fn = fanout_on_event,
                               .user = g};
    char err[256];
    int rc = vt_bus_consumer_new(g->bus, &co, out, err, sizeof err);
    if (rc != VT_OK)
        vt_error(NULL, "ws: cannot read %s from the stream: %s", subject, err);
    return rc;
}

int fanout_init(ws_gateway *g, const fanout_hooks *hooks)
{
    g->fanout_hooks = hooks;
    int rc = hooks->subscribe(g, VT_EVENTS_STATUS_ALL, &g->status_sub);
    if (rc == VT_OK && hooks->consume)
        rc = hooks->consume(g, VT_EVENTS_VENDOR_DELETED, &g->deleted);
    return rc;
}

void fanout_sweep(ws_gateway *g, int64_t now_ms)
{
    /* From the end: a removal moves the last entry, already seen, into the hole. */
    for (uint32_t i = g->vendors.n; i-- > 0;) {
        ventry *v = (ventry *)g->vendors.items[i];
        if (!v->ninside && !v->nwatchers && now_ms - v->touched_ms > VENDOR_IDLE_MS)
            ventry_free(g, v);
    }
}

void fanout_close(ws_gateway *g)
{
    if (g->status_sub)
        g->fanout_hooks->unsubscribe(g->status_sub);
    g->status_sub = NULL;
    if (g->deleted)
        g->fanout_hooks->stop_consuming(g->deleted);
    g->deleted = NULL;
    while (g->vendors.n)
        ventry_free(g, (ventry *)g->vendors.items[g->vendors.n - 1]);
    table_free(&g->vendors);
    /* Cells die with their last connection; connections are gone by now. */
    for (uint32_t i = 0; i < g->cells.n; i++) {
        cell *ce = (cell *)g->cells.items[i];
        g->fanout_hooks->unsubscribe(ce->sub);
        free(ce->conns);
        free(ce);
    }
    table_free(&g->cells);
}
