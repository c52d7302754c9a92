/*
 * LinkedIn's engagement (Marketing API 202607):
 *   GET /rest/socialActions/{post URN, encoded} → likesSummary.totalLikes
 *   and commentsSummary.aggregatedTotalComments (comments and replies):
 *   https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/network-update-social-actions
 * It gives neither reshares, quotes nor impressions: those stay -1.
 * (organizationalEntityShareStatistics has shares and impressions, but
 * for organizations only and with the r_organization_social read of the
 * page's statistics; one endpoint for both kinds of author is simpler.)
 *
 * The audience of an organization: GET /rest/networkSizes/{org URN,
 * encoded}?edgeType=COMPANY_FOLLOWED_BY_MEMBER → firstDegreeSize:
 *   https://learn.microsoft.com/en-us/linkedin/marketing/community-management/organizations/organization-network-size
 * A member's followers have no such simple read: not offered.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "pub_form.h"
#include "pub_linkedin.h"

static int linkedin_readable(const struct channel *ch)
{
	return ch->pub_conf != NULL;
}

/* GET api_url + path + the encoded URN + tail, with the API headers. */
static int get_request(const struct channel *ch, const char *path,
                       const char *urn, const char *tail,
                       struct http_request *req, char *err, size_t errlen)
{
	const struct linkedin_conf *lc = ch->pub_conf;
	size_t len = 0;
	FILE *f = open_memstream(&req->url, &len);
	int r;

	if (f == NULL)
		goto nomem;
	fprintf(f, "%s%s", lc->api_url, path);
	pub_form_escape(f, urn);
	fputs(tail, f);
	if (fclose(f) != 0)
		goto nomem;
	snprintf(req->method, sizeof(req->method), "GET");
	if ((r = linkedin_add_headers(ch, &req->headers)) < 0) {
		snprintf(err, errlen, "%s",
		         r == -EACCES ? "no access token (token_file or "
		                        "smmctl auth)"
		                      : "out of memory");
		return -1;
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

static int read_request(const struct channel *ch, const struct engage_item *it,
                        size_t n, struct http_request *req, char *err,
                        size_t errlen)
{
	(void)n;
	if (it[0].remote_id == NULL ||
	    strncmp(it[0].remote_id, "urn:li:", 7) != 0) {
		snprintf(err, errlen, "post '%s' has no LinkedIn URN",
		         it[0].post_id);
		return -1;
	}
	return get_request(ch, "/rest/socialActions/", it[0].remote_id, "", req,
	                   err, errlen);
}

static int64_t count(json_t *o, const char *obj, const char *key)
{
	json_t *v = json_object_get(json_object_get(o, obj), key);

	return json_is_integer(v) && json_integer_value(v) >= 0
	               ? json_integer_value(v)
	               : -1;
}

static int read_parse(const struct channel *ch, const struct http_result *res,
                      struct engage_item *it, size_t n, char *err,
                      size_t errlen)
{
	json_t *doc =
	        json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);

	(void)ch;
	(void)n;
	if (!json_is_object(doc)) {
		json_decref(doc);
		snprintf(err, errlen,
		         "the answer is not a social actions "
		         "summary");
		return -1;
	}
	it[0].got = (struct engagement){
	        .likes = count(doc, "likesSummary", "totalLikes"),
	        .shares = -1,
	        .comments = count(doc, "commentsSummary",
	                          "aggregatedTotalComments"),
	        .quotes = -1,
	        .views = -1,
	};
	it[0].found = 1;
	json_decref(doc);
	return 0;
}

static int audience_request(const struct channel *ch, struct http_request *req,
                            char *err, size_t errlen)
{
	const struct linkedin_conf *lc = ch->pub_conf;

	if (!lc->organization) {
		snprintf(err, errlen,
		         "LinkedIn offers no follower count of a member: only "
		         "of an organization");
		return -1;
	}
	return get_request(ch, "/rest/networkSizes/", lc->author,
	                   "?edgeType=COMPANY_FOLLOWED_BY_MEMBER", req, err,
	                   errlen);
}

static int audience_parse(const struct channel *ch,
                          const struct http_result *res, int64_t *followers,
                          char *err, size_t errlen)
{
	json_t *doc =
	        json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
	json_t *v = json_object_get(doc, "firstDegreeSize");

	(void)ch;
	*followers = json_is_integer(v) && json_integer_value(v) >= 0
	                     ? json_integer_value(v)
	                     : -1;
	json_decref(doc);
	if (*followers < 0) {
		snprintf(err, errlen, "the answer has no firstDegreeSize");
		return -1;
	}
	return 0;
}

const struct engage_ops linkedin_engage = {
        .batch = 1,
        .needs_remote_id = publisher_always,
        .enabled = linkedin_readable,
        .request = read_request,
        .parse = read_parse,
        .audience_request = audience_request,
        .audience_parse = audience_parse,
};
