#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "view.h"

int view_cancel(struct store *s, const char *id, int64_t now_ms,
                json_t **cancelled, char *msg, size_t msglen)
{
	struct transition t = {
	        .id = id,
	        .from = DS_WAITING,
	        .to = DS_CANCELLED,
	        .keep_reason = 1,
	        .next_ms = -1,
	        .now_ms = now_ms,
	};
	struct moved m;
	int r = store_transition(s, &t, &m);

	*cancelled = NULL;
	if (r == -ENOENT)
		snprintf(msg, msglen, "no post or delivery '%s'", id);
	else if (r == -EALREADY)
		snprintf(msg, msglen, "'%s' cannot be cancelled: it is %s", id,
		         state_name(m.current));
	if (r < 0)
		return r;
	if ((*cancelled = json_array()) == NULL) {
		store_moved_clear(&m);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m.n; i++)
		json_array_append_new(*cancelled, json_string(m.ids[i]));
	store_moved_clear(&m);
	return 0;
}

int view_settle(struct store *s, const char *id, enum delivery_state state,
                const char *remote_url, int64_t now_ms, char *msg,
                size_t msglen)
{
	struct transition t = {
	        .id = id,
	        .from = DS_BIT(DS_UNKNOWN) | DS_BIT(DS_FAILED),
	        .to = state,
	        .reason = state == DS_FAILED ? "marked failed by hand" : NULL,
	        /* A retry keeps the error it had, for "show". */
	        .keep_reason = state == DS_RETRY_WAIT,
	        .next_ms = state == DS_RETRY_WAIT ? now_ms : -1,
	        .remote_url = remote_url,
	        .now_ms = now_ms,
	};
	struct moved m;
	/* One delivery: a post's id alone would name them all. */
	int r = strchr(id, '/') ? store_transition(s, &t, &m) : -ENOENT;

	if (r == -ENOENT)
		snprintf(msg, msglen, "no delivery '%s' (give POST/CHANNEL)",
		         id);
	else if (r == -EALREADY)
		snprintf(msg, msglen,
		         "'%s' is %s: only unknown or failed deliveries can "
		         "be retried or resolved",
		         id, state_name(m.current));
	if (r < 0)
		return r;
	store_moved_clear(&m);
	return 0;
}
