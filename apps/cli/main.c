/*
 * venta-cli — operator and developer commands for a Venta mesh.
 *
 *   venta-cli token --sub USER [--ttl S] [--azp ORIGIN]   dev session JWT (scripts/run's key)
 *   venta-cli health                                       health of every gRPC service
 *   venta-cli migrations                                   schema migration status
 *   venta-cli simulate [--vendors N] [--speed M/S] …       a fleet streaming over the WS edge
 */
#include "cli.h"

#include "vt_core.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    vt_log_init("venta-cli", VT_LOG_WARN);
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } commands[] = {{"token", cli_token},
                    {"health", cli_health},
                    {"migrations", cli_migrations},
                    {"simulate", cli_simulate}};
    for (size_t i = 0; argc > 1 && i < sizeof commands / sizeof *commands; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 2, argv + 2);
    fprintf(stderr, "usage: venta-cli token --sub USER [--ttl S] [--azp ORIGIN] | health | "
                    "migrations | simulate [--vendors N] [--speed M/S] [--city LAT,LNG]\n");
    return 2;
}
