/*
 * cli.h — the commands of venta-cli, one file each.
 */
#ifndef VENTA_CLI_H
#define VENTA_CLI_H

#include <stddef.h>

int cli_token(int argc, char **argv);
int cli_simulate(int argc, char **argv);

/* A dev session JWT for sub, signed RS256 with the PEM private key at key_path. */
int cli_mint_token(const char *sub, long ttl, const char *azp, const char *key_path, char *out,
                   size_t outlen, char *err, size_t errlen);
int cli_health(int argc, char **argv);
int cli_migrations(int argc, char **argv);

#endif
