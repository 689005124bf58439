/* http_auth: bearer tokens compared in constant time (see http_auth.h). */
#include "http/http_auth.h"

#include <string.h>
#include <strings.h>

int http_token_equal(const char *given, size_t len, const char *expected)
{
	size_t elen = strlen(expected);
	/* volatile: keep the compiler from turning the loop into an early exit */
	volatile unsigned char diff = (unsigned char)(len != elen);

	for (size_t i = 0; i < elen; i++) {
		/* Past the end of the offer, compare with a byte no token can
		 * hold at that place: the lengths already differ anyway. */
		unsigned char g = i < len ? (unsigned char)given[i] : 0;

		diff |= (unsigned char)(g ^ (unsigned char)expected[i]);
	}
	return diff == 0 && elen > 0;
}

int http_token_matches(const struct str_list *tokens, const char *given, size_t len)
{
	int match = 0;

	if (tokens == NULL || given == NULL)
		return 0;
	for (int i = 0; i < tokens->count; i++)
		match |= http_token_equal(given, len, tokens->items[i]);
	return match && len > 0;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

int http_bearer_token(const char *authorization, const char **token_r, size_t *len_r)
{
	const char *p = authorization, *end;

	if (p == NULL)
		return -1;
	while (is_blank(*p))
		p++;
	if (strncasecmp(p, "Bearer", 6) != 0 || !is_blank(p[6]))
		return -1;
	p += 6;
	while (is_blank(*p))
		p++;
	end = p + strlen(p);
	while (end > p && is_blank(end[-1]))
		end--;
	if (end == p)
		return -1;
	*token_r = p;
	*len_r = (size_t)(end - p);
	return 0;
}

int http_auth_ok(const struct str_list *tokens, const char *authorization)
{
	const char *tok;
	size_t len;

	if (http_bearer_token(authorization, &tok, &len) != 0)
		return 0;
	return http_token_matches(tokens, tok, len);
}
