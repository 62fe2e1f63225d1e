/*
 * base64.c — strict base64 (RFC 4648 §4, padded) and base64url (§5, unpadded).
 *
 * JWS parts and JWK numbers are base64url without padding; Svix secrets and signatures
 * are standard base64 with padding. Both decoders accept exactly one encoding per byte
 * string: characters outside the alphabet, whitespace, '=' where it does not belong,
 * an impossible length (n % 4 == 1) and non-zero unused bits in the last character are
 * all rejected. That makes tokens non-malleable (a changed character always changes the
 * bytes) and keeps the parsers above from seeing anything surprising. Output buffers
 * are always bounded by the caller's capacity.
 */
#include "vt_auth.h"

static const char std_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t vt_auth_base64_encoded_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

size_t vt_auth_base64url_encoded_len(size_t n)
{
    return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

size_t vt_auth_base64_decoded_max(size_t n)
{
    return n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
}

static int encode(const char *alphabet, bool pad, const unsigned char *in, size_t n, char *out,
                  size_t outcap)
{
    size_t need = pad ? vt_auth_base64_encoded_len(n) : vt_auth_base64url_encoded_len(n);
    size_t o = 0;

    if (!out || outcap == 0)
        return VT_OUT_OF_RANGE;
    if (need >= outcap || (n && !in)) {
        out[0] = '\0';
        return need >= outcap ? VT_OUT_OF_RANGE : VT_INVALID_ARGUMENT;
    }
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
        out[o++] = alphabet[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        if (pad) {
            out[o++] = '=';
            out[o++] = '=';
        }
    } else if (n - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
        if (pad)
            out[o++] = '=';
    }
    out[o] = '\0';
    return VT_OK;
}

int vt_auth_base64_encode(const void *in, size_t n, char *out, size_t outcap)
{
    return encode(std_alphabet, true, in, n, out, outcap);
}

int vt_auth_base64url_encode(const void *in, size_t n, char *out, size_t outcap)
{
    return encode(url_alphabet, false, in, n, out, outcap);
}

/* Value of one character in the alphabet, or -1. */
static int sextet(char c, bool url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -1;
}

static int decode(bool url, const char *in, size_t n, unsigned char *out, size_t outcap,
                  size_t *outlen)
{
    size_t data = n; /* characters carrying bits */

    if (outlen)
        *outlen = 0;
    if (n && !in)
        return VT_INVALID_ARGUMENT;
    if (url) {
        if (n % 4 == 1)
            return VT_INVALID_ARGUMENT;
    } else {
        if (n % 4 != 0)
            return VT_INVALID_ARGUMENT;
        if (n && in[n - 1] == '=')
            data--;
        if (n && data < n && in[n - 2] == '=')
            data--;
    }
    size_t len = data / 4 * 3 + (data % 4 ? data % 4 - 1 : 0);
    if (len > outcap || (len && !out))
        return VT_OUT_OF_RANGE;

    unsigned acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < data; i++) {
        int v = sextet(in[i], url);
        if (v < 0)
            return VT_INVALID_ARGUMENT; /* includes '=' inside the data */
        acc = (acc << 6 | (unsigned)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits & 0xff);
        }
    }
    /* The leftover bits (2 or 4) of a partial quantum must be zero: canonical form. */
    if (bits && (acc & ((1u << bits) - 1)))
        return VT_INVALID_ARGUMENT;
    if (outlen)
        *outlen = o;
    return VT_OK;
}

int vt_auth_base64_decode(const char *in, size_t n, void *out, size_t outcap, size_t *outlen)
{
    return decode(false, in, n, out, outcap, outlen);
}

int vt_auth_base64url_decode(const char *in, size_t n, void *out, size_t outcap, size_t *outlen)
{
    return decode(true, in, n, out, outcap, outlen);
}
