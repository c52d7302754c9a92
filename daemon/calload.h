/*
 * The calendar loader's insides, shared by its files: calendar.c (files,
 * posts, campaigns, the zone) and calplanb.c (plan B scenarios). One
 * struct load lives for one calendar_load(); every error goes into it with
 * its place, and the list is sorted and handed out at the end. Nothing
 * outside the loader includes this.
 */
#ifndef SMMD_CALLOAD_H
#define SMMD_CALLOAD_H

#include <jansson.h>
#include <stdint.h>

#include "calendar.h"
#include "caltime.h"
#include "calyaml.h"
#include "config.h"
#include "hashtab.h"

#define MAX_MEDIA     16    /* on one post or variant, as smmctl add */
#define MAX_TEXT      65536 /* bytes: the control protocol's line */
#define MAX_KNOWN_MSG 400   /* of channel names listed in a message */

struct cal_impl;

struct mark {
	uint32_t file;
	unsigned line, column;
};

struct cal_err {
	uint32_t file; /* UINT32_MAX: the path itself, before any file */
	unsigned line, column;
	size_t seq;
	char *msg;
};

enum pend_what { PEND_AT, PEND_UNTIL, PEND_EXCLUDE, PEND_CAMPAIGN };

/* What waits for the zone, or for every campaign to be known. */
struct pending {
	uint32_t post;
	const char *campaign; /* PEND_CAMPAIGN: the name (arena) */
	uint32_t slot;        /* PEND_EXCLUDE: index in exclude_ms */
	enum pend_what what;
	struct caltime_civil c;
	struct mark m;
};

struct load {
	struct cal_impl *ci;
	struct calendar *cal;
	const struct config *cfg;
	const char *path;
	uint32_t file; /* the file being read */
	struct calyaml *y;
	struct cal_err *errs;
	size_t nerrs, cap_errs;
	struct hashtab chans, ids, camps; /* values: indexes */
	const char **chan_interned;       /* per config channel, once used */
	struct mark *id_marks;            /* per post */
	struct mark *camp_marks;          /* per campaign */
	char *known_channels;
	const char **file_tz;  /* per file: the zone it names, or NULL */
	const char *zone_name; /* post_zone's last lookup: zone_name's */
	const struct caltime_zone *zone;
	char *broken; /* per file: a syntax error stopped its reading */
	struct pending *pend;
	size_t npend, cap_pend;
	size_t dropped; /* errors past MAX_ERRORS */
	int oom;
};

/* A mapping key, kept: an event's text lasts only until the next read. */
struct load_key {
	char s[1024];
	struct mark m;
};

void load_err_at(struct load *, struct mark, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
void load_err_ev(struct load *, const struct calyaml_event *, const char *fmt,
                 ...) __attribute__((format(printf, 3, 4)));
struct mark load_mark(const struct load *, const struct calyaml_event *);
const char *load_file_name(const struct load *, uint32_t file);
/* "a, b, c": the configured channels, for an "unknown channel" message. */
const char *load_known_channels(struct load *);
/* The configured channel called name, and its interned name. */
const struct channel *load_channel(struct load *, const char *name,
                                   const char **interned);
/* Check that campaign name exists once every file is read. */
void load_need_campaign(struct load *, const char *name, struct mark);
/*
 * The scalar at ev as a string, or NULL after saying why (the node is
 * consumed either way). empty_ok: "" is returned, for the caller to judge.
 */
const char *load_string(struct load *, const struct calyaml_event *ev,
                        const char *key, int empty_ok);
/*
 * Call item for each scalar of the list at ev, or for ev itself when it
 * is one scalar ("channels: shop-x" reads as a list of one). 0, or -1 if
 * the file broke off.
 */
int load_items(struct load *, const struct calyaml_event *ev, const char *key,
               void (*item)(struct load *, const struct calyaml_event *,
                            void *),
               void *arg);
/*
 * The next entry of a mapping: 1 with its key in *k and the first event
 * of its value in *v, 0 at the mapping's end, -1 if the file broke off.
 */
int load_pair(struct load *, const char *what, struct load_key *k,
              struct calyaml_event *v);
/* A post's text: not blank, at most MAX_TEXT bytes; in the arena. */
char *load_text(struct load *, const struct calyaml_event *ev);
/* The media list at ev (never NULL unless out of memory). */
json_t *load_media(struct load *, const struct calyaml_event *ev, int *names);

/*
 * calblackout.c: a campaign's blackouts, quiet, holidays or
 * blackout_action at key k, into c->blackouts (made on first use). 1 if k
 * is one of them (its value read), 0 if not, -1 if the file broke off.
 */
int load_campaign_blackout(struct load *, const struct load_key *k,
                           const struct calyaml_event *v,
                           struct cal_campaign *c);
/*
 * calgoals.c: a campaign's goals at key k into c->goals. 1 if k is
 * "goals" (its value read), 0 if not, -1 if the file broke off.
 */
int load_campaign_goals(struct load *, const struct load_key *k,
                        const struct calyaml_event *v, struct cal_campaign *c);
/* calplanb.c: the planb: section. 0, or -1 if the file broke off. */
int calplanb_parse(struct load *, const struct calyaml_event *ev);

#endif
