-- 0013: find recent deletions without reading them all.
-- venta-location sweeps, every second, the rows of vendors deleted in the last ten
-- minutes that a position batch racing the deletion stored anyway (apps/location/
-- store.c); the sweep reads deleted_vendors by deleted_at, which grows with every
-- vendor ever deleted.
CREATE INDEX deleted_vendors_deleted_at ON location.deleted_vendors (deleted_at);
