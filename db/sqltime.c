/* sqltime: DATETIME(6) text <-> ISO 8601 UTC (see sqltime.h). */
#include "db/sqltime.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* "YYYY-MM-DD?HH:MM:SS" with sep at [10]: digits where digits belong. */
static int date_time_shape(const char *s, char sep)
{
	static const char shape[] = "dddd-dd-dd?dd:dd:dd";

	for (int i = 0; shape[i] != '\0'; i++) {
		char c = s[i];

		if (shape[i] == 'd' ? !isdigit((unsigned char)c)
				    : (shape[i] == '?' ? c != sep : c != shape[i]))
			return 0;
	}
	return 1;
}

/* Copies up to `want` fraction digits from *p (after '.'), zero-filled. */
static const char *fraction(const char *p, char *dst, int want)
{
	int n = 0;

	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return NULL;
		for (; isdigit((unsigned char)*p); p++)
			if (n < want)
				dst[n++] = *p;
	}
	while (n < want)
		dst[n++] = '0';
	dst[n] = '\0';
	return p;
}

int sqltime_to_iso(const char *sql, char out[SQLTIME_LEN])
{
	char ms[4];
	const char *p;

	if (sql == NULL || strlen(sql) < 19 || !date_time_shape(sql, ' '))
		return -1;
	p = fraction(sql + 19, ms, 3);
	if (p == NULL || *p != '\0')
		return -1;
	snprintf(out, SQLTIME_LEN, "%.10sT%.8s.%sZ", sql, sql + 11, ms);
	return 0;
}

int sqltime_from_iso(const char *iso, char out[SQLTIME_LEN])
{
	char us[7];
	const char *p;

	if (iso == NULL || strlen(iso) < 20 || !date_time_shape(iso, 'T'))
		return -1;
	p = fraction(iso + 19, us, 6);
	if (p == NULL || (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0))
		return -1;
	snprintf(out, SQLTIME_LEN, "%.10s %.8s.%s", iso, iso + 11, us);
	return 0;
}
