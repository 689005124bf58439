/*
 * sha256: SHA-256 (FIPS 180-4) of a byte string as 64 lower-case hex digits.
 * The intake hashes the canonical form of an order request with it to tell a
 * retried request (same Idempotency-Key, same body) from a reused key. Our
 * own small copy because nothing else in the build links a crypto library.
 */
#ifndef ORDERFLOW_SHA256_H
#define ORDERFLOW_SHA256_H

#include <stddef.h>

#define SHA256_HEX_LEN 64

void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1]);

#endif
