/*
 * Delivery states by name and by value, from the one list in
 * <smm/protocol.h>.
 */
#ifndef SMM_STATES_H
#define SMM_STATES_H

#include <smm/protocol.h>

enum delivery_state {
#define SMM_STATE_ENUM(e, name, help) DS_##e,
	SMM_STATES(SMM_STATE_ENUM)
#undef SMM_STATE_ENUM
	        DS_COUNT
};

/* The wire name; "?" for a value out of range. */
const char *state_name(enum delivery_state);
/* The state, or -1 for a name that is none (or NULL). */
int state_parse(const char *name);
/* One line on what the state means. */
const char *state_help(enum delivery_state);
/* "scheduled, publishing, ...": for errors and help. */
const char *state_list(void);

#endif
