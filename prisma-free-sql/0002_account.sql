-- 0002: the account schema, owned by venta-user (users, subscriptions, webhook events).
-- Users are keyed by the identity provider's id (Clerk's user_…), which is the id the
-- whole API uses (ownerId, x-user-id). Deleting a user is a soft delete (deleted_at):
-- a late webhook for that user must find the row, not recreate a fresh one.
CREATE SCHEMA IF NOT EXISTS account;

CREATE TABLE account.users (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    clerk_id    text NOT NULL UNIQUE CHECK (char_length(clerk_id) BETWEEN 1 AND 128),
    email       text CHECK (email IS NULL OR char_length(email) <= 320),
    first_name  text CHECK (first_name IS NULL OR char_length(first_name) <= 200),
    last_name   text CHECK (last_name IS NULL OR char_length(last_name) <= 200),
    image_url   text CHECK (image_url IS NULL OR char_length(image_url) <= 2048),
    deleted_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One subscription per user and provider: RevenueCat events move it through states.
CREATE TABLE account.subscriptions (
    id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id                 uuid NOT NULL REFERENCES account.users (id) ON DELETE CASCADE,
    provider                text NOT NULL DEFAULT 'revenuecat',
    product_id              text,
    entitlement_ids         text[] NOT NULL DEFAULT '{}',
    status                  text NOT NULL
        CHECK (status IN ('active', 'cancelled', 'expired', 'billing_issue', 'paused')),
    entitled                boolean NOT NULL DEFAULT false,
    period_type             text,
    store                   text,
    environment             text,
    original_transaction_id text,
    purchased_at            timestamptz,
    expires_at              timestamptz,
    last_event_id           text,
    last_event_type         text,
    last_event_at           timestamptz,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, provider)
);

-- Webhook idempotency: the row and the event's effect commit in one transaction.
CREATE TABLE account.webhook_events (
    provider      text NOT NULL CHECK (provider IN ('clerk', 'revenuecat')),
    event_id      text NOT NULL CHECK (char_length(event_id) BETWEEN 1 AND 256),
    event_type    text NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    processed_at  timestamptz,
    PRIMARY KEY (provider, event_id)
);
