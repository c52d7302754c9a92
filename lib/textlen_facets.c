/*
 * Bluesky's rich-text facets: links and hashtags with UTF-8 byte offsets,
 * detected with the rules of Bluesky's own client (@atproto/api,
 * packages/api/src/rich-text/detection.ts and util.ts), so a post reads
 * the same as one written in the app.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#include "text.h"
#include "textlen.h"
#include "textlen_impl.h"

/* The lexicon's limits of app.bsky.richtext.facet#tag. */
#define TAG_MAX_GRAPHEMES 64
#define TAG_MAX_BYTES     640

int textlen_is_space(uint32_t cp)
{
	return (cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0xa0 ||
	       cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 ||
	       cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000 ||
	       cp == 0xfeff;
}

int textlen_is_punct(uint32_t cp)
{
	utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);

	return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO;
}

/* Bytes of "http://" or "https://" at s, in any case; else 0. */
static size_t scheme_len(const char *s, size_t n)
{
	if (n >= 8 && strncasecmp(s, "https://", 8) == 0)
		return 8;
	if (n >= 7 && strncasecmp(s, "http://", 7) == 0)
		return 7;
	return 0;
}

/* Bytes of the run at s up to white space or a bad byte. */
static size_t nonspace_run(const char *s, size_t n)
{
	size_t i = 0, len;

	while (i < n) {
		uint32_t cp = utf8_next(s + i, n - i, &len);

		/* NUL too: a value is a C string, and no text holds one. */
		if (cp == UTF8_INVALID || cp == 0 || textlen_is_space(cp))
			break;
		i += len;
	}
	return i;
}

static int opens_paren(const char *s, size_t n)
{
	return memchr(s, '(', n) != NULL;
}

/* twitter-text ends a URL path on these (validUrlPathEndingChars). */
static int x_url_ending(unsigned char c)
{
	return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || strchr("+-=_#/&", c) != NULL;
}

size_t textlen_url_len(const char *s, size_t n, int strict)
{
	size_t scheme = scheme_len(s, n), len;

	if (scheme == 0)
		return 0;
	len = scheme + nonspace_run(s + scheme, n - scheme);
	if (len == scheme)
		return 0;
	if (!strict) {
		/* One of .,;:!? then a ")" that closes nothing inside. */
		if (strchr(".,;:!?", s[len - 1]) != NULL)
			len--;
		if (s[len - 1] == ')' && !opens_paren(s, len))
			len--;
		return len > scheme ? len : 0;
	}
	while (len > scheme && !x_url_ending((unsigned char)s[len - 1])) {
		if (s[len - 1] == ')' && opens_paren(s, len - 1))
			break;
		len--;
	}
	return len > scheme ? len : 0;
}

int textlen_host_dotted(const char *s, size_t n)
{
	size_t start = scheme_len(s, n), end = start, dot = 0;

	while (end < n && strchr("/?#:", s[end]) == NULL)
		end++;
	for (size_t i = start; i < end; i++)
		if (s[i] == '.')
			dot = i;
	return dot > start && end - dot > 2;
}

/* The separators a tag stops at besides white space (util.ts). */
static int tag_stop(uint32_t cp)
{
	return cp == UTF8_INVALID || cp == 0 || textlen_is_space(cp) ||
	       cp == 0xad || cp == 0x2060 || (cp >= 0x200a && cp <= 0x200d) ||
	       cp == 0x20e2;
}

static int push(struct text_facet **v, size_t *count, size_t *cap, int kind,
                size_t start, size_t end, const char *value, size_t value_len)
{
	struct text_facet *f;

	if (*count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct text_facet *nv = realloc(*v, ncap * sizeof *nv);

		if (nv == NULL)
			return -ENOMEM;
		*v = nv;
		*cap = ncap;
	}
	f = &(*v)[*count];
	f->kind = kind;
	f->byte_start = start;
	f->byte_end = end;
	f->value = strndup(value, value_len);
	if (f->value == NULL)
		return -ENOMEM;
	(*count)++;
	return 0;
}

struct scan {
	const char *s;
	size_t n;
	struct text_facet *v;
	size_t count, cap;
};

/* Links: after the start, white space or "(", as detection.ts has it. */
static int scan_links(struct scan *sc)
{
	uint32_t prev = ' ';
	size_t i = 0, len;

	while (i < sc->n) {
		uint32_t cp = utf8_next(sc->s + i, sc->n - i, &len);
		size_t url = 0;

		if (textlen_is_space(prev) || prev == '(')
			url = textlen_url_len(sc->s + i, sc->n - i, 0);
		if (url > 0) {
			if (push(&sc->v, &sc->count, &sc->cap, FACET_LINK, i,
			         i + url, sc->s + i, url) < 0)
				return -ENOMEM;
			/* The regex goes on after the whole run. */
			i += nonspace_run(sc->s + i, sc->n - i);
			prev = 'x';
			continue;
		}
		prev = cp;
		i += len;
	}
	return 0;
}

/* Bytes of the tag body at s, trailing punctuation stripped; 0: none. */
static size_t tag_body(const char *s, size_t n, size_t *run)
{
	size_t i = 0, len, end = 0;
	int word = 0;

	while (i < n) {
		uint32_t cp = utf8_next(s + i, n - i, &len);

		if (tag_stop(cp))
			break;
		if (!(cp >= '0' && cp <= '9') && !textlen_is_punct(cp))
			word = 1;
		i += len;
		if (!textlen_is_punct(cp))
			end = i;
	}
	*run = i;
	return word ? end : 0;
}

static int overlaps_link(const struct scan *sc, size_t start, size_t end)
{
	for (size_t k = 0; k < sc->count; k++)
		if (sc->v[k].kind == FACET_LINK && start < sc->v[k].byte_end &&
		    sc->v[k].byte_start < end)
			return 1;
	return 0;
}

/* Tags: "#" or U+FF03 after the start or white space (util.ts). */
static int scan_tags(struct scan *sc)
{
	uint32_t prev = ' ';
	size_t i = 0, len, hlen, run, body;

	while (i < sc->n) {
		uint32_t cp = utf8_next(sc->s + i, sc->n - i, &len), next;

		if (!textlen_is_space(prev) || (cp != '#' && cp != 0xff03)) {
			prev = cp;
			i += len;
			continue;
		}
		hlen = len;
		next = i + hlen < sc->n ? utf8_next(sc->s + i + hlen,
		                                    sc->n - i - hlen, &len)
		                        : UTF8_INVALID;
		/* "#" with U+FE0F or a keycap is the keycap emoji. */
		body = next == 0xfe0f || next == 0x20e3
		               ? (run = 0)
		               : tag_body(sc->s + i + hlen, sc->n - i - hlen,
		                          &run);
		if (body > 0 && body <= TAG_MAX_BYTES &&
		    textlen_graphemes(sc->s + i + hlen, body) <=
		            TAG_MAX_GRAPHEMES &&
		    !overlaps_link(sc, i, i + hlen + body) &&
		    push(&sc->v, &sc->count, &sc->cap, FACET_TAG, i,
		         i + hlen + body, sc->s + i + hlen, body) < 0)
			return -ENOMEM;
		i += hlen + run;
		prev = '#';
	}
	return 0;
}

static int by_start(const void *a, const void *b)
{
	const struct text_facet *x = a, *y = b;

	return (x->byte_start > y->byte_start) -
	       (x->byte_start < y->byte_start);
}

int textlen_facets(const char *s, size_t n, struct text_facet **out,
                   size_t *count)
{
	struct scan sc = {.s = s, .n = n};

	*out = NULL;
	*count = 0;
	if (scan_links(&sc) < 0 || scan_tags(&sc) < 0) {
		textlen_facets_free(sc.v, sc.count);
		return -ENOMEM;
	}
	if (sc.count > 1)
		qsort(sc.v, sc.count, sizeof *sc.v, by_start);
	*out = sc.v;
	*count = sc.count;
	return 0;
}

void textlen_facets_free(struct text_facet *v, size_t count)
{
	if (v == NULL)
		return;
	for (size_t k = 0; k < count; k++)
		free(v[k].value);
	free(v);
}
