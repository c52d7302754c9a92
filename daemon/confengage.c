/*
 * smmd.yaml's `metrics` key, the same at the top level (every channel's
 * default) and in a channel: when, after publishing, engagement is read
 * back from the network.
 *
 *   metrics: [1h, 24h, 7d]   # a sample at each of these ages
 *   metrics: off
 *
 * Fixed ages rather than "every N hours" so that posts are compared at the
 * same age, whatever day they went out.
 */
#include <stdio.h>
#include <string.h>

#include "confctx.h"
#include "timeparse.h"

/* The oldest a sample may be planned: a year. */
#define AGE_MAX_MS (366LL * 24 * 3600 * 1000)

static void age_item(struct conf_ctx *p, struct conf_node *n,
                     struct engage_ages *ages)
{
	const char *s = conf_scalar(n);
	int64_t ms;

	if (s == NULL || duration_parse(s, &ms) < 0) {
		conf_error(
		        p, n,
		        "'metrics': '%s' is not an age such as 1h, 24h or 7d",
		        s ? s : "(not a scalar)");
		return;
	}
	if (ms < 1000 || ms > AGE_MAX_MS) {
		conf_error(p, n, "'metrics': ages go from 1s to 366d, not '%s'",
		           s);
		return;
	}
	if (ages->n > 0 && ms <= ages->ms[ages->n - 1]) {
		conf_error(p, n,
		           "'metrics': ages must grow: '%s' comes after a "
		           "later one",
		           s);
		return;
	}
	if (ages->n == ENGAGE_AGES_MAX) {
		conf_error(p, n, "'metrics': at most %d ages", ENGAGE_AGES_MAX);
		return;
	}
	ages->ms[ages->n++] = ms;
}

int conf_engage_key(struct conf_ctx *p, const char *key, struct conf_node *v,
                    struct engage_ages *ages)
{
	yaml_node_item_t *it;
	const char *s;

	if (strcmp(key, "metrics") != 0)
		return 0;
	ages->n = 0;
	if ((s = conf_scalar(v)) != NULL) {
		if (strcmp(s, "off") != 0 && strcmp(s, "false") != 0)
			conf_error(p, v,
			           "'metrics' must be a list of ages such as "
			           "[1h, 24h, 7d], or off");
		return 1;
	}
	if (YN(v)->type != YAML_SEQUENCE_NODE ||
	    YN(v)->data.sequence.items.start ==
	            YN(v)->data.sequence.items.top) {
		conf_error(p, v,
		           "'metrics' must be a list of ages such as "
		           "[1h, 24h, 7d], or off");
		return 1;
	}
	for (it = YN(v)->data.sequence.items.start;
	     it < YN(v)->data.sequence.items.top; it++)
		age_item(p, CN(yaml_document_get_node(p->doc, *it)), ages);
	return 1;
}
