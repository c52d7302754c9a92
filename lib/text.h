/*
 * Text as people count it. One definition, so that a calendar's
 * max_length check and a network driver's own limit agree on what a
 * character is.
 */
#ifndef SMM_TEXT_H
#define SMM_TEXT_H

#include <stddef.h>

/*
 * Characters (Unicode code points) in the first n bytes of UTF-8 text:
 * every byte but continuation bytes. A flag emoji counts two.
 */
size_t text_chars(const char *s, size_t n);

#endif
