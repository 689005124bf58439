/*
 * json_body: the checks a JSON command body (intake/http_request.h) gets
 * before jansson parses it, whichever transport brought it (the HTTP API or
 * orderflowctl). Pure.
 */
#ifndef ORDERFLOW_JSON_BODY_H
#define ORDERFLOW_JSON_BODY_H

#include <stddef.h>

#define HTTP_JSON_MAX_DEPTH 32  /* objects and arrays, the root counts as 1 */

/* 1 when the JSON text nests objects and arrays at most max_depth deep
 * (brackets inside strings do not count). Says nothing about validity. */
int http_json_depth_ok(const char *text, size_t len, int max_depth);

#endif
