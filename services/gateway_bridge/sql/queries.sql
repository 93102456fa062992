-- name: insert_order
-- Returns the row only when it was inserted (a concurrent duplicate key returns nothing).
INSERT INTO orders (order_id, client_order_id, account_id, origin, fingerprint, spec, status, resting_status,
                    total_quantity, broker_order_id, broker_client_id, perm_id, parent_order_id,
                    risk_decision_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
ON CONFLICT DO NOTHING
RETURNING *;

-- name: get_order_by_id
SELECT * FROM orders WHERE order_id = $1;

-- name: get_order_by_client_order_id
SELECT * FROM orders WHERE client_order_id = $1;

-- name: get_order_by_perm_id
SELECT * FROM orders WHERE perm_id = $1 ORDER BY create_time LIMIT 1;

-- name: list_children
SELECT * FROM orders WHERE parent_order_id = $1 ORDER BY client_order_id DESC;

-- name: list_not_terminal_orders
SELECT * FROM orders WHERE status NOT IN ('FILLED', 'CANCELLED', 'REJECTED', 'EXPIRED') ORDER BY create_time;

-- name: update_order_state
UPDATE orders
SET status = $2, resting_status = $3, total_quantity = $4, filled_quantity = $5, avg_fill_price = $6,
    last_fill_price = $7, reject_code = $8, reject_reason = $9, broker_error_code = $10, sequence = $11,
    broker_order_id = $12, broker_client_id = $13, perm_id = $14, commission = $15, commission_currency = $16,
    revision = $17, spec = $18, update_time = $19, submit_time = COALESCE(submit_time, $20),
    done_time = COALESCE(done_time, $21)
WHERE order_id = $1;

-- name: insert_execution
INSERT INTO executions (execution_id, order_id, fill, commission_known)
VALUES ($1, $2, $3, $4)
ON CONFLICT (execution_id) DO NOTHING
RETURNING execution_id;

-- name: mark_execution_published
UPDATE executions SET published_at = now() WHERE execution_id = $1;

-- name: mark_executions_published
-- A writer batch's fills, once their XADDs succeeded: one statement for all of them.
UPDATE executions SET published_at = now() WHERE execution_id = ANY($1::text[]);

-- name: list_execution_ids
SELECT execution_id, commission_known FROM executions;

-- name: list_unpublished_executions
SELECT execution_id, fill FROM executions WHERE published_at IS NULL ORDER BY create_time;

-- name: list_executions
SELECT fill FROM executions ORDER BY create_time;
