/*
 * ws_messages.h — the JSON of API.md §4: client messages in, parsed and checked; server
 * messages out, encoded once into a refcounted msgbuf that every recipient shares.
 * Pure (jansson and libc): the fuzz target and the unit tests compile it as it is.
 */
#ifndef VENTA_WS_MESSAGES_H
#define VENTA_WS_MESSAGES_H

#include "vt_core.h"
#include "vt_events.h"
#include "vt_geo.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A server message, encoded once and shared by every connection it goes to. */
typedef struct msgbuf {
    uint32_t refs;
    uint32_t len;
    int64_t t_in_ns; /* when its cause reached the gateway (0: not measured) */
    /* Location messages: their vendor (fanout.c's ventry), so that a queue keeps only
     * the latest per vendor; NULL for every message that must not be merged. */
    const void *coalesce;
    char data[];
} msgbuf;

msgbuf *msg_new(size_t cap);
static inline msgbuf *msg_ref(msgbuf *m)
{
    m->refs++;
    return m;
}
void msg_unref(msgbuf *m);

typedef enum {
    OP_UNKNOWN = 0,
    OP_AUTH,
    OP_LOCATION,
    OP_WATCH_BOUNDS,
    OP_WATCH_VENDOR,
    OP_UNWATCH_VENDOR,
    OP_PING,
} client_op;

/* One parsed client message. ref is the client's "ref" as JSON text ("" when absent). */
typedef struct {
    client_op op;
    char ref[80];
    const char *token; /* auth: points into the parsed document */
    size_t token_len;
    char vendor_id[VT_UUID_LEN + 1]; /* (un)watch.vendor */
    vt_events_position pos;          /* location: checked by vt_events_position_valid */
    /* location: the fix's own "traceparent" when it carried a well-formed one (traced),
     * the span it names; a missing or malformed one is not an error (a new trace). */
    bool traced;
    vt_trace remote;
    vt_geo_box box;
    void *doc; /* the jansson document that token points into */
} client_msg;

/* Parse and validate; 0, or a status with a message for the client in err. */
int msg_parse(const char *text, size_t len, client_msg *out, char *err, size_t errlen);
void msg_parse_done(client_msg *m);

/* Encoders. */
void msg_format_double(double v, char *out, size_t outlen);
/* {"op":op, vendorId, lat, lng, heading, speed, ts} of p. */
msgbuf *msg_encode_position(const char *op, const vt_events_position *p);
msgbuf *msg_encode_leave(const char *vendor_id);
msgbuf *msg_encode_status(const char *vendor_id, bool online);
msgbuf *msg_encode_ack(const char *ref);
msgbuf *msg_encode_error(const char *code, const char *message, const char *ref);

#endif
