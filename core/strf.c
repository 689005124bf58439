/*
 * strf: vasprintf with a fallback, so an error path never hands back NULL.
 */
#include "core/strf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *strf(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s != NULL ? s : strdup("out of memory");
}
