/*
 * Telegram bots (https://core.telegram.org/bots/api): POST JSON to
 * {api_url}/bot{token}/sendMessage, or /sendPhoto with the post's first
 * media URL (Telegram fetches it). Every reply is JSON: {"ok":true,
 * "result":{"message_id":N,"chat":{...}}} or {"ok":false,"error_code":N,
 * "description":"...","parameters":{"retry_after":S}}.
 *
 * The bot token is part of the URL path, so the URL is a secret: reasons
 * never quote it (curl's error strings may), only describe the error. The
 * Bot API takes no idempotency key: a request without an answer leaves the
 * delivery "unknown" rather than risking a second message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "http.h"
#include "publisher.h"
#include "text.h"

#define TELEGRAM_API_URL     "https://api.telegram.org"
#define TELEGRAM_TEXT_MAX    4096 /* sendMessage text */
#define TELEGRAM_CAPTION_MAX 1024 /* sendPhoto caption */

struct telegram_conf {
	unsigned char *token; /* secret */
	size_t token_len;
	char *chat_id; /* "-100123" or "@channelname" */
	char *api_url; /* without a trailing '/' */
	int token_given;
};

static int telegram_configure(struct conf_ctx *p, struct channel *ch,
                              const char *key, struct conf_node *v)
{
	struct telegram_conf *tc = ch->pub_conf;
	const char *c;
	size_t n;

	if (tc == NULL && (tc = ch->pub_conf = calloc(1, sizeof(*tc))) == NULL)
		return 0;
	if (strcmp(key, "token_file") == 0) {
		tc->token_given = 1;
		if (conf_secret(p, v, key, 1, &tc->token, &tc->token_len) < 0)
			return 1;
		/*
		 * The token goes into the URL path: anything but a bot
		 * token's characters could change the request. Say so
		 * without echoing it.
		 */
		n = strspn((char *)tc->token,
		           "0123456789abcdefghijklmnopqrstuvwxyz"
		           "ABCDEFGHIJKLMNOPQRSTUVWXYZ:_-");
		if (n != tc->token_len ||
		    strchr((char *)tc->token, ':') == NULL) {
			conf_error(p, v,
			           "'%s': the file does not hold a bot token "
			           "(digits, ':', then letters, digits, '_' "
			           "and '-')",
			           key);
			conf_secret_free(tc->token, tc->token_len);
			tc->token = NULL;
			tc->token_len = 0;
		}
	} else if (strcmp(key, "chat_id") == 0) {
		if (conf_string(p, v, key, &tc->chat_id) < 0)
			return 1;
		c = tc->chat_id;
		if (*c == '-')
			c++;
		if (!((*c >= '0' && *c <= '9' &&
		       strspn(c, "0123456789") == strlen(c) &&
		       strlen(c) < 19) ||
		      (tc->chat_id[0] == '@' && tc->chat_id[1] != '\0' &&
		       strspn(tc->chat_id + 1,
		              "0123456789abcdefghijklmnopqrstuvwxyz"
		              "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") ==
		               strlen(tc->chat_id + 1))))
			conf_error(p, v,
			           "'%s' must be a chat's number or "
			           "@channelusername, not '%s'",
			           key, tc->chat_id);
	} else if (strcmp(key, "api_url") == 0) {
		if (conf_url(p, v, key, &tc->api_url) < 0)
			return 1;
		n = strlen(tc->api_url);
		while (n > 0 && tc->api_url[n - 1] == '/')
			tc->api_url[--n] = '\0';
	} else {
		return 0;
	}
	return 1;
}

static void telegram_check(struct conf_ctx *p, struct channel *ch,
                           struct conf_node *node)
{
	struct telegram_conf *tc = ch->pub_conf;

	if (tc == NULL || !tc->token_given)
		conf_error(p, node,
		           "channel '%s' has no 'token_file' (the bot token)",
		           ch->name);
	if (tc == NULL || tc->chat_id == NULL)
		conf_error(p, node, "channel '%s' has no 'chat_id'", ch->name);
	if (tc != NULL && tc->api_url == NULL &&
	    (tc->api_url = strdup(TELEGRAM_API_URL)) == NULL)
		conf_error(p, node, "out of memory");
}

static void telegram_free(struct channel *ch)
{
	struct telegram_conf *tc = ch->pub_conf;

	if (tc == NULL)
		return;
	conf_secret_free(tc->token, tc->token_len);
	free(tc->chat_id);
	free(tc->api_url);
	free(tc);
	ch->pub_conf = NULL;
}

static int telegram_idempotent(const struct channel *ch)
{
	(void)ch;
	return 0;
}

/*
 * Telegram's limits count UTF-16 code units: a character outside the
 * Basic Multilingual Plane (a 4-byte UTF-8 sequence) counts twice.
 */
static size_t utf16_units(const char *s)
{
	size_t units = 0, i = 0, n = strlen(s), len;

	while (i < n) {
		uint32_t cp = utf8_next(s + i, n - i, &len);

		units += cp != UTF8_INVALID && cp > 0xffff ? 2 : 1;
		i += len;
	}
	return units;
}

/* chat_id as Telegram takes it: a number, or "@channelusername". */
static json_t *telegram_chat(const struct telegram_conf *tc)
{
	if (tc->chat_id[0] == '@')
		return json_string(tc->chat_id);
	return json_integer((json_int_t)strtoll(tc->chat_id, NULL, 10));
}

static char *telegram_body(const struct telegram_conf *tc,
                           const struct delivery_view *v, const char **method,
                           char *err, size_t errlen)
{
	const char *photo = json_string_value(json_array_get(v->media, 0));
	size_t max = photo ? TELEGRAM_CAPTION_MAX : TELEGRAM_TEXT_MAX, units;
	char *text = NULL, *body = NULL;
	json_t *o = NULL;

	if (v->link != NULL) {
		if (asprintf(&text, "%s%s%s", v->text,
		             v->text[0] != '\0' ? "\n" : "", v->link) < 0)
			text = NULL;
	} else {
		text = strdup(v->text);
	}
	if (text == NULL)
		goto nomem;
	if ((units = utf16_units(text)) > max) {
		snprintf(err, errlen,
		         "the %s is %zu characters; Telegram takes at most %zu",
		         photo ? "caption (text and link)" : "text and link",
		         units, max);
		goto out;
	}
	if (photo != NULL) {
		if (strncmp(photo, "https://", 8) != 0 &&
		    strncmp(photo, "http://", 7) != 0) {
			snprintf(err, errlen,
			         "media 1 is not an http(s) URL; Telegram "
			         "fetches the photo itself");
			goto out;
		}
		*method = "sendPhoto";
		o = json_pack("{s:o, s:s}", "chat_id", telegram_chat(tc),
		              "photo", photo);
		if (o != NULL && text[0] != '\0' &&
		    json_object_set_new(o, "caption", json_string(text)) < 0)
			goto nomem;
	} else {
		if (text[0] == '\0') {
			snprintf(err, errlen,
			         "the post has no text, link or media; "
			         "Telegram refuses an empty message");
			goto out;
		}
		*method = "sendMessage";
		o = json_pack("{s:o, s:s, s:b}", "chat_id", telegram_chat(tc),
		              "text", text, "disable_web_page_preview", 0);
	}
	if (o == NULL || (body = json_dumps(o, JSON_COMPACT)) == NULL)
		goto nomem;
	goto out;
nomem:
	snprintf(err, errlen, "cannot encode the post as JSON");
out:
	json_decref(o);
	free(text);
	return body;
}

/* Scrub the token, and its secret half after the ':', from s. */
static void telegram_redact(char *s, const struct telegram_conf *tc)
{
	const char *half;

	if (tc->token == NULL)
		return;
	publisher_redact(s, (const char *)tc->token);
	half = strchr((const char *)tc->token, ':');
	if (half != NULL && strlen(half + 1) >= 8)
		publisher_redact(s, half + 1);
}

static int telegram_build(const struct channel *ch,
                          const struct delivery_view *v, struct pub_step *st,
                          int64_t now_ms, struct http_request *req, char *err,
                          size_t errlen)
{
	const struct telegram_conf *tc = ch->pub_conf;
	const char *method = NULL;

	(void)st;
	(void)now_ms;
	if ((req->body = telegram_body(tc, v, &method, err, errlen)) == NULL)
		return -1;
	req->body_len = strlen(req->body);
	if (publisher_add_header(&req->headers, "Content-Type",
	                         "application/json") < 0 ||
	    asprintf(&req->url, "%s/bot%s/%s", tc->api_url,
	             (const char *)tc->token, method) < 0) {
		req->url = NULL;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* ok:true: the message id, and a t.me link when the chat is public. */
static void telegram_published(json_t *reply, struct verdict *out)
{
	json_t *result = json_object_get(reply, "result");
	json_t *id = json_object_get(result, "message_id");
	const char *user = json_string_value(
	        json_object_get(json_object_get(result, "chat"), "username"));

	if (!json_is_integer(id))
		return;
	snprintf(out->remote_id, sizeof(out->remote_id),
	         "%" JSON_INTEGER_FORMAT, json_integer_value(id));
	if (user != NULL && user[0] != '\0' &&
	    strspn(user, "0123456789abcdefghijklmnopqrstuvwxyz"
	                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == strlen(user))
		snprintf(out->remote_url, sizeof(out->remote_url),
		         "https://t.me/%s/%s", user, out->remote_id);
}

/*
 * Not the Bot API talking (a proxy?): judge by the status, and quote the
 * body only once the token is scrubbed from it (an error page may echo
 * the request path).
 */
static void telegram_not_api(const struct telegram_conf *tc,
                             const struct http_result *res, struct verdict *out)
{
	char excerpt[160], *body;

	if (out->kind != PUBLISH_FAILED)
		return;
	if ((body = strndup(res->body ? res->body : "", res->body_len)) ==
	    NULL) {
		snprintf(out->reason, sizeof(out->reason), "telegram: HTTP %ld",
		         res->status);
		return;
	}
	telegram_redact(body, tc);
	publisher_body_excerpt(body, strlen(body), excerpt, sizeof(excerpt));
	free(body);
	snprintf(out->reason, sizeof(out->reason), "telegram: HTTP %ld%s%s",
	         res->status, excerpt[0] ? ": " : "", excerpt);
}

static void telegram_classify(const struct channel *ch,
                              const struct delivery_view *v,
                              struct pub_step *st,
                              const struct http_result *res, int64_t now_ms,
                              struct verdict *out)
{
	const struct telegram_conf *tc = ch->pub_conf;
	json_t *reply = NULL, *ra, *params, *migrate;
	const char *desc;
	char excerpt[160];
	long code;

	(void)v;
	(void)st;
	if (res->status == 0) {
		/* curl's message may quote the URL, which holds the token. */
		out->kind = PUBLISH_RETRY;
		out->retry_after_ms = -1;
		snprintf(out->reason, sizeof(out->reason), "%s",
		         curl_easy_strerror(res->code));
		return;
	}
	publisher_classify_http(res, now_ms, out);
	if (res->body_len > 0)
		reply = json_loadb(res->body, res->body_len, 0, NULL);
	if (!json_is_object(reply)) {
		telegram_not_api(tc, res, out);
		goto out;
	}
	if (json_is_true(json_object_get(reply, "ok"))) {
		if (out->kind == PUBLISH_OK)
			telegram_published(reply, out);
		goto out;
	}
	code = json_is_integer(json_object_get(reply, "error_code"))
	               ? (long)json_integer_value(
	                         json_object_get(reply, "error_code"))
	               : res->status;
	desc = json_string_value(json_object_get(reply, "description"));
	publisher_body_excerpt(desc ? desc : "", desc ? strlen(desc) : 0,
	                       excerpt, sizeof(excerpt));
	params = json_object_get(reply, "parameters");
	ra = json_object_get(params, "retry_after");
	migrate = json_object_get(params, "migrate_to_chat_id");
	if (code == 429 || res->status == 429) {
		out->kind = PUBLISH_RETRY;
		if (json_is_integer(ra) && json_integer_value(ra) >= 0 &&
		    json_integer_value(ra) < 7 * 24 * 3600)
			out->retry_after_ms = json_integer_value(ra) * 1000;
	} else if (json_is_integer(migrate)) {
		/* The group became a supergroup: only the admin can fix it. */
		out->kind = PUBLISH_FAILED;
		snprintf(
		        out->reason, sizeof(out->reason),
		        "telegram: the group moved to supergroup %" JSON_INTEGER_FORMAT
		        "; set chat_id to it (HTTP %ld)",
		        json_integer_value(migrate), res->status);
		goto out;
	} else if (code == 401 || res->status == 401) {
		/* The bot's token was revoked (@BotFather): a person acts. */
		out->kind = PUBLISH_NEEDS_AUTH;
	} else if (res->status >= 200 && res->status <= 299) {
		/* ok:false with a 2xx: the message was not sent. */
		out->kind = PUBLISH_FAILED;
	}
	snprintf(out->reason, sizeof(out->reason), "telegram: %s (HTTP %ld)",
	         excerpt[0] ? excerpt : "no description", res->status);
out:
	json_decref(reply);
	telegram_redact(out->reason, tc);
}

/*
 * Audience: getChatMemberCount, the chat's subscribers. The Bot API gives
 * bots no way to pull a message's views or reactions (reactions are only
 * pushed, as updates), so Telegram posts get no engagement samples.
 */
static int telegram_readable(const struct channel *ch)
{
	return ch->pub_conf != NULL;
}

static int telegram_audience_request(const struct channel *ch,
                                     struct http_request *req, char *err,
                                     size_t errlen)
{
	const struct telegram_conf *tc = ch->pub_conf;
	json_t *o = json_pack("{s:o}", "chat_id", telegram_chat(tc));

	if (o == NULL || (req->body = json_dumps(o, JSON_COMPACT)) == NULL ||
	    publisher_add_header(&req->headers, "Content-Type",
	                         "application/json") < 0 ||
	    asprintf(&req->url, "%s/bot%s/getChatMemberCount", tc->api_url,
	             (const char *)tc->token) < 0) {
		req->url = NULL;
		json_decref(o);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	json_decref(o);
	req->body_len = strlen(req->body);
	return 0;
}

static int telegram_audience_parse(const struct channel *ch,
                                   const struct http_result *res,
                                   int64_t *followers, char *err, size_t errlen)
{
	json_t *reply =
	        json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
	json_t *n = json_object_get(reply, "result");

	(void)ch;
	*followers = json_is_true(json_object_get(reply, "ok")) &&
	                             json_is_integer(n) &&
	                             json_integer_value(n) >= 0
	                     ? json_integer_value(n)
	                     : -1;
	json_decref(reply);
	if (*followers < 0) {
		snprintf(err, errlen, "getChatMemberCount gave no count");
		return -1;
	}
	return 0;
}

static const struct engage_ops telegram_engage = {
        .enabled = telegram_readable,
        .audience_request = telegram_audience_request,
        .audience_parse = telegram_audience_parse,
};

const struct publisher_ops pub_telegram = {
        .name = "telegram",
        .keys = "token_file, chat_id, api_url",
        .configure = telegram_configure,
        .check = telegram_check,
        .free_conf = telegram_free,
        .idempotent = telegram_idempotent,
        .build_request = telegram_build,
        .classify = telegram_classify,
        .engage = &telegram_engage,
};
