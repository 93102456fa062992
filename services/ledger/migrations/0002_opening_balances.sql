-- Cash is reconciled against the broker from a baseline: the first reconciliation of an account books the
-- broker's cash the ledger has not seen (deposits, the paper account's starting balance) as an opening
-- entry between `cash` and `equity`. Later differences are drift, reported, never booked silently.
ALTER TABLE journal_accounts DROP CONSTRAINT journal_accounts_kind;
ALTER TABLE journal_accounts ADD CONSTRAINT journal_accounts_kind CHECK (kind IN (
    'cash', 'position_qty', 'market_qty', 'position_cost', 'position_fees', 'commission', 'realized_pnl',
    'equity'));
ALTER TABLE journal_entries DROP CONSTRAINT journal_entries_kind;
ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_kind CHECK (kind IN (
    'fill', 'commission', 'reversal', 'opening'));
