/*
 * application/x-www-form-urlencoded pairs, grown one at a time: the form
 * bodies and query strings of APIs that take them (the Threads API, the
 * token endpoints that pub_oauth.c does not cover).
 */
#ifndef SMMD_PUB_FORM_H
#define SMMD_PUB_FORM_H

/*
 * Append "key=value" to the form body *s (malloc'd, NULL to start), '&'
 * between pairs, both percent-encoded. 0, or -1 when out of memory (*s
 * is left intact).
 */
int pub_form_add(char **s, const char *key, const char *value);
/* The same after a URL: '?' before its first pair, '&' after. */
int pub_query_add(char **url, const char *key, const char *value);

#endif
