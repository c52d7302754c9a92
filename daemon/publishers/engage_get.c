/*
 * An admin-described engagement read (engage_get.h). The URL's
 * placeholders are checked when the config is read, and each value is
 * percent-encoded into it, so a post id can never change the URL's shape.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engage_get.h"
#include "pub_form.h"
#include "http.h"
#include "urlcheck.h"

static const char *const figure_keys[ENGAGE_FIGURES] = {
        "likes", "shares", "comments", "quotes", "views",
};

enum placeholder { PH_REMOTE_ID, PH_WEBHOOK_ID, PH_POST_ID, PH_ID, PH_COUNT };

static const char *const placeholders[PH_COUNT] = {
        "remote_id",
        "webhook_id",
        "post_id",
        "id",
};

/* The placeholder "{{name}}" at s, or -1. */
static int placeholder_at(const char *s, size_t *len)
{
	for (int i = 0; i < PH_COUNT; i++) {
		size_t n = strlen(placeholders[i]);

		if (strncmp(s, "{{", 2) == 0 &&
		    strncmp(s + 2, placeholders[i], n) == 0 &&
		    strncmp(s + 2 + n, "}}", 2) == 0) {
			*len = n + 4;
			return i;
		}
	}
	return -1;
}

/* Every "{{" must open a known placeholder. */
static void check_url(struct conf_ctx *p, struct conf_node *v,
                      struct engage_get *g)
{
	const char *s;
	size_t len;
	int ph;

	if (urlcheck(g->url, URLCHECK_HOSTLESS) != URLCHECK_OK)
		conf_error(p, v, "'url' must be an http or https URL");
	for (s = strstr(g->url, "{{"); s; s = strstr(s + len, "{{")) {
		if ((ph = placeholder_at(s, &len)) < 0) {
			conf_error(p, v,
			           "'url': unknown placeholder at '%.24s' "
			           "(known: {{remote_id}}, {{webhook_id}}, "
			           "{{post_id}}, {{id}})",
			           s);
			return;
		}
		g->uses_remote_id |= ph == PH_REMOTE_ID;
	}
}

static void engage_pair(struct conf_ctx *p, struct conf_node *k,
                        struct conf_node *v, void *arg)
{
	struct engage_get *g = arg;
	const char *key = conf_scalar(k), *s = conf_scalar(v);

	if (strcmp(key, "url") == 0) {
		if (conf_string(p, v, key, &g->url) == 0)
			check_url(p, v, g);
		return;
	}
	if (strcmp(key, "headers") == 0 || strcmp(key, "header_files") == 0) {
		pub_headers_parse(p, v, strcmp(key, "header_files") == 0,
		                  &g->headers);
		return;
	}
	for (int i = 0; i < ENGAGE_FIGURES; i++) {
		if (strcmp(key, figure_keys[i]) != 0)
			continue;
		if (s == NULL || !publisher_json_path_ok(s))
			conf_error(p, v,
			           "'%s' must be a dotted path into the JSON "
			           "answer, e.g. data.likes",
			           key);
		else
			conf_string(p, v, key, &g->path[i]);
		return;
	}
	conf_error(p, k,
	           "unknown key '%s' in 'engagement' (known: url, headers, "
	           "header_files, likes, shares, comments, quotes, views)",
	           key);
}

void engage_get_configure(struct conf_ctx *p, struct conf_node *v,
                          struct engage_get **out)
{
	struct engage_get *g = calloc(1, sizeof(*g));
	int figures = 0;

	engage_get_free(*out);
	*out = g;
	if (g == NULL) {
		conf_error(p, v, "out of memory");
		return;
	}
	if (conf_for_each_pair(p, v, "'engagement'", engage_pair, g) < 0)
		return;
	for (int i = 0; i < ENGAGE_FIGURES; i++)
		figures += g->path[i] != NULL;
	if (g->url == NULL)
		conf_error(p, v, "'engagement' has no 'url' to read from");
	if (figures == 0)
		conf_error(p, v,
		           "'engagement' names no figure: give at least one "
		           "of likes, shares, comments, quotes, views");
}

void engage_get_free(struct engage_get *g)
{
	if (g == NULL)
		return;
	free(g->url);
	pub_headers_free(&g->headers);
	for (int i = 0; i < ENGAGE_FIGURES; i++)
		free(g->path[i]);
	free(g);
}

static char *expand_url(const char *url, const struct engage_item *it)
{
	const char *values[PH_COUNT] = {it->remote_id, it->webhook_id,
	                                it->post_id, it->delivery_id};
	char *out = NULL;
	size_t outlen = 0, len;
	FILE *f = open_memstream(&out, &outlen);
	int ph;

	if (f == NULL)
		return NULL;
	for (const char *s = url; *s;) {
		if ((ph = placeholder_at(s, &len)) >= 0) {
			pub_form_escape(f, values[ph] ? values[ph] : "");
			s += len;
		} else
			fputc(*s++, f);
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

int engage_get_request(const struct engage_get *g, const struct engage_item *it,
                       struct http_request *req, char *err, size_t errlen)
{
	snprintf(req->method, sizeof(req->method), "GET");
	if ((req->url = expand_url(g->url, it)) == NULL ||
	    pub_headers_add(&g->headers, &req->headers) < 0 ||
	    (pub_headers_find(&g->headers, "Accept") == NULL &&
	     publisher_add_header(&req->headers, "Accept", "application/json") <
	             0)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* A figure at path: a non-negative integer (or a numeric string). */
static int64_t figure_at(json_t *doc, const char *path)
{
	json_t *v = path ? publisher_json_at(doc, path) : NULL;
	char *end;
	long long n;

	if (json_is_integer(v))
		return json_integer_value(v) >= 0 ? json_integer_value(v) : -1;
	if (json_is_real(v))
		return json_real_value(v) >= 0 ? (int64_t)json_real_value(v)
		                               : -1;
	if (json_is_string(v)) {
		n = strtoll(json_string_value(v), &end, 10);
		return *end == '\0' && end != json_string_value(v) && n >= 0
		               ? n
		               : -1;
	}
	return -1;
}

int engage_get_parse(const struct engage_get *g, const struct http_result *res,
                     struct engage_item *it, char *err, size_t errlen)
{
	json_t *doc =
	        json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
	int64_t f[ENGAGE_FIGURES];
	int any = 0;

	if (doc == NULL) {
		snprintf(err, errlen, "the answer is not JSON");
		return -1;
	}
	for (int i = 0; i < ENGAGE_FIGURES; i++)
		any |= (f[i] = figure_at(doc, g->path[i])) >= 0;
	json_decref(doc);
	if (!any) {
		snprintf(err, errlen,
		         "the answer has none of the figures at the paths "
		         "given");
		return -1;
	}
	it->got = (struct engagement){f[0], f[1], f[2], f[3], f[4]};
	it->found = 1;
	return 0;
}

static int get_readable(const struct channel *ch)
{
	return ch->engage_get != NULL && ch->engage_get->url != NULL;
}

static int get_needs_remote_id(const struct channel *ch)
{
	return ch->engage_get != NULL && ch->engage_get->uses_remote_id;
}

static int get_request(const struct channel *ch, const struct engage_item *it,
                       size_t n, struct http_request *req, char *err,
                       size_t errlen)
{
	(void)n;
	return engage_get_request(ch->engage_get, it, req, err, errlen);
}

static int get_parse(const struct channel *ch, const struct http_result *res,
                     struct engage_item *it, size_t n, char *err, size_t errlen)
{
	(void)n;
	return engage_get_parse(ch->engage_get, res, it, err, errlen);
}

const struct engage_ops engage_get_ops = {
        .batch = 1,
        .needs_remote_id = get_needs_remote_id,
        .enabled = get_readable,
        .request = get_request,
        .parse = get_parse,
};
