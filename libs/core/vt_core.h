/*
 * vt_core.h — what every Venta process shares: status codes, configuration from the
 * environment, JSON-lines logging, ids and clocks.
 *
 * Configuration is read once at start. A missing or malformed variable is fatal: the
 * vt_config_* "or die" helpers print one line naming the variable and exit(2), so a
 * misconfigured pod fails fast and says why. The parse functions underneath return a
 * status instead, for code (and tests) that want to decide for themselves.
 *
 * Logging writes one JSON object per line to stderr with a single write(2), so lines
 * from several threads never interleave. The level is process-wide configuration.
 */
#ifndef VT_CORE_H
#define VT_CORE_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- status: the canonical gRPC codes, used by every library and service ---- */

typedef enum {
    VT_OK = 0,
    VT_CANCELLED = 1,
    VT_UNKNOWN = 2,
    VT_INVALID_ARGUMENT = 3,
    VT_DEADLINE_EXCEEDED = 4,
    VT_NOT_FOUND = 5,
    VT_ALREADY_EXISTS = 6,
    VT_PERMISSION_DENIED = 7,
    VT_RESOURCE_EXHAUSTED = 8,
    VT_FAILED_PRECONDITION = 9,
    VT_ABORTED = 10,
    VT_OUT_OF_RANGE = 11,
    VT_UNIMPLEMENTED = 12,
    VT_INTERNAL = 13,
    VT_UNAVAILABLE = 14,
    VT_DATA_LOSS = 15,
    VT_UNAUTHENTICATED = 16,
} vt_status;

#define VT_STATUS_COUNT 17

/* "NOT_FOUND" for VT_NOT_FOUND; "UNKNOWN" for a value outside the enum. */
const char *vt_status_name(int code);
/* Parse a name such as "NOT_FOUND"; returns -1 when the name is not a status. */
int vt_status_from_name(const char *name);
/* HTTP status for a code, as grpc-gateway and Envoy map it (API.md §3). */
int vt_status_http(int code);

/* ---- configuration from environment variables ---- */

typedef struct {
    char host[256];
    uint16_t port;
} vt_addr;

/* Parsers: 0 on success; VT_INVALID_ARGUMENT with a reason in err (errlen bytes). */
int vt_parse_addr(const char *text, vt_addr *out, char *err, size_t errlen);
int vt_parse_int(const char *text, long min, long max, long *out, char *err, size_t errlen);
int vt_parse_bool(const char *text, bool *out, char *err, size_t errlen);

/* Print "config: NAME <reason>" as one line on stderr and exit(2). */
_Noreturn void vt_config_fail(const char *name, const char *reason);

/* Getters that die on a malformed value. An empty variable counts as unset. */
const char *vt_config_require(const char *name);
const char *vt_config_str(const char *name, const char *fallback);
long vt_config_int(const char *name, long fallback, long min, long max);
bool vt_config_bool(const char *name, bool fallback);
vt_addr vt_config_addr(const char *name, const char *fallback);
/* One of a fixed set of words; returns its index in choices (NULL-terminated). */
int vt_config_choice(const char *name, const char *fallback, const char *const *choices);

/* ---- logging ---- */

typedef enum { VT_LOG_DEBUG = 0, VT_LOG_INFO, VT_LOG_WARN, VT_LOG_ERROR } vt_log_level;

/* Per-request context carried into every log line about that request. */
typedef struct {
    const char *request_id; /* may be NULL */
    const char *user_id;    /* may be NULL */
    const char *variable;   /* may be NULL: the configuration variable a line is about */
} vt_log_ctx;

/* Set the process name shown in every line and the minimum level. */
void vt_log_init(const char *service, vt_log_level level);
/* Read VENTA_LOG_LEVEL (debug|info|warn|error, default info), dying on a bad value. */
void vt_log_init_from_env(const char *service);
bool vt_log_enabled(vt_log_level level);
void vt_log(vt_log_level level, const vt_log_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void vt_logv(vt_log_level level, const vt_log_ctx *ctx, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#define vt_debug(ctx, ...) vt_log(VT_LOG_DEBUG, ctx, __VA_ARGS__)
#define vt_info(ctx, ...) vt_log(VT_LOG_INFO, ctx, __VA_ARGS__)
#define vt_warn(ctx, ...) vt_log(VT_LOG_WARN, ctx, __VA_ARGS__)
#define vt_error(ctx, ...) vt_log(VT_LOG_ERROR, ctx, __VA_ARGS__)

/* Append text to out as the inside of a JSON string (no quotes), escaping as needed.
 * Writes at most outlen-1 bytes and always terminates; returns the bytes needed. With
 * outlen 0 it only measures (out may be NULL). The output is valid UTF-8 whatever text
 * holds: truncation never splits a character, and bytes that are not UTF-8 become
 * U+FFFD. */
size_t vt_json_escape(const char *text, char *out, size_t outlen);

/* Length of the valid UTF-8 sequence at s[0..n) (1-4), or 0 when s starts with a byte
 * that does not begin one (overlong forms, surrogates and > U+10FFFF are invalid). */
size_t vt_utf8_seq_len(const unsigned char *s, size_t n);

/* ---- ids and clocks ---- */

#define VT_UUID_LEN 36
#define VT_REQUEST_ID_LEN 32

/* Random UUID v4 text into out[VT_UUID_LEN + 1]. */
void vt_uuid_new(char *out);
/* The 8-4-4-4-12 lowercase text of 16 bytes into out[VT_UUID_LEN + 1]. */
void vt_uuid_format(const unsigned char bytes[16], char *out);
/* Lowercase hex of n bytes into out[2 * n + 1] (terminated). */
void vt_hex_encode(const void *in, size_t n, char *out);
/* True for the canonical 8-4-4-4-12 hex form (either case). */
bool vt_uuid_valid(const char *text);
/* Random 32-hex-digit request id into out[VT_REQUEST_ID_LEN + 1]. */
void vt_request_id_new(char *out);
/* A client-supplied request id is kept when it is 1..128 chars of [A-Za-z0-9._:-]. */
bool vt_request_id_sane(const char *text);
/* Fill buf with cryptographically random bytes (getrandom). */
void vt_random_bytes(void *buf, size_t len);

int64_t vt_now_ms(void);       /* wall clock, Unix epoch milliseconds */
/* RFC 3339 UTC with milliseconds ("2026-11-21T10:00:00.000Z") of epoch milliseconds into
 * out[VT_RFC3339_MS_LEN + 1]: the form of every timestamp in logs and in the API. */
#define VT_RFC3339_MS_LEN 24
void vt_rfc3339_ms(int64_t epoch_ms, char *out);
int64_t vt_monotonic_ns(void); /* monotonic clock for durations */

/* Timed waits (waits.c): a condition variable whose pthread_cond_timedwait deadlines
 * are on CLOCK_MONOTONIC, and such a deadline from_now_ns from now (negative = now). */
void vt_cond_init_monotonic(pthread_cond_t *cv);
struct timespec vt_monotonic_deadline(int64_t from_now_ns);

#endif
