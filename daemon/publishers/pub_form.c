/* Percent-encoding for forms and URL path segments (pub_form.h). */
#include <stdio.h>

#include "pub_form.h"

void pub_form_escape(FILE *f, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		    (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' ||
		    *c == '_' || *c == '~')
			fputc(*c, f);
		else {
			fputc('%', f);
			fputc(hex[*c >> 4], f);
			fputc(hex[*c & 15], f);
		}
	}
}

void pub_form_add(FILE *f, int *first, const char *key, const char *value)
{
	if (!*first)
		fputc('&', f);
	*first = 0;
	pub_form_escape(f, key);
	fputc('=', f);
	pub_form_escape(f, value);
}
