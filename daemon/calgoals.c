/*
 * A campaign's goals in the calendar, checked like everything else there:
 *
 *   campaigns:
 *     spring:
 *       goals: {posts: 12, engagement: 500, followers: +200,
 *               by: 2026-12-31, from: 2026-12-01}
 *
 * posts: posts published; engagement: likes, shares, comments and quotes
 * summed over the campaign's posts; followers: growth of the audience on
 * the channels it posts to. "by" is required: a goal without a date is a
 * wish, and "on track" needs one. "from" defaults to the campaign's first
 * post.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "calload.h"

/* A count: digits, for followers a leading '+' too. */
static int64_t count_of(const char *s, int plus_ok)
{
	char *end;
	long long v;

	if (plus_ok && *s == '+')
		s++;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	return errno || *end || v > 1000000000000LL ? -1 : v;
}

static void goal_date(struct load *ld, const struct calyaml_event *v,
                      const char *key, struct caltime_civil *out)
{
	char err[128];

	if (v->kind != CALYAML_SCALAR ||
	    caltime_parse(v->value, out, err, sizeof(err)) < 0 || out->has_time)
		load_err_ev(ld, v,
		            "goals: '%s' must be a date such as 2026-12-31",
		            key);
}

static void goal_pair(struct load *ld, const struct load_key *k,
                      const struct calyaml_event *v, struct cal_goals *g)
{
	int64_t *target = strcmp(k->s, "posts") == 0        ? &g->posts
	                  : strcmp(k->s, "engagement") == 0 ? &g->engagement
	                  : strcmp(k->s, "followers") == 0  ? &g->followers
	                                                    : NULL;

	if (strcmp(k->s, "by") == 0)
		goal_date(ld, v, k->s, &g->by);
	else if (strcmp(k->s, "from") == 0)
		goal_date(ld, v, k->s, &g->from);
	else if (target == NULL)
		load_err_at(
		        ld, k->m,
		        "goals: unknown key '%s' (known: posts, engagement, "
		        "followers, by, from)",
		        k->s);
	else if (v->kind != CALYAML_SCALAR ||
	         (*target = count_of(v->value, target == &g->followers)) <= 0) {
		*target = 0; /* named: no "name at least one" on top */
		load_err_ev(ld, v,
		            "goals: '%s' must be a positive count%s, not '%s'",
		            k->s,
		            target == &g->followers ? " such as +200" : "",
		            v->kind == CALYAML_SCALAR ? v->value : "(a list)");
	}
}

static void goals_check(struct load *ld, struct mark at,
                        const struct cal_goals *g)
{
	if (g->by.year == 0)
		load_err_at(ld, at,
		            "goals: 'by' is required (the date to reach "
		            "them by, e.g. by: 2026-12-31)");
	if (g->posts < 0 && g->engagement < 0 && g->followers < 0)
		load_err_at(ld, at,
		            "goals: name at least one of posts, engagement, "
		            "followers");
	if (g->from.year && g->by.year &&
	    caltime_days(g->from.year, g->from.mon, g->from.day) >
	            caltime_days(g->by.year, g->by.mon, g->by.day))
		load_err_at(ld, at, "goals: 'from' comes after 'by'");
}

int load_campaign_goals(struct load *ld, const struct load_key *k,
                        const struct calyaml_event *v, struct cal_campaign *c)
{
	struct cal_goals *g = &c->goals;
	struct calyaml_event val;
	struct load_key gk;
	int r;

	if (strcmp(k->s, "goals") != 0)
		return 0;
	if (v->kind != CALYAML_MAPPING) {
		load_err_ev(
		        ld, v,
		        "'goals' must be a mapping, e.g. {posts: 12, "
		        "engagement: 500, followers: +200, by: 2026-12-31}");
		return calyaml_skip(ld->y, v) < 0 ? -1 : 1;
	}
	*g = (struct cal_goals){.set = 1,
	                        .posts = -1,
	                        .engagement = -1,
	                        .followers = -1,
	                        .line = k->m.line,
	                        .column = k->m.column};
	while ((r = load_pair(ld, "'goals'", &gk, &val)) > 0) {
		if (val.kind != CALYAML_SCALAR) {
			load_err_ev(ld, &val, "goals: '%s' must be a value",
			            gk.s);
			if (calyaml_skip(ld->y, &val) < 0)
				return -1;
			continue;
		}
		goal_pair(ld, &gk, &val, g);
	}
	if (r < 0)
		return -1;
	goals_check(ld, k->m, g);
	return 1;
}
