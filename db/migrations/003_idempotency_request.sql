-- An Idempotency-Key is checked against the canonical request itself (compact
-- JSON of the customer, the currency and the merged lines), stored with the
-- order, instead of a hash of it: a text comparison needs no hash code of
-- our own.
ALTER TABLE orders
  ADD COLUMN IF NOT EXISTS idempotency_request MEDIUMTEXT NULL AFTER idempotency_key,
  DROP COLUMN IF EXISTS idempotency_hash;
