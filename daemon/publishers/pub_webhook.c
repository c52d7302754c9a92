/*
 * The generic webhook: POST the post as JSON, signed after the Standard
 * Webhooks convention. Receivers drop repeats by webhook-id, so a retry
 * after a crash is safe: this endpoint is idempotent.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "http.h"
#include "numfmt.h"
#include "postid.h"
#include "engage_get.h"
#include "publisher.h"
#include "sign.h"
#include "text.h"
#include "timeparse.h"

/* A signing key: the bytes HMAC takes, after sign_key(). */
struct webhook_key {
	unsigned char *bytes; /* NULL: none */
	size_t len;
};

struct webhook_conf {
	char *url;
	struct webhook_key key;      /* secret_file: signs every request */
	struct webhook_key previous; /* previous_secret_file: during a
	                                rotation, signs too */
	int url_given;
	int url_secret; /* from url_file: kept out of every message */
};

/*
 * A secret file's key: "whsec_<base64>", decoded as receivers decode it,
 * or the raw bytes. Never echoed, even when malformed.
 */
static void webhook_key(struct conf_ctx *p, struct conf_node *v,
                        const char *key, struct webhook_key *k)
{
	size_t len;

	if (conf_secret(p, v, key, 0, &k->bytes, &k->len) < 0)
		return;
	if (sign_key(k->bytes, k->len, &len) < 0) {
		conf_error(
		        p, v,
		        "'%s': the file starts with 'whsec_' but the rest is "
		        "not the base64 of a %d to %d byte key (make one with "
		        "'smmd --new-secret')",
		        key, SIGN_KEY_MIN, SIGN_KEY_MAX);
		conf_secret_free(k->bytes, k->len);
		k->bytes = NULL;
		k->len = 0;
		return;
	}
	/* The buffer keeps its size for the wipe; only len bytes sign. */
	k->len = len;
}

static int webhook_configure(struct conf_ctx *p, struct channel *ch,
                             const char *key, struct conf_node *v)
{
	struct webhook_conf *wc = ch->pub_conf;

	if (wc == NULL && (wc = ch->pub_conf = calloc(1, sizeof(*wc))) == NULL)
		return 0;
	if (strcmp(key, "url") == 0 || strcmp(key, "url_file") == 0) {
		if (wc->url_given) {
			conf_error(p, v, "give 'url' or 'url_file', not both");
			return 1;
		}
		wc->url_given = 1;
	}
	if (strcmp(key, "url") == 0)
		conf_url(p, v, key, &wc->url);
	else if (strcmp(key, "url_file") == 0) {
		unsigned char *url = NULL;
		size_t len = 0;

		/* A URL with a token in it is a secret: checked, never echoed.
		 */
		if (conf_secret(p, v, key, 1, &url, &len) < 0)
			return 1;
		if (!url_is_http((char *)url) || strlen((char *)url) != len ||
		    strpbrk((char *)url, " \t\r\n") != NULL)
			conf_error(p, v,
			           "'%s': the file must hold one http or https "
			           "URL",
			           key);
		else
			wc->url = (char *)url; /* the buffer is ours now */
		if (wc->url != (char *)url)
			conf_secret_free(url, len);
		wc->url_secret = 1;
	} else if (strcmp(key, "secret_file") == 0)
		webhook_key(p, v, key, &wc->key);
	else if (strcmp(key, "previous_secret_file") == 0)
		webhook_key(p, v, key, &wc->previous);
	else
		return 0;
	return 1;
}

static void webhook_check(struct conf_ctx *p, struct channel *ch,
                          struct conf_node *node)
{
	struct webhook_conf *wc = ch->pub_conf;

	if (wc == NULL || !wc->url_given)
		conf_error(p, node, "channel '%s' has no 'url'", ch->name);
	else if (wc->previous.bytes && !wc->key.bytes)
		conf_error(p, node,
		           "channel '%s' has a 'previous_secret_file' but no "
		           "'secret_file'",
		           ch->name);
}

static void webhook_free(struct channel *ch)
{
	struct webhook_conf *wc = ch->pub_conf;

	if (wc == NULL)
		return;
	conf_secret_free((unsigned char *)wc->url,
	                 wc->url ? strlen(wc->url) : 0);
	conf_secret_free(wc->key.bytes, wc->key.len);
	conf_secret_free(wc->previous.bytes, wc->previous.len);
	free(wc);
	ch->pub_conf = NULL;
}

static int webhook_idempotent(const struct channel *ch)
{
	return 1;
}

/*
 * The body, written straight into one buffer sized for the worst case
 * (every byte escaped as \uXXXX): building a json_t and dumping it took
 * as long as signing the result, on every delivery.
 */
struct body {
	char *p;
	size_t len;
};

static size_t quoted_max(const char *s)
{
	return s ? 6 * strlen(s) + 3 : 5; /* "..." with a comma, or null */
}

static void body_add(struct body *b, const char *s, size_t n)
{
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void body_string(struct body *b, const char *s)
{
	size_t n, used, run;
	char esc[JSON_ESCAPE_MAX];

	if (s == NULL) {
		body_add(b, "null", 4);
		return;
	}
	body_add(b, "\"", 1);
	for (n = strlen(s); n > 0; s += used, n -= used) {
		used = json_escape_step(s, n, &run, esc);
		if (run > 0)
			body_add(b, s, run);
		else
			body_add(b, esc, strlen(esc));
	}
	body_add(b, "\"", 1);
}

static void body_key(struct body *b, const char *key)
{
	if (b->p[b->len - 1] != '{')
		body_add(b, ",", 1);
	body_add(b, "\"", 1);
	body_add(b, key, strlen(key));
	body_add(b, "\":", 2);
}

static char *webhook_body(const struct delivery_view *v)
{
	char at[TIME_RFC3339_LEN], num[NUMFMT_I64_LEN];
	size_t cap = 256, i;
	struct body b = {0};
	const json_t *m;

	cap += quoted_max(v->post_id) + quoted_max(v->channel) +
	       quoted_max(v->text) + quoted_max(v->link) +
	       quoted_max(v->campaign);
	json_array_foreach (v->media, i, m)
		cap += quoted_max(json_string_value(m));
	if ((b.p = malloc(cap)) == NULL)
		return NULL;
	time_format_rfc3339(v->scheduled_ms, at);
	body_add(&b, "{", 1);
	body_key(&b, "id");
	body_string(&b, v->post_id);
	body_key(&b, "channel");
	body_string(&b, v->channel);
	body_key(&b, "text");
	body_string(&b, v->text);
	body_key(&b, "link");
	body_string(&b, v->link);
	body_key(&b, "media");
	body_add(&b, "[", 1);
	json_array_foreach (v->media, i, m) {
		if (i > 0)
			body_add(&b, ",", 1);
		body_string(&b, json_string_value(m));
	}
	body_add(&b, "]", 1);
	body_key(&b, "campaign");
	body_string(&b, v->campaign);
	body_key(&b, "scheduled_at");
	body_string(&b, at);
	body_key(&b, "attempt");
	body_add(&b, num, numfmt_i64(num, v->attempt));
	/* Signed with the rest: a receiver may refuse a lower one. */
	if (v->fence > 0) {
		body_key(&b, "fence");
		body_add(&b, num, numfmt_i64(num, v->fence));
	}
	body_add(&b, "}", 1);
	b.p[b.len] = '\0';
	return b.p;
}

/*
 * "v1,<sig>", and during a rotation "v1,<sig> v1,<sig by the previous
 * key>": the specification's list, so receivers with either key verify.
 */
static int webhook_signature(const struct webhook_conf *wc, const char *id,
                             int64_t now_s, const struct http_request *req,
                             char sig[2 * SIGN_HEADER_LEN])
{
	if (sign_webhook(wc->key.bytes, wc->key.len, id, now_s, req->body,
	                 req->body_len, sig) < 0)
		return -1;
	if (wc->previous.bytes == NULL)
		return 0;
	sig[SIGN_HEADER_LEN - 1] = ' ';
	return sign_webhook(wc->previous.bytes, wc->previous.len, id, now_s,
	                    req->body, req->body_len, sig + SIGN_HEADER_LEN);
}

static int webhook_build(const struct channel *ch,
                         const struct delivery_view *v, struct pub_step *st,
                         int64_t now_ms, struct http_request *req, char *err,
                         size_t errlen)
{
	const struct webhook_conf *wc = ch->pub_conf;
	char ts[NUMFMT_I64_LEN], fence[NUMFMT_I64_LEN];
	char sig[2 * SIGN_HEADER_LEN];
	int64_t now_s = now_ms / 1000;

	if ((req->body = webhook_body(v)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -EAGAIN; /* only memory can fail */
	}
	req->body_len = strlen(req->body);
	numfmt_i64(ts, now_s);
	if (publisher_add_header(&req->headers, "Content-Type",
	                         "application/json") < 0 ||
	    publisher_add_header(&req->headers, "webhook-id", v->webhook_id) <
	            0 ||
	    publisher_add_header(&req->headers, "Idempotency-Key",
	                         v->webhook_id) < 0 ||
	    publisher_add_header(&req->headers, "webhook-timestamp", ts) < 0)
		goto nomem;
	numfmt_i64(fence, v->fence);
	if (v->fence > 0 &&
	    publisher_add_header(&req->headers, "smmd-fence", fence) < 0)
		goto nomem;
	if (wc->key.bytes) {
		if (webhook_signature(wc, v->webhook_id, now_s, req, sig) < 0) {
			snprintf(err, errlen, "cannot compute the signature");
			return -EAGAIN;
		}
		if (publisher_add_header(&req->headers, "webhook-signature",
		                         sig) < 0)
			goto nomem;
	}
	if ((req->url = strdup(wc->url)) == NULL)
		goto nomem;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -EAGAIN;
}

static void webhook_classify(const struct channel *ch,
                             const struct delivery_view *v, struct pub_step *st,
                             const struct http_result *res, int64_t now_ms,
                             struct verdict *out)
{
	const struct webhook_conf *wc = ch->pub_conf;

	publisher_classify_http(res, now_ms, out);
	if (wc->url_secret)
		publisher_redact_url(out->reason, wc->url);
}

const struct publisher_ops pub_webhook = {
        .name = "webhook",
        .keys = "url, url_file, secret_file, previous_secret_file, "
                "engagement",
        .configure = webhook_configure,
        .check = webhook_check,
        .free_conf = webhook_free,
        .idempotent = webhook_idempotent,
        .build_request = webhook_build,
        .classify = webhook_classify,
        .engage = &engage_get_ops,
};
