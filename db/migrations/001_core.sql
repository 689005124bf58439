-- 001_core: the tables of the delivery protocol (DESIGN.md "Database" and
-- "Processing a delivery"): the inbox that makes a redelivered event harmless
-- and the outbox the relay publishes from.
--
-- Times are DATETIME(6) in UTC: the writers pass UTC_TIMESTAMP(6), and the
-- defaults (for a row written by hand) follow the session's time_zone, which
-- orderflow's connections set to +00:00. utf8mb4_bin, like 002_domains, so
-- ids compare byte for byte.
--
-- No statement or comment in this file holds a semicolon except as a
-- statement terminator at the end of a line: the migration runner splits
-- there.

-- One row per (consumer, event) processed, written in the same transaction
-- as the consumer's effects. Kept database.inbox_retention_s, longer than any
-- redelivery can take, then pruned oldest first in small batches:
--   DELETE FROM inbox WHERE processed_at < ? ORDER BY processed_at LIMIT n
-- which the processed_at index serves.
CREATE TABLE IF NOT EXISTS inbox (
  consumer     VARCHAR(64)  NOT NULL,
  event_id     CHAR(36)     NOT NULL,
  processed_at DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (consumer, event_id),
  KEY ix_inbox_processed_at (processed_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Events written in the transaction that emits them, published by the relay
-- and then marked (published_at). The index (published_at, id) serves:
--   the relay:  WHERE published_at IS NULL ORDER BY id LIMIT n
--               FOR UPDATE SKIP LOCKED  (one stretch of the index, in id
--               order: no sort, and only the rows it returns are locked)
--   the prune:  WHERE published_at < ? ORDER BY published_at, id LIMIT n
--   the lag:    COUNT(*) WHERE published_at IS NULL  (covered by the index)
-- body is the envelope as JSON text (MEDIUMTEXT: up to 16 MiB, more than
-- broker.max_message_bytes allows).
CREATE TABLE IF NOT EXISTS outbox (
  id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  event_id     CHAR(36)     NOT NULL,
  routing_key  VARCHAR(128) NOT NULL,
  body         MEDIUMTEXT   NOT NULL,
  created_at   DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  published_at DATETIME(6)  NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_outbox_event_id (event_id),
  KEY ix_outbox_published_id (published_at, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
