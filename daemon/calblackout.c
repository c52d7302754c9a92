/*
 * A campaign's days off, in the calendar's campaigns: section, the same
 * keys as smmd.yaml's (blackouts, quiet, holidays, blackout_action) but
 * written as strings: a blackout is its dates ("2026-11-27..2026-11-28"),
 * a holiday file a path relative to the calendar file's folder. Each is
 * checked where it is written.
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blackout.h"
#include "calload.h"
#include "holidays.h"

static void add_or_oom(struct load *ld, struct blackouts *set,
                       struct blackout *b)
{
	if (blackouts_add(set, b) < 0) {
		free(b->reason);
		ld->oom = 1;
	}
}

static void dates_item(struct load *ld, const struct calyaml_event *ev,
                       void *arg)
{
	struct blackout b;
	char err[256];

	if (blackout_parse_dates(ev->value, NULL, &b, err, sizeof(err)) < 0)
		load_err_ev(ld, ev, "%s", err);
	else
		add_or_oom(ld, arg, &b);
}

static void quiet_item(struct load *ld, const struct calyaml_event *ev,
                       void *arg)
{
	struct blackout b;
	char err[256];

	if (blackout_parse_quiet(ev->value, &b, err, sizeof(err)) < 0)
		load_err_ev(ld, ev, "%s", err);
	else
		add_or_oom(ld, arg, &b);
}

static void holidays_item(struct load *ld, const struct calyaml_event *ev,
                          void *arg)
{
	char *copy = strdup(ld->cal->files[ld->file]), *path = NULL;
	int64_t now = (int64_t)time(NULL) * 1000;
	char err[512];

	if (copy == NULL ||
	    (ev->value[0] == '/' ? (path = strdup(ev->value)) == NULL
	                         : asprintf(&path, "%s/%s", dirname(copy),
	                                    ev->value) < 0)) {
		free(copy);
		ld->oom = 1;
		return;
	}
	if (holidays_load(path, now - HOLIDAYS_BACK_MS, now + HOLIDAYS_AHEAD_MS,
	                  NULL, 0, arg, err, sizeof(err)) < 0)
		load_err_ev(ld, ev, "%s", err);
	free(path);
	free(copy);
}

int load_campaign_blackout(struct load *ld, const struct load_key *k,
                           const struct calyaml_event *v,
                           struct cal_campaign *c)
{
	int quiet = strcmp(k->s, "quiet") == 0;
	int holidays = strcmp(k->s, "holidays") == 0;

	if (strcmp(k->s, "blackouts") != 0 && !quiet && !holidays &&
	    strcmp(k->s, "blackout_action") != 0)
		return 0;
	if (c->blackouts == NULL) {
		if ((c->blackouts = calloc(1, sizeof(*c->blackouts))) == NULL) {
			ld->oom = 1;
			return calyaml_skip(ld->y, v) < 0 ? -1 : 1;
		}
		c->blackouts->action = -1;
	}
	if (strcmp(k->s, "blackout_action") == 0) {
		if (v->kind == CALYAML_SCALAR && strcmp(v->value, "shift") == 0)
			c->blackouts->action = BLACKOUT_SHIFT;
		else if (v->kind == CALYAML_SCALAR &&
		         strcmp(v->value, "hold") == 0)
			c->blackouts->action = BLACKOUT_HOLD;
		else {
			load_err_ev(ld, v,
			            "'blackout_action' must be shift or hold");
			return calyaml_skip(ld->y, v) < 0 ? -1 : 1;
		}
		return 1;
	}
	return load_items(ld, v, k->s,
	                  quiet      ? quiet_item
	                  : holidays ? holidays_item
	                             : dates_item,
	                  c->blackouts) < 0
	               ? -1
	               : 1;
}
