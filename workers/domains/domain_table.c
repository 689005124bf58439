/* domain_table: what the worker derives from a domain's table of events
 * (domain.h): the routing keys it binds, the row an event goes to, and the
 * refusal of an event that no row takes. */
#include "workers/domain.h"

#include "core/config_check.h"

#include <stdlib.h>
#include <string.h>

/* domains.<name>.events, for a DOM_EV_CONFIGURED row; empty for a domain the
 * configuration does not know (a test domain). */
static const struct str_list *configured(const struct domain *dom, const struct config *cfg)
{
	static const struct str_list none;
	int id = cfg != NULL ? domain_lookup(dom->name) : -1;

	return id >= 0 ? &cfg->domains[id].events : &none;
}

/* 1 when a domain other than `self` binds `key` under cfg, 0 when none
 * does, -1 when out of memory. */
static int bound_elsewhere(const struct domain *self, const struct config *cfg, const char *key)
{
	for (int d = 0; d < DOM_COUNT; d++) {
		const struct domain *other = domain_get((enum domain_id)d);
		const char **keys;
		int n, hit = 0;

		if (other == self)
			continue;
		n = domain_keys(other, cfg, &keys);
		if (n < 0)
			return -1;
		for (int j = 0; j < n && !hit; j++)
			hit = topic_match(keys[j], key);
		free(keys);
		if (hit)
			return 1;
	}
	return 0;
}

/* A DOM_EV_LOG_QUEUE row with log_from = "outbox": instead of "#", only the
 * events no other domain takes (stock.released, shipping.cancelled by
 * default), so that every event still has a queue and the relay's
 * mandatory publish is not returned. Their copies are duplicates here. */
static int orphan_keys(const struct domain *dom, const struct config *cfg, const char **keys,
		       int n)
{
	const char *const *all;
	int nall = cfg_routing_keys(&all);

	for (int i = 0; i < nall; i++) {
		int b = bound_elsewhere(dom, cfg, all[i]);

		if (b < 0)
			return -1;
		if (b == 0)
			keys[n++] = all[i];
	}
	return n;
}

int domain_keys(const struct domain *dom, const struct config *cfg, const char ***keys_r)
{
	const struct str_list *conf = configured(dom, cfg);
	const char *const *all;
	const char **keys;
	int n = 0;

	keys = malloc(sizeof(*keys) * ((size_t)dom->nevents + (size_t)conf->count +
				       (size_t)cfg_routing_keys(&all) + 1));
	*keys_r = keys;
	if (keys == NULL)
		return -1;
	for (int i = 0; i < dom->nevents; i++) {
		if ((dom->events[i].flags & DOM_EV_LOG_QUEUE) && config_log_from_outbox(cfg)) {
			n = orphan_keys(dom, cfg, keys, n);
			if (n < 0) {
				free(keys);
				*keys_r = NULL;
				return -1;
			}
			continue;
		}
		if (!(dom->events[i].flags & DOM_EV_CONFIGURED)) {
			keys[n++] = dom->events[i].type;
			continue;
		}
		for (int j = 0; j < conf->count; j++)
			keys[n++] = conf->items[j];
	}
	return n;
}

/* Whether the row takes routing key `type`. */
static int row_takes(const struct domain_event *row, const struct str_list *conf,
		     const char *type)
{
	if (!(row->flags & DOM_EV_CONFIGURED))
		return topic_match(row->type, type);
	for (int j = 0; j < conf->count; j++)
		if (topic_match(conf->items[j], type))
			return 1;
	return 0;
}

const struct domain_event *domain_route(const struct domain *dom, const struct config *cfg,
					const char *type)
{
	const struct str_list *conf = configured(dom, cfg);

	for (int i = 0; i < dom->nevents; i++)
		if (row_takes(&dom->events[i], conf, type))
			return &dom->events[i];
	return NULL;
}

enum handler_result domain_dispatch(const struct domain *dom, struct handler_ctx *ctx)
{
	const char *type = ctx->ev->event_type;
	const struct domain_event *row = domain_route(dom, ctx->cfg, type);

	if (row == NULL)
		return handler_reject(ctx, "%s: %s is not an event of the %s domain", dom->name,
				      type, dom->name);
	return row->handle(ctx);
}

/* The length of the word at s (up to a dot or the end). */
static size_t word_len(const char *s)
{
	const char *dot = strchr(s, '.');

	return dot != NULL ? (size_t)(dot - s) : strlen(s);
}

/* The next word after a word of length len at s; "" at the end. */
static const char *next_word(const char *s, size_t len)
{
	return s[len] == '.' ? s + len + 1 : s + len;
}

int topic_match(const char *pattern, const char *key)
{
	size_t pl, kl;

	if (*pattern == '\0')
		return *key == '\0';
	pl = word_len(pattern);
	if (pl == 1 && pattern[0] == '#') {
		/* Zero words, or one more word under the same "#". */
		if (topic_match(next_word(pattern, pl), key))
			return 1;
		return *key != '\0' && topic_match(pattern, next_word(key, word_len(key)));
	}
	if (*key == '\0')
		return 0;
	kl = word_len(key);
	if (!(pl == 1 && pattern[0] == '*') && (pl != kl || strncmp(pattern, key, pl) != 0))
		return 0;
	return topic_match(next_word(pattern, pl), next_word(key, kl));
}
