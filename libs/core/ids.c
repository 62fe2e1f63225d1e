/*
 * ids.c — random ids (UUID v4 for resources, hex request ids) and clocks.
 *
 * Randomness comes from getrandom(2): ids must not be guessable, and it needs no
 * file descriptor or seeding state.
 */
#include "vt_core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

void vt_random_bytes(void *buf, size_t len)
{
    unsigned char *p = buf;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            abort(); /* the kernel has no entropy API: nothing safe to fall back to */
        }
        p += n;
        len -= (size_t)n;
    }
}

void vt_hex_encode(const void *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *b = in;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[2 * n] = '\0';
}

void vt_uuid_format(const unsigned char bytes[16], char *out)
{
    char hex[33];
    vt_hex_encode(bytes, 16, hex);
    memcpy(out, hex, 8);
    out[8] = '-';
    memcpy(out + 9, hex + 8, 4);
    out[13] = '-';
    memcpy(out + 14, hex + 12, 4);
    out[18] = '-';
    memcpy(out + 19, hex + 16, 4);
    out[23] = '-';
    memcpy(out + 24, hex + 20, 12);
    out[36] = '\0';
}

void vt_rfc3339_ms(int64_t epoch_ms, char *out)
{
    time_t secs = (time_t)(epoch_ms / 1000);
    int ms = (int)(epoch_ms % 1000);
    if (ms < 0) {
        secs--;
        ms += 1000;
    }
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(out, VT_RFC3339_MS_LEN + 1, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, VT_RFC3339_MS_LEN + 1 - n, ".%03dZ", ms);
}

void vt_uuid_new(char *out)
{
    unsigned char b[16];
    vt_random_bytes(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    vt_uuid_format(b, out);
}

bool vt_uuid_valid(const char *text)
{
    if (!text || strlen(text) != VT_UUID_LEN)
        return false;
    for (int i = 0; i < VT_UUID_LEN; i++) {
        char c = text[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return false;
        }
    }
    return true;
}

void vt_request_id_new(char *out)
{
    unsigned char b[VT_REQUEST_ID_LEN / 2];
    vt_random_bytes(b, sizeof b);
    vt_hex_encode(b, sizeof b, out);
}

bool vt_request_id_sane(const char *text)
{
    if (!text)
        return false;
    size_t n = 0;
    for (const char *p = text; *p; p++, n++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.' || c == ':';
        if (!ok || n >= 128)
            return false;
    }
    return n > 0;
}

int64_t vt_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t vt_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t vt_thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
