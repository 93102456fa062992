-- Bulk replay writes a chunk's journal as two COPYs straight into the tables, entries first, then their
-- postings: the temp-table detour that let one statement insert both (COPY into staging, then INSERT … SELECT
-- and DELETE) was about a fifth of the journal's Postgres time. "Every entry has postings" can then no longer
-- be checked at the end of the entries' statement, so it is checked when the transaction commits, still once
-- per statement and set-based: the statement trigger on entries notes the statement's range of entry ids,
-- and a deferred constraint trigger on that note checks the range at COMMIT (and deletes the note). An entry
-- without postings still never commits. The posting checks (balanced per entry and currency, naming existing
-- entries and accounts) stay at the end of each INSERT statement on postings.
DROP TRIGGER journal_entries_have_postings ON journal_entries;
DROP FUNCTION check_statement_entries_have_postings();

CREATE TABLE journal_entry_checks (
    first_entry_id  bigint NOT NULL,
    last_entry_id   bigint NOT NULL
);

CREATE FUNCTION note_entries_to_check() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO journal_entry_checks (first_entry_id, last_entry_id)
    SELECT min(entry_id), max(entry_id) FROM new_entries HAVING count(*) > 0;
    RETURN NULL;
END;
$$;

CREATE TRIGGER journal_entries_have_postings AFTER INSERT ON journal_entries
    REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION note_entries_to_check();

-- Every entry in the noted range (the statement's own, and any committed one in between, which has postings
-- anyway) has postings.
CREATE FUNCTION check_entries_have_postings() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    missing bigint;
BEGIN
    SELECT e.entry_id INTO missing FROM journal_entries e
     WHERE e.entry_id BETWEEN NEW.first_entry_id AND NEW.last_entry_id
       AND NOT EXISTS (SELECT 1 FROM journal_postings p WHERE p.entry_id = e.entry_id) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % has no postings', missing USING ERRCODE = 'check_violation';
    END IF;
    DELETE FROM journal_entry_checks
     WHERE first_entry_id = NEW.first_entry_id AND last_entry_id = NEW.last_entry_id;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER journal_entry_checks_at_commit AFTER INSERT ON journal_entry_checks
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_entries_have_postings();
