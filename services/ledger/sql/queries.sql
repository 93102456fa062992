-- The ledger's queries, loaded by name (services/ledger/sqlfile.py). Connections run with search_path set
-- to the ledger's schema, so table names are unqualified. Batch writes take arrays and unnest them: one
-- round trip per statement whatever the batch size.

-- name: lock_writer
-- Serializes ledger writers until commit, so `commit_seq` values are issued in commit order. The key is
-- derived from the schema here (no parameter), so `begin_writer` can send it in the same round trip as BEGIN.
SELECT pg_advisory_xact_lock(hashtext('ibkr-ledger-writer:' || current_schema())::bigint);

-- name: begin_writer
-- BEGIN and the writer lock in one simple-query round trip (a batch is ~15 round trips; under CPU
-- contention each one is a chance to be descheduled, which is what makes the fill → commit tail).
BEGIN; SELECT pg_advisory_xact_lock(hashtext('ibkr-ledger-writer:' || current_schema())::bigint);

-- name: create_staging_tables
-- Per-connection staging for binary COPY (asyncpg encodes COPY rows far faster than array parameters);
-- emptied at every commit or rollback. Idempotent: runs whenever the pool opens a connection. Decimal
-- columns are staged as their exact text (str(Decimal)) and cast on insert: asyncpg's binary numeric
-- encoder costs several microseconds per value.
CREATE TEMP TABLE IF NOT EXISTS staging_bus_events (
    n bigint, event_id text, stream text, stream_id text, event_type text, account_id text,
    event_time timestamptz, payload bytea, traceparent text, tracestate text) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS staging_fills (
    n bigint, execution_id text, account_id text, order_id text, client_order_id text, instrument_key text,
    symbol text, currency text, multiplier text, instrument bytea, side text, quantity text, price text,
    fill_time timestamptz, venue text, correction boolean, supersedes text, broker_order_id bigint,
    perm_id bigint, origin text, event_id text, commission_booked boolean) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS staging_entries (
    entry_id bigint, entry_key text, account_id text, kind text, execution_id text, instrument_key text,
    description text, event_time timestamptz) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS staging_postings (
    entry_id bigint, line integer, account_key text, currency text, amount text, previous_balance text,
    current_balance text, account_version bigint) ON COMMIT DELETE ROWS;

-- name: insert_bus_events
-- The staged events of a batch; returns those that were new (a re-delivered or replayed event is skipped
-- whole). `seq` is drawn here, under the writer lock taken first in the transaction (commit order).
INSERT INTO bus_events (event_id, seq, stream, stream_id, event_type, account_id, event_time, payload,
                        traceparent, tracestate)
SELECT event_id, nextval('commit_seq'), stream, stream_id, event_type, account_id, event_time, payload,
       traceparent, tracestate
  FROM staging_bus_events ORDER BY n
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id;

-- name: upsert_order
-- Creates the order or moves it on. Status is monotonic: a terminal status is never left, and filled
-- quantity never goes down, whatever order duplicated or late updates arrive in.
INSERT INTO orders AS o (order_id, seq, client_order_id, account_id, instrument_key, symbol, side, quantity,
                         order_type, limit_price, stop_price, time_in_force, outside_rth, spec, status,
                         filled_quantity, average_fill_price, broker_order_id, perm_id, origin,
                         risk_decision_id, reject_code, reject_reason, order_message, event_time)
VALUES ($1, nextval('commit_seq'), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
        $19, $20, $21, $22, $23, $24)
ON CONFLICT (order_id) DO UPDATE SET
    status = CASE WHEN o.status IN ('FILLED', 'CANCELLED', 'REJECTED', 'EXPIRED') THEN o.status
                  ELSE EXCLUDED.status END,
    filled_quantity = GREATEST(o.filled_quantity, EXCLUDED.filled_quantity),
    average_fill_price = COALESCE(EXCLUDED.average_fill_price, o.average_fill_price),
    quantity = EXCLUDED.quantity,
    order_type = EXCLUDED.order_type,
    limit_price = EXCLUDED.limit_price,
    stop_price = EXCLUDED.stop_price,
    time_in_force = EXCLUDED.time_in_force,
    outside_rth = EXCLUDED.outside_rth,
    spec = EXCLUDED.spec,
    broker_order_id = COALESCE(EXCLUDED.broker_order_id, o.broker_order_id),
    perm_id = COALESCE(EXCLUDED.perm_id, o.perm_id),
    client_order_id = CASE WHEN o.client_order_id = '' THEN EXCLUDED.client_order_id ELSE o.client_order_id END,
    risk_decision_id = CASE WHEN EXCLUDED.risk_decision_id = '' THEN o.risk_decision_id
                            ELSE EXCLUDED.risk_decision_id END,
    reject_code = CASE WHEN EXCLUDED.reject_code = '' THEN o.reject_code ELSE EXCLUDED.reject_code END,
    reject_reason = CASE WHEN EXCLUDED.reject_reason = '' THEN o.reject_reason ELSE EXCLUDED.reject_reason END,
    order_message = EXCLUDED.order_message,
    event_time = GREATEST(o.event_time, EXCLUDED.event_time),
    updated_at = now();

-- name: insert_order_event
INSERT INTO order_events (event_id, seq, order_id, account_id, event_time, status, previous_status,
                          filled_quantity, description, broker_error_code, risk_decision_id, trace_id, spec)
VALUES ($1, nextval('commit_seq'), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (event_id) DO NOTHING;

-- name: upsert_commissions
-- Rows settled by services/ledger/settlement.py: whether a report replaces the stored one is decided there.
INSERT INTO commissions (execution_id, account_id, amount, currency, realized_pnl, report_time, event_id)
SELECT * FROM unnest($1::text[], $2::text[], $3::numeric[], $4::text[], $5::numeric[], $6::timestamptz[],
                     $7::text[])
ON CONFLICT (execution_id) DO UPDATE SET amount = EXCLUDED.amount, currency = EXCLUDED.currency,
    realized_pnl = EXCLUDED.realized_pnl, report_time = EXCLUDED.report_time, event_id = EXCLUDED.event_id;

-- name: fill_context
-- For new fills: commissions already known, and corrections that arrived before their original.
SELECT 'commission' AS what, execution_id, '' AS other, amount, currency
  FROM commissions WHERE execution_id = any($1::text[])
UNION ALL
SELECT 'corrected', supersedes, execution_id, NULL, NULL
  FROM fills WHERE supersedes = any($1::text[]) AND supersedes <> '';  -- lets the partial index serve it

-- name: insert_fills
-- The staged fills; idempotent by execution id: returns only the executions that are new to the ledger.
-- $1..$7: the batch's commissions, upserted like upsert_commissions.
WITH upserted_commissions AS (
    -- The batch's commissions, in the same statement (a round trip less; fill_context, run next, sees both).
    INSERT INTO commissions AS c (execution_id, account_id, amount, currency, realized_pnl, report_time, event_id)
    SELECT * FROM unnest($1::text[], $2::text[], $3::numeric[], $4::text[], $5::numeric[], $6::timestamptz[],
                         $7::text[])
    ON CONFLICT (execution_id) DO UPDATE SET amount = EXCLUDED.amount, currency = EXCLUDED.currency,
        realized_pnl = EXCLUDED.realized_pnl, report_time = EXCLUDED.report_time, event_id = EXCLUDED.event_id
)
INSERT INTO fills (execution_id, seq, account_id, order_id, client_order_id, instrument_key, symbol, currency,
                   multiplier, instrument, side, quantity, price, fill_time, venue, correction, supersedes,
                   broker_order_id, perm_id, origin, event_id, commission_booked)
SELECT execution_id, nextval('commit_seq'), account_id, order_id, client_order_id, instrument_key, symbol,
       currency, multiplier::numeric, instrument, side, quantity::numeric, price::numeric, fill_time, venue,
       correction, supersedes, broker_order_id, perm_id, origin, event_id, commission_booked
  FROM staging_fills ORDER BY n
ON CONFLICT (execution_id) DO NOTHING
RETURNING execution_id;

-- name: lock_fills_for_update
-- Fills a batch touches (superseded originals, late commissions), locked in key order.
SELECT execution_id, account_id, instrument_key, currency, superseded_by, commission_booked, fill_time
  FROM fills WHERE execution_id = any($1::text[]) ORDER BY execution_id FOR UPDATE;

-- name: mark_superseded
UPDATE fills f SET superseded_by = u.superseded_by
  FROM unnest($1::text[], $2::text[]) AS u(execution_id, superseded_by)
 WHERE f.execution_id = u.execution_id;

-- name: mark_commission_booked
UPDATE fills SET commission_booked = true WHERE execution_id = any($1::text[]);

-- name: postings_of_entries
-- The posting's currency, not the account's: a commission in another currency than the trade's posts to the
-- instrument's commission account too, and its reversal must give back that currency.
SELECT e.entry_key, p.line, a.account_key, a.account_id, a.kind, p.currency, a.instrument_key, p.amount
  FROM journal_entries e
  JOIN journal_postings p ON p.entry_id = e.entry_id
  JOIN journal_accounts a ON a.account_key = p.account_key
 WHERE e.entry_key = any($1::text[])
 ORDER BY e.entry_id, p.line;

-- name: ensure_positions
-- Creates missing position rows in key order (the order their unique-index locks are taken in).
INSERT INTO positions (account_id, instrument_key, symbol, currency, multiplier, instrument)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[], $6::bytea[])
 ORDER BY 1, 2
ON CONFLICT (account_id, instrument_key) DO NOTHING;

-- name: lock_positions
SELECT account_id, instrument_key, quantity, cost_basis, cost_fees, realized_pnl, multiplier
  FROM positions
 WHERE (account_id, instrument_key) IN (SELECT * FROM unnest($1::text[], $2::text[]))
 ORDER BY account_id, instrument_key
   FOR UPDATE;

-- name: update_positions
UPDATE positions p SET quantity = u.quantity, cost_basis = u.cost_basis, cost_fees = u.cost_fees,
       realized_pnl = u.realized_pnl, updated_at = now()
  FROM unnest($1::text[], $2::text[], $3::numeric[], $4::numeric[], $5::numeric[], $6::numeric[])
       AS u(account_id, instrument_key, quantity, cost_basis, cost_fees, realized_pnl)
 WHERE p.account_id = u.account_id AND p.instrument_key = u.instrument_key;

-- name: ensure_journal_accounts
INSERT INTO journal_accounts (account_key, account_id, kind, currency, instrument_key)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
 ORDER BY 1
ON CONFLICT (account_key) DO NOTHING;

-- name: lock_journal_accounts
-- Sorted and de-duplicated, as pgledger does, so concurrent writers can never deadlock.
SELECT account_key, balance, version FROM journal_accounts
 WHERE account_key = any($1::text[]) ORDER BY account_key FOR UPDATE;

-- name: insert_journal_postings
-- The staged entries and all their postings in one statement: the per-statement checks (every entry has
-- postings; the postings balance per entry and currency and name existing entries and accounts) see both.
WITH entries AS (
    INSERT INTO journal_entries (entry_id, entry_key, account_id, kind, execution_id, instrument_key,
                                 description, event_time)
    SELECT entry_id, entry_key, account_id, kind, execution_id, instrument_key, description, event_time
      FROM staging_entries
)
INSERT INTO journal_postings (entry_id, line, account_key, currency, amount, previous_balance, current_balance,
                              account_version)
SELECT entry_id, line, account_key, currency, amount::numeric, previous_balance::numeric,
       current_balance::numeric, account_version
  FROM staging_postings;

-- name: update_journal_balances
UPDATE journal_accounts a SET balance = u.balance, version = u.version, updated_at = now()
  FROM unnest($1::text[], $2::numeric[], $3::bigint[]) AS u(account_key, balance, version)
 WHERE a.account_key = u.account_key;

-- name: add_daily_pnl
INSERT INTO daily_pnl AS d (account_id, trade_date, currency, realized_pnl, commissions)
SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::numeric[], $5::numeric[]) ORDER BY 1, 2, 3
ON CONFLICT (account_id, trade_date, currency) DO UPDATE
   SET realized_pnl = d.realized_pnl + EXCLUDED.realized_pnl,
       commissions = d.commissions + EXCLUDED.commissions, updated_at = now();

-- name: add_daily_flows
INSERT INTO daily_flows AS d (account_id, trade_date, instrument_key, quantity, cash_flow)
SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::numeric[], $5::numeric[]) ORDER BY 1, 2, 3
ON CONFLICT (account_id, trade_date, instrument_key) DO UPDATE
   SET quantity = d.quantity + EXCLUDED.quantity, cash_flow = d.cash_flow + EXCLUDED.cash_flow;

-- name: daily_flows_of
SELECT instrument_key, quantity, cash_flow FROM daily_flows WHERE account_id = $1 AND trade_date = $2;

-- name: upsert_broker_position
INSERT INTO positions AS p (account_id, instrument_key, symbol, currency, multiplier, instrument,
                            broker_quantity, broker_average_cost, broker_time, mark_price, mark_time)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $9)
ON CONFLICT (account_id, instrument_key) DO UPDATE SET
    broker_quantity = EXCLUDED.broker_quantity, broker_average_cost = EXCLUDED.broker_average_cost,
    broker_time = EXCLUDED.broker_time,
    mark_price = COALESCE(EXCLUDED.mark_price, p.mark_price),
    mark_time = CASE WHEN EXCLUDED.mark_price IS NULL THEN p.mark_time ELSE EXCLUDED.mark_time END;

-- name: update_marks
UPDATE positions p SET mark_price = u.price, mark_time = u.mark_time, close_price = COALESCE(u.close, p.close_price)
  FROM unnest($1::text[], $2::numeric[], $3::timestamptz[], $4::numeric[]) AS u(instrument_key, price, mark_time, close)
 WHERE p.instrument_key = u.instrument_key;

-- name: insert_risk_decision
INSERT INTO risk_decisions (decision_id, account_id, client_order_id, order_id, request_type, outcome,
                            denied_rule_id, policy_version, shadow, decision_time, trace_id, decision)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (decision_id) DO NOTHING;

-- name: risk_decisions_of
-- The decisions on an order's requests, oldest first (by its key, or by its id for cancels/replaces).
SELECT * FROM risk_decisions
 WHERE account_id = $1 AND ((client_order_id <> '' AND client_order_id = $2) OR (order_id <> '' AND order_id = $3))
 ORDER BY decision_time, decision_id;

-- name: insert_account_snapshot
INSERT INTO account_snapshots (snapshot_id, account_id, source, snapshot_time, base_currency, net_liquidation,
                               total_cash, realized_pnl, unrealized_pnl, summary, event_id)
VALUES (nextval('commit_seq'), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (event_id) DO NOTHING;

-- ---------------------------------------------------------------------------------------------------
-- Reads. Keyset pagination on `seq` (commit-ordered): `$after_seq` is the last seq of the previous page.

-- name: list_fills
SELECT f.*, c.amount AS commission_amount, c.currency AS commission_currency, c.realized_pnl AS commission_realized
  FROM fills f LEFT JOIN commissions c ON c.execution_id = f.execution_id
 WHERE f.account_id = $1
   AND ($2::text = '' OR f.symbol = $2)
   AND ($3::text = '' OR f.order_id = $3)
   AND ($4::text = '' OR f.client_order_id = $4)
   AND ($5::timestamptz IS NULL OR f.fill_time >= $5)
   AND ($6::timestamptz IS NULL OR f.fill_time < $6)
   AND ($7::boolean OR f.superseded_by IS NULL)
   AND ($8::bigint IS NULL OR f.seq < $8)
 ORDER BY f.seq DESC
 LIMIT $9;

-- name: fills_of_order
SELECT f.*, c.amount AS commission_amount, c.currency AS commission_currency, c.realized_pnl AS commission_realized
  FROM fills f LEFT JOIN commissions c ON c.execution_id = f.execution_id
 WHERE f.account_id = $1 AND f.order_id = $2
 ORDER BY f.seq;

-- name: list_positions
SELECT * FROM positions
 WHERE account_id = $1
   AND ($2::text = '' OR symbol = $2)
   AND ($3::boolean OR quantity <> 0)
   AND ($4::text IS NULL OR (symbol, instrument_key) > ($4, $5::text))
 ORDER BY symbol, instrument_key
 LIMIT $6;

-- name: count_fills
SELECT count(*) FROM fills WHERE account_id = $1 AND superseded_by IS NULL;

-- name: list_orders
SELECT * FROM orders
 WHERE account_id = $1
   AND ($2::text = '' OR symbol = $2)
   AND (cardinality($3::text[]) = 0 OR status = any($3::text[]))
   AND ($4::text = '' OR origin = $4)
   AND ($5::timestamptz IS NULL OR created_at >= $5)
   AND ($6::timestamptz IS NULL OR created_at < $6)
   AND ($7::bigint IS NULL OR seq < $7)
 ORDER BY seq DESC
 LIMIT $8;

-- name: get_order
SELECT * FROM orders
 WHERE account_id = $1 AND (($2::text <> '' AND order_id = $2) OR ($3::text <> '' AND client_order_id = $3));

-- name: order_events_of
SELECT * FROM order_events WHERE order_id = $1 ORDER BY seq;

-- name: list_journal_entries
SELECT e.*, b.event_id AS source_event_id
  FROM journal_entries e
  LEFT JOIN fills f ON f.execution_id = e.execution_id
  LEFT JOIN bus_events b ON b.event_id = f.event_id
 WHERE e.account_id = $1
   AND ($2::text = '' OR EXISTS (SELECT 1 FROM journal_postings p
                                  WHERE p.entry_id = e.entry_id AND p.account_key = e.account_id || ':' || $2))
   AND ($3::text = '' OR e.execution_id = $3)
   AND ($4::timestamptz IS NULL OR e.event_time >= $4)
   AND ($5::timestamptz IS NULL OR e.event_time < $5)
   AND ($6::bigint IS NULL OR e.entry_id > $6)
 ORDER BY e.entry_id
 LIMIT $7;

-- name: postings_for_entries
SELECT p.entry_id, p.line, p.account_key, p.currency, p.amount, a.kind, a.instrument_key, a.account_id,
       pos.symbol
  FROM journal_postings p
  JOIN journal_accounts a ON a.account_key = p.account_key
  LEFT JOIN positions pos ON pos.account_id = a.account_id AND pos.instrument_key = a.instrument_key
 WHERE p.entry_id = any($1::bigint[])
 ORDER BY p.entry_id, p.line;

-- name: daily_pnl_of
SELECT currency, realized_pnl, commissions, updated_at FROM daily_pnl
 WHERE account_id = $1 AND trade_date = $2 ORDER BY currency;

-- name: positions_of_account
SELECT * FROM positions WHERE account_id = $1 AND ($2::text = '' OR symbol = $2) ORDER BY symbol, instrument_key;

-- name: cash_balances
SELECT currency, balance FROM journal_accounts WHERE account_id = $1 AND kind = 'cash' ORDER BY currency;

-- ---------------------------------------------------------------------------------------------------
-- Reconciliation.

-- name: has_opening_entry
-- The baseline is taken once: at the first successful reconciliation (which may have had nothing to book).
SELECT EXISTS (SELECT 1 FROM journal_entries WHERE account_id = $1 AND kind = 'opening')
    OR EXISTS (SELECT 1 FROM reconciliation_runs WHERE account_id = $1 AND error_message = '');

-- name: upsert_drift
-- `first_seen_at` is kept while the item stays in drift: it gives the drift's age.
INSERT INTO reconciliation_drifts AS d (account_id, item_key, kind, instrument, currency, ledger_value,
                                        broker_value, ledger_average_cost, broker_average_cost, first_seen_at,
                                        last_seen_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
ON CONFLICT (account_id, item_key) DO UPDATE SET
    ledger_value = EXCLUDED.ledger_value, broker_value = EXCLUDED.broker_value,
    ledger_average_cost = EXCLUDED.ledger_average_cost, broker_average_cost = EXCLUDED.broker_average_cost,
    instrument = EXCLUDED.instrument, last_seen_at = EXCLUDED.last_seen_at;

-- name: delete_resolved_drifts
DELETE FROM reconciliation_drifts WHERE account_id = $1 AND NOT (item_key = any($2::text[]));

-- name: insert_reconciliation_run
INSERT INTO reconciliation_runs (run_id, account_id, run_time, in_sync, drift_count, error_message)
VALUES (nextval('commit_seq'), $1, $2, $3, $4, $5);

-- name: drifts_of
SELECT * FROM reconciliation_drifts WHERE account_id = $1 ORDER BY item_key;

-- name: last_reconciliation
SELECT max(run_time) AS run_time, max(run_time) FILTER (WHERE in_sync) AS in_sync_time
  FROM reconciliation_runs WHERE account_id = $1 AND error_message = '';

-- ---------------------------------------------------------------------------------------------------
-- Replay and rebuild.

-- name: rebuilt_balances
-- Each journal account's stored balance beside the sum of its postings.
SELECT a.account_key, a.account_id, a.kind, a.currency, a.instrument_key, a.balance AS stored, a.version,
       COALESCE(sum(p.amount), 0) AS rebuilt
  FROM journal_accounts a LEFT JOIN journal_postings p ON p.account_key = a.account_key
 WHERE $1::text = '' OR a.account_id = $1
 GROUP BY a.account_key
 ORDER BY a.account_key;

-- name: count_unbalanced_entries
SELECT count(*) FROM (
    SELECT p.entry_id FROM journal_postings p JOIN journal_entries e ON e.entry_id = p.entry_id
     WHERE $1::text = '' OR e.account_id = $1
     GROUP BY p.entry_id, p.currency HAVING sum(p.amount) <> 0) x;

-- name: count_entries
SELECT count(*) FROM journal_entries WHERE $1::text = '' OR account_id = $1;

-- name: positions_for_rebuild
SELECT * FROM positions WHERE $1::text = '' OR account_id = $1 ORDER BY account_id, instrument_key FOR UPDATE;

-- name: list_events
-- Stored events in stream order after a stream id (`ms-seq`, compared numerically).
SELECT stream_id, payload FROM bus_events
 WHERE stream = $1
   AND ($2::text = '' OR account_id = $2 OR account_id = '')
   AND (cardinality($3::text[]) = 0 OR event_type = any($3::text[]))
   AND (split_part(stream_id, '-', 1)::bigint, split_part(stream_id, '-', 2)::bigint) > ($4::bigint, $5::bigint)
 ORDER BY split_part(stream_id, '-', 1)::bigint, split_part(stream_id, '-', 2)::bigint
 LIMIT $6;

-- name: stored_events_between
SELECT stream_id, payload, event_type, account_id, traceparent, tracestate FROM bus_events
 WHERE stream = $1
   AND (split_part(stream_id, '-', 1)::bigint, split_part(stream_id, '-', 2)::bigint) >= ($2::bigint, $3::bigint)
   AND (split_part(stream_id, '-', 1)::bigint, split_part(stream_id, '-', 2)::bigint) <= ($4::bigint, $5::bigint)
 ORDER BY split_part(stream_id, '-', 1)::bigint, split_part(stream_id, '-', 2)::bigint;

-- name: open_positions_by_symbol
-- For the position gauges: quantity per account and symbol (instruments sharing a symbol are summed).
SELECT account_id, symbol, sum(quantity) AS quantity FROM positions
 GROUP BY account_id, symbol HAVING sum(quantity) <> 0 ORDER BY 1, 2;

-- ---------------------------------------------------------------------------------------------------
-- Fewer round trips per batch (latency grows with them when the CPU is contended).

-- name: upsert_lock_positions
-- Creates missing position rows and locks them all, in key order, in one statement: ON CONFLICT DO UPDATE
-- locks the existing row (the no-op SET keeps its values) and RETURNING gives the state to book against.
INSERT INTO positions AS p (account_id, instrument_key, symbol, currency, multiplier, instrument)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[], $6::bytea[]) ORDER BY 1, 2
ON CONFLICT (account_id, instrument_key) DO UPDATE SET updated_at = p.updated_at
RETURNING account_id, instrument_key, quantity, cost_basis, cost_fees, realized_pnl;

-- name: upsert_lock_journal_accounts
-- The same for journal accounts (sorted and de-duplicated by the caller, as pgledger does); in the same round
-- trip, $6 entry ids (`commit_seq` values, drawn under the writer lock: commit order), as rows without a key.
WITH accounts AS (
    INSERT INTO journal_accounts AS a (account_key, account_id, kind, currency, instrument_key)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) ORDER BY 1
    ON CONFLICT (account_key) DO UPDATE SET updated_at = a.updated_at
    RETURNING account_key, balance, version
)
SELECT account_key, balance, version, NULL::bigint AS seq FROM accounts
UNION ALL
SELECT NULL, NULL, NULL, nextval('commit_seq') FROM generate_series(1, $6::int);

-- name: finish_batch
-- The end-of-batch writes in one statement (data-modifying CTEs always run; each touches another table):
-- journal balances, positions, daily P&L, daily flows, the commission flag of fills, and commissions.
WITH balances AS (
    UPDATE journal_accounts a SET balance = u.balance, version = u.version, updated_at = now()
      FROM unnest($1::text[], $2::numeric[], $3::bigint[]) AS u(account_key, balance, version)
     WHERE a.account_key = u.account_key
    RETURNING 1
), positions_ AS (
    UPDATE positions p SET quantity = u.quantity, cost_basis = u.cost_basis, cost_fees = u.cost_fees,
           realized_pnl = u.realized_pnl, updated_at = now()
      FROM unnest($4::text[], $5::text[], $6::numeric[], $7::numeric[], $8::numeric[], $9::numeric[])
           AS u(account_id, instrument_key, quantity, cost_basis, cost_fees, realized_pnl)
     WHERE p.account_id = u.account_id AND p.instrument_key = u.instrument_key
    RETURNING 1
), daily AS (
    INSERT INTO daily_pnl AS d (account_id, trade_date, currency, realized_pnl, commissions)
    SELECT * FROM unnest($10::text[], $11::date[], $12::text[], $13::numeric[], $14::numeric[]) ORDER BY 1, 2, 3
    ON CONFLICT (account_id, trade_date, currency) DO UPDATE
       SET realized_pnl = d.realized_pnl + EXCLUDED.realized_pnl,
           commissions = d.commissions + EXCLUDED.commissions, updated_at = now()
    RETURNING 1
), flows AS (
    INSERT INTO daily_flows AS f (account_id, trade_date, instrument_key, quantity, cash_flow)
    SELECT * FROM unnest($15::text[], $16::date[], $17::text[], $18::numeric[], $19::numeric[]) ORDER BY 1, 2, 3
    ON CONFLICT (account_id, trade_date, instrument_key) DO UPDATE
       SET quantity = f.quantity + EXCLUDED.quantity, cash_flow = f.cash_flow + EXCLUDED.cash_flow
    RETURNING 1
), booked AS (
    -- Only the fills whose flag differs from what insert_fills set (late commissions, mostly): updating
    -- every new fill rewrote each row and its five index entries once more.
    UPDATE fills f SET commission_booked = u.booked
      FROM unnest($20::text[], $21::boolean[]) AS u(execution_id, booked)
     WHERE f.execution_id = u.execution_id
    RETURNING 1
), commissions_ AS (
    -- The batch's settled commission rows (services/ledger/settlement.py decides which; bulk replay passes
    -- none: it writes its own by COPY).
    INSERT INTO commissions (execution_id, account_id, amount, currency, realized_pnl, report_time, event_id)
    SELECT * FROM unnest($22::text[], $23::text[], $24::numeric[], $25::text[], $26::numeric[],
                         $27::timestamptz[], $28::text[])
    ON CONFLICT (execution_id) DO UPDATE SET amount = EXCLUDED.amount, currency = EXCLUDED.currency,
        realized_pnl = EXCLUDED.realized_pnl, report_time = EXCLUDED.report_time, event_id = EXCLUDED.event_id
    RETURNING 1
)
SELECT (SELECT count(*) FROM balances) AS balances, (SELECT count(*) FROM positions_) AS positions;

-- ---------------------------------------------------------------------------------------------------
-- Small batches (the live path at low rates): the same inserts with the rows as array parameters, in one
-- round trip each, instead of a binary COPY into staging (two round trips) and the insert from it. Under
-- CPU contention every round trip is a chance to be descheduled, and that is what made the fill → commit
-- tail. Each query names its CTE after the staging table it replaces, so the body is the staged query's.
-- (For hundreds of rows COPY encodes faster, so large batches keep it.)

-- name: insert_bus_events_direct
WITH staging_bus_events AS (
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                         $7::timestamptz[], $8::bytea[], $9::text[], $10::text[])
           AS s(n, event_id, stream, stream_id, event_type, account_id, event_time, payload, traceparent,
                tracestate)
)
INSERT INTO bus_events (event_id, seq, stream, stream_id, event_type, account_id, event_time, payload,
                        traceparent, tracestate)
SELECT event_id, nextval('commit_seq'), stream, stream_id, event_type, account_id, event_time, payload,
       traceparent, tracestate
  FROM staging_bus_events ORDER BY n
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id;

-- name: insert_fills_direct
WITH upserted_commissions AS (
    -- The batch's commissions, in the same statement (a round trip less; fill_context, run next, sees both).
    INSERT INTO commissions AS c (execution_id, account_id, amount, currency, realized_pnl, report_time, event_id)
    SELECT * FROM unnest($1::text[], $2::text[], $3::numeric[], $4::text[], $5::numeric[], $6::timestamptz[],
                         $7::text[])
    ON CONFLICT (execution_id) DO UPDATE SET amount = EXCLUDED.amount, currency = EXCLUDED.currency,
        realized_pnl = EXCLUDED.realized_pnl, report_time = EXCLUDED.report_time, event_id = EXCLUDED.event_id
), staging_fills AS (
    SELECT * FROM unnest($8::bigint[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
                         $15::text[], $16::text[], $17::bytea[], $18::text[], $19::text[], $20::text[],
                         $21::timestamptz[], $22::text[], $23::boolean[], $24::text[], $25::bigint[],
                         $26::bigint[], $27::text[], $28::text[], $29::boolean[])
           AS s(n, execution_id, account_id, order_id, client_order_id, instrument_key, symbol, currency,
                multiplier, instrument, side, quantity, price, fill_time, venue, correction, supersedes,
                broker_order_id, perm_id, origin, event_id, commission_booked)
)
INSERT INTO fills (execution_id, seq, account_id, order_id, client_order_id, instrument_key, symbol, currency,
                   multiplier, instrument, side, quantity, price, fill_time, venue, correction, supersedes,
                   broker_order_id, perm_id, origin, event_id, commission_booked)
SELECT execution_id, nextval('commit_seq'), account_id, order_id, client_order_id, instrument_key, symbol,
       currency, multiplier::numeric, instrument, side, quantity::numeric, price::numeric, fill_time, venue,
       correction, supersedes, broker_order_id, perm_id, origin, event_id, commission_booked
  FROM staging_fills ORDER BY n
ON CONFLICT (execution_id) DO NOTHING
RETURNING execution_id;

-- name: insert_journal_postings_direct
WITH staging_entries AS (
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                         $8::timestamptz[])
           AS s(entry_id, entry_key, account_id, kind, execution_id, instrument_key, description, event_time)
), staging_postings AS (
    SELECT * FROM unnest($9::bigint[], $10::integer[], $11::text[], $12::text[], $13::text[], $14::text[],
                         $15::text[], $16::bigint[])
           AS s(entry_id, line, account_key, currency, amount, previous_balance, current_balance, account_version)
), entries AS (
    INSERT INTO journal_entries (entry_id, entry_key, account_id, kind, execution_id, instrument_key,
                                 description, event_time)
    SELECT entry_id, entry_key, account_id, kind, execution_id, instrument_key, description, event_time
      FROM staging_entries
)
INSERT INTO journal_postings (entry_id, line, account_key, currency, amount, previous_balance, current_balance,
                              account_version)
SELECT entry_id, line, account_key, currency, amount::numeric, previous_balance::numeric,
       current_balance::numeric, account_version
  FROM staging_postings;

-- ---------------------------------------------------------------------------------------------------
-- Bulk replay (services/ledger/bulk.py): a whole range in one transaction. What is already in the ledger is
-- read as each chunk arrives; the new rows are then written by COPY straight into the tables (the writer lock
-- makes "not there yet" stay true until commit), the journal too (entries, then their postings).

-- name: bulk_start_seq
-- Drawn first in a replay transaction: every row it writes gets a larger `commit_seq` value.
SELECT nextval('commit_seq');

-- name: bulk_draw_ids
-- Entry ids (`commit_seq` values) for a replay range, drawn under the writer lock (commit order).
SELECT nextval('commit_seq') FROM generate_series(1, $1::int);

-- name: bulk_chunk_context
-- One round trip per chunk of a replay range: which of its events ($1) the ledger has already; then, for the
-- execution ids ($2) its other events name ($4: the naming event, $5: whether it is that execution's fill, seen
-- first here), what the ledger held before the range ($3: bulk_start_seq; the fills the range wrote itself are
-- left out) — fills already booked, commissions (one the range wrote itself is its own report, which wins
-- anyway) and corrections that supersede one of them (not locked FOR UPDATE: every writer of fills holds the
-- writer lock, taken first) — and an entry id (`commit_seq` value, drawn under the writer lock) per fill not
-- booked yet (one entry each, the usual count; the caller draws more if it needs them).
WITH wanted AS (
    SELECT u.execution_id, bool_or(u.first_fill) AS first_fill
      FROM unnest($2::text[], $4::text[], $5::boolean[]) AS u(execution_id, event_id, first_fill)
     WHERE NOT EXISTS (SELECT 1 FROM bus_events b WHERE b.event_id = u.event_id)
     GROUP BY u.execution_id
)
SELECT 'event' AS what, event_id AS execution_id, NULL AS account_id, NULL AS instrument_key, NULL AS currency,
       NULL AS other, NULL::boolean AS commission_booked, NULL::timestamptz AS fill_time, NULL::numeric AS amount,
       NULL::bigint AS id
  FROM bus_events WHERE event_id IN (SELECT unnest($1::text[]))
UNION ALL
SELECT 'fill', execution_id, account_id, instrument_key, currency, superseded_by, commission_booked, fill_time,
       NULL, NULL
  FROM fills WHERE execution_id IN (SELECT execution_id FROM wanted) AND seq < $3
UNION ALL
SELECT 'commission', execution_id, NULL, NULL, currency, NULL, NULL, NULL, amount, NULL
  FROM commissions WHERE execution_id IN (SELECT execution_id FROM wanted)
UNION ALL
SELECT 'corrected', supersedes, NULL, NULL, NULL, execution_id, NULL, NULL, NULL, NULL
  FROM fills WHERE supersedes <> '' AND supersedes IN (SELECT execution_id FROM wanted) AND seq < $3
UNION ALL
SELECT 'id', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, nextval('commit_seq')
  FROM generate_series(1, (SELECT count(*)::int FROM wanted w WHERE w.first_fill
                              AND NOT EXISTS (SELECT 1 FROM fills f WHERE f.execution_id = w.execution_id)));
