/* Form bodies and query strings, percent-encoded by curl. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "pub_form.h"

/* Append sep (if any), then key=value, percent-encoded, to *s. */
static int append_pair(char **s, char sep, const char *key, const char *value)
{
	char *k = curl_easy_escape(NULL, key, 0);
	char *v = curl_easy_escape(NULL, value ? value : "", 0);
	size_t old = *s ? strlen(*s) : 0, n;
	char *grown;
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
