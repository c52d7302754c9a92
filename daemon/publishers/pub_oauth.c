#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "config.h"
#include "http.h"
#include "pkce.h"
#include "pub_oauth.h"

int oauth_configure(struct conf_ctx *p, struct oauth_client *c, const char *key,
                    struct conf_node *v)
{
	if (strcmp(key, "client_id") == 0)
		conf_string(p, v, key, &c->client_id);
	else if (strcmp(key, "client_secret_file") == 0) {
		if (conf_secret(p, v, key, 1, &c->client_secret,
		                &c->client_secret_len) == 0 &&
		    strpbrk((char *)c->client_secret, "\r\n") != NULL)
			conf_error(p, v,
			           "'client_secret_file': the secret must be "
			           "one line");
	} else if (strcmp(key, "scopes") == 0)
		conf_string(p, v, key, &c->scopes);
	else if (strcmp(key, "authorize_url") == 0)
		conf_url(p, v, key, &c->authorize_url);
	else if (strcmp(key, "token_url") == 0)
		conf_url(p, v, key, &c->token_url);
	else
		return 0;
	return 1;
}

void oauth_free(struct oauth_client *c)
{
	free(c->client_id);
	conf_secret_free(c->client_secret, c->client_secret_len);
	free(c->scopes);
	free(c->authorize_url);
	free(c->token_url);
	memset(c, 0, sizeof(*c));
}

/* "&name=escaped(value)" appended at out + *o. 0, or -1 when full. */
static int put_param(char *out, size_t cap, size_t *o, const char *name,
                     const char *value)
{
	int n;

	if (value == NULL)
		return 0;
	n = snprintf(out + *o, cap - *o, "%s%s=", *o ? "&" : "", name);
	if (n < 0 || (size_t)n >= cap - *o)
		return -1;
	*o += (size_t)n;
	if (oauth_form_escape(value, out + *o, cap - *o) < 0)
		return -1;
	*o += strlen(out + *o);
	return 0;
}

int oauth_authorize_url(const struct oauth_client *c, const char *base,
                        const char *default_scopes, const char *redirect_uri,
                        const char *challenge, const char *state, char *out,
                        size_t cap)
{
	const char *page = c->authorize_url ? c->authorize_url : base;
	char q[3072];
	size_t o = 0;
	int n;

	if (put_param(q, sizeof(q), &o, "response_type", "code") < 0 ||
	    put_param(q, sizeof(q), &o, "client_id", c->client_id) < 0 ||
	    put_param(q, sizeof(q), &o, "redirect_uri", redirect_uri) < 0 ||
	    put_param(q, sizeof(q), &o, "scope",
	              c->scopes ? c->scopes : default_scopes) < 0 ||
	    put_param(q, sizeof(q), &o, "state", state) < 0 ||
	    put_param(q, sizeof(q), &o, "code_challenge", challenge) < 0 ||
	    put_param(q, sizeof(q), &o, "code_challenge_method",
	              challenge ? "S256" : NULL) < 0)
		return -1;
	n = snprintf(out, cap, "%s%c%s", page, strchr(page, '?') ? '&' : '?',
	             q);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* "Basic base64(id:secret)" onto h, for clients that send it so. */
static int add_basic(const struct oauth_client *c, struct curl_slist **h)
{
	char pair[1024], b64[1400], line[1500];
	int n = snprintf(pair, sizeof(pair), "%s:%s", c->client_id,
	                 (const char *)c->client_secret);

	if (n < 0 || (size_t)n >= sizeof(pair))
		return -1;
	EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)pair, n);
	explicit_bzero(pair, sizeof(pair));
	snprintf(line, sizeof(line), "Basic %s", b64);
	explicit_bzero(b64, sizeof(b64));
	n = publisher_add_header(h, "Authorization", line);
	explicit_bzero(line, sizeof(line));
	return n;
}

/* The form's fields after grant_type's, then the request around it. */
static int token_request(const struct oauth_client *c, const char *url,
                         const char *fields[][2], size_t nfields,
                         struct http_request *req, char *err, size_t errlen)
{
	char body[8192];
	size_t o = 0;
	int secret_in_body = c->client_secret && !c->basic;

	for (size_t i = 0; i < nfields; i++)
		if (put_param(body, sizeof(body), &o, fields[i][0],
		              fields[i][1]) < 0)
			goto toolong;
	if (put_param(body, sizeof(body), &o, "client_id", c->client_id) < 0 ||
	    (secret_in_body &&
	     put_param(body, sizeof(body), &o, "client_secret",
	               (const char *)c->client_secret) < 0))
		goto toolong;
	snprintf(req->method, sizeof(req->method), "POST");
	if ((req->url = strdup(c->token_url ? c->token_url : url)) == NULL ||
	    (req->body = strdup(body)) == NULL ||
	    publisher_add_header(&req->headers, "Content-Type",
	                         "application/x-www-form-urlencoded") < 0 ||
	    publisher_add_header(&req->headers, "Accept", "application/json") <
	            0 ||
	    (c->client_secret && c->basic && add_basic(c, &req->headers) < 0)) {
		explicit_bzero(body, sizeof(body));
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	req->body_len = strlen(body);
	explicit_bzero(body, sizeof(body));
	return 0;
toolong:
	explicit_bzero(body, sizeof(body));
	snprintf(err, errlen, "the token request is too long");
	return -1;
}

int oauth_code_request(const struct oauth_client *c, const char *url,
                       const char *code, const char *verifier,
                       const char *redirect_uri, struct http_request *req,
                       char *err, size_t errlen)
{
	const char *f[][2] = {
	        {"grant_type", "authorization_code"},
	        {"code", code},
	        {"redirect_uri", redirect_uri},
	        {"code_verifier", verifier},
	};

	return token_request(c, url, f, sizeof(f) / sizeof(f[0]), req, err,
	                     errlen);
}

int oauth_refresh_request(const struct oauth_client *c, const char *url,
                          const char *refresh_token, struct http_request *req,
                          char *err, size_t errlen)
{
	const char *f[][2] = {
	        {"grant_type", "refresh_token"},
	        {"refresh_token", refresh_token},
	};

	if (refresh_token == NULL) {
		snprintf(err, errlen, "no refresh token: run smmctl auth");
		return -1;
	}
	return token_request(c, url, f, sizeof(f) / sizeof(f[0]), req, err,
	                     errlen);
}

/* A lifetime in seconds (number or numeric string) as a time; -1: none. */
static int64_t expiry(json_t *v, int64_t now_ms)
{
	json_int_t s = -1;

	if (json_is_integer(v))
		s = json_integer_value(v);
	else if (json_is_string(v))
		s = strtoll(json_string_value(v), NULL, 10);
	return s > 0 ? now_ms + (int64_t)s * 1000 : -1;
}

static int replace(char **dst, const char *s)
{
	char *copy = strdup(s);

	if (copy == NULL)
		return -1;
	if (*dst) {
		explicit_bzero(*dst, strlen(*dst));
		free(*dst);
	}
	*dst = copy;
	return 0;
}

int oauth_token_parse(const struct http_result *res, int64_t now_ms,
                      struct auth_tokens *out, char *err, size_t errlen)
{
	json_t *o =
	        json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
	const char *access =
	        json_string_value(json_object_get(o, "access_token"));
	const char *refresh =
	        json_string_value(json_object_get(o, "refresh_token"));
	int ret = 0;

	if (access == NULL || access[0] == '\0') {
		snprintf(err, errlen, "the answer has no access_token");
		ret = -1;
	} else if (replace(&out->access, access) < 0 ||
	           (refresh && replace(&out->refresh, refresh) < 0)) {
		snprintf(err, errlen, "out of memory");
		ret = -1;
	} else {
		out->access_expires_ms =
		        expiry(json_object_get(o, "expires_in"), now_ms);
		if (json_object_get(o, "refresh_token_expires_in"))
			out->refresh_expires_ms = expiry(
			        json_object_get(o, "refresh_token_expires_in"),
			        now_ms);
	}
	json_decref(o);
	return ret;
}

int oauth_bearer(const char *token, struct curl_slist **h)
{
	char line[4200];
	int r;

	if ((size_t)snprintf(line, sizeof(line), "Bearer %s", token) >=
	    sizeof(line))
		return -1;
	r = publisher_add_header(h, "Authorization", line);
	explicit_bzero(line, sizeof(line));
	return r;
}
