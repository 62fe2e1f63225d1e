-- 0007: where a closed vendor connection's positions end.
-- online used to be turned on by every stored position and off by an offline status
-- only when the row had not been written after the status's time. A phone that sends
-- its last fix and closes within a batch window (the fix stored after the offline, or
-- the offline checked against the later write time) stayed online for good, and a
-- position set through REST made a vendor online with no connection at all.
-- Now a position marks the vendor online only when it comes from a live connection
-- (VendorLocation.live) and is newer than offline_through, the vendor ts of the last
-- position of the connection that went offline (VendorStatus.last_ts).
ALTER TABLE location.vendor_locations ADD COLUMN offline_through timestamptz;
