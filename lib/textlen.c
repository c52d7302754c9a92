#include "textlen.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "text.h"
#include "textlen_impl.h"

/* twitter-text's config v3. */
#define X_SCALE          100
#define X_DEFAULT_WEIGHT 200
#define X_URL_LENGTH     23

size_t textlen_graphemes(const char *s, size_t n)
{
	utf8proc_int32_t state = 0;
	uint32_t prev = UTF8_INVALID;
	size_t count = 0, len;

	for (size_t i = 0; i < n; i += len) {
		uint32_t cp = utf8_next(s + i, n - i, &len);

		/* A bad byte stands alone, like a control character. */
		if (cp == UTF8_INVALID) {
			count++;
			state = 0;
			prev = UTF8_INVALID;
			continue;
		}
		if (prev == UTF8_INVALID ||
		    utf8proc_grapheme_break_stateful((utf8proc_int32_t)prev,
		                                     (utf8proc_int32_t)cp,
		                                     &state))
			count++;
		prev = cp;
	}
	return count;
}

size_t textlen_cluster_end(const char *s, size_t n, size_t i)
{
	utf8proc_int32_t state = 0;
	size_t len;
	uint32_t prev = utf8_next(s + i, n - i, &len);

	if (prev == UTF8_INVALID)
		return i + 1;
	for (i += len; i < n; i += len) {
		uint32_t cp = utf8_next(s + i, n - i, &len);

		if (cp == UTF8_INVALID || utf8proc_grapheme_break_stateful(
		                                  (utf8proc_int32_t)prev,
		                                  (utf8proc_int32_t)cp, &state))
			break;
		prev = cp;
	}
	return i;
}

/* A code point's weight under twitter-text v3's ranges. */
static unsigned x_cp_weight(uint32_t cp)
{
	if (cp <= 4351 || (cp >= 8192 && cp <= 8205) ||
	    (cp >= 8208 && cp <= 8223) || (cp >= 8242 && cp <= 8247))
		return X_SCALE;
	return X_DEFAULT_WEIGHT;
}

int textlen_is_pictographic(uint32_t cp)
{
	int bc = utf8proc_get_property((utf8proc_int32_t)cp)->boundclass;

	return bc == UTF8PROC_BOUNDCLASS_EXTENDED_PICTOGRAPHIC ||
	       bc == UTF8PROC_BOUNDCLASS_E_BASE ||
	       bc == UTF8PROC_BOUNDCLASS_E_BASE_GAZ ||
	       bc == UTF8PROC_BOUNDCLASS_GLUE_AFTER_ZWJ;
}

/*
 * Whether the cluster s[0..n) is what twitter-text's emoji parser takes
 * as one emoji: a pictograph or regional indicator, or a keycap, either
 * alone when it weighs 2 anyway or with what follows it (variation
 * selector, skin tone, ZWJ and more pictographs). A lone (c) weighs 1, as
 * its code point does; "(c)" with U+FE0F is an emoji.
 */
static int x_is_emoji(const char *s, size_t n)
{
	size_t len, cps = 0;
	uint32_t first = UTF8_INVALID;
	int emoji = 0;

	for (size_t i = 0; i < n; i += len) {
		uint32_t cp = utf8_next(s + i, n - i, &len);

		if (cp == UTF8_INVALID)
			return 0;
		if (cps++ == 0)
			first = cp;
		if (textlen_is_pictographic(cp) ||
		    (cp >= 0x1f1e6 && cp <= 0x1f1ff))
			emoji = 1;
		if (cp == 0x20e3 && (first == '#' || first == '*' ||
		                     (first >= '0' && first <= '9')))
			emoji = 1;
	}
	return emoji && (cps > 1 || x_cp_weight(first) == X_DEFAULT_WEIGHT);
}

static int ascii_alnum(uint32_t cp)
{
	return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') ||
	       (cp >= 'A' && cp <= 'Z');
}

/* Bytes of a URL twitter-text would take at s[i], or 0. */
static size_t x_url_at(const char *s, size_t n, size_t i, uint32_t prev)
{
	size_t len;

	/* twitter-text's validUrlPrecedingChars, less the RTL marks. */
	if (ascii_alnum(prev) || prev == '@' || prev == '$' || prev == '#' ||
	    prev == 0xff20 || prev == 0xff03)
		return 0;
	len = textlen_url_len(s + i, n - i, 1);
	if (len == 0 || !textlen_host_dotted(s + i, len))
		return 0;
	return len;
}

/* The weight of the valid, NFC-normalized UTF-8 in s[0..n). */
static size_t x_run_weight(const char *s, size_t n)
{
	uint32_t prev = 0;
	size_t w = 0, i = 0, len;

	while (i < n) {
		size_t url = x_url_at(s, n, i, prev), end;

		if (url > 0) {
			w += X_URL_LENGTH * X_SCALE;
			i += url;
			prev = (unsigned char)s[i - 1];
			continue;
		}
		end = textlen_cluster_end(s, n, i);
		if (x_is_emoji(s + i, end - i)) {
			w += X_DEFAULT_WEIGHT;
		} else {
			for (size_t k = i; k < end; k += len)
				w += x_cp_weight(
				        utf8_next(s + k, end - k, &len));
		}
		prev = utf8_next(s + i, end - i, &len);
		i = end;
	}
	return w;
}

/* Bytes of the run of valid UTF-8 at s. */
static size_t valid_run(const char *s, size_t n)
{
	size_t i = 0, len;

	while (i < n && utf8_next(s + i, n - i, &len) != UTF8_INVALID)
		i += len;
	return i;
}

size_t textlen_x_weighted(const char *s, size_t n)
{
	size_t w = 0, i = 0;

	while (i < n) {
		size_t run = valid_run(s + i, n - i);
		utf8proc_uint8_t *nfc = NULL;
		utf8proc_ssize_t m;

		if (run == 0) {
			w += X_SCALE; /* a bad byte: one character */
			i++;
			continue;
		}
		/*
		 * twitter-text counts the NFC form. Without the memory for it
		 * the text as it is: never shorter, so the check stays safe.
		 */
		m = utf8proc_map((const utf8proc_uint8_t *)s + i,
		                 (utf8proc_ssize_t)run, &nfc,
		                 UTF8PROC_STABLE | UTF8PROC_COMPOSE);
		if (m >= 0 && nfc != NULL)
			w += x_run_weight((const char *)nfc, (size_t)m);
		else
			w += x_run_weight(s + i, run);
		free(nfc);
		i += run;
	}
	return (w + X_SCALE - 1) / X_SCALE;
}
