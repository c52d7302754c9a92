/*
 * Percent-encoding for the drivers whose APIs take
 * application/x-www-form-urlencoded bodies (VK, OAuth token endpoints) or
 * put an id into a URL path (LinkedIn's URNs).
 */
#ifndef SMMD_PUB_FORM_H
#define SMMD_PUB_FORM_H

#include <stdio.h>

/*
 * Write s to f with every byte but RFC 3986's unreserved ones
 * (A-Z a-z 0-9 - . _ ~) as %XX: right for a form value and for one URL
 * path segment alike.
 */
void pub_form_escape(FILE *f, const char *s);

/* Write "key=value" to f, preceded by '&' unless it is the first. */
void pub_form_add(FILE *f, int *first, const char *key, const char *value);

#endif
