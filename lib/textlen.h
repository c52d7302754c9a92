/*
 * Text as the networks count it, for the length rules checked at plan
 * time and for the facets a Bluesky post carries. lib/text.h counts code
 * points and terminal columns; this adds what needs Unicode data, which
 * comes from utf8proc (Debian's libutf8proc), never from tables written
 * here.
 *
 * Every function takes n bytes that should be UTF-8; a byte that is not
 * (truncated, overlong, stray continuation) counts as one unit and breaks
 * whatever was around it, it never crashes or reads past n.
 */
#ifndef SMM_TEXTLEN_H
#define SMM_TEXTLEN_H

#include <stddef.h>

/*
 * Extended grapheme clusters (UAX #29), what a reader sees as one
 * character: a ZWJ family, a flag or a letter with its combining marks is
 * one. Bluesky's 300-grapheme rule counts these.
 */
size_t textlen_graphemes(const char *s, size_t n);

/*
 * X's weighted length in characters, as twitter-text v3 counts it
 * (config v3: scale 100, default weight 200; U+0000-U+10FF, U+2000-U+200D,
 * U+2010-U+201F and U+2032-U+2037 weigh 100; emoji parsing on): the text
 * is normalized to NFC, each code point weighs 1 or 2, an emoji sequence
 * (ZWJ sequence, flag, skin tone, keycap) weighs 2 in all, and each URL
 * counts 23 (transformedURLLength). URLs detected: http:// and https://
 * ones (scheme in any case) with a dotted host, after the start of the
 * text or a character that is not a letter, digit, @, $ or #, without the
 * trailing punctuation a sentence adds. Bare domains ("example.com") are
 * not detected: twitter-text needs its TLD list for those, and counts
 * them 23 where this counts their characters.
 */
size_t textlen_x_weighted(const char *s, size_t n);

/* A link or hashtag in a Bluesky post's text: app.bsky.richtext.facet. */
struct text_facet {
	enum { FACET_LINK, FACET_TAG } kind;
	size_t byte_start, byte_end; /* UTF-8 byte offsets, end exclusive */
	char *value; /* the URI, or the tag without '#'; owned */
};

/*
 * The links and hashtags of a post, detected as Bluesky's own client
 * does (@atproto/api rich-text detection): a link is http:// or https://
 * and what follows up to white space, after the start, white space or
 * "(", less one trailing . , ; : ! or ? and a ")" that opens nowhere in
 * it; a tag is "#" or U+FF03 after the start or white space, up to white
 * space or an invisible separator, holding something that is neither a
 * digit nor punctuation, its trailing punctuation stripped, at most 64
 * graphemes. Bare domains are not linked (that needs a TLD list).
 * *out (malloc'd, sorted by byte_start) and *count; 0, or -ENOMEM.
 */
int textlen_facets(const char *s, size_t n, struct text_facet **out,
                   size_t *count);
void textlen_facets_free(struct text_facet *, size_t count);

#endif
