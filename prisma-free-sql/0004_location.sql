-- 0004: the location schema, owned by venta-location (live positions).
-- Deliberately narrow: every position update rewrites the row, and each non-HOT update
-- rewrites every index entry, so the table carries one GiST index on the point and
-- nothing else that changes. fillfactor leaves room for HOT updates when the point's
-- index entry is unchanged. reported_at is the vendor's own timestamp (older updates
-- are ignored); updated_at is when we stored it (freshness for VENTA_LOCATION_TTL_S).
-- online follows the WebSocket edge's vendor.<id>.status events: a stored position
-- turns it on, an offline event turns it off.
CREATE SCHEMA IF NOT EXISTS location;

CREATE TABLE location.vendor_locations (
    vendor_id    uuid PRIMARY KEY,
    position     geometry(Point, 4326) NOT NULL,
    heading      real,
    speed        real,
    accuracy     real,
    online       boolean NOT NULL DEFAULT true,
    reported_at  timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 70);

CREATE INDEX vendor_locations_position_idx ON location.vendor_locations USING gist (position);
