/*
 * http_server: the HTTP intake process on libmicrohttpd (DESIGN.md
 * "Commands"); see http_server.c.
 */
#ifndef ORDERFLOW_HTTP_SERVER_H
#define ORDERFLOW_HTTP_SERVER_H

#include "core/config.h"

/* The HTTP intake process' entry point. Returns an exit code. */
int http_run(const struct config *cfg);

#endif
