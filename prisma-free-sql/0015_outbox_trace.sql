-- 0015: the W3C trace context of each domain event (docs/tracing.md).
-- vt_outbox_put stores the traceparent of the span that wrote the event (the gRPC call
-- or the consumed event that caused the change) with the row, and the relay sends it
-- on as the NATS message header, so a trace continues through the outbox however long
-- the row waits. Nullable: rows written before this migration, or outside any trace,
-- have none, and adding a nullable column without a default rewrites no table.
ALTER TABLE account.outbox ADD COLUMN traceparent text;
ALTER TABLE vendor.outbox ADD COLUMN traceparent text;
