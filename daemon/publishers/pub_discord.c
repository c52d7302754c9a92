/*
 * Discord webhooks (https://discord.com/developers/docs/resources/webhook
 * #execute-webhook): POST {"content": ..., "embeds": [...]} to the webhook
 * URL with ?wait=true, so Discord answers 200 with the message object and
 * its id instead of a bare 204. Rate limits are 429 with a JSON body
 * {"retry_after": seconds, "global": bool}; other errors are JSON
 * {"code": N, "message": "..."}.
 *
 * The webhook URL embeds the token, so it is a secret: it never appears in
 * a reason. Discord cannot drop a repeated request (no idempotency key), so
 * a request without an answer leaves the delivery "unknown".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "http.h"
#include "postid.h"
#include "publisher.h"
#include "text.h"

/* Discord's documented limits on one message. */
#define DISCORD_CONTENT_MAX 2000 /* characters of content */
#define DISCORD_EMBEDS_MAX  10

struct discord_conf {
	struct conf_webhook_url hook; /* secret: the token is part of it */
	char *url;                    /* hook's, with wait=true */
};

/*
 * The URL with wait=true in its query, whether or not it already has a
 * query (a thread_id, say); an existing wait= is replaced. malloc'd.
 */
static char *discord_wait_url(const char *url)
{
	const char *q = strchr(url, '?'), *hash = strchr(url, '#'), *p;
	size_t base = q ? (size_t)(q - url) : strlen(url);
	size_t end = hash ? (size_t)(hash - url) : strlen(url);
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	if (hash != NULL && (q == NULL || hash < q)) {
		/* A fragment is never sent: drop it, and no query before. */
		base = (size_t)(hash - url);
		q = NULL;
	}
	if ((f = open_memstream(&out, &len)) == NULL)
		return NULL;
	fwrite(url, 1, base, f);
	fputc('?', f);
	if (q != NULL) {
		/* Keep every parameter but wait=. */
		for (p = q + 1; p < url + end;) {
			const char *amp =
			        memchr(p, '&', (size_t)(url + end - p));
			size_t n = amp ? (size_t)(amp - p)
			               : (size_t)(url + end - p);

			if (n > 0 && !(n >= 5 && strncmp(p, "wait=", 5) == 0) &&
			    !(n == 4 && strncmp(p, "wait", 4) == 0)) {
				fwrite(p, 1, n, f);
				fputc('&', f);
			}
			p += n + (amp != NULL);
		}
	}
	fputs("wait=true", f);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

static int discord_configure(struct conf_ctx *p, struct channel *ch,
                             const char *key, struct conf_node *v)
{
	struct discord_conf *dc = ch->pub_conf;

	if (dc == NULL && (dc = ch->pub_conf = calloc(1, sizeof(*dc))) == NULL)
		return 0;
	return conf_webhook_url(p, v, key, &dc->hook);
}

static void discord_check(struct conf_ctx *p, struct channel *ch,
                          struct conf_node *node)
{
	struct discord_conf *dc = ch->pub_conf;
	struct conf_webhook_url none = {0};

	conf_webhook_url_check(p, node, ch->name, dc ? &dc->hook : &none);
	/* Once, here: every request goes to the same URL. */
	if (dc != NULL && dc->hook.url != NULL &&
	    (dc->url = discord_wait_url(dc->hook.url)) == NULL)
		conf_error(p, node, "out of memory");
}

static void discord_free(struct channel *ch)
{
	struct discord_conf *dc = ch->pub_conf;

	if (dc == NULL)
		return;
	conf_webhook_url_free(&dc->hook);
	if (dc->url != NULL)
		conf_secret_free((unsigned char *)dc->url, strlen(dc->url));
	free(dc);
	ch->pub_conf = NULL;
}

static int discord_idempotent(const struct channel *ch)
{
	(void)ch;
	return 0;
}

static char *discord_body(const struct delivery_view *v, char *err,
                          size_t errlen)
{
	size_t i, nmedia = json_array_size(v->media), chars;
	json_t *o = NULL, *embeds = NULL, *m;
	char *content = NULL, *body = NULL;

	if (nmedia > DISCORD_EMBEDS_MAX) {
		snprintf(err, errlen,
		         "the post has %zu media; a Discord message takes at "
		         "most %d embeds",
		         nmedia, DISCORD_EMBEDS_MAX);
		return NULL;
	}
	if (v->link != NULL) {
		if (asprintf(&content, "%s%s%s", v->text,
		             v->text[0] != '\0' ? "\n" : "", v->link) < 0)
			content = NULL;
	} else {
		content = strdup(v->text);
	}
	if (content == NULL)
		goto nomem;
	if ((chars = text_chars(content, strlen(content))) >
	    DISCORD_CONTENT_MAX) {
		snprintf(err, errlen,
		         "the text and link are %zu characters; Discord takes "
		         "at most %d",
		         chars, DISCORD_CONTENT_MAX);
		free(content);
		return NULL;
	}
	if ((embeds = json_array()) == NULL)
		goto nomem;
	json_array_foreach (v->media, i, m) {
		const char *url = json_string_value(m);

		if (url == NULL || !url_is_http(url)) {
			snprintf(err, errlen,
			         "media %zu is not an http(s) URL; Discord "
			         "fetches embedded images itself",
			         i + 1);
			goto out;
		}
		if (json_array_append_new(
		            embeds,
		            json_pack("{s:{s:s}}", "image", "url", url)) < 0)
			goto nomem;
	}
	o = json_pack("{s:s}", "content", content);
	if (o == NULL)
		goto nomem;
	if (nmedia > 0 && json_object_set(o, "embeds", embeds) < 0)
		goto nomem;
	if ((body = json_dumps(o, JSON_COMPACT)) == NULL)
		goto nomem;
	goto out;
nomem:
	snprintf(err, errlen, "cannot encode the post as JSON");
out:
	json_decref(o);
	json_decref(embeds);
	free(content);
	return body;
}

/* The start of the response body, with the webhook URL scrubbed. */
static void discord_excerpt(const char *text, size_t len, const char *url,
                            char *out, size_t cap)
{
	char *copy = strndup(text ? text : "", len);

	if (copy == NULL) {
		snprintf(out, cap, "(out of memory)");
		return;
	}
	publisher_redact_url(copy, url);
	publisher_body_excerpt(copy, strlen(copy), out, cap);
	free(copy);
}

static int discord_build(const struct channel *ch,
                         const struct delivery_view *v, struct pub_step *st,
                         int64_t now_ms, struct http_request *req, char *err,
                         size_t errlen)
{
	const struct discord_conf *dc = ch->pub_conf;

	(void)st;
	(void)now_ms;
	if ((req->body = discord_body(v, err, errlen)) == NULL)
		return -1;
	req->body_len = strlen(req->body);
	if (publisher_add_header(&req->headers, "Content-Type",
	                         "application/json") < 0 ||
	    (req->url = strdup(dc->url)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* A JSON value that may be a string or a number (Discord's snowflakes are
 * strings, but be lenient), as text. Returns 0 or -1. */
static int snowflake(json_t *j, char *out, size_t cap)
{
	int n;

	if (json_is_string(j))
		n = snprintf(out, cap, "%s", json_string_value(j));
	else if (json_is_integer(j))
		n = snprintf(out, cap, "%" JSON_INTEGER_FORMAT,
		             json_integer_value(j));
	else
		return -1;
	if (n <= 0 || (size_t)n >= cap || strpbrk(out, "/?# \t\r\n") != NULL)
		return -1;
	return 0;
}

/* 200 with the message object: its id, and a link when in a guild. */
static void discord_published(const struct http_result *res,
                              struct verdict *out)
{
	char id[64], guild[64], chan[64];
	json_t *msg;

	msg = json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
	if (json_is_object(msg) &&
	    snowflake(json_object_get(msg, "id"), id, sizeof(id)) == 0) {
		snprintf(out->remote_id, sizeof(out->remote_id), "%s", id);
		if (snowflake(json_object_get(msg, "guild_id"), guild,
		              sizeof(guild)) == 0 &&
		    snowflake(json_object_get(msg, "channel_id"), chan,
		              sizeof(chan)) == 0)
			snprintf(out->remote_url, sizeof(out->remote_url),
			         "https://discord.com/channels/%s/%s/%s", guild,
			         chan, id);
	}
	json_decref(msg);
}

static void discord_classify(const struct channel *ch,
                             const struct delivery_view *v, struct pub_step *st,
                             const struct http_result *res, int64_t now_ms,
                             struct verdict *out)
{
	json_t *j = NULL, *ra, *code;
	const char *msg;
	const struct discord_conf *dc = ch->pub_conf;
	char excerpt[160];

	(void)v;
	(void)st;
	if (res->status == 0) {
		/* curl's own message may name the URL, and the URL is the
		 * secret: describe the error by its code only. */
		out->kind = PUBLISH_RETRY;
		out->retry_after_ms = -1;
		snprintf(out->reason, sizeof(out->reason), "%s",
		         curl_easy_strerror(res->code));
		return;
	}
	publisher_classify_http(res, now_ms, out);
	if (out->kind == PUBLISH_OK) {
		discord_published(res, out);
		return;
	}
	if (res->body_len > 0)
		j = json_loadb(res->body, res->body_len, 0, NULL);
	if (res->status == 429) {
		/* The body's retry_after (seconds, fractional) is exact; the
		 * header is rounded up to whole seconds. */
		ra = json_object_get(j, "retry_after");
		if (json_is_number(ra) && json_number_value(ra) >= 0 &&
		    json_number_value(ra) < 7 * 24 * 3600)
			out->retry_after_ms =
			        (int64_t)ceil(json_number_value(ra) * 1000);
		snprintf(out->reason, sizeof(out->reason),
		         "discord: rate limited%s (HTTP 429)",
		         json_is_true(json_object_get(j, "global"))
		                 ? " (global)"
		                 : "");
	} else if (out->kind == PUBLISH_FAILED) {
		if (res->status == 401)
			out->kind = PUBLISH_NEEDS_AUTH;
		msg = json_string_value(json_object_get(j, "message"));
		code = json_object_get(j, "code");
		if (msg != NULL && json_is_integer(code)) {
			discord_excerpt(msg, strlen(msg), dc->url, excerpt,
			                sizeof(excerpt));
			snprintf(out->reason, sizeof(out->reason),
			         "discord: %s (code %" JSON_INTEGER_FORMAT
			         ", HTTP %ld)",
			         excerpt, json_integer_value(code),
			         res->status);
			/* Invalid Webhook Token: the webhook was reset. */
			if (json_integer_value(code) == 50027)
				out->kind = PUBLISH_NEEDS_AUTH;
		} else if (msg != NULL) {
			discord_excerpt(msg, strlen(msg), dc->url, excerpt,
			                sizeof(excerpt));
			snprintf(out->reason, sizeof(out->reason),
			         "discord: %s (HTTP %ld)", excerpt,
			         res->status);
		} else {
			discord_excerpt(res->body, res->body_len, dc->url,
			                excerpt, sizeof(excerpt));
			snprintf(out->reason, sizeof(out->reason),
			         "discord: HTTP %ld%s%s", res->status,
			         excerpt[0] ? ": " : "", excerpt);
		}
	}
	json_decref(j);
	publisher_redact_url(out->reason, dc->url);
}

/*
 * Engagement: the webhook's own message, GET {hook}/messages/{id} (with
 * the hook's thread_id, if any), whose reactions[] counts are its likes.
 * Discord has no shares, views or reply counts for a webhook message.
 */
static int discord_readable(const struct channel *ch)
{
	const struct discord_conf *dc = ch->pub_conf;

	return dc != NULL && dc->hook.url != NULL;
}

static int discord_read_request(const struct channel *ch,
                                const struct engage_item *it, size_t n,
                                struct http_request *req, char *err,
                                size_t errlen)
{
	const struct discord_conf *dc = ch->pub_conf;
	const char *hook = dc->hook.url, *q = strchr(hook, '?');
	const char *thread = q ? strstr(q, "thread_id=") : NULL;
	int base = q ? (int)(q - hook) : (int)strlen(hook);
	int tlen = thread ? (int)strcspn(thread, "&#") : 0;

	(void)n;
	if (it[0].remote_id == NULL ||
	    strspn(it[0].remote_id, "0123456789") != strlen(it[0].remote_id)) {
		snprintf(err, errlen, "the message id is not a snowflake");
		return -1;
	}
	snprintf(req->method, sizeof(req->method), "GET");
	if (asprintf(&req->url, "%.*s/messages/%s%s%.*s", base, hook,
	             it[0].remote_id, thread ? "?" : "", tlen,
	             thread ? thread : "") < 0) {
		req->url = NULL;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static int discord_read_parse(const struct channel *ch,
                              const struct http_result *res,
                              struct engage_item *it, size_t n, char *err,
                              size_t errlen)
{
	json_t *msg =
	        json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
	json_t *r;
	int64_t likes = 0;
	size_t i;

	(void)ch;
	(void)n;
	if (!json_is_object(msg)) {
		json_decref(msg);
		snprintf(err, errlen, "the answer is not a message");
		return -1;
	}
	/* No "reactions" at all: nobody reacted. */
	json_array_foreach (json_object_get(msg, "reactions"), i, r) {
		json_t *c = json_object_get(r, "count");

		if (json_is_integer(c) && json_integer_value(c) > 0)
			likes += json_integer_value(c);
	}
	json_decref(msg);
	it[0].got = (struct engagement){likes, -1, -1, -1, -1};
	it[0].found = 1;
	return 0;
}

static const struct engage_ops discord_engage = {
        .batch = 1,
        .needs_remote_id = publisher_always,
        .enabled = discord_readable,
        .request = discord_read_request,
        .parse = discord_read_parse,
};

const struct publisher_ops pub_discord = {
        .name = "discord",
        .keys = "url_file, url",
        .configure = discord_configure,
        .check = discord_check,
        .free_conf = discord_free,
        .idempotent = discord_idempotent,
        .build_request = discord_build,
        .classify = discord_classify,
        .engage = &discord_engage,
};
