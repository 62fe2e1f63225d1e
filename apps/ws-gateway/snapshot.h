/*
 * snapshot.h — the answer to watch.bounds (snapshot.c): LocationService's vendors in
 * the box, merged with fanout.c's live state, then the ack.
 */
#ifndef VENTA_WS_SNAPSHOT_H
#define VENTA_WS_SNAPSHOT_H

#include "conn.h"

/* Ask LocationService for the box of c's current viewport (after its subscriptions),
 * send the snapshot, then the ack of the watch.bounds whose ref is given. */
void snapshot_request(conn *c, const char *ref);

#endif
