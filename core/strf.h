/*
 * strf: a formatted string on the heap, for the error texts that the
 * modules hand back to their callers (char **err_r, freed by the caller).
 */
#ifndef ORDERFLOW_STRF_H
#define ORDERFLOW_STRF_H

/* The formatted text, or "out of memory" when it cannot be made; free() it. */
char *strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
