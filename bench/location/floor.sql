-- bench/location/floor.sql — the write floor of the ingest on this database: how many
-- stored positions a second PostgreSQL itself can rewrite, with nothing in front of it
-- (no NATS, no service, no client round trips). Run by bench/location/run with psql
-- variables vendors, batch, rounds and label; prints one line
--   floor label=… vendors=… batch=… rows=… seconds=… rows_per_s=… wal_mb=… hot_pct=…
--
-- The table holds the vendors loc-query seed-sql stored (c0000000-…-<n>); each
-- batch moves `batch` distinct vendors a few metres on and one second later, spread
-- over the table as a fleet's due vendors are (a stride through the ids, not a
-- range), in one UPDATE … FROM unnest, and commits: the shape of the service's merge,
-- without its parameters, its ON CONFLICT or its deleted-vendor check. Same session
-- settings as the writers (synchronous_commit off), same durable server.
\set ON_ERROR_STOP 1
SET synchronous_commit = off;

CREATE OR REPLACE PROCEDURE public.bench_floor(vendors int, batch int, rounds int)
LANGUAGE plpgsql AS $$
DECLARE
    batches int := (vendors + batch - 1) / batch;
    stride bigint := 7919; -- prime: i * stride mod vendors visits every vendor once
BEGIN
    FOR r IN 1..rounds LOOP
        FOR b IN 0..batches - 1 LOOP
            UPDATE location.vendor_locations l
               SET position = ST_SetSRID(ST_MakePoint(ST_X(l.position) + 0.00003,
                                                      ST_Y(l.position)), 4326),
                   reported_at = l.reported_at + interval '1 second',
                   updated_at = now()
              FROM (SELECT ('c0000000-0000-4000-8000-' ||
                            lpad(((i::bigint * stride) % vendors + 1)::text, 12, '0'))::uuid AS v
                      FROM generate_series(b * batch, least(vendors, (b + 1) * batch) - 1) i) t
             WHERE l.vendor_id = t.v;
            COMMIT;
        END LOOP;
    END LOOP;
END $$;

SELECT pg_current_wal_lsn() AS lsn0, clock_timestamp() AS t0,
       n_tup_hot_upd AS hot0, n_tup_upd AS upd0
  FROM pg_stat_user_tables WHERE relid = 'location.vendor_locations'::regclass \gset
CALL public.bench_floor(:vendors, :batch, :rounds);
SELECT pg_stat_force_next_flush();
SELECT format('floor label=%s vendors=%s batch=%s rows=%s seconds=%s rows_per_s=%s wal_mb=%s hot_pct=%s',
              :'label', :vendors, :batch, :vendors * :rounds,
              round(extract(epoch FROM clock_timestamp() - :'t0')::numeric, 2),
              round(:vendors * :rounds / extract(epoch FROM clock_timestamp() - :'t0')::numeric),
              round(pg_wal_lsn_diff(pg_current_wal_lsn(), :'lsn0') / 1048576.0, 1),
              round(100.0 * (n_tup_hot_upd - :hot0) / greatest(1, n_tup_upd - :upd0), 1))
  FROM pg_stat_user_tables WHERE relid = 'location.vendor_locations'::regclass \gset
\echo :format
DROP PROCEDURE public.bench_floor(int, int, int);
