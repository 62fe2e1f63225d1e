/*
 * log.c — JSON-lines logging on stderr.
 *
 * Each line is {"ts":…,"level":…,"service":…,"msg":…[,"request_id":…][,"user_id":…]}.
 * The line is formatted into a stack buffer and written with one write(2), which
 * keeps lines from concurrent threads whole without a lock. Over-long messages are
 * truncated rather than split.
 */
#include "vt_core.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096

/* Process-wide logging configuration, set once at start (see vt_core.h). */
static vt_log_level min_level = VT_LOG_INFO;
static char service_name[64] = "venta";

static const char *const level_names[] = {"debug", "info", "warn", "error", NULL};

void vt_log_init(const char *service, vt_log_level level)
{
    if (service)
        snprintf(service_name, sizeof service_name, "%s", service);
    min_level = level;
}

void vt_log_init_from_env(const char *service)
{
    vt_log_init(service, min_level); /* a bad level is reported under the service's name */
    int level = vt_config_choice("VENTA_LOG_LEVEL", "info", level_names);
    vt_log_init(service, (vt_log_level)level);
}

bool vt_log_enabled(vt_log_level level)
{
    return level >= min_level;
}

size_t vt_utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        need = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* UTF-16 surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* > U+10FFFF */
    } else
        return 0;
    if (n < need || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < need; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return need;
}

/* Whole characters only: a valid UTF-8 sequence is copied or dropped as one unit, and a
 * byte that does not begin one becomes U+FFFD, so the output is always UTF-8 (JSON text
 * must be, and so must a WebSocket text frame that carries it). */
size_t vt_json_escape(const char *text, char *out, size_t outlen)
{
    static const char hex[] = "0123456789abcdef";
    size_t need = 0;
    size_t used = 0;
    const unsigned char *p = (const unsigned char *)(text ? text : "");
    size_t left = strlen((const char *)p);
    while (left > 0) {
        char esc[7];
        size_t n, k = 1; /* bytes out, bytes of text consumed */
        switch (*p) {
        case '"': memcpy(esc, "\\\"", n = 2); break;
        case '\\': memcpy(esc, "\\\\", n = 2); break;
        case '\n': memcpy(esc, "\\n", n = 2); break;
        case '\r': memcpy(esc, "\\r", n = 2); break;
        case '\t': memcpy(esc, "\\t", n = 2); break;
        default:
            if (*p < 0x20) {
                esc[0] = '\\', esc[1] = 'u', esc[2] = '0', esc[3] = '0';
                esc[4] = hex[*p >> 4], esc[5] = hex[*p & 15];
                n = 6;
            } else if (*p < 0x80) {
                esc[0] = (char)*p;
                n = 1;
            } else if ((k = vt_utf8_seq_len(p, left)) != 0) {
                memcpy(esc, p, n = k);
            } else {
                memcpy(esc, "\xEF\xBF\xBD", n = 3); /* U+FFFD */
                k = 1;
            }
        }
        p += k;
        left -= k;
        need += n;
        if (outlen && used + n < outlen) {
            memcpy(out + used, esc, n);
            used += n;
        } else if (outlen) {
            outlen = used + 1; /* stop writing: never emit half an escape or character */
        }
    }
    if (outlen)
        out[used] = '\0';
    return need;
}

static size_t append(char *line, size_t used, const char *text)
{
    size_t n = strlen(text);
    if (used + n >= LINE_MAX_BYTES - 2)
        n = LINE_MAX_BYTES - 2 - used;
    memcpy(line + used, text, n);
    return used + n;
}

static size_t append_field(char *line, size_t used, const char *key, const char *value)
{
    char escaped[512];
    vt_json_escape(value, escaped, sizeof escaped);
    used = append(line, used, ",\"");
    used = append(line, used, key);
    used = append(line, used, "\":\"");
    used = append(line, used, escaped);
    return append(line, used, "\"");
}

void vt_logv(vt_log_level level, const vt_log_ctx *ctx, const char *fmt, va_list ap)
{
    if (level < min_level)
        return;
    char msg[2048], emsg[3072], ts[VT_RFC3339_MS_LEN + 1], line[LINE_MAX_BYTES];
    vsnprintf(msg, sizeof msg, fmt, ap);
    vt_json_escape(msg, emsg, sizeof emsg);

    vt_rfc3339_ms(vt_now_ms(), ts);

    size_t used = 0;
    used = append(line, used, "{\"ts\":\"");
    used = append(line, used, ts);
    used = append(line, used, "\",\"level\":\"");
    used = append(line, used, level_names[level]);
    used = append(line, used, "\"");
    used = append_field(line, used, "service", service_name);
    used = append(line, used, ",\"msg\":\"");
    used = append(line, used, emsg);
    used = append(line, used, "\"");
    if (ctx && ctx->request_id)
        used = append_field(line, used, "request_id", ctx->request_id);
    if (ctx && ctx->user_id)
        used = append_field(line, used, "user_id", ctx->user_id);
    if (ctx && ctx->variable)
        used = append_field(line, used, "variable", ctx->variable);
    line[used++] = '}';
    line[used++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, used);
    (void)w; /* nowhere left to report a failed log write */
}

void vt_log(vt_log_level level, const vt_log_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vt_logv(level, ctx, fmt, ap);
    va_end(ap);
}
