/*
 * config_check: the problem list, the checks of single values, the files a
 * config points at, and the rules across keys (see config_check.h).
 */
#include "core/config_check.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"

/* ---- the problem list ---- */

void cfg_problem(struct cfg_ctx *c, const config_setting_t *where, const char *key,
		 const char *fmt, ...)
{
	const char *file = where != NULL ? config_setting_source_file(where) : NULL;
	/* The root has no line: a key missing from the top means its whole
	 * section is missing, and "FILE:0:" would point nowhere. */
	unsigned line = where != NULL && config_setting_parent(where) != NULL ?
			config_setting_source_line(where) : 0;
	char *reason = NULL, *text = NULL;
	va_list ap;
	int n;

	if (file == NULL)
		file = c->path;
	va_start(ap, fmt);
	n = vasprintf(&reason, fmt, ap);
	va_end(ap);
	if (n < 0)
		goto oom;
	n = line > 0 ? asprintf(&text, "%s:%u: %s: %s", file, line, key, reason) :
		       asprintf(&text, "%s: %s: %s", file, key, reason);
	free(reason);
	if (n < 0)
		goto oom;
	if (c->nproblems == c->cap) {
		int cap = c->cap > 0 ? c->cap * 2 : 8;
		struct problem *p = realloc(c->problems, (size_t)cap * sizeof(*p));

		if (p == NULL) {
			free(text);
			goto oom;
		}
		c->problems = p;
		c->cap = cap;
	}
	c->problems[c->nproblems] = (struct problem){ line, c->nproblems, text };
	c->nproblems++;
	return;
oom:
	c->oom = 1;
}

static int problem_cmp(const void *a, const void *b)
{
	const struct problem *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq - y->seq;
}

char *cfg_problems_take(struct cfg_ctx *c)
{
	size_t len = 0, at = 0;
	char *out;

	/* Keys are met in schema order by the cross-key rules; the operator
	 * reads the file top to bottom. */
	qsort(c->problems, (size_t)c->nproblems, sizeof(*c->problems), problem_cmp);
	for (int i = 0; i < c->nproblems; i++)
		len += strlen(c->problems[i].text) + 1;
	out = malloc(len + 1);
	for (int i = 0; out != NULL && i < c->nproblems; i++) {
		size_t n = strlen(c->problems[i].text);

		memcpy(out + at, c->problems[i].text, n);
		out[at + n] = '\n';
		at += n + 1;
	}
	if (out != NULL)
		out[at] = '\0';
	cfg_problems_free(c);
	return out;
}

void cfg_problems_free(struct cfg_ctx *c)
{
	for (int i = 0; i < c->nproblems; i++)
		free(c->problems[i].text);
	free(c->problems);
	c->problems = NULL;
	c->nproblems = c->cap = 0;
}

/* ---- single values ---- */

const char *cfg_check_nonempty(const char *v, char *buf, size_t len)
{
	(void)buf, (void)len;
	return *v == '\0' ? "must not be empty" : NULL;
}

const char *cfg_check_amqp_url(const char *v, char *buf, size_t len)
{
	(void)buf, (void)len;
	if (strncmp(v, "amqp://", 7) == 0 || strncmp(v, "amqps://", 8) == 0)
		return NULL;
	return "must start with amqp:// or amqps://";
}

const char *cfg_check_http_url(const char *v, char *buf, size_t len)
{
	(void)buf, (void)len;
	/* Empty is allowed: the webhook then acknowledges without sending. */
	if (*v == '\0' || strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0)
		return NULL;
	return "must be empty or start with http:// or https://";
}

const char *cfg_check_queue_type(const char *v, char *buf, size_t len)
{
	(void)buf, (void)len;
	if (strcmp(v, "quorum") == 0 || strcmp(v, "classic") == 0)
		return NULL;
	return "must be \"quorum\" or \"classic\"";
}

const char *cfg_check_currency(const char *v, char *buf, size_t len)
{
	(void)buf, (void)len;
	if (strlen(v) == 3 && isupper((unsigned char)v[0]) && isupper((unsigned char)v[1]) &&
	    isupper((unsigned char)v[2]))
		return NULL;
	return "expected 3 upper-case letters (ISO 4217)";
}

/* A host name has at most 255 bytes (RFC 1035), and the HTTP process
 * (http_listen_parse) takes no longer one, nor a port of more than 5 digits:
 * what passes here must not be refused when the process starts. */
#define LISTEN_HOST_MAX 255
#define LISTEN_PORT_DIGITS 5

/* "host:port" or "[v6]:port" with a port of 1..65535. */
const char *cfg_check_listen(const char *v, char *buf, size_t len)
{
	const char *colon = strrchr(v, ':');
	const char *p;
	long port = 0;

	(void)buf, (void)len;
	if (colon == NULL || colon == v || colon[1] == '\0' ||
	    strlen(colon + 1) > LISTEN_PORT_DIGITS)
		goto bad;
	if (v[0] == '[' ? colon[-1] != ']' || colon - v < 3 : memchr(v, ':', (size_t)(colon - v)) != NULL)
		goto bad;
	if (colon - v - (v[0] == '[' ? 2 : 0) > LISTEN_HOST_MAX)
		return "the host is longer than 255 bytes";
	for (p = colon + 1; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p) || port > 65535)
			goto bad;
		port = port * 10 + (*p - '0');
	}
	if (port >= 1 && port <= 65535)
		return NULL;
bad:
	return "expected host:port, e.g. \"127.0.0.1:8080\"";
}

/* The routing keys of DESIGN.md "Events". Kept here rather than taken from
 * the domains so that `orderflowd -t` needs nothing but this module. */
static const char *const routing_keys[] = {
	"order.created",      "stock.reserved",     "stock.rejected",
	"payment.completed",  "payment.failed",     "order.confirmed",
	"order.cancelled",    "stock.released",     "payment.refunded",
	"shipping.scheduled", "shipping.cancelled",
};

const char *cfg_check_event(const char *v, char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(routing_keys) / sizeof(routing_keys[0]); i++)
		if (strcmp(v, routing_keys[i]) == 0)
			return NULL;
	snprintf(buf, len, "\"%s\" is not an event routing key", v);
	return buf;
}

const char *cfg_check_log_level(const char *v, char *buf, size_t len)
{
	if (log_level_parse(v) >= 0)
		return NULL;
	snprintf(buf, len, "unknown level \"%s\"; expected error, warn, info or debug", v);
	return buf;
}

char *cfg_resolve_path(const struct cfg_ctx *c, const char *v)
{
	char *s = NULL;

	if (v[0] == '/')
		return strdup(v);
	if (asprintf(&s, "%s/%s", c->dir, v) < 0)
		return NULL;
	return s;
}

/* ---- lists ---- */

int cfg_list_push(struct str_list *l, const char *s)
{
	char **items = realloc(l->items, (size_t)(l->count + 1) * sizeof(*items));
	char *copy;

	if (items == NULL)
		return -1;
	l->items = items;
	copy = strdup(s);
	if (copy == NULL)
		return -1;
	l->items[l->count++] = copy;
	return 0;
}

void cfg_list_clear(struct str_list *l)
{
	for (int i = 0; i < l->count; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

/* ---- files the config points at ---- */

static const config_setting_t *section(const struct cfg_ctx *c, const char *name)
{
	return config_lookup(&c->lc, name);
}

static const config_setting_t *member(const config_setting_t *g, const char *name)
{
	if (g == NULL || !config_setting_is_group(g))
		return NULL;
	return config_setting_get_member(g, name);
}

/* A file key could not be read: say why, and where a relative name led. */
static void cannot_read(struct cfg_ctx *c, const config_setting_t *s, const char *key,
			const char *abs, int err)
{
	const char *written = config_setting_get_string(s);

	if (written != NULL && written[0] != '/')
		cfg_problem(c, s, key, "cannot read: %s (%s)", strerror(err), abs);
	else
		cfg_problem(c, s, key, "cannot read: %s", strerror(err));
}

/* Strips the line end (and, for tokens, surrounding blanks). */
static void trim(char *s, int blanks)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' ||
			 (blanks && isspace((unsigned char)s[n - 1]))))
		s[--n] = '\0';
	if (blanks && isspace((unsigned char)*s))
		memmove(s, s + strspn(s, " \t"), strlen(s + strspn(s, " \t")) + 1);
}

/* Calls `each` for every line of path (the first only when `first_only`);
 * returns 0 or an errno value. */
static int read_lines(const char *path, int first_only, int blanks,
		      int (*each)(void *arg, const char *line), void *arg)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	int err = 0;

	if (f == NULL)
		return errno;
	errno = 0;
	while (getline(&line, &cap, f) >= 0) {
		trim(line, blanks);
		if (each(arg, line) != 0) {
			err = ENOMEM;
			break;
		}
		if (first_only)
			break;
	}
	/* A folder opens but does not read (EISDIR). */
	if (err == 0 && ferror(f))
		err = errno != 0 ? errno : EIO;
	free(line);
	fclose(f);
	return err;
}

static int take_password(void *arg, const char *line)
{
	char **pw = arg;

	free(*pw);
	*pw = strdup(line);
	return *pw == NULL ? -1 : 0;
}

static int take_token(void *arg, const char *line)
{
	if (*line == '\0')
		return 0;
	return cfg_list_push(arg, line);
}

static void check_password_file(struct cfg_ctx *c, const config_setting_t *s)
{
	struct cfg_database *db = &c->cfg->database;
	int err;

	err = read_lines(db->password_file, 1, 0, take_password, &db->password);
	if (err == ENOMEM)
		c->oom = 1;
	else if (err != 0)
		cannot_read(c, s, "database.password_file", db->password_file, err);
	else if (db->password == NULL || db->password[0] == '\0')
		cfg_problem(c, s, "database.password_file", "the file is empty");
}

static void check_database(struct cfg_ctx *c)
{
	const config_setting_t *g = section(c, "database");
	const config_setting_t *pw = member(g, "password");
	const config_setting_t *pwf = member(g, "password_file");
	const config_setting_t *ret = member(g, "inbox_retention_s");
	long long need = cfg_redelivery_window_s(&c->cfg->retry);

	if (g != NULL && !config_setting_is_group(g))
		return;
	if (member(g, "user") == NULL)
		cfg_problem(c, g, "database.user", "missing required key");
	if (pw != NULL && pwf != NULL)
		cfg_problem(c, pwf, "database.password_file",
			    "both password and password_file are set; keep one");
	else if (pwf != NULL && c->cfg->database.password_file != NULL)
		check_password_file(c, pwf);
	if (c->cfg->database.inbox_retention_s < need)
		cfg_problem(c, ret != NULL ? ret : g, "database.inbox_retention_s",
			    "must be at least %lld (retries can bring a message back for %lld s, "
			    "and a parked one may be replayed for %ld s)",
			    need, need - c->cfg->retry.replay_window_s,
			    c->cfg->retry.replay_window_s);
}

static void check_broker(struct cfg_ctx *c)
{
	const config_setting_t *g = section(c, "broker");
	const config_setting_t *url = member(g, "url"), *urls = member(g, "urls");
	const config_setting_t *ca = member(g, "ca_file");
	FILE *f;

	if (g != NULL && !config_setting_is_group(g))
		return;
	if (url != NULL && urls != NULL)
		cfg_problem(c, urls, "broker.urls", "both url and urls are set; keep one");
	else if (url == NULL && urls == NULL)
		cfg_problem(c, g, "broker.url", "missing required key");
	/* Workers open it only when they connect: find out now, not at 3 am. */
	if (ca != NULL && c->cfg->broker.ca_file != NULL) {
		f = fopen(c->cfg->broker.ca_file, "re");
		if (f == NULL)
			cannot_read(c, ca, "broker.ca_file", c->cfg->broker.ca_file, errno);
		else
			fclose(f);
	}
}

static void check_http(struct cfg_ctx *c)
{
	const config_setting_t *tf = member(section(c, "http"), "tokens_file");
	struct cfg_http *h = &c->cfg->http;
	int before = h->tokens.count, err;

	if (tf == NULL || h->tokens_file == NULL)
		return;
	err = read_lines(h->tokens_file, 0, 1, take_token, &h->tokens);
	if (err == ENOMEM)
		c->oom = 1;
	else if (err != 0)
		cannot_read(c, tf, "http.tokens_file", h->tokens_file, err);
	else if (h->tokens.count == before)
		cfg_problem(c, tf, "http.tokens_file", "holds no tokens");
}

static void check_supervisor(struct cfg_ctx *c)
{
	const config_setting_t *g = section(c, "supervisor");
	const config_setting_t *min = member(g, "restart_backoff_min_ms");
	const struct cfg_supervisor *s = &c->cfg->supervisor;

	if (s->restart_backoff_min_ms <= s->restart_backoff_max_ms)
		return;
	cfg_problem(c, min != NULL ? min : member(g, "restart_backoff_max_ms"),
		    min != NULL ? "supervisor.restart_backoff_min_ms" :
				  "supervisor.restart_backoff_max_ms",
		    "restart_backoff_min_ms (%d) is greater than restart_backoff_max_ms (%d)",
		    s->restart_backoff_min_ms, s->restart_backoff_max_ms);
}

void cfg_check_cross(struct cfg_ctx *c)
{
	check_broker(c);
	check_database(c);
	check_supervisor(c);
	check_http(c);
}

/*
 * A message can come back to a worker long after its first delivery: a
 * transient failure of attempt n sends it through delay tier n (the last tier
 * again once the tiers run out), so up to max_attempts - 1 delays pass before
 * it is parked; an operator may then replay it from the parking lot, which
 * we allow retry.replay_window_s for (a day by default). The inbox must still remember its event_id by then, or
 * a copy that was already processed would be processed again.
 */
long long cfg_redelivery_window_s(const struct cfg_retry *r)
{
	long long retries = r->max_attempts > 1 ? r->max_attempts - 1 : 0;
	long long ms = 0, once;

	if (r->delay_count < 1)
		return r->replay_window_s;
	once = retries < r->delay_count ? retries : r->delay_count;
	for (long long i = 0; i < once; i++)
		ms += r->delays_ms[i];
	/* At most 2^31 retries of at most 2^31 ms each: no overflow. */
	ms += (retries - once) * r->delays_ms[r->delay_count - 1];
	return (ms + 999) / 1000 + r->replay_window_s;
}

void cfg_warn_mode(const struct cfg_ctx *c)
{
	const config_setting_t *pw = member(section(c, "database"), "password");
	const config_setting_t *tok = member(section(c, "http"), "tokens");
	const char *v = pw != NULL ? config_setting_get_string(pw) : NULL;
	struct stat st;

	if ((v == NULL || *v == '\0') && (tok == NULL || config_setting_length(tok) == 0))
		return;
	if (stat(c->path, &st) != 0 || (st.st_mode & 044) == 0)
		return;
	log_warn("%s: holds a password and is readable by others (mode %04o); chmod 600 it",
		 c->path, (unsigned)(st.st_mode & 07777));
}
