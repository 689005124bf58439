/*
 * http_auth: the bearer tokens of the HTTP intake (DESIGN.md "Commands":
 * every /api/ path needs `Authorization: Bearer TOKEN` with one of http.tokens).
 *
 * The comparison takes the same time whatever the offered token is: every
 * configured token is compared, each over its own full length, with no early
 * exit on the first differing byte or on the first matching token, and a
 * length mismatch is folded into the result instead of returning early. What
 * the time can reveal is only the number and lengths of the configured
 * tokens, never how much of a guess was right. Pure; no allocation.
 */
#ifndef ORDERFLOW_HTTP_AUTH_H
#define ORDERFLOW_HTTP_AUTH_H

#include <stddef.h>

#include "core/config.h"

/* 1 when the len bytes at `given` are exactly `expected`; constant time in
 * the content of both (the loop runs over strlen(expected)). */
int http_token_equal(const char *given, size_t len, const char *expected);

/* 1 when the len bytes at `given` equal one of `tokens`; every token is
 * compared. An empty offer (len 0) never matches, nor does an empty token. */
int http_token_matches(const struct str_list *tokens, const char *given, size_t len);

/* Finds the credentials of an Authorization header value "Bearer TOKEN"
 * (scheme case-insensitive, spaces or tabs between, trailing ones ignored).
 * Returns 0 with *token_r / *len_r, or -1 when the value is absent or not a
 * Bearer credential. */
int http_bearer_token(const char *authorization, const char **token_r, size_t *len_r);

/* 1 when `authorization` (may be NULL) carries one of the tokens. */
int http_auth_ok(const struct str_list *tokens, const char *authorization);

#endif
