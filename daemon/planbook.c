/*
 * The plan check's book of the calendar. A post's entry is its id (in one
 * buffer of ids, NUL-separated, so 100,000 posts are one allocation, not
 * 100,000) and its place; a hash table finds it by id.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "config.h"
#include "hashtab.h"
#include "planbook.h"

struct book_post {
	size_t id;     /* offset in ids */
	uint32_t file; /* index in files */
	unsigned line, column;
};

struct plan_book {
	char *zone;
	char **files; /* the calendar's, copied */
	size_t nfiles;
	struct plan_campaign *campaigns; /* their names owned */
	size_t ncampaigns;
	struct book_post *posts;
	size_t nposts;
	char *ids;
	size_t ids_len;
	struct hashtab index; /* of posts, by id */
	unsigned refs;        /* plan_book_ref */
	char **recurring;     /* channels with a recurring post */
	size_t nrecurring;
};

static const char *book_post_id(const void *ctx, uint32_t pos)
{
	const struct plan_book *b = ctx;

	return b->ids + b->posts[pos].id;
}

static int has_cadence(const struct cadence *c)
{
	return c->n > 0 || c->min_gap_ms > 0;
}

/*
 * The channels and campaigns with a cadence, found by name: a calendar
 * asks about 100,000s of post-channel pairs, and config_channel is a walk.
 */
struct wanted {
	const struct config *cfg;
	const struct calendar *cal;
	struct hashtab channels;  /* positions in cfg->channels */
	struct hashtab campaigns; /* positions in cal->campaigns */
};

static const char *cfg_channel_name(const void *ctx, uint32_t pos)
{
	return ((const struct config *)ctx)->channels[pos].name;
}

static const char *cal_campaign_name(const void *ctx, uint32_t pos)
{
	return ((const struct calendar *)ctx)->campaigns[pos].name;
}

static int wanted_init(struct wanted *w, const struct calendar *cal,
                       const struct config *cfg)
{
	w->cfg = cfg;
	w->cal = cal;
	hashtab_init(&w->channels, cfg_channel_name, cfg);
	hashtab_init(&w->campaigns, cal_campaign_name, cal);
	for (size_t i = 0; i < cfg->nchannels; i++)
		if (has_cadence(&cfg->channels[i].cadence) &&
		    hashtab_add(&w->channels, (uint32_t)i) < 0)
			return -1;
	for (size_t i = 0; i < cal->ncampaigns; i++)
		if (has_cadence(&cal->campaigns[i].cadence) &&
		    !hashtab_find(&w->campaigns, cal->campaigns[i].name,
		                  NULL) &&
		    hashtab_add(&w->campaigns, (uint32_t)i) < 0)
			return -1;
	return 0;
}

static void wanted_free(struct wanted *w)
{
	hashtab_free(&w->channels);
	hashtab_free(&w->campaigns);
}

/* Whether a cadence applies to p: one of its channels', or its campaign's. */
static int checked(const struct wanted *w, const struct cal_post *p)
{
	for (size_t i = 0; i < p->nchannels; i++)
		if (hashtab_find(&w->channels, p->channels[i], NULL))
			return 1;
	return p->campaign && hashtab_find(&w->campaigns, p->campaign, NULL);
}

/*
 * The index of file in the calendar's files, looked for from `from` on:
 * posts come file by file, in the files' order.
 */
static uint32_t file_index(const struct calendar *cal, const char *file,
                           size_t from)
{
	for (size_t k = 0; k < cal->nfiles; k++) {
		size_t i = (from + k) % cal->nfiles;

		if (cal->files[i] == file || strcmp(cal->files[i], file) == 0)
			return (uint32_t)i;
	}
	return 0;
}

static int copy_files(struct plan_book *b, const struct calendar *cal)
{
	if ((b->files = calloc(cal->nfiles + 1, sizeof(char *))) == NULL)
		return -1;
	for (b->nfiles = 0; b->nfiles < cal->nfiles; b->nfiles++)
		if ((b->files[b->nfiles] = strdup(cal->files[b->nfiles])) ==
		    NULL)
			return -1;
	return 0;
}

static int copy_campaigns(struct plan_book *b, const struct calendar *cal)
{
	if ((b->campaigns = calloc(cal->ncampaigns + 1,
	                           sizeof(*b->campaigns))) == NULL)
		return -1;
	for (size_t i = 0; i < cal->ncampaigns; i++) {
		const struct cal_campaign *c = &cal->campaigns[i];
		struct plan_campaign *pc = &b->campaigns[b->ncampaigns];
		char *name;

		if (!has_cadence(&c->cadence) && !c->goals.set)
			continue;
		if ((name = strdup(c->name)) == NULL)
			return -1;
		pc->name = name;
		b->ncampaigns++;
		pc->goals = c->goals;
		if (!has_cadence(&c->cadence))
			continue;
		pc->cadence = c->cadence;
		pc->decl.file = b->files[file_index(cal, c->file, 0)];
		pc->decl.line = c->line;
		pc->decl.column = c->column;
	}
	return 0;
}

/* Note that p recurs on its channels with a cadence, and its campaign. */
static int note_recurring(struct plan_book *b, const struct wanted *w,
                          const struct cal_post *p)
{
	for (size_t i = 0; i < p->nchannels; i++) {
		const struct channel *ch;
		char **grown;
		uint32_t pos;

		if (!hashtab_find(&w->channels, p->channels[i], &pos))
			continue;
		ch = &w->cfg->channels[pos];
		if (plan_book_recurring(b, ch->name))
			continue;
		if ((grown = realloc(b->recurring,
		                     (b->nrecurring + 1) * sizeof(char *))) ==
		    NULL)
			return -1;
		b->recurring = grown;
		if ((b->recurring[b->nrecurring] = strdup(ch->name)) == NULL)
			return -1;
		b->nrecurring++;
	}
	for (size_t i = 0; p->campaign && i < b->ncampaigns; i++)
		if (strcmp(b->campaigns[i].name, p->campaign) == 0)
			b->campaigns[i].recurring = 1;
	return 0;
}

static int index_posts(struct plan_book *b, const struct wanted *w)
{
	const struct calendar *cal = w->cal;
	size_t n = 0, bytes = 0, f = 0;

	for (size_t i = 0; i < cal->nposts; i++)
		if (checked(w, &cal->posts[i])) {
			n++;
			bytes += strlen(cal->posts[i].id) + 1;
		}
	if ((b->posts = calloc(n + 1, sizeof(*b->posts))) == NULL ||
	    (b->ids = malloc(bytes + 1)) == NULL)
		return -1;
	for (size_t i = 0; i < cal->nposts; i++) {
		const struct cal_post *p = &cal->posts[i];
		struct book_post *bp = &b->posts[b->nposts];
		size_t len = strlen(p->id) + 1;

		if (!checked(w, p))
			continue;
		if (cal->files[f] != p->file)
			f = file_index(cal, p->file, f);
		memcpy(b->ids + b->ids_len, p->id, len);
		bp->id = b->ids_len;
		b->ids_len += len;
		bp->file = (uint32_t)f;
		bp->line = p->line;
		bp->column = p->column;
		if (hashtab_add(&b->index, (uint32_t)b->nposts++) < 0 ||
		    (p->rrule && note_recurring(b, w, p) < 0))
			return -1;
	}
	return 0;
}

struct plan_book *plan_book_new(const struct calendar *cal,
                                const struct config *cfg)
{
	struct plan_book *b = calloc(1, sizeof(*b));
	struct wanted w;
	int r;

	if (b == NULL)
		return NULL;
	b->refs = 1;
	hashtab_init(&b->index, book_post_id, b);
	r = wanted_init(&w, cal, cfg);
	if (r < 0 ||
	    (b->zone = strdup(cal->timezone ? cal->timezone : "UTC")) == NULL ||
	    copy_files(b, cal) < 0 || copy_campaigns(b, cal) < 0 ||
	    index_posts(b, &w) < 0) {
		wanted_free(&w);
		plan_book_free(b);
		return NULL;
	}
	wanted_free(&w);
	return b;
}

struct plan_book *plan_book_ref(struct plan_book *b)
{
	if (b)
		b->refs++;
	return b;
}

void plan_book_free(struct plan_book *b)
{
	if (b == NULL || --b->refs > 0)
		return;
	hashtab_free(&b->index);
	for (size_t i = 0; i < b->nfiles; i++)
		free(b->files[i]);
	for (size_t i = 0; i < b->ncampaigns; i++)
		free((char *)b->campaigns[i].name);
	for (size_t i = 0; i < b->nrecurring; i++)
		free(b->recurring[i]);
	free(b->recurring);
	free(b->files);
	free(b->campaigns);
	free(b->posts);
	free(b->ids);
	free(b->zone);
	free(b);
}

const char *plan_book_zone(const struct plan_book *b)
{
	return b->zone;
}

size_t plan_book_ncampaigns(const struct plan_book *b)
{
	return b->ncampaigns;
}

const struct plan_campaign *plan_book_campaign(const struct plan_book *b,
                                               size_t i)
{
	return &b->campaigns[i];
}

int plan_book_recurring(const struct plan_book *b, const char *channel)
{
	for (size_t i = 0; i < b->nrecurring; i++)
		if (strcmp(b->recurring[i], channel) == 0)
			return 1;
	return 0;
}

int plan_book_origin(const struct plan_book *b, const char *post_id,
                     struct plan_origin *out)
{
	const char *at = strchr(post_id, '@');
	char id[256];
	uint32_t pos;

	/* An occurrence is written where its series is. */
	if (at) {
		if ((size_t)(at - post_id) >= sizeof(id))
			return 0;
		memcpy(id, post_id, (size_t)(at - post_id));
		id[at - post_id] = '\0';
		post_id = id;
	}
	if (!hashtab_find(&b->index, post_id, &pos))
		return 0;
	out->file = b->files[b->posts[pos].file];
	out->line = b->posts[pos].line;
	out->column = b->posts[pos].column;
	return 1;
}
