/*
 * base64.c — strict base64 (RFC 4648 §4, padded) and base64url (§5, unpadded).
 *
 * JWS parts and JWK numbers are base64url without padding; Svix secrets and signatures
 * are standard base64 with padding. Both decoders accept exactly one encoding per byte
 * string: characters outside the alphabet, whitespace, '=' where it does not belong,
 * an impossible length (n % 4 == 1) and non-zero unused bits in the last character are
 * all rejected. That makes tokens non-malleable (a changed character always changes the
 * bytes) and keeps the parsers above from seeing anything surprising. Output buffers
 * are always bounded by the caller's capacity. Decoding is libs/core's one decoder
 * (vt_base64_decode, which libs/json uses too), in these two variants.
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
    return vt_base64_decoded_max(n);
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

int vt_auth_base64_decode(const char *in, size_t n, void *out, size_t outcap, size_t *outlen)
{
    return vt_base64_decode(in, n, VT_BASE64_STD | VT_BASE64_PAD, out, outcap, outlen);
}

int vt_auth_base64url_decode(const char *in, size_t n, void *out, size_t outcap, size_t *outlen)
{
    return vt_base64_decode(in, n, VT_BASE64_URL | VT_BASE64_NOPAD, out, outcap, outlen);
}
