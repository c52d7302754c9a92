/*
 * What the Bluesky driver's files share about XRPC, the AT Protocol's
 * HTTP API (https://atproto.com/specs/xrpc): the session from auth.c,
 * Bearer headers, the error body, query escaping, and reading a JWT's
 * expiry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "pub_bluesky.h"

int bluesky_session(const struct channel *ch, const char **access,
                    const char **did)
{
	const struct auth_tokens *t = ch->tokens;

	*access = t ? t->access : NULL;
	*did = t ? json_string_value(json_object_get(t->extra, "did")) : NULL;
	return *access && **access && *did && **did ? 0 : -1;
}

int bluesky_xrpc_url(const struct channel *ch, const char *method,
                     struct http_request *req)
{
	const struct bluesky_conf *bc = ch->pub_conf;

	if (asprintf(&req->url, "%s/xrpc/%s", bc->service, method) < 0) {
		req->url = NULL;
		return -1;
	}
	return 0;
}

int bluesky_add_bearer(struct curl_slist **h, const char *token)
{
	char *line = NULL;
	int r;

	if (asprintf(&line, "Bearer %s", token) < 0)
		return -1;
	r = publisher_add_header(h, "Authorization", line);
	free(line);
	return r;
}

void bluesky_xrpc_error(const struct channel *ch, const struct http_result *res,
                        char *name, size_t name_cap, char *message,
                        size_t msg_cap)
{
	json_t *o =
	        json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
	const char *e = json_string_value(json_object_get(o, "error"));
	const char *m = json_string_value(json_object_get(o, "message"));
	char *whole = strdup(m ? m : e ? "" : res->body ? res->body : "");

	snprintf(name, name_cap, "%s", e ? e : "");
	/* Redacted whole: a cut token would no longer match. */
	if (whole) {
		bluesky_redact(ch, whole);
		publisher_body_excerpt(whole, strlen(whole), message, msg_cap);
	} else
		message[0] = '\0';
	free(whole);
	json_decref(o);
}

void bluesky_redact(const struct channel *ch, char *s)
{
	const struct bluesky_conf *bc = ch->pub_conf;

	if (ch->tokens && ch->tokens->access)
		publisher_redact(s, ch->tokens->access);
	if (ch->tokens && ch->tokens->refresh)
		publisher_redact(s, ch->tokens->refresh);
	if (bc && bc->password_len > 0)
		publisher_redact(s, (const char *)bc->password);
}

static int b64url_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '-' ? 62 : c == '_' ? 63 : -1;
}

/* Decode n base64url characters (no padding) into out; its length or -1. */
static long b64url_decode(const char *s, size_t n, char *out, size_t cap)
{
	unsigned acc = 0, bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int v = b64url_value(s[i]);

		if (v < 0)
			return -1;
		acc = acc << 6 | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o + 1 >= cap)
				return -1;
			out[o++] = (char)(acc >> bits & 0xff);
		}
	}
	out[o] = '\0';
	return (long)o;
}

int64_t bluesky_jwt_exp_ms(const char *jwt)
{
	const char *a = jwt ? strchr(jwt, '.') : NULL, *b;
	char payload[4096];
	long n;
	json_t *o, *exp;
	int64_t ms = -1;

	if (a == NULL || (b = strchr(a + 1, '.')) == NULL)
		return -1;
	if ((n = b64url_decode(a + 1, (size_t)(b - a - 1), payload,
	                       sizeof(payload))) < 0)
		return -1;
	o = json_loadb(payload, (size_t)n, 0, NULL);
	exp = json_object_get(o, "exp");
	if (json_is_integer(exp) && json_integer_value(exp) > 0 &&
	    json_integer_value(exp) < INT64_MAX / 1000)
		ms = json_integer_value(exp) * 1000;
	json_decref(o);
	return ms;
}
