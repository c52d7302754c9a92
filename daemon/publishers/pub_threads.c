/*
 * Threads, Threads API v1.0 (https://developers.facebook.com/docs/threads/posts
 * and .../reference/publishing), on graph.threads.net. A post is made in
 * two steps, with a container in between:
 *   1. POST /{threads-user-id}/threads (media_type TEXT, IMAGE, VIDEO or
 *      CAROUSEL; text; image_url or video_url; children) answers
 *      {"id": container}. A carousel's 2 to 20 items are containers of
 *      their own first (is_carousel_item=true).
 *   2. GET /{container}?fields=status,error_message until FINISHED (or
 *      ERROR with its error_message, EXPIRED after 24 hours; the docs
 *      recommend waiting about 30 s and checking once a minute for at
 *      most 5 minutes), then POST /{threads-user-id}/threads_publish
 *      ?creation_id={container} answers {"id": media}.
 * Then GET /{media}?fields=permalink gives the post's URL.
 *
 * Threads fetches media itself from public URLs, so media must be http(s)
 * URLs; a file from media_dir cannot be posted. Errors are the Graph API's
 * {"error": {"message", "type", "code", "error_subcode", "is_transient"}}:
 * code 190 is a refused token (the channel needs auth), 4, 17, 32 and 613
 * rate limits, retried like transient ones.
 *
 * The token goes in an Authorization: Bearer header, never in a URL that a
 * log might quote. threads_publish keeps no idempotency key: the endpoint
 * is not idempotent, and a request whose fate is unknown is never re-sent
 * blindly.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <utf8proc.h>

#include "config.h"
#include "http.h"
#include "postid.h"
#include "pub_graph.h"
#include "pub_threads.h"
#include "pub_token.h"
#include "publisher.h"

#define THREADS_CAROUSEL_MAX 20
/* The docs: wait about 30 s, check at most 5 minutes. */
#define THREADS_POLL_MS    30000
#define THREADS_POLL_TIMES 10

int threads_form_add(char **body, const char *key, const char *value)
{
	size_t len = *body ? strlen(*body) : 0;

	return graph_form_add(body, &len, key, value);
}

int threads_query_add(char **url, const char *key, const char *value)
{
	char *q = NULL, *grown;
	size_t qlen = 0, n = strlen(*url);
	char sep = strchr(*url, '?') ? '&' : '?';

	if (graph_form_add(&q, &qlen, key, value) < 0)
		return -1;
	if ((grown = realloc(*url, n + 1 + qlen + 1)) == NULL) {
		free(q);
		return -1;
	}
	grown[n] = sep;
	memcpy(grown + n + 1, q, qlen + 1);
	*url = grown;
	free(q);
	return 0;
}

static int threads_configure(struct conf_ctx *p, struct channel *ch,
                             const char *key, struct conf_node *v)
{
	struct threads_conf *tc = ch->pub_conf;
	const char *s;

	if (tc == NULL && (tc = ch->pub_conf = calloc(1, sizeof(*tc))) == NULL)
		return 0;
	if (strcmp(key, "api_url") == 0) {
		if (conf_url(p, v, key, &tc->api_url) == 0) {
			size_t n = strlen(tc->api_url);

			while (n > 0 && tc->api_url[n - 1] == '/')
				tc->api_url[--n] = '\0';
		}
	} else if (strcmp(key, "user_id") == 0) {
		s = conf_scalar(v);
		/* It goes into the URL path: digits, or "me". */
		if (s == NULL || !((s[0] && strlen(s) < 32 &&
		                    strspn(s, "0123456789") == strlen(s)) ||
		                   strcmp(s, "me") == 0))
			conf_error(p, v,
			           "'user_id' must be the Threads user id "
			           "(digits) or me");
		else
			conf_string(p, v, key, &tc->user_id);
	} else if (strcmp(key, "token_file") == 0)
		pub_token_file(p, v, key, &tc->token, &tc->token_len);
	else if (strcmp(key, "token_url") == 0)
		return 0; /* Threads' token endpoints are api_url's */
	else
		return oauth_configure(p, &tc->oauth, key, v);
	return 1;
}

static void threads_check(struct conf_ctx *p, struct channel *ch,
                          struct conf_node *node)
{
	struct threads_conf *tc = ch->pub_conf;

	if (tc == NULL && (tc = ch->pub_conf = calloc(1, sizeof(*tc))) == NULL)
		return;
	if ((tc->api_url == NULL &&
	     (tc->api_url = strdup(THREADS_API_URL)) == NULL) ||
	    (tc->user_id == NULL && (tc->user_id = strdup("me")) == NULL) ||
	    asprintf(&tc->base, "%s/%s", tc->api_url, THREADS_API_VERSION) <
	            0) {
		tc->base = NULL;
		conf_error(p, node, "out of memory");
	}
	if (tc->oauth.client_id == NULL && tc->token_len == 0)
		conf_error(p, node,
		           "channel '%s' has neither 'client_id' (a Threads "
		           "app, authorized with smmctl auth) nor 'token_file' "
		           "(a long-lived access token)",
		           ch->name);
	if (tc->oauth.client_id && tc->oauth.client_secret == NULL)
		conf_error(p, node,
		           "channel '%s' has 'client_id' without "
		           "'client_secret_file' (the Threads app secret: "
		           "Threads needs it to hand out tokens)",
		           ch->name);
}

static void threads_free(struct channel *ch)
{
	struct threads_conf *tc = ch->pub_conf;

	if (tc == NULL)
		return;
	free(tc->api_url);
	free(tc->base);
	free(tc->user_id);
	oauth_free(&tc->oauth);
	conf_secret_free(tc->token, tc->token_len);
	free(tc);
	ch->pub_conf = NULL;
}

/* threads_publish drops no repeat: see the header comment. */
static int threads_idempotent(const struct channel *ch)
{
	(void)ch;
	return 0;
}

const char *threads_access_token(const struct channel *ch)
{
	const struct threads_conf *tc = ch->pub_conf;

	return pub_token_current(ch, tc ? tc->token : NULL);
}

int threads_add_auth(const struct channel *ch, struct curl_slist **h)
{
	const char *tok = threads_access_token(ch);

	if (tok == NULL)
		return -EACCES;
	return oauth_bearer(tok, h) < 0 ? -1 : 0;
}

void threads_redact(const struct channel *ch, char *s)
{
	const struct threads_conf *tc = ch->pub_conf;

	pub_token_redact(ch, s, tc ? tc->token : NULL,
	                 tc ? tc->oauth.client_secret : NULL);
}

/* Which request of the attempt this is, as noted in st->state. */
enum step_kind {
	STEP_ITEM,      /* a carousel item's container */
	STEP_CONTAINER, /* the post's container */
	STEP_STATUS,    /* is it ready? */
	STEP_PUBLISH,
	STEP_PERMALINK,
};

static const char *note(const struct pub_step *st, const char *key)
{
	return json_string_value(json_object_get(st->state, key));
}

static json_t *items(const struct pub_step *st)
{
	return json_object_get(st->state, "items");
}

/* VIDEO for a video file's extension, else IMAGE. */
static const char *media_type_of(const char *url)
{
	static const char *const video[] = {".mp4", ".mov", ".m4v"};
	size_t n = strcspn(url, "?#");

	for (size_t i = 0; i < sizeof(video) / sizeof(video[0]); i++) {
		size_t k = strlen(video[i]);

		if (n > k && strncasecmp(url + n - k, video[i], k) == 0)
			return "VIDEO";
	}
	return "IMAGE";
}

static int no_token(const struct channel *ch, char *err, size_t errlen)
{
	snprintf(err, errlen,
	         "no Threads access token: run smmctl auth %s (or set "
	         "token_file)",
	         ch->name);
	return -EACCES;
}

/*
 * A request to the API: POST of the form body (consumed) when there is
 * one, else GET. url is consumed too. 0, -EAGAIN or -EACCES.
 */
static int api_request(const struct channel *ch, char *url, char *body,
                       struct http_request *req, char *err, size_t errlen)
{
	int r;

	req->url = url;
	req->body = body;
	req->body_len = body ? strlen(body) : 0;
	if (body == NULL)
		snprintf(req->method, sizeof(req->method), "GET");
	if (url == NULL ||
	    (body &&
	     publisher_add_header(&req->headers, "Content-Type",
	                          "application/x-www-form-urlencoded") < 0)) {
		snprintf(err, errlen, "out of memory");
		return -EAGAIN;
	}
	if ((r = threads_add_auth(ch, &req->headers)) == -EACCES)
		return no_token(ch, err, errlen);
	if (r < 0) {
		snprintf(err, errlen, "out of memory");
		return -EAGAIN;
	}
	return 0;
}

/* The post's text, the link after it where no link_attachment can go. */
static int add_text(char **body, const struct delivery_view *v, int text_post)
{
	char *text = NULL;
	int r;

	if (v->link && text_post)
		return threads_form_add(body, "text", v->text) < 0 ||
		                       threads_form_add(body, "link_attachment",
		                                        v->link) < 0
		               ? -1
		               : 0;
	if (v->link && asprintf(&text, "%s\n\n%s", v->text, v->link) < 0)
		return -1;
	r = threads_form_add(body, "text", text ? text : v->text);
	free(text);
	return r;
}

static int build_item(const struct channel *ch, const char *item,
                      struct http_request *req, char *err, size_t errlen)
{
	const struct threads_conf *tc = ch->pub_conf;
	const char *type = media_type_of(item);
	char *body = NULL, *url = NULL;

	if (threads_form_add(&body, "media_type", type) < 0 ||
	    threads_form_add(&body,
	                     strcmp(type, "VIDEO") == 0 ? "video_url"
	                                                : "image_url",
	                     item) < 0 ||
	    threads_form_add(&body, "is_carousel_item", "true") < 0 ||
	    asprintf(&url, "%s/%s/threads", tc->base, tc->user_id) < 0) {
		free(body);
		snprintf(err, errlen, "out of memory");
		return -EAGAIN;
	}
	return api_request(ch, url, body, req, err, errlen);
}

static int build_container(const struct channel *ch,
                           const struct delivery_view *v, struct pub_step *st,
                           struct http_request *req, char *err, size_t errlen)
{
	const struct threads_conf *tc = ch->pub_conf;
	size_t nmedia = json_array_size(v->media);
	const char *first = json_string_value(json_array_get(v->media, 0));
	char *body = NULL, *url = NULL, *children = NULL;
	const char *type = nmedia == 0   ? "TEXT"
	                   : nmedia == 1 ? media_type_of(first)
	                                 : "CAROUSEL";
	int bad = threads_form_add(&body, "media_type", type) < 0 ||
	          add_text(&body, v, nmedia == 0) < 0;

	if (!bad && nmedia == 1)
		bad = threads_form_add(&body,
		                       strcmp(type, "VIDEO") == 0 ? "video_url"
		                                                  : "image_url",
		                       first) < 0;
	if (!bad && nmedia > 1) {
		/* Comma-separated, as the docs write it. */
		size_t len = 0, i;
		FILE *f = open_memstream(&children, &len);
		json_t *id;

		bad = f == NULL;
		json_array_foreach (items(st), i, id)
			if (f)
				fprintf(f, "%s%s", i ? "," : "",
				        json_string_value(id));
		bad = bad || fclose(f) != 0 ||
		      threads_form_add(&body, "children", children) < 0;
		free(children);
	}
	if (bad || asprintf(&url, "%s/%s/threads", tc->base, tc->user_id) < 0) {
		free(body);
		snprintf(err, errlen, "out of memory");
		return -EAGAIN;
	}
	return api_request(ch, url, body, req, err, errlen);
}

static int build_status(const struct channel *ch, const struct pub_step *st,
                        struct http_request *req, char *err, size_t errlen)
{
	const struct threads_conf *tc = ch->pub_conf;
	char *url = NULL;

	if (asprintf(&url, "%s/%s?fields=status%%2Cerror_message", tc->base,
	             note(st, "container")) < 0)
		url = NULL;
	return api_request(ch, url, NULL, req, err, errlen);
}

static int build_publish(const struct channel *ch, const struct pub_step *st,
                         struct http_request *req, char *err, size_t errlen)
{
	const struct threads_conf *tc = ch->pub_conf;
	char *url = NULL, *body = NULL;

	if (threads_form_add(&body, "creation_id", note(st, "container")) < 0 ||
	    asprintf(&url, "%s/%s/threads_publish", tc->base, tc->user_id) <
	            0) {
		free(body);
		snprintf(err, errlen, "out of memory");
		return -EAGAIN;
	}
	/* A repeat would be a second post: never let curl resend it. */
	req->once = 1;
	return api_request(ch, url, body, req, err, errlen);
}

static int build_permalink(const struct channel *ch, const struct pub_step *st,
                           struct http_request *req, char *err, size_t errlen)
{
	const struct threads_conf *tc = ch->pub_conf;
	char *url = NULL;

	if (asprintf(&url, "%s/%s?fields=permalink", tc->base,
	             note(st, "media")) < 0)
		url = NULL;
	return api_request(ch, url, NULL, req, err, errlen);
}

/* What a post's media must be before anything is sent. 0 or -1. */
static int check_media(const struct delivery_view *v, char *err, size_t errlen)
{
	size_t nmedia = json_array_size(v->media), i;
	json_t *m;

	if (nmedia > THREADS_CAROUSEL_MAX) {
		snprintf(err, errlen,
		         "Threads takes at most %d images or videos per post; "
		         "the post has %zu",
		         THREADS_CAROUSEL_MAX, nmedia);
		return -1;
	}
	json_array_foreach (v->media, i, m) {
		const char *s = json_string_value(m);

		if (s == NULL || !url_is_http(s)) {
			snprintf(err, errlen,
			         "media %zu (%.64s): Threads fetches media "
			         "itself, so it must be a public http(s) URL, "
			         "not a file name",
			         i + 1, s ? s : "not a string");
			return -1;
		}
	}
	return 0;
}

static int threads_build(const struct channel *ch,
                         const struct delivery_view *v, struct pub_step *st,
                         int64_t now_ms, struct http_request *req, char *err,
                         size_t errlen)
{
	size_t nmedia = json_array_size(v->media), i;

	(void)now_ms;
	if (check_media(v, err, errlen) < 0)
		return -1;
	if (threads_access_token(ch) == NULL)
		return no_token(ch, err, errlen);
	if (st->state == NULL &&
	    (st->state = json_pack("{s:[], s:i, s:i}", "items", "step", 0,
	                           "polls", 0)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -EAGAIN;
	}
	i = json_array_size(items(st));
	if (note(st, "media")) {
		pub_step_set(st, STEP_PERMALINK);
		return build_permalink(ch, st, req, err, errlen);
	}
	if (json_is_true(json_object_get(st->state, "ready"))) {
		pub_step_set(st, STEP_PUBLISH);
		return build_publish(ch, st, req, err, errlen);
	}
	if (note(st, "container")) {
		pub_step_set(st, STEP_STATUS);
		return build_status(ch, st, req, err, errlen);
	}
	if (nmedia > 1 && i < nmedia) {
		pub_step_set(st, STEP_ITEM);
		return build_item(
		        ch, json_string_value(json_array_get(v->media, i)), req,
		        err, errlen);
	}
	pub_step_set(st, STEP_CONTAINER);
	return build_container(ch, v, st, req, err, errlen);
}

/*
 * A reply that is not a 2xx, judged as the Graph API's (pub_graph.c): a
 * refused token (code 190) holds the channel for auth, rate limits (4,
 * 17, 32, 613) and 1, 2 and 5xx are retried, the rest fails with the
 * API's words. Threads also marks some errors is_transient: retried.
 */
static void api_error(const struct http_result *res, int64_t now_ms,
                      const char *what, struct verdict *out)
{
	json_t *o;

	graph_judge(res, now_ms, what, out);
	if (out->kind != PUBLISH_FAILED || (o = graph_body(res)) == NULL)
		return;
	if (json_is_true(json_object_get(json_object_get(o, "error"),
	                                 "is_transient")))
		out->kind = PUBLISH_RETRY;
	json_decref(o);
}

/* The "id" of a 2xx answer, digits only (it goes into URLs); 0 or -1. */
static int answer_id(const struct http_result *res, char *id, size_t cap)
{
	json_t *o =
	        json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);

	publisher_json_text(o, "id", id, cap);
	json_decref(o);
	return id[0] && strspn(id, "0123456789") == strlen(id) ? 0 : -1;
}

static void next(struct pub_step *st, struct verdict *out, long status,
                 const char *what)
{
	st->n++;
	out->kind = PUBLISH_NEXT;
	out->retry_after_ms = -1;
	snprintf(out->reason, sizeof(out->reason), "HTTP %ld, %s", status,
	         what);
}

/* A container made (an item's or the post's): keep its id. */
static void classify_created(const struct channel *ch, struct pub_step *st,
                             const struct http_result *res, int64_t now_ms,
                             struct verdict *out)
{
	int item = (enum step_kind)pub_step_get(st) == STEP_ITEM;
	char what[64], id[64], done[96];

	if (item)
		snprintf(what, sizeof(what), "creating carousel item %zu",
		         json_array_size(items(st)) + 1);
	else
		snprintf(what, sizeof(what), "creating the container");
	if (res->status < 200 || res->status > 299) {
		api_error(res, now_ms, what, out);
		return;
	}
	if (answer_id(res, id, sizeof(id)) < 0) {
		out->kind = PUBLISH_FAILED;
		snprintf(out->reason, sizeof(out->reason),
		         "HTTP %ld without a container id", res->status);
		publisher_prefix_reason(out, what);
		return;
	}
	if ((item ? json_array_append_new(items(st), json_string(id))
	          : json_object_set_new(st->state, "container",
	                                json_string(id))) < 0) {
		out->kind = PUBLISH_RETRY;
		snprintf(out->reason, sizeof(out->reason), "out of memory");
		return;
	}
	snprintf(done, sizeof(done), "container %s", id);
	next(st, out, res->status, done);
}

/*
 * The container's status. FINISHED: publish it. IN_PROGRESS: ask again
 * THREADS_POLL_MS later, within the attempt, up to THREADS_POLL_TIMES
 * checks; then try the attempt again later. ERROR: failed with Threads'
 * error_message. EXPIRED: again, from a new container.
 */
static void classify_status(const struct channel *ch, struct pub_step *st,
                            const struct http_result *res, int64_t now_ms,
                            struct verdict *out)
{
	const char *what = "checking the container";
	json_t *o;
	char status[32], msg[160];
	json_int_t polls;

	if (res->status < 200 || res->status > 299) {
		api_error(res, now_ms, what, out);
		return;
	}
	o = json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
	publisher_json_text(o, "status", status, sizeof(status));
	publisher_json_text(o, "error_message", msg, sizeof(msg));
	json_decref(o);
	polls = json_integer_value(json_object_get(st->state, "polls")) + 1;
	json_object_set_new(st->state, "polls", json_integer(polls));
	out->retry_after_ms = -1;
	if (strcmp(status, "FINISHED") == 0) {
		json_object_set_new(st->state, "ready", json_true());
		next(st, out, res->status, "container FINISHED");
	} else if (strcmp(status, "IN_PROGRESS") == 0 &&
	           polls < THREADS_POLL_TIMES) {
		next(st, out, res->status, "container IN_PROGRESS");
		out->retry_after_ms = THREADS_POLL_MS;
	} else if (strcmp(status, "PUBLISHED") == 0) {
		/* Up already (how, we cannot tell): never post it again. */
		out->kind = PUBLISH_OK;
		snprintf(out->reason, sizeof(out->reason),
		         "HTTP %ld, the container was published already",
		         res->status);
	} else if (strcmp(status, "ERROR") == 0) {
		out->kind = PUBLISH_FAILED;
		snprintf(out->reason, sizeof(out->reason),
		         "Threads could not make the post: %s",
		         msg[0] ? msg : "ERROR without a message");
	} else {
		/* IN_PROGRESS too long, EXPIRED, or no answer we know. */
		out->kind = PUBLISH_RETRY;
		out->retry_after_ms = THREADS_POLL_MS;
		snprintf(out->reason, sizeof(out->reason),
		         "container status '%s' after %lld checks", status,
		         (long long)polls);
		publisher_prefix_reason(out, what);
	}
}

static void classify_publish(const struct channel *ch, struct pub_step *st,
                             const struct http_result *res, int64_t now_ms,
                             struct verdict *out)
{
	char id[64], done[96];

	if (res->status < 200 || res->status > 299) {
		api_error(res, now_ms, "publishing", out);
		return;
	}
	if (answer_id(res, id, sizeof(id)) < 0) {
		/* Published, most likely: never post it again. */
		out->kind = PUBLISH_OK;
		out->retry_after_ms = -1;
		snprintf(out->reason, sizeof(out->reason),
		         "HTTP %ld, published without a media id", res->status);
		return;
	}
	json_object_set_new(st->state, "media", json_string(id));
	snprintf(done, sizeof(done), "media %s", id);
	next(st, out, res->status, done);
	/* The post is up: if the permalink never comes, it stays published. */
	snprintf(out->remote_id, sizeof(out->remote_id), "%s", id);
}

/* The post is up whatever this answer says: only its URL is at stake. */
static void classify_permalink(const struct pub_step *st,
                               const struct http_result *res,
                               struct verdict *out)
{
	json_t *o;

	out->kind = PUBLISH_OK;
	out->retry_after_ms = -1;
	snprintf(out->remote_id, sizeof(out->remote_id), "%s",
	         note(st, "media"));
	if (res->status >= 200 && res->status <= 299) {
		o = json_loadb(res->body ? res->body : "", res->body_len, 0,
		               NULL);
		publisher_json_text(o, "permalink", out->remote_url,
		                    sizeof(out->remote_url));
		json_decref(o);
	}
	snprintf(out->reason, sizeof(out->reason), "HTTP %ld, media %s%s",
	         res->status, out->remote_id,
	         out->remote_url[0] ? "" : " (no permalink)");
}

static void threads_classify(const struct channel *ch,
                             const struct delivery_view *v, struct pub_step *st,
                             const struct http_result *res, int64_t now_ms,
                             struct verdict *out)
{
	(void)v;
	switch ((enum step_kind)pub_step_get(st)) {
	case STEP_ITEM:
	case STEP_CONTAINER:
		classify_created(ch, st, res, now_ms, out);
		break;
	case STEP_STATUS:
		classify_status(ch, st, res, now_ms, out);
		break;
	case STEP_PUBLISH:
		classify_publish(ch, st, res, now_ms, out);
		break;
	case STEP_PERMALINK:
		classify_permalink(st, res, out);
		break;
	}
	/* Only threads_publish makes the post public. */
	out->repeatable = pub_step_get(st) != STEP_PUBLISH;
	threads_redact(ch, out->reason);
}

/* Whether cp makes its grapheme an emoji: pictographic, or a flag's half. */
static int emoji_cp(utf8proc_int32_t cp)
{
	int bc = utf8proc_get_property(cp)->boundclass;

	return bc == UTF8PROC_BOUNDCLASS_EXTENDED_PICTOGRAPHIC ||
	       bc == UTF8PROC_BOUNDCLASS_REGIONAL_INDICATOR;
}

/*
 * Threads' count (its posts doc): a character per code point, but an
 * emoji "as the number of UTF-8 bytes" -- an emoji's whole grapheme
 * cluster (ZWJ sequence, flag, skin tone), found with utf8proc's Unicode
 * data. A byte that is not UTF-8 counts one.
 */
size_t threads_text_length(const char *s, size_t n)
{
	utf8proc_int32_t state = 0, prev = -1, cp;
	size_t total = 0, start = 0, cps = 0, i = 0;
	int emoji = 0;

	while (i < n) {
		utf8proc_ssize_t k =
		        utf8proc_iterate((const utf8proc_uint8_t *)s + i,
		                         (utf8proc_ssize_t)(n - i), &cp);

		if (k <= 0) {
			k = 1;
			cp = -1;
		}
		if (prev < 0 || cp < 0 ||
		    utf8proc_grapheme_break_stateful(prev, cp, &state)) {
			total += emoji ? i - start : cps;
			start = i;
			cps = 0;
			emoji = 0;
			if (cp < 0)
				state = 0;
		}
		emoji |= cp >= 0 && emoji_cp(cp);
		cps++;
		prev = cp;
		i += (size_t)k;
	}
	return total + (emoji ? i - start : cps);
}

/* 500 characters, an emoji counting its UTF-8 bytes. */
static const struct text_rule threads_text_rule = {
        .unit = "characters",
        .limit = 500,
        .measure = threads_text_length,
};

const struct publisher_ops pub_threads = {
        .name = "threads",
        .keys = "token_file, user_id, client_id, client_secret_file, "
                "scopes, api_url, authorize_url",
        .configure = threads_configure,
        .check = threads_check,
        .free_conf = threads_free,
        .idempotent = threads_idempotent,
        .build_request = threads_build,
        .classify = threads_classify,
        .engage = &threads_engage,
        .text_rule = &threads_text_rule,
        .auth = &threads_auth,
};
