/*
 * config.c — configuration from environment variables, read once at start.
 *
 * Each process calls the vt_config_* getters from main() before it serves anything.
 * A bad value is a deployment mistake that no retry fixes, so the getters print one
 * line naming the variable and exit(2) rather than limp on with a guess.
 */
#include "vt_core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int vt_parse_int(const char *text, long min, long max, long *out, char *err, size_t errlen)
{
    if (!text || !*text) {
        snprintf(err, errlen, "is empty");
        return VT_INVALID_ARGUMENT;
    }
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno == ERANGE || end == text || *end != '\0') {
        snprintf(err, errlen, "is not an integer: \"%.64s\"", text);
        return VT_INVALID_ARGUMENT;
    }
    if (v < min || v > max) {
        snprintf(err, errlen, "must be between %ld and %ld, got %ld", min, max, v);
        return VT_INVALID_ARGUMENT;
    }
    *out = v;
    return VT_OK;
}

int vt_parse_bool(const char *text, bool *out, char *err, size_t errlen)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (text && strcasecmp(text, yes[i]) == 0) {
            *out = true;
            return VT_OK;
        }
        if (text && strcasecmp(text, no[i]) == 0) {
            *out = false;
            return VT_OK;
        }
    }
    snprintf(err, errlen, "must be true or false, got \"%.64s\"", text ? text : "");
    return VT_INVALID_ARGUMENT;
}

/* host:port, [v6]:port; the port is mandatory and 1..65535. */
int vt_parse_addr(const char *text, vt_addr *out, char *err, size_t errlen)
{
    if (!text || !*text) {
        snprintf(err, errlen, "is empty");
        return VT_INVALID_ARGUMENT;
    }
    const char *colon;
    const char *host = text;
    size_t hostlen;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':') {
            snprintf(err, errlen, "must be [ipv6]:port, got \"%.64s\"", text);
            return VT_INVALID_ARGUMENT;
        }
        host = text + 1;
        hostlen = (size_t)(close - host);
        colon = close + 1;
    } else {
        colon = strrchr(text, ':');
        if (!colon || strchr(text, ':') != colon) {
            snprintf(err, errlen, "must be host:port, got \"%.64s\"", text);
            return VT_INVALID_ARGUMENT;
        }
        hostlen = (size_t)(colon - text);
    }
    if (hostlen == 0 || hostlen >= sizeof out->host) {
        snprintf(err, errlen, "has an empty or too long host: \"%.64s\"", text);
        return VT_INVALID_ARGUMENT;
    }
    long port;
    char perr[96];
    if (vt_parse_int(colon + 1, 1, 65535, &port, perr, sizeof perr) != VT_OK) {
        snprintf(err, errlen, "has a bad port (%s)", perr);
        return VT_INVALID_ARGUMENT;
    }
    memcpy(out->host, host, hostlen);
    out->host[hostlen] = '\0';
    out->port = (uint16_t)port;
    return VT_OK;
}

_Noreturn void vt_config_fail(const char *name, const char *reason)
{
    /* One JSON line like every other log line (ts, service), readable in `kubectl logs`. */
    vt_log(VT_LOG_ERROR, &(vt_log_ctx){.variable = name}, "config: %s %s", name, reason);
    exit(2);
}

static const char *getenv_nonempty(const char *name)
{
    const char *v = getenv(name);
    return (v && *v) ? v : NULL;
}

const char *vt_config_require(const char *name)
{
    const char *v = getenv_nonempty(name);
    if (!v)
        vt_config_fail(name, "is required but not set");
    return v;
}

const char *vt_config_str(const char *name, const char *fallback)
{
    const char *v = getenv_nonempty(name);
    return v ? v : fallback;
}

long vt_config_int(const char *name, long fallback, long min, long max)
{
    const char *v = getenv_nonempty(name);
    if (!v)
        return fallback;
    long out;
    char err[160];
    if (vt_parse_int(v, min, max, &out, err, sizeof err) != VT_OK)
        vt_config_fail(name, err);
    return out;
}

bool vt_config_bool(const char *name, bool fallback)
{
    const char *v = getenv_nonempty(name);
    if (!v)
        return fallback;
    bool out;
    char err[160];
    if (vt_parse_bool(v, &out, err, sizeof err) != VT_OK)
        vt_config_fail(name, err);
    return out;
}

vt_addr vt_config_addr(const char *name, const char *fallback)
{
    const char *v = vt_config_str(name, fallback);
    vt_addr out;
    char err[160];
    if (!v)
        vt_config_fail(name, "is required but not set");
    if (vt_parse_addr(v, &out, err, sizeof err) != VT_OK)
        vt_config_fail(name, err);
    return out;
}

int vt_config_choice(const char *name, const char *fallback, const char *const *choices)
{
    const char *v = vt_config_str(name, fallback);
    char err[256];
    size_t used = 0;
    for (int i = 0; choices[i]; i++) {
        if (v && strcmp(v, choices[i]) == 0)
            return i;
        int n = snprintf(err + used, sizeof err - used, "%s%s", i ? "|" : "", choices[i]);
        if (n > 0 && (size_t)n < sizeof err - used)
            used += (size_t)n;
    }
    char reason[400];
    snprintf(reason, sizeof reason, "must be one of %s, got \"%.64s\"", err, v ? v : "");
    vt_config_fail(name, reason);
}

/* Here rather than in log.c: reading the environment is this file's job, and the logger
 * then needs nothing from the configuration (config.c logs, log.c does not read it). */
void vt_log_init_from_env(const char *service)
{
    vt_log_init(service, VT_LOG_INFO); /* a bad level is reported under the service's name */
    int level = vt_config_choice("VENTA_LOG_LEVEL", "info", vt_log_level_names);
    vt_log_init(service, (vt_log_level)level);
}

void vt_config_login(const char *user_name, const char *password_name, const char **user,
                     const char **password)
{
    *user = getenv_nonempty(user_name);
    *password = getenv_nonempty(password_name);
    char reason[200];
    if (*user && !*password) {
        snprintf(reason, sizeof reason, "is required: %s and %s go together", password_name,
                 user_name);
        vt_config_fail(password_name, reason);
    }
    if (*password && !*user) {
        snprintf(reason, sizeof reason, "is required: %s and %s go together", user_name,
                 password_name);
        vt_config_fail(user_name, reason);
    }
}
