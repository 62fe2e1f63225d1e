/*
 * vt_fuzz.h — the little the libFuzzer targets (tests/unit/<area>/fuzz_*.c) share.
 *
 * A target states its invariants with FUZZ_CHECK: a broken one names itself on stderr
 * and aborts, so libFuzzer saves the input (tests/run-fuzz prints where) and the log
 * says which promise the code under test broke. Inputs are raw bytes; the parsers under
 * test mostly take C strings, hence fuzz_cstr.
 */
#ifndef VT_FUZZ_H
#define VT_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The input as a malloc'd C string (it ends at the first NUL byte, as a C parser sees it). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    FUZZ_CHECK(s != NULL);
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* A reason fit to send to a client as it is: non-empty, printable ASCII only. */
static inline bool fuzz_printable(const char *s)
{
    if (!s[0])
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

#endif
