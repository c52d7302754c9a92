/* cmd_goals: the campaigns' goals against what was done (goals). */
#include <stdio.h>

#include <jansson.h>

#include "smmctl.h"

static const char *track_word(const json_t *v)
{
	return json_is_true(v)    ? "on track"
	       : json_is_false(v) ? "behind"
	                          : "too early to say";
}

/* A 20-cell bar of how much of the target is done. */
static void print_bar(double percent)
{
	int cells = percent >= 100 ? 20 : percent <= 0 ? 0 : (int)(percent / 5);

	putchar('[');
	for (int i = 0; i < 20; i++)
		putchar(i < cells ? '#' : '.');
	putchar(']');
}

static void print_campaign(const json_t *g)
{
	const json_t *m;
	size_t i;

	printf("%s: by %s, %lld day%s left, %s\n", ctl_str(g, "campaign"),
	       ctl_str(g, "by"), ctl_int(g, "days_left"),
	       ctl_int(g, "days_left") == 1 ? "" : "s",
	       track_word(json_object_get(g, "on_track")));
	json_array_foreach (json_object_get(g, "metrics"), i, m) {
		double pct = json_number_value(json_object_get(m, "percent"));

		printf("  %-10s %8lld / %-8lld ", ctl_str(m, "name"),
		       ctl_int(m, "done"), ctl_int(m, "target"));
		print_bar(pct);
		printf(" %5.1f%%  %s\n", pct,
		       track_word(json_object_get(m, "on_track")));
	}
}

static int cmd_goals_run(struct ctl *c, struct ctl_args *a)
{
	json_t *result = NULL, *g;
	const json_t *goals;
	size_t i;
	int r;

	if ((r = ctl_args_request(c, a, "goals", &result)) != 0)
		return r;
	goals = json_object_get(result, "goals");
	if (a->json)
		r = ctl_print_json(result);
	else if (json_array_size(goals) == 0)
		printf("no campaign in the calendar states goals\n");
	else
		json_array_foreach (goals, i, g)
			print_campaign(g);
	json_decref(result);
	return r;
}

const struct ctl_cmd cmd_goals_entry = {
        .name = "goals",
        .usage = "[--json]",
        .help = "show each campaign's goals against what was done",
        .opts = (const struct ctl_opt[]){{0}},
        .notes = "posts: posts published; engagement: likes, shares,\n"
                 "comments and quotes of its posts (their latest\n"
                 "samples); followers: audience growth on the channels\n"
                 "it posts to. On track: the pace so far reaches the\n"
                 "target by the date.",
        .flags = CTL_CMD_JSON,
        .run = cmd_goals_run,
};
