#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "text.h"

void csv_init(struct csv *c, const char *data, size_t len)
{
	*c = (struct csv){.p = data, .end = data + len, .line = 1, .column = 1};
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		c->p += 3;
}

void csv_free(struct csv *c)
{
	free(c->buf);
	c->buf = NULL;
	c->cap = 0;
}

static int fail(struct csv *c, struct csv_error *e, const char *msg)
{
	e->line = c->line;
	e->column = c->column;
	snprintf(e->msg, sizeof(e->msg), "%s", msg);
	return -1;
}

/* Room for n more bytes in the record's buffer. */
static int grow(struct csv *c, size_t used, size_t n)
{
	char *b;
	size_t cap;

	if (used + n <= c->cap)
		return 0;
	cap = c->cap ? c->cap * 2 : 1024;
	while (cap < used + n)
		cap *= 2;
	if ((b = realloc(c->buf, cap)) == NULL)
		return -1;
	c->buf = b;
	c->cap = cap;
	return 0;
}

/* Step over one byte, keeping line and column. */
static char take(struct csv *c)
{
	char ch = *c->p++;

	if (ch == '\n') {
		c->line++;
		c->column = 1;
	} else {
		c->column++;
	}
	return ch;
}

/* Copy one UTF-8 character of the field; -1 if it is not one. */
static int copy_char(struct csv *c, size_t *used, struct csv_error *e)
{
	size_t len = 1;

	if (*c->p == '\0')
		return fail(c, e, "a NUL byte");
	if ((unsigned char)*c->p >= 0x80 &&
	    utf8_next(c->p, (size_t)(c->end - c->p), &len) == UTF8_INVALID)
		return fail(c, e, "text that is not UTF-8");
	if (grow(c, *used, len + 1) < 0)
		return fail(c, e, "out of memory");
	for (size_t i = 0; i < len; i++)
		c->buf[(*used)++] = take(c);
	return 0;
}

/* A quoted field, from its opening quote to just past its closing one. */
static int quoted(struct csv *c, size_t *used, struct csv_error *e)
{
	size_t line = c->line, column = c->column;

	take(c);
	for (;;) {
		if (c->p == c->end) {
			e->line = line;
			e->column = column;
			snprintf(e->msg, sizeof(e->msg),
			         "a quoted field that never ends");
			return -1;
		}
		if (*c->p == '"') {
			take(c);
			if (c->p == c->end || *c->p != '"')
				return 0;
		} else if (*c->p == '\r' && c->end - c->p > 1 &&
		           c->p[1] == '\n') {
			take(c); /* a CRLF inside a field reads as LF */
			continue;
		}
		if (copy_char(c, used, e) < 0)
			return -1;
	}
}

/* One field; at its end p is at a comma, a newline, or the end. */
static int field(struct csv *c, size_t *used, struct csv_error *e)
{
	if (c->p < c->end && *c->p == '"') {
		if (quoted(c, used, e) < 0)
			return -1;
		if (c->p < c->end && *c->p != ',' && *c->p != '\n' &&
		    *c->p != '\r')
			return fail(
			        c, e,
			        "text after a quoted field's closing quote");
		return 0;
	}
	while (c->p < c->end && *c->p != ',' && *c->p != '\n' &&
	       !(*c->p == '\r' && c->end - c->p > 1 && c->p[1] == '\n')) {
		if (*c->p == '"')
			return fail(
			        c, e,
			        "a quote inside a field that does not start "
			        "with one (quote the whole field, and double "
			        "the quotes in it)");
		if (copy_char(c, used, e) < 0)
			return -1;
	}
	return 0;
}

int csv_next(struct csv *c, struct csv_record *r, struct csv_error *e)
{
	size_t used = 0, start[CSV_MAX_FIELDS];

	/* Blank lines between records are no records. */
	while (c->p < c->end && (*c->p == '\n' || *c->p == '\r'))
		take(c);
	if (c->p == c->end)
		return 0;
	r->line = c->line;
	r->n = 0;
	for (;;) {
		if (r->n == CSV_MAX_FIELDS)
			return fail(c, e, "more than 64 fields in a record");
		start[r->n] = used;
		if (field(c, &used, e) < 0)
			return -1;
		if (grow(c, used, 1) < 0)
			return fail(c, e, "out of memory");
		r->len[r->n] = used - start[r->n];
		c->buf[used++] = '\0';
		r->n++;
		if (c->p == c->end)
			break;
		if (take(c) != ',') {
			/* A record ends at LF or CRLF (or a lone CR). */
			if (c->p[-1] == '\r' && c->p < c->end && *c->p == '\n')
				take(c);
			break;
		}
	}
	for (size_t i = 0; i < r->n; i++)
		r->field[i] = c->buf + start[i];
	return 1;
}
