/*
 * trace_headers.c — the W3C trace context on NATS messages (docs/tracing.md).
 *
 * A publish made while the thread has a current span (vt_trace_current: a gRPC
 * handler, a fix on the WebSocket edge, an outbox row being relayed) carries it in the
 * `traceparent` message header; a publish without one stays a plain PUB, as before, with
 * no header and no extra allocation. On the receiving side each message callback runs
 * as a span of its own, a child of the header's span (or the root of a new trace when
 * the message has none), current on the callback's thread while it runs; nats.c finds a
 * header only in messages that have one, so untraced messages cost a length check.
 */
#include "bus_internal.h"
#include "vt_core.h"

natsStatus bus_msg_new(natsMsg **out, const char *subject, const void *data, size_t len,
                       const vt_trace *trace)
{
    natsStatus s = natsMsg_Create(out, subject, NULL, data, (int)len);
    if (s != NATS_OK || !trace)
        return s;
    char traceparent[VT_TRACEPARENT_LEN + 1];
    vt_trace_format(trace, traceparent);
    s = natsMsgHeader_Set(*out, VT_TRACEPARENT_HEADER, traceparent);
    if (s != NATS_OK) {
        natsMsg_Destroy(*out);
        *out = NULL;
    }
    return s;
}

const vt_trace *bus_trace_enter(natsMsg *msg, vt_trace *span)
{
    const char *traceparent = NULL;
    if (natsMsgHeader_Get(msg, VT_TRACEPARENT_HEADER, &traceparent) != NATS_OK)
        traceparent = NULL;
    vt_trace_start(traceparent, traceparent ? strlen(traceparent) : 0, span);
    return vt_trace_set_current(span);
}
