-- A training's heartbeat (issue 10): its trainer writes it every few seconds while it trains, so a
-- trainer killed mid-training is seen as dead within seconds (the row's heartbeat stops) instead
-- of after the 15 minutes its start time allowed. Rows from before this migration have none:
-- their start time stands in.
ALTER TABLE models ADD COLUMN heartbeat_at timestamptz;
