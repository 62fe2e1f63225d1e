/*
 * env.c — the session-token verifier as API.md §1 configures it from the environment.
 *
 * Kept apart from jwt.c so the verifier itself stays a pure function of its config
 * (and testable without touching the environment). Reads CLERK_JWT_KEY or
 * VENTA_JWKS_FILE (one of them, not both: two key sources would make it unclear which
 * one a deployment relies on), VENTA_JWT_ISSUER, VENTA_JWT_AUTHORIZED_PARTIES and
 * VENTA_JWT_CLOCK_SKEW_S, and names the variable at fault so the caller can refuse to
 * start with vt_config_fail(). The JWKS file is read once, bounded to 1 MiB.
 */
#include "auth_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JWKS_FILE_MAX (1024 * 1024)

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && v[0] ? v : NULL;
}

int vt_auth_verifier_new_from_env(vt_auth_verifier **out, const char **bad_var, char *err,
                                  size_t errlen)
{
    vt_auth_verifier_opts cfg = {0};
    const char *blame = NULL;
    char *jwks = NULL;
    char reason[200] = "";
    int rc = VT_INVALID_ARGUMENT;

    cfg.pem = env("CLERK_JWT_KEY");
    const char *jwks_path = env("VENTA_JWKS_FILE");
    cfg.issuer = env("VENTA_JWT_ISSUER");
    cfg.authorized_parties = env("VENTA_JWT_AUTHORIZED_PARTIES");

    const char *skew = env("VENTA_JWT_CLOCK_SKEW_S");
    if (skew && vt_parse_int(skew, 0, 3600, &cfg.clock_skew_s, reason, sizeof(reason)) != 0) {
        blame = "VENTA_JWT_CLOCK_SKEW_S";
        goto fail;
    }
    if (skew && cfg.clock_skew_s == 0)
        cfg.clock_skew_s = VT_AUTH_NO_SKEW; /* 0 in the options means the default */
    if (cfg.pem && jwks_path) {
        blame = "VENTA_JWKS_FILE";
        snprintf(reason, sizeof(reason), "set only one of CLERK_JWT_KEY and VENTA_JWKS_FILE");
        goto fail;
    }
    if (!cfg.pem && !jwks_path) {
        blame = "CLERK_JWT_KEY";
        snprintf(reason, sizeof(reason), "is required (or VENTA_JWKS_FILE)");
        goto fail;
    }
    size_t jwks_len = 0;
    if (jwks_path &&
        vt_file_read(jwks_path, JWKS_FILE_MAX, true, &jwks, &jwks_len, reason, sizeof reason)) {
        blame = "VENTA_JWKS_FILE";
        goto fail;
    }
    cfg.jwks = jwks;
    rc = vt_auth_verifier_new(&cfg, out, reason, sizeof(reason));
    if (rc != VT_OK) {
        /* Only the key source and the party list can be malformed at this point. */
        blame = strstr(reason, "authorized parties") ? "VENTA_JWT_AUTHORIZED_PARTIES"
                : cfg.pem                            ? "CLERK_JWT_KEY"
                                                     : "VENTA_JWKS_FILE";
        goto fail;
    }
    free(jwks);
    if (bad_var)
        *bad_var = NULL;
    auth_errf(err, errlen, "%s", "");
    return VT_OK;
fail:
    free(jwks);
    if (out)
        *out = NULL;
    if (bad_var)
        *bad_var = blame;
    auth_errf(err, errlen, "%s", reason);
    return rc == VT_OK ? VT_INVALID_ARGUMENT : rc;
}
