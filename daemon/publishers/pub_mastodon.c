/*
 * Mastodon: upload each media file (POST /api/v2/media, multipart), then
 * post the status (POST /api/v1/statuses) naming the uploaded media ids.
 *
 * One attempt is a chain of steps, kept in struct pub_step:
 *   for each media item: "fetch" (GET an http(s) URL from the post, behind
 *   the address guard) unless it is a file under media_dir, then "upload";
 *   finally "status".
 * Mastodon keeps an Idempotency-Key for an hour and answers a repeat with
 * the status it already made, so a retry (even after a crash mid-request)
 * cannot post twice: this endpoint is idempotent. A repeated upload only
 * leaves an unattached media file, which Mastodon deletes by itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "http.h"
#include "postid.h"
#include "pub_mastodon.h"
#include "pub_media.h"
#include "pub_token.h"
#include "publisher.h"

/* What Mastodon accepts on one status (its default instance limit). */
#define MASTODON_MAX_MEDIA 4

static int mastodon_configure(struct conf_ctx *p, struct channel *ch,
                              const char *key, struct conf_node *v)
{
	struct mastodon_conf *mc = ch->pub_conf;

	if (mc == NULL && (mc = ch->pub_conf = calloc(1, sizeof(*mc))) == NULL)
		return 0;
	if (strcmp(key, "instance") == 0) {
		mc->instance_given = 1;
		if (conf_url(p, v, key, &mc->instance) == 0) {
			size_t n = strlen(mc->instance);

			/* "https://h/" + "/api/..." would give "//api". */
			while (n > 0 && mc->instance[n - 1] == '/')
				mc->instance[--n] = '\0';
		}
	} else if (strcmp(key, "token_file") == 0) {
		mc->token_given = 1;
		pub_token_file(p, v, key, &mc->token, &mc->token_len);
	} else if (oauth_configure(p, &mc->oauth, key, v)) {
		; /* client_id, client_secret_file, scopes */
	} else if (strcmp(key, "visibility") == 0) {
		const char *s = conf_scalar(v);

		if (s == NULL ||
		    (strcmp(s, "public") != 0 && strcmp(s, "unlisted") != 0 &&
		     strcmp(s, "private") != 0 && strcmp(s, "direct") != 0))
			conf_error(p, v,
			           "'visibility' must be public, unlisted, "
			           "private or direct");
		else
			conf_string(p, v, key, &mc->visibility);
	} else if (strcmp(key, "language") == 0) {
		const char *s = conf_scalar(v);
		size_t n = s ? strlen(s) : 0;

		/* ISO 639: Mastodon rejects anything else with a 422. */
		if (n < 2 || n > 3 ||
		    strspn(s, "abcdefghijklmnopqrstuvwxyz") != n)
			conf_error(p, v,
			           "'language' must be an ISO 639 code such "
			           "as en or de");
		else
			conf_string(p, v, key, &mc->language);
	} else
		return 0;
	return 1;
}

static void mastodon_check(struct conf_ctx *p, struct channel *ch,
                           struct conf_node *node)
{
	struct mastodon_conf *mc = ch->pub_conf;

	if (mc == NULL || !mc->instance_given)
		conf_error(p, node,
		           "channel '%s' has no 'instance' (the server's "
		           "base URL, e.g. https://mastodon.social)",
		           ch->name);
	if (mc == NULL || (!mc->token_given && mc->oauth.client_id == NULL))
		conf_error(p, node,
		           "channel '%s' has no 'token_file' (a file holding "
		           "the application's access token) nor 'client_id' "
		           "(an application smmctl auth authorizes)",
		           ch->name);
	else if (mc->oauth.client_id && mc->oauth.client_secret == NULL)
		conf_error(p, node,
		           "channel '%s' has a 'client_id' but no "
		           "'client_secret_file' (Mastodon's apps are "
		           "confidential clients)",
		           ch->name);
}

static void mastodon_free(struct channel *ch)
{
	struct mastodon_conf *mc = ch->pub_conf;

	if (mc == NULL)
		return;
	free(mc->instance);
	conf_secret_free(mc->token, mc->token_len);
	free(mc->visibility);
	free(mc->language);
	oauth_free(&mc->oauth);
	free(mc);
	ch->pub_conf = NULL;
}

static int mastodon_idempotent(const struct channel *ch)
{
	return 1;
}

/* Which request of the attempt this is, as noted in st->state. */
enum step_kind { STEP_FETCH, STEP_UPLOAD, STEP_STATUS };

static json_t *media_ids(const struct pub_step *st)
{
	return json_object_get(st->state, "ids");
}

int mastodon_add_auth(const struct channel *ch, struct curl_slist **h)
{
	const struct mastodon_conf *mc = ch->pub_conf;
	const char *token = pub_token_current(ch, mc->token);

	if (token == NULL)
		return -EACCES;
	return oauth_bearer(token, h);
}

/* The token header, or why there is none, as build_request returns it. */
static int add_auth_or(const struct channel *ch, struct curl_slist **h,
                       char *err, size_t errlen)
{
	int r = mastodon_add_auth(ch, h);

	if (r == -EACCES)
		snprintf(err, errlen, "no access token yet: run smmctl auth %s",
		         ch->name);
	else if (r < 0)
		snprintf(err, errlen, "out of memory");
	return r == -EACCES ? -EACCES : r < 0 ? -EAGAIN : 0;
}

static int build_upload(const struct channel *ch, const struct delivery_view *v,
                        struct pub_step *st, size_t i, struct http_request *req,
                        char *err, size_t errlen)
{
	const struct mastodon_conf *mc = ch->pub_conf;
	const char *item = json_string_value(json_array_get(v->media, i));
	int n;

	/* A file under media_dir: no fetch step before this one. */
	if (st->blob == NULL &&
	    (n = pub_media_load_file(ch, item, st, err, errlen)) < 0)
		return n;
	if ((n = pub_media_multipart(st, "file", item, req, err, errlen)) < 0)
		return n;
	if (asprintf(&req->url, "%s/api/v2/media", mc->instance) < 0) {
		req->url = NULL;
		goto nomem;
	}
	return add_auth_or(ch, &req->headers, err, errlen);
nomem:
	snprintf(err, errlen, "out of memory");
	return -EAGAIN;
}

static int build_status(const struct channel *ch, const struct delivery_view *v,
                        struct pub_step *st, struct http_request *req,
                        char *err, size_t errlen)
{
	const struct mastodon_conf *mc = ch->pub_conf;
	json_t *o;
	char *status = NULL;

	/* The link goes at the end, where Mastodon builds its preview. */
	if (v->link && asprintf(&status, "%s\n\n%s", v->text, v->link) < 0)
		goto nomem;
	o = json_pack("{s:s, s:O}", "status", status ? status : v->text,
	              "media_ids", media_ids(st));
	free(status);
	if (o == NULL) {
		snprintf(err, errlen, "cannot encode the status as JSON");
		return -1;
	}
	if ((mc->visibility &&
	     json_object_set_new(o, "visibility", json_string(mc->visibility)) <
	             0) ||
	    (mc->language &&
	     json_object_set_new(o, "language", json_string(mc->language)) <
	             0)) {
		json_decref(o);
		goto nomem;
	}
	req->body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (req->body == NULL)
		goto nomem;
	req->body_len = strlen(req->body);
	if (asprintf(&req->url, "%s/api/v1/statuses", mc->instance) < 0) {
		req->url = NULL;
		goto nomem;
	}
	/* The same key on every retry: Mastodon answers a repeat with the
	 * status it already made. */
	if (publisher_add_header(&req->headers, "Content-Type",
	                         "application/json") < 0 ||
	    publisher_add_header(&req->headers, "Idempotency-Key",
	                         v->webhook_id) < 0)
		goto nomem;
	return add_auth_or(ch, &req->headers, err, errlen);
nomem:
	snprintf(err, errlen, "out of memory");
	return -EAGAIN;
}

static int mastodon_build(const struct channel *ch,
                          const struct delivery_view *v, struct pub_step *st,
                          int64_t now_ms, struct http_request *req, char *err,
                          size_t errlen)
{
	size_t i;
	const char *item;
	int r = pub_media_next(v, st, "Mastodon", MASTODON_MAX_MEDIA, "media",
	                       "ids", &i, &item, err, errlen);

	if (r < 0)
		return r;
	if (r == 0) {
		pub_step_set(st, STEP_STATUS);
		return build_status(ch, v, st, req, err, errlen);
	}
	if (pub_media_needs_fetch(item, st)) {
		pub_step_set(st, STEP_FETCH);
		return pub_media_fetch_request(ch, item, req, err, errlen);
	}
	pub_step_set(st, STEP_UPLOAD);
	return build_upload(ch, v, st, i, req, err, errlen);
}

/* Mastodon's {"error": "..."}, else the start of the body. */
static void error_text(const struct http_result *res, char *out, size_t cap)
{
	json_t *o =
	        json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
	const char *e = json_string_value(json_object_get(o, "error"));

	if (e)
		publisher_body_excerpt(e, strlen(e), out, cap);
	else
		publisher_body_excerpt(res->body, res->body_len, out, cap);
	json_decref(o);
}

/* Defence in depth: a reply that echoes the token must not leak it. */
static void scrub_token(const struct channel *ch, struct verdict *out)
{
	const struct mastodon_conf *mc = ch->pub_conf;

	if (mc->token_len > 0)
		publisher_redact(out->reason, (const char *)mc->token);
	if (ch->tokens && ch->tokens->access)
		publisher_redact(out->reason, ch->tokens->access);
}

/*
 * A reply from the Mastodon API (upload or status) that is not a 2xx:
 * 401/403 and 422 fail with Mastodon's own words; the rest as any HTTP.
 */
static void api_error(const struct http_result *res, int64_t now_ms,
                      const char *what, struct verdict *out)
{
	char text[160];

	publisher_classify_http(res, now_ms, out);
	if (res->status == 401 || res->status == 403) {
		/* Revoked or short of a scope: held until a person acts. */
		out->kind = PUBLISH_NEEDS_AUTH;
		error_text(res, text, sizeof(text));
		snprintf(out->reason, sizeof(out->reason),
		         "HTTP %ld: the access token was refused (check "
		         "token_file)%s%s",
		         res->status, text[0] ? ": " : "", text);
	} else if (res->status == 422 ||
	           (out->kind == PUBLISH_FAILED && res->status >= 400)) {
		error_text(res, text, sizeof(text));
		snprintf(out->reason, sizeof(out->reason), "HTTP %ld%s%s",
		         res->status, text[0] ? ": " : "", text);
	}
	publisher_prefix_reason(out, what);
}

static void classify_upload(const struct channel *ch,
                            const struct delivery_view *v, struct pub_step *st,
                            const struct http_result *res, int64_t now_ms,
                            struct verdict *out)
{
	size_t i = json_array_size(media_ids(st));
	char what[64], id[128];
	json_t *o;

	snprintf(what, sizeof(what), "uploading media %zu", i + 1);
	if (res->status < 200 || res->status > 299) {
		api_error(res, now_ms, what, out);
		return;
	}
	/* 202: stored but still being processed; the id is good already. */
	o = json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
	publisher_json_text(o, "id", id, sizeof(id));
	json_decref(o);
	if (id[0] == '\0') {
		out->kind = PUBLISH_FAILED;
		snprintf(out->reason, sizeof(out->reason),
		         "HTTP %ld without a media id", res->status);
		publisher_prefix_reason(out, what);
		return;
	}
	if (json_array_append_new(media_ids(st), json_string(id)) < 0) {
		out->kind = PUBLISH_RETRY;
		snprintf(out->reason, sizeof(out->reason), "out of memory");
		return;
	}
	st->n++;
	out->kind = PUBLISH_NEXT;
	snprintf(out->reason, sizeof(out->reason), "HTTP %ld, media id %s",
	         res->status, id);
}

static void classify_status(const struct channel *ch,
                            const struct delivery_view *v, struct pub_step *st,
                            const struct http_result *res, int64_t now_ms,
                            struct verdict *out)
{
	json_t *o;
	char text[160];

	if (res->status < 200 || res->status > 299) {
		api_error(res, now_ms, "posting the status", out);
		/*
		 * An upload answered 202 may still be processing when the
		 * status refers to it: Mastodon says so with a 422 that
		 * will pass once it is done.
		 */
		if (res->status == 422) {
			error_text(res, text, sizeof(text));
			if (strcasestr(text, "process") != NULL)
				out->kind = PUBLISH_RETRY;
		}
		return;
	}
	o = json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
	publisher_json_text(o, "id", out->remote_id, sizeof(out->remote_id));
	publisher_json_text(o, "url", out->remote_url, sizeof(out->remote_url));
	if (out->remote_url[0] == '\0')
		publisher_json_text(o, "uri", out->remote_url,
		                    sizeof(out->remote_url));
	json_decref(o);
	out->kind = PUBLISH_OK;
	out->retry_after_ms = -1;
	snprintf(out->reason, sizeof(out->reason), "HTTP %ld%s%s", res->status,
	         out->remote_id[0] ? ", status " : "", out->remote_id);
}

static void mastodon_classify(const struct channel *ch,
                              const struct delivery_view *v,
                              struct pub_step *st,
                              const struct http_result *res, int64_t now_ms,
                              struct verdict *out)
{
	switch ((enum step_kind)pub_step_get(st)) {
	case STEP_FETCH: {
		size_t i = json_array_size(media_ids(st));

		pub_media_fetched(
		        ch, i + 1,
		        json_string_value(json_array_get(v->media, i)), st, res,
		        now_ms, out);
		break;
	}
	case STEP_UPLOAD:
		classify_upload(ch, v, st, res, now_ms, out);
		break;
	case STEP_STATUS:
		classify_status(ch, v, st, res, now_ms, out);
		break;
	}
	scrub_token(ch, out);
}

/* smmctl auth: Mastodon's OAuth 2.0 app flow, with PKCE (Mastodon 4.3). */
static int mastodon_authorize_url(const struct channel *ch,
                                  const char *redirect_uri,
                                  const char *challenge, const char *state,
                                  char *out, size_t cap)
{
	const struct mastodon_conf *mc = ch->pub_conf;
	char page[1100];

	snprintf(page, sizeof(page), "%s/oauth/authorize", mc->instance);
	return oauth_authorize_url(&mc->oauth, page,
	                           "write:statuses write:media read:statuses "
	                           "read:accounts",
	                           redirect_uri, challenge, state, out, cap);
}

static int mastodon_exchange(const struct channel *ch, const char *code,
                             const char *verifier, const char *redirect_uri,
                             struct http_request *req, char *err, size_t errlen)
{
	const struct mastodon_conf *mc = ch->pub_conf;
	char url[1100];

	snprintf(url, sizeof(url), "%s/oauth/token", mc->instance);
	return oauth_code_request(&mc->oauth, url, code, verifier, redirect_uri,
	                          req, err, errlen);
}

static int mastodon_token_parse(const struct channel *ch,
                                const struct http_result *res, int64_t now_ms,
                                struct auth_tokens *out, char *err,
                                size_t errlen)
{
	(void)ch;
	return oauth_token_parse(res, now_ms, out, err, errlen);
}

static int mastodon_oauth_used(const struct channel *ch)
{
	const struct mastodon_conf *mc = ch->pub_conf;

	return mc->oauth.client_id != NULL;
}

/* Mastodon's tokens do not expire and come without a refresh token. */
static const struct auth_ops mastodon_auth = {
        .used = mastodon_oauth_used,
        .authorize_url = mastodon_authorize_url,
        .exchange_request = mastodon_exchange,
        .token_parse = mastodon_token_parse,
};

const struct publisher_ops pub_mastodon = {
        .name = "mastodon",
        .keys = "instance, token_file, visibility, language, client_id, "
                "client_secret_file, scopes, authorize_url, token_url, "
                "redirect_uri",
        .configure = mastodon_configure,
        .check = mastodon_check,
        .free_conf = mastodon_free,
        .idempotent = mastodon_idempotent,
        .build_request = mastodon_build,
        .classify = mastodon_classify,
        .engage = &mastodon_engage,
        .auth = &mastodon_auth,
};
