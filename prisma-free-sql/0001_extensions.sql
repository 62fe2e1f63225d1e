-- 0001: extensions every service relies on.
-- PostGIS for live positions (vendor_locations) and radius search; pg_trgm for
-- typo-tolerant vendor search. Both are created in public so every schema sees them.
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
