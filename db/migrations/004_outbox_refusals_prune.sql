-- 004_outbox_refusals_prune: a row the broker refuses is set aside instead of
-- blocking the relay, and the pruner counts what it deletes (issue 15).
--
-- outbox.attempts, last_error: how often the broker refused the row (a nack,
-- or a basic.return: no queue takes its routing key) and what it said.
-- outbox.retry_at: a refused row waits until then and is retried alone; the
-- batches never claim it, so the rows behind it flow.
-- outbox.failed_at: refused too often, set aside: the relay no longer tries
-- it. An operator re-sends it with
--   UPDATE outbox SET failed_at = NULL, retry_at = NULL, attempts = 0
--     WHERE id = ...
--
-- The index (published_at, failed_at, retry_at, id) replaces (published_at,
-- id): the batch claim (all three NULL, in id order) is still one contiguous
-- stretch of it read in order, the retry claim (retry_at <= now) and the
-- set-aside count (failed_at IS NOT NULL) are ranges of it, and the prune
-- (published_at < cut-off, oldest first) reads it in published_at order.
--
-- prune_stats: rows deleted by the pruner, per table, so that
-- `orderflowctl stats` can show them (the process pool's counters are in
-- /metrics only).
--
-- No statement or comment in this file holds a semicolon except as a
-- statement terminator at the end of a line: the migration runner splits
-- there.

ALTER TABLE outbox
  ADD COLUMN IF NOT EXISTS attempts INT NOT NULL DEFAULT 0 AFTER published_at,
  ADD COLUMN IF NOT EXISTS last_error VARCHAR(512) NULL AFTER attempts,
  ADD COLUMN IF NOT EXISTS retry_at DATETIME(6) NULL AFTER last_error,
  ADD COLUMN IF NOT EXISTS failed_at DATETIME(6) NULL AFTER retry_at,
  DROP INDEX IF EXISTS ix_outbox_published_id,
  ADD INDEX IF NOT EXISTS ix_outbox_pending (published_at, failed_at, retry_at, id);

CREATE TABLE IF NOT EXISTS prune_stats (
  table_name       VARCHAR(64)  NOT NULL,
  rows_pruned      BIGINT UNSIGNED NOT NULL,
  last_pruned_at   DATETIME(6)  NOT NULL,
  PRIMARY KEY (table_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
