-- The deferred per-entry check ran a PL/pgSQL function once per entry at COMMIT (a tenth of a replay's
-- time). Its two rules are now checked once per statement, set-based:
-- - every entry balances per currency: already guaranteed by journal_postings_balance (each INSERT adds
--   zero-sum postings per entry, and postings are append-only), so only "has postings" is left;
-- - every entry has postings: an AFTER INSERT statement trigger on journal_entries. Entries and their
--   postings must therefore be inserted by one statement (the ledger uses a data-modifying CTE): the after
--   triggers of both tables fire at the end of that statement and each sees the other's rows.
DROP TRIGGER journal_entry_balances ON journal_entries;
DROP FUNCTION check_entry_balanced();

CREATE FUNCTION check_statement_entries_have_postings() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    missing bigint;
BEGIN
    SELECT e.entry_id INTO missing FROM new_entries e
     WHERE NOT EXISTS (SELECT 1 FROM journal_postings p WHERE p.entry_id = e.entry_id) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % has no postings', missing USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER journal_entries_have_postings AFTER INSERT ON journal_entries
    REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION check_statement_entries_have_postings();
