/*
 * log.c — JSON-lines logging on stderr.
 *
 * Each line is {"ts":…,"level":…,"service":…,"msg":…[,"request_id":…][,"user_id":…]
 * ,"trace_id":…,"span_id":…[,"parent_span_id":…]}: the trace is the context's, else
 * the thread's current span (vt_trace_current), so every line written inside a request,
 * a NATS message or a vendor fix names the trace it belongs to (docs/tracing.md); a
 * line outside any of them (start, reconnects, sweeps, shutdown) names the process's
 * own trace, a root span made once by vt_log_init, so that every line carries one and
 * a process run's background lines are one query.
 * The line is formatted into a stack buffer and written with one write(2), which
 * keeps lines from concurrent threads whole without a lock. Over-long messages are
 * truncated rather than split. Text is escaped by the one JSON escaper, libs/json's
 * vt_json_escape (a leaf library core links, declared for core in libs/json/escape.h;
 * see libs/json/escape.c), so log lines and API responses escape alike.
 */
#include "vt_core.h"

#include "escape.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096

/* Process-wide logging configuration, set once at start (see vt_core.h). */
static vt_log_level min_level = VT_LOG_INFO;
static char service_name[64] = "venta";
/* The process's own trace, for lines outside any other (set once, by vt_log_init). */
static vt_trace process_span;
static bool have_process_span;

const char *const vt_log_level_names[] = {"debug", "info", "warn", "error", NULL};

void vt_log_init(const char *service, vt_log_level level)
{
    if (service)
        snprintf(service_name, sizeof service_name, "%s", service);
    min_level = level;
    if (!have_process_span) {
        vt_trace_child(NULL, &process_span);
        have_process_span = true;
    }
}

bool vt_log_enabled(vt_log_level level)
{
    return level >= min_level;
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
    used = append(line, used, vt_log_level_names[level]);
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
    const vt_trace *trace = ctx && ctx->trace ? ctx->trace : vt_trace_current();
    if (!trace && have_process_span)
        trace = &process_span;
    if (trace) {
        char trace_hex[33], span_hex[17], parent_hex[17];
        vt_trace_ids(trace, trace_hex, span_hex);
        used = append_field(line, used, "trace_id", trace_hex);
        used = append_field(line, used, "span_id", span_hex);
        static const uint8_t root[8];
        if (memcmp(trace->parent_id, root, sizeof root) != 0) {
            vt_hex_encode(trace->parent_id, sizeof trace->parent_id, parent_hex);
            used = append_field(line, used, "parent_span_id", parent_hex);
        }
    }
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
