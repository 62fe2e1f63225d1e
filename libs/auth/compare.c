/*
 * compare.c — constant-time comparison of secrets.
 *
 * Webhook signatures and the RevenueCat Authorization value are compared without
 * letting the time taken reveal how many leading bytes matched, which would let an
 * attacker recover a secret byte by byte. The loop runs over the length of the
 * expected value (argument b) whatever the other input is, so only public facts (the
 * expected length, whether the offered value is empty) shape the timing; a length
 * mismatch is folded into the accumulated difference instead of returning early.
 * The volatile accesses keep the compiler from turning the loop into memcmp or from
 * short-circuiting it.
 */
#include "vt_auth.h"

#include <string.h>

bool vt_auth_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    const volatile unsigned char *pa = a;
    const volatile unsigned char *pb = b;
    volatile unsigned diff = (unsigned)(alen != blen);
    size_t ai = 0;

    if ((alen && !a) || (blen && !b))
        return false;
    for (size_t i = 0; i < blen; i++) {
        /* When a is shorter, wrap around it: the read pattern stays in bounds and the
         * result is already "different" through the length term. */
        unsigned char x = alen ? pa[ai] : 0;
        diff |= (unsigned)(x ^ pb[i]);
        ai = (ai + 1 == alen) ? 0 : ai + 1;
    }
    return diff == 0;
}

bool vt_auth_bearer_equal(const char *header_value, const char *configured)
{
    if (!header_value || !configured || !configured[0])
        return false;
    return vt_auth_ct_equal(header_value, strlen(header_value), configured, strlen(configured));
}
