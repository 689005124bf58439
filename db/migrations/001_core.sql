-- The delivery protocol's tables: idempotency (inbox) and the outbox.

CREATE TABLE IF NOT EXISTS inbox (
  consumer     VARCHAR(64) NOT NULL,
  event_id     CHAR(36) NOT NULL,
  processed_at DATETIME(6) NOT NULL,
  PRIMARY KEY (consumer, event_id),
  KEY inbox_processed_at (processed_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The relay reads unpublished rows in id order: (published_at, id) serves
-- "published_at IS NULL ORDER BY id" and the pruning of published rows.
CREATE TABLE IF NOT EXISTS outbox (
  id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  event_id     CHAR(36) NOT NULL,
  routing_key  VARCHAR(128) NOT NULL,
  body         MEDIUMTEXT NOT NULL,
  created_at   DATETIME(6) NOT NULL,
  published_at DATETIME(6) NULL,
  UNIQUE KEY outbox_event_id (event_id),
  KEY outbox_unpublished (published_at, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
