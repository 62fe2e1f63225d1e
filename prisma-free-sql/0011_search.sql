-- 0011: vendor search as a user types (issue #19, docs/search.md).
-- An inverted index kept by triggers, so that every write path (venta-vendor,
-- venta-migrate import-venta, direct SQL) keeps it consistent in the same transaction:
--   search_terms     the vocabulary: every word of a live vendor's name or description,
--                    folded (lower case, accents off, split on anything but [a-z0-9])
--   search_variants  each term's symmetric-delete variants (the term itself, plus every
--                    deletion of 1 letter for terms of 4-7 letters, of up to 2 for 8+):
--                    a query word within k typos of a term shares a variant with it
--   search_postings  term -> vendor, per field (0 name, 1 description)
-- venta-vendor derives the query word's own variants, fetches candidate terms here, keeps
-- those within the allowed optimal-string-alignment distance, then ranks vendors from the
-- postings (apps/vendor/search_engine.c).
-- The folding is written twice, here and in apps/vendor/search_words.c; the integration
-- test checks that both give the same words for every character either knows.
-- Terms whose last vendor went away stay in the vocabulary: they only cost a candidate
-- that matches no posting.
ALTER TABLE vendor.vendors ADD COLUMN last_live_at timestamptz;

CREATE TABLE vendor.search_terms (
    term text COLLATE "C" PRIMARY KEY
);
CREATE TABLE vendor.search_variants (
    variant text COLLATE "C" NOT NULL,
    term    text COLLATE "C" NOT NULL,
    PRIMARY KEY (variant, term)
);
CREATE TABLE vendor.search_postings (
    term      text COLLATE "C" NOT NULL,
    vendor_id uuid NOT NULL,
    field     smallint NOT NULL CHECK (field IN (0, 1)),
    PRIMARY KEY (term, vendor_id, field)
);
CREATE INDEX search_postings_vendor_idx ON vendor.search_postings (vendor_id);

-- Accents off for Latin letters (the same table as search_words.c), then lower case:
-- in that order, so that lower() only ever meets ASCII letters it could change (it
-- depends on the database's locale beyond ASCII: 'İ' would become 'i' + a combining dot).
CREATE FUNCTION vendor.search_fold(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT lower(translate(
        replace(replace(replace(replace(replace(replace(t,
            'ß', 'ss'), 'Æ', 'ae'), 'æ', 'ae'), 'Œ', 'oe'), 'œ', 'oe'), 'ẞ', 'ss'),
        'ÀÁÂÃÄÅàáâãäåĀāĂăĄąÇçĆćČčĎďĐđÈÉÊËèéêëĒēĖėĘęĚěĞğÌÍÎÏìíîïĪīĮįİıŁłÑñŃńŇňÒÓÔÕÖØòóôõöøŌōŐőŘřŚśŞşŠšŢţŤťÙÚÛÜùúûüŪūŮůŰűŲųÝýÿŸŹźŻżŽž',
        'aaaaaaaaaaaaaaaaaaccccccddddeeeeeeeeeeeeeeeeggiiiiiiiiiiiiiillnnnnnnoooooooooooooooorrssssssttttuuuuuuuuuuuuuuuuyyyyzzzzzz'))
$$;

-- The words of a text, as search_words.c splits it: at most 32 letters each.
CREATE FUNCTION vendor.search_words(t text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT left(w, 32) FROM regexp_split_to_table(vendor.search_fold(t), '[^a-z0-9]+') AS w
    WHERE w <> ''
$$;

-- A term and its deletion variants (1 deletion for 4-7 letters, up to 2 for 8+).
CREATE FUNCTION vendor.search_deletes(w text) RETURNS SETOF text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
    n int := length(w);
    d text;
BEGIN
    RETURN NEXT w;
    IF n < 4 THEN
        RETURN;
    END IF;
    FOR i IN 1..n LOOP
        d := overlay(w PLACING '' FROM i FOR 1);
        RETURN NEXT d;
        IF n >= 8 THEN
            FOR j IN i..n - 1 LOOP
                RETURN NEXT overlay(d PLACING '' FROM j FOR 1);
            END LOOP;
        END IF;
    END LOOP;
END
$$;

-- Index one vendor row (a live one), adding the terms the vocabulary lacks.
CREATE FUNCTION vendor.search_index_row(v_id uuid, v_name text, v_description text) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO vendor.search_postings (term, vendor_id, field)
    SELECT DISTINCT w.term, v_id, w.field FROM (
        SELECT vendor.search_words(v_name) AS term, 0::smallint AS field
        UNION ALL
        SELECT vendor.search_words(v_description), 1::smallint) w
    ON CONFLICT DO NOTHING;
    WITH fresh AS (
        INSERT INTO vendor.search_terms (term)
        SELECT DISTINCT p.term FROM vendor.search_postings p WHERE p.vendor_id = v_id
        ON CONFLICT DO NOTHING
        RETURNING term)
    INSERT INTO vendor.search_variants (variant, term)
    SELECT DISTINCT d, f.term FROM fresh f, vendor.search_deletes(f.term) AS d
    ON CONFLICT DO NOTHING;
$$;

CREATE FUNCTION vendor.search_reindex() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM vendor.search_postings WHERE vendor_id = OLD.id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.deleted_at IS NULL THEN
        PERFORM vendor.search_index_row(NEW.id, NEW.name, NEW.description);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER vendors_search_insert AFTER INSERT ON vendor.vendors
    FOR EACH ROW EXECUTE FUNCTION vendor.search_reindex();
-- Only a change of what is indexed: location writes and other profile fields skip it.
CREATE TRIGGER vendors_search_update AFTER UPDATE OF name, description, deleted_at
    ON vendor.vendors FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name
          OR OLD.description IS DISTINCT FROM NEW.description
          OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
    EXECUTE FUNCTION vendor.search_reindex();
CREATE TRIGGER vendors_search_delete AFTER DELETE ON vendor.vendors
    FOR EACH ROW EXECUTE FUNCTION vendor.search_reindex();

SELECT vendor.search_index_row(v.id, v.name, v.description)
FROM vendor.vendors v WHERE v.deleted_at IS NULL;
