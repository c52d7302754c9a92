#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "http.h"
#include "publisher.h"

extern const struct publisher_ops pub_webhook;
extern const struct publisher_ops pub_slack;
extern const struct publisher_ops pub_discord;
extern const struct publisher_ops pub_telegram;
extern const struct publisher_ops pub_mastodon;
extern const struct publisher_ops pub_template;

/* The registry: one line per driver, NULL-terminated. */
static const struct publisher_ops *const publishers[] = {
        &pub_webhook,
        &pub_slack,
        &pub_discord,
        &pub_telegram,
        &pub_mastodon,
        &pub_template,
        NULL,
};

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

int publisher_add_header(struct curl_slist **list, const char *name,
                         const char *value)
{
	char line[2048];
	struct curl_slist *n;

	/* "Name:" with no value makes curl drop a header it would add. */
	if ((size_t)snprintf(line, sizeof(line), "%s:%s%s", name,
	                     value ? " " : "",
	                     value ? value : "") >= sizeof(line))
		return -1;
	if ((n = curl_slist_append(*list, line)) == NULL)
		return -1;
	*list = n;
	return 0;
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
	switch (http_classify_status(res->status)) {
	case VERDICT_PUBLISHED:
		out->kind = PUBLISH_OK;
		snprintf(out->reason, sizeof(out->reason), "HTTP %ld",
		         res->status);
		return;
	case VERDICT_RETRY:
		out->kind = PUBLISH_RETRY;
		if (res->retry_after &&
		    retry_after_parse(res->retry_after, now_ms, &delay) == 0)
			out->retry_after_ms = delay;
		snprintf(out->reason, sizeof(out->reason), "HTTP %ld",
		         res->status);
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
