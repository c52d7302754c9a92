/*
 * The plan check: subjects (the checked channels and campaigns), their
 * posts as they are fed, then cadence_check on each and the findings in
 * words. A post's id is copied once into one buffer of ids, whatever the
 * subjects it counts for: a check over a big calendar is 100,000s of them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cadence.h"
#include "calendar.h"
#include "caltime.h"
#include "config.h"
#include "hashtab.h"
#include "plancheck.h"
#include "timeparse.h"

struct plan_post {
	int64_t at_ms;
	size_t id; /* offset in ids */
	struct plan_origin origin;
	int lookup; /* no origin given: the book knows it */
};

struct subject {
	int campaign;     /* 0: a channel */
	const char *name; /* borrowed from the config or the book */
	struct cadence cadence;
	struct plan_origin decl;
	char *zone_name;
	const struct caltime_zone *zone;
	int64_t from_ms, to_ms;
	int64_t horizon_ms; /* under and gaps judged up to here */
	struct plan_post *v;
	size_t n, cap;
};

struct plancheck {
	const struct plan_book *book; /* NULL: none */
	unsigned weeks;
	int64_t now_ms, horizon_ms;
	struct subject *subjects;
	size_t nsubjects;
	struct hashtab channels, campaigns; /* positions in subjects */
	char *ids;
	size_t ids_len, ids_cap;
	size_t nposts;
};

/* What a finding is called in JSON, by enum cadence_kind. */
static const char *const kind_names[] = {"under", "over", "gap", "min_gap"};

static const char *subject_name(const void *ctx, uint32_t pos)
{
	return ((const struct plancheck *)ctx)->subjects[pos].name;
}

static int has_cadence(const struct cadence *c)
{
	return c->n > 0 || c->min_gap_ms > 0;
}

/*
 * Add a subject; its zone by name (NULL: the system's); recurring: it has
 * recurring calendar posts. 0 or -1.
 */
static int add_subject(struct plancheck *pc, int campaign, const char *name,
                       const struct cadence *c, struct plan_origin decl,
                       const char *zone, int recurring)
{
	struct subject *s = &pc->subjects[pc->nsubjects];

	s->horizon_ms = recurring ? pc->horizon_ms : INT64_MAX;
	s->campaign = campaign;
	s->name = name;
	s->cadence = *c;
	s->decl = decl;
	s->zone_name = zone ? strdup(zone) : caltime_system_zone_name();
	if (s->zone_name == NULL)
		return -1;
	if ((s->zone = caltime_zone(s->zone_name)) == NULL) {
		free(s->zone_name);
		if ((s->zone_name = strdup("UTC")) == NULL)
			return -1;
		s->zone = caltime_zone("UTC");
	}
	cadence_window(c, s->zone, pc->now_ms, pc->weeks, &s->from_ms,
	               &s->to_ms);
	return hashtab_add(campaign ? &pc->campaigns : &pc->channels,
	                   (uint32_t)pc->nsubjects++);
}

struct plancheck *plancheck_new(const struct config *cfg,
                                const struct plan_book *book, int64_t now_ms,
                                unsigned weeks, int64_t horizon_ms)
{
	size_t ncamp = book ? plan_book_ncampaigns(book) : 0;
	const char *cal_zone = book ? plan_book_zone(book) : NULL;
	struct plancheck *pc = calloc(1, sizeof(*pc));
	int r = 0;

	if (pc == NULL ||
	    (pc->subjects = calloc(cfg->nchannels + ncamp + 1,
	                           sizeof(*pc->subjects))) == NULL) {
		free(pc);
		return NULL;
	}
	pc->book = book;
	pc->weeks = weeks;
	pc->now_ms = now_ms;
	pc->horizon_ms = horizon_ms;
	hashtab_init(&pc->channels, subject_name, pc);
	hashtab_init(&pc->campaigns, subject_name, pc);
	for (size_t i = 0; i < cfg->nchannels && r == 0; i++) {
		const struct channel *ch = &cfg->channels[i];
		struct plan_origin decl = {cfg->path, ch->cadence_line,
		                           ch->cadence_column};

		if (has_cadence(&ch->cadence))
			r = add_subject(
			        pc, 0, ch->name, &ch->cadence, decl,
			        ch->timezone ? ch->timezone : cal_zone,
			        book && plan_book_recurring(book, ch->name));
	}
	for (size_t i = 0; i < ncamp && r == 0; i++) {
		const struct plan_campaign *c = plan_book_campaign(book, i);

		if (has_cadence(&c->cadence))
			r = add_subject(pc, 1, c->name, &c->cadence, c->decl,
			                cal_zone, c->recurring);
	}
	if (r < 0) {
		plancheck_free(pc);
		return NULL;
	}
	return pc;
}

void plancheck_free(struct plancheck *pc)
{
	if (pc == NULL)
		return;
	for (size_t i = 0; i < pc->nsubjects; i++) {
		free(pc->subjects[i].zone_name);
		free(pc->subjects[i].v);
	}
	hashtab_free(&pc->channels);
	hashtab_free(&pc->campaigns);
	free(pc->subjects);
	free(pc->ids);
	free(pc);
}

size_t plancheck_subjects(const struct plancheck *pc)
{
	return pc->nsubjects;
}

void plancheck_range(const struct plancheck *pc, int64_t *from_ms,
                     int64_t *to_ms)
{
	*from_ms = *to_ms = 0;
	for (size_t i = 0; i < pc->nsubjects; i++) {
		const struct subject *s = &pc->subjects[i];

		if (i == 0 || s->from_ms < *from_ms)
			*from_ms = s->from_ms;
		if (i == 0 || s->to_ms > *to_ms)
			*to_ms = s->to_ms;
	}
}

/* The offset of a copy of id in the buffer of ids, or -1. */
static int64_t keep_id(struct plancheck *pc, const char *id)
{
	size_t len = strlen(id) + 1;

	if (pc->ids_cap - pc->ids_len < len) {
		size_t cap = pc->ids_cap ? pc->ids_cap * 2 : 65536;
		char *ids;

		while (cap - pc->ids_len < len)
			cap *= 2;
		if ((ids = realloc(pc->ids, cap)) == NULL)
			return -1;
		pc->ids = ids;
		pc->ids_cap = cap;
	}
	memcpy(pc->ids + pc->ids_len, id, len);
	pc->ids_len += len;
	return (int64_t)(pc->ids_len - len);
}

static int push(struct plancheck *pc, struct subject *s,
                const struct plan_post *p)
{
	if (pc->nposts == PLANCHECK_MAX_POSTS)
		return -E2BIG;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct plan_post *v = realloc(s->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = *p;
	pc->nposts++;
	return 0;
}

int plancheck_add(struct plancheck *pc, const char *post_id,
                  const char *channel, const char *campaign, int64_t due_ms,
                  const struct plan_origin *origin, int calendar)
{
	struct subject *on[2] = {NULL, NULL};
	struct plan_post p = {.at_ms = due_ms};
	uint32_t pos;
	int64_t id;
	int r;

	if (hashtab_find(&pc->channels, channel, &pos))
		on[0] = &pc->subjects[pos];
	if (campaign && hashtab_find(&pc->campaigns, campaign, &pos))
		on[1] = &pc->subjects[pos];
	for (int i = 0; i < 2; i++)
		if (on[i] &&
		    (due_ms < on[i]->from_ms || due_ms >= on[i]->to_ms))
			on[i] = NULL;
	if (on[0] == NULL && on[1] == NULL)
		return 0;
	if ((id = keep_id(pc, post_id)) < 0)
		return -ENOMEM;
	p.id = (size_t)id;
	if (origin)
		p.origin = *origin;
	else
		p.lookup = calendar;
	for (int i = 0; i < 2; i++)
		if (on[i] && (r = push(pc, on[i], &p)) < 0)
			return r;
	return 0;
}

/* ---- findings in words ------------------------------------------------ */

/* "Tue 2026-12-01 10:00" in z. */
static char *local_time(const struct caltime_zone *z, int64_t ms, char *buf,
                        size_t len)
{
	static const char *const wd[] = {"Mon", "Tue", "Wed", "Thu",
	                                 "Fri", "Sat", "Sun"};
	struct caltime_civil c;
	int64_t days;

	caltime_utc_to_local(z, ms / 1000 - (ms % 1000 < 0), &c);
	days = caltime_days(c.year, c.mon, c.day);
	snprintf(buf, len, "%s %04d-%02d-%02d %02d:%02d",
	         wd[((days % 7) + 7 + 3) % 7], c.year, c.mon, c.day, c.hour,
	         c.min);
	return buf;
}

/* The period at start: "2026-11-30" (its first day) or "2026-12". */
static void period_name(const struct subject *s, int64_t start, char *buf,
                        size_t len)
{
	char t[40];

	local_time(s->zone, start, t, sizeof(t));
	if (s->cadence.unit == CADENCE_MONTH)
		snprintf(buf, len, "%.7s", t + 4);
	else
		snprintf(buf, len, "%.10s", t + 4);
}

/* "in the week of Mon 2026-11-30", "on Tue 2026-12-01", "in 2026-12". */
static void period_words(const struct subject *s, int64_t start, char *buf,
                         size_t len)
{
	char t[40];

	local_time(s->zone, start, t, sizeof(t));
	if (s->cadence.unit == CADENCE_WEEK)
		snprintf(buf, len, "in the week of %.14s", t);
	else if (s->cadence.unit == CADENCE_DAY)
		snprintf(buf, len, "on %.14s", t);
	else
		snprintf(buf, len, "in %.7s", t + 4);
}

struct run {
	struct plancheck *pc;
	const struct subject *s;
	json_t *findings;
	size_t more;
	int oom;
};

/* "3 posts", "1 post", "no posts". */
static void count_words(unsigned n, char *buf, size_t len)
{
	if (n == 0)
		snprintf(buf, len, "no posts");
	else
		snprintf(buf, len, "%u post%s", n, n == 1 ? "" : "s");
}

/* The message of f, in words. */
static void message(const struct subject *s, const struct cadence_finding *f,
                    char *buf, size_t len)
{
	char what[200], cad[32], when[64], at[40], prev[40], d1[32], d2[32];
	int w;

	w = snprintf(what, sizeof(what), "%s '%s'",
	             s->campaign ? "campaign" : "channel", s->name);
	if (w < 0 || (size_t)w >= sizeof(what))
		what[sizeof(what) - 1] = '\0';
	cadence_format(&s->cadence, cad, sizeof(cad));
	if (f->post)
		local_time(s->zone, f->post->at_ms, at, sizeof(at));
	if (f->prev)
		local_time(s->zone, f->prev->at_ms, prev, sizeof(prev));
	switch (f->kind) {
	case CADENCE_UNDER:
	case CADENCE_OVER:
		count_words(f->count, d1, sizeof(d1));
		period_words(s, f->period_start_ms, when, sizeof(when));
		if (f->kind == CADENCE_UNDER)
			snprintf(buf, len, "%s: %s %s, under its cadence of %s",
			         what, d1, when, cad);
		else
			snprintf(buf, len,
			         "%s: %s %s, over its cadence of %s from '%s' "
			         "(%s) on",
			         what, d1, when, cad, f->post->id, at);
		break;
	case CADENCE_GAP:
		snprintf(
		        buf, len,
		        "%s: %s without a post from '%s' (%s) to '%s' (%s), "
		        "more than twice the %s its cadence of %s plans between "
		        "posts",
		        what, duration_format(f->gap_ms, d1, sizeof(d1)),
		        f->prev->id, prev, f->post->id, at,
		        duration_format(cadence_interval_ms(&s->cadence), d2,
		                        sizeof(d2)),
		        cad);
		break;
	case CADENCE_MIN_GAP:
		snprintf(
		        buf, len,
		        "%s: '%s' (%s) comes %s after '%s', closer than its "
		        "min_gap of %s",
		        what, f->post->id, at,
		        duration_format(f->gap_ms, d1, sizeof(d1)), f->prev->id,
		        duration_format(s->cadence.min_gap_ms, d2, sizeof(d2)));
		break;
	}
}

/* Where the post behind cp is written: 1 with *out, or 0 (added by hand). */
static int origin_of(const struct plancheck *pc, const struct cadence_post *cp,
                     struct plan_origin *out)
{
	const struct plan_post *p = cp->origin;

	if (p->origin.file) {
		*out = p->origin;
		return 1;
	}
	return p->lookup && pc->book && plan_book_origin(pc->book, cp->id, out);
}

/* Where f is placed: the post causing it, else the one before, else decl. */
static struct plan_origin place(const struct plancheck *pc,
                                const struct subject *s,
                                const struct cadence_finding *f)
{
	struct plan_origin o;

	if (f->post && origin_of(pc, f->post, &o))
		return o;
	if (f->prev && origin_of(pc, f->prev, &o))
		return o;
	return s->decl;
}

static void on_finding(void *arg, const struct cadence_finding *f)
{
	struct run *r = arg;
	const struct subject *s = r->s;
	struct plan_origin o;
	char msg[1024], t[TIME_RFC3339_LEN], t2[TIME_RFC3339_LEN], p[16], d[32];
	json_t *j;

	/* Past the horizon the store lacks occurrences: no telling. */
	if ((f->kind == CADENCE_UNDER && f->period_end_ms > s->horizon_ms) ||
	    (f->kind == CADENCE_GAP && f->post->at_ms > s->horizon_ms))
		return;
	if (json_array_size(r->findings) == PLANCHECK_MAX_FINDINGS) {
		r->more++;
		return;
	}
	o = place(r->pc, s, f);
	message(s, f, msg, sizeof(msg));
	j = json_pack("{s:s, s:s, s:s?, s:I, s:I, s:s}", "kind",
	              kind_names[f->kind], s->campaign ? "campaign" : "channel",
	              s->name, "file", o.file, "line", (json_int_t)o.line,
	              "column", (json_int_t)o.column, "message", msg);
	if (j == NULL) {
		r->oom = 1;
		return;
	}
	if (f->kind == CADENCE_UNDER || f->kind == CADENCE_OVER) {
		period_name(s, f->period_start_ms, p, sizeof(p));
		json_object_set_new(j, "period", json_string(p));
		json_object_set_new(j, "from",
		                    json_string(time_format_rfc3339(
		                            f->period_start_ms, t)));
		json_object_set_new(
		        j, "to",
		        json_string(time_format_rfc3339(f->period_end_ms, t)));
		json_object_set_new(j, "count", json_integer(f->count));
		json_object_set_new(j, "target", json_integer(s->cadence.n));
	}
	if (f->post) {
		json_object_set_new(j, "post", json_string(f->post->id));
		json_object_set_new(
		        j, "at",
		        json_string(time_format_rfc3339(f->post->at_ms, t)));
	}
	if (f->prev) {
		json_object_set_new(j, "previous", json_string(f->prev->id));
		json_object_set_new(
		        j, "previous_at",
		        json_string(time_format_rfc3339(f->prev->at_ms, t2)));
		json_object_set_new(
		        j, "gap",
		        json_string(duration_format(f->gap_ms, d, sizeof(d))));
	}
	if (json_array_append_new(r->findings, j) < 0)
		r->oom = 1;
}

/* ---- the check -------------------------------------------------------- */

/* qsort_r's order of posts by id, then time; arg: the buffer of ids. */
static int by_id_then_time(const void *a, const void *b, void *ids)
{
	const struct plan_post *x = a, *y = b;
	int c = strcmp((char *)ids + x->id, (char *)ids + y->id);

	if (c != 0)
		return c;
	return x->at_ms < y->at_ms ? -1 : x->at_ms > y->at_ms;
}

/* A campaign counts posts: keep each post's earliest delivery. */
static void one_per_post(const struct plancheck *pc, struct subject *s)
{
	size_t k = 0;

	if (s->n < 2)
		return;
	qsort_r(s->v, s->n, sizeof(*s->v), by_id_then_time, pc->ids);
	for (size_t i = 0; i < s->n; i++)
		if (k == 0 ||
		    strcmp(pc->ids + s->v[k - 1].id, pc->ids + s->v[i].id) != 0)
			s->v[k++] = s->v[i];
	s->n = k;
}

static json_t *subject_json(const struct subject *s)
{
	char cad[32], gap[32], t[TIME_RFC3339_LEN], t2[TIME_RFC3339_LEN];
	json_t *j;

	if (s->cadence.n)
		cadence_format(&s->cadence, cad, sizeof(cad));
	if (s->cadence.min_gap_ms)
		duration_format(s->cadence.min_gap_ms, gap, sizeof(gap));
	j = json_pack("{s:s, s:s?, s:s?, s:s, s:s, s:s, s:I}",
	              s->campaign ? "campaign" : "channel", s->name, "cadence",
	              s->cadence.n ? cad : NULL, "min_gap",
	              s->cadence.min_gap_ms ? gap : NULL, "timezone",
	              s->zone_name, "from", time_format_rfc3339(s->from_ms, t),
	              "to", time_format_rfc3339(s->to_ms, t2), "posts",
	              (json_int_t)s->n);
	/* Judged short of its window: say from when. */
	if (j && s->horizon_ms < s->to_ms && s->cadence.n)
		json_object_set_new(
		        j, "horizon",
		        json_string(time_format_rfc3339(s->horizon_ms, t)));
	return j;
}

/* Check one subject, its findings appended to r's. 0 or -1. */
static int check_subject(struct run *r, struct subject *s)
{
	struct cadence_post *v;

	if (s->campaign)
		one_per_post(r->pc, s);
	if ((v = calloc(s->n + 1, sizeof(*v))) == NULL)
		return -1;
	for (size_t i = 0; i < s->n; i++) {
		v[i].at_ms = s->v[i].at_ms;
		v[i].id = r->pc->ids + s->v[i].id;
		v[i].origin = &s->v[i];
	}
	cadence_sort(v, s->n);
	r->s = s;
	cadence_check(&s->cadence, s->zone, s->from_ms, s->to_ms, v, s->n,
	              on_finding, r);
	free(v);
	return r->oom ? -1 : 0;
}

json_t *plancheck_run(struct plancheck *pc)
{
	struct run r = {.pc = pc, .findings = json_array()};
	json_t *subjects = json_array(), *out;

	if (r.findings == NULL || subjects == NULL)
		goto oom;
	for (size_t i = 0; i < pc->nsubjects; i++) {
		if (check_subject(&r, &pc->subjects[i]) < 0 ||
		    json_array_append_new(subjects,
		                          subject_json(&pc->subjects[i])) < 0)
			goto oom;
	}
	out = json_pack("{s:I, s:o, s:o, s:I}", "weeks", (json_int_t)pc->weeks,
	                "subjects", subjects, "findings", r.findings, "more",
	                (json_int_t)r.more);
	return out;
oom:
	json_decref(r.findings);
	json_decref(subjects);
	return NULL;
}

struct from_calendar {
	struct plancheck *pc;
	int err;
};

static void add_cal_delivery(void *arg, const struct cal_delivery *d)
{
	struct from_calendar *fc = arg;
	struct plan_origin o = {d->post->file, d->post->line, d->post->column};
	int r;

	if (fc->err == 0 &&
	    (r = plancheck_add(fc->pc, d->post_id, d->channel, d->campaign,
	                       d->due_ms, &o, 1)) < 0)
		fc->err = r;
}

json_t *plancheck_calendar(const struct config *cfg, const struct calendar *cal,
                           int64_t now_ms, unsigned weeks)
{
	struct plan_book *book = plan_book_new(cal, cfg);
	struct from_calendar fc = {NULL, 0};
	json_t *out = NULL;
	int64_t from, to;

	if (book && (fc.pc = plancheck_new(cfg, book, now_ms, weeks,
	                                   INT64_MAX)) != NULL) {
		plancheck_range(fc.pc, &from, &to);
		/* A bad RRULE was reported by calendar_load already. */
		if (plancheck_subjects(fc.pc) > 0)
			(void)calendar_expand(cal, from, to, add_cal_delivery,
			                      &fc);
		/* Past PLANCHECK_MAX_POSTS: what was counted is checked. */
		if (fc.err != -ENOMEM)
			out = plancheck_run(fc.pc);
	}
	plancheck_free(fc.pc);
	plan_book_free(book);
	return out;
}
