-- Bulk replay (services/ledger/bulk.py) COPYs bus events and fills straight into their tables; with `seq`
-- defaulting to the next `commit_seq` value, COPY draws it per row, in row order, under the writer lock
-- (commit order), without a round trip to draw the values first. Every other insert still names `seq`.
ALTER TABLE bus_events ALTER COLUMN seq SET DEFAULT nextval('commit_seq');
ALTER TABLE fills ALTER COLUMN seq SET DEFAULT nextval('commit_seq');
