#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "http.h"
#include "pub_graph.h"
#include "pub_token.h"

int graph_configure(struct conf_ctx *p, struct graph_conf *gc, const char *key,
                    struct conf_node *v)
{
	if (strcmp(key, "graph_url") == 0) {
		if (conf_url(p, v, key, &gc->url) == 0) {
			size_t n = strlen(gc->url);

			/* "https://h/" + "/v25.0" would give "//v25.0". */
			while (n > 0 && gc->url[n - 1] == '/')
				gc->url[--n] = '\0';
		}
	} else if (strcmp(key, "graph_version") == 0) {
		const char *s = conf_scalar(v);
		unsigned major, minor;
		char end;

		/* Meta names versions "v25.0"; a path of anything else 404s. */
		if (s == NULL || strlen(s) > 8 ||
		    sscanf(s, "v%u.%u%c", &major, &minor, &end) != 2 ||
		    s[1] < '0' || s[1] > '9')
			conf_error(
			        p, v,
			        "'graph_version' must be a Graph API version "
			        "such as %s",
			        GRAPH_VERSION_DEFAULT);
		else
			conf_string(p, v, key, &gc->version);
	} else if (strcmp(key, "token_file") == 0) {
		gc->token_given = 1;
		pub_token_file(p, v, key, &gc->token, &gc->token_len);
	} else
		return 0;
	return 1;
}

void graph_conf_free(struct graph_conf *gc)
{
	free(gc->url);
	free(gc->version);
	conf_secret_free(gc->token, gc->token_len);
	memset(gc, 0, sizeof(*gc));
}

const char *graph_token(const struct channel *ch, const struct graph_conf *gc)
{
	if (ch->tokens && ch->tokens->access && ch->tokens->access[0])
		return ch->tokens->access;
	if (gc->token && gc->token_len > 0)
		return (const char *)gc->token;
	return NULL;
}

int graph_add_auth(const char *token, struct curl_slist **h)
{
	char line[1100];

	if ((size_t)snprintf(line, sizeof(line), "Bearer %s", token) >=
	    sizeof(line))
		return -1;
	return publisher_add_header(h, "Authorization", line);
}

char *graph_endpoint(const struct graph_conf *gc, const char *fmt, ...)
{
	char *path = NULL, *url = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&path, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	if (asprintf(&url, "%s/%s/%s", gc->url ? gc->url : GRAPH_URL_DEFAULT,
	             gc->version ? gc->version : GRAPH_VERSION_DEFAULT,
	             path) < 0)
		url = NULL;
	free(path);
	return url;
}

int graph_form_add(char **body, size_t *len, const char *key, const char *value)
{
	char *esc = curl_easy_escape(NULL, value, 0), *grown;
	size_t need;

	if (esc == NULL)
		return -1;
	need = *len + (*len > 0) + strlen(key) + 1 + strlen(esc) + 1;
	if ((grown = realloc(*body, need)) == NULL) {
		curl_free(esc);
		return -1;
	}
	*body = grown;
	*len += (size_t)snprintf(grown + *len, need - *len, "%s%s=%s",
	                         *len > 0 ? "&" : "", key, esc);
	curl_free(esc);
	return 0;
}

int graph_id_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n > 0 && n < 96 && strspn(s, "0123456789_") == n;
}

json_t *graph_body(const struct http_result *res)
{
	if (res->body == NULL || res->body_len == 0)
		return NULL;
	return json_loadb(res->body, res->body_len, 0, NULL);
}

static long int_field(json_t *o, const char *key)
{
	json_t *f = json_object_get(o, key);

	if (json_is_integer(f))
		return (long)json_integer_value(f);
	if (json_is_string(f))
		return strtol(json_string_value(f), NULL, 10);
	return -1;
}

int graph_error_parse(const char *body, size_t len, struct graph_error *out)
{
	json_t *doc, *e;
	int found = 0;

	memset(out, 0, sizeof(*out));
	out->code = out->subcode = -1;
	if (body == NULL || len == 0 ||
	    (doc = json_loadb(body, len, 0, NULL)) == NULL)
		return 0;
	if (json_is_object(e = json_object_get(doc, "error"))) {
		const char *m =
		        json_string_value(json_object_get(e, "message"));

		found = 1;
		out->code = int_field(e, "code");
		out->subcode = int_field(e, "error_subcode");
		if (m)
			publisher_body_excerpt(m, strlen(m), out->message,
			                       sizeof(out->message));
		publisher_json_text(e, "type", out->type, sizeof(out->type));
		publisher_json_text(e, "fbtrace_id", out->fbtrace_id,
		                    sizeof(out->fbtrace_id));
	}
	json_decref(doc);
	return found;
}

/* The largest estimated_time_to_regain_access anywhere in j, or -1. */
static int64_t regain_minutes(json_t *j)
{
	int64_t best = -1, m;
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_object(j)) {
		json_object_foreach (j, key, v) {
			if (strcmp(key, "estimated_time_to_regain_access") ==
			            0 &&
			    json_is_number(v))
				m = (int64_t)json_number_value(v);
			else
				m = regain_minutes(v);
			if (m > best)
				best = m;
		}
	} else if (json_is_array(j))
		json_array_foreach (j, i, v)
			if ((m = regain_minutes(v)) > best)
				best = m;
	return best;
}

int64_t graph_usage_wait_ms(const char *header)
{
	json_t *doc;
	int64_t m;

	if (header == NULL || (doc = json_loads(header, 0, NULL)) == NULL)
		return -1;
	m = regain_minutes(doc);
	json_decref(doc);
	/* Meta says 0 while a budget is still open: no advice. A day at most.
	 */
	if (m <= 0)
		return -1;
	return (m > 24 * 60 ? 24 * 60 : m) * 60 * 1000;
}

static int refused_token(const struct graph_error *e)
{
	static const long subcodes[] = {458, 459, 460, 463, 464, 467};

	if (e->code == 190 || e->code == 102)
		return 1;
	for (size_t i = 0; i < sizeof(subcodes) / sizeof(subcodes[0]); i++)
		if (e->subcode == subcodes[i])
			return 1;
	return 0;
}

/* A permission the token lacks: granting it again is an auth matter. */
static int missing_permission(const struct graph_error *e)
{
	return e->code == 10 || (e->code >= 200 && e->code <= 299);
}

static int throttled(const struct graph_error *e)
{
	return e->code == 4 || e->code == 9 || e->code == 17 || e->code == 32 ||
	       e->code == 341 || e->code == 613 ||
	       (e->code >= 80001 && e->code <= 80009);
}

/* When to come back after a throttle: the usage headers, Retry-After. */
static int64_t throttle_wait(const struct http_result *res, int64_t now_ms)
{
	int64_t a = graph_usage_wait_ms(res->buc_usage),
	        b = graph_usage_wait_ms(res->app_usage), d;

	if (b > a)
		a = b;
	if (a < 0 && res->retry_after &&
	    retry_after_parse(res->retry_after, now_ms, &d) == 0)
		a = d;
	return a;
}

/* "code 190/463: message (fbtrace_id X)" */
static void error_words(const struct graph_error *e, char *out, size_t cap)
{
	char sub[24] = "";

	if (e->subcode >= 0)
		snprintf(sub, sizeof(sub), "/%ld", e->subcode);
	snprintf(out, cap, "code %ld%s: %.150s%s%.40s%s", e->code, sub,
	         e->message[0] ? e->message : "(no message)",
	         e->fbtrace_id[0] ? " (fbtrace_id " : "", e->fbtrace_id,
	         e->fbtrace_id[0] ? ")" : "");
}

void graph_judge(const struct http_result *res, int64_t now_ms,
                 const char *what, struct verdict *out)
{
	struct graph_error e;
	char words[sizeof(out->reason)];

	publisher_classify_http(res, now_ms, out);
	if (!graph_error_parse(res->body, res->body_len, &e)) {
		if (res->status == 401 || res->status == 403) {
			out->kind = PUBLISH_NEEDS_AUTH;
			snprintf(out->reason, sizeof(out->reason),
			         "HTTP %ld: the access token was refused "
			         "(renew token_file or run smmctl auth)",
			         res->status);
		} else if (out->kind == PUBLISH_OK) {
			out->kind = PUBLISH_FAILED;
			snprintf(out->reason, sizeof(out->reason),
			         "HTTP %ld without the expected answer",
			         res->status);
		}
		publisher_prefix_reason(out, what);
		return;
	}
	error_words(&e, words, sizeof(words));
	out->retry_after_ms = -1;
	if (refused_token(&e) || missing_permission(&e)) {
		out->kind = PUBLISH_NEEDS_AUTH;
		snprintf(out->reason, sizeof(out->reason),
		         "the access token was refused (renew token_file or "
		         "run smmctl auth): %.180s",
		         words);
	} else if (throttled(&e)) {
		out->kind = PUBLISH_RETRY;
		out->retry_after_ms = throttle_wait(res, now_ms);
		snprintf(out->reason, sizeof(out->reason),
		         "rate limited: %.230s", words);
	} else {
		out->kind = e.code == 1 || e.code == 2 || res->status >= 500 ||
		                            res->status == 429
		                    ? PUBLISH_RETRY
		                    : PUBLISH_FAILED;
		if (out->kind == PUBLISH_RETRY && res->retry_after)
			out->retry_after_ms = throttle_wait(res, now_ms);
		snprintf(out->reason, sizeof(out->reason), "HTTP %ld, %.230s",
		         res->status, words);
	}
	publisher_prefix_reason(out, what);
}

int graph_ok(const struct http_result *res)
{
	struct graph_error e;

	return res->status >= 200 && res->status <= 299 &&
	       !graph_error_parse(res->body, res->body_len, &e);
}

void graph_scrub(const struct channel *ch, const struct graph_conf *gc,
                 struct verdict *out)
{
	/* auth.c's refresh token too: a Graph error may quote either. */
	pub_token_redact(ch, out->reason, gc->token, NULL);
}
