/*
 * Streaming YAML reader for the calendar (see calyaml.h). Memory is the
 * current event plus copies of anchored nodes, whatever the file's size.
 */
#include "calyaml.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/*
 * Aliases may replay this many events, plus four for every event parsed:
 * plenty for "channels: *all" on every post, and a bound on what a file of
 * nested aliases can expand to.
 */
#define REPLAY_BASE 100000
#define REPLAY_PER  4

struct rec_event {
	enum calyaml_kind kind;
	char *value;
	size_t len;
	unsigned line, column;
};

/* A node's events, recorded for its aliases. */
struct anchor {
	char *name;
	struct rec_event *ev;
	size_t n, cap;
	int depth; /* while recording: open sequences and mappings */
};

struct calyaml {
	yaml_parser_t parser;
	yaml_event_t ev;
	int have_ev;
	int in_doc, done, failed;
	char err[512];
	unsigned err_line, err_column;
	struct anchor **anchors; /* complete, for aliases */
	size_t nanchors;
	struct anchor **recs; /* being recorded, innermost last */
	size_t nrecs;
	const struct anchor *replay; /* an alias being replayed */
	size_t replay_pos;
	size_t parsed, replayed;
};

static void anchor_free(struct anchor *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n; i++)
		free(a->ev[i].value);
	free(a->ev);
	free(a->name);
	free(a);
}

struct calyaml *calyaml_new(FILE *fp)
{
	struct calyaml *y = calloc(1, sizeof(*y));

	if (y == NULL)
		return NULL;
	if (!yaml_parser_initialize(&y->parser)) {
		free(y);
		return NULL;
	}
	yaml_parser_set_input_file(&y->parser, fp);
	return y;
}

void calyaml_free(struct calyaml *y)
{
	if (y == NULL)
		return;
	if (y->have_ev)
		yaml_event_delete(&y->ev);
	yaml_parser_delete(&y->parser);
	for (size_t i = 0; i < y->nanchors; i++)
		anchor_free(y->anchors[i]);
	free(y->anchors);
	for (size_t i = 0; i < y->nrecs; i++)
		anchor_free(y->recs[i]);
	free(y->recs);
	free(y);
}

static int fail(struct calyaml *y, yaml_mark_t mark, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int fail(struct calyaml *y, yaml_mark_t mark, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(y->err, sizeof(y->err), fmt, ap);
	va_end(ap);
	/* libyaml marks are 0-based; people count from 1. */
	y->err_line = (unsigned)mark.line + 1;
	y->err_column = (unsigned)mark.column + 1;
	y->failed = 1;
	return -1;
}

const char *calyaml_error(const struct calyaml *y, unsigned *line,
                          unsigned *column)
{
	*line = y->err_line;
	*column = y->err_column;
	return y->err;
}

static int rec_append(struct anchor *a, const struct calyaml_event *ev)
{
	struct rec_event *r;

	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;

		if ((r = realloc(a->ev, cap * sizeof(*r))) == NULL)
			return -1;
		a->ev = r;
		a->cap = cap;
	}
	r = &a->ev[a->n];
	r->kind = ev->kind;
	r->len = ev->len;
	r->line = ev->line;
	r->column = ev->column;
	r->value = NULL;
	if (ev->kind == CALYAML_SCALAR) {
		if ((r->value = malloc(ev->len + 1)) == NULL)
			return -1;
		memcpy(r->value, ev->value, ev->len + 1);
	}
	a->n++;
	if (ev->kind == CALYAML_SEQUENCE || ev->kind == CALYAML_MAPPING)
		a->depth++;
	else if (ev->kind == CALYAML_END)
		a->depth--;
	return 0;
}

/* A recorded node is complete: aliases may now name it. */
static int anchor_finish(struct calyaml *y, struct anchor *a)
{
	struct anchor **grown;

	for (size_t i = 0; i < y->nanchors; i++)
		if (strcmp(y->anchors[i]->name, a->name) == 0) {
			/* YAML lets a later anchor of the same name win. */
			anchor_free(y->anchors[i]);
			y->anchors[i] = a;
			return 0;
		}
	grown = realloc(y->anchors, (y->nanchors + 1) * sizeof(*grown));
	if (grown == NULL) {
		anchor_free(a);
		return -1;
	}
	y->anchors = grown;
	y->anchors[y->nanchors++] = a;
	return 0;
}

/* Hand ev to every node being recorded; the innermost may complete. */
static int record(struct calyaml *y, const struct calyaml_event *ev,
                  yaml_mark_t mark)
{
	for (size_t i = 0; i < y->nrecs; i++)
		if (rec_append(y->recs[i], ev) < 0)
			return fail(y, mark, "out of memory");
	while (y->nrecs > 0 && y->recs[y->nrecs - 1]->depth == 0)
		if (anchor_finish(y, y->recs[--y->nrecs]) < 0)
			return fail(y, mark, "out of memory");
	return 0;
}

static int start_recording(struct calyaml *y, const char *name,
                           yaml_mark_t mark)
{
	struct anchor **grown, *a;

	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->name = strdup(name)) == NULL) {
		free(a);
		return fail(y, mark, "out of memory");
	}
	grown = realloc(y->recs, (y->nrecs + 1) * sizeof(*grown));
	if (grown == NULL) {
		anchor_free(a);
		return fail(y, mark, "out of memory");
	}
	y->recs = grown;
	y->recs[y->nrecs++] = a;
	return 0;
}

static int start_replay(struct calyaml *y, const char *name, yaml_mark_t mark)
{
	const struct anchor *a = NULL;

	for (size_t i = 0; i < y->nanchors && a == NULL; i++)
		if (strcmp(y->anchors[i]->name, name) == 0)
			a = y->anchors[i];
	if (a == NULL)
		return fail(y, mark, "unknown alias '*%s'", name);
	y->replayed += a->n;
	if (y->replayed > REPLAY_BASE + REPLAY_PER * y->parsed)
		return fail(y, mark,
		            "aliases expand to too much (more than %d nodes "
		            "plus %d per node written)",
		            REPLAY_BASE, REPLAY_PER);
	y->replay = a;
	y->replay_pos = 0;
	return 0;
}

static int next_replayed(struct calyaml *y, struct calyaml_event *ev)
{
	const struct rec_event *r = &y->replay->ev[y->replay_pos++];
	yaml_mark_t mark = {0, r->line - 1, r->column - 1};

	if (y->replay_pos == y->replay->n)
		y->replay = NULL;
	ev->kind = r->kind;
	ev->value = r->value;
	ev->len = r->len;
	ev->line = r->line;
	ev->column = r->column;
	return record(y, ev, mark) < 0 ? -1 : 1;
}

int calyaml_next(struct calyaml *y, struct calyaml_event *ev)
{
	const char *anchor;
	yaml_event_t *e = &y->ev;

	if (y->failed)
		return -1;
	if (y->replay)
		return next_replayed(y, ev);
	for (;;) {
		if (y->have_ev) {
			yaml_event_delete(e);
			y->have_ev = 0;
		}
		if (y->done)
			return 0;
		if (!yaml_parser_parse(&y->parser, e))
			return fail(y, y->parser.problem_mark, "%s%s%s",
			            y->parser.problem ? y->parser.problem
			                              : "invalid YAML",
			            y->parser.context ? " " : "",
			            y->parser.context ? y->parser.context : "");
		y->have_ev = 1;
		anchor = NULL;
		memset(ev, 0, sizeof(*ev));
		ev->line = (unsigned)e->start_mark.line + 1;
		ev->column = (unsigned)e->start_mark.column + 1;
		switch (e->type) {
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			continue;
		case YAML_DOCUMENT_START_EVENT:
			if (y->in_doc)
				return fail(y, e->start_mark,
				            "a calendar file holds one YAML "
				            "document, not several");
			y->in_doc = 1;
			continue;
		case YAML_STREAM_END_EVENT:
		case YAML_NO_EVENT:
			y->done = 1;
			continue;
		case YAML_ALIAS_EVENT:
			if (start_replay(y, (const char *)e->data.alias.anchor,
			                 e->start_mark) < 0)
				return -1;
			return next_replayed(y, ev);
		case YAML_SCALAR_EVENT:
			ev->kind = CALYAML_SCALAR;
			ev->value = (const char *)e->data.scalar.value;
			ev->len = e->data.scalar.length;
			anchor = (const char *)e->data.scalar.anchor;
			break;
		case YAML_SEQUENCE_START_EVENT:
			ev->kind = CALYAML_SEQUENCE;
			anchor = (const char *)e->data.sequence_start.anchor;
			break;
		case YAML_MAPPING_START_EVENT:
			ev->kind = CALYAML_MAPPING;
			anchor = (const char *)e->data.mapping_start.anchor;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			ev->kind = CALYAML_END;
			break;
		}
		y->parsed++;
		if (anchor && start_recording(y, anchor, e->start_mark) < 0)
			return -1;
		if (y->nrecs > 0 && record(y, ev, e->start_mark) < 0)
			return -1;
		return 1;
	}
}

int calyaml_skip(struct calyaml *y, const struct calyaml_event *ev)
{
	struct calyaml_event e;
	size_t depth;
	int r;

	if (ev->kind != CALYAML_SEQUENCE && ev->kind != CALYAML_MAPPING)
		return 0;
	for (depth = 1; depth > 0;) {
		if ((r = calyaml_next(y, &e)) <= 0)
			return -1;
		if (e.kind == CALYAML_SEQUENCE || e.kind == CALYAML_MAPPING)
			depth++;
		else if (e.kind == CALYAML_END)
			depth--;
	}
	return 0;
}
