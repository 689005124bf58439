-- The migration run as db/migrations/006_ascii_ids.sql (with
-- MIGRATE_SCHEMA_VERSION 6) for the run asc-a only. Not part of orderflow:
-- see README "Performance", the fifth day.
ALTER TABLE inbox MODIFY event_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;
ALTER TABLE outbox MODIFY event_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;
ALTER TABLE event_log MODIFY event_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;
ALTER TABLE orders MODIFY id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;
ALTER TABLE order_items MODIFY order_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;
ALTER TABLE reservations MODIFY order_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;
ALTER TABLE reservation_items MODIFY order_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;
ALTER TABLE payments MODIFY order_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;
ALTER TABLE shipments MODIFY order_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;
ALTER TABLE notifications MODIFY order_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;
