/*
 * The calendar's planb: section, the prepared statements of Plan B. Each
 * scenario is checked as a post is: every channel it names is configured,
 * every campaign it pauses is defined (in any file), its text, link and
 * media are valid, and the text each channel gets fits its max_length,
 * every error at the place in the file that causes it.
 *
 * A scenario is kept as JSON (the daemon keeps it past the calendar's
 * life): {"severity", "pause": {"all": true} | {"channels": [..]} |
 * {"campaigns": [..]}, "channels": [..], "text", "link", "media": [..],
 * "variants": {channel: {"text"}}, "approvers": [..], "where": "file:l:c"}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calload.h"
#include "textcheck.h"
#include "urlcheck.h"

#define MAX_VARIANTS 64 /* a scenario's, with their places */

static const char *const severities[] = {"low", "medium", "high", "critical"};

/* One scenario being read: where its parts are, for the checks at its end. */
struct scenario {
	const char *name;
	json_t *sc;
	struct mark at;    /* its name */
	struct mark text;  /* its text's value */
	struct mark media; /* its media list */
	int has_text, has_media, media_names;
	struct {
		const char *channel, *text; /* as kept in sc's variants */
		struct mark key, at;
	} variant[MAX_VARIANTS];
	size_t nvariants;
};

static void append_string(struct load *ld, const struct calyaml_event *ev,
                          void *arr)
{
	const char *s = load_string(ld, ev, "a list entry", 0);

	if (s && json_array_append_new(arr, json_stringn(s, ev->len)) < 0)
		ld->oom = 1;
}

/*
 * Whether what a list names is in it already: a channel named twice would
 * get the statement twice.
 */
static int listed_twice(struct load *ld, const struct calyaml_event *ev,
                        json_t *arr, const char *what, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach (arr, i, v)
		if (json_string_length(v) == ev->len &&
		    memcmp(json_string_value(v), s, ev->len) == 0) {
			load_err_ev(ld, ev, "%s '%s' is listed twice", what, s);
			return 1;
		}
	return 0;
}

/* A channel the scenario names, checked where it is written. */
static void append_channel(struct load *ld, const struct calyaml_event *ev,
                           void *arr)
{
	const char *s = load_string(ld, ev, "channels", 0), *interned;

	if (s == NULL)
		return;
	if (load_channel(ld, s, &interned) == NULL) {
		load_err_ev(ld, ev,
		            "unknown channel '%s' in plan B (known: %s)", s,
		            load_known_channels(ld));
		return;
	}
	if (listed_twice(ld, ev, arr, "channel", s))
		return;
	if (json_array_append_new(arr, json_stringn(s, ev->len)) < 0)
		ld->oom = 1;
}

/* A campaign the scenario pauses: it may be defined in a later file. */
static void append_campaign(struct load *ld, const struct calyaml_event *ev,
                            void *arr)
{
	const char *s = load_string(ld, ev, "campaigns", 0);
	json_t *name;

	if (s == NULL || listed_twice(ld, ev, arr, "campaign", s))
		return;
	if ((name = json_stringn(s, ev->len)) == NULL ||
	    json_array_append_new(arr, name) < 0) {
		ld->oom = 1;
		return;
	}
	/* The array keeps the string until the calendar is freed. */
	load_need_campaign(ld, json_string_value(name), load_mark(ld, ev));
}

/* A list (or one name) into obj[key], each item taken by item. */
static int planb_list(struct load *ld, const struct calyaml_event *ev,
                      json_t *obj, const char *key,
                      void (*item)(struct load *, const struct calyaml_event *,
                                   void *))
{
	json_t *arr = json_array();

	if (arr == NULL || json_object_set_new(obj, key, arr) < 0) {
		ld->oom = 1;
		return -1;
	}
	return load_items(ld, ev, key, item, arr);
}

static int planb_pause(struct load *ld, const struct calyaml_event *ev,
                       json_t *sc)
{
	json_t *pause = json_object();
	struct calyaml_event v;
	struct load_key k;
	int r;

	json_object_set_new(sc, "pause", pause);
	if (ev->kind == CALYAML_SCALAR && strcmp(ev->value, "all") == 0) {
		json_object_set_new(pause, "all", json_true());
		return 0;
	}
	if (ev->kind != CALYAML_MAPPING) {
		load_err_ev(
		        ld, ev,
		        "'pause' is 'all', {channels: [...]} or {campaigns: "
		        "[...]}");
		return calyaml_skip(ld->y, ev);
	}
	while ((r = load_pair(ld, "'pause'", &k, &v)) > 0) {
		int chans = strcmp(k.s, "channels") == 0;

		if (!chans && strcmp(k.s, "campaigns") != 0)
			load_err_at(ld, k.m,
			            "unknown key '%s' in 'pause' (known: "
			            "channels, campaigns)",
			            k.s);
		else if (json_object_size(pause) > 0)
			load_err_at(ld, k.m,
			            "'pause' takes channels or campaigns, not "
			            "both");
		else if (planb_list(ld, &v, pause, k.s,
		                    chans ? append_channel : append_campaign) <
		         0)
			return -1;
		else
			continue;
		if (calyaml_skip(ld->y, &v) < 0)
			return -1;
	}
	return r;
}

static int planb_variants(struct load *ld, const struct calyaml_event *ev,
                          struct scenario *s)
{
	json_t *vars = json_object();
	struct calyaml_event v;
	struct load_key k;
	int r;

	json_object_set_new(s->sc, "variants", vars);
	if (ev->kind != CALYAML_MAPPING) {
		load_err_ev(ld, ev,
		            "'variants' must map channel names to texts");
		return calyaml_skip(ld->y, ev);
	}
	while ((r = load_pair(ld, "'variants'", &k, &v)) > 0) {
		struct mark at = load_mark(ld, &v);
		const char *t = load_text(ld, &v);
		const char *key;
		void *iter;

		if (t == NULL)
			continue;
		if (s->nvariants == MAX_VARIANTS) {
			load_err_at(ld, k.m, "more than %d variants",
			            MAX_VARIANTS);
			continue;
		}
		json_object_set_new(vars, k.s, json_pack("{s:s}", "text", t));
		/* The variants object keeps the key as long as the calendar. */
		iter = json_object_iter_at(vars, k.s);
		key = iter ? json_object_iter_key(iter) : NULL;
		if (key == NULL) {
			ld->oom = 1;
			continue;
		}
		s->variant[s->nvariants].channel = key;
		s->variant[s->nvariants].text = t;
		s->variant[s->nvariants].key = k.m;
		s->variant[s->nvariants++].at = at;
	}
	return r;
}

static void planb_severity(struct load *ld, const struct calyaml_event *v,
                           json_t *sc)
{
	const char *s = load_string(ld, v, "severity", 0);
	size_t i = 0;

	if (s == NULL)
		return;
	while (i < 4 && strcmp(s, severities[i]) != 0)
		i++;
	if (i == 4)
		load_err_ev(ld, v,
		            "severity '%s' is low, medium, high or critical",
		            s);
	else
		json_object_set_new(sc, "severity", json_string(s));
}

/* One key of a scenario. 0, or -1 if the file broke off. */
static int planb_key(struct load *ld, struct scenario *s,
                     const struct load_key *k, const struct calyaml_event *v)
{
	const char *t;

	if (strcmp(k->s, "severity") == 0) {
		planb_severity(ld, v, s->sc);
	} else if (strcmp(k->s, "pause") == 0) {
		return planb_pause(ld, v, s->sc);
	} else if (strcmp(k->s, "channels") == 0) {
		return planb_list(ld, v, s->sc, k->s, append_channel);
	} else if (strcmp(k->s, "approvers") == 0) {
		return planb_list(ld, v, s->sc, k->s, append_string);
	} else if (strcmp(k->s, "media") == 0) {
		json_t *media;

		s->media = load_mark(ld, v);
		if ((media = load_media(ld, v, &s->media_names)) == NULL)
			return ld->oom ? 0 : -1;
		s->has_media = 1;
		json_object_set_new(s->sc, "media", media);
	} else if (strcmp(k->s, "variants") == 0) {
		return planb_variants(ld, v, s);
	} else if (strcmp(k->s, "text") == 0) {
		s->text = load_mark(ld, v);
		if ((t = load_text(ld, v)) != NULL) {
			s->has_text = 1;
			json_object_set_new(s->sc, "text", json_string(t));
		}
	} else if (strcmp(k->s, "link") == 0) {
		if ((t = load_string(ld, v, "link", 0)) == NULL)
			return 0;
		if (urlcheck(t, URLCHECK_PREFIX) != URLCHECK_OK)
			load_err_ev(ld, v,
			            "link '%s' is not an http or https URL", t);
		else
			json_object_set_new(s->sc, "link",
			                    json_stringn(t, v->len));
	} else {
		load_err_at(ld, k->m,
		            "unknown key '%s' in a plan B scenario (known: "
		            "severity, pause, channels, text, link, media, "
		            "variants, approvers)",
		            k->s);
		return calyaml_skip(ld->y, v);
	}
	return 0;
}

static int has_string(const json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach (arr, i, v)
		if (strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

/* The channels the statement goes to: as written, or the pause's, or all. */
static json_t *statement_channels(struct load *ld, json_t *sc)
{
	json_t *chans = json_object_get(sc, "channels");
	json_t *paused =
	        json_object_get(json_object_get(sc, "pause"), "channels");

	if (chans)
		return chans;
	if (paused)
		chans = json_deep_copy(paused);
	else if ((chans = json_array()) != NULL)
		for (size_t i = 0; i < ld->cfg->nchannels; i++)
			json_array_append_new(
			        chans, json_string(ld->cfg->channels[i].name));
	if (chans == NULL || json_object_set_new(sc, "channels", chans) < 0) {
		ld->oom = 1;
		return NULL;
	}
	return chans;
}

/* The text channel c gets fits it; media names need its media_dir. */
static void check_channel(struct load *ld, const struct scenario *s,
                          const struct channel *ch)
{
	const char *text = json_string_value(json_object_get(s->sc, "text"));
	struct mark at = s->text;
	char why[512];

	for (size_t i = 0; i < s->nvariants; i++)
		if (strcmp(s->variant[i].channel, ch->name) == 0) {
			text = s->variant[i].text;
			at = s->variant[i].at;
		}
	if (text && textcheck(ch, text,
	                      json_string_value(json_object_get(s->sc, "link")),
	                      why, sizeof(why)))
		load_err_at(ld, at, "plan B scenario '%s': %s", s->name, why);
	if (s->media_names && ch->media_dir == NULL)
		load_err_at(ld, s->media,
		            "plan B scenario '%s': media names a file, but "
		            "channel '%s' has no media_dir (use an http or "
		            "https URL)",
		            s->name, ch->name);
}

/* What needs the whole scenario: its text and pause, each channel's fit. */
static void planb_check(struct load *ld, struct scenario *s)
{
	json_t *chans, *v;
	const char *interned;
	size_t i;

	if (!s->has_text)
		load_err_at(ld, s->at,
		            "plan B scenario '%s' has no 'text' (its holding "
		            "statement)",
		            s->name);
	if (json_object_get(s->sc, "pause") == NULL)
		load_err_at(ld, s->at,
		            "plan B scenario '%s' has no 'pause' (all, or "
		            "{channels: [...]} or {campaigns: [...]})",
		            s->name);
	if (json_object_get(s->sc, "severity") == NULL)
		json_object_set_new(s->sc, "severity", json_string("high"));
	if ((chans = statement_channels(ld, s->sc)) == NULL)
		return;
	for (i = 0; i < s->nvariants; i++)
		if (!has_string(chans, s->variant[i].channel))
			load_err_at(ld, s->variant[i].key,
			            "plan B scenario '%s': variant for '%s', "
			            "which is not one of its channels",
			            s->name, s->variant[i].channel);
	json_array_foreach (chans, i, v) {
		const struct channel *ch =
		        load_channel(ld, json_string_value(v), &interned);

		if (ch)
			check_channel(ld, s, ch);
	}
}

/*
 * A key's bit in a scenario's seen keys, 0 if unknown. A key given twice
 * is an error, as in a post: a second 'variants' would free the names
 * that the scenario's checks still point at.
 */
static unsigned scenario_key_bit(const char *key)
{
	static const char *const keys[] = {
	        "severity", "pause", "channels", "text",
	        "link",     "media", "variants", "approvers",
	};

	for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(key, keys[i]) == 0)
			return 1u << i;
	return 0;
}

/* One scenario, its name in k. 0, or -1 if the file broke off. */
static int planb_scenario(struct load *ld, const struct load_key *k,
                          const struct calyaml_event *v)
{
	struct scenario *s;
	struct calyaml_event e;
	struct load_key f;
	char where[sizeof(k->s) + 4096 + 32];
	unsigned seen = 0, bit;
	int r;

	if (json_object_get(ld->cal->planb, k->s)) {
		load_err_at(ld, k->m, "duplicate plan B scenario '%s'", k->s);
		return calyaml_skip(ld->y, v);
	}
	if (v->kind != CALYAML_MAPPING) {
		load_err_ev(ld, v, "plan B scenario '%s' must be a mapping",
		            k->s);
		return calyaml_skip(ld->y, v);
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		ld->oom = 1;
		return calyaml_skip(ld->y, v);
	}
	/* Kept from the start: what it holds lives as long as the calendar. */
	s->sc = json_object();
	if (s->sc == NULL ||
	    json_object_set_new(ld->cal->planb, k->s, s->sc) < 0) {
		ld->oom = 1;
		free(s);
		return calyaml_skip(ld->y, v);
	}
	s->name = k->s;
	s->at = k->m;
	snprintf(where, sizeof(where), "%s:%u:%u",
	         load_file_name(ld, k->m.file), k->m.line, k->m.column);
	json_object_set_new(s->sc, "where", json_string(where));
	while ((r = load_pair(ld, "a plan B scenario", &f, &e)) > 0) {
		if ((bit = scenario_key_bit(f.s)) != 0 && (seen & bit)) {
			load_err_at(ld, f.m,
			            "duplicate key '%s' in a plan B scenario",
			            f.s);
			if ((r = calyaml_skip(ld->y, &e)) < 0)
				break;
			continue;
		}
		seen |= bit;
		if (planb_key(ld, s, &f, &e) < 0) {
			r = -1;
			break;
		}
	}
	if (r == 0)
		planb_check(ld, s);
	free(s);
	return r;
}

int calplanb_parse(struct load *ld, const struct calyaml_event *ev)
{
	struct calyaml_event v;
	struct load_key k;
	int r;

	if (ev->kind != CALYAML_MAPPING) {
		load_err_ev(ld, ev,
		            "'planb' must map scenario names to scenarios");
		return calyaml_skip(ld->y, ev);
	}
	while ((r = load_pair(ld, "'planb'", &k, &v)) > 0)
		if (planb_scenario(ld, &k, &v) < 0)
			return -1;
	return r;
}
