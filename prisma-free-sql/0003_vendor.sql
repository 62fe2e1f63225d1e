-- 0003: the vendor schema, owned by venta-vendor (profiles and their search index).
-- owner_id is the identity provider's user id (no foreign key: the users table belongs
-- to another service; venta-vendor learns of deleted users from evt.user.deleted).
-- last_location is the vendor's last known position, refreshed by venta-vendor from
-- loc.> at most once per vendor per interval, for search-near and profile views.
CREATE SCHEMA IF NOT EXISTS vendor;

CREATE TABLE vendor.vendors (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id          text NOT NULL CHECK (char_length(owner_id) BETWEEN 1 AND 128),
    name              text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 120),
    description       text NOT NULL DEFAULT '' CHECK (char_length(description) <= 2000),
    email             text CHECK (email IS NULL OR char_length(email) <= 320),
    phone             text CHECK (phone IS NULL OR char_length(phone) <= 32),
    website           text CHECK (website IS NULL OR char_length(website) <= 2048),
    profile_image     text CHECK (profile_image IS NULL OR char_length(profile_image) <= 2048),
    is_open           boolean NOT NULL DEFAULT false,
    last_location     geography(Point, 4326),
    last_location_at  timestamptz,
    search_vector     tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', name), 'A') ||
        setweight(to_tsvector('english', description), 'B')) STORED,
    deleted_at        timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX vendors_owner_idx ON vendor.vendors (owner_id, created_at, id)
    WHERE deleted_at IS NULL;
CREATE INDEX vendors_search_idx ON vendor.vendors USING gin (search_vector)
    WHERE deleted_at IS NULL;
CREATE INDEX vendors_name_trgm_idx ON vendor.vendors USING gin (name gin_trgm_ops)
    WHERE deleted_at IS NULL;
CREATE INDEX vendors_last_location_idx ON vendor.vendors USING gist (last_location)
    WHERE deleted_at IS NULL;
