/*
 * Text as people count it. One definition, so that a calendar's
 * max_length check, a network driver's own limit, a log line and a
 * terminal table agree on what a character is.
 */
#ifndef SMM_TEXT_H
#define SMM_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* What utf8_next returns for bytes that are not valid UTF-8. */
#define UTF8_INVALID 0xffffffffu

/*
 * The code point at s (n > 0 bytes left) and its length in *len. A byte
 * that does not start a valid sequence (truncated, overlong, surrogate,
 * past U+10FFFF) gives UTF8_INVALID with *len = 1, so a caller can
 * replace it and go on.
 */
uint32_t utf8_next(const char *s, size_t n, size_t *len);

/* The longest escape json_escape_step writes, with its NUL. */
#define JSON_ESCAPE_MAX 7

/*
 * The n > 0 bytes at s as the inside of a JSON string, one step at a
 * time, so that any buffer (a log line that cuts, a request body that
 * grows) can take them. Returns the bytes of s the step used: *run of
 * them go as they are, or, when *run is 0, the escape in esc replaces
 * them. Quotes, backslashes and control characters are escaped as
 * jansson escapes them, and invalid UTF-8 becomes U+FFFD, so the result
 * is always valid JSON.
 */
size_t json_escape_step(const char *s, size_t n, size_t *run,
                        char esc[JSON_ESCAPE_MAX]);

/*
 * Characters (Unicode code points) in the first n bytes of UTF-8 text:
 * every byte but continuation bytes. A flag emoji counts two.
 */
size_t text_chars(const char *s, size_t n);

/* 1 if the n bytes at s are valid UTF-8. */
int text_valid(const char *s, size_t n);

/*
 * Columns a code point takes in a terminal: 0 for combining marks and
 * zero-width characters, 2 for East Asian wide characters and emoji, else
 * 1. An approximation of wcwidth that does not depend on the locale.
 */
int text_cp_cols(uint32_t cp);

/*
 * Bytes of the longest prefix of the n bytes at s that fits in max_cols
 * terminal columns, never cutting a UTF-8 sequence; its width goes to
 * *cols (when not NULL). An invalid byte counts one column.
 */
size_t text_fit_cols(const char *s, size_t n, size_t max_cols, size_t *cols);

/*
 * Bytes of the longest prefix of the n bytes at s that holds at most
 * max_chars characters, never cutting a UTF-8 sequence.
 */
size_t text_cut_chars(const char *s, size_t n, size_t max_chars);

#endif
