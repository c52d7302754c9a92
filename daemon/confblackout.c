/*
 * smmd.yaml's blackout keys, the same at the top level (every channel)
 * and in a channel:
 *
 *   blackouts: ["2026-12-25", {dates: 2026-11-27..2026-11-28,
 *                              reason: national mourning}]
 *   quiet: ["Sun", "Mon-Fri 22:00-07:00"]
 *   holidays: [holidays/de.ics, {file: team.ics, except: [Carnival]}]
 *   blackout_action: shift | hold
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blackout.h"
#include "confctx.h"
#include "holidays.h"

#define EXCEPT_MAX 64

typedef void (*item_fn)(struct conf_ctx *, struct conf_node *item,
                        struct blackouts *);

static void add_or_report(struct conf_ctx *p, struct conf_node *n,
                          struct blackouts *set, struct blackout *b)
{
	if (blackouts_add(set, b) < 0) {
		free(b->reason);
		conf_error(p, n, "out of memory");
	}
}

/* The node itself when it is a mapping's value named key, else NULL. */
static struct conf_node *member(struct conf_ctx *p, struct conf_node *map,
                                const char *key)
{
	yaml_node_pair_t *pr;

	for (pr = YN(map)->data.mapping.pairs.start;
	     pr < YN(map)->data.mapping.pairs.top; pr++) {
		struct conf_node *k =
		        CN(yaml_document_get_node(p->doc, pr->key));
		const char *name = conf_scalar(k);

		if (name && strcmp(name, key) == 0)
			return CN(yaml_document_get_node(p->doc, pr->value));
	}
	return NULL;
}

/* Every key of map must be one of known ("a, b"), listed for errors. */
static int only_keys(struct conf_ctx *p, struct conf_node *map,
                     const char *const *known, const char *list)
{
	yaml_node_pair_t *pr;
	int ok = 1;

	for (pr = YN(map)->data.mapping.pairs.start;
	     pr < YN(map)->data.mapping.pairs.top; pr++) {
		struct conf_node *k =
		        CN(yaml_document_get_node(p->doc, pr->key));
		const char *name = conf_scalar(k);
		size_t i = 0;

		while (known[i] && (name == NULL || strcmp(name, known[i])))
			i++;
		if (known[i] == NULL) {
			conf_error(p, k, "unknown key '%s' (known: %s)",
			           name ? name : "?", list);
			ok = 0;
		}
	}
	return ok;
}

static void dates_item(struct conf_ctx *p, struct conf_node *item,
                       struct blackouts *set)
{
	static const char *const keys[] = {"dates", "reason", NULL};
	struct conf_node *dn = item, *rn = NULL;
	const char *dates, *reason = NULL;
	struct blackout b;
	char err[256];

	if (YN(item)->type == YAML_MAPPING_NODE) {
		if (!only_keys(p, item, keys, "dates, reason"))
			return;
		if ((dn = member(p, item, "dates")) == NULL) {
			conf_error(p, item,
			           "a blackout needs 'dates', such as "
			           "2026-12-24..2026-12-26");
			return;
		}
		if ((rn = member(p, item, "reason")) != NULL &&
		    ((reason = conf_scalar(rn)) == NULL || reason[0] == 0)) {
			conf_error(p, rn, "'reason' must be a string");
			return;
		}
	}
	if ((dates = conf_scalar(dn)) == NULL) {
		conf_error(p, dn,
		           "a blackout is a date or a range such as "
		           "\"2026-12-25\" or \"2026-12-24 14:00..2026-12-26 "
		           "08:00\"");
		return;
	}
	if (blackout_parse_dates(dates, reason, &b, err, sizeof(err)) < 0)
		conf_error(p, dn, "%s", err);
	else
		add_or_report(p, dn, set, &b);
}

static void quiet_item(struct conf_ctx *p, struct conf_node *item,
                       struct blackouts *set)
{
	const char *text = conf_scalar(item);
	struct blackout b;
	char err[256];

	if (text == NULL)
		conf_error(p, item,
		           "quiet hours are a string such as \"Sun\" or "
		           "\"Mon-Fri 22:00-07:00\"");
	else if (blackout_parse_quiet(text, &b, err, sizeof(err)) < 0)
		conf_error(p, item, "%s", err);
	else
		add_or_report(p, item, set, &b);
}

/* A holiday file: a path, or {file: PATH, except: [SUMMARY, ...]}. */
static void holidays_item(struct conf_ctx *p, struct conf_node *item,
                          struct blackouts *set)
{
	static const char *const keys[] = {"file", "except", NULL};
	struct conf_node *fn = item, *en;
	const char *except[EXCEPT_MAX];
	size_t nexcept = 0;
	char *path = NULL, err[512];
	int64_t now = (int64_t)time(NULL) * 1000;

	if (YN(item)->type == YAML_MAPPING_NODE) {
		if (!only_keys(p, item, keys, "file, except"))
			return;
		if ((fn = member(p, item, "file")) == NULL) {
			conf_error(p, item, "a holiday calendar needs 'file'");
			return;
		}
		if ((en = member(p, item, "except")) != NULL) {
			yaml_node_item_t *it;

			if (YN(en)->type != YAML_SEQUENCE_NODE) {
				conf_error(p, en,
				           "'except' must be a list of event "
				           "names (their SUMMARY)");
				return;
			}
			if (YN(en)->data.sequence.items.top -
			            YN(en)->data.sequence.items.start >
			    EXCEPT_MAX) {
				conf_error(p, en,
				           "more than %d exceptions in one "
				           "holiday calendar",
				           EXCEPT_MAX);
				return;
			}
			for (it = YN(en)->data.sequence.items.start;
			     it < YN(en)->data.sequence.items.top; it++) {
				struct conf_node *e =
				        CN(yaml_document_get_node(p->doc, *it));

				if ((except[nexcept] = conf_scalar(e)) ==
				    NULL) {
					conf_error(p, e,
					           "an exception is an event's "
					           "name");
					return;
				}
				nexcept++;
			}
		}
	}
	if (conf_path(p, fn, "holidays", &path) < 0)
		return;
	if (holidays_load(path, now - HOLIDAYS_BACK_MS, now + HOLIDAYS_AHEAD_MS,
	                  except, nexcept, set, err, sizeof(err)) < 0)
		conf_error(p, fn, "%s", err);
	free(path);
}

/* A list of items, or for holidays one item alone. */
static void each_item(struct conf_ctx *p, struct conf_node *v, const char *key,
                      int one_allowed, item_fn fn, struct blackouts *set)
{
	yaml_node_item_t *it;

	if (YN(v)->type != YAML_SEQUENCE_NODE) {
		if (one_allowed) {
			fn(p, v, set);
			return;
		}
		conf_error(p, v, "'%s' must be a list", key);
		return;
	}
	for (it = YN(v)->data.sequence.items.start;
	     it < YN(v)->data.sequence.items.top; it++)
		fn(p, CN(yaml_document_get_node(p->doc, *it)), set);
}

int conf_blackout_key(struct conf_ctx *p, const char *key, struct conf_node *v,
                      struct blackouts **setp)
{
	struct blackouts *set = *setp;
	const char *s;

	if (strcmp(key, "blackouts") != 0 && strcmp(key, "quiet") != 0 &&
	    strcmp(key, "holidays") != 0 && strcmp(key, "blackout_action") != 0)
		return 0;
	if (set == NULL) {
		if ((set = calloc(1, sizeof(*set))) == NULL) {
			conf_error(p, v, "out of memory");
			return 1;
		}
		set->action = -1;
		*setp = set;
	}
	if (strcmp(key, "blackouts") == 0)
		each_item(p, v, key, 0, dates_item, set);
	else if (strcmp(key, "quiet") == 0)
		each_item(p, v, key, 0, quiet_item, set);
	else if (strcmp(key, "holidays") == 0)
		each_item(p, v, key, 1, holidays_item, set);
	else if ((s = conf_scalar(v)) != NULL && strcmp(s, "shift") == 0)
		set->action = BLACKOUT_SHIFT;
	else if (s && strcmp(s, "hold") == 0)
		set->action = BLACKOUT_HOLD;
	else
		conf_error(p, v, "'blackout_action' must be shift or hold");
	return 1;
}

void conf_blackouts_free(struct blackouts *set)
{
	blackouts_free(set);
	free(set);
}
