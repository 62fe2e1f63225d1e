-- 0010: the media schema, owned by venta-vendor (MediaService): vendor images,
-- content-addressed. hash is the lowercase hex SHA-256 of the bytes that were uploaded;
-- the upload itself is never stored (its EXIF may hold the phone's GPS position), only
-- what libs/media derived from it: each variant (longest edge 1024 or 256 px) as WebP
-- and as JPEG, auto-rotated and stripped of every piece of metadata. A second upload of
-- the same bytes finds its row here and stores nothing (INSERT … ON CONFLICT DO NOTHING).
CREATE SCHEMA IF NOT EXISTS media;

CREATE TABLE media.images (
    hash           text PRIMARY KEY CHECK (hash ~ '^[0-9a-f]{64}$'),
    source_format  text NOT NULL CHECK (source_format IN ('jpeg', 'png', 'webp', 'heif')),
    source_bytes   bigint NOT NULL CHECK (source_bytes > 0),
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE media.renditions (
    hash     text NOT NULL REFERENCES media.images (hash) ON DELETE CASCADE,
    variant  integer NOT NULL CHECK (variant IN (256, 1024)),
    format   text NOT NULL CHECK (format IN ('webp', 'jpg')),
    width    integer NOT NULL CHECK (width BETWEEN 1 AND 1024),
    height   integer NOT NULL CHECK (height BETWEEN 1 AND 1024),
    content  bytea NOT NULL,
    PRIMARY KEY (hash, variant, format)
);
-- WebP and JPEG are compressed already: keep TOAST from trying again.
ALTER TABLE media.renditions ALTER COLUMN content SET STORAGE EXTERNAL;
