/*
 * migration_files.c — reading prisma-free-sql/ into an ordered list of migrations.
 *
 * A migration is a file named NNNN_lower_snake.sql (four digits, then a name). Files
 * are ordered by version; anything else in the folder (seed data, READMEs) is ignored,
 * and a repeated version is an error because the order would be ambiguous. Each file
 * gets the SHA-256 of its exact bytes, which is what schema_migrations records.
 */
#include "vt_db.h"

#include "vt_core.h"

#include <dirent.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIGRATION_MAX_BYTES (4 * 1024 * 1024)

static bool is_migration_name(const char *name)
{
    size_t n = strlen(name);
    if (n < 10 || n >= sizeof(((vt_migration *)0)->name) || strcmp(name + n - 4, ".sql") != 0)
        return false;
    for (int i = 0; i < 4; i++)
        if (name[i] < '0' || name[i] > '9')
            return false;
    if (name[4] != '_')
        return false;
    for (size_t i = 5; i < n - 4; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

static void sha256_hex(const char *data, size_t len, char out[65])
{
    unsigned char digest[32];
    unsigned int dlen = 0;
    EVP_Digest(data, len, digest, &dlen, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const vt_migration *)a)->name, ((const vt_migration *)b)->name);
}

void vt_migration_list_free(vt_migration_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i].sql);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

int vt_migration_list_load(const char *dir, vt_migration_list *out, char *err, size_t errlen)
{
    out->items = NULL;
    out->count = 0;
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "cannot open migrations folder %s", dir);
        return VT_NOT_FOUND;
    }
    size_t cap = 0;
    int rc = VT_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!is_migration_name(e->d_name))
            continue;
        if (out->count == cap) {
            cap = cap ? cap * 2 : 16;
            vt_migration *grown = realloc(out->items, cap * sizeof *grown);
            if (!grown) {
                snprintf(err, errlen, "out of memory");
                rc = VT_RESOURCE_EXHAUSTED;
                goto fail;
            }
            out->items = grown;
        }
        vt_migration *m = &out->items[out->count];
        memset(m, 0, sizeof *m);
        snprintf(m->name, sizeof m->name, "%s", e->d_name);
        memcpy(m->version, e->d_name, 4);
        m->version[4] = '\0';
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len;
        rc = vt_file_read(path, MIGRATION_MAX_BYTES, true, &m->sql, &len, err, errlen);
        if (rc != VT_OK)
            goto fail;
        sha256_hex(m->sql, len, m->checksum);
        out->count++;
    }
    qsort(out->items, out->count, sizeof *out->items, by_name);
    for (size_t i = 1; i < out->count; i++) {
        if (strcmp(out->items[i - 1].version, out->items[i].version) == 0) {
            snprintf(err, errlen, "migrations %s and %s share version %s", out->items[i - 1].name,
                     out->items[i].name, out->items[i].version);
            rc = VT_FAILED_PRECONDITION;
            goto fail;
        }
    }
    closedir(d);
    return VT_OK;
fail:
    closedir(d);
    vt_migration_list_free(out);
    return rc;
}
