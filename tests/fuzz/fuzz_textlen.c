/*
 * The text measures and Bluesky's facet detector (lib/textlen.c): any
 * bytes as a post's text. They must end, never read past the buffer, and
 * keep their promises: at most one grapheme per byte and none for no
 * bytes, X's weighted length at most 23 per URL or 2 per byte, facets in
 * order, inside the text, not overlapping, starting on a UTF-8 boundary
 * with '#' (or U+FF03) or "http", and their values what they cover.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "textlen.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void check_facet(const char *buf, size_t size,
                        const struct text_facet *f, size_t prev_end)
{
	size_t len = f->byte_end - f->byte_start;

	if (f->byte_start < prev_end || f->byte_end <= f->byte_start ||
	    f->byte_end > size)
		abort();
	if (f->kind == FACET_LINK) {
		if (strlen(f->value) != len ||
		    memcmp(f->value, buf + f->byte_start, len) != 0 ||
		    strncasecmp(f->value, "http", 4) != 0)
			abort();
	} else {
		size_t hash = buf[f->byte_start] == '#' ? 1 : 3;

		if (len <= hash || strlen(f->value) != len - hash ||
		    memcmp(f->value, buf + f->byte_start + hash, len - hash) !=
		            0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of its own size: ASan catches a read past the end. */
	char *buf = malloc(size ? size : 1);
	struct text_facet *f;
	size_t n, g, w, end = 0;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	g = textlen_graphemes(buf, size);
	if (g > size || (size > 0 && g == 0))
		abort();
	w = textlen_x_weighted(buf, size);
	if (w > 23 * size + 2 * size)
		abort();
	if (textlen_facets(buf, size, &f, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			check_facet(buf, size, &f[i], end);
			end = f[i].byte_end;
		}
		textlen_facets_free(f, n);
	}
	free(buf);
	return 0;
}
