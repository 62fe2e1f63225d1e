-- 0011: position updates in place (HOT).
-- Every fix rewrote the row's GiST entry: an update that changes an indexed column is
-- not HOT, so each one inserted a new heap tuple version into the GiST index and the
-- primary key as well, about three quarters of a write's cost (bench/location/floor.sql
-- on a durable database). The index now covers `cell`, the position snapped to a
-- 0.01° grid (about 1 km), computed by PostgreSQL: a vendor moving a few metres keeps
-- its cell, no indexed value changes, and the update stays on its heap page (HOT)
-- when the page has room, which the lower fillfactor keeps. Box and radius reads ask
-- the index for the cells of the box widened by half a cell, then check the exact
-- position (apps/location/store.c).
ALTER TABLE location.vendor_locations SET (fillfactor = 50); -- before the rewrite below
ALTER TABLE location.vendor_locations
    ADD COLUMN cell geometry(Point, 4326)
        GENERATED ALWAYS AS (ST_SnapToGrid(position, 0.01)) STORED;
CREATE INDEX vendor_locations_cell_idx ON location.vendor_locations USING gist (cell);
DROP INDEX location.vendor_locations_position_idx;
