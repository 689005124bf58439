/*
 * sqltime: converts times between MariaDB's DATETIME(6) text ("2026-11-22
 * 10:15:30.123456", always UTC here) and the ISO 8601 UTC text of the API and
 * the envelope ("2026-11-22T10:15:30.123Z"). Pure; checks the shape only
 * (digits and separators), the server checks the calendar.
 */
#ifndef ORDERFLOW_SQLTIME_H
#define ORDERFLOW_SQLTIME_H

#define SQLTIME_LEN 32 /* buffer size for either form */

/* DATETIME text (fraction optional, any length) -> ISO with milliseconds
 * (truncated). Returns 0, or -1 when sql is not of that shape. */
int sqltime_to_iso(const char *sql, char out[SQLTIME_LEN]);
/* ISO 8601 UTC ("Z" or "+00:00", fraction optional, any length) -> DATETIME
 * text with 6 fraction digits (truncated or zero-filled). Returns 0 or -1. */
int sqltime_from_iso(const char *iso, char out[SQLTIME_LEN]);

#endif
