/*
 * token.c — `venta-cli token`: a session JWT signed with the local development key.
 *
 * scripts/run creates an RSA key pair under .run/ and gives the services its public
 * half as CLERK_JWT_KEY, so tokens minted here verify exactly as Clerk's would. The
 * private key never leaves the developer's machine; production has no such key, and
 * this command refuses to sign without one.
 */
#include "cli.h"

#include "vt_auth.h"
#include "vt_core.h"
#include "vt_json.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int b64url(const void *data, size_t len, char *out, size_t cap)
{
    return vt_auth_base64url_encode(data, len, out, cap);
}

int cli_mint_token(const char *sub, long ttl, const char *azp, const char *key_path, char *out,
                   size_t outlen, char *err, size_t errlen)
{
    FILE *f = fopen(key_path, "r");
    if (!f) {
        snprintf(err, errlen, "no development signing key at %s (scripts/run creates it)",
                 key_path);
        return 1;
    }
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!key) {
        snprintf(err, errlen, "%s is not a PEM private key", key_path);
        return 1;
    }

    int64_t now = vt_now_ms() / 1000;
    char esub[300], payload[700], azp_claim[300] = "";
    vt_json_escape(sub, esub, sizeof esub);
    if (azp) {
        char eazp[256];
        vt_json_escape(azp, eazp, sizeof eazp);
        snprintf(azp_claim, sizeof azp_claim, ",\"azp\":\"%s\"", eazp);
    }
    snprintf(payload, sizeof payload,
             "{\"sub\":\"%s\",\"iat\":%lld,\"nbf\":%lld,\"exp\":%lld,\"iss\":\"venta-dev\"%s}",
             esub, (long long)now, (long long)now - 5, (long long)(now + ttl), azp_claim);
    static const char header[] = "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"venta-dev\"}";
    char signing[2048], sig_b64[1024];
    int rc = b64url(header, strlen(header), signing, sizeof signing);
    size_t used = strlen(signing);
    signing[used++] = '.';
    rc |= b64url(payload, strlen(payload), signing + used, sizeof signing - used);
    used = strlen(signing);

    unsigned char sig[1024];
    size_t siglen = sizeof sig;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok = rc == 0 && md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
              EVP_DigestSign(md, sig, &siglen, (unsigned char *)signing, used) == 1 &&
              b64url(sig, siglen, sig_b64, sizeof sig_b64) == 0;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    if (!ok || (size_t)snprintf(out, outlen, "%s.%s", signing, sig_b64) >= outlen) {
        snprintf(err, errlen, "signing failed");
        return 1;
    }
    return 0;
}

int cli_token(int argc, char **argv)
{
    const char *sub = NULL, *azp = NULL;
    const char *key_path = vt_config_str("VENTA_DEV_SIGNING_KEY", ".run/dev-signing-key.pem");
    long ttl = 3600;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--sub") == 0 && i + 1 < argc)
            sub = argv[++i];
        else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
            key_path = argv[++i];
        else if (strcmp(argv[i], "--azp") == 0 && i + 1 < argc)
            azp = argv[++i];
        else if (strcmp(argv[i], "--ttl") == 0 && i + 1 < argc)
            ttl = strtol(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: venta-cli token --sub USER [--ttl SECONDS] [--azp ORIGIN] "
                            "[--key PEM]\n");
            return 2;
        }
    }
    if (!sub || !*sub || strlen(sub) > 128 || ttl <= 0 || ttl > 86400 * 30) {
        fprintf(stderr, "token: --sub USER is required (1..128 chars); --ttl 1..2592000\n");
        return 2;
    }
    char token[4096], err[512];
    if (cli_mint_token(sub, ttl, azp, key_path, token, sizeof token, err, sizeof err) != 0) {
        fprintf(stderr, "token: %s\n", err);
        return 1;
    }
    printf("%s\n", token);
    return 0;
}
