/*
 * binary.c — decoding result columns sent in PostgreSQL's binary format (see
 * vt_db_query_binary): big-endian fixed-width values, checked for their size so that a
 * statement whose column type drifted decodes as zero instead of reading past a value.
 */
#include "vt_core.h"
#include "vt_db.h"

#include <stdio.h>
#include <string.h>

static const unsigned char *fixed(const PGresult *res, int row, int col, int size)
{
    if (PQgetisnull(res, row, col) || PQgetlength(res, row, col) != size)
        return NULL;
    return (const unsigned char *)PQgetvalue(res, row, col);
}

static uint64_t big_endian64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

double vt_db_bin_float8(const PGresult *res, int row, int col)
{
    const unsigned char *p = fixed(res, row, col, 8);
    if (!p)
        return 0;
    uint64_t bits = big_endian64(p);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

int64_t vt_db_bin_int8(const PGresult *res, int row, int col)
{
    const unsigned char *p = fixed(res, row, col, 8);
    return p ? (int64_t)big_endian64(p) : 0;
}

bool vt_db_bin_bool(const PGresult *res, int row, int col)
{
    const unsigned char *p = fixed(res, row, col, 1);
    return p && p[0] != 0;
}

void vt_db_bin_uuid(const PGresult *res, int row, int col, char *out)
{
    const unsigned char *p = fixed(res, row, col, 16);
    if (p)
        vt_uuid_format(p, out);
    else
        out[0] = '\0';
}
