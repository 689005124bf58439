/*
 * config_check: the validation half of config.c, internal to core/config*.c.
 *
 * It owns the list of problems found while loading a file (each becomes one
 * line "FILE:LINE: KEY: reason", sorted by line once the whole file has been
 * seen, so every problem is reported and none hides another), the checks of
 * single string values, the reading of the files a config points at
 * (password_file, tokens_file, ca_file), the rules that tie several keys
 * together (backoff, inbox retention), derived defaults, and the warnings
 * (a secret readable by anyone, a placeholder secret). The key table
 * (config_keys.c) names the hooks below in its rows.
 *
 * Nothing here is part of the public contract: other modules use core/config.h.
 */
#ifndef ORDERFLOW_CONFIG_CHECK_H
#define ORDERFLOW_CONFIG_CHECK_H

#include <libconfig.h>
#include <stddef.h>

#include "core/config.h"

struct problem {
	unsigned line; /* 0 = the key's whole section is missing: no line to show */
	int seq;       /* order of discovery, to keep the sort stable */
	char *text;    /* the whole line, without its newline */
};

/* Everything one config_load() call carries around. */
struct cfg_ctx {
	const char *path;          /* as the caller gave it */
	char *dir;                 /* absolute folder of path, for relative file keys */
	config_t lc;               /* the parsed file */
	struct config *cfg;        /* being filled */
	struct problem *problems;
	int nproblems;
	int cap;
	int oom;                   /* an allocation failed: report that alone */
};

/* Records a problem at setting `where` (its file and line), or with no line
 * when `where` is NULL or the root (the section holding the key is missing). */
void cfg_problem(struct cfg_ctx *c, const config_setting_t *where, const char *key,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The problems as one malloc'd string of newline-terminated lines, sorted by
 * line; NULL when memory ran out. Empties the list. */
char *cfg_problems_take(struct cfg_ctx *c);
/* The same at an explicit line of the config file (a missing section). */
void cfg_problem_line(struct cfg_ctx *c, unsigned line, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void cfg_problems_free(struct cfg_ctx *c);

/* A check of one string value: NULL when fine, else the reason, written into
 * buf when it needs to quote the value. */
typedef const char *(*cfg_str_check)(const char *v, char *buf, size_t len);

const char *cfg_check_nonempty(const char *v, char *buf, size_t len);
/* A database name: 1 to 64 of [A-Za-z0-9_] (it is written into SQL as an
 * identifier: CREATE DATABASE, and the intake's `db`.stock). */
const char *cfg_check_dbname(const char *v, char *buf, size_t len);
const char *cfg_check_amqp_url(const char *v, char *buf, size_t len);
const char *cfg_check_http_url(const char *v, char *buf, size_t len);
const char *cfg_check_queue_type(const char *v, char *buf, size_t len);
const char *cfg_check_log_from(const char *v, char *buf, size_t len);
const char *cfg_check_currency(const char *v, char *buf, size_t len);
const char *cfg_check_listen(const char *v, char *buf, size_t len);
/* The routing keys of DESIGN.md "Events" (every key a domain may bind,
 * besides "#"); returns how many. */
int cfg_routing_keys(const char *const **keys_r);
const char *cfg_check_event(const char *v, char *buf, size_t len);
const char *cfg_check_log_level(const char *v, char *buf, size_t len);

/* `v` as an absolute path: unchanged when it starts with '/', else joined to
 * the config file's folder. malloc'd; NULL when memory ran out. */
char *cfg_resolve_path(const struct cfg_ctx *c, const char *v);

/* Hooks of the key table, run once every key has been read (see
 * cfg_key_hook in config_keys.h): derived defaults, the files the config
 * names, and the rules across keys. */
struct cfg_key;
#define CFG_HOOK(name)                                                                   \
	void name(struct cfg_ctx *c, const struct cfg_key *k, const config_setting_t *s, \
		  const char *key, char *base)
CFG_HOOK(cfg_after_ca_file);
CFG_HOOK(cfg_after_db_host);
CFG_HOOK(cfg_after_password_file);
CFG_HOOK(cfg_after_inbox_retention);
CFG_HOOK(cfg_after_backoff);
CFG_HOOK(cfg_after_domain_prefetch);
CFG_HOOK(cfg_after_tokens_file);
CFG_HOOK(cfg_after_log_from);

/* Warns (log_warn) when the file holds a secret and anyone may read it (its
 * group may: the service reads a root-owned file through it). */
void cfg_warn_mode(const struct cfg_ctx *c);
/* Warns (log_warn, "FILE:LINE: KEY: ...") when the secret `v` of setting s
 * is a placeholder ("change-me"); of a URL, only its password counts. */
void cfg_warn_placeholder(const struct cfg_ctx *c, const config_setting_t *s,
			  const char *key, const char *v, int is_url);
/* The candidate nearest to `name` by edit distance, when near enough to be
 * a likely typo; else NULL. */
const char *cfg_nearest(const char *name, const char *const *candidates, int n);

/* The longest a message can take to come back to a worker, in seconds: every
 * retry delay it can wait through plus the parking lot's replay window. */
long long cfg_redelivery_window_s(const struct cfg_retry *r);

/* str_list helpers; they return -1 only when memory ran out. */
int cfg_list_push(struct str_list *l, const char *s);
void cfg_list_clear(struct str_list *l);

#endif
