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

#include "core/config_keys.h"
#include "core/log.h"

/* ---- the problem list ---- */

static void add_problem(struct cfg_ctx *c, const char *file, unsigned line, const char *key,
			const char *fmt, va_list ap)
{
	char *reason = NULL, *text = NULL;
	int n;

	n = vasprintf(&reason, fmt, ap);
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

void cfg_problem(struct cfg_ctx *c, const config_setting_t *where, const char *key,
		 const char *fmt, ...)
{
	const char *file = where != NULL ? config_setting_source_file(where) : NULL;
	/* The root has no line of its own. */
	unsigned line = where != NULL && config_setting_parent(where) != NULL ?
			config_setting_source_line(where) : 0;
	va_list ap;

	va_start(ap, fmt);
	add_problem(c, file != NULL ? file : c->path, line, key, fmt, ap);
	va_end(ap);
}

void cfg_problem_line(struct cfg_ctx *c, unsigned line, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_problem(c, c->path, line, key, fmt, ap);
	va_end(ap);
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

/* The port of a URL's authority, if it has one, must be 1..65535: rabbitmq-c
 * and libcurl would otherwise fail only when a worker connects. */
static const char *check_url_port(const char *v, char *buf, size_t len)
{
	const char *auth = strstr(v, "://") + 3;
	size_t alen = strcspn(auth, "/?#");
	const char *at = memrchr(auth, '@', alen);
	const char *host = at != NULL ? at + 1 : auth, *end = auth + alen;
	const char *colon, *p;
	long port = 0;

	if (*host == '[') {
		const char *close = memchr(host, ']', (size_t)(end - host));

		colon = close != NULL && close + 1 < end && close[1] == ':' ? close + 1 : NULL;
	} else {
		colon = memchr(host, ':', (size_t)(end - host));
	}
	if (colon == NULL)
		return NULL;
	for (p = colon + 1; p < end && isdigit((unsigned char)*p) && port <= 65535; p++)
		port = port * 10 + (*p - '0');
	if (colon + 1 == end)
		return "the port after ':' is empty";
	if (p == colon + 1 || (p < end && !isdigit((unsigned char)*p))) {
		snprintf(buf, len, "port \"%.*s\" is not a number", (int)(end - colon - 1),
			 colon + 1);
		return buf;
	}
	if (port >= 1 && port <= 65535)
		return NULL;
	snprintf(buf, len, "port %.*s is out of range (1..65535)", (int)(end - colon - 1), colon + 1);
	return buf;
}

const char *cfg_check_dbname(const char *v, char *buf, size_t len)
{
	size_t n = strlen(v);

	(void)buf, (void)len;
	if (n == 0 || n > 64 || strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				       "0123456789_") != n)
		return "must be 1 to 64 letters, digits or _";
	return NULL;
}

const char *cfg_check_amqp_url(const char *v, char *buf, size_t len)
{
	if (strncmp(v, "amqp://", 7) == 0 || strncmp(v, "amqps://", 8) == 0)
		return check_url_port(v, buf, len);
	return "must start with amqp:// or amqps://";
}

const char *cfg_check_http_url(const char *v, char *buf, size_t len)
{
	/* Empty is allowed: the webhook then acknowledges without sending. */
	if (*v == '\0')
		return NULL;
	if (strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0)
		return check_url_port(v, buf, len);
	return "must be empty or start with http:// or https://";
}

const char *cfg_check_queue_type(const char *v, char *buf, size_t len)
{
	(void)buf, (void)len;
	if (strcmp(v, "quorum") == 0 || strcmp(v, "classic") == 0)
		return NULL;
	return "must be \"quorum\" or \"classic\"";
}

const char *cfg_check_log_from(const char *v, char *buf, size_t len)
{
	(void)buf, (void)len;
	if (strcmp(v, "queue") == 0 || strcmp(v, "outbox") == 0)
		return NULL;
	return "must be \"queue\" or \"outbox\"";
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

int cfg_routing_keys(const char *const **keys_r)
{
	*keys_r = routing_keys;
	return (int)(sizeof(routing_keys) / sizeof(routing_keys[0]));
}

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

/* ---- the hooks of the key table ---- */

/* Workers open it only when they connect: find out now, not at 3 am. */
CFG_HOOK(cfg_after_ca_file)
{
	const char *path = *(char **)(base + k->off);
	FILE *f;

	if (s == NULL || path == NULL)
		return;
	f = fopen(path, "re");
	if (f == NULL)
		cannot_read(c, s, key, path, errno);
	else
		fclose(f);
}

/* A socket means a local server: no host unless one was written. */
CFG_HOOK(cfg_after_db_host)
{
	char **host = (char **)(base + k->off);

	(void)s, (void)key;
	if (*host != NULL || c->cfg->database.socket != NULL)
		return;
	*host = strdup("127.0.0.1");
	if (*host == NULL)
		c->oom = 1;
}

/* The first line is the password; the load holds it from then on. */
CFG_HOOK(cfg_after_password_file)
{
	const char *path = *(char **)(base + k->off);
	char **pw = &c->cfg->database.password;
	int err;

	if (s == NULL || path == NULL)
		return;
	err = read_lines(path, 1, 0, take_password, pw);
	if (err == ENOMEM)
		c->oom = 1;
	else if (err != 0)
		cannot_read(c, s, key, path, err);
	else if (*pw == NULL || (*pw)[0] == '\0')
		cfg_problem(c, s, key, "the file is empty");
	else
		cfg_warn_placeholder(c, s, key, *pw, 0);
}

/* Read once every key is: the tokens of the file add to http.tokens,
 * wherever the two keys stand in the group. */
CFG_HOOK(cfg_after_tokens_file)
{
	const char *path = *(char **)(base + k->off);
	struct str_list *t = &c->cfg->http.tokens;
	int before = t->count, err;

	if (s == NULL || path == NULL)
		return;
	err = read_lines(path, 0, 1, take_token, t);
	if (err == ENOMEM)
		c->oom = 1;
	else if (err != 0)
		cannot_read(c, s, key, path, err);
	else if (t->count == before)
		cfg_problem(c, s, key, "holds no tokens");
	for (int i = before; err == 0 && i < t->count; i++)
		cfg_warn_placeholder(c, s, key, t->items[i], 0);
}

CFG_HOOK(cfg_after_domain_prefetch)
{
	int *prefetch = (int *)(base + k->off);

	(void)s, (void)key;
	if (*prefetch == 0)
		*prefetch = c->cfg->broker.prefetch;
}

CFG_HOOK(cfg_after_inbox_retention)
{
	long long need = cfg_redelivery_window_s(&c->cfg->retry);

	if (*(long *)(base + k->off) >= need)
		return;
	cfg_problem(c, s != NULL ? s : section(c, "database"), key,
		    "must be at least %lld (retries can bring a message back for %lld s, "
		    "and a parked one may be replayed for %ld s)",
		    need, need - c->cfg->retry.replay_window_s, c->cfg->retry.replay_window_s);
}

/* With "outbox" the transaction that emits an event writes its event_log
 * row: every domain that emits must share audit's database. */
CFG_HOOK(cfg_after_log_from)
{
	const char *v = *(char **)(base + k->off), *audit_db;

	if (v == NULL || strcmp(v, "outbox") != 0)
		return;
	audit_db = config_domain_db(c->cfg, DOM_AUDIT);
	for (int d = 0; d < DOM_COUNT; d++) {
		const char *db = config_domain_db(c->cfg, (enum domain_id)d);

		if (!config_domain_emits((enum domain_id)d) || strcmp(db, audit_db) == 0)
			continue;
		cfg_problem(c, s != NULL ? s : section(c, "domains"), key,
			    "\"outbox\" needs %s's database (%s) to be audit's (%s): event_log "
			    "is written in the transaction that emits the event",
			    domain_name((enum domain_id)d), db, audit_db);
		return;
	}
}

/* On the min key, or the max one when only that was written. */
CFG_HOOK(cfg_after_backoff)
{
	const struct cfg_supervisor *sv = &c->cfg->supervisor;
	const config_setting_t *max = member(section(c, "supervisor"), "restart_backoff_max_ms");

	(void)k, (void)base;
	if (sv->restart_backoff_min_ms <= sv->restart_backoff_max_ms)
		return;
	cfg_problem(c, s != NULL ? s : max,
		    s != NULL ? key : "supervisor.restart_backoff_max_ms",
		    "restart_backoff_min_ms (%d) is greater than restart_backoff_max_ms (%d)",
		    sv->restart_backoff_min_ms, sv->restart_backoff_max_ms);
}

/* ---- warnings ---- */

/* The example config's placeholders: "change-me", "change-me-token". */
#define PLACEHOLDER "change-me"

/* The password of a URL, "user:PASSWORD@host", into buf; "" when none. */
static const char *url_password(const char *v, char *buf, size_t len)
{
	const char *auth = strstr(v, "://"), *at, *colon;
	size_t alen;

	if (auth == NULL)
		return "";
	auth += 3;
	alen = strcspn(auth, "/?#");
	at = memrchr(auth, '@', alen);
	colon = at != NULL ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (colon == NULL)
		return "";
	snprintf(buf, len, "%.*s", (int)(at - colon - 1), colon + 1);
	return buf;
}

void cfg_warn_placeholder(const struct cfg_ctx *c, const config_setting_t *s,
			  const char *key, const char *v, int is_url)
{
	const char *file = config_setting_source_file(s);
	char buf[256];

	if (is_url)
		v = url_password(v, buf, sizeof(buf));
	if (strstr(v, PLACEHOLDER) == NULL)
		return;
	log_warn("%s:%u: %s: a placeholder secret (\"%s\"); replace it before going live",
		 file != NULL ? file : c->path, config_setting_source_line(s), key, PLACEHOLDER);
}

/*
 * A message can come back to a worker long after its first delivery: a
 * transient failure of attempt n sends it through delay tier n (the last tier
 * again once the tiers run out), so up to max_attempts - 1 delays pass before
 * it is parked; an operator may then replay it from the parking lot, which
 * we allow retry.replay_window_s for (a day by default). The inbox must
 * still remember its event_id by then, or a copy that was already processed
 * would be processed again.
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
	/* 0640 root:orderflow is how the package installs it: the service reads
	 * it through its group. Only a file anyone can read gives secrets away. */
	if (stat(c->path, &st) != 0 || (st.st_mode & S_IROTH) == 0)
		return;
	log_warn("%s: holds a password and is readable by others (mode %04o); chmod 600 it",
		 c->path, (unsigned)(st.st_mode & 07777));
}

/* ---- suggestions ---- */

/* Optimal string alignment distance: edits plus swaps of neighbours, the
 * usual typos. Names are short: longer ones are not worth suggesting for. */
static int edit_distance(const char *a, const char *b)
{
	enum { N = 64 };
	int d[N + 1][N + 1];
	size_t la = strlen(a), lb = strlen(b);

	if (la > N || lb > N)
		return N;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			int cost = a[i - 1] != b[j - 1], v = d[i - 1][j - 1] + cost;

			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[la][lb];
}

const char *cfg_nearest(const char *name, const char *const *candidates, int n)
{
	size_t len = strlen(name);
	/* A third of the name, at most 3: "heartbeat" finds heartbeat_s, "colour"
	 * finds nothing; a name that only lacks its unit ("timeout" for
	 * timeout_ms) may be 3 away. */
	int limit = len < 3 ? 0 : len / 3 > 3 ? 3 : (int)(len / 3);
	const char *best = NULL;
	int best_d = 4;

	for (int i = 0; i < n; i++) {
		int d = edit_distance(name, candidates[i]);
		int lim = len >= 4 && strncmp(candidates[i], name, len) == 0 ? 3 : limit;

		if (d <= lim && d < best_d) {
			best = candidates[i];
			best_d = d;
		}
	}
	return best;
}
