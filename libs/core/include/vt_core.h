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
 *
 * It also holds the building blocks every library and app uses instead of writing its
 * own (one of each, as Redis has one sds and one dict): the growable builder vt_buf,
 * the string hash vt_hash_*, the open-addressing id index vt_index and the base64
 * decoder. Their hot paths are inline here so that using the shared piece costs no
 * call a private copy would not have cost.
 */
#ifndef VT_CORE_H
#define VT_CORE_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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
/* A user name and its password for a server (NATS, Redis): both set, or both unset
 * (*user and *password NULL: no login). One without the other dies naming the missing
 * variable. The password's value is never printed. */
void vt_config_login(const char *user_name, const char *password_name, const char **user,
                     const char **password);

/* The whole file at path, at most max bytes, into *out (NUL-terminated after *len bytes;
 * the caller frees it). VT_NOT_FOUND when it cannot be opened, VT_INVALID_ARGUMENT when
 * it cannot be read, is over max bytes or (text) holds a NUL byte; the reason in err. */
int vt_file_read(const char *path, size_t max, bool text, char **out, size_t *len, char *err,
                 size_t errlen);

/* A TLS certificate file (PEM, a chain allowed) and its private key file (PEM): 0 when
 * both are readable and the key is the certificate's; otherwise 1 (the certificate is
 * the problem) or 2 (the key is), with the reason in err. */
int vt_tls_pair_check(const char *cert_file, const char *key_file, char *err, size_t errlen);

/* ---- logging ---- */

typedef enum { VT_LOG_DEBUG = 0, VT_LOG_INFO, VT_LOG_WARN, VT_LOG_ERROR } vt_log_level;

/* ---- vt_trace: W3C trace context (trace.c, docs/tracing.md) ----
 *
 * A trace follows one request or one vendor fix through every process on its path. It
 * travels as the W3C `traceparent` header ("00-<trace id>-<parent id>-<flags>") in HTTP
 * requests, gRPC metadata, NATS message headers and outbox rows; each process hop makes
 * a span of its own (a new span id) whose parent is the span it came from. Ids are kept
 * as bytes and turned into hex only when a log line is written. */
#define VT_TRACEPARENT_HEADER "traceparent"
#define VT_TRACEPARENT_LEN 55 /* version 00: 2 + 1 + 32 + 1 + 16 + 1 + 2 */
#define VT_TRACE_SAMPLED 0x01 /* the only flag of version 00 */

typedef struct {
    uint8_t trace_id[16];
    uint8_t span_id[8];   /* this span: the parent id of whatever it calls */
    uint8_t parent_id[8]; /* the span it came from; all zero at the root of a trace */
    uint8_t flags;        /* VT_TRACE_SAMPLED or 0 */
} vt_trace;

/* Parse a traceparent of len bytes exactly as version 00 writes it: "00-", 32 lowercase
 * hex digits not all zero, "-", 16 lowercase hex digits not all zero, "-", 2 lowercase
 * hex digits, nothing more. On success *out is the remote span it names (span_id = the
 * header's parent id, parent_id zero, flags keeping the sampled bit only) and true is
 * returned; otherwise false and *out is unchanged. text may be NULL. */
bool vt_trace_parse(const char *text, size_t len, vt_trace *out);
/* A new span of from's trace whose parent is from's span (from's flags kept), or, with
 * from NULL, the root span of a new trace (not sampled). Ids are random (a per-thread
 * generator seeded from getrandom: no system call per span). */
void vt_trace_child(const vt_trace *from, vt_trace *out);
/* This hop's span for an incoming traceparent (may be NULL): a child of the span it
 * names when it parses, else the root of a new trace, never trusting a malformed one.
 * True when the incoming trace was continued. */
bool vt_trace_start(const char *traceparent, size_t len, vt_trace *out);
/* The traceparent to send on from span t, into out[VT_TRACEPARENT_LEN + 1]. */
void vt_trace_format(const vt_trace *t, char *out);
/* Lowercase hex of t's trace id into trace_hex[33] and span id into span_hex[17]. */
void vt_trace_ids(const vt_trace *t, char *trace_hex, char *span_hex);

/* The calling thread's current span (NULL: none): log lines without a trace of their
 * own carry it, and gRPC calls and NATS publishes made on the thread send it on.
 * vt_trace_set_current makes t current (borrowed: it must outlive its turn; NULL
 * clears) and returns the previous one, to put back when the work is done. */
const vt_trace *vt_trace_current(void);
const vt_trace *vt_trace_set_current(const vt_trace *t);

/* The level of a line that a hop writes per request or per fix about span t ("rpc:
 * GetVendor -> OK", "ws: fix published"): info when t is sampled, at most
 * VT_TRACE_SAMPLED_LINES_PER_S such promotions per second and process (a client that
 * samples everything cannot flood the logs), else debug. */
#define VT_TRACE_SAMPLED_LINES_PER_S 100
vt_log_level vt_trace_hop_level(const vt_trace *t);

/* Per-request context carried into every log line about that request. */
typedef struct {
    const char *request_id; /* may be NULL */
    const char *user_id;    /* may be NULL */
    const char *variable;   /* may be NULL: the configuration variable a line is about */
    const vt_trace *trace;  /* may be NULL: the thread's current span (vt_trace_current) */
} vt_log_ctx;

/* Set the process name shown in every line and the minimum level. */
void vt_log_init(const char *service, vt_log_level level);
/* Read VENTA_LOG_LEVEL (debug|info|warn|error, default info), dying on a bad value
 * (config.c). */
void vt_log_init_from_env(const char *service);
/* The level names as VENTA_LOG_LEVEL and the "level" field of a line spell them,
 * indexed by vt_log_level, NULL-terminated. */
extern const char *const vt_log_level_names[];
bool vt_log_enabled(vt_log_level level);
void vt_log(vt_log_level level, const vt_log_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void vt_logv(vt_log_level level, const vt_log_ctx *ctx, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#define vt_debug(ctx, ...) vt_log(VT_LOG_DEBUG, ctx, __VA_ARGS__)
#define vt_info(ctx, ...) vt_log(VT_LOG_INFO, ctx, __VA_ARGS__)
#define vt_warn(ctx, ...) vt_log(VT_LOG_WARN, ctx, __VA_ARGS__)
#define vt_error(ctx, ...) vt_log(VT_LOG_ERROR, ctx, __VA_ARGS__)

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

int64_t vt_now_ms(void); /* wall clock, Unix epoch milliseconds */
/* RFC 3339 UTC with milliseconds ("2026-11-21T10:00:00.000Z") of epoch milliseconds into
 * out[VT_RFC3339_MS_LEN + 1]: the form of every timestamp in logs and in the API. */
#define VT_RFC3339_MS_LEN 24
void vt_rfc3339_ms(int64_t epoch_ms, char *out);
int64_t vt_monotonic_ns(void); /* monotonic clock for durations */
/* CPU time of the calling thread: how much of a core a piece of work took, which a busy
 * machine or a CPU limit does not inflate as it does the wall-clock duration. */
int64_t vt_thread_cpu_ns(void);

/* Timed waits (waits.c): a condition variable whose pthread_cond_timedwait deadlines
 * are on CLOCK_MONOTONIC, and such a deadline from_now_ns from now (negative = now). */
void vt_cond_init_monotonic(pthread_cond_t *cv);
struct timespec vt_monotonic_deadline(int64_t from_now_ns);

/* ---- vt_buf: the growable byte/string builder (buf.c) ---- */

/* Appends never need a check each: an allocation failure sets the sticky `oom`, later
 * appends do nothing and return false, and vt_buf_take returns NULL, so a builder
 * checks once at the end (or uses the bool returns where it stops early). data always
 * has a NUL after len once anything was appended or reserved. Zero-initialised (or
 * VT_BUF_INIT) is an empty buffer; nothing is allocated until the first append. */
typedef struct {
    char *data; /* NULL until the first append or reserve */
    size_t len; /* bytes of text, not counting the NUL */
    size_t cap; /* bytes allocated, the NUL included */
    bool oom;   /* sticky: an allocation (or formatting) failed; the text is incomplete */
} vt_buf;

#define VT_BUF_INIT                                                                                \
    {                                                                                              \
        0                                                                                          \
    }

static inline void vt_buf_init(vt_buf *b)
{
    *b = (vt_buf){0};
}
/* Free the data and make b empty again. */
void vt_buf_free(vt_buf *b);
/* Empty the text and forget a failure, keeping the memory for the next text. */
static inline void vt_buf_reset(vt_buf *b)
{
    b->len = 0;
    b->oom = false;
    if (b->data)
        b->data[0] = '\0';
}
/* The slow path of vt_buf_reserve: grows (doubling) to room for extra more bytes. */
bool vt_buf_grow(vt_buf *b, size_t extra);
/* Room for extra more bytes (and the NUL) without another allocation; false on oom. */
static inline bool vt_buf_reserve(vt_buf *b, size_t extra)
{
    if (!b->oom && b->data && extra < b->cap - b->len)
        return true;
    return vt_buf_grow(b, extra);
}
/* Writing in place: after vt_buf_reserve(b, n), up to n bytes written at vt_buf_tail(b)
 * (vt_buf_spare(b) of them fit) become text with vt_buf_advance(b, n). */
static inline char *vt_buf_tail(vt_buf *b)
{
    return b->data + b->len;
}
static inline size_t vt_buf_spare(const vt_buf *b)
{
    return b->data && !b->oom ? b->cap - b->len - 1 : 0;
}
static inline void vt_buf_advance(vt_buf *b, size_t n)
{
    b->len += n;
    b->data[b->len] = '\0';
}
/* Appends: true while b has not failed. */
static inline bool vt_buf_put(vt_buf *b, const void *data, size_t n)
{
    if (!vt_buf_reserve(b, n))
        return false;
    if (n)
        memcpy(b->data + b->len, data, n);
    vt_buf_advance(b, n);
    return true;
}
static inline bool vt_buf_puts(vt_buf *b, const char *text)
{
    return vt_buf_put(b, text, strlen(text));
}
static inline bool vt_buf_putc(vt_buf *b, char c)
{
    if (!vt_buf_reserve(b, 1))
        return false;
    b->data[b->len] = c;
    vt_buf_advance(b, 1);
    return true;
}
bool vt_buf_printf(vt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool vt_buf_vprintf(vt_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Hand the text over (the caller free()s it) and leave b empty: NUL-terminated, its
 * length in *len (may be NULL). NULL when b failed (b is then freed). An empty buffer
 * gives an allocated "". */
char *vt_buf_take(vt_buf *b, size_t *len);

/* ---- vt_hash: the string hash ---- */

/* FNV-1a over 64 bits. VT_HASH_INIT is not FNV's published offset basis
 * (14695981039346656037): it is the value every table and the vendor service's page
 * tokens have always used (a digit short), kept so that no fingerprint or shard choice
 * changes. It mixes as well. Continue a hash with vt_hash_add* (the page-token
 * fingerprint hashes several parts with a separator byte between them). */
#define VT_HASH_INIT 1469598103934665603ULL
#define VT_HASH_PRIME 1099511628211ULL

static inline uint64_t vt_hash_add(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = (const unsigned char *)data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * VT_HASH_PRIME;
    return h;
}
static inline uint64_t vt_hash_add_str(uint64_t h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = (h ^ *p) * VT_HASH_PRIME;
    return h;
}
static inline uint64_t vt_hash_bytes(const void *data, size_t n)
{
    return vt_hash_add(VT_HASH_INIT, data, n);
}
static inline uint64_t vt_hash_str(const char *s)
{
    return vt_hash_add_str(VT_HASH_INIT, s);
}

/* ---- vt_index: the open-addressing id index (index.c) ---- */

/* Maps a key to an entry number (< VT_INDEX_NONE) of the caller's own array: the index
 * holds only 4-byte slots (entry + 1, 0 empty), so a million-vendor map costs 4 MiB
 * of index at half load. Linear probing over a power-of-two number of slots, deletion
 * by backward shift (no tombstones, so probe runs never rot). Growing is the caller's
 * call (vt_index_resize when vt_index_full says so): some tables are bounded by
 * construction and never grow.
 *
 * The index never sees keys: the caller passes the key's hash and an equality test,
 * and for deletion and resizing the hash of an entry's key. The probing functions are
 * inline so that, with a static callback, the compiler inlines the callback too and the
 * hot path has no indirect call. Keep the hash consistent: the same key, the same
 * 64-bit hash (its low bits pick the home slot). Not thread-safe. */
#define VT_INDEX_NONE UINT32_MAX

typedef struct {
    uint32_t *slots; /* entry + 1, 0 empty; NULL before the first resize */
    size_t mask;     /* number of slots - 1 */
    size_t count;    /* entries held */
} vt_index;

/* Does entry e of ctx's array hold key? */
typedef bool (*vt_index_eq_fn)(const void *ctx, uint32_t e, const void *key);
/* The hash of entry e's key. */
typedef uint64_t (*vt_index_hash_fn)(const void *ctx, uint32_t e);

/* An index of nslots slots (rounded up to a power of two, at least 16): 0 or
 * VT_RESOURCE_EXHAUSTED. A zeroed vt_index is valid too (no slots, finds nothing). */
int vt_index_init(vt_index *ix, size_t nslots);
void vt_index_free(vt_index *ix);
/* Forget every entry, keeping the slots. */
void vt_index_clear(vt_index *ix);
/* Move every entry into nslots slots (a power of two > count): 0 or
 * VT_RESOURCE_EXHAUSTED (the index is then unchanged). */
int vt_index_resize(vt_index *ix, size_t nslots, vt_index_hash_fn hash, const void *ctx);

static inline size_t vt_index_nslots(const vt_index *ix)
{
    return ix->slots ? ix->mask + 1 : 0;
}
/* True when one more entry would load the index beyond num/den of its slots (or it has
 * none yet): time to resize. */
static inline bool vt_index_full(const vt_index *ix, size_t num, size_t den)
{
    return (ix->count + 1) * den > vt_index_nslots(ix) * num;
}
/* The entry at slot, or VT_INDEX_NONE for an empty slot. */
static inline uint32_t vt_index_at(const vt_index *ix, size_t slot)
{
    return ix->slots[slot] - 1; /* 0 - 1 wraps to VT_INDEX_NONE */
}
/* The slot holding key, or the empty slot where it would go. Needs slots. */
static inline size_t vt_index_seek(const vt_index *ix, uint64_t hash, vt_index_eq_fn eq,
                                   const void *ctx, const void *key)
{
    size_t s = (size_t)hash & ix->mask;
    while (ix->slots[s] && !eq(ctx, ix->slots[s] - 1, key))
        s = (s + 1) & ix->mask;
    return s;
}
/* The entry holding key, or VT_INDEX_NONE. */
static inline uint32_t vt_index_find(const vt_index *ix, uint64_t hash, vt_index_eq_fn eq,
                                     const void *ctx, const void *key)
{
    if (!ix->slots)
        return VT_INDEX_NONE;
    return vt_index_at(ix, vt_index_seek(ix, hash, eq, ctx, key));
}
/* Put entry e into the empty slot vt_index_seek gave (nothing moved since). */
static inline void vt_index_fill(vt_index *ix, size_t slot, uint32_t e)
{
    ix->slots[slot] = e + 1;
    ix->count++;
}
/* Add entry e of a key known to be absent. Needs a free slot. */
static inline void vt_index_add(vt_index *ix, uint64_t hash, uint32_t e)
{
    size_t s = (size_t)hash & ix->mask;
    while (ix->slots[s])
        s = (s + 1) & ix->mask;
    vt_index_fill(ix, s, e);
}
/* The slot holding entry e, whose key hashes to hash (e must be in the index). */
static inline size_t vt_index_slot_of(const vt_index *ix, uint64_t hash, uint32_t e)
{
    size_t s = (size_t)hash & ix->mask;
    while (ix->slots[s] != e + 1)
        s = (s + 1) & ix->mask;
    return s;
}
/* The entry at an occupied slot moved to number e in the caller's array. */
static inline void vt_index_renumber(vt_index *ix, size_t slot, uint32_t e)
{
    ix->slots[slot] = e + 1;
}
/* Empty an occupied slot, moving later members of its probe run back into the hole
 * unless their home slot lies cyclically in (hole, j]: every entry stays reachable
 * from its home without tombstones. */
static inline void vt_index_delete(vt_index *ix, size_t slot, vt_index_hash_fn hash,
                                   const void *ctx)
{
    size_t mask = ix->mask, hole = slot;
    ix->slots[hole] = 0;
    ix->count--;
    for (size_t j = (hole + 1) & mask; ix->slots[j]; j = (j + 1) & mask) {
        size_t home = (size_t)hash(ctx, ix->slots[j] - 1) & mask;
        bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
        if (!stays) {
            ix->slots[hole] = ix->slots[j];
            ix->slots[j] = 0;
            hole = j;
        }
    }
}

/* ---- base64 decoding (base64.c) ---- */

/* Which base64 a decoder takes. The alphabets may be combined (the proto3 JSON mapping
 * accepts either, even mixed); padding is required (n % 4 == 0, '=' completing the last
 * quantum), forbidden ('=' is then an invalid character), or optional (when present it
 * must complete the last quantum). */
enum {
    VT_BASE64_STD = 1,   /* '+' and '/' (RFC 4648 §4) */
    VT_BASE64_URL = 2,   /* '-' and '_' (§5) */
    VT_BASE64_PAD = 4,   /* padding required */
    VT_BASE64_NOPAD = 8, /* padding forbidden; neither flag: optional */
};

/* Bytes that n characters of base64 decode to at most. */
size_t vt_base64_decoded_max(size_t n);
/* Strict decoding of in[0..n) into out (outcap bytes): exactly one encoding per byte
 * string is accepted (no whitespace, no characters outside the alphabet, no impossible
 * length, zero unused bits in the last character), so a changed character always
 * changes the bytes. 0 with *outlen (may be NULL) set; VT_INVALID_ARGUMENT for bad
 * input; VT_OUT_OF_RANGE when the bytes do not fit in outcap (checked before the
 * characters are). */
int vt_base64_decode(const char *in, size_t n, unsigned flags, void *out, size_t outcap,
                     size_t *outlen);

#endif
