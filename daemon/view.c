#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "timeparse.h"
#include "view.h"

/*
 * A string as JSON. Text from the outside (an endpoint's error body, cut
 * at a byte limit) may not be valid UTF-8, which jansson refuses: replace
 * the bad bytes rather than lose the whole record.
 */
static json_t *json_str(const char *v)
{
	size_t len, o = 0;
	json_t *j;
	char *copy;

	if (v == NULL)
		return json_null();
	if ((j = json_string(v)) != NULL)
		return j;
	len = strlen(v);
	if ((copy = malloc(len + 1)) == NULL)
		return json_null();
	for (size_t k = 0; k < len;) {
		size_t n;

		if (utf8_next(v + k, len - k, &n) == UTF8_INVALID) {
			copy[o++] = '?';
		} else {
			memcpy(copy + o, v + k, n);
			o += n;
		}
		k += n;
	}
	copy[o] = '\0';
	j = json_string(copy);
	free(copy);
	return j ? j : json_null();
}

json_t *view_json_string(const char *v)
{
	return json_str(v);
}

/* An integer, or null where the row has none (below zero). */
static json_t *json_opt_int(int64_t v)
{
	return v < 0 ? json_null() : json_integer(v);
}

static json_t *json_time(int64_t ms)
{
	char buf[TIME_RFC3339_LEN];

	return ms < 0 ? json_null() : json_string(time_format_rfc3339(ms, buf));
}

json_t *view_time(int64_t ms)
{
	return json_time(ms);
}

/* The first line of a post's text, at most 60 characters, for tables. */
static json_t *text_summary(const char *text)
{
	size_t n;
	json_t *j;

	if (text == NULL)
		return json_null();
	n = text_cut_chars(text, strcspn(text, "\n"), 60);
	if ((j = json_stringn(text, n)) != NULL)
		return j;
	/* Not UTF-8: patched first, then cut. */
	if ((j = json_str(text)) != NULL && json_is_string(j)) {
		const char *v = json_string_value(j);
		json_t *cut = json_stringn(
		        v, text_cut_chars(v, strcspn(v, "\n"), 60));

		json_decref(j);
		return cut ? cut : json_null();
	}
	return j ? j : json_null();
}

/*
 * Whether it needs an approval, and who gave it when: null when its
 * channel required none.
 */
static json_t *approval_json(const struct delivery_row *r)
{
	if (!r->needs_approval)
		return json_null();
	return json_pack("{s:b, s:o, s:o, s:o}", "approved",
	                 r->approved_ms >= 0, "by",
	                 json_str(r->approved_by_user), "uid",
	                 json_opt_int(r->approved_by_uid), "at",
	                 json_time(r->approved_ms));
}

static json_t *delivery_json(const struct delivery_row *r)
{
	json_t *d = json_pack(
	        "{s:o, s:o, s:o, s:o, s:o, s:s, s:o, s:I, s:o, s:o, s:o, s:o, "
	        "s:o}",
	        "remote_id", json_str(r->remote_id), "remote_url",
	        json_str(r->remote_url), "id", json_str(r->id), "post",
	        json_str(r->post_id), "channel", json_str(r->channel), "state",
	        state_name(r->state), "due", json_time(r->due_ms), "attempts",
	        (json_int_t)r->attempts, "updated", json_time(r->updated_ms),
	        "next_attempt", json_time(r->next_ms), "last_status",
	        json_opt_int(r->last_status), "last_error",
	        json_str(r->last_error), "text", text_summary(r->text));

	if (d)
		json_object_set_new(d, "approval", approval_json(r));
	return d;
}

static void list_row(void *arg, const struct delivery_row *r)
{
	json_array_append_new(arg, delivery_json(r));
}

int view_awaiting(struct store *s, unsigned limit, json_t **out)
{
	json_t *arr = json_array();
	int r;

	if (arr == NULL)
		return -ENOMEM;
	if ((r = store_awaiting_rows(s, limit, list_row, arr)) < 0) {
		json_decref(arr);
		return r;
	}
	*out = json_pack("{s:o}", "deliveries", arr);
	return *out ? 0 : -ENOMEM;
}

int view_list(struct store *s, int state, unsigned limit, json_t **out)
{
	json_t *arr = json_array();
	int r;

	if (arr == NULL)
		return -ENOMEM;
	if ((r = store_list_rows(s, state, limit, list_row, arr)) < 0) {
		json_decref(arr);
		return r;
	}
	*out = json_pack("{s:o}", "deliveries", arr);
	return *out ? 0 : -ENOMEM;
}

struct show {
	json_t *post;
	json_t *deliveries;
	json_t *attempts; /* of the last delivery */
};

static void show_post(void *arg, const struct post_row *p)
{
	struct show *sh = arg;
	json_t *media = json_loads(p->media ? p->media : "[]", 0, NULL);

	sh->post = json_pack(
	        "{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id", json_str(p->id),
	        "source", json_str(p->source), "text", json_str(p->text),
	        "link", json_str(p->link), "campaign", json_str(p->campaign),
	        "media", media ? media : json_array(), "created",
	        json_time(p->created_ms));
}

static void show_delivery(void *arg, const struct delivery_row *r)
{
	struct show *sh = arg;
	json_t *d = delivery_json(r);

	sh->attempts = json_array();
	json_object_set_new(d, "webhook_id", json_str(r->webhook_id));
	/* In place of the count delivery_json put there. */
	json_object_set(d, "attempts", sh->attempts);
	json_decref(sh->attempts);
	json_array_append_new(sh->deliveries, d);
}

static void show_attempt(void *arg, const struct attempt_row *a)
{
	struct show *sh = arg;

	json_array_append_new(
	        sh->attempts,
	        json_pack("{s:I, s:o, s:o, s:o, s:o, s:o}", "n",
	                  (json_int_t)a->n, "started", json_time(a->started_ms),
	                  "finished", json_time(a->finished_ms), "http_status",
	                  json_opt_int(a->http_status), "error",
	                  json_str(a->error), "latency_ms",
	                  a->latency_ms < 0 ? json_null()
	                                    : json_real(a->latency_ms)));
}

/* A figure the network gives, or null where it gives none. */
static json_t *json_count(int64_t v)
{
	return v < 0 ? json_null() : json_integer(v);
}

json_t *view_engagement(const struct engage_sample *e)
{
	return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "age_s",
	                 (json_int_t)(e->age_ms / 1000), "taken",
	                 json_time(e->taken_ms), "likes", json_count(e->likes),
	                 "shares", json_count(e->shares), "comments",
	                 json_count(e->comments), "quotes",
	                 json_count(e->quotes), "views", json_count(e->views));
}

static void show_sample(void *arg, const struct engage_sample *e)
{
	json_array_append_new(arg, view_engagement(e));
}

/* Each published delivery's engagement history, in place. */
static int show_engagement(struct store *s, json_t *deliveries)
{
	size_t i;
	json_t *d;

	json_array_foreach (deliveries, i, d) {
		const char *id = json_string_value(json_object_get(d, "id"));
		json_t *arr;
		int r;

		if (id == NULL ||
		    strcmp(json_string_value(json_object_get(d, "state")),
		           "published") != 0)
			continue;
		if ((arr = json_array()) == NULL)
			return -ENOMEM;
		if ((r = store_engage_samples(s, id, show_sample, arr)) < 0 &&
		    r != -ENOTSUP) {
			json_decref(arr);
			return r;
		}
		json_object_set_new(d, "engagement", arr);
	}
	return 0;
}

int view_show(struct store *s, const char *id, json_t **out)
{
	struct show sh = {.deliveries = json_array()};
	struct show_rows cb = {show_post, show_delivery, show_attempt, &sh};
	int r = sh.deliveries ? store_show_rows(s, id, &cb) : -ENOMEM;

	if (r < 0) {
		json_decref(sh.post);
		json_decref(sh.deliveries);
		return r;
	}
	if ((r = show_engagement(s, sh.deliveries)) < 0) {
		json_decref(sh.post);
		json_decref(sh.deliveries);
		return r;
	}
	*out = json_pack("{s:o, s:o}", "post", sh.post, "deliveries",
	                 sh.deliveries);
	return *out ? 0 : -ENOMEM;
}

struct agenda {
	json_t *arr;
	int full;
	int failed;
};

static void agenda_row(void *arg, const struct delivery_row *r)
{
	struct agenda *ag = arg;
	json_t *d = json_pack("{s:o, s:o, s:o, s:s, s:o, s:o, s:o}", "id",
	                      json_str(r->id), "post", json_str(r->post_id),
	                      "channel", json_str(r->channel), "state",
	                      state_name(r->state), "due", json_time(r->due_ms),
	                      "text", text_summary(r->text), "remote_url",
	                      json_str(r->remote_url));

	/* Moved later (by a blackout): when it goes, and why. */
	if (d && r->state == DS_SCHEDULED && r->next_ms > r->due_ms) {
		json_object_set_new(d, "goes", json_time(r->next_ms));
		json_object_set_new(d, "why", json_str(r->last_error));
	}
	if (d && ag->full) {
		json_t *media = r->media ? json_loads(r->media, 0, NULL) : NULL;

		json_object_set_new(d, "full_text", json_str(r->text));
		json_object_set_new(d, "link", json_str(r->link));
		json_object_set_new(d, "media", media ? media : json_array());
		json_object_set_new(d, "campaign", json_str(r->campaign));
	}
	if (d == NULL || json_array_append_new(ag->arr, d) < 0)
		ag->failed = 1;
}

int view_agenda(struct store *s, const struct agenda_query *q, json_t **out)
{
	struct agenda ag = {.arr = json_array(), .full = q->full};
	int truncated, r;

	if (ag.arr == NULL)
		return -ENOMEM;
	r = store_agenda_rows(s, q, agenda_row, &ag, &truncated);
	if (r == 0 && ag.failed)
		r = -ENOMEM;
	if (r < 0) {
		json_decref(ag.arr);
		return r;
	}
	*out = json_pack("{s:o, s:b}", "deliveries", ag.arr, "truncated",
	                 truncated);
	return *out ? 0 : -ENOMEM;
}

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
