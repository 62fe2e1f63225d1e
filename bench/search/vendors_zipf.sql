-- 100,000 vendors in the realistic shape (bench/search/run zipf): words drawn with Zipfian
-- frequencies from a vocabulary of 20,000, so that most words are rare and a few are
-- very common, as in real text. The vocabulary is made of syllables (a consonant, a
-- vowel, sometimes a closing consonant; 2 to 4 of them, so 4 to 12 letters), from the
-- md5 of the word's rank: the same words on every run. A word's rank r is drawn as
-- floor(20000 ^ random()), P(rank <= r) = ln r / ln 20000 (Zipf, exponent 1): the most
-- common word is about 7 % of the draws, the median rank 141. Names are 2 or 3 words,
-- descriptions 6 to 14; fixed seed. Every row goes through the search triggers of
-- 0011_search.sql.
SELECT setseed(0.23);
WITH vocab AS (
  SELECT array_agg(w ORDER BY r) AS w FROM (
    SELECT r, (SELECT string_agg(
                 substr('bcdfghjklmnprstvwz', 1 + get_byte(h, 2 * k) % 18, 1) ||
                 substr('aeiou', 1 + get_byte(h, 2 * k + 1) % 5, 1) ||
                 CASE WHEN get_byte(h, 10 + k) % 3 = 0
                      THEN substr('nrslt', 1 + get_byte(h, 10 + k) / 3 % 5, 1) ELSE '' END,
                 '' ORDER BY k)
               FROM generate_series(0, 1 + get_byte(h, 9) % 3) AS k) AS w
    FROM generate_series(1, 20000) AS r,
         LATERAL (SELECT decode(md5(r::text), 'hex') AS h) AS x) words)
INSERT INTO vendor.vendors (owner_id, name, description, is_open, updated_at)
SELECT 'bench_owner_' || (g % 5000),
       -- (k in the arguments keeps each draw in its row: once per word, not per query)
       initcap((SELECT string_agg(vocab.w[floor(power(20000, random()))::int + 0 * k], ' ')
                FROM generate_series(1, 2 + (g % 2)) AS k)),
       (SELECT string_agg(vocab.w[floor(power(20000, random()))::int + 0 * k], ' ')
        FROM generate_series(1, 6 + (g % 9)) AS k),
       random() < 0.4,
       now() - random() * interval '90 days'
FROM vocab, generate_series(1, 100000) AS g;
VACUUM ANALYZE vendor.vendors;
VACUUM ANALYZE vendor.search_postings;
VACUUM ANALYZE vendor.search_variants;
VACUUM ANALYZE vendor.search_terms;
