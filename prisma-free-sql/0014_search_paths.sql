-- 0014: vendor search in time proportional to the page, not to the matches (issue #19,
-- docs/search.md "How fast"). Two indexes:
--   vendors_recency_idx        the search's last ranking keys (more recently active, then
--                              id) in order: a one-word search whose best text tier is
--                              large walks it and stops once the page is full
--   search_postings_vendor_terms_idx
--                              a vendor's postings with their terms, read without the
--                              heap: the text keys of one vendor for a query, computed
--                              per walked or candidate vendor
-- The second replaces search_postings_vendor_idx (vendor_id alone), which the triggers
-- used to delete a vendor's postings; the new one serves that too.
-- Cost on writes: every location write already rewrites the row and its GiST entry (it is
-- never a HOT update), and now also inserts one entry here; profile writes index the
-- same postings as before, each with its term in the second index.
CREATE INDEX vendors_recency_idx ON vendor.vendors
    ((greatest(last_location_at, updated_at)) DESC, id) WHERE deleted_at IS NULL;

CREATE INDEX search_postings_vendor_terms_idx ON vendor.search_postings (vendor_id, term, field);
DROP INDEX vendor.search_postings_vendor_idx;
