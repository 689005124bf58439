-- 002_domains: the rows each domain owns (DESIGN.md "Database").
--
-- Ids are UUID strings CHAR(36), times DATETIME(6) in UTC (every writer
-- passes UTC_TIMESTAMP(6) explicitly), states upper-case words, money integer
-- cents. Tables use utf8mb4_bin so that ids, SKUs and idempotency keys compare
-- byte for byte (the inventory sorts SKUs with strcmp to lock stock rows in
-- one order, and the binary collation orders them the same way).
--
-- Tombstones: when order.cancelled reaches a domain before the event that
-- would create its row, the domain writes the row in its final state at once
-- (reservations RELEASED, payments FAILED with reason 'cancelled before
-- payment', shipments CANCELLED without carrier). The row's primary key
-- (order_id) is the one place where a late event and the cancel meet, so the
-- late event finds the row and does nothing. Payment and shipping write one
-- only for a cancel by the customer: an order cancelled on stock.rejected or
-- payment.failed never reaches them (see workers/domains/order_intake.h).
--
-- No statement or comment in this file holds a semicolon except as a
-- statement terminator: the migration runner splits on it.

-- ---- order ---------------------------------------------------------------

CREATE TABLE IF NOT EXISTS orders (
  id               CHAR(36)     NOT NULL,
  customer_id      VARCHAR(64)  NOT NULL,
  status           VARCHAR(16)  NOT NULL,
  total_cents      BIGINT       NOT NULL,
  currency         CHAR(3)      NOT NULL,
  created_at       DATETIME(6)  NOT NULL,
  updated_at       DATETIME(6)  NOT NULL,
  confirmed_at     DATETIME(6)  NULL,
  shipped_at       DATETIME(6)  NULL,
  cancelled_at     DATETIME(6)  NULL,
  cancel_reason    VARCHAR(255) NULL,
  -- The intake's Idempotency-Key and the SHA-256 (hex) of the canonical
  -- request it came with: the same key with another request is a 409.
  idempotency_key  VARCHAR(128) NULL,
  idempotency_hash CHAR(64)     NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_orders_idempotency_key (idempotency_key),
  -- GET /api/orders?customer=ID, newest first (scanned backwards).
  KEY ix_orders_customer_created (customer_id, created_at, id),
  CONSTRAINT ck_orders_status CHECK (status IN ('PENDING', 'CONFIRMED', 'SHIPPED', 'CANCELLED')),
  CONSTRAINT ck_orders_total CHECK (total_cents >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The price snapshot at order time. Duplicate SKUs of one request are merged
-- by the intake, so (order_id, sku) is a key.
CREATE TABLE IF NOT EXISTS order_items (
  order_id         CHAR(36)     NOT NULL,
  sku              VARCHAR(64)  NOT NULL,
  quantity         INT          NOT NULL,
  unit_price_cents BIGINT       NOT NULL,
  PRIMARY KEY (order_id, sku),
  CONSTRAINT ck_order_items_quantity CHECK (quantity > 0),
  CONSTRAINT ck_order_items_price CHECK (unit_price_cents >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- ---- inventory -----------------------------------------------------------

-- The catalogue: `orderflowctl stock set` writes it, the intake reads prices
-- from it, the inventory moves quantities between it and reservations.
CREATE TABLE IF NOT EXISTS stock (
  sku              VARCHAR(64)  NOT NULL,
  available        INT          NOT NULL,
  price_cents      BIGINT       NOT NULL,
  PRIMARY KEY (sku),
  CONSTRAINT ck_stock_available CHECK (available >= 0),
  CONSTRAINT ck_stock_price CHECK (price_cents >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- One row per order. HELD: taken from stock, COMMITTED: the order was
-- confirmed, RELEASED: given back (or a tombstone written by an
-- order.cancelled that came before order.created), REJECTED: not enough
-- stock, nothing taken.
CREATE TABLE IF NOT EXISTS reservations (
  order_id         CHAR(36)     NOT NULL,
  status           VARCHAR(16)  NOT NULL,
  reason           VARCHAR(255) NULL,
  created_at       DATETIME(6)  NOT NULL,
  updated_at       DATETIME(6)  NOT NULL,
  PRIMARY KEY (order_id),
  KEY ix_reservations_status (status),
  CONSTRAINT ck_reservations_status
    CHECK (status IN ('HELD', 'COMMITTED', 'RELEASED', 'REJECTED'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- What a HELD or COMMITTED reservation took (kept after RELEASED, as history).
CREATE TABLE IF NOT EXISTS reservation_items (
  order_id         CHAR(36)     NOT NULL,
  sku              VARCHAR(64)  NOT NULL,
  quantity         INT          NOT NULL,
  PRIMARY KEY (order_id, sku),
  KEY ix_reservation_items_sku (sku),
  CONSTRAINT ck_reservation_items_quantity CHECK (quantity > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- ---- payment -------------------------------------------------------------

-- One row per order: a refund sets status REFUNDED, it adds no row. A FAILED
-- row with reason 'cancelled before payment' and amount 0 is the tombstone of
-- an order.cancelled that came before stock.reserved: nothing was charged and
-- the late stock.reserved charges nothing.
CREATE TABLE IF NOT EXISTS payments (
  order_id         CHAR(36)     NOT NULL,
  status           VARCHAR(16)  NOT NULL,
  amount_cents     BIGINT       NOT NULL,
  currency         CHAR(3)      NOT NULL,
  customer_id      VARCHAR(64)  NOT NULL,
  reason           VARCHAR(255) NULL,
  created_at       DATETIME(6)  NOT NULL,
  updated_at       DATETIME(6)  NOT NULL,
  PRIMARY KEY (order_id),
  KEY ix_payments_status (status),
  CONSTRAINT ck_payments_status CHECK (status IN ('COMPLETED', 'FAILED', 'REFUNDED')),
  CONSTRAINT ck_payments_amount CHECK (amount_cents >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- ---- shipping ------------------------------------------------------------

-- A CANCELLED row without carrier is the tombstone of an order.cancelled that
-- came before order.confirmed.
CREATE TABLE IF NOT EXISTS shipments (
  order_id         CHAR(36)     NOT NULL,
  status           VARCHAR(16)  NOT NULL,
  customer_id      VARCHAR(64)  NOT NULL,
  carrier          VARCHAR(16)  NULL,
  tracking_number  VARCHAR(64)  NULL,
  created_at       DATETIME(6)  NOT NULL,
  updated_at       DATETIME(6)  NOT NULL,
  PRIMARY KEY (order_id),
  KEY ix_shipments_tracking (tracking_number),
  CONSTRAINT ck_shipments_status CHECK (status IN ('SCHEDULED', 'CANCELLED'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- ---- notification --------------------------------------------------------

CREATE TABLE IF NOT EXISTS notifications (
  id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  order_id         CHAR(36)     NOT NULL,
  customer_id      VARCHAR(64)  NOT NULL,
  type             VARCHAR(16)  NOT NULL,
  message          VARCHAR(512) NOT NULL,
  created_at       DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  -- One notification per (order, type): a second insert is a duplicate key.
  UNIQUE KEY uq_notifications_order_type (order_id, type),
  KEY ix_notifications_customer_created (customer_id, created_at),
  CONSTRAINT ck_notifications_type
    CHECK (type IN ('created', 'confirmed', 'cancelled', 'shipped', 'refunded'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- ---- webhook -------------------------------------------------------------

-- How many events the webhook domain delivered or skipped (url empty), by
-- event type. Counted in the delivery's transaction, so exactly once.
CREATE TABLE IF NOT EXISTS webhook_stats (
  event_type       VARCHAR(64)  NOT NULL,
  outcome          VARCHAR(16)  NOT NULL,
  count            BIGINT UNSIGNED NOT NULL,
  updated_at       DATETIME(6)  NOT NULL,
  PRIMARY KEY (event_type, outcome),
  CONSTRAINT ck_webhook_stats_outcome CHECK (outcome IN ('DELIVERED', 'SKIPPED'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- ---- audit ---------------------------------------------------------------

-- Append-only: every event once, keyed by its id.
CREATE TABLE IF NOT EXISTS event_log (
  event_id         CHAR(36)     NOT NULL,
  event_type       VARCHAR(64)  NOT NULL,
  aggregate_type   VARCHAR(128) NOT NULL,
  aggregate_id     VARCHAR(128) NOT NULL,
  correlation_id   VARCHAR(128) NOT NULL,
  causation_id     VARCHAR(128) NOT NULL,
  occurred_at      DATETIME(6)  NOT NULL,
  recorded_at      DATETIME(6)  NOT NULL,
  body             MEDIUMTEXT   NOT NULL,
  PRIMARY KEY (event_id),
  KEY ix_event_log_correlation (correlation_id, occurred_at),
  KEY ix_event_log_aggregate (aggregate_id, occurred_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
