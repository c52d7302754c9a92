/*
 * The store as smmctl sees it: rows and outcomes turned into the wire's
 * JSON and messages. The store itself knows no protocol.
 */
#ifndef SMMD_VIEW_H
#define SMMD_VIEW_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/*
 * v as a JSON string (bytes that are not UTF-8 replaced by '?': an
 * endpoint's error body may hold any), null for NULL.
 */
json_t *view_json_string(const char *v);

/* {"deliveries": [...]}, by due time; state -1: every state. */
int view_list(struct store *, int state, unsigned limit, json_t **out);
/* The same for what awaits an approval (drafts, and held for one). */
int view_awaiting(struct store *, unsigned limit, json_t **out);
/*
 * {"post": {...}, "deliveries": [... each with its attempts]}; id is a
 * post or "POST/CHANNEL". 0, -ENOENT or -EIO.
 */
int view_show(struct store *, const char *id, json_t **out);
/* An instant as RFC 3339 text, or null when below zero. */
json_t *view_time(int64_t ms);
/* One engagement sample as JSON: null where the network gives none. */
struct engage_sample;
json_t *view_engagement(const struct engage_sample *);
/*
 * *out is {"deliveries": [{id, post, channel, state, due, text (first
 * line, 60 characters), remote_url[, full_text, link]}], "truncated":
 * more matched than limit}, owned by the caller. 0, -ENOMEM or -EIO.
 */
int view_agenda(struct store *, const struct agenda_query *, json_t **out);
/*
 * Cancel a delivery, or every cancellable delivery of a post. Returns 0
 * with *cancelled (array of ids, caller owns), -ENOENT, -EALREADY when
 * nothing was left to cancel (msg says why), or -EIO.
 */
int view_cancel(struct store *, const char *id, int64_t now_ms,
                json_t **cancelled, char *msg, size_t msglen);
/*
 * Settle an unknown or failed delivery by hand: DS_RETRY_WAIT (send again
 * now), DS_PUBLISHED (with the post's URL if known) or DS_FAILED. 0,
 * -ENOENT, -EALREADY (wrong state; msg says why) or -EIO.
 */
int view_settle(struct store *, const char *id, enum delivery_state state,
                const char *remote_url, int64_t now_ms, char *msg,
                size_t msglen);

#endif
