/*
 * base64.c — the one base64 decoder (RFC 4648), strict whatever the variant.
 *
 * Two libraries read base64 and neither may depend on the other: libs/auth (JWS parts
 * and JWK numbers in base64url without padding, Svix secrets and signatures in padded
 * standard base64) and libs/json (bytes fields: either alphabet, padding optional, as
 * the proto3 JSON mapping says). So the decoder lives here, below both, and the
 * variant is a flag. Whatever the flags, exactly one encoding per byte string is
 * accepted: characters outside the alphabet, whitespace, '=' where it does not
 * belong, an impossible length and non-zero unused bits in the last character are all
 * rejected. That keeps tokens non-malleable (a changed character always changes the
 * bytes). Encoding stays with its users: each writes one fixed form into its own kind
 * of output.
 */
#include "vt_core.h"

size_t vt_base64_decoded_max(size_t n)
{
    return n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
}

/* Value of one character in the alphabets flags allows, or -1. */
static int sextet(unsigned char c, unsigned flags)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if ((c == '+' && (flags & VT_BASE64_STD)) || (c == '-' && (flags & VT_BASE64_URL)))
        return 62;
    if ((c == '/' && (flags & VT_BASE64_STD)) || (c == '_' && (flags & VT_BASE64_URL)))
        return 63;
    return -1;
}

int vt_base64_decode(const char *in, size_t n, unsigned flags, void *out, size_t outcap,
                     size_t *outlen)
{
    unsigned char *o = out;
    size_t data = n; /* characters carrying bits */

    if (outlen)
        *outlen = 0;
    if (n && !in)
        return VT_INVALID_ARGUMENT;
    if (!(flags & VT_BASE64_NOPAD)) {
        /* At most two '=' end the text, and only a whole last quantum. */
        while (n - data < 2 && data > 0 && in[data - 1] == '=')
            data--;
        if ((data < n || (flags & VT_BASE64_PAD)) && n % 4 != 0)
            return VT_INVALID_ARGUMENT;
    }
    if (data % 4 == 1)
        return VT_INVALID_ARGUMENT;
    size_t len = vt_base64_decoded_max(data);
    if (len > outcap || (len && !out))
        return VT_OUT_OF_RANGE;

    unsigned acc = 0;
    int bits = 0;
    size_t w = 0;
    for (size_t i = 0; i < data; i++) {
        int v = sextet((unsigned char)in[i], flags);
        if (v < 0)
            return VT_INVALID_ARGUMENT; /* includes '=' inside the data */
        acc = (acc << 6 | (unsigned)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            o[w++] = (unsigned char)(acc >> bits & 0xff);
        }
    }
    /* The leftover bits (2 or 4) of a partial quantum must be zero: canonical form. */
    if (bits && (acc & ((1u << bits) - 1)))
        return VT_INVALID_ARGUMENT;
    if (outlen)
        *outlen = w;
    return VT_OK;
}
