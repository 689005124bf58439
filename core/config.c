/*
 * config: loading, driven by the key table (config_keys.c). The defaults are
 * read first, through each key's own type; then the file is walked in its
 * own order, so each problem is found where the operator wrote it, and every
 * name is looked up in the table (an unknown one gets the nearest known name
 * as a suggestion); then the required keys are checked and each key's
 * `after` hook runs (files to read, derived defaults, rules across keys, in
 * config_check.c).
 */
#include "core/config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config_check.h"
#include "core/config_keys.h"
#include "core/log.h"

static const char *const domain_names[DOM_COUNT] = {
	"order", "inventory", "payment", "shipping", "notification", "webhook", "audit",
};

const char *domain_name(enum domain_id id)
{
	if ((int)id < 0 || id >= DOM_COUNT)
		return NULL;
	return domain_names[id];
}

int domain_lookup(const char *name)
{
	for (int i = 0; name != NULL && i < DOM_COUNT; i++)
		if (strcmp(name, domain_names[i]) == 0)
			return i;
	return -1;
}

const char *config_domain_db(const struct config *cfg, enum domain_id dom)
{
	if ((int)dom >= 0 && dom < DOM_COUNT && cfg->domains[dom].database != NULL)
		return cfg->domains[dom].database;
	return cfg->database.name;
}

int config_domain_emits(enum domain_id dom)
{
	return dom == DOM_ORDER || dom == DOM_INVENTORY || dom == DOM_PAYMENT ||
	       dom == DOM_SHIPPING;
}

int config_log_from_outbox(const struct config *cfg)
{
	const char *v = cfg != NULL ? cfg->domains[DOM_AUDIT].log_from : NULL;

	return v != NULL && strcmp(v, "outbox") == 0;
}

int config_databases(const struct config *cfg, const char *names_r[DOM_COUNT])
{
	int n = 0;

	for (int d = 0; d < DOM_COUNT; d++) {
		const char *name = config_domain_db(cfg, (enum domain_id)d);
		int seen = 0;

		for (int i = 0; i < n; i++)
			seen |= strcmp(names_r[i], name) == 0;
		if (!seen)
			names_r[n++] = name;
	}
	return n;
}

/* ---- names against the table ---- */

/* Matches `name` ("domains.order") part by part against the start of table
 * key `pat` ("domains.*.workers"), where "*" stands for a domain's name.
 * Returns what is left of pat ("" when name is the key, ".workers" when it
 * is a group above it), or NULL. */
static const char *match_prefix(const char *pat, const char *name)
{
	while (*name != '\0') {
		size_t pl = strcspn(pat, "."), nl = strcspn(name, ".");
		char seg[32];

		if (pl == 1 && *pat == '*') {
			if (nl >= sizeof(seg))
				return NULL;
			snprintf(seg, sizeof(seg), "%.*s", (int)nl, name);
			if (domain_lookup(seg) < 0)
				return NULL;
		} else if (pl != nl || strncmp(pat, name, nl) != 0) {
			return NULL;
		}
		pat += pl;
		name += nl;
		if (*name == '.') {
			if (*pat != '.')
				return NULL;
			pat++;
			name++;
		}
	}
	return pat;
}

/* The domain a "domains.NAME..." key path names; -1 when none. */
static int domain_of(const char *path)
{
	char seg[32];

	if (strncmp(path, "domains.", 8) != 0)
		return -1;
	snprintf(seg, sizeof(seg), "%.*s", (int)strcspn(path + 8, "."), path + 8);
	return domain_lookup(seg);
}

/* The section of a key: its first part. */
static void section_of(const struct cfg_key *k, char *out, size_t len)
{
	snprintf(out, len, "%.*s", (int)strcspn(k->key, "."), k->key);
}

/* ---- walking the file ---- */

#define NEAR_MAX 64

/* The names the table allows right under `prefix` ("" for the top). */
static int names_under(const char *prefix, char names[][40], int max)
{
	int n = 0;

	for (int i = 0; i < cfg_nkeys && n < max; i++) {
		const char *rest = *prefix ? match_prefix(cfg_keys[i].key, prefix) : cfg_keys[i].key;
		size_t len;
		int dup = 0;

		if (rest == NULL || (*prefix && *rest++ != '.'))
			continue;
		len = strcspn(rest, ".");
		if (len == 1 && *rest == '*') {
			for (int d = 0; d < DOM_COUNT && n < max; d++)
				snprintf(names[n++], 40, "%s", domain_name((enum domain_id)d));
			continue;
		}
		for (int j = 0; j < n; j++)
			dup |= strlen(names[j]) == len && strncmp(names[j], rest, len) == 0;
		if (!dup)
			snprintf(names[n++], 40, "%.*s", (int)len, rest);
	}
	return n;
}

static void unknown_key(struct cfg_ctx *c, const config_setting_t *s, const char *key,
			const char *prefix, const char *name)
{
	char names[NEAR_MAX][40];
	const char *list[NEAR_MAX], *near;
	int n = names_under(prefix, names, NEAR_MAX);

	for (int i = 0; i < n; i++)
		list[i] = names[i];
	near = cfg_nearest(name, list, n);
	if (near != NULL)
		cfg_problem(c, s, key, "unknown key; did you mean %s?", near);
	else
		cfg_problem(c, s, key, "unknown key");
}

static void read_member(struct cfg_ctx *c, const struct cfg_key *k, const config_setting_t *s,
			const char *key)
{
	const config_setting_t *g = config_setting_parent(s);

	/* A pair of which one may be set, as url and urls: refused on the second. */
	if (!(k->flags & CFG_REQUIRED) && k->other != NULL &&
	    config_setting_get_member(g, k->other) != NULL) {
		cfg_problem(c, s, key, "both %s and %s are set; keep one", k->other,
			    cfg_key_leaf(k));
		return;
	}
	k->type->read(c, k, s, key, cfg_key_base(k, c->cfg, domain_of(key)));
}

/* Reads every member of group `g`, whose path is `prefix` ("" for the top),
 * in the order of the file. */
static void walk(struct cfg_ctx *c, const config_setting_t *g, const char *prefix)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, i);
		const char *name = config_setting_name(s);
		const struct cfg_key *k = NULL;
		int group = 0;
		char key[128];

		snprintf(key, sizeof(key), "%s%s%s", prefix, *prefix ? "." : "", name);
		for (int j = 0; j < cfg_nkeys && k == NULL; j++) {
			const char *rest = match_prefix(cfg_keys[j].key, key);

			if (rest != NULL && *rest == '\0')
				k = &cfg_keys[j];
			else if (rest != NULL)
				group = 1;
		}
		if (k != NULL)
			read_member(c, k, s, key);
		else if (!group)
			unknown_key(c, s, key, prefix, name);
		else if (!config_setting_is_group(s))
			cfg_problem(c, s, key, "expected a group");
		else
			walk(c, s, key);
	}
}

/* ---- what the table asks once the file is read ---- */

/* The file's last line, where a missing section is reported: it is where
 * the reader gave up looking for it. */
static unsigned last_line(const char *path)
{
	FILE *f = fopen(path, "re");
	unsigned lines = 0;
	int ch, prev = '\n';

	if (f == NULL)
		return 1;
	while ((ch = getc(f)) != EOF) {
		lines += ch == '\n';
		prev = ch;
	}
	fclose(f);
	lines += prev != '\n';
	return lines > 0 ? lines : 1;
}

/* "broker.url or broker.urls, database.user": what section `sec` requires. */
static void needs_of(const char *sec, char *out, size_t len)
{
	size_t at = 0;

	out[0] = '\0';
	for (int i = 0; i < cfg_nkeys && at < len; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		char ks[32];

		section_of(k, ks, sizeof(ks));
		if (!(k->flags & CFG_REQUIRED) || strcmp(ks, sec) != 0)
			continue;
		at += (size_t)snprintf(out + at, len - at, "%s%s", at > 0 ? ", " : "", k->key);
		if (k->other != NULL && at < len)
			at += (size_t)snprintf(out + at, len - at, " or %s.%s", sec, k->other);
	}
}

static void check_required(struct cfg_ctx *c)
{
	for (int i = 0; i < cfg_nkeys; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		const config_setting_t *g;
		char sec[32], needs[256];
		int first = 1;

		if (!(k->flags & CFG_REQUIRED))
			continue;
		section_of(k, sec, sizeof(sec));
		g = config_lookup(&c->lc, sec);
		if (g != NULL && !config_setting_is_group(g))
			continue; /* already "expected a group" */
		if (g != NULL) {
			if (config_setting_get_member(g, cfg_key_leaf(k)) == NULL &&
			    (k->other == NULL || config_setting_get_member(g, k->other) == NULL))
				cfg_problem(c, g, k->key, "missing required key");
			continue;
		}
		for (int j = 0; j < i; j++)
			first &= !(cfg_keys[j].flags & CFG_REQUIRED) ||
				 strncmp(cfg_keys[j].key, k->key, strlen(sec) + 1) != 0;
		if (!first)
			continue;
		needs_of(sec, needs, sizeof(needs));
		cfg_problem_line(c, last_line(c->path), sec, "missing section (%s %s required)",
				 needs, strchr(needs, ',') != NULL ? "are" : "is");
	}
}

/* Runs each key's `after` hook, once per domain for a "domains." key. */
static void run_hooks(struct cfg_ctx *c)
{
	for (int i = 0; i < cfg_nkeys && !c->oom; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		int kd = cfg_key_domain(k);
		char key[128];

		if (k->after == NULL)
			continue;
		if (kd == -2) {
			k->after(c, k, config_lookup(&c->lc, k->key), k->key, (char *)c->cfg);
			continue;
		}
		for (int d = kd < 0 ? 0 : kd; d < (kd < 0 ? DOM_COUNT : kd + 1); d++) {
			const char *dn = domain_name((enum domain_id)d);

			if (dn == NULL)
				continue;
			snprintf(key, sizeof(key), "domains.%s.%s", dn, cfg_key_leaf(k));
			k->after(c, k, config_lookup(&c->lc, key), key, cfg_key_base(k, c->cfg, d));
		}
	}
}

/* ---- defaults ---- */

/* Each default is libconfig text read through its key's own type and checks,
 * so a default can never be a value the file could not hold. */
static void set_defaults(struct cfg_ctx *c)
{
	for (int i = 0; i < cfg_nkeys && !c->oom; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		int kd = cfg_key_domain(k);
		config_t lc;
		char text[256];

		if (k->def == NULL)
			continue;
		config_init(&lc);
		snprintf(text, sizeof(text), "v = %s;", k->def);
		if (!config_read_string(&lc, text))
			cfg_problem(c, NULL, k->key, "bad default in the key table: %s", k->def);
		else if (kd == -2)
			k->type->read(c, k, config_lookup(&lc, "v"), k->key, (char *)c->cfg);
		else
			for (int d = kd < 0 ? 0 : kd; d < (kd < 0 ? DOM_COUNT : kd + 1); d++)
				k->type->read(c, k, config_lookup(&lc, "v"), k->key,
					      cfg_key_base(k, c->cfg, d));
		config_destroy(&lc);
	}
}

/* ---- loading ---- */

void config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	for (int i = 0; i < cfg_nkeys; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		int kd = cfg_key_domain(k);

		if (kd == -2)
			k->type->release(k, (char *)cfg);
		else
			for (int d = kd < 0 ? 0 : kd; d < (kd < 0 ? DOM_COUNT : kd + 1); d++)
				k->type->release(k, cfg_key_base(k, cfg, d));
	}
	free(cfg->path);
	free(cfg);
}

static char *error_line(const char *fmt, const char *a, const char *b)
{
	char *s = NULL;

	if (asprintf(&s, fmt, a, b) < 0)
		return NULL;
	return s;
}

/* The absolute folder of path, so relative file keys keep working after the
 * daemon changes directory (ca_file is opened long after loading). */
static char *folder_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash == NULL ? strdup(".") :
		    slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
	char *abs;

	if (dir == NULL)
		return NULL;
	abs = realpath(dir, NULL);
	if (abs == NULL)
		return dir;
	free(dir);
	return abs;
}

/* libconfig reports a missing file as "file I/O error" without errno; open it
 * first to tell the operator what the system said. */
static char *check_openable(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return error_line("%s: cannot open: %s\n", path, strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return error_line("%s: cannot open: %s\n", path, strerror(EISDIR));
	}
	close(fd);
	return NULL;
}

static char *parse_error(struct cfg_ctx *c)
{
	const char *file = config_error_file(&c->lc);
	char *s = NULL;

	if (config_error_type(&c->lc) != CONFIG_ERR_PARSE)
		return error_line("%s: cannot read: %s\n", c->path, config_error_text(&c->lc));
	if (asprintf(&s, "%s:%d: syntax error: %s\n", file != NULL ? file : c->path,
		     config_error_line(&c->lc), config_error_text(&c->lc)) < 0)
		return NULL;
	return s;
}

static int parse_and_check(struct cfg_ctx *c, char **errors_r)
{
	if ((*errors_r = check_openable(c->path)) != NULL)
		return -1;
	config_set_include_dir(&c->lc, c->dir);
	/* libconfig 1.5 (Debian 12) leaks the string token it was reading when a
	 * syntax error discards it (`url "amqp://..."`): a few bytes per refused
	 * file, fixed upstream in hyperrealm/libconfig#155. Nothing here can free it. */
	if (!config_read_file(&c->lc, c->path)) {
		*errors_r = parse_error(c);
		return -1;
	}
	walk(c, config_root_setting(&c->lc), "");
	if (!c->oom)
		check_required(c);
	run_hooks(c);
	if (c->oom) {
		*errors_r = error_line("%s: %s\n", c->path, "out of memory");
		return -1;
	}
	cfg_warn_mode(c);
	if (c->nproblems > 0) {
		*errors_r = cfg_problems_take(c);
		return -1;
	}
	return 0;
}

int config_load(const char *path, struct config **cfg_r, char **errors_r)
{
	struct cfg_ctx c = { .path = path };
	char *errors = NULL;
	int rc = -1;

	config_init(&c.lc);
	c.cfg = calloc(1, sizeof(*c.cfg));
	c.dir = folder_of(path);
	if (c.cfg != NULL && c.dir != NULL)
		set_defaults(&c);
	if (c.cfg == NULL || c.dir == NULL || c.oom || (c.cfg->path = strdup(path)) == NULL) {
		errors = error_line("%s: %s\n", path, "out of memory");
		goto cleanup;
	}
	if (c.nproblems > 0) {
		/* A default its own key refuses: a bug of the table, told as such. */
		errors = cfg_problems_take(&c);
		goto cleanup;
	}
	if (parse_and_check(&c, &errors) != 0)
		goto cleanup;
	*cfg_r = c.cfg;
	c.cfg = NULL;
	rc = 0;
cleanup:
	if (rc != 0 && errors_r != NULL)
		*errors_r = errors;
	else
		free(errors);
	cfg_problems_free(&c);
	config_free(c.cfg);
	free(c.dir);
	/* Every string the struct keeps was copied: libconfig's die here. */
	config_destroy(&c.lc);
	return rc;
}
