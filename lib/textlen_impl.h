/*
 * What lib/textlen.c and lib/textlen_facets.c share: cluster and URL
 * scanning over UTF-8. Not for other modules: use textlen.h.
 */
#ifndef SMM_TEXTLEN_IMPL_H
#define SMM_TEXTLEN_IMPL_H

#include <stddef.h>
#include <stdint.h>

/* End (exclusive) of the grapheme cluster that starts at s[i], i < n. */
size_t textlen_cluster_end(const char *s, size_t n, size_t i);

/* Extended_Pictographic, the property emoji sequences are made of. */
int textlen_is_pictographic(uint32_t cp);

/* White space as JavaScript's \s has it (the detectors are JS). */
int textlen_is_space(uint32_t cp);

/* Unicode general category P*. */
int textlen_is_punct(uint32_t cp);

/*
 * Bytes of the URL at s: "http://" or "https://" (any case) and what
 * follows up to white space or a bad byte, less the punctuation that
 * closes a sentence (see textlen.h for each detector's rule); 0 if s does
 * not start one. strict: twitter-text's ending rules, else Bluesky's.
 */
size_t textlen_url_len(const char *s, size_t n, int strict);

/* Whether the URL s[0..n)'s host has a dot and a last label of 2 or more. */
int textlen_host_dotted(const char *s, size_t n);

#endif
