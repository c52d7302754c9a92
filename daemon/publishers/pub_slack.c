/*
 * Slack incoming webhooks (https://api.slack.com/messaging/webhooks): POST
 * {"text": ..., "blocks": [...]} to the webhook URL. Slack answers 200 with
 * the body "ok" and no message id; errors are plain-text codes
 * (invalid_payload, no_service, channel_not_found, ...) with 400/403/404/
 * 410, and 429 carries Retry-After.
 *
 * The webhook URL embeds the token, so it is a secret: it never appears in
 * a reason. Slack cannot drop a repeated request, so this endpoint is not
 * idempotent: a request without an answer leaves the delivery "unknown".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "http.h"
#include "postid.h"
#include "publisher.h"
#include "text.h"

/* Slack's documented limits on blocks. */
#define SLACK_SECTION_MAX 3000 /* characters in a section's text */
#define SLACK_BLOCKS_MAX  50   /* blocks in one message */
#define SLACK_URL_MAX     3000 /* an image block's image_url */

struct slack_conf {
	struct conf_webhook_url hook; /* secret: the token is part of it */
};

static int slack_configure(struct conf_ctx *p, struct channel *ch,
                           const char *key, struct conf_node *v)
{
	struct slack_conf *sc = ch->pub_conf;

	if (sc == NULL && (sc = ch->pub_conf = calloc(1, sizeof(*sc))) == NULL)
		return 0;
	return conf_webhook_url(p, v, key, &sc->hook);
}

static void slack_check(struct conf_ctx *p, struct channel *ch,
                        struct conf_node *node)
{
	struct slack_conf *sc = ch->pub_conf;
	struct conf_webhook_url none = {0};

	conf_webhook_url_check(p, node, ch->name, sc ? &sc->hook : &none);
}

static void slack_free(struct channel *ch)
{
	struct slack_conf *sc = ch->pub_conf;

	if (sc == NULL)
		return;
	conf_webhook_url_free(&sc->hook);
	free(sc);
	ch->pub_conf = NULL;
}

static int slack_idempotent(const struct channel *ch)
{
	(void)ch;
	return 0;
}

/* Slack's mrkdwn needs &, < and > escaped, and nothing else. */
static const char *slack_escape(char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	default:
		return NULL;
	}
}

/*
 * A section block holds SLACK_SECTION_MAX characters: cut the escaped text
 * into as many sections as needed, never inside a character or an entity.
 */
struct sections {
	json_t *blocks;
	FILE *cur;
	char *buf;
	size_t len;
	size_t chars; /* characters in the current section */
};

static int sections_flush(struct sections *s)
{
	json_t *b;

	if (s->cur == NULL)
		return 0;
	if (fclose(s->cur) != 0) {
		s->cur = NULL;
		free(s->buf);
		s->buf = NULL;
		return -1;
	}
	s->cur = NULL;
	b = json_pack("{s:s, s:{s:s, s:s%}}", "type", "section", "text", "type",
	              "mrkdwn", "text", s->buf, s->len);
	free(s->buf);
	s->buf = NULL;
	if (b == NULL || json_array_append_new(s->blocks, b) < 0)
		return -1;
	return 0;
}

/* Add a piece of chars characters, starting a new section if it is full. */
static int sections_add(struct sections *s, const char *p, size_t n,
                        size_t chars)
{
	if (s->cur != NULL && s->chars + chars > SLACK_SECTION_MAX &&
	    sections_flush(s) < 0)
		return -1;
	if (s->cur == NULL) {
		if ((s->cur = open_memstream(&s->buf, &s->len)) == NULL)
			return -1;
		s->chars = 0;
	}
	if (fwrite(p, 1, n, s->cur) != n)
		return -1;
	s->chars += chars;
	return 0;
}

/* The section blocks: the escaped text, then the link on a line of its
 * own in Slack's <URL> form so it renders as a link. */
static int slack_sections(const struct delivery_view *v, json_t *blocks,
                          char *err, size_t errlen)
{
	struct sections s = {.blocks = blocks};
	const char *p = v->text, *end = p + strlen(p);
	char *link = NULL;
	size_t linklen = 0;
	FILE *f;

	while (p < end) {
		const char *e = slack_escape(*p);
		size_t n;
		int r;

		/* One character (the text is valid UTF-8: JSON and YAML
		 * both insist on it). */
		utf8_next(p, (size_t)(end - p), &n);
		if (e != NULL)
			r = sections_add(&s, e, strlen(e), strlen(e));
		else
			r = sections_add(&s, p, n, 1);
		if (r < 0)
			goto nomem;
		p += n;
	}
	if (v->link != NULL) {
		/* Inside <...>, '|' and '>' would end the URL: encode them. */
		if ((f = open_memstream(&link, &linklen)) == NULL)
			goto nomem;
		fputs(v->text[0] != '\0' ? "\n<" : "<", f);
		for (p = v->link; *p != '\0'; p++) {
			if (*p == '|')
				fputs("%7C", f);
			else if (*p == '>')
				fputs("%3E", f);
			else if (*p == '<')
				fputs("%3C", f);
			else if (*p == '&')
				fputs("&amp;", f);
			else
				fputc(*p, f);
		}
		fputc('>', f);
		if (fclose(f) != 0)
			goto nomem;
		if (linklen > SLACK_SECTION_MAX) {
			free(link);
			snprintf(
			        err, errlen,
			        "the link is longer than Slack's %d characters "
			        "for a section",
			        SLACK_SECTION_MAX);
			if (s.cur != NULL)
				fclose(s.cur);
			free(s.buf);
			return -1;
		}
		if (sections_add(&s, link, linklen, linklen) < 0)
			goto nomem;
		free(link);
		link = NULL;
	}
	if (sections_flush(&s) < 0)
		goto nomem;
	return 0;
nomem:
	free(link);
	if (s.cur != NULL)
		fclose(s.cur);
	free(s.buf);
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* The top-level "text": Slack's notification and fallback text. */
static char *slack_text(const struct delivery_view *v)
{
	char *out = NULL;
	size_t len = 0;
	const char *p;
	FILE *f;

	if ((f = open_memstream(&out, &len)) == NULL)
		return NULL;
	for (p = v->text; *p != '\0'; p++) {
		const char *e = slack_escape(*p);

		if (e != NULL)
			fputs(e, f);
		else
			fputc(*p, f);
	}
	if (v->link != NULL) {
		if (v->text[0] != '\0')
			fputc('\n', f);
		for (p = v->link; *p != '\0'; p++) {
			const char *e = slack_escape(*p);

			if (e != NULL)
				fputs(e, f);
			else
				fputc(*p, f);
		}
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

static char *slack_body(const struct delivery_view *v, char *err, size_t errlen)
{
	json_t *blocks, *o, *m;
	size_t i, nmedia = json_array_size(v->media);
	char *text, *body;

	if ((blocks = json_array()) == NULL)
		goto nomem;
	if (slack_sections(v, blocks, err, errlen) < 0) {
		json_decref(blocks);
		return NULL;
	}
	if (json_array_size(blocks) + nmedia > SLACK_BLOCKS_MAX) {
		snprintf(
		        err, errlen,
		        "the post needs %zu blocks (text and %zu media); Slack "
		        "takes at most %d",
		        json_array_size(blocks) + nmedia, nmedia,
		        SLACK_BLOCKS_MAX);
		json_decref(blocks);
		return NULL;
	}
	json_array_foreach (v->media, i, m) {
		const char *url = json_string_value(m);
		char alt[64];
		json_t *b;

		if (url == NULL || !url_is_http(url)) {
			snprintf(err, errlen,
			         "media %zu is not an http(s) URL; Slack "
			         "fetches images itself",
			         i + 1);
			json_decref(blocks);
			return NULL;
		}
		if (strlen(url) > SLACK_URL_MAX) {
			snprintf(err, errlen,
			         "media %zu: URL longer than Slack's %d "
			         "characters",
			         i + 1, SLACK_URL_MAX);
			json_decref(blocks);
			return NULL;
		}
		snprintf(alt, sizeof(alt), "image %zu of %zu", i + 1, nmedia);
		b = json_pack("{s:s, s:s, s:s}", "type", "image", "image_url",
		              url, "alt_text", alt);
		if (b == NULL || json_array_append_new(blocks, b) < 0) {
			json_decref(blocks);
			goto nomem;
		}
	}
	if ((text = slack_text(v)) == NULL) {
		json_decref(blocks);
		goto nomem;
	}
	o = json_pack("{s:s, s:o}", "text", text, "blocks", blocks);
	free(text);
	if (o == NULL)
		goto nomem;
	body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (body == NULL)
		goto nomem;
	return body;
nomem:
	snprintf(err, errlen, "cannot encode the post as JSON");
	return NULL;
}

/* The start of the response body, with the webhook URL scrubbed. */
static void slack_excerpt(const struct http_result *res, const char *url,
                          char *out, size_t cap)
{
	char *body = strndup(res->body ? res->body : "", res->body_len);

	if (body == NULL) {
		snprintf(out, cap, "(out of memory)");
		return;
	}
	publisher_redact_url(body, url);
	publisher_body_excerpt(body, strlen(body), out, cap);
	free(body);
}

static int slack_build(const struct channel *ch, const struct delivery_view *v,
                       struct pub_step *st, int64_t now_ms,
                       struct http_request *req, char *err, size_t errlen)
{
	const struct slack_conf *sc = ch->pub_conf;

	(void)st;
	(void)now_ms;
	if ((req->body = slack_body(v, err, errlen)) == NULL)
		return -1;
	req->body_len = strlen(req->body);
	if (publisher_add_header(&req->headers, "Content-Type",
	                         "application/json") < 0 ||
	    (req->url = strdup(sc->hook.url)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static void slack_classify(const struct channel *ch,
                           const struct delivery_view *v, struct pub_step *st,
                           const struct http_result *res, int64_t now_ms,
                           struct verdict *out)
{
	const struct slack_conf *sc = ch->pub_conf;
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
	if (out->kind == PUBLISH_FAILED) {
		/* Slack's error is a short code in a plain-text body. */
		slack_excerpt(res, sc->hook.url, excerpt, sizeof(excerpt));
		snprintf(out->reason, sizeof(out->reason),
		         "slack: %s (HTTP %ld)",
		         excerpt[0] ? excerpt : "no error text", res->status);
		/* The webhook was revoked: a new url_file, then smmctl auth. */
		if (strcmp(excerpt, "invalid_token") == 0 ||
		    strcmp(excerpt, "token_revoked") == 0 ||
		    strcmp(excerpt, "no_active_hooks") == 0)
			out->kind = PUBLISH_NEEDS_AUTH;
	}
	publisher_redact_url(out->reason, sc->hook.url);
}

const struct publisher_ops pub_slack = {
        .name = "slack",
        .keys = "url_file, url",
        .configure = slack_configure,
        .check = slack_check,
        .free_conf = slack_free,
        .idempotent = slack_idempotent,
        .build_request = slack_build,
        .classify = slack_classify,
};
