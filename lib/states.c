#include <string.h>

#include "states.h"

static const char *const names[DS_COUNT] = {
#define SMM_STATE_NAME(e, name, help) [DS_##e] = name,
        SMM_STATES(SMM_STATE_NAME)
#undef SMM_STATE_NAME
};

static const char *const helps[DS_COUNT] = {
#define SMM_STATE_HELP(e, name, help) [DS_##e] = help,
        SMM_STATES(SMM_STATE_HELP)
#undef SMM_STATE_HELP
};

const char *state_name(enum delivery_state s)
{
	/* Not "unknown": that is a state, and a bug would pass for one. */
	return (unsigned)s < DS_COUNT ? names[s] : "?";
}

const char *state_help(enum delivery_state s)
{
	return (unsigned)s < DS_COUNT ? helps[s] : "";
}

int state_parse(const char *name)
{
	if (name == NULL)
		return -1;
	for (int i = 0; i < DS_COUNT; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

/* Built from the list itself, so it can't disagree with it. */
#define SMM_STATE_JOIN(e, name, help) ", " name
static const char joined[] = SMM_STATES(SMM_STATE_JOIN);
#undef SMM_STATE_JOIN

const char *state_list(void)
{
	return joined + 2; /* past the first ", " */
}
