/*
 * A streaming reader of one YAML document, over libyaml's event API: the
 * calendar is read node by node into its own structs, never built as a
 * libyaml document tree (which costs several times the file in memory for
 * a 100,000-post calendar). Aliases are replayed from a copy of their
 * anchored node, with a budget so that a "billion laughs" file fails
 * instead of eating memory. Marks are 1-based, as people count.
 */
#ifndef SMMD_CALYAML_H
#define SMMD_CALYAML_H

#include <stddef.h>
#include <stdio.h>

enum calyaml_kind {
	CALYAML_SCALAR,
	CALYAML_SEQUENCE, /* a sequence starts */
	CALYAML_MAPPING,  /* a mapping starts */
	CALYAML_END,      /* the innermost sequence or mapping ends */
};

struct calyaml_event {
	enum calyaml_kind kind;
	const char *value; /* scalar: valid until the next call */
	size_t len;        /* bytes of value (it may hold a NUL) */
	unsigned line, column;
};

struct calyaml;

/* Read from fp (not closed here). NULL when out of memory. */
struct calyaml *calyaml_new(FILE *fp);
void calyaml_free(struct calyaml *);

/*
 * The next event of the file's one document. Returns 1 with *ev, 0 when
 * the document is over (or the file holds none), -1 on a syntax error:
 * the reader then stays failed and calyaml_error tells where and why.
 */
int calyaml_next(struct calyaml *, struct calyaml_event *ev);

/* Consume the rest of the node whose first event was ev. 0 or -1. */
int calyaml_skip(struct calyaml *, const struct calyaml_event *ev);

/* The error of a failed reader: its message, and where (1-based). */
const char *calyaml_error(const struct calyaml *, unsigned *line,
                          unsigned *column);

#endif
