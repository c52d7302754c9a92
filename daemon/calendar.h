/*
 * The content calendar: YAML files kept in git, parsed into posts,
 * validated against the configuration (every error at once, as
 * FILE:LINE:COLUMN: message) and expanded into the deliveries it asks for.
 * Pure: no event loop, no store; the current time is passed in.
 *
 * Time answers (RFC 5545, section 3.3.5): a local time that does not exist
 * (spring forward) is read as if the clocks had not changed yet, i.e. moved
 * forward by the gap (02:30 on a 02:00->03:00 day is 03:30); a local time
 * that exists twice (fall back) is the first of the two instants.
 */
#ifndef SMMD_CALENDAR_H
#define SMMD_CALENDAR_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "caltime.h"
#include "blackout.h"
#include "config.h"

struct cal_variant {
	char *channel;
	char *text;    /* NULL: the post's */
	char *link;    /* NULL: the post's */
	json_t *media; /* NULL: the post's */
};

struct cal_post {
	char *id;
	const char *file;      /* borrowed from struct calendar */
	unsigned line, column; /* where the post's mapping starts */
	int64_t at_ms;         /* one-off: its instant; recurring: the first
	                        * occurrence (DTSTART); -1 if not given */
	int64_t at_wall_s;     /* recurring: `at` as wall-clock seconds in
	                        * the calendar's zone, counted as if that
	                        * zone were UTC: what the RRULE iterates */
	char *rrule;           /* NULL for a one-off */
	int64_t until_ms;      /* the last instant an occurrence may have
	                        * (a date: the end of that day); -1: none */
	unsigned count;        /* occurrences from `at` on; 0: no limit */
	int64_t *exclude_ms;   /* occurrences left out (UTC instants) */
	char **exclude_dates;  /* or whole local days "YYYY-MM-DD" */
	size_t nexclude, nexclude_dates;
	char **channels;
	size_t nchannels;
	char *text;     /* without one of its own (every channel has
	                 * a variant text): its first channel's */
	char *link;     /* may be NULL */
	char *campaign; /* may be NULL */
	json_t *media;  /* array of strings, never NULL */
	struct cal_variant *variants;
	size_t nvariants;
	int draft;            /* kept, never published */
	int next_slot;        /* at: next-slot: its channels' first free slot,
	                       * chosen when first synced and kept (at_ms -1) */
	const char *timezone; /* of its local times: its own, its file's,
	                       * else the calendar's (arena) */
};

/*
 * What a campaign sets out to reach (calgoals.c): each target -1 where not
 * set; by (and from, if given) are days in the calendar's zone.
 */
struct cal_goals {
	int set;                       /* the campaign has goals */
	int64_t posts;                 /* posts published */
	int64_t engagement;            /* likes, shares, comments and quotes */
	int64_t followers;             /* audience growth on its channels */
	struct caltime_civil from, by; /* from.year 0: its first post */
	unsigned line, column;         /* where `goals` is written */
};

struct cal_campaign {
	char *name;
	json_t *meta;           /* utm_campaign and whatever else, as given */
	struct cadence cadence; /* planned rhythm; n and min_gap 0: none */
	/* Where it was declared (cadence's value, else min_gap's). */
	const char *file; /* borrowed from struct calendar; NULL: not */
	unsigned line, column;
	/* Its days off (blackout.h); NULL: none. Freed with the calendar
	 * unless the daemon takes them (pause_adopt_campaigns). */
	struct blackouts *blackouts;
	struct cal_goals goals;
};

struct calendar {
	char *timezone; /* IANA name: the first a file names, else the
	                 * system's; files and posts may have their own */
	char **files;   /* every file read, in order (owned) */
	size_t nfiles;
	struct cal_campaign *campaigns;
	size_t ncampaigns;
	struct cal_post *posts;
	size_t nposts;
	/* Plan B's scenarios by name, as JSON (see parse_planb); never NULL. */
	json_t *planb;
};

/*
 * Load path: one YAML file, or a directory whose *.yaml files are read in
 * name order (ids are unique across all of them; dot files are skipped).
 * cfg gives the known channels and their max_length. Returns 0 with *out
 * (owned by the caller), or -1 with every problem appended to errs,
 * sorted by file, line and column (at most 1,000, then a count). A file
 * with a YAML syntax error reports that error alone; the others are
 * still checked.
 *
 * Each file may name its zone (one calendar per brand, brands in other
 * zones), and each post its own; a file that names none takes the first
 * zone another file names, else the system's ($TZ, /etc/timezone, the
 * target of /etc/localtime, else UTC). "timezone: localtime" asks for the
 * system's too.
 * A recurring post needs `at`, the first occurrence (its DTSTART); it is
 * an occurrence only if it matches the rule (libical's reading). Post ids
 * may not contain '@', which marks an occurrence.
 *
 * Thread-safe (no globals, the process's TZ untouched): reload runs it
 * off the loop.
 */
int calendar_load(const char *path, const struct config *cfg,
                  struct calendar **out, struct config_errors *errs);
void calendar_free(struct calendar *);

/*
 * One delivery the calendar asks for; pointers borrow from the calendar,
 * except id and post_id, which are valid only during the callback.
 */
struct cal_delivery {
	const char *id;      /* "<post>/<channel>", "<post>@<UTC>/<channel>" */
	const char *post_id; /* "<post>" or "<post>@<UTC>" */
	const struct cal_post *post;
	const char *channel;
	int64_t due_ms;
	const char *text; /* after the channel's variant */
	const char *link;
	const json_t *media;
	const char *campaign;
	/* Of everything a change is judged on: due, text, link, media. */
	uint64_t hash;
};

/*
 * Call fn for every delivery of every non-draft post: each one-off
 * (whatever its time: the caller decides about the past), and each
 * occurrence of a recurring post in [from_ms, horizon_ms). The occurrence
 * id uses its UTC instant as "20261122T090000Z". Never unbounded: at most
 * 10,000 occurrences of one post per call (calexpand.h). Returns 0 or -1
 * (an RRULE libical rejects at expansion: already reported by
 * calendar_load).
 */
int calendar_expand(const struct calendar *, int64_t from_ms,
                    int64_t horizon_ms,
                    void (*fn)(void *arg, const struct cal_delivery *),
                    void *arg);

/*
 * Call fn for the one delivery calendar_expand gave for channel (an index
 * into p->channels) of p's occurrence post_id at due_ms, exactly as it
 * gave it: a diff worked out on another thread names a delivery by these
 * and rebuilds it where it is applied.
 */
void calendar_delivery(const struct calendar *, const struct cal_post *p,
                       const char *post_id, int64_t due_ms, size_t channel,
                       void (*fn)(void *arg, const struct cal_delivery *),
                       void *arg);

/*
 * Local wall time in zone tz -> UTC ms, with the gap and overlap answers
 * above. Returns 0, or -1 if tz is not a known zone.
 */
int calendar_local_to_utc(const char *tz, int year, int month, int day,
                          int hour, int minute, int second, int64_t *out);

#endif
