/*
 * The template publisher: any HTTP API that takes one request per post.
 * The admin gives the URL, method, headers and a body template with
 * placeholders ({{text}}, {{link}}, ...); each value is escaped for the
 * body's content type (a JSON value, or percent-encoded for a form).
 *
 * The template is parsed once, at config time, into literal and
 * placeholder segments, so an unknown placeholder or an unclosed "{{" is a
 * config error at its FILE:LINE:COLUMN, not a failed delivery at 3 am.
 *
 * Idempotent only if the admin names the header the API dedupes on
 * (idempotency_header): without one, a request whose fate is unknown is
 * never repeated and the delivery becomes "unknown".
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "config.h"
#include "http.h"
#include "pub_headers.h"
#include "engage_get.h"
#include "publisher.h"
#include "timeparse.h"
#include "text.h"
#include "urlcheck.h"

enum tpl_ph {
	PH_TEXT,
	PH_LINK,
	PH_ID,
	PH_CHANNEL,
	PH_CAMPAIGN,
	PH_SCHEDULED_AT,
	PH_MEDIA,
	PH_MEDIA_FIRST,
	PH_ATTEMPT,
	PH_WEBHOOK_ID,
	PH_COUNT,
	PH_LITERAL = -1,
};

/* Indexed by enum tpl_ph. */
static const char *const ph_names[PH_COUNT] = {
        "text",         "link",  "id",          "channel", "campaign",
        "scheduled_at", "media", "media_first", "attempt", "webhook_id",
};

struct tpl_seg {
	int ph;          /* enum tpl_ph, or PH_LITERAL */
	size_t off, len; /* a literal's bytes in template_conf.body */
};

struct template_conf {
	char *url;
	int url_secret; /* from url_file: never in a reason */
	int url_given;  /* how many of url and url_file */
	char method[8];
	struct pub_headers headers;
	char *body; /* the template's text; literals point into it */
	struct tpl_seg *segs;
	size_t nsegs;
	int body_given;
	struct conf_node *body_node; /* only while the config is parsed */
	int form; /* application/x-www-form-urlencoded, else JSON */
	char *idem_header;
	char *success_id;
	char *success_url;
};

static size_t count_char(const char *s, size_t n, char ch)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		if (s[i] == ch)
			c++;
	return c;
}

/*
 * Report a problem at byte off of a scalar's value. For a scalar on one
 * line whose source spells the value without escapes (checked by comparing
 * its width in the file with the value's), the column is exact: the node's
 * start, plus a quote, plus the characters before off (a doubled '' in a
 * single-quoted scalar counts twice). Block scalars and escaped strings
 * get the node's own position, with the place inside the body in words.
 */
__attribute__((format(printf, 4, 5))) static void
tpl_error_at(struct conf_ctx *p, struct conf_node *node, size_t off,
             const char *fmt, ...)
{
	yaml_node_t at = *(yaml_node_t *)node;
	const char *val = (const char *)at.data.scalar.value;
	size_t len = at.data.scalar.length, width, quotes, line = 1, col;
	size_t lstart = 0;
	int exact = 0;
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	width = at.end_mark.column - at.start_mark.column;
	if (at.start_mark.line == at.end_mark.line &&
	    memchr(val, '\n', len) == NULL) {
		quotes = count_char(val, len, '\'');
		switch (at.data.scalar.style) {
		case YAML_PLAIN_SCALAR_STYLE:
			exact = width == text_chars(val, len);
			break;
		case YAML_SINGLE_QUOTED_SCALAR_STYLE:
			exact = width == text_chars(val, len) + quotes + 2;
			if (exact)
				at.start_mark.column +=
				        1 + count_char(val, off, '\'');
			break;
		case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
			exact = width == text_chars(val, len) + 2;
			if (exact)
				at.start_mark.column += 1;
			break;
		default:
			break;
		}
	}
	if (exact) {
		/* conf_error reports at start_mark: move it to the spot. */
		at.start_mark.column += text_chars(val, off);
		conf_error(p, (struct conf_node *)&at, "%s", msg);
		return;
	}
	for (size_t i = 0; i < off; i++)
		if (val[i] == '\n') {
			line++;
			lstart = i + 1;
		}
	col = text_chars(val + lstart, off - lstart) + 1;
	conf_error(p, node, "%s (at line %zu, column %zu of the body)", msg,
	           line, col);
}

static int seg_push(struct template_conf *tc, int ph, size_t off, size_t len)
{
	struct tpl_seg *grown;

	if (ph == PH_LITERAL && len == 0)
		return 0;
	grown = realloc(tc->segs, (tc->nsegs + 1) * sizeof(*grown));
	if (grown == NULL)
		return -1;
	tc->segs = grown;
	tc->segs[tc->nsegs++] = (struct tpl_seg){ph, off, len};
	return 0;
}

/* Split the body into segments once; report every bad placeholder. */
static void tpl_parse(struct conf_ctx *p, struct conf_node *v,
                      struct template_conf *tc)
{
	const char *s = tc->body;
	size_t pos = 0, n = strlen(s);
	int bad = 0;

	while (pos < n) {
		const char *open = strstr(s + pos, "{{"), *close;
		size_t k, a, b;
		int ph = -1;

		if (open == NULL) {
			if (seg_push(tc, PH_LITERAL, pos, n - pos) < 0)
				goto nomem;
			break;
		}
		k = (size_t)(open - s);
		if (seg_push(tc, PH_LITERAL, pos, k - pos) < 0)
			goto nomem;
		if ((close = strstr(open + 2, "}}")) == NULL) {
			tpl_error_at(p, v, k,
			             "'body': '{{' is not closed by '}}'");
			bad = 1;
			break;
		}
		/* "{{ text }}" reads as well as "{{text}}". */
		for (a = k + 2; s[a] == ' '; a++)
			;
		for (b = (size_t)(close - s); b > a && s[b - 1] == ' '; b--)
			;
		for (int i = 0; i < PH_COUNT; i++)
			if (strlen(ph_names[i]) == b - a &&
			    strncmp(ph_names[i], s + a, b - a) == 0)
				ph = i;
		if (ph < 0) {
			tpl_error_at(
			        p, v, k,
			        "'body': unknown placeholder '%.*s' "
			        "(known: {{text}}, {{link}}, {{id}}, "
			        "{{channel}}, {{campaign}}, "
			        "{{scheduled_at}}, {{media}}, "
			        "{{media_first}}, {{attempt}}, "
			        "{{webhook_id}})",
			        (int)((size_t)(close - s) + 2 - k > 64
			                      ? 64
			                      : (size_t)(close - s) + 2 - k),
			        open);
			bad = 1;
		} else if (seg_push(tc, ph, 0, 0) < 0)
			goto nomem;
		pos = (size_t)(close - s) + 2;
	}
	if (bad) {
		/* Leave no half-parsed template behind. */
		free(tc->segs);
		tc->segs = NULL;
		tc->nsegs = 0;
	}
	return;
nomem:
	conf_error(p, v, "out of memory");
}

/* The body: a template string. */
static void conf_body(struct conf_ctx *p, struct conf_node *v,
                      struct template_conf *tc)
{
	free(tc->segs);
	tc->segs = NULL;
	tc->nsegs = 0;
	if (conf_string(p, v, "body", &tc->body) < 0)
		return;
	tc->body_node = v;
	tpl_parse(p, v, tc);
}

/* The URL from a url_file: a secret, so checked but never quoted. */
static void template_url_file(struct conf_ctx *p, struct template_conf *tc,
                              const char *key, struct conf_node *v)
{
	unsigned char *url = NULL;
	size_t len = 0;

	if (conf_secret(p, v, key, 1, &url, &len) < 0)
		return;
	if (urlcheck((char *)url, URLCHECK_HOSTLESS) != URLCHECK_OK)
		conf_error(p, v,
		           "'url_file': the file does not hold an http or "
		           "https URL");
	else if ((tc->url = strdup((char *)url)) == NULL)
		conf_error(p, v, "out of memory");
	else
		tc->url_secret = 1;
	conf_secret_free(url, len);
}

static int template_configure(struct conf_ctx *p, struct channel *ch,
                              const char *key, struct conf_node *v)
{
	struct template_conf *tc = ch->pub_conf;
	const char *s = conf_scalar(v);

	if (tc == NULL) {
		if ((tc = ch->pub_conf = calloc(1, sizeof(*tc))) == NULL)
			return 0;
		snprintf(tc->method, sizeof(tc->method), "POST");
	}
	if (strcmp(key, "url") == 0) {
		tc->url_given++;
		if (tc->url_secret)
			return 1; /* both given: one error, in check */
		conf_url(p, v, key, &tc->url);
	} else if (strcmp(key, "url_file") == 0) {
		/* Both given: one error, in check. */
		if (tc->url_given++ == 0)
			template_url_file(p, tc, key, v);
	} else if (strcmp(key, "method") == 0) {
		if (s == NULL ||
		    (strcasecmp(s, "POST") != 0 && strcasecmp(s, "PUT") != 0 &&
		     strcasecmp(s, "PATCH") != 0))
			conf_error(p, v, "'method' must be POST, PUT or PATCH");
		else
			for (size_t i = 0; i <= strlen(s); i++)
				tc->method[i] =
				        (char)toupper((unsigned char)s[i]);
	} else if (strcmp(key, "headers") == 0 ||
	           strcmp(key, "header_files") == 0) {
		pub_headers_parse(p, v, strcmp(key, "header_files") == 0,
		                  &tc->headers);
	} else if (strcmp(key, "body") == 0) {
		tc->body_given = 1;
		conf_body(p, v, tc);
	} else if (strcmp(key, "content_type") == 0) {
		if (s && strcmp(s, "json") == 0)
			tc->form = 0;
		else if (s && strcmp(s, "form") == 0)
			tc->form = 1;
		else
			conf_error(p, v, "'content_type' must be json or form");
	} else if (strcmp(key, "idempotency_header") == 0) {
		if (s == NULL || !pub_header_name_ok(s) ||
		    pub_header_reserved(s))
			conf_error(p, v,
			           "'idempotency_header' must be a header "
			           "name, e.g. Idempotency-Key");
		else
			conf_string(p, v, key, &tc->idem_header);
	} else if (strcmp(key, "success_id") == 0 ||
	           strcmp(key, "success_url") == 0) {
		char **out = strcmp(key, "success_id") == 0 ? &tc->success_id
		                                            : &tc->success_url;

		if (s == NULL || !publisher_json_path_ok(s))
			conf_error(p, v,
			           "'%s' must be a dotted path into the JSON "
			           "reply, e.g. data.id",
			           key);
		else
			conf_string(p, v, key, out);
	} else
		return 0;
	return 1;
}

static void template_free(struct channel *ch)
{
	struct template_conf *tc = ch->pub_conf;

	if (tc == NULL)
		return;
	if (tc->url_secret)
		conf_secret_free((unsigned char *)tc->url,
		                 tc->url ? strlen(tc->url) : 0);
	else
		free(tc->url);
	pub_headers_free(&tc->headers);
	free(tc->body);
	free(tc->segs);
	free(tc->idem_header);
	free(tc->success_id);
	free(tc->success_url);
	free(tc);
	ch->pub_conf = NULL;
}

static int template_idempotent(const struct channel *ch)
{
	const struct template_conf *tc = ch->pub_conf;

	return tc->idem_header != NULL;
}

/* A growing output buffer; on allocation failure it stays failed. */
struct obuf {
	char *p;
	size_t len, cap;
	int failed;
};

static void ob_add(struct obuf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *grown;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((grown = realloc(b->p, cap)) == NULL) {
			b->failed = 1;
			return;
		}
		b->p = grown;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* A JSON value, compact; NULL counts as a failure. */
static void ob_json(struct obuf *b, json_t *v)
{
	char *s;

	if (v == NULL) {
		b->failed = 1;
		return;
	}
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(v);
	if (s == NULL) {
		b->failed = 1;
		return;
	}
	ob_add(b, s, strlen(s));
	free(s);
}

/*
 * application/x-www-form-urlencoded as browsers write it (the WHATWG URL
 * standard): letters, digits and *-._ as they are, space as '+', every
 * other byte as %XX.
 */
static void ob_form(struct obuf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		char enc[3];

		if (isalnum(c) || c == '*' || c == '-' || c == '.' || c == '_')
			ob_add(b, (const char *)&c, 1);
		else if (c == ' ')
			ob_add(b, "+", 1);
		else {
			enc[0] = '%';
			enc[1] = hex[c >> 4];
			enc[2] = hex[c & 15];
			ob_add(b, enc, 3);
		}
	}
}

static json_t *string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* One placeholder's value, escaped for the body's content type. */
static void render_ph(struct obuf *b, const struct template_conf *tc,
                      const struct delivery_view *v, int ph)
{
	const char *first = json_string_value(json_array_get(v->media, 0));
	char at[TIME_RFC3339_LEN], num[24];
	const char *str = NULL;
	size_t i;
	json_t *m;

	switch (ph) {
	case PH_TEXT:
		str = v->text;
		break;
	case PH_LINK:
		str = v->link;
		break;
	case PH_ID:
		str = v->post_id;
		break;
	case PH_CHANNEL:
		str = v->channel;
		break;
	case PH_CAMPAIGN:
		str = v->campaign;
		break;
	case PH_SCHEDULED_AT:
		str = time_format_rfc3339(v->scheduled_ms, at);
		break;
	case PH_MEDIA_FIRST:
		str = first;
		break;
	case PH_WEBHOOK_ID:
		str = v->webhook_id;
		break;
	case PH_ATTEMPT:
		/* A number in JSON, digits in a form: the same text. */
		snprintf(num, sizeof(num), "%u", v->attempt);
		ob_add(b, num, strlen(num));
		return;
	case PH_MEDIA:
		if (!tc->form) {
			ob_json(b, json_deep_copy(v->media));
			return;
		}
		json_array_foreach (v->media, i, m) {
			if (i > 0)
				ob_add(b, "%2C", 3);
			ob_form(b, json_string_value(m));
		}
		return;
	}
	if (tc->form)
		ob_form(b, str); /* a missing value is empty */
	else
		ob_json(b, string_or_null(str));
}

static void render_body(struct obuf *b, const struct template_conf *tc,
                        const struct delivery_view *v)
{
	for (size_t i = 0; i < tc->nsegs; i++) {
		const struct tpl_seg *sg = &tc->segs[i];

		if (sg->ph == PH_LITERAL)
			ob_add(b, tc->body + sg->off, sg->len);
		else
			render_ph(b, tc, v, sg->ph);
	}
	/* An empty template still makes a (empty) body, never NULL. */
	if (b->p == NULL)
		ob_add(b, "", 0);
}

static int template_build(const struct channel *ch,
                          const struct delivery_view *v, struct pub_step *st,
                          int64_t now_ms, struct http_request *req, char *err,
                          size_t errlen)
{
	const struct template_conf *tc = ch->pub_conf;
	struct obuf b = {0};
	int own_type = 0;

	render_body(&b, tc, v);
	if (b.failed) {
		free(b.p);
		snprintf(err, errlen, "cannot render the body template");
		return -1;
	}
	req->body = b.p;
	req->body_len = b.len;
	snprintf(req->method, sizeof(req->method), "%s", tc->method);
	if ((req->url = strdup(tc->url)) == NULL)
		goto nomem;
	own_type = pub_headers_find(&tc->headers, "Content-Type") != NULL;
	if (pub_headers_add(&tc->headers, &req->headers) < 0)
		goto nomem;
	/* The admin's Content-Type wins; the escaping stays ours. */
	if (!own_type &&
	    publisher_add_header(&req->headers, "Content-Type",
	                         tc->form ? "application/x-www-form-urlencoded"
	                                  : "application/json") < 0)
		goto nomem;
	if (tc->idem_header &&
	    publisher_add_header(&req->headers, tc->idem_header,
	                         v->webhook_id) < 0)
		goto nomem;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/*
 * A JSON body must still be JSON once filled in. The usual slip is quoting
 * a placeholder ("{{text}}"), whose value already comes quoted: catch it
 * now, with sample values, rather than as a 400 from the API later.
 */
static void check_json_body(struct conf_ctx *p, struct template_conf *tc)
{
	json_t *media = json_pack("[s]", "https://example.com/a.png");
	json_t *none = json_array(), *doc;
	struct delivery_view full = {
	        .delivery_id = "p1/c",
	        .post_id = "p1",
	        .channel = "c",
	        .text = "Hello \"world\"\n",
	        .link = "https://example.com/",
	        .campaign = "launch",
	        .media = media,
	        .webhook_id = "msg_x",
	        .scheduled_ms = 0,
	        .attempt = 1,
	};
	struct delivery_view bare = full;
	json_error_t jerr;
	struct obuf b;

	bare.link = bare.campaign = NULL;
	bare.media = none;
	for (int k = 0; k < 2 && media && none; k++) {
		memset(&b, 0, sizeof(b));
		render_body(&b, tc, k == 0 ? &full : &bare);
		if (b.failed) {
			free(b.p);
			break;
		}
		doc = json_loads(b.p ? b.p : "", JSON_DECODE_ANY, &jerr);
		free(b.p);
		if (doc == NULL) {
			conf_error(
			        p, tc->body_node,
			        "'body' is not valid JSON once filled in "
			        "(%s)%s",
			        jerr.text,
			        strstr(tc->body, "\"{{")
			                ? "; values come quoted and escaped: "
			                  "write {{text}}, not \"{{text}}\""
			                : "");
			break;
		}
		json_decref(doc);
	}
	json_decref(media);
	json_decref(none);
}

static int value_text(json_t *v, char *out, size_t cap)
{
	if (json_is_string(v))
		snprintf(out, cap, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(out, cap, "%" JSON_INTEGER_FORMAT,
		         json_integer_value(v));
	else
		return -1;
	return 0;
}

static void template_classify(const struct channel *ch,
                              const struct delivery_view *v,
                              struct pub_step *st,
                              const struct http_result *res, int64_t now_ms,
                              struct verdict *out)
{
	const struct template_conf *tc = ch->pub_conf;
	json_t *reply, *at;
	char missing[160] = "";

	publisher_classify_http(res, now_ms, out);
	/*
	 * curl's own messages can quote the host; with url_file the URL is
	 * the secret, so say what went wrong in curl's generic words.
	 */
	if (res->status == 0 && tc->url_secret)
		snprintf(out->reason, sizeof(out->reason), "%s",
		         curl_easy_strerror(res->code));
	if (out->kind == PUBLISH_OK && (tc->success_id || tc->success_url)) {
		reply = json_loadb(res->body ? res->body : "", res->body_len, 0,
		                   NULL);
		if (tc->success_id) {
			at = publisher_json_at(reply, tc->success_id);
			if (value_text(at, out->remote_id,
			               sizeof(out->remote_id)) < 0)
				snprintf(missing, sizeof(missing), "%.64s",
				         tc->success_id);
		}
		if (tc->success_url) {
			at = publisher_json_at(reply, tc->success_url);
			if (value_text(at, out->remote_url,
			               sizeof(out->remote_url)) < 0)
				snprintf(missing + strlen(missing),
				         sizeof(missing) - strlen(missing),
				         "%s%.64s", missing[0] ? ", " : "",
				         tc->success_url);
		}
		json_decref(reply);
		/* Published all the same: the post is out; say what lacked. */
		if (missing[0])
			snprintf(out->reason, sizeof(out->reason),
			         "HTTP %ld (the reply has no %s)", res->status,
			         missing);
		else if (out->remote_id[0])
			snprintf(out->reason, sizeof(out->reason),
			         "HTTP %ld, id %.100s", res->status,
			         out->remote_id);
	}
	if (tc->url_secret)
		publisher_redact_url(out->reason, tc->url);
	pub_headers_redact(&tc->headers, out->reason);
}

static void template_check(struct conf_ctx *p, struct channel *ch,
                           struct conf_node *node)
{
	struct template_conf *tc = ch->pub_conf;

	if (tc == NULL || !tc->url_given)
		conf_error(p, node, "channel '%s' has no 'url' (or 'url_file')",
		           ch->name);
	else if (tc->url_given > 1)
		conf_error(p, node,
		           "channel '%s': give 'url' or 'url_file', not both",
		           ch->name);
	if (tc == NULL || !tc->body_given)
		conf_error(p, node,
		           "channel '%s' has no 'body' (the request body "
		           "template)",
		           ch->name);
	if (tc == NULL)
		return;
	if (tc->idem_header && pub_headers_find(&tc->headers, tc->idem_header))
		conf_error(p, node,
		           "channel '%s': header '%s' is both in "
		           "headers and the idempotency_header",
		           ch->name, tc->idem_header);
	if (!tc->form && tc->nsegs > 0 && tc->body_node)
		check_json_body(p, tc);
	tc->body_node = NULL; /* the YAML document goes after the parse */
}

const struct publisher_ops pub_template = {
        .name = "template",
        .keys = "url, url_file, method, headers, header_files, body, "
                "content_type, idempotency_header, success_id, success_url, "
                "engagement",
        .configure = template_configure,
        .check = template_check,
        .free_conf = template_free,
        .idempotent = template_idempotent,
        .build_request = template_build,
        .classify = template_classify,
        .engage = &engage_get_ops,
};
