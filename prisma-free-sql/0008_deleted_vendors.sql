-- 0008: deleted vendors stay off the live map.
-- evt.vendor.deleted removed a vendor's row, but a position still on its way (or from
-- an app that kept streaming) put it back, listed until it went stale. A deleted vendor
-- is now remembered here, and positions for it are not stored.
CREATE TABLE location.deleted_vendors (
    vendor_id  uuid PRIMARY KEY,
    deleted_at timestamptz NOT NULL DEFAULT now()
);
