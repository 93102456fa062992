-- The order's whole quantity as risk reserved it (a new order's, or a modification's new one): fills are
-- counted against it, not against the quantity an order update names, which may describe the order as it was
-- before a modification risk has already reserved. NULL for rows written before this column: those follow
-- the updates' quantity, as they did.
ALTER TABLE reservations ADD COLUMN quantity numeric CHECK (quantity > 0);
