-- Replay and ingest spent most of their Postgres time in per-row checks: two foreign-key lookups per posting
-- (about six postings per fill) and two queries per entry at commit. The same guarantees, set-based:
-- - postings name an existing entry and account: checked once per INSERT statement against its transition
--   table (one anti-join each) instead of a foreign-key trigger per row. Entries already refuse DELETE and
--   TRUNCATE; accounts now do too, so nothing a posting names can disappear later;
-- - the deferred per-entry check at commit reads the entry's postings once, not twice.
ALTER TABLE journal_postings DROP CONSTRAINT journal_postings_entry_id_fkey;
ALTER TABLE journal_postings DROP CONSTRAINT journal_postings_account_key_fkey;

CREATE OR REPLACE FUNCTION check_statement_postings_balanced() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    unbalanced record;
    missing text;
BEGIN
    -- Only the statement's own rows: if every statement adds a zero-sum set to each entry, every entry
    -- stays balanced, so nothing already in the table needs reading.
    SELECT entry_id, currency, sum(amount) AS total INTO unbalanced
      FROM new_postings GROUP BY entry_id, currency HAVING sum(amount) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % does not balance in %: %', unbalanced.entry_id, unbalanced.currency,
            unbalanced.total USING ERRCODE = 'check_violation';
    END IF;
    SELECT p.entry_id::text INTO missing FROM (SELECT DISTINCT entry_id FROM new_postings) p
     WHERE NOT EXISTS (SELECT 1 FROM journal_entries e WHERE e.entry_id = p.entry_id) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal posting names entry %, which does not exist', missing
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    SELECT p.account_key INTO missing FROM (SELECT DISTINCT account_key FROM new_postings) p
     WHERE NOT EXISTS (SELECT 1 FROM journal_accounts a WHERE a.account_key = p.account_key) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal posting names account %, which does not exist', missing
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION check_entry_balanced() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    lines bigint;
    unbalanced text;
BEGIN
    SELECT sum(n), min(CASE WHEN total <> 0 THEN currency || ': ' || total END) INTO lines, unbalanced
      FROM (SELECT currency, count(*) AS n, sum(amount) AS total
              FROM journal_postings WHERE entry_id = NEW.entry_id GROUP BY currency) per_currency;
    IF lines IS NULL THEN
        RAISE EXCEPTION 'journal entry % has no postings', NEW.entry_id USING ERRCODE = 'check_violation';
    END IF;
    IF unbalanced IS NOT NULL THEN
        RAISE EXCEPTION 'journal entry % does not balance in %', NEW.entry_id, unbalanced
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER journal_accounts_no_delete BEFORE DELETE ON journal_accounts
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER journal_accounts_no_truncate BEFORE TRUNCATE ON journal_accounts
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
