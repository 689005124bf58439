-- 005_outbox_relay_after: a worker publishes the events it committed itself,
-- right after its commit (eager dispatch, issue 16); the relay only sweeps
-- what such a worker did not get out.
--
-- outbox.relay_after: the relay leaves the row alone until then. A worker
-- that will publish its rows at once sets it to its commit time plus
-- relay.grace_ms; a row written by anything else (the intake, a script, an
-- operator) has it NULL and the relay takes it at once. The worker marks the
-- rows the broker confirmed published in its next transaction; what a crash
-- or a broker failure left unpublished, the relay takes once the grace has
-- passed (at least once: the consumers' inbox absorbs a second copy).
--
-- Not in the index: the claim reads ix_outbox_pending in id order and skips
-- the few newest rows still in their grace (READ COMMITTED: a skipped row is
-- not locked).
--
-- No statement or comment in this file holds a semicolon except as a
-- statement terminator at the end of a line: the migration runner splits
-- there.

ALTER TABLE outbox
  ADD COLUMN IF NOT EXISTS relay_after DATETIME(6) NULL AFTER failed_at;
