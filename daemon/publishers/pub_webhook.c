/*
 * The generic webhook: POST the post as JSON, signed after the Standard
 * Webhooks convention. Receivers drop repeats by webhook-id, so a retry
 * after a crash is safe: this endpoint is idempotent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "http.h"
#include "publisher.h"
#include "sign.h"
#include "timeparse.h"

static json_t *json_string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static char *webhook_body(const struct delivery_view *v)
{
	char at[TIME_RFC3339_LEN];
	json_t *o;
	char *body;

	time_format_rfc3339(v->scheduled_ms, at);
	o = json_pack("{s:s, s:s, s:s, s:o, s:O, s:o, s:s, s:I}", "id",
	              v->post_id, "channel", v->channel, "text", v->text,
	              "link", json_string_or_null(v->link), "media", v->media,
	              "campaign", json_string_or_null(v->campaign),
	              "scheduled_at", at, "attempt", (json_int_t)v->attempt);
	if (o == NULL)
		return NULL;
	body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return body;
}

static int add_header(struct curl_slist **list, const char *name,
                      const char *value)
{
	char line[1024];
	struct curl_slist *n;

	/* "Name:" with no value makes curl drop a header it would add. */
	snprintf(line, sizeof(line), "%s:%s%s", name, value ? " " : "",
	         value ? value : "");
	if ((n = curl_slist_append(*list, line)) == NULL)
		return -1;
	*list = n;
	return 0;
}

static int webhook_build(const struct channel *ch,
                         const struct delivery_view *v, int64_t now_ms,
                         struct http_request *req, char *err, size_t errlen)
{
	char ts[32], sig[SIGN_HEADER_LEN];
	int64_t now_s = now_ms / 1000;

	if ((req->body = webhook_body(v)) == NULL) {
		snprintf(err, errlen, "cannot encode the post as JSON");
		return -1;
	}
	req->body_len = strlen(req->body);
	snprintf(ts, sizeof(ts), "%lld", (long long)now_s);
	if (add_header(&req->headers, "Content-Type", "application/json") < 0 ||
	    add_header(&req->headers, "User-Agent", "smmd/" PACKAGE_VERSION) <
	            0 ||
	    add_header(&req->headers, "webhook-id", v->webhook_id) < 0 ||
	    add_header(&req->headers, "Idempotency-Key", v->webhook_id) < 0 ||
	    add_header(&req->headers, "webhook-timestamp", ts) < 0 ||
	    /* An empty Expect stops curl's 100-continue round trip. */
	    add_header(&req->headers, "Expect", NULL) < 0)
		goto nomem;
	if (ch->secret) {
		if (sign_webhook(ch->secret, ch->secret_len, v->webhook_id,
		                 now_s, req->body, req->body_len, sig) < 0) {
			snprintf(err, errlen, "cannot compute the signature");
			return -1;
		}
		if (add_header(&req->headers, "webhook-signature", sig) < 0)
			goto nomem;
	}
	if ((req->url = strdup(ch->url)) == NULL)
		goto nomem;
	req->timeout_ms = ch->timeout_ms;
	req->connect_timeout_ms = ch->connect_timeout_ms;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

static void webhook_classify(const struct channel *ch,
                             const struct http_result *res, int64_t now_ms,
                             struct verdict *out)
{
	publisher_classify_http(res, now_ms, out);
}

const struct publisher_ops pub_webhook = {
        .name = "webhook",
        .idempotent = 1,
        .build_request = webhook_build,
        .classify = webhook_classify,
};
