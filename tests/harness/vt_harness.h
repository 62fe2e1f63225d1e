/*
 * vt_harness.h — what a C integration test needs from tests/harness/harness.sh:
 * the servers' URLs, a fresh database of its own, and restarts for fault tests.
 *
 * Tests run under `harness.sh run -- meson test …`; outside it they stop at once
 * with a message saying so instead of testing nothing.
 */
#ifndef VT_HARNESS_H
#define VT_HARNESS_H

#include <libpq-fe.h>

/* The value of a harness variable (VENTA_TEST_REDIS_URL…); exits 1 if unset. */
const char *vt_harness_env(const char *name);

/* Create an empty database (PostGIS and pg_trgm installed) named after prefix and
 * return its libpq URL; the caller frees it. Exits 1 on failure. */
char *vt_harness_db_new(const char *prefix);

/* Run `harness.sh ACTION SERVER` (restart|stop|start, postgres|redis|nats);
 * returns its exit status. */
int vt_harness_server(const char *action, const char *server);

/* A database with every migration of prisma-free-sql/ applied (VENTA_MIGRATIONS_DIR). */
char *vt_harness_db_new_migrated(const char *prefix);

/* A live connection to url kept in *cache: reconnected when the harness restarted
 * PostgreSQL under it. Exits 1 when it cannot connect. */
PGconn *vt_harness_pg(PGconn **cache, const char *url);

/* A free TCP port on 127.0.0.1 (the kernel's choice). */
int vt_harness_free_port(void);

/* Start a service binary with the current environment plus env (NULL-terminated
 * "NAME=value" strings, which win); its stderr goes to our stderr. */
int vt_harness_spawn(const char *path, const char *const *env);
/* Send sig (0: none) and wait up to timeout_ms for it to exit; SIGKILL after that.
 * Returns its exit status, 128+signal when killed by one, -1 on error. */
int vt_harness_stop(int pid, int sig, int timeout_ms);
/* Poll until connect() to 127.0.0.1:port succeeds, for up to timeout_ms. */
int vt_harness_wait_port(int port, int timeout_ms);

#endif
