#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "http.h"
#include "numfmt.h"
#include "publisher.h"

extern const struct publisher_ops pub_webhook;
extern const struct publisher_ops pub_slack;
extern const struct publisher_ops pub_discord;
extern const struct publisher_ops pub_telegram;
extern const struct publisher_ops pub_mastodon;
extern const struct publisher_ops pub_template;
extern const struct publisher_ops pub_linkedin;
extern const struct publisher_ops pub_vk;
extern const struct publisher_ops pub_facebook;
extern const struct publisher_ops pub_instagram;
extern const struct publisher_ops pub_bluesky;
extern const struct publisher_ops pub_x;
extern const struct publisher_ops pub_threads;

/* The registry: one line per driver, NULL-terminated. */
/* clang-format off */
static const struct publisher_ops *const publishers[] = {
	&pub_webhook,
	&pub_slack,
	&pub_discord,
	&pub_telegram,
	&pub_mastodon,
	&pub_template,
	&pub_linkedin,
	&pub_vk,
	&pub_facebook,
	&pub_instagram,
	&pub_bluesky,
	&pub_x,
	&pub_threads,
	NULL,
};
/* clang-format on */

const struct publisher_ops *publisher_lookup(const char *name)
{
	for (size_t i = 0; publishers[i] != NULL; i++)
		if (strcmp(publishers[i]->name, name) == 0)
			return publishers[i];
	return NULL;
}

char *publisher_names(void)
{
	char buf[512] = "";

	for (size_t i = 0; publishers[i] != NULL; i++) {
		if (i > 0)
			strncat(buf, ", ", sizeof(buf) - strlen(buf) - 1);
		strncat(buf, publishers[i]->name,
		        sizeof(buf) - strlen(buf) - 1);
	}
	return strdup(buf);
}

void pub_step_clear(struct pub_step *st)
{
	json_decref(st->state);
	free(st->blob);
	free(st->blob_type);
	memset(st, 0, sizeof(*st));
}

void pub_step_set(struct pub_step *st, int kind)
{
	json_object_set_new(st->state, "step", json_integer(kind));
}

int pub_step_get(const struct pub_step *st)
{
	return (int)json_integer_value(json_object_get(st->state, "step"));
}

int publisher_add_header(struct curl_slist **list, const char *name,
                         const char *value)
{
	return http_header_add(list, name, value) < 0 ? -1 : 0;
}

void publisher_body_excerpt(const char *body, size_t len, char *out, size_t cap)
{
	size_t o = 0;

	/* Keep it printable and on one log line. */
	for (size_t i = 0; body && i < len && o + 1 < cap; i++) {
		unsigned char c = (unsigned char)body[i];

		out[o++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	out[o] = '\0';
}

/* "HTTP <status>": every delivery's reason, so no printf. */
static void reason_http(struct verdict *out, long status)
{
	_Static_assert(sizeof(out->reason) >= 5 + NUMFMT_I64_LEN,
	               "room for HTTP and any status");
	memcpy(out->reason, "HTTP ", 5);
	numfmt_i64(out->reason + 5, status);
}

void publisher_classify_http(const struct http_result *res, int64_t now_ms,
                             struct verdict *out)
{
	char excerpt[160];
	int64_t delay;

	out->retry_after_ms = -1;
	if (res->status == 0) {
		out->kind = PUBLISH_RETRY;
		snprintf(out->reason, sizeof(out->reason), "%s",
		         res->error ? res->error : "no response");
		return;
	}
	switch (backoff_classify_status(res->status)) {
	case VERDICT_PUBLISHED:
		out->kind = PUBLISH_OK;
		reason_http(out, res->status);
		return;
	case VERDICT_RETRY:
		out->kind = PUBLISH_RETRY;
		if (res->retry_after &&
		    retry_after_parse(res->retry_after, now_ms, &delay) == 0)
			out->retry_after_ms = delay;
		reason_http(out, res->status);
		return;
	case VERDICT_FAILED:
		out->kind = PUBLISH_FAILED;
		publisher_body_excerpt(res->body, res->body_len, excerpt,
		                       sizeof(excerpt));
		snprintf(out->reason, sizeof(out->reason), "HTTP %ld%s%s",
		         res->status, excerpt[0] ? ": " : "", excerpt);
		return;
	}
}

void publisher_redact(char *s, const char *secret)
{
	size_t n = secret ? strlen(secret) : 0;
	char *p;

	/* Shorter than that is no secret, and would maim ordinary text. */
	if (n < 4)
		return;
	while ((p = strstr(s, secret)) != NULL) {
		memcpy(p, "***", 3);
		memmove(p + 3, p + n, strlen(p + n) + 1);
	}
}

/* Redact a copy of p[0..n) from s, if it is long enough to be a secret. */
static void redact_n(char *s, const char *p, size_t n)
{
	char *copy;

	if (n < 8 || (copy = strndup(p, n)) == NULL)
		return;
	publisher_redact(s, copy);
	free(copy);
}

void publisher_redact_url(char *s, const char *url)
{
	const char *host = strstr(url, "://"), *path, *end, *last;

	publisher_redact(s, url);
	if (host == NULL || (path = strchr(host + 3, '/')) == NULL)
		return;
	end = path + strcspn(path, "?#");
	redact_n(s, path, (size_t)(end - path));
	for (last = end; last > path && last[-1] != '/'; last--)
		;
	redact_n(s, last, (size_t)(end - last));
}

int publisher_json_path_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && s[0] != '.' && s[n - 1] != '.' &&
	       strstr(s, "..") == NULL;
}

json_t *publisher_json_at(json_t *o, const char *path)
{
	char part[128];

	while (o && *path) {
		size_t n = strcspn(path, ".");
		char *end;
		unsigned long idx;

		if (n >= sizeof(part))
			return NULL;
		memcpy(part, path, n);
		part[n] = '\0';
		path += n + (path[n] == '.');
		if (json_is_object(o))
			o = json_object_get(o, part);
		else if (json_is_array(o) && isdigit((unsigned char)part[0])) {
			idx = strtoul(part, &end, 10);
			o = *end ? NULL : json_array_get(o, idx);
		} else
			return NULL;
	}
	return o;
}

int publisher_always(const struct channel *ch)
{
	(void)ch;
	return 1;
}

void publisher_prefix_reason(struct verdict *out, const char *what)
{
	char r[sizeof(out->reason)];
	const char *parts[3] = {what, ": ", r};
	size_t cap = sizeof(out->reason), n = 0;

	/* Cut to fit: the end of the reason is what goes. */
	memcpy(r, out->reason, sizeof(r));
	for (size_t k = 0; k < 3; k++)
		for (const char *c = parts[k]; *c && n + 1 < cap; c++)
			out->reason[n++] = *c;
	out->reason[n] = '\0';
}

void publisher_json_text(json_t *o, const char *key, char *out, size_t cap)
{
	json_t *f = json_object_get(o, key);

	if (json_is_string(f))
		snprintf(out, cap, "%s", json_string_value(f));
	else if (json_is_integer(f))
		snprintf(out, cap, "%" JSON_INTEGER_FORMAT,
		         json_integer_value(f));
	else
		out[0] = '\0';
}
