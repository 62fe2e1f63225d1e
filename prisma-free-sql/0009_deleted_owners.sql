-- 0009: a deleted user creates no more vendors.
-- evt.user.deleted soft-deletes the user's vendors, but the user's session token stays
-- valid until it expires, and a CreateVendor meanwhile made a vendor for an owner who no
-- longer exists. venta-vendor now remembers each owner whose deletion it applied, and
-- CreateVendor refuses that owner. Both take a transaction advisory lock on the owner
-- first, so a creation racing the deletion either commits before it (and is swept by
-- it) or sees this row.
CREATE TABLE vendor.deleted_owners (
    owner_id   text PRIMARY KEY CHECK (char_length(owner_id) BETWEEN 1 AND 128),
    deleted_at timestamptz NOT NULL DEFAULT now()
);
