/*
 * The content calendar: YAML files streamed through libyaml's event API
 * into posts, checked against the configuration with every error kept
 * (sorted by file, line and column at the end), then the local times
 * resolved once the calendar's zone is known — any file of a directory
 * may name it, so that comes last, as do campaign references (campaigns
 * may live in a file of their own).
 *
 * Strings live in an arena freed at once with the calendar: 100,000 posts
 * are a few hundred thousand strings, and one malloc each would cost more
 * in headers and time than the text itself.
 */
#include "calendar.h"
#include "calload.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "calexpand.h"
#include "caltime.h"
#include "calyaml.h"
#include "hashtab.h"
#include "postid.h"
#include "slots.h"
#include "textcheck.h"
#include "timeparse.h"
#include "urlcheck.h"

#define MAX_CHANNELS 64   /* on one post */
#define MAX_EXCLUDE  1000 /* dates left out of one series */
#define MAX_COUNT    100000
#define MAX_FILES    10000 /* in a calendar directory */
#define MAX_ERRORS   1000  /* listed; the rest are counted */
/* "@20261122T090000Z": what an occurrence adds to its post's id. */
#define OCCURRENCE_SUFFIX 17
#define DAY_S             INT64_C(86400)

/* ---- arena ------------------------------------------------------------ */

#define ARENA_BLOCK (64 * 1024)

struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	char data[];
};

/* The calendar as allocated: what callers see, then what only we use. */
struct cal_impl {
	struct calendar pub;
	struct arena_block *arena;
	json_t *no_media; /* the [] every post without media shares */
	size_t cap_posts, cap_campaigns;
};

static void *arena_alloc(struct cal_impl *ci, size_t n)
{
	struct arena_block *b = ci->arena;
	void *p;

	n = (n + 7) & ~(size_t)7;
	if (b == NULL || b->cap - b->used < n) {
		size_t cap = n > ARENA_BLOCK / 4 ? n : ARENA_BLOCK;

		if ((b = malloc(sizeof(*b) + cap)) == NULL)
			return NULL;
		b->cap = cap;
		b->used = 0;
		if (cap == ARENA_BLOCK || ci->arena == NULL) {
			b->next = ci->arena;
			ci->arena = b;
		} else {
			/* A big one-off: keep filling the current block. */
			b->next = ci->arena->next;
			ci->arena->next = b;
		}
	}
	p = b->data + b->used;
	b->used += n;
	return p;
}

static char *arena_strndup(struct cal_impl *ci, const char *s, size_t n)
{
	char *p = arena_alloc(ci, n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static void add_err(struct load *ld, uint32_t file, unsigned line,
                    unsigned column, const char *fmt, va_list ap)
        __attribute__((format(printf, 5, 0)));

static void add_err(struct load *ld, uint32_t file, unsigned line,
                    unsigned column, const char *fmt, va_list ap)
{
	struct cal_err *e;
	char *msg;

	if (ld->nerrs == MAX_ERRORS) {
		ld->dropped++;
		return;
	}
	if (vasprintf(&msg, fmt, ap) < 0) {
		ld->oom = 1;
		return;
	}
	/* One error, one line, whatever a quoted value held. */
	for (char *c = msg; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' ';
	if (ld->nerrs == ld->cap_errs) {
		size_t cap = ld->cap_errs ? ld->cap_errs * 2 : 16;

		if ((e = realloc(ld->errs, cap * sizeof(*e))) == NULL) {
			free(msg);
			ld->oom = 1;
			return;
		}
		ld->errs = e;
		ld->cap_errs = cap;
	}
	e = &ld->errs[ld->nerrs];
	e->file = file;
	e->line = line;
	e->column = column;
	e->seq = ld->nerrs++;
	e->msg = msg;
}

void load_err_at(struct load *ld, struct mark m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_err(ld, m.file, m.line, m.column, fmt, ap);
	va_end(ap);
}

void load_err_ev(struct load *ld, const struct calyaml_event *ev,
                 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_err(ld, ld->file, ev->line, ev->column, fmt, ap);
	va_end(ap);
}

struct mark load_mark(const struct load *ld, const struct calyaml_event *ev)
{
	struct mark m = {ld->file, ev->line, ev->column};

	return m;
}

const char *load_file_name(const struct load *ld, uint32_t file)
{
	return file == UINT32_MAX ? ld->path : ld->cal->files[file];
}

static const char *post_name(const void *ctx, uint32_t i)
{
	return ((const struct calendar *)ctx)->posts[i].id;
}

static const char *campaign_name(const void *ctx, uint32_t i)
{
	return ((const struct calendar *)ctx)->campaigns[i].name;
}

static const char *channel_name(const void *ctx, uint32_t i)
{
	return ((const struct config *)ctx)->channels[i].name;
}

/* "a, b, c" — cut short when a thousand channels would flood the line. */
const char *load_known_channels(struct load *ld)
{
	const struct config *cfg = ld->cfg;
	size_t len = 0, i;
	char *s;

	if (ld->known_channels)
		return ld->known_channels;
	if ((s = malloc(MAX_KNOWN_MSG + 64)) == NULL)
		return "?";
	s[0] = '\0';
	for (i = 0; i < cfg->nchannels; i++) {
		size_t n = strlen(cfg->channels[i].name);

		if (len + n + 2 > MAX_KNOWN_MSG)
			break;
		len += (size_t)sprintf(s + len, "%s%s", i ? ", " : "",
		                       cfg->channels[i].name);
	}
	if (i < cfg->nchannels)
		sprintf(s + len, "%s... %zu in all", i ? ", " : "",
		        cfg->nchannels);
	return ld->known_channels = s;
}

/* The configured channel called name, and its interned name. */
const struct channel *load_channel(struct load *ld, const char *name,
                                   const char **interned)
{
	uint32_t i;

	if (!hashtab_find(&ld->chans, name, &i))
		return NULL;
	if (ld->chan_interned[i] == NULL)
		ld->chan_interned[i] =
		        arena_strndup(ld->ci, name, strlen(name));
	if ((*interned = ld->chan_interned[i]) == NULL)
		ld->oom = 1;
	return &ld->cfg->channels[i];
}

static int64_t local_ms(const struct caltime_zone *z,
                        const struct caltime_civil *c)
{
	return caltime_local_to_utc(z, c->year, c->mon, c->day, c->hour, c->min,
	                            c->sec) *
	       1000;
}

/*
 * The zone of a post's local times: its own, else its file's, else the
 * calendar's. Looked up once per name (names are interned per file).
 */
static const struct caltime_zone *post_zone(struct load *ld, struct cal_post *p,
                                            uint32_t file)
{
	if (p->timezone == NULL)
		p->timezone = ld->file_tz[file] ? ld->file_tz[file]
		                                : ld->cal->timezone;
	if (p->timezone != ld->zone_name) {
		ld->zone_name = p->timezone;
		ld->zone = caltime_zone(p->timezone);
	}
	return ld->zone;
}

/* Settle what waited for the zone, or for every campaign to be known. */
static void resolve(struct load *ld, const struct pending *pd)
{
	const struct caltime_zone *z;
	struct caltime_civil c = pd->c;
	struct cal_post *p;

	if (pd->what == PEND_CAMPAIGN) {
		if (!ld->broken[pd->m.file] &&
		    !hashtab_find(&ld->camps, pd->campaign, NULL))
			load_err_at(ld, pd->m, "unknown campaign '%s' (%s)",
			            pd->campaign,
			            ld->cal->ncampaigns
			                    ? "known: "
			                    : "no campaigns defined");
		return;
	}
	p = &ld->cal->posts[pd->post];
	z = post_zone(ld, p, pd->m.file);
	switch (pd->what) {
	case PEND_AT:
		if (!c.has_zone)
			p->at_ms = local_ms(z, &c);
		else
			caltime_utc_to_local(z, p->at_ms / 1000, &c);
		p->at_wall_s = caltime_wall_s(&c);
		break;
	case PEND_UNTIL:
		if (c.has_time) {
			p->until_ms = local_ms(z, &c);
			break;
		}
		/* A date: the series may run to the end of it. */
		caltime_civil_from_days(caltime_days(c.year, c.mon, c.day) + 1,
		                        &c.year, &c.mon, &c.day);
		p->until_ms = local_ms(z, &c) - 1;
		break;
	case PEND_EXCLUDE:
		p->exclude_ms[pd->slot] = local_ms(z, &c);
		break;
	case PEND_CAMPAIGN:
		break;
	}
}

static void pend_push(struct load *ld, const struct pending *pd)
{
	struct pending *p;

	if (ld->npend == ld->cap_pend) {
		size_t cap = ld->cap_pend ? ld->cap_pend * 2 : 64;

		if ((p = realloc(ld->pend, cap * sizeof(*p))) == NULL) {
			ld->oom = 1;
			return;
		}
		ld->pend = p;
		ld->cap_pend = cap;
	}
	ld->pend[ld->npend++] = *pd;
}

/*
 * A post's local time, kept for the end: its zone may be named after it
 * (by the post, by its file, by another file).
 */
static void load_pend(struct load *ld, size_t post, enum pend_what what,
                      uint32_t slot, const struct caltime_civil *c,
                      struct mark m)
{
	struct pending now = {.post = (uint32_t)post,
	                      .slot = slot,
	                      .what = what,
	                      .c = *c,
	                      .m = m};

	pend_push(ld, &now);
}

void load_need_campaign(struct load *ld, const char *name, struct mark m)
{
	struct pending now = {.campaign = name, .what = PEND_CAMPAIGN, .m = m};

	/* Defined already, the usual order of a file: nothing to keep. */
	if (!hashtab_find(&ld->camps, name, NULL))
		pend_push(ld, &now);
}

/* ---- values ----------------------------------------------------------- */

/*
 * The scalar at ev as a string, or NULL after saying why (the node is
 * consumed either way). empty_ok: "" is returned, for the caller to judge.
 */
const char *load_string(struct load *ld, const struct calyaml_event *ev,
                        const char *key, int empty_ok)
{
	if (ev->kind != CALYAML_SCALAR) {
		load_err_ev(ld, ev, "'%s' must be a string, not a %s", key,
		            ev->kind == CALYAML_SEQUENCE ? "list" : "mapping");
		calyaml_skip(ld->y, ev);
		return NULL;
	}
	if (strlen(ev->value) != ev->len) {
		load_err_ev(ld, ev, "'%s' holds a NUL character", key);
		return NULL;
	}
	if (ev->len == 0 && !empty_ok) {
		load_err_ev(ld, ev, "'%s' is empty", key);
		return NULL;
	}
	return ev->value;
}

/*
 * Call item for each scalar of the list at ev, or for ev itself when it
 * is one scalar ("channels: shop-x" reads as a list of one). 0, or -1 if
 * the file broke off.
 */
int load_items(struct load *ld, const struct calyaml_event *ev, const char *key,
               void (*item)(struct load *, const struct calyaml_event *,
                            void *),
               void *arg)
{
	struct calyaml_event e;
	int r;

	if (ev->kind == CALYAML_SCALAR) {
		item(ld, ev, arg);
		return 0;
	}
	if (ev->kind != CALYAML_SEQUENCE) {
		load_err_ev(ld, ev, "'%s' must be a list", key);
		return calyaml_skip(ld->y, ev);
	}
	while ((r = calyaml_next(ld->y, &e)) > 0 && e.kind != CALYAML_END) {
		if (e.kind != CALYAML_SCALAR) {
			load_err_ev(ld, &e, "'%s' must be a list of strings",
			            key);
			if (calyaml_skip(ld->y, &e) < 0)
				return -1;
			continue;
		}
		item(ld, &e, arg);
	}
	return r > 0 ? 0 : -1;
}

static int url_ok(const char *s)
{
	return urlcheck(s, URLCHECK_PREFIX) == URLCHECK_OK;
}

char *load_text(struct load *ld, const struct calyaml_event *ev)
{
	const char *s = load_string(ld, ev, "text", 1);

	if (s == NULL)
		return NULL;
	if (s[strspn(s, " \t\r\n")] == '\0') {
		load_err_ev(ld, ev, "text is empty");
		return NULL;
	}
	if (ev->len > MAX_TEXT) {
		load_err_ev(ld, ev, "text is %zu bytes, more than %d", ev->len,
		            MAX_TEXT);
		return NULL;
	}
	return arena_strndup(ld->ci, s, ev->len);
}

static char *link_value(struct load *ld, const struct calyaml_event *ev)
{
	const char *s = load_string(ld, ev, "link", 0);

	if (s == NULL)
		return NULL;
	if (!url_ok(s)) {
		load_err_ev(ld, ev, "link '%s' is not an http or https URL", s);
		return NULL;
	}
	return arena_strndup(ld->ci, s, ev->len);
}

struct media_parse {
	json_t *list;
	int names; /* holds file names, which need a media_dir */
	int too_many;
};

static void media_item(struct load *ld, const struct calyaml_event *ev,
                       void *arg)
{
	struct media_parse *mp = arg;
	const char *s = load_string(ld, ev, "media", 0);

	if (s == NULL)
		return;
	if (url_is_http(s) ? !url_ok(s) : !media_name_valid(s)) {
		load_err_ev(
		        ld, ev,
		        "media '%s' must be an http or https URL, or the name "
		        "of a file in the channel's media_dir",
		        s);
		return;
	}
	if (json_array_size(mp->list) == MAX_MEDIA) {
		if (!mp->too_many++)
			load_err_ev(ld, ev, "more than %d media", MAX_MEDIA);
		return;
	}
	mp->names |= !url_is_http(s);
	if (json_array_append_new(mp->list, json_stringn(s, ev->len)) < 0)
		ld->oom = 1;
}

/* The media list at ev (never NULL unless out of memory). */
json_t *load_media(struct load *ld, const struct calyaml_event *ev, int *names)
{
	struct media_parse mp = {json_array(), 0, 0};

	if (mp.list == NULL) {
		ld->oom = 1;
		calyaml_skip(ld->y, ev);
		return NULL;
	}
	if (load_items(ld, ev, "media", media_item, &mp) < 0) {
		json_decref(mp.list);
		return NULL;
	}
	*names = mp.names;
	return mp.list;
}

/*
 * The next entry of a mapping: 1 with its key in *k and the first event
 * of its value in *v, 0 at the mapping's end, -1 if the file broke off.
 * Keys that are not short strings are reported and skipped, value and all.
 */
int load_pair(struct load *ld, const char *what, struct load_key *k,
              struct calyaml_event *v)
{
	struct calyaml_event e;

	for (;;) {
		if (calyaml_next(ld->y, &e) <= 0)
			return -1;
		if (e.kind == CALYAML_END)
			return 0;
		if (e.kind == CALYAML_SCALAR && e.len < sizeof(k->s) &&
		    strlen(e.value) == e.len) {
			memcpy(k->s, e.value, e.len + 1);
			k->m = load_mark(ld, &e);
			return calyaml_next(ld->y, v) > 0 ? 1 : -1;
		}
		load_err_ev(ld, &e, "keys in %s must be short strings", what);
		if (calyaml_skip(ld->y, &e) < 0 ||
		    calyaml_next(ld->y, v) <= 0 || calyaml_skip(ld->y, v) < 0)
			return -1;
	}
}

/*
 * A zone's name, checked and kept in the calendar's arena, or NULL after
 * saying why. "localtime": whatever zone the server runs in.
 */
static const char *zone_name(struct load *ld, const struct calyaml_event *ev)
{
	const char *s = load_string(ld, ev, "timezone", 0);
	char *sys = NULL, *name;

	if (s == NULL)
		return NULL;
	if (strcmp(s, "localtime") == 0 &&
	    (s = sys = caltime_system_zone_name()) == NULL) {
		ld->oom = 1;
		return NULL;
	}
	if (caltime_zone(s) == NULL) {
		load_err_ev(ld, ev,
		            "unknown time zone '%s' (expected a name of the tz "
		            "database, e.g. Europe/Madrid)",
		            s);
		free(sys);
		return NULL;
	}
	if ((name = arena_strndup(ld->ci, s, strlen(s))) == NULL)
		ld->oom = 1;
	free(sys);
	return name;
}

/* ---- posts ------------------------------------------------------------ */

enum post_key {
	K_ID,
	K_AT,
	K_RRULE,
	K_UNTIL,
	K_COUNT,
	K_EXCLUDE,
	K_CHANNELS,
	K_TEXT,
	K_LINK,
	K_MEDIA,
	K_CAMPAIGN,
	K_VARIANTS,
	K_DRAFT,
	K_TIMEZONE,
	K_NKEYS,
};

static const char *const post_keys[K_NKEYS] = {
        "id",   "at",   "rrule", "until",    "count",    "exclude", "channels",
        "text", "link", "media", "campaign", "variants", "draft",   "timezone",
};

#define POST_KEYS                                                             \
	"id, at, rrule, until, count, exclude, channels, text, link, media, " \
	"campaign, variants, draft, timezone"

struct variant_marks {
	struct mark key, text, media;
	int media_names;
};

/* A post being read: what the checks at its end need. */
struct post_parse {
	size_t idx;
	struct mark start, key[K_NKEYS]; /* of each key's value */
	unsigned seen;                   /* bit per post_key */
	struct caltime_civil at, until;
	int media_names;
	const char *ch[MAX_CHANNELS];
	size_t nch, nch_items; /* channels kept; items written */
	struct cal_variant v[MAX_CHANNELS];
	struct variant_marks vm[MAX_CHANNELS];
	size_t nv;
	struct caltime_civil *exc; /* excluded date-times */
	size_t nexc;
	char **exdates; /* excluded days */
	size_t nexdates;
};

static struct cal_post *post_of(struct load *ld, struct post_parse *pp)
{
	return &ld->cal->posts[pp->idx];
}

/* "post 'x'", or "post" before its id is known, for messages. */
static const char *who(const struct cal_post *p, char *buf, size_t len)
{
	if (p->id == NULL)
		return "post";
	snprintf(buf, len, "post '%s'", p->id);
	return buf;
}

static void parse_id(struct load *ld, struct post_parse *pp,
                     const struct calyaml_event *ev)
{
	struct cal_post *p = post_of(ld, pp);
	const char *s = load_string(ld, ev, "id", 0);
	uint32_t first;

	if (s == NULL)
		return;
	if (!postid_valid(s) || strchr(s, '@')) {
		load_err_ev(
		        ld, ev,
		        "id '%s' may use only letters, digits and ._:+- (at "
		        "most %d)",
		        s, POSTID_MAX);
		return;
	}
	if (hashtab_find(&ld->ids, s, &first)) {
		struct mark m = ld->id_marks[first];

		load_err_ev(ld, ev, "duplicate id '%s' (first at %s:%u:%u)", s,
		            load_file_name(ld, m.file), m.line, m.column);
		return;
	}
	if ((p->id = arena_strndup(ld->ci, s, ev->len)) == NULL ||
	    hashtab_add(&ld->ids, pp->idx) < 0) {
		ld->oom = 1;
		return;
	}
	ld->id_marks[pp->idx] = load_mark(ld, ev);
}

/* A time value: 'at' needs a time of day; 'until' may be a date. */
static int parse_time(struct load *ld, const struct calyaml_event *ev,
                      const char *key, int date_ok, struct caltime_civil *c)
{
	const char *s = load_string(ld, ev, key, 0);
	char why[128];

	if (s == NULL)
		return -1;
	if (caltime_parse(s, c, why, sizeof(why)) < 0) {
		load_err_ev(ld, ev,
		            "'%s': invalid time '%s': %s (write %sYYYY-MM-DD "
		            "HH:MM[:SS], optionally with an offset or Z)",
		            key, s, why, date_ok ? "YYYY-MM-DD or " : "");
		return -1;
	}
	if (!c->has_time && !date_ok) {
		load_err_ev(ld, ev, "'%s': '%s' needs a time of day (HH:MM)",
		            key, s);
		return -1;
	}
	return 0;
}

static int64_t civil_utc_ms(const struct caltime_civil *c)
{
	return (caltime_wall_s(c) - (int64_t)c->offset_min * 60) * 1000;
}

static void exclude_item(struct load *ld, const struct calyaml_event *ev,
                         void *arg)
{
	struct post_parse *pp = arg;
	struct caltime_civil c;
	void *grown;

	if (parse_time(ld, ev, "exclude", 1, &c) < 0)
		return;
	if (pp->nexc + pp->nexdates >= MAX_EXCLUDE) {
		load_err_ev(ld, ev, "more than %d exclusions", MAX_EXCLUDE);
		return;
	}
	if (c.has_time) {
		grown = realloc(pp->exc, (pp->nexc + 1) * sizeof(*pp->exc));
		if (grown == NULL) {
			ld->oom = 1;
			return;
		}
		pp->exc = grown;
		pp->exc[pp->nexc++] = c;
		return;
	}
	grown = realloc(pp->exdates, (pp->nexdates + 1) * sizeof(char *));
	if (grown == NULL) {
		ld->oom = 1;
		return;
	}
	pp->exdates = grown;
	if ((pp->exdates[pp->nexdates] = arena_alloc(ld->ci, 11)) == NULL) {
		ld->oom = 1;
		return;
	}
	snprintf(pp->exdates[pp->nexdates++], 11, "%04d-%02d-%02d", c.year,
	         c.mon, c.day);
}

static void channel_item(struct load *ld, const struct calyaml_event *ev,
                         void *arg)
{
	struct post_parse *pp = arg;
	const char *s = load_string(ld, ev, "channels", 0), *name;

	pp->nch_items++;
	if (s == NULL)
		return;
	if (load_channel(ld, s, &name) == NULL) {
		load_err_ev(ld, ev, "unknown channel '%s' (known: %s)", s,
		            load_known_channels(ld));
		return;
	}
	for (size_t i = 0; i < pp->nch; i++)
		if (pp->ch[i] == name) {
			load_err_ev(ld, ev, "channel '%s' is listed twice", s);
			return;
		}
	if (pp->nch == MAX_CHANNELS) {
		load_err_ev(ld, ev, "more than %d channels", MAX_CHANNELS);
		return;
	}
	pp->ch[pp->nch++] = (char *)name;
}

static int parse_variant(struct load *ld, struct post_parse *pp,
                         const struct load_key *key,
                         const struct calyaml_event *ev)
{
	struct calyaml_event v;
	struct cal_variant *var;
	struct variant_marks *vm;
	const char *name;
	unsigned seen = 0;
	struct load_key k;
	int r;

	if (load_channel(ld, key->s, &name) == NULL) {
		load_err_at(ld, key->m,
		            "variant for unknown channel '%s' (known: %s)",
		            key->s, load_known_channels(ld));
		return calyaml_skip(ld->y, ev);
	}
	for (size_t i = 0; i < pp->nv; i++)
		if (pp->v[i].channel == name) {
			load_err_at(ld, key->m,
			            "duplicate variant for channel '%s'", name);
			return calyaml_skip(ld->y, ev);
		}
	if (ev->kind != CALYAML_MAPPING) {
		load_err_ev(ld, ev,
		            "variant for '%s' must be a mapping of text, link "
		            "and media",
		            name);
		return calyaml_skip(ld->y, ev);
	}
	if (pp->nv == MAX_CHANNELS) {
		load_err_at(ld, key->m, "more than %d variants", MAX_CHANNELS);
		return calyaml_skip(ld->y, ev);
	}
	var = &pp->v[pp->nv];
	vm = &pp->vm[pp->nv++];
	memset(var, 0, sizeof(*var));
	memset(vm, 0, sizeof(*vm));
	var->channel = (char *)name;
	vm->key = key->m;
	while ((r = load_pair(ld, "a variant", &k, &v)) > 0) {
		unsigned bit = strcmp(k.s, "text") == 0    ? 1
		               : strcmp(k.s, "link") == 0  ? 2
		               : strcmp(k.s, "media") == 0 ? 4
		                                           : 0;

		if (bit == 0 || (seen & bit)) {
			if (bit)
				load_err_at(ld, k.m,
				            "duplicate key '%s' in a variant",
				            k.s);
			else
				load_err_at(
				        ld, k.m,
				        "unknown key '%s' in a variant (known: "
				        "text, link, media)",
				        k.s);
			if (calyaml_skip(ld->y, &v) < 0)
				return -1;
			continue;
		}
		seen |= bit;
		if (bit == 1) {
			var->text = load_text(ld, &v);
			vm->text = load_mark(ld, &v);
		} else if (bit == 2) {
			var->link = link_value(ld, &v);
		} else {
			vm->media = load_mark(ld, &v);
			var->media = load_media(ld, &v, &vm->media_names);
		}
	}
	return r;
}

static int parse_variants(struct load *ld, struct post_parse *pp,
                          const struct calyaml_event *ev)
{
	struct calyaml_event v;
	struct load_key k;
	int r;

	if (ev->kind != CALYAML_MAPPING) {
		load_err_ev(ld, ev,
		            "'variants' must be a mapping of channel to "
		            "text, link and media");
		return calyaml_skip(ld->y, ev);
	}
	while ((r = load_pair(ld, "'variants'", &k, &v)) > 0)
		if (parse_variant(ld, pp, &k, &v) < 0)
			return -1;
	return r;
}

static int parse_uint(struct load *ld, const struct calyaml_event *ev,
                      const char *key, unsigned max, unsigned *out)
{
	const char *s = load_string(ld, ev, key, 0);
	char *end;
	unsigned long v;

	if (s == NULL)
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end || errno || v < 1 || v > max) {
		load_err_ev(ld, ev, "'%s' must be a whole number from 1 to %u",
		            key, max);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

/* One key's value; -1 only if the file broke off. */
/* at: a time, or next-slot (its channels' first free slot). */
static void parse_at(struct load *ld, struct post_parse *pp, struct cal_post *p,
                     const struct calyaml_event *ev)
{
	if (ev->kind == CALYAML_SCALAR && strcmp(ev->value, "next-slot") == 0)
		p->next_slot = 1;
	else if (parse_time(ld, ev, "at", 0, &pp->at) < 0)
		pp->seen &= ~(1u << K_AT); /* reported: no more */
	else if (pp->at.has_zone)
		p->at_ms = civil_utc_ms(&pp->at);
}

static int post_value(struct load *ld, struct post_parse *pp, enum post_key key,
                      const struct calyaml_event *ev)
{
	struct cal_post *p = post_of(ld, pp);
	const char *s;

	pp->key[key] = load_mark(ld, ev);
	switch (key) {
	case K_ID:
		parse_id(ld, pp, ev);
		break;
	case K_AT:
		parse_at(ld, pp, p, ev);
		break;
	case K_RRULE:
		if ((s = load_string(ld, ev, "rrule", 0)) != NULL) {
			if (strncmp(s, "RRULE:", 6) == 0)
				s += 6;
			if ((p->rrule = arena_strndup(ld->ci, s, strlen(s))) ==
			    NULL)
				ld->oom = 1;
		}
		if (p->rrule == NULL)
			pp->seen &= ~(1u << K_RRULE);
		break;
	case K_UNTIL:
		if (parse_time(ld, ev, "until", 1, &pp->until) < 0)
			pp->seen &= ~(1u << K_UNTIL);
		break;
	case K_COUNT:
		parse_uint(ld, ev, "count", MAX_COUNT, &p->count);
		break;
	case K_EXCLUDE:
		return load_items(ld, ev, "exclude", exclude_item, pp);
	case K_CHANNELS:
		/* A mapping is reported as such, not also as empty. */
		pp->nch_items += ev->kind == CALYAML_MAPPING;
		return load_items(ld, ev, "channels", channel_item, pp);
	case K_TEXT:
		p->text = load_text(ld, ev);
		break;
	case K_LINK:
		p->link = link_value(ld, ev);
		break;
	case K_MEDIA: {
		json_t *m = load_media(ld, ev, &pp->media_names);

		if (m) {
			json_decref(p->media);
			p->media = m;
		}
		break;
	}
	case K_CAMPAIGN:
		if ((s = load_string(ld, ev, "campaign", 0)) != NULL &&
		    (p->campaign = arena_strndup(ld->ci, s, ev->len)) == NULL)
			ld->oom = 1;
		break;
	case K_VARIANTS:
		return parse_variants(ld, pp, ev);
	case K_DRAFT:
		if ((s = load_string(ld, ev, "draft", 0)) == NULL)
			break;
		if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0)
			p->draft = 1;
		else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0)
			p->draft = 0;
		else
			load_err_ev(ld, ev, "'draft' must be true or false");
		break;
	case K_TIMEZONE:
		p->timezone = zone_name(ld, ev);
		break;
	case K_NKEYS:
		break;
	}
	return 0;
}

static const struct cal_variant *variant_for(const struct post_parse *pp,
                                             const char *channel,
                                             const struct variant_marks **vm)
{
	for (size_t i = 0; i < pp->nv; i++)
		if (pp->v[i].channel == channel) {
			*vm = &pp->vm[i];
			return &pp->v[i];
		}
	return NULL;
}

/* The first media entry that is a file name, not a URL. */
static const char *first_file(const json_t *media)
{
	for (size_t i = 0; i < json_array_size(media); i++) {
		const char *s = json_string_value(json_array_get(media, i));

		if (!url_is_http(s))
			return s;
	}
	return "?";
}

/* What each channel will really get: its length and media checks. */
static void check_channels(struct load *ld, struct post_parse *pp)
{
	struct cal_post *p = post_of(ld, pp);

	for (size_t i = 0; i < pp->nch; i++) {
		const char *name;
		const struct channel *ch = load_channel(ld, pp->ch[i], &name);
		const struct variant_marks *vm = NULL;
		const struct cal_variant *v = variant_for(pp, pp->ch[i], &vm);
		const char *text = v && v->text ? v->text : p->text;
		struct mark tm = v && v->text ? vm->text : pp->key[K_TEXT];
		int names = v && v->media ? vm->media_names : pp->media_names;
		struct mark mm = v && v->media ? vm->media : pp->key[K_MEDIA];
		char why[512];

		if (ch == NULL)
			continue;
		if (p->next_slot && (ch->slots == NULL || ch->slots->n == 0))
			load_err_at(ld, pp->key[K_AT],
			            "'at: next-slot', but channel '%s' has no "
			            "slots in smmd.yaml",
			            ch->name);
		if (text &&
		    textcheck(ch, text, v && v->link ? v->link : p->link, why,
		              sizeof(why)))
			load_err_at(ld, tm, "%s", why);
		if (names && ch->media_dir == NULL)
			load_err_at(
			        ld, mm,
			        "media '%s' is a file name, but channel '%s' "
			        "has no media_dir (use an http or https URL)",
			        first_file(v && v->media ? v->media : p->media),
			        ch->name);
	}
}

static void check_recurrence(struct load *ld, struct post_parse *pp)
{
	struct cal_post *p = post_of(ld, pp);
	struct calexpand_rule rule;
	char why[512];

	if (calexpand_check(p->rrule, &pp->at, &rule, why, sizeof(why)) < 0) {
		load_err_at(ld, pp->key[K_RRULE], "invalid rrule '%s': %s",
		            p->rrule, why);
		return;
	}
	if (rule.count && p->count)
		load_err_at(
		        ld, pp->key[K_COUNT],
		        "'count' and the rrule's COUNT both limit the series: "
		        "keep one");
	else if (rule.count)
		p->count = rule.count;
	if (rule.has_until && (pp->seen & (1u << K_UNTIL)))
		load_err_at(
		        ld, pp->key[K_UNTIL],
		        "'until' and the rrule's UNTIL both end the series: "
		        "keep one");
	else if (rule.has_until) {
		pp->until = rule.until;
		pp->key[K_UNTIL] = pp->key[K_RRULE];
		pp->seen |= 1u << K_UNTIL;
	}
	if (p->id && strlen(p->id) + OCCURRENCE_SUFFIX > POSTID_MAX)
		load_err_at(
		        ld, pp->key[K_ID],
		        "id '%s' is too long for a recurring post (at most %d "
		        "characters, to leave room for '@<time>')",
		        p->id, POSTID_MAX - OCCURRENCE_SUFFIX);
}

/* Copy what was gathered on the stack into the calendar's arena. */
static void settle_arrays(struct load *ld, struct post_parse *pp)
{
	struct cal_post *p = post_of(ld, pp);
	struct cal_impl *ci = ld->ci;

	if (pp->nch) {
		p->channels = arena_alloc(ci, pp->nch * sizeof(char *));
		if (p->channels == NULL) {
			ld->oom = 1;
			return;
		}
		memcpy(p->channels, pp->ch, pp->nch * sizeof(char *));
		p->nchannels = pp->nch;
	}
	if (pp->nv) {
		p->variants = arena_alloc(ci, pp->nv * sizeof(*p->variants));
		if (p->variants == NULL) {
			ld->oom = 1;
			return;
		}
		memcpy(p->variants, pp->v, pp->nv * sizeof(*p->variants));
		p->nvariants = pp->nv;
		pp->nv = 0; /* the calendar owns their media now */
	}
	if (pp->nexdates) {
		p->exclude_dates =
		        arena_alloc(ci, pp->nexdates * sizeof(char *));
		if (p->exclude_dates == NULL) {
			ld->oom = 1;
			return;
		}
		memcpy(p->exclude_dates, pp->exdates,
		       pp->nexdates * sizeof(char *));
		p->nexclude_dates = pp->nexdates;
	}
	if (pp->nexc) {
		p->exclude_ms = arena_alloc(ci, pp->nexc * sizeof(int64_t));
		if (p->exclude_ms == NULL) {
			ld->oom = 1;
			return;
		}
		p->nexclude = pp->nexc;
		for (size_t i = 0; i < pp->nexc; i++) {
			p->exclude_ms[i] = civil_utc_ms(&pp->exc[i]);
			if (!pp->exc[i].has_zone)
				load_pend(ld, pp->idx, PEND_EXCLUDE,
				          (uint32_t)i, &pp->exc[i],
				          pp->key[K_EXCLUDE]);
		}
	}
}

/* The checks that need the whole post. */
/* A post has an 'at' (a recurring one its first occurrence's). */
static void check_at(struct load *ld, struct post_parse *pp, const char *id)
{
	const struct cal_post *p = post_of(ld, pp);
	int has_at = pp->seen & (1u << K_AT),
	    has_rrule = pp->seen & (1u << K_RRULE);

	if (!has_at && !has_rrule && pp->key[K_AT].line == 0)
		load_err_at(ld, pp->start, "%s has no 'at'", id);
	if (has_rrule && !has_at && pp->key[K_AT].line == 0)
		load_err_at(
		        ld, pp->key[K_RRULE],
		        "a recurring post needs 'at': the time of its first "
		        "occurrence");
	if (p->rrule && p->next_slot)
		load_err_at(
		        ld, pp->key[K_AT],
		        "'at: next-slot' is one post's time: it does not go "
		        "with 'rrule'");
}

static void finish_post(struct load *ld, struct post_parse *pp)
{
	struct cal_post *p = post_of(ld, pp);
	unsigned seen = pp->seen;
	char buf[POSTID_MAX + 8];
	const char *id = who(p, buf, sizeof(buf));

#define HAS(k) (seen & (1u << (k)))
	if (!HAS(K_ID))
		load_err_at(ld, pp->start, "post has no 'id'");
	if (!HAS(K_CHANNELS))
		load_err_at(ld, pp->start, "%s has no 'channels'", id);
	else if (pp->nch_items == 0)
		load_err_at(ld, pp->key[K_CHANNELS], "'channels' is empty");
	for (size_t i = 0; i < pp->nv; i++) {
		size_t j;

		for (j = 0; j < pp->nch && pp->ch[j] != pp->v[i].channel; j++)
			;
		if (j == pp->nch && HAS(K_CHANNELS))
			load_err_at(
			        ld, pp->vm[i].key,
			        "variant for channel '%s', which is not in the "
			        "post's channels",
			        pp->v[i].channel);
	}
	if (p->text == NULL && !HAS(K_TEXT)) {
		for (size_t i = 0; i < pp->nch; i++) {
			const struct variant_marks *vm;
			const struct cal_variant *v =
			        variant_for(pp, pp->ch[i], &vm);

			if (v == NULL || v->text == NULL) {
				load_err_at(ld, pp->start,
				            "%s has no 'text' (channel '%s' "
				            "has no variant text either)",
				            id, pp->ch[i]);
				break;
			}
			if (p->text == NULL)
				p->text = v->text;
		}
	}
	check_channels(ld, pp);
	check_at(ld, pp, id);
	if (!p->rrule && pp->key[K_RRULE].line == 0) {
		static const enum post_key series[] = {K_UNTIL, K_COUNT,
		                                       K_EXCLUDE};

		for (size_t i = 0; i < 3; i++)
			if (pp->key[series[i]].line)
				load_err_at(ld, pp->key[series[i]],
				            "'%s' goes with 'rrule'",
				            post_keys[series[i]]);
	}
	if (p->rrule && HAS(K_AT) && !p->next_slot)
		check_recurrence(ld, pp);
	settle_arrays(ld, pp);
	/* Local times wait for the zone; a recurring post's wall time too. */
	if (HAS(K_AT) && !p->next_slot && (!pp->at.has_zone || p->rrule))
		load_pend(ld, pp->idx, PEND_AT, 0, &pp->at, pp->key[K_AT]);
	/* check_recurrence may have taken an UNTIL from the rule. */
	if (p->rrule && (pp->seen & (1u << K_UNTIL))) {
		if (pp->until.has_zone && pp->until.has_time)
			p->until_ms = civil_utc_ms(&pp->until);
		else
			load_pend(ld, pp->idx, PEND_UNTIL, 0, &pp->until,
			          pp->key[K_UNTIL]);
	}
	if (p->campaign)
		load_need_campaign(ld, p->campaign, pp->key[K_CAMPAIGN]);
#undef HAS
}

static int new_post(struct load *ld, size_t *idx)
{
	struct cal_impl *ci = ld->ci;
	struct calendar *cal = ld->cal;
	struct cal_post *p;

	if (cal->nposts == ci->cap_posts) {
		size_t cap = ci->cap_posts ? ci->cap_posts * 2 : 64;
		struct mark *m;

		if (cap > UINT32_MAX - 1)
			return -1;
		if ((p = realloc(cal->posts, cap * sizeof(*p))) == NULL)
			return -1;
		cal->posts = p;
		ci->cap_posts = cap;
		if ((m = realloc(ld->id_marks, cap * sizeof(*m))) == NULL)
			return -1;
		ld->id_marks = m;
	}
	p = &cal->posts[cal->nposts];
	memset(p, 0, sizeof(*p));
	p->file = cal->files[ld->file];
	p->at_ms = -1;
	p->until_ms = -1;
	p->media = json_incref(ci->no_media);
	*idx = cal->nposts++;
	return 0;
}

static int parse_post(struct load *ld, const struct calyaml_event *start)
{
	struct post_parse pp;
	struct calyaml_event v;
	struct load_key k;
	int r;

	memset(&pp, 0, sizeof(pp));
	if (new_post(ld, &pp.idx) < 0) {
		ld->oom = 1;
		return -1;
	}
	post_of(ld, &pp)->line = start->line;
	post_of(ld, &pp)->column = start->column;
	pp.start = load_mark(ld, start);
	while ((r = load_pair(ld, "a post", &k, &v)) > 0) {
		int key;

		for (key = 0; key < K_NKEYS && strcmp(k.s, post_keys[key]);
		     key++)
			;
		if (key < K_NKEYS && !(pp.seen & (1u << key))) {
			pp.seen |= 1u << key;
			if (post_value(ld, &pp, (enum post_key)key, &v) < 0) {
				r = -1;
				break;
			}
			continue;
		}
		if (key < K_NKEYS)
			load_err_at(ld, k.m, "duplicate key '%s' in a post",
			            k.s);
		else if (strcmp(k.s, "<<") == 0)
			load_err_at(
			        ld, k.m,
			        "merge keys (<<) are not supported: repeat the "
			        "keys, or use an alias for one value");
		else
			load_err_at(ld, k.m,
			            "unknown key '%s' in a post (known: %s)",
			            k.s, POST_KEYS);
		if (calyaml_skip(ld->y, &v) < 0) {
			r = -1;
			break;
		}
	}
	if (r == 0)
		finish_post(ld, &pp);
	/* Variants not settled (a broken file) still own their media. */
	for (size_t i = 0; i < pp.nv; i++)
		json_decref(pp.v[i].media);
	free(pp.exc);
	free(pp.exdates);
	return r;
}

static int parse_posts(struct load *ld, const struct calyaml_event *ev)
{
	struct calyaml_event e;
	int r;

	if (ev->kind != CALYAML_SEQUENCE) {
		load_err_ev(ld, ev, "'posts' must be a list of posts");
		return calyaml_skip(ld->y, ev);
	}
	while ((r = calyaml_next(ld->y, &e)) > 0 && e.kind != CALYAML_END) {
		if (e.kind != CALYAML_MAPPING) {
			load_err_ev(ld, &e,
			            "a post must be a mapping of keys to "
			            "values");
			if (calyaml_skip(ld->y, &e) < 0)
				return -1;
			continue;
		}
		if (parse_post(ld, &e) < 0)
			return -1;
	}
	return r > 0 ? 0 : -1;
}

/* ---- campaigns and the zone ------------------------------------------- */

/* A campaign's cadence or min_gap, checked at its value. */
static void campaign_cadence(struct load *ld, const struct load_key *k,
                             const struct calyaml_event *v,
                             struct cal_campaign *c)
{
	char err[256];

	if (strcmp(k->s, "cadence") == 0) {
		if (cadence_parse(v->value, &c->cadence, err, sizeof(err)) < 0)
			load_err_ev(ld, v, "%s", err);
	} else if (duration_parse(v->value, &c->cadence.min_gap_ms) < 0) {
		load_err_ev(ld, v,
		            "'min_gap': invalid duration '%s' (expected e.g. "
		            "30m, 4h, 1d)",
		            v->value);
	} else if (c->cadence.min_gap_ms <= 0) {
		load_err_ev(ld, v, "'min_gap' must be longer than 0");
	}
	/* Where a warning no post causes (a week under target) points. */
	if (c->line == 0 || strcmp(k->s, "cadence") == 0) {
		c->file = ld->cal->files[ld->file];
		c->line = v->line;
		c->column = v->column;
	}
}

/*
 * One campaign's metadata: plain key: value strings, as JSON, but for
 * its cadence and min_gap, which go into c.
 */
static json_t *campaign_meta(struct load *ld, const struct calyaml_event *ev,
                             struct cal_campaign *c)
{
	struct calyaml_event v;
	struct load_key k;
	json_t *meta = json_object();
	int r;

	if (meta == NULL) {
		ld->oom = 1;
		return NULL;
	}
	if (ev->kind == CALYAML_SCALAR && ev->len == 0)
		return meta; /* "name:" with nothing: no metadata */
	while ((r = load_pair(ld, "a campaign", &k, &v)) > 0) {
		if ((r = load_campaign_blackout(ld, &k, &v, c)) != 0 ||
		    (r = load_campaign_goals(ld, &k, &v, c)) != 0) {
			if (r < 0)
				break;
			continue;
		}
		if (v.kind != CALYAML_SCALAR || strlen(v.value) != v.len) {
			load_err_at(
			        ld, k.m,
			        "campaign metadata must be plain key: value "
			        "strings");
			if (calyaml_skip(ld->y, &v) < 0)
				break;
			continue;
		}
		if (strcmp(k.s, "cadence") == 0 || strcmp(k.s, "min_gap") == 0)
			campaign_cadence(ld, &k, &v, c);
		else if (json_object_set_new(meta, k.s,
		                             json_stringn(v.value, v.len)) < 0)
			ld->oom = 1;
	}
	if (r < 0) {
		json_decref(meta);
		return NULL;
	}
	return meta;
}

/* A campaign read but not kept: what it owns. */
static void campaign_drop(struct cal_campaign *c, json_t *meta)
{
	json_decref(meta);
	blackouts_free(c->blackouts);
	free(c->blackouts);
}

static int parse_campaign(struct load *ld, const struct load_key *key,
                          const struct calyaml_event *ev)
{
	struct cal_impl *ci = ld->ci;
	struct calendar *cal = ld->cal;
	struct cal_campaign *c, read = {0};
	uint32_t first;
	json_t *meta;

	if (hashtab_find(&ld->camps, key->s, &first)) {
		struct mark m = ld->camp_marks[first];

		load_err_at(ld, key->m,
		            "duplicate campaign '%s' (first at %s:%u:%u)",
		            key->s, load_file_name(ld, m.file), m.line,
		            m.column);
		return calyaml_skip(ld->y, ev);
	}
	if (ev->kind != CALYAML_MAPPING &&
	    !(ev->kind == CALYAML_SCALAR && ev->len == 0)) {
		load_err_ev(ld, ev,
		            "campaign '%s' must be a mapping of metadata, e.g. "
		            "{utm_campaign: %s}",
		            key->s, key->s);
		return calyaml_skip(ld->y, ev);
	}
	if ((meta = campaign_meta(ld, ev, &read)) == NULL) {
		campaign_drop(&read, NULL);
		return -1;
	}
	if (cal->ncampaigns == ci->cap_campaigns) {
		size_t cap = ci->cap_campaigns ? ci->cap_campaigns * 2 : 8;
		struct mark *m;

		if ((c = realloc(cal->campaigns, cap * sizeof(*c))) != NULL)
			cal->campaigns = c;
		m = c ? realloc(ld->camp_marks, cap * sizeof(*m)) : NULL;
		if (m == NULL) {
			campaign_drop(&read, meta);
			ld->oom = 1;
			return -1;
		}
		ld->camp_marks = m;
		ci->cap_campaigns = cap;
	}
	c = &cal->campaigns[cal->ncampaigns];
	*c = read;
	c->meta = meta;
	if ((c->name = arena_strndup(ci, key->s, strlen(key->s))) == NULL) {
		campaign_drop(&read, meta);
		ld->oom = 1;
		return -1;
	}
	ld->camp_marks[cal->ncampaigns] = key->m;
	if (hashtab_add(&ld->camps, cal->ncampaigns++) < 0)
		ld->oom = 1;
	return 0;
}

static int parse_campaigns(struct load *ld, const struct calyaml_event *ev)
{
	struct calyaml_event v;
	struct load_key k;
	int r;

	if (ev->kind != CALYAML_MAPPING) {
		load_err_ev(
		        ld, ev,
		        "'campaigns' must be a mapping of campaign names to "
		        "their metadata");
		return calyaml_skip(ld->y, ev);
	}
	while ((r = load_pair(ld, "'campaigns'", &k, &v)) > 0)
		if (parse_campaign(ld, &k, &v) < 0)
			return -1;
	return r;
}

/*
 * A file's zone: its posts' local times are read in it (a post may name
 * its own). The first file that names one gives the calendar's, for the
 * files that name none and for the channels' slots.
 */
static void parse_timezone(struct load *ld, const struct calyaml_event *ev)
{
	const char *name = zone_name(ld, ev);

	if (name == NULL)
		return;
	ld->file_tz[ld->file] = name;
	if (ld->cal->timezone == NULL)
		ld->cal->timezone = (char *)name;
}

/* ---- files ------------------------------------------------------------ */

static int parse_top(struct load *ld, const struct calyaml_event *root)
{
	struct calyaml_event v;
	unsigned seen = 0;
	struct load_key k;
	int r;

	if (root->kind != CALYAML_MAPPING) {
		load_err_ev(
		        ld, root,
		        "a calendar is a mapping with timezone, campaigns and "
		        "posts");
		return calyaml_skip(ld->y, root);
	}
	while ((r = load_pair(ld, "a calendar", &k, &v)) > 0) {
		unsigned bit = strcmp(k.s, "timezone") == 0    ? 1
		               : strcmp(k.s, "campaigns") == 0 ? 2
		               : strcmp(k.s, "posts") == 0     ? 4
		               : strcmp(k.s, "planb") == 0     ? 8
		                                               : 0;

		if (bit == 0 || (seen & bit)) {
			if (bit)
				load_err_at(ld, k.m, "duplicate key '%s'", k.s);
			else
				load_err_at(
				        ld, k.m,
				        "unknown key '%s' (known: timezone, "
				        "campaigns, posts, planb)",
				        k.s);
			if (calyaml_skip(ld->y, &v) < 0)
				return -1;
			continue;
		}
		seen |= bit;
		if (bit == 1)
			parse_timezone(ld, &v);
		else if ((bit == 2   ? parse_campaigns(ld, &v)
		          : bit == 8 ? calplanb_parse(ld, &v)
		                     : parse_posts(ld, &v)) < 0)
			return -1;
	}
	return r;
}

static void load_file(struct load *ld, const char *path)
{
	struct calyaml_event root;
	struct mark m = {ld->file, 0, 0};
	size_t before = ld->nerrs;
	FILE *fp;
	int r;

	if ((fp = fopen(path, "r")) == NULL) {
		load_err_at(ld, m, "cannot open: %s", strerror(errno));
		return;
	}
	if ((ld->y = calyaml_new(fp)) == NULL) {
		fclose(fp);
		ld->oom = 1;
		return;
	}
	r = calyaml_next(ld->y, &root);
	if (r == 0) {
		m.line = m.column = 1;
		load_err_at(ld, m, "the file is empty");
	} else if (r > 0 && parse_top(ld, &root) == 0) {
		r = calyaml_next(ld->y, &root);
	} else {
		r = -1;
	}
	if (r < 0 && calyaml_error(ld->y, &m.line, &m.column)[0]) {
		const char *msg = calyaml_error(ld->y, &m.line, &m.column);

		/*
		 * What was read before a syntax error may be its echo (a
		 * mis-indented key read into the value above it): the syntax
		 * error alone says what to fix first.
		 */
		while (ld->nerrs > before)
			free(ld->errs[--ld->nerrs].msg);
		ld->broken[ld->file] = 1;
		load_err_at(ld, m, "%s", msg);
	}
	calyaml_free(ld->y);
	ld->y = NULL;
	fclose(fp);
}

static int add_file(struct load *ld, char *path)
{
	struct calendar *cal = ld->cal;
	char **grown = realloc(cal->files, (cal->nfiles + 1) * sizeof(*grown));

	if (grown == NULL) {
		free(path);
		return -1;
	}
	cal->files = grown;
	cal->files[cal->nfiles++] = path;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.yaml of dir, in name order; dot files (editors' swap and lock
 * files) are not calendar files. */
static int list_dir(struct load *ld, const char *dir)
{
	struct mark m = {UINT32_MAX, 0, 0};
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	DIR *dp;
	int ret = 0;

	if ((dp = opendir(dir)) == NULL) {
		load_err_at(ld, m, "cannot open: %s", strerror(errno));
		return -1;
	}
	while ((de = readdir(dp)) != NULL) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.' || len < 6 ||
		    strcmp(de->d_name + len - 5, ".yaml") != 0)
			continue;
		if (n == MAX_FILES) {
			load_err_at(ld, m, "more than %d calendar files",
			            MAX_FILES);
			ret = -1;
			break;
		}
		if (n == cap) {
			char **grown;

			cap = cap ? cap * 2 : 16;
			if ((grown = realloc(names, cap * sizeof(*grown))) ==
			    NULL) {
				ld->oom = 1;
				ret = -1;
				break;
			}
			names = grown;
		}
		if (asprintf(&names[n], "%s/%s", dir, de->d_name) < 0) {
			ld->oom = 1;
			ret = -1;
			break;
		}
		n++;
	}
	closedir(dp);
	if (ret == 0 && n == 0) {
		load_err_at(ld, m, "no calendar files (*.yaml) in this folder");
		ret = -1;
	}
	if (n > 1)
		qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		if (ret == 0 && add_file(ld, names[i]) < 0) {
			ld->oom = 1;
			ret = -1;
		} else if (ret < 0) {
			free(names[i]);
		}
	}
	free(names);
	return ret;
}

/* ---- after every file ------------------------------------------------- */

/* The campaign names for an "unknown campaign" message. */
static void name_campaigns(struct load *ld)
{
	struct calendar *cal = ld->cal;

	for (size_t i = 0; i < ld->nerrs; i++) {
		struct cal_err *e = &ld->errs[i];
		size_t len, cut = MAX_KNOWN_MSG;
		char *msg, *p;

		if (strncmp(e->msg, "unknown campaign '", 18) != 0 ||
		    (p = strstr(e->msg, "(known: ")) == NULL)
			continue;
		len = (size_t)(p - e->msg) + 8;
		for (size_t j = 0; j < cal->ncampaigns; j++)
			len += strlen(cal->campaigns[j].name) + 2;
		if ((msg = malloc(len + 2)) == NULL)
			continue;
		len = (size_t)(p - e->msg) + 8;
		memcpy(msg, e->msg, len);
		for (size_t j = 0; j < cal->ncampaigns && len < cut; j++)
			len += (size_t)sprintf(msg + len, "%s%s", j ? ", " : "",
			                       cal->campaigns[j].name);
		strcpy(msg + len, ")");
		free(e->msg);
		e->msg = msg;
	}
}

static int by_place(const void *a, const void *b)
{
	const struct cal_err *x = a, *y = b;
	/* UINT32_MAX (the path) first: +1 wraps it to 0. */
	uint32_t fx = x->file + 1, fy = y->file + 1;

	if (fx != fy)
		return fx < fy ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->column != y->column)
		return x->column < y->column ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void load_done(struct load *ld, struct config_errors *errs)
{
	if (ld->oom) {
		struct mark m = {UINT32_MAX, 0, 0};

		load_err_at(ld, m, "out of memory");
	}
	name_campaigns(ld);
	if (ld->nerrs > 1)
		qsort(ld->errs, ld->nerrs, sizeof(*ld->errs), by_place);
	for (size_t i = 0; i < ld->nerrs; i++) {
		const struct cal_err *e = &ld->errs[i];

		config_errors_add(errs, load_file_name(ld, e->file), e->line,
		                  e->column, "%s", e->msg);
		free(e->msg);
	}
	if (ld->dropped)
		config_errors_add(errs, ld->path, 0, 0,
		                  "%zu more errors not listed (fix these "
		                  "first)",
		                  ld->dropped);
	free(ld->errs);
	hashtab_free(&ld->chans);
	hashtab_free(&ld->ids);
	hashtab_free(&ld->camps);
	free(ld->chan_interned);
	free(ld->id_marks);
	free(ld->camp_marks);
	free(ld->known_channels);
	free(ld->file_tz);
	free(ld->pend);
	free(ld->broken);
}

/* The files at path: the file itself, or a folder's *.yaml. */
static void load_path(struct load *ld, const char *path)
{
	struct stat st;
	char *copy;

	if (stat(path, &st) < 0) {
		struct mark m = {UINT32_MAX, 0, 0};

		load_err_at(ld, m, "cannot open: %s", strerror(errno));
	} else if (S_ISDIR(st.st_mode)) {
		list_dir(ld, path);
	} else if ((copy = strdup(path)) == NULL || add_file(ld, copy) < 0) {
		ld->oom = 1;
	}
}

/*
 * The zones, once every file is read: the calendar's is the first a file
 * named, else the system's; then what waited for them (local times) is
 * resolved, each post in its own zone.
 */
static void load_zone(struct load *ld)
{
	char *sys;

	if (ld->cal->timezone == NULL) {
		if ((sys = caltime_system_zone_name()) == NULL) {
			ld->oom = 1;
			return;
		}
		if (caltime_zone(sys) == NULL) {
			load_err_at(ld, (struct mark){0, 1, 1},
			            "no 'timezone' here, and the system's zone "
			            "'%s' is not in the tz database: add "
			            "'timezone: Area/City'",
			            sys);
			free(sys);
			return;
		}
		ld->cal->timezone = arena_strndup(ld->ci, sys, strlen(sys));
		free(sys);
		if (ld->cal->timezone == NULL) {
			ld->oom = 1;
			return;
		}
	}
	for (size_t i = 0; i < ld->npend; i++)
		resolve(ld, &ld->pend[i]);
}

int calendar_load(const char *path, const struct config *cfg,
                  struct calendar **out, struct config_errors *errs)
{
	struct cal_impl *ci;
	struct load ld;
	int failed;

	*out = NULL;
	memset(&ld, 0, sizeof(ld));
	ld.path = path;
	ld.cfg = cfg;
	if ((ci = calloc(1, sizeof(*ci))) == NULL ||
	    (ci->no_media = json_array()) == NULL) {
		free(ci);
		config_errors_add(errs, path, 0, 0, "out of memory");
		return -1;
	}
	ld.ci = ci;
	ld.cal = &ci->pub;
	if ((ld.cal->planb = json_object()) == NULL)
		ld.oom = 1;
	hashtab_init(&ld.chans, channel_name, cfg);
	hashtab_init(&ld.ids, post_name, ld.cal);
	hashtab_init(&ld.camps, campaign_name, ld.cal);
	if ((ld.chan_interned = calloc(cfg->nchannels + 1, sizeof(char *))) ==
	    NULL)
		ld.oom = 1;
	for (size_t i = 0; i < cfg->nchannels && !ld.oom; i++)
		if (hashtab_add(&ld.chans, i) < 0)
			ld.oom = 1;

	if (!ld.oom)
		load_path(&ld, path);
	if (!ld.oom && ((ld.broken = calloc(ld.cal->nfiles + 1, 1)) == NULL ||
	                (ld.file_tz = calloc(ld.cal->nfiles + 1,
	                                     sizeof(*ld.file_tz))) == NULL))
		ld.oom = 1;
	for (ld.file = 0; ld.file < ld.cal->nfiles && !ld.oom; ld.file++)
		load_file(&ld, ld.cal->files[ld.file]);

	if (ld.cal->nfiles > 0 && !ld.oom)
		load_zone(&ld);
	failed = ld.oom || ld.nerrs > 0;
	load_done(&ld, errs);
	if (failed) {
		calendar_free(ld.cal);
		return -1;
	}
	*out = ld.cal;
	return 0;
}

void calendar_free(struct calendar *cal)
{
	struct cal_impl *ci = (struct cal_impl *)cal;
	struct arena_block *b, *next;

	if (cal == NULL)
		return;
	for (size_t i = 0; i < cal->nposts; i++) {
		struct cal_post *p = &cal->posts[i];

		json_decref(p->media);
		for (size_t j = 0; j < p->nvariants; j++)
			json_decref(p->variants[j].media);
	}
	for (size_t i = 0; i < cal->ncampaigns; i++) {
		json_decref(cal->campaigns[i].meta);
		blackouts_free(cal->campaigns[i].blackouts);
		free(cal->campaigns[i].blackouts);
	}
	json_decref(cal->planb);
	for (size_t i = 0; i < cal->nfiles; i++)
		free(cal->files[i]);
	free(cal->files);
	free(cal->posts);
	free(cal->campaigns);
	json_decref(ci->no_media);
	for (b = ci->arena; b; b = next) {
		next = b->next;
		free(b);
	}
	free(ci);
}

/* ---- small public helpers --------------------------------------------- */

int calendar_local_to_utc(const char *tz, int year, int month, int day,
                          int hour, int minute, int second, int64_t *out)
{
	const struct caltime_zone *z = caltime_zone(tz);
	char buf[32];
	struct caltime_civil c;

	if (z == NULL)
		return -1;
	/* The same range checks as a calendar file's times. */
	snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d", year, month,
	         day, hour, minute, second);
	if (caltime_parse(buf, &c, NULL, 0) < 0 || c.year != year)
		return -1;
	*out = local_ms(z, &c);
	return 0;
}
