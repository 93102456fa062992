-- Queries of the risk service, loaded by name (`-- name: <name>`). Unqualified table names: every
-- connection's search_path is the risk schema.

-- name: latest_policy
SELECT version, policy, seed_digest FROM policy_versions WHERE slot = $1 ORDER BY version DESC LIMIT 1;

-- name: policy_version
SELECT version, policy FROM policy_versions WHERE slot = $1 AND version = $2;

-- name: latest_seed_digest
SELECT seed_digest FROM policy_versions WHERE slot = 'live' AND seed_digest IS NOT NULL
ORDER BY version DESC LIMIT 1;

-- name: list_policy_versions
SELECT version, policy FROM policy_versions WHERE slot = $1 AND version < $2 ORDER BY version DESC LIMIT $3;

-- name: lock_policy_slot
SELECT pg_advisory_xact_lock(hashtext('risk-policy:' || $1));

-- name: insert_policy_version
INSERT INTO policy_versions (slot, version, policy, policy_json, seed_digest, created_by, change_reason)
VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7);

-- name: trading_states
SELECT scope, state, reason, changed_by, automatic, change_time FROM trading_states;

-- name: upsert_trading_state
INSERT INTO trading_states (scope, state, reason, changed_by, automatic, change_time)
VALUES ($1, $2, $3, $4, $5, now())
ON CONFLICT (scope) DO UPDATE SET state = EXCLUDED.state, reason = EXCLUDED.reason,
    changed_by = EXCLUDED.changed_by, automatic = EXCLUDED.automatic, change_time = EXCLUDED.change_time
RETURNING change_time;

-- name: insert_trading_state_change
INSERT INTO trading_state_changes (scope, previous_state, state, reason, changed_by, automatic, cancel_open_orders)
VALUES ($1, $2, $3, $4, $5, $6, $7);

-- name: reservations
SELECT key, account_id, symbol, side, remaining, price, multiplier, order_id, quantity, revision FROM reservations;

-- name: insert_reservation
INSERT INTO reservations (key, account_id, symbol, side, remaining, price, multiplier, order_id, decision_id,
                          quantity, revision)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (key) DO UPDATE SET remaining = EXCLUDED.remaining, price = EXCLUDED.price,
    order_id = EXCLUDED.order_id, decision_id = EXCLUDED.decision_id, quantity = EXCLUDED.quantity,
    revision = EXCLUDED.revision;

-- name: update_reservation
UPDATE reservations SET remaining = $2, order_id = CASE WHEN $3 = '' THEN order_id ELSE $3 END WHERE key = $1;

-- name: update_reservation_quantity
UPDATE reservations SET quantity = $2, revision = $3 WHERE key = $1;

-- name: delete_reservation
DELETE FROM reservations WHERE key = $1;

-- name: positions
SELECT account_id, symbol, quantity, mark, average_cost, multiplier FROM positions;

-- name: upsert_position
INSERT INTO positions (account_id, symbol, quantity, mark, average_cost, multiplier, update_time)
VALUES ($1, $2, $3, $4, $5, $6, now())
ON CONFLICT (account_id, symbol) DO UPDATE SET quantity = EXCLUDED.quantity,
    mark = COALESCE(EXCLUDED.mark, positions.mark),
    average_cost = COALESCE(EXCLUDED.average_cost, positions.average_cost),
    multiplier = EXCLUDED.multiplier, update_time = EXCLUDED.update_time;

-- name: insert_decisions
INSERT INTO decisions (decision_id, account_id, client_order_id, outcome, denied_rule_id, policy_version, shadow,
                       decision, decision_time)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::smallint[], $5::text[], $6::bigint[],
                     $7::boolean[], $8::bytea[], $9::timestamptz[])
ON CONFLICT (decision_id) DO NOTHING;

-- name: list_decisions
SELECT decision FROM decisions
WHERE ($1 = '' OR account_id = $1) AND ($2 = '' OR client_order_id = $2) AND ($3 = 0 OR outcome = $3)
  AND ($4 = '' OR denied_rule_id = $4) AND ($5 OR NOT shadow) AND decision_time < $6
ORDER BY decision_time DESC LIMIT $7;

-- name: bus_cursor
SELECT last_id FROM bus_cursor WHERE stream = $1;

-- name: save_bus_cursor
INSERT INTO bus_cursor (stream, last_id) VALUES ($1, $2)
ON CONFLICT (stream) DO UPDATE SET last_id = EXCLUDED.last_id;

-- name: insert_activity
INSERT INTO activity (account_id, client_order_id, accept_time, notional, symbol, side, quantity, order_type,
                      limit_price, stop_price)
VALUES ($1, $2, to_timestamp($3), $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT DO NOTHING;

-- name: prune_activity
DELETE FROM activity WHERE accept_time < to_timestamp($1);

-- name: activity
SELECT account_id, client_order_id, extract(epoch FROM accept_time)::float8 AS at, notional, symbol, side,
       quantity, order_type, limit_price, stop_price
FROM activity WHERE accept_time > to_timestamp($1) ORDER BY accept_time, client_order_id;

-- name: idempotent_answer
SELECT digest, response FROM idempotency WHERE method = $1 AND request_id = $2;

-- name: save_idempotent_answer
INSERT INTO idempotency (method, request_id, digest, response) VALUES ($1, $2, $3, $4)
ON CONFLICT (method, request_id) DO NOTHING;
