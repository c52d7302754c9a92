/*
 * OAuth 2.0 pieces shared by the drivers whose networks hand out expiring
 * tokens (RFC 6749): form encoding, client authentication, the token
 * answer. See pub_oauth.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "config.h"
#include "http.h"
#include "pub_oauth.h"

/* Append sep (if any), then key=value, percent-encoded, to *s. */
static int append_pair(char **s, char sep, const char *key, const char *value)
{
	char *k = curl_easy_escape(NULL, key, 0);
	char *v = curl_easy_escape(NULL, value ? value : "", 0);
	size_t old = *s ? strlen(*s) : 0, n;
	char *grown = NULL;
	int ret = -1;

	if (k == NULL || v == NULL)
		goto out;
	n = old + 1 + strlen(k) + 1 + strlen(v) + 1;
	if ((grown = realloc(*s, n)) == NULL)
		goto out;
	if (sep)
		snprintf(grown + old, n - old, "%c%s=%s", sep, k, v);
	else
		snprintf(grown + old, n - old, "%s=%s", k, v);
	*s = grown;
	ret = 0;
out:
	curl_free(k);
	curl_free(v);
	return ret;
}

int pub_form_add(char **s, const char *key, const char *value)
{
	return append_pair(s, (*s && **s) ? '&' : 0, key, value);
}

int pub_query_add(char **url, const char *key, const char *value)
{
	return append_pair(url, strchr(*url, '?') ? '&' : '?', key, value);
}

int pub_oauth_basic(struct curl_slist **h, const char *id, const char *secret)
{
	char *plain = NULL, line[1024];
	unsigned char b64[700];
	int n, r;

	if ((n = asprintf(&plain, "%s:%s", id, secret)) < 0)
		return -1;
	/* 4 output bytes per 3 input bytes, plus the NUL. */
	if ((size_t)n > (sizeof(b64) - 1) / 4 * 3) {
		explicit_bzero(plain, (size_t)n);
		free(plain);
		return -1;
	}
	EVP_EncodeBlock(b64, (unsigned char *)plain, n);
	explicit_bzero(plain, (size_t)n);
	free(plain);
	snprintf(line, sizeof(line), "Basic %s", (char *)b64);
	r = publisher_add_header(h, "Authorization", line);
	explicit_bzero(line, sizeof(line));
	explicit_bzero(b64, sizeof(b64));
	return r;
}

int pub_oauth_bearer(struct curl_slist **h, const char *token)
{
	char line[2100];
	int r;

	if ((size_t)snprintf(line, sizeof(line), "Bearer %s", token) >=
	    sizeof(line))
		return -1;
	r = publisher_add_header(h, "Authorization", line);
	explicit_bzero(line, sizeof(line));
	return r;
}

void pub_oauth_wipe(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* A number of seconds from now as a time; -1 if v is not one. */
static int64_t expiry(json_t *v, int64_t now_ms)
{
	json_int_t s;

	if (json_is_string(v)) /* some servers quote it */
		s = strtoll(json_string_value(v), NULL, 10);
	else if (json_is_integer(v))
		s = json_integer_value(v);
	else
		return -1;
	/* Ten years: anything longer is nonsense, not a lifetime. */
	if (s <= 0 || s > 10LL * 366 * 86400)
		return -1;
	return now_ms + (int64_t)s * 1000;
}

/* Replace *slot with a copy of the string v. 0, or -1 (out of memory). */
static int take_string(char **slot, json_t *v)
{
	char *copy = strdup(json_string_value(v));

	if (copy == NULL)
		return -1;
	pub_oauth_wipe(*slot);
	*slot = copy;
	return 0;
}

int pub_oauth_token_parse(const struct http_result *res, int64_t now_ms,
                          struct auth_tokens *out, char *err, size_t errlen)
{
	json_t *o =
	        json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
	json_t *access = json_object_get(o, "access_token");
	json_t *refresh = json_object_get(o, "refresh_token");
	int ret = -1;

	if (!json_is_string(access) || json_string_length(access) == 0 ||
	    json_string_length(access) > 2048) {
		snprintf(err, errlen,
		         "HTTP %ld: the answer has no access_token",
		         res->status);
		goto out;
	}
	if (take_string(&out->access, access) < 0 ||
	    (json_is_string(refresh) && json_string_length(refresh) > 0 &&
	     json_string_length(refresh) <= 2048 &&
	     take_string(&out->refresh, refresh) < 0)) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	out->access_expires_ms =
	        expiry(json_object_get(o, "expires_in"), now_ms);
	if (json_object_get(o, "refresh_token_expires_in"))
		out->refresh_expires_ms = expiry(
		        json_object_get(o, "refresh_token_expires_in"), now_ms);
	ret = 0;
out:
	json_decref(o);
	return ret;
}

int pub_oauth_token_file(struct conf_ctx *p, struct conf_node *v,
                         const char *key, unsigned char **out, size_t *len)
{
	if (conf_secret(p, v, key, 1, out, len) < 0)
		return -1;
	if (strpbrk((char *)*out, "\r\n") != NULL || *len == 0 || *len > 2048) {
		/* Name the file, never its content. */
		conf_error(p, v,
		           "'%s': the token must be one line of 1 to 2048 "
		           "bytes",
		           key);
		conf_secret_free(*out, *len);
		*out = NULL;
		*len = 0;
		return -1;
	}
	return 0;
}

void pub_oauth_redact(char *s, const struct auth_tokens *tok,
                      const unsigned char *file_token,
                      const unsigned char *client_secret)
{
	if (tok) {
		publisher_redact(s, tok->access);
		publisher_redact(s, tok->refresh);
	}
	publisher_redact(s, (const char *)file_token);
	publisher_redact(s, (const char *)client_secret);
}
