/*
 * json_depth: how deep a JSON text nests, counted before jansson parses it,
 * so a hostile body cannot drive the parser's recursion (envelopes and
 * command bodies both). Pure.
 */
#ifndef ORDERFLOW_JSON_DEPTH_H
#define ORDERFLOW_JSON_DEPTH_H

#include <stddef.h>

/* 1 when the JSON text nests objects and arrays at most max_depth deep (the
 * root counts as 1; brackets inside strings do not count). Says nothing
 * about validity. */
int json_depth_ok(const char *text, size_t len, int max_depth);

#endif
