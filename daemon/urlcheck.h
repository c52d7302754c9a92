/*
 * One rule for the http(s) URLs smmd takes from people: a calendar's
 * links and media, the config's endpoints, smmctl add --link and --media.
 * curl parses the URL, as it will when the request is made.
 */
#ifndef SMMD_URLCHECK_H
#define SMMD_URLCHECK_H

/*
 * Must start with "http://" or "https://" as written, in lower case: how
 * a link or media URL is told from a media file name.
 */
#define URLCHECK_PREFIX 0x1
/* May lack a host: a template's url_file, which never had to name one. */
#define URLCHECK_HOSTLESS 0x2

enum urlcheck_result {
	URLCHECK_OK = 0,
	URLCHECK_NOMEM,  /* curl could not allocate its parser */
	URLCHECK_SYNTAX, /* not a URL curl can parse */
	URLCHECK_SCHEME, /* not http or https */
	URLCHECK_NO_HOST,
};

/* Whether url is an http or https URL under flags (URLCHECK_*). */
enum urlcheck_result urlcheck(const char *url, unsigned flags);

#endif
