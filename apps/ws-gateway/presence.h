/*
 * presence.h — vendor presence in Redis, shared by every gateway (presence.c): the key
 * naming the connection that holds a vendor, the deadlines set, and the claim that
 * publishes the offline of a presence nobody renewed. streams.c decides when; this
 * module only talks to Redis and reports back through a callback.
 */
#ifndef VENTA_WS_PRESENCE_H
#define VENTA_WS_PRESENCE_H

#include "conn.h"

#include <stdbool.h>
#include <stdint.h>

/* A presence write finished: ok when both commands succeeded; lost when it was a
 * refresh and the vendor's member in presence:deadlines was gone (the key was lost and
 * a claim may have published the vendor offline). Runs on the loop, once per write. */
typedef void (*presence_written_fn)(conn *owner, const char *vendor_id, bool ok, bool lost);

/* presence:vendor:<vendor_id> = "<instance>/<owner's connection>", expiring at
 * deadline_ms, and its member in presence:deadlines; refresh: the stream was online
 * before. done reports the outcome (it may run before this returns). VT_OK, or
 * VT_RESOURCE_EXHAUSTED when nothing was sent (done is not called). */
int presence_write(ws_gateway *g, conn *owner, const char *vendor_id, int64_t deadline_ms,
                   int64_t now_ms, bool refresh, presence_written_fn done);
/* A clean offline: DEL the key and ZREM the member if owner still holds the presence,
 * and then publish the offline (with last_ts, the stream's last position); a vendor
 * that came back through another connection meanwhile stays online. */
void presence_release(ws_gateway *g, const conn *owner, const char *vendor_id, int64_t last_ts);
/* Once a second: claim expired vendors from presence:deadlines, publish them offline. */
void presence_claim(ws_gateway *g, int64_t now_ms);

#endif
