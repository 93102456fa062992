-- The ledger's system of record, as declared: what all migrations applied in order produce (a test
-- checks they agree). Applied with search_path set to the ledger's schema, so names are
-- unqualified; functions pin that search_path (SET search_path FROM CURRENT) so triggers work from any
-- session.

-- One sequence orders every ledger write. Values are taken only while holding the writer's transaction
-- advisory lock, so they are issued in commit order: a reader paging `seq > last_seen` never skips a row
-- that commits later (the eventsourcing trap of bigserial ids).
CREATE SEQUENCE commit_seq AS bigint;

-- The bus events the ledger booked, verbatim, with where they were read from.
CREATE TABLE bus_events (
    event_id     text PRIMARY KEY,
    seq          bigint NOT NULL UNIQUE DEFAULT nextval('commit_seq'),  -- the default serves bulk replay's COPY
    stream       text NOT NULL,
    stream_id    text NOT NULL,
    event_type   text NOT NULL,
    account_id   text NOT NULL DEFAULT '',
    event_time   timestamptz,
    payload      bytea NOT NULL,
    traceparent  text NOT NULL DEFAULT '',
    tracestate   text NOT NULL DEFAULT '',
    received_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bus_events_stream_id ON bus_events (stream, stream_id);

-- Orders with their full spec. Mutable projection of order_events (status, fills); the spec columns are
-- the latest accepted revision, `spec` the full OrderSpec message.
CREATE TABLE orders (
    order_id            text PRIMARY KEY,
    seq                 bigint NOT NULL UNIQUE,
    client_order_id     text NOT NULL DEFAULT '',
    account_id          text NOT NULL,
    instrument_key      text NOT NULL,
    symbol              text NOT NULL,
    side                text NOT NULL,
    quantity            numeric NOT NULL,
    order_type          text NOT NULL,
    limit_price         numeric,
    stop_price          numeric,
    time_in_force       text NOT NULL,
    outside_rth         boolean NOT NULL DEFAULT false,
    spec                bytea NOT NULL,
    status              text NOT NULL,
    filled_quantity     numeric NOT NULL DEFAULT 0,
    average_fill_price  numeric,
    broker_order_id     bigint,
    perm_id             bigint,
    origin              text NOT NULL DEFAULT '',
    risk_decision_id    text NOT NULL DEFAULT '',
    reject_code         text NOT NULL DEFAULT '',
    reject_reason       text NOT NULL DEFAULT '',
    order_message       bytea NOT NULL,
    event_time          timestamptz NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT orders_quantity_positive CHECK (quantity > 0),
    CONSTRAINT orders_filled_not_negative CHECK (filled_quantity >= 0)
);
-- The idempotency key of the suite is unique per account (external orders have none).
CREATE UNIQUE INDEX orders_client_order_id ON orders (account_id, client_order_id) WHERE client_order_id <> '';
CREATE INDEX orders_account_seq ON orders (account_id, seq);

-- Append-only audit of every order change, with the risk decision and trace id.
CREATE TABLE order_events (
    event_id          text PRIMARY KEY,
    seq               bigint NOT NULL UNIQUE,
    order_id          text NOT NULL,
    account_id        text NOT NULL,
    event_time        timestamptz NOT NULL,
    status            text NOT NULL,
    previous_status   text NOT NULL,
    filled_quantity   numeric NOT NULL DEFAULT 0,
    description       text NOT NULL DEFAULT '',
    broker_error_code integer,
    risk_decision_id  text NOT NULL DEFAULT '',
    trace_id          text NOT NULL DEFAULT '',
    spec              bytea,
    recorded_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_events_order ON order_events (order_id, seq);

-- One row per broker execution. A correction is its own row naming the execution it supersedes; the
-- superseded row is kept (audit) and marked, so the effective fills never double count.
CREATE TABLE fills (
    execution_id      text PRIMARY KEY,
    seq               bigint NOT NULL UNIQUE DEFAULT nextval('commit_seq'),  -- as bus_events.seq
    account_id        text NOT NULL,
    order_id          text NOT NULL DEFAULT '',
    client_order_id   text NOT NULL DEFAULT '',
    instrument_key    text NOT NULL,
    symbol            text NOT NULL,
    currency          text NOT NULL,
    multiplier        numeric NOT NULL DEFAULT 1,
    instrument        bytea NOT NULL,
    side              text NOT NULL,
    quantity          numeric NOT NULL,
    price             numeric NOT NULL,
    fill_time         timestamptz NOT NULL,
    venue             text NOT NULL DEFAULT '',
    correction        boolean NOT NULL DEFAULT false,
    supersedes        text NOT NULL DEFAULT '',
    superseded_by     text,
    broker_order_id   bigint,
    perm_id           bigint,
    origin            text NOT NULL DEFAULT '',
    -- Whether the commission is in the journal (with the fill, or by a later commission entry).
    commission_booked boolean NOT NULL DEFAULT false,
    event_id          text NOT NULL,
    recorded_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT fills_side CHECK (side IN ('BUY', 'SELL')),
    CONSTRAINT fills_quantity_positive CHECK (quantity > 0),
    CONSTRAINT fills_price_not_negative CHECK (price >= 0),
    CONSTRAINT fills_multiplier_positive CHECK (multiplier > 0)
);
CREATE INDEX fills_account_seq ON fills (account_id, seq);
CREATE INDEX fills_order ON fills (order_id);
CREATE INDEX fills_supersedes ON fills (supersedes) WHERE supersedes <> '';

-- Commission per execution; may be known before or after its fill (IB sends it separately).
CREATE TABLE commissions (
    execution_id  text PRIMARY KEY,
    account_id    text NOT NULL,
    amount        numeric NOT NULL,
    currency      text NOT NULL,
    realized_pnl  numeric,
    report_time   timestamptz,
    event_id      text NOT NULL DEFAULT '',
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT commissions_not_negative CHECK (amount >= 0)
);

-- The double-entry journal (after pgledger): accounts carry a running balance and a version; entries
-- are append-only; each posting records the balance before and after, so history is auditable and
-- balances can be rebuilt. `currency` is an ISO code for money, or a unit `QTY:<instrument>` for
-- position quantities, and every entry balances per currency (enforced below).
CREATE TABLE journal_accounts (
    account_key     text PRIMARY KEY,
    account_id      text NOT NULL,
    kind            text NOT NULL,
    currency        text NOT NULL,
    instrument_key  text NOT NULL DEFAULT '',
    -- Currencies other than `currency` that the account held before every account had one (migration 0010).
    legacy_other_currencies text[] NOT NULL DEFAULT '{}',
    balance         numeric NOT NULL DEFAULT 0,
    version         bigint NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT journal_accounts_kind CHECK (kind IN (
        'cash', 'position_qty', 'market_qty', 'position_cost', 'position_fees', 'commission', 'realized_pnl',
        'equity'))
);

CREATE TABLE journal_entries (
    entry_id      bigint PRIMARY KEY,
    entry_key     text NOT NULL UNIQUE,
    account_id    text NOT NULL,
    kind          text NOT NULL,
    execution_id  text NOT NULL DEFAULT '',
    instrument_key text NOT NULL DEFAULT '',
    description   text NOT NULL DEFAULT '',
    event_time    timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT journal_entries_kind CHECK (kind IN ('fill', 'commission', 'reversal', 'opening'))
);
CREATE INDEX journal_entries_account ON journal_entries (account_id, entry_id);

CREATE TABLE journal_postings (
    -- entry_id and account_key name existing rows: checked per INSERT statement (journal_postings_balance),
    -- set-based, rather than by foreign keys (a lookup per row); entries and accounts are never deleted.
    entry_id          bigint NOT NULL,
    line              integer NOT NULL,
    account_key       text NOT NULL,
    currency          text NOT NULL,
    amount            numeric NOT NULL,
    previous_balance  numeric NOT NULL,
    current_balance   numeric NOT NULL,
    account_version   bigint NOT NULL,
    PRIMARY KEY (entry_id, line),
    CONSTRAINT journal_postings_amount_not_zero CHECK (amount <> 0),
    CONSTRAINT journal_postings_running_balance CHECK (current_balance = previous_balance + amount)
);
CREATE UNIQUE INDEX journal_postings_account_version ON journal_postings (account_key, account_version);

-- Positions per account and instrument: a projection of the journal plus the latest mark and the
-- broker's own figures (from PositionUpdate) for reconciliation.
CREATE TABLE positions (
    account_id          text NOT NULL,
    instrument_key      text NOT NULL,
    symbol              text NOT NULL,
    currency            text NOT NULL,
    multiplier          numeric NOT NULL DEFAULT 1,
    instrument          bytea NOT NULL,
    quantity            numeric NOT NULL DEFAULT 0,
    cost_basis          numeric NOT NULL DEFAULT 0,
    cost_fees           numeric NOT NULL DEFAULT 0,
    realized_pnl        numeric NOT NULL DEFAULT 0,
    mark_price          numeric,
    mark_time           timestamptz,
    broker_quantity     numeric,
    broker_average_cost numeric,
    broker_time         timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    -- The previous session's close (QuoteUpdate), for daily P&L of the overnight quantity.
    close_price         numeric,
    PRIMARY KEY (account_id, instrument_key)
);

-- Per account, UTC day and instrument: the signed quantity traded and the cash it moved (fills and
-- commissions). With the close and the latest mark they give IB-style daily P&L.
CREATE TABLE daily_flows (
    account_id      text NOT NULL,
    trade_date      date NOT NULL,
    instrument_key  text NOT NULL,
    quantity        numeric NOT NULL DEFAULT 0,
    cash_flow       numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, trade_date, instrument_key)
);

-- Realized P&L and commissions per account, currency and trading day (UTC date of the fill).
CREATE TABLE daily_pnl (
    account_id    text NOT NULL,
    trade_date    date NOT NULL,
    currency      text NOT NULL,
    realized_pnl  numeric NOT NULL DEFAULT 0,
    commissions   numeric NOT NULL DEFAULT 0,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, trade_date, currency)
);

-- Append-only snapshots of the broker's account values (AccountUpdate) and of our own balances.
CREATE TABLE account_snapshots (
    snapshot_id      bigint PRIMARY KEY,
    account_id       text NOT NULL,
    source           text NOT NULL,
    snapshot_time    timestamptz NOT NULL,
    base_currency    text NOT NULL DEFAULT '',
    net_liquidation  numeric,
    total_cash       numeric,
    realized_pnl     numeric,
    unrealized_pnl   numeric,
    summary          bytea,
    event_id         text UNIQUE,
    recorded_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX account_snapshots_account ON account_snapshots (account_id, snapshot_time);

-- Current differences between ledger and broker, one row per item; `first_seen_at` gives the age.
-- Rows are deleted when the item agrees again.
CREATE TABLE reconciliation_drifts (
    account_id      text NOT NULL,
    item_key        text NOT NULL,
    kind            text NOT NULL,
    instrument      bytea,
    currency        text NOT NULL DEFAULT '',
    ledger_value    numeric NOT NULL,
    broker_value    numeric NOT NULL,
    ledger_average_cost numeric,
    broker_average_cost numeric,
    first_seen_at   timestamptz NOT NULL,
    last_seen_at    timestamptz NOT NULL,
    PRIMARY KEY (account_id, item_key),
    CONSTRAINT reconciliation_drifts_kind CHECK (kind IN ('position', 'cash'))
);

-- One row per reconciliation run and account.
CREATE TABLE reconciliation_runs (
    run_id         bigint PRIMARY KEY,
    account_id     text NOT NULL,
    run_time       timestamptz NOT NULL,
    in_sync        boolean NOT NULL,
    drift_count    integer NOT NULL,
    error_message  text NOT NULL DEFAULT ''
);
CREATE INDEX reconciliation_runs_account ON reconciliation_runs (account_id, run_time);

-- Risk decisions (RiskDecisionEvent), append-only: the audit of why each request was admitted or denied,
-- joined to an order's history by its client_order_id (a denied new order never gets an order id).
CREATE TABLE risk_decisions (
    decision_id      text PRIMARY KEY,
    account_id       text NOT NULL,
    client_order_id  text NOT NULL DEFAULT '',
    order_id         text NOT NULL DEFAULT '',
    request_type     text NOT NULL,
    outcome          text NOT NULL,
    denied_rule_id   text NOT NULL DEFAULT '',
    policy_version   bigint NOT NULL DEFAULT 0,
    shadow           boolean NOT NULL DEFAULT false,
    decision_time    timestamptz NOT NULL,
    trace_id         text NOT NULL DEFAULT '',
    decision         bytea NOT NULL,
    recorded_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX risk_decisions_client_order ON risk_decisions (account_id, client_order_id);

-- Append-only tables refuse UPDATE, DELETE and TRUNCATE: corrections are new rows.
CREATE FUNCTION refuse_change() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER journal_entries_append_only BEFORE UPDATE OR DELETE ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER journal_entries_no_truncate BEFORE TRUNCATE ON journal_entries
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER journal_postings_append_only BEFORE UPDATE OR DELETE ON journal_postings
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER journal_postings_no_truncate BEFORE TRUNCATE ON journal_postings
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER order_events_append_only BEFORE UPDATE OR DELETE ON order_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER order_events_no_truncate BEFORE TRUNCATE ON order_events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER bus_events_append_only BEFORE UPDATE OR DELETE ON bus_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER bus_events_no_truncate BEFORE TRUNCATE ON bus_events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER account_snapshots_append_only BEFORE UPDATE OR DELETE ON account_snapshots
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER risk_decisions_append_only BEFORE UPDATE OR DELETE ON risk_decisions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
-- Journal accounts change balance but are never removed (postings name them).
CREATE TRIGGER journal_accounts_no_delete BEFORE DELETE ON journal_accounts
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER journal_accounts_no_truncate BEFORE TRUNCATE ON journal_accounts
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- Every journal entry has postings: checked when the transaction commits, once per INSERT statement on
-- entries and set-based. The statement trigger on entries notes the statement's range of entry ids; a deferred
-- constraint trigger on the note checks the range at COMMIT and deletes the note. So a statement may write
-- entries and a later one of the same transaction their postings (bulk replay COPYs each straight into its
-- table); an entry without postings never commits.
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
