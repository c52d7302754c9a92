#include <string.h>

#include "text.h"

/* Continuation byte. */
static int cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

uint32_t utf8_next(const char *str, size_t n, size_t *len)
{
	const unsigned char *s = (const unsigned char *)str;
	uint32_t cp;
	size_t want;

	*len = 1;
	if (s[0] < 0x80)
		return s[0];
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		want = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		want = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		want = 4;
		cp = s[0] & 0x07;
	} else {
		return UTF8_INVALID;
	}
	if (n < want)
		return UTF8_INVALID;
	for (size_t k = 1; k < want; k++) {
		if (!cont(s[k]))
			return UTF8_INVALID;
		cp = cp << 6 | (s[k] & 0x3f);
	}
	/* Overlong forms, surrogates and what lies past U+10FFFF. */
	if ((want == 3 && cp < 0x800) || (cp >= 0xd800 && cp <= 0xdfff) ||
	    (want == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return UTF8_INVALID;
	*len = want;
	return cp;
}

size_t json_escape_step(const char *s, size_t n, size_t *run,
                        char esc[JSON_ESCAPE_MAX])
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i = 0, len;
	const char *brief;

	/* Plain ASCII first, the common case, without decoding. */
	for (;;) {
		unsigned char c;

		while (i < n && (c = (unsigned char)s[i]) >= 0x20 && c < 0x80 &&
		       c != '"' && c != '\\')
			i++;
		if (i == n || (unsigned char)s[i] < 0x80 ||
		    utf8_next(s + i, n - i, &len) == UTF8_INVALID)
			break;
		i += len;
	}
	*run = i;
	if (i > 0)
		return i;
	/* As jansson writes them, so a body keeps its bytes across versions. */
	switch (s[0]) {
	case '"':
		brief = "\\\"";
		break;
	case '\\':
		brief = "\\\\";
		break;
	case '\b':
		brief = "\\b";
		break;
	case '\f':
		brief = "\\f";
		break;
	case '\n':
		brief = "\\n";
		break;
	case '\r':
		brief = "\\r";
		break;
	case '\t':
		brief = "\\t";
		break;
	default:
		brief = (unsigned char)s[0] >= 0x80 ? "\\ufffd" : NULL;
	}
	if (brief) {
		memcpy(esc, brief, strlen(brief) + 1);
		return 1;
	}
	memcpy(esc, "\\u00", 4);
	esc[4] = hex[(unsigned char)s[0] >> 4];
	esc[5] = hex[(unsigned char)s[0] & 0xf];
	esc[6] = '\0';
	return 1;
}

size_t text_chars(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += !cont((unsigned char)s[i]);
	return c;
}

int text_valid(const char *s, size_t n)
{
	size_t len;

	for (size_t i = 0; i < n; i += len)
		if (utf8_next(s + i, n - i, &len) == UTF8_INVALID)
			return 0;
	return 1;
}

int text_cp_cols(uint32_t cp)
{
	if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) ||
	    (cp >= 0xfe00 && cp <= 0xfe0f))
		return 0;
	if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
	    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
	    (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
	    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x2600 && cp <= 0x27bf) ||
	    (cp >= 0x1f300 && cp <= 0x1faff) ||
	    (cp >= 0x20000 && cp <= 0x3fffd))
		return 2;
	return 1;
}

size_t text_fit_cols(const char *s, size_t n, size_t max_cols, size_t *cols)
{
	size_t i = 0, w = 0, len;

	while (i < n) {
		uint32_t cp = utf8_next(s + i, n - i, &len);
		size_t cw = cp == UTF8_INVALID ? 1 : (size_t)text_cp_cols(cp);

		if (w + cw > max_cols)
			break;
		w += cw;
		i += len;
	}
	if (cols != NULL)
		*cols = w;
	return i;
}

size_t text_cut_chars(const char *s, size_t n, size_t max_chars)
{
	size_t i = 0, c = 0;

	for (; i < n; i++) {
		if (!cont((unsigned char)s[i]) && c++ == max_chars)
			break;
	}
	return i;
}
