-- Every journal account holds one currency. A commission in another currency than its trade's used to post
-- to the instrument's commission account (keyed without a currency), whose running balance then added up
-- two currencies; the ledger now gives it an account of its own (`journal.AccountRef.foreign`), and the
-- posting check refuses a posting whose currency is not its account's. The journal is append-only, so
-- accounts that already hold other currencies keep them, listed here, so that the reversal of such a
-- posting (a correction of its execution) can still be written; nothing new can be added to that list.
ALTER TABLE journal_accounts ADD COLUMN legacy_other_currencies text[] NOT NULL DEFAULT '{}';

UPDATE journal_accounts a SET legacy_other_currencies = o.currencies
  FROM (SELECT p.account_key, array_agg(DISTINCT p.currency ORDER BY p.currency) AS currencies
          FROM journal_postings p JOIN journal_accounts a ON a.account_key = p.account_key
         WHERE p.currency <> a.currency GROUP BY p.account_key) o
 WHERE a.account_key = o.account_key;

DROP TRIGGER journal_postings_balance ON journal_postings;
DROP FUNCTION check_statement_postings_balanced();

-- Once per INSERT statement on postings: the statement's postings balance per entry and currency, so a
-- later insert can never unbalance an entry committed earlier. An entry's postings go in one statement.
-- Each posting names an existing account in that account's currency (or, for an account written before
-- migration 0010, one of the other currencies it already held), so an account's balance is in one currency.
CREATE FUNCTION check_statement_postings_balanced() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    unbalanced record;
    missing text;
    mixed record;
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
    -- One lookup per distinct (account, currency) of the statement, as the account check alone was.
    SELECT p.account_key, p.currency, a.currency AS account_currency, a.account_key IS NULL AS absent INTO mixed
      FROM (SELECT DISTINCT account_key, currency FROM new_postings) p
      LEFT JOIN journal_accounts a ON a.account_key = p.account_key
     WHERE a.account_key IS NULL
        OR (p.currency <> a.currency AND p.currency <> ALL (a.legacy_other_currencies)) LIMIT 1;
    IF FOUND AND mixed.absent THEN
        RAISE EXCEPTION 'journal posting names account %, which does not exist', mixed.account_key
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF FOUND THEN
        RAISE EXCEPTION 'journal posting in % to account %, which holds %', mixed.currency, mixed.account_key,
            mixed.account_currency USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER journal_postings_balance AFTER INSERT ON journal_postings
    REFERENCING NEW TABLE AS new_postings FOR EACH STATEMENT EXECUTE FUNCTION check_statement_postings_balanced();
