-- The order's whole quantity as risk knows it (a new order's, a modification's new one, then the order's own
-- updates') and the order revision it belongs to (the number of accepted replaces): fills are counted against
-- it, and an order update of an earlier revision (one from before a modification risk has already reserved)
-- does not change it. NULL for rows written before these columns: those follow the updates, as they did.
ALTER TABLE reservations ADD COLUMN quantity numeric CHECK (quantity > 0);
ALTER TABLE reservations ADD COLUMN revision integer NOT NULL DEFAULT 0;
