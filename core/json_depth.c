/*
 * json_depth: one pass over the text, tracking strings and escapes.
 */
#include "core/json_depth.h"

int json_depth_ok(const char *text, size_t len, int max_depth)
{
	int depth = 0, in_string = 0, escaped = 0;

	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		if (in_string) {
			if (escaped)
				escaped = 0;
			else if (c == '\\')
				escaped = 1;
			else if (c == '"')
				in_string = 0;
		} else if (c == '"') {
			in_string = 1;
		} else if (c == '{' || c == '[') {
			if (++depth > max_depth)
				return 0;
		} else if ((c == '}' || c == ']') && depth > 0) {
			depth--;
		}
	}
	return 1;
}
