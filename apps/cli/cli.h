/*
 * cli.h — the commands of venta-cli, one file each.
 */
#ifndef VENTA_CLI_H
#define VENTA_CLI_H

int cli_token(int argc, char **argv);
int cli_health(int argc, char **argv);
int cli_migrations(int argc, char **argv);

#endif
