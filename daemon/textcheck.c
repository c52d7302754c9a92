#include "textcheck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "publishers/publisher.h"
#include "text.h"

/* The text as the network gets it: with the link where it goes inside. */
static size_t measure(const struct text_rule *rule, const char *text,
                      const char *link)
{
	size_t n = strlen(text), len;
	char *whole = NULL;

	if (link && rule && rule->link_joint &&
	    asprintf(&whole, "%s%s%s", text, rule->link_joint, link) >= 0) {
		text = whole;
		n = strlen(whole);
	}
	len = rule && rule->measure ? rule->measure(text, n)
	                            : text_chars(text, n);
	free(whole);
	return len;
}

int textcheck(const struct channel *ch, const char *text, const char *link,
              char *msg, size_t cap)
{
	const struct text_rule *rule = ch->pub ? ch->pub->text_rule : NULL;
	unsigned limit = ch->max_length;
	size_t len;

	if (limit == 0 && rule != NULL)
		limit = rule->limit;
	/* The network's byte cap binds whatever max_length says. */
	if (rule && rule->max_bytes && (len = strlen(text)) > rule->max_bytes) {
		snprintf(msg, cap,
		         "text is %zu bytes, %zu over channel '%s''s limit of "
		         "%zu bytes (%s's rule)",
		         len, len - rule->max_bytes, ch->name, rule->max_bytes,
		         ch->pub->name);
		return 1;
	}
	if (limit == 0)
		return 0;
	if ((len = measure(rule, text, link)) <= limit)
		return 0;
	if (ch->max_length)
		snprintf(msg, cap,
		         "text%s is %zu %s, %zu over channel '%s''s limit of "
		         "%u (max_length)",
		         link && rule && rule->link_joint ? " with its link"
		                                          : "",
		         len, rule ? rule->unit : "characters", len - limit,
		         ch->name, limit);
	else
		snprintf(msg, cap,
		         "text%s is %zu %s, %zu over channel '%s''s limit of "
		         "%u (%s's rule)",
		         link && rule && rule->link_joint ? " with its link"
		                                          : "",
		         len, rule->unit, len - limit, ch->name, limit,
		         ch->pub->name);
	return 1;
}
