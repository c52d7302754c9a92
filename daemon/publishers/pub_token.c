/* A channel's access token, from auth.c or its token_file. */
#include <string.h>

#include "config.h"
#include "pub_token.h"

int pub_token_file(struct conf_ctx *p, struct conf_node *v, const char *key,
                   unsigned char **out, size_t *len)
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

const char *pub_token_current(const struct channel *ch,
                              const unsigned char *file_token)
{
	if (ch->tokens && ch->tokens->access && ch->tokens->access[0])
		return ch->tokens->access;
	if (file_token && file_token[0])
		return (const char *)file_token;
	return NULL;
}

void pub_token_redact(const struct channel *ch, char *s,
                      const unsigned char *file_token,
                      const unsigned char *client_secret)
{
	if (ch->tokens) {
		publisher_redact(s, ch->tokens->access);
		publisher_redact(s, ch->tokens->refresh);
	}
	publisher_redact(s, (const char *)file_token);
	publisher_redact(s, (const char *)client_secret);
}
