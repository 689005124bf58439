/*
 * config_keys: the one table of configuration keys, internal to core/config*.c.
 *
 * Like nginx's ngx_command_t, each row is a key with its type (a set of
 * handlers), its default, its range, where it is stored in struct config and
 * the roles that read it. Loading (config.c), the checks (config_check.c),
 * `orderflowd --dump-keys` and the reload fingerprints all walk this table:
 * a key added here is parsed, defaulted, range-checked, freed, documented and
 * restarts the right children on a reload, with nothing else to edit.
 */
#ifndef ORDERFLOW_CONFIG_KEYS_H
#define ORDERFLOW_CONFIG_KEYS_H

#include <stdio.h>

#include "core/config_check.h"

struct cfg_key;

/* How a value is read, printed and released. `field` is the key's storage. */
struct cfg_type {
	const char *name; /* as --dump-keys prints it */
	void (*read)(struct cfg_ctx *c, const struct cfg_key *k, const config_setting_t *s,
		     const char *key, char *base);
	/* The value as text, for the reload fingerprints; NULL = prints nothing
	 * (a key that only feeds another key's storage, as broker.url). */
	void (*print)(FILE *f, const struct cfg_key *k, const char *base);
	void (*release)(const struct cfg_key *k, char *base);
};

extern const struct cfg_type cfg_int, cfg_long, cfg_llong, cfg_size, cfg_string, cfg_path,
	cfg_url, cfg_strlist, cfg_intlist, cfg_loglevel;

/* Who reads a key. A domain worker reads it when CFG_R_DOMAINS is set (every
 * domain), when its own bit is (CFG_R_DOM(id)), or, for a "domains." key,
 * when CFG_R_SELF is set and the key names its domain. */
#define CFG_R_DOM(id) (1u << (id))
#define CFG_R_DOMAINS ((1u << DOM_COUNT) - 1)
#define CFG_R_SELF (1u << 16)
#define CFG_R_SUPERVISOR (1u << 17)
#define CFG_R_RELAY (1u << 18)
#define CFG_R_HTTP (1u << 19)
#define CFG_R_CTL (1u << 20)
/* Both ends of a connection to the broker and the database. */
#define CFG_R_CLIENTS (CFG_R_DOMAINS | CFG_R_RELAY | CFG_R_HTTP | CFG_R_CTL)

/* Row flags. */
#define CFG_REQUIRED 1u /* missing (and its `other` too, if any) is an error */
#define CFG_SECRET 2u   /* a placeholder value ("change-me") is warned about */

/* Runs once the whole file is read, for every key (present or not, s NULL
 * when absent) and, for "domains.*" keys, once per domain: derived defaults,
 * files to read, rules across keys. */
typedef void (*cfg_key_hook)(struct cfg_ctx *c, const struct cfg_key *k,
			     const config_setting_t *s, const char *key, char *base);

struct cfg_key {
	/* "broker.heartbeat_s"; "domains.*.workers" (every domain) or
	 * "domains.webhook.url" (one domain). */
	const char *key;
	const struct cfg_type *type;
	const char *def;      /* the default, as libconfig text; NULL = unset */
	const char *def_doc;  /* the default in words when def is NULL */
	long long min, max;   /* integers, and each item of an integer list */
	cfg_str_check check;  /* strings, and each item of a string list */
	const char *allowed;  /* the range of a string, in words */
	size_t off;           /* in struct config; in struct cfg_domain for "domains." */
	size_t count_off;     /* integer lists: where their count goes */
	int min_items;        /* lists */
	unsigned flags;
	/* CFG_REQUIRED: the key that may stand in for it. Otherwise: a key of
	 * the same group that may not be set with it ("keep one"). */
	const char *other;
	cfg_key_hook after;
	unsigned roles;
};

extern const struct cfg_key cfg_keys[];
extern const int cfg_nkeys;

/* The domain a "domains." key applies to: -1 for every domain ("*"), the
 * domain's id, or -2 when the key is not under "domains.". */
int cfg_key_domain(const struct cfg_key *k);
/* Where k is stored for domain `dom` (ignored unless a "domains." key). */
char *cfg_key_base(const struct cfg_key *k, struct config *cfg, int dom);
/* The key's last part: "heartbeat_s". */
const char *cfg_key_leaf(const struct cfg_key *k);

#endif
