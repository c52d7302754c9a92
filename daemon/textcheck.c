#include "textcheck.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "publishers/publisher.h"
#include "text.h"

int textcheck(const struct channel *ch, const char *text, char *msg, size_t cap)
{
	const struct text_rule *rule = ch->pub ? ch->pub->text_rule : NULL;
	unsigned limit = ch->max_length;
	size_t n = strlen(text), len;

	if (limit == 0 && rule != NULL)
		limit = rule->limit;
	if (limit == 0)
		return 0;
	len = rule && rule->measure ? rule->measure(text, n)
	                            : text_chars(text, n);
	if (len <= limit)
		return 0;
	if (ch->max_length)
		snprintf(msg, cap,
		         "text is %zu %s, %zu over channel '%s''s limit of %u "
		         "(max_length)",
		         len, rule ? rule->unit : "characters", len - limit,
		         ch->name, limit);
	else
		snprintf(msg, cap,
		         "text is %zu %s, %zu over channel '%s''s limit of %u "
		         "(%s's rule)",
		         len, rule->unit, len - limit, ch->name, limit,
		         ch->pub->name);
	return 1;
}
