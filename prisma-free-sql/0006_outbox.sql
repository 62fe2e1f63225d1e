-- 0006_outbox.sql — domain events written in the same transaction as the change they
-- announce, relayed to NATS and deleted once NATS confirmed them (libs/outbox). One
-- table per service schema: nothing reads another service's tables.
CREATE TABLE account.outbox (
    id bigserial PRIMARY KEY,
    subject text NOT NULL,
    payload bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE vendor.outbox (
    id bigserial PRIMARY KEY,
    subject text NOT NULL,
    payload bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
