/*
 * vt_harness.h — what a C integration test needs from tests/harness/harness.sh:
 * the servers' URLs, a fresh database of its own, and restarts for fault tests.
 *
 * Tests run under `harness.sh run -- meson test …`; outside it they stop at once
 * with a message saying so instead of testing nothing.
 */
#ifndef VT_HARNESS_H
#define VT_HARNESS_H

/* The value of a harness variable (VENTA_TEST_REDIS_URL…); exits 1 if unset. */
const char *vt_harness_env(const char *name);

/* Create an empty database (PostGIS and pg_trgm installed) named after prefix and
 * return its libpq URL; the caller frees it. Exits 1 on failure. */
char *vt_harness_db_new(const char *prefix);

/* Run `harness.sh ACTION SERVER` (restart|stop|start, postgres|redis|nats);
 * returns its exit status. */
int vt_harness_server(const char *action, const char *server);

#endif
