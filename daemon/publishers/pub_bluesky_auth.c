/*
 * Bluesky's session (AT Protocol, com.atproto.server.*, lexicons as of
 * 2025: https://docs.bsky.app/docs/api/com-atproto-server-create-session
 * and .../com-atproto-server-refresh-session): smmd logs in by itself
 * with the account's app password (createSession {identifier, password}
 * gives accessJwt, refreshJwt, did), and renews the session with
 * refreshSession, the refreshJwt as Bearer token, which answers a new
 * pair (the refresh token rotates). Access tokens live about two hours;
 * the JWTs' exp claims say exactly when, and are read for it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "pub_bluesky.h"

/* When the server's JWT carries no exp: about what bsky.social gives. */
#define ACCESS_LIFE_MS (2 * 3600 * 1000LL)

/* createSession {identifier, password}: the app password, never logged. */
static int login_request(const struct channel *ch, struct http_request *req,
                         char *err, size_t errlen)
{
	const struct bluesky_conf *bc = ch->pub_conf;
	json_t *o = json_pack("{s:s, s:s}", "identifier", bc->handle,
	                      "password", (const char *)bc->password);

	if (o == NULL) {
		snprintf(err, errlen, "cannot encode the login as JSON");
		return -1;
	}
	req->body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (req->body == NULL ||
	    bluesky_xrpc_url(ch, "com.atproto.server.createSession", req) < 0 ||
	    publisher_add_header(&req->headers, "Content-Type",
	                         "application/json") < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	req->body_len = strlen(req->body);
	return 0;
}

/* refreshSession: no input, the refresh token as Bearer token. */
static int refresh_request(const struct channel *ch,
                           const struct auth_tokens *cur,
                           struct http_request *req, char *err, size_t errlen)
{
	if (cur == NULL || cur->refresh == NULL) {
		snprintf(err, errlen, "no refresh token");
		return -1;
	}
	snprintf(req->method, sizeof(req->method), "POST");
	/* An empty body makes it a POST; no Content-Type for no input. */
	if ((req->body = strdup("")) == NULL ||
	    bluesky_xrpc_url(ch, "com.atproto.server.refreshSession", req) <
	            0 ||
	    publisher_add_header(&req->headers, "Content-Type", NULL) < 0 ||
	    bluesky_add_bearer(&req->headers, cur->refresh) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	req->body_len = 0;
	return 0;
}

static int replace(char **field, const char *value)
{
	char *copy = strdup(value);

	if (copy == NULL)
		return -1;
	free(*field);
	*field = copy;
	return 0;
}

/* Both answers: {accessJwt, refreshJwt, handle, did, active?, status?}. */
static int token_parse(const struct channel *ch, const struct http_result *res,
                       int64_t now_ms, struct auth_tokens *out, char *err,
                       size_t errlen)
{
	json_t *o =
	        json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
	const char *access = json_string_value(json_object_get(o, "accessJwt"));
	const char *refresh =
	        json_string_value(json_object_get(o, "refreshJwt"));
	const char *did = json_string_value(json_object_get(o, "did"));
	const char *status = json_string_value(json_object_get(o, "status"));
	int ret = -1;

	if (access == NULL || refresh == NULL || did == NULL ||
	    strncmp(did, "did:", 4) != 0)
		snprintf(err, errlen,
		         "the session answer lacks accessJwt, refreshJwt or "
		         "did");
	else if (json_is_false(json_object_get(o, "active")))
		snprintf(err, errlen, "the account is not active (%.40s)",
		         status ? status : "no status given");
	else if ((out->extra == NULL && (out->extra = json_object()) == NULL) ||
	         replace(&out->access, access) < 0 ||
	         replace(&out->refresh, refresh) < 0 ||
	         json_object_set_new(out->extra, "did", json_string(did)) < 0)
		snprintf(err, errlen, "out of memory");
	else {
		out->access_expires_ms = bluesky_jwt_exp_ms(access);
		if (out->access_expires_ms < 0)
			out->access_expires_ms = now_ms + ACCESS_LIFE_MS;
		out->refresh_expires_ms = bluesky_jwt_exp_ms(refresh);
		ret = 0;
	}
	json_decref(o);
	return ret;
}

const struct auth_ops bluesky_auth = {
        .login_request = login_request,
        .refresh_request = refresh_request,
        .token_parse = token_parse,
        /* A quarter of the access token's two hours. */
        .refresh_ahead_ms = 30 * 60 * 1000,
};
