/*
 * Admin-set request headers (pub_headers.h): parsed once at config time,
 * so a bad name or a multi-line value is an error at its FILE:LINE:COLUMN.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pub_headers.h"
#include "publisher.h"

int pub_header_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 128 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                 "0123456789!#$%&'*+-.^_`|~") == n;
}

int pub_header_reserved(const char *s)
{
	static const char *const reserved[] = {
	        "Host",       "Content-Length", "Transfer-Encoding",
	        "Connection", "Expect",         "Upgrade",
	        "TE",         "Trailer",
	};

	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcasecmp(s, reserved[i]) == 0)
			return 1;
	return 0;
}

static int header_add(struct pub_headers *hs, const char *name,
                      unsigned char *value, size_t len, int secret)
{
	struct pub_header *grown;
	char *copy;

	if ((copy = strdup(name)) == NULL)
		return -1;
	grown = realloc(hs->v, (hs->n + 1) * sizeof(*grown));
	if (grown == NULL) {
		free(copy);
		return -1;
	}
	hs->v = grown;
	hs->v[hs->n++] = (struct pub_header){copy, value, len, secret};
	return 0;
}

struct header_parse {
	struct pub_headers *hs;
	int secret; /* header_files: the values are secret files */
};

static void header_pair(struct conf_ctx *p, struct conf_node *k,
                        struct conf_node *v, void *arg)
{
	struct header_parse *hp = arg;
	struct pub_headers *hs = hp->hs;
	const char *name = conf_scalar(k);
	unsigned char *value = NULL;
	size_t len = 0;
	char *plain = NULL;

	if (!pub_header_name_ok(name)) {
		conf_error(p, k, "'%s' is not a valid header name", name);
		return;
	}
	if (pub_header_reserved(name)) {
		conf_error(p, k, "header '%s' is set by smmd itself", name);
		return;
	}
	if (pub_headers_find(hs, name) != NULL) {
		conf_error(p, k, "header '%s' is given twice", name);
		return;
	}
	if (hp->secret) {
		if (conf_secret(p, v, name, 1, &value, &len) < 0)
			return;
		/* Name the file, never its content. */
		if (strpbrk((char *)value, "\r\n") != NULL) {
			conf_error(p, v,
			           "header '%s': the file must hold one line",
			           name);
			conf_secret_free(value, len);
			return;
		}
	} else {
		if (conf_string(p, v, name, &plain) < 0)
			return;
		if (strpbrk(plain, "\r\n") != NULL) {
			conf_error(p, v,
			           "header '%s': the value must be one line",
			           name);
			free(plain);
			return;
		}
		if (strstr(plain, "{{") != NULL) {
			conf_error(p, v,
			           "header '%s': values are sent as written, "
			           "without placeholders (put a token in "
			           "header_files)",
			           name);
			free(plain);
			return;
		}
		value = (unsigned char *)plain;
		len = strlen(plain);
	}
	if (header_add(hs, name, value, len, hp->secret) < 0) {
		conf_error(p, k, "out of memory");
		conf_secret_free(value, len);
	}
}

void pub_headers_parse(struct conf_ctx *p, struct conf_node *v, int secret,
                       struct pub_headers *hs)
{
	struct header_parse hp = {hs, secret};

	conf_for_each_pair(p, v, secret ? "'header_files'" : "'headers'",
	                   header_pair, &hp);
}

void pub_headers_free(struct pub_headers *hs)
{
	for (size_t i = 0; i < hs->n; i++) {
		free(hs->v[i].name);
		if (hs->v[i].secret)
			conf_secret_free(hs->v[i].value, hs->v[i].len);
		else
			free(hs->v[i].value);
	}
	free(hs->v);
	hs->v = NULL;
	hs->n = 0;
}

const struct pub_header *pub_headers_find(const struct pub_headers *hs,
                                          const char *name)
{
	for (size_t i = 0; i < hs->n; i++)
		if (strcasecmp(hs->v[i].name, name) == 0)
			return &hs->v[i];
	return NULL;
}

int pub_headers_add(const struct pub_headers *hs, struct curl_slist **list)
{
	for (size_t i = 0; i < hs->n; i++)
		if (publisher_add_header(list, hs->v[i].name,
		                         (const char *)hs->v[i].value) < 0)
			return -1;
	return 0;
}

void pub_headers_redact(const struct pub_headers *hs, char *s)
{
	for (size_t i = 0; i < hs->n; i++) {
		const char *value = (const char *)hs->v[i].value;
		const char *token;

		if (!hs->v[i].secret)
			continue;
		publisher_redact(s, value);
		/* "Bearer sk-...": a reply may quote the token alone. */
		if ((token = strrchr(value, ' ')) != NULL &&
		    strlen(token + 1) >= 8)
			publisher_redact(s, token + 1);
	}
}
