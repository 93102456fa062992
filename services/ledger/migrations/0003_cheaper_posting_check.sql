-- The per-posting deferred check fired once per posting (about eight per fill) and dominated ingest time.
-- Entries stay checked by the deferred constraint trigger on journal_entries (once per entry, at commit).
-- Postings are checked once per INSERT statement instead: the statement's postings must balance per entry
-- and currency, so an entry committed earlier can never be unbalanced by a later insert. Writers
-- therefore insert an entry's postings in one statement (the ledger always does).
DROP TRIGGER journal_posting_balances ON journal_postings;

CREATE FUNCTION check_statement_postings_balanced() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    unbalanced record;
BEGIN
    -- Only the statement's own rows: if every statement adds a zero-sum set to each entry, every entry
    -- stays balanced, so nothing already in the table needs reading.
    SELECT entry_id, currency, sum(amount) AS total INTO unbalanced
      FROM new_postings GROUP BY entry_id, currency HAVING sum(amount) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % does not balance in %: %', unbalanced.entry_id, unbalanced.currency,
            unbalanced.total USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER journal_postings_balance AFTER INSERT ON journal_postings
    REFERENCING NEW TABLE AS new_postings FOR EACH STATEMENT EXECUTE FUNCTION check_statement_postings_balanced();
