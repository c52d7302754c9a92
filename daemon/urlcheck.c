#include <curl/curl.h>
#include <string.h>

#include "urlcheck.h"

enum urlcheck_result urlcheck(const char *url, unsigned flags)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL;
	enum urlcheck_result r;

	if ((flags & URLCHECK_PREFIX) && strncmp(url, "http://", 7) != 0 &&
	    strncmp(url, "https://", 8) != 0)
		return URLCHECK_SCHEME;
	if ((u = curl_url()) == NULL)
		return URLCHECK_NOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		r = URLCHECK_SYNTAX;
	else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	         (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
		r = URLCHECK_SCHEME;
	else if (!(flags & URLCHECK_HOSTLESS) &&
	         curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		r = URLCHECK_NO_HOST;
	else
		r = URLCHECK_OK;
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return r;
}
