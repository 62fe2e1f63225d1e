-- 0005: ordering of Clerk user webhooks. clerk_updated_at is the provider's updated_at
-- of the last profile applied to the row (NULL while the row holds no profile from
-- Clerk, e.g. a user first seen in a RevenueCat event). An older user.updated arriving
-- late compares against it and changes nothing; updated_at stays the time our row
-- last changed, which the provider's clock must not be compared with.
ALTER TABLE account.users ADD COLUMN clerk_updated_at timestamptz;
