/* json_body: the checks a JSON command body gets before jansson parses it. */
#include "intake/json_body.h"

#include "core/json_depth.h"

int http_json_depth_ok(const char *text, size_t len, int max_depth)
{
	return json_depth_ok(text, len, max_depth);
}
