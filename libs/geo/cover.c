/*
 * cover.c — the cells of one precision that cover a box, and the choice of precision.
 *
 * A viewer's box becomes one NATS subscription per cell, so a cover must be complete
 * (every point the box contains encodes into one of its cells, or the viewer misses that
 * vendor), small (the caller caps it) and stable (sorted, so that a node can diff the
 * old and new cover when a viewer pans and touch only the subscriptions that changed).
 *
 * At a fixed precision the cells meeting a box form a rectangle of row and column indices:
 * rows from the row of sw.lat to the row of ne.lat, columns from the column of sw.lng to
 * that of ne.lng. The corners are quantized with the very function that encodes points,
 * and quantizing is monotonic, so completeness needs no epsilon. A box that crosses the
 * antimeridian takes two column ranges, [col(sw.lng), last] and [0, col(ne.lng)], merged
 * into one when they meet (a box that wraps almost the whole way round), so no cell is
 * listed twice. Latitudes need no special case: validation keeps them in [-90, 90] and
 * the pole rows include ±90, so a polar box is just the top or bottom rows. Counting is
 * O(1) in 64-bit arithmetic (at most 2^60 cells at precision 12), which is how the finest
 * precision that fits max_cells is found without ever enumerating a too-large cover.
 */
#include "vt_geo.h"

#include "geo_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint32_t lo, hi; /* inclusive column indices */
} col_range;

typedef struct {
    int precision;
    vt_geo_ix ix; /* bit widths; row and col are scratch */
    uint32_t row_lo, row_hi;
    col_range cols[2];
    int ncols;
    uint64_t count;
} plan;

static void plan_make(const vt_geo_box *box, int precision, plan *p)
{
    p->precision = precision;
    vt_geo_ix_bits(precision, &p->ix.lat_bits, &p->ix.lng_bits);
    uint32_t last_col = (uint32_t)(((uint64_t)1 << p->ix.lng_bits) - 1);
    p->row_lo = vt_geo_ix_quantize(box->sw.lat, -90.0, 90.0, p->ix.lat_bits);
    p->row_hi = vt_geo_ix_quantize(box->ne.lat, -90.0, 90.0, p->ix.lat_bits);
    uint32_t west = vt_geo_ix_quantize(box->sw.lng, -180.0, 180.0, p->ix.lng_bits);
    uint32_t east = vt_geo_ix_quantize(box->ne.lng, -180.0, 180.0, p->ix.lng_bits);
    if (box->sw.lng <= box->ne.lng) {
        p->cols[0] = (col_range){west, east};
        p->ncols = 1;
    } else if ((uint64_t)east + 1 >= west) {
        /* The two ranges touch or overlap: every column. */
        p->cols[0] = (col_range){0, last_col};
        p->ncols = 1;
    } else {
        p->cols[0] = (col_range){0, east};
        p->cols[1] = (col_range){west, last_col};
        p->ncols = 2;
    }
    uint64_t width = 0;
    for (int i = 0; i < p->ncols; i++)
        width += (uint64_t)p->cols[i].hi - p->cols[i].lo + 1;
    p->count = ((uint64_t)p->row_hi - p->row_lo + 1) * width;
}

static int cell_cmp(const void *a, const void *b)
{
    return strcmp(((const vt_geo_cell *)a)->hash, ((const vt_geo_cell *)b)->hash);
}

/* Write the plan's cells (count <= capacity of cells), sorted. */
static size_t plan_emit(plan *p, vt_geo_cell *cells)
{
    size_t n = 0;
    for (uint64_t row = p->row_lo; row <= p->row_hi; row++) {
        for (int i = 0; i < p->ncols; i++) {
            for (uint64_t col = p->cols[i].lo; col <= p->cols[i].hi; col++) {
                p->ix.row = (uint32_t)row;
                p->ix.col = (uint32_t)col;
                vt_geo_ix_format(&p->ix, p->precision, cells[n++].hash);
            }
        }
    }
    /* Geohash order is Z-order, not row order, hence the sort. Cells are distinct by
     * construction (disjoint ranges), so sorting is all "deduplicated" needs. */
    qsort(cells, n, sizeof *cells, cell_cmp);
    return n;
}

static int fail(size_t *ncells, int *precision, int status)
{
    if (ncells)
        *ncells = 0;
    if (precision)
        *precision = 0;
    return status;
}

int vt_geo_cover_at(const vt_geo_box *box, int precision, size_t max_cells, vt_geo_cell *cells,
                    size_t *ncells)
{
    if (!vt_geo_box_valid(box) || precision < 1 || precision > VT_GEO_HASH_MAX || max_cells == 0 ||
        !cells || !ncells)
        return fail(ncells, NULL, VT_INVALID_ARGUMENT);
    plan p;
    plan_make(box, precision, &p);
    if (p.count > max_cells)
        return fail(ncells, NULL, VT_OUT_OF_RANGE);
    *ncells = plan_emit(&p, cells);
    return VT_OK;
}

int vt_geo_cover(const vt_geo_box *box, size_t max_cells, vt_geo_cell *cells, size_t *ncells,
                 int *precision)
{
    if (!vt_geo_box_valid(box) || max_cells == 0 || !cells || !ncells || !precision)
        return fail(ncells, precision, VT_INVALID_ARGUMENT);
    /* Counts only grow with precision, so the first that fits from the finest down is the
     * finest that fits. */
    for (int prec = VT_GEO_COVER_MAX_PRECISION; prec >= 1; prec--) {
        plan p;
        plan_make(box, prec, &p);
        if (p.count <= max_cells) {
            *ncells = plan_emit(&p, cells);
            *precision = prec;
            return VT_OK;
        }
    }
    return fail(ncells, precision, VT_OUT_OF_RANGE);
}
