/* cmd_agenda: the deliveries ahead: calendar export. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include <jansson.h>

#include "smm/protocol.h"
#include "smmctl.h"
#include "ics.h"
#include "timeparse.h"

/* Widest channel column the agenda gives before it cuts names short. */
#define CMD_AGENDA_CHANNEL_MAX 20

/*
 * A delivery a blackout moved goes at another time than it is due: say
 * when (local time) and why, under its line.
 */
static void cmd_agenda_print_shift(const json_t *d, size_t indent, size_t cols)
{
	const char *goes = ctl_str(d, "goes"), *why = ctl_str(d, "why"), *end;
	char when[64], cause[256];
	size_t used;
	struct tm tm;
	int64_t ms;
	time_t t;

	if (goes == NULL || time_parse_rfc3339(goes, &ms) < 0)
		return;
	t = (time_t)(ms / 1000 - (ms % 1000 < 0));
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%a %d %b %H:%M", &tm) == 0)
		return;
	/* "blackout (holiday 'X'): shifted from A to B": only the cause. */
	if (why && strncmp(why, "blackout (", 10) == 0 &&
	    (end = strstr(why, "): shifted")) != NULL) {
		snprintf(cause, sizeof(cause), "%.*s", (int)(end - why - 10),
		         why + 10);
		why = cause;
	}
	used = indent + strlen("goes ") + strlen(when) + strlen(": ");
	printf("%*sgoes %s: ", (int)indent, "", when);
	ctl_put_cell(why ? why : "moved", cols > used + 10 ? cols - used : 10,
	             0);
	fputc('\n', stdout);
}

/*
 * The agenda for a person: a header per local day ("Mon 23 Nov 2026"),
 * then one line per delivery: local time, state, channel, first line of
 * the text, cut to the terminal's width (80 columns when not a terminal).
 */
static void cmd_agenda_print(const json_t *deliveries)
{
	size_t i, chw = 0, w, textw;
	int cols = ctl_columns(), day = -1, key, valid;
	const json_t *d;
	const char *channel, *state, *text;
	char header[64], wday[16], mon[16];
	struct tm tm;
	int64_t ms;
	time_t t;

	json_array_foreach (deliveries, i, d) {
		channel = ctl_str(d, "channel");
		if (channel != NULL && (w = ctl_cols(channel)) > chw)
			chw = w;
	}
	if (chw > CMD_AGENDA_CHANNEL_MAX)
		chw = CMD_AGENDA_CHANNEL_MAX;
	if (chw == 0)
		chw = 1; /* room for "?" */
	/* "  HH:MM  STATE       CHANNEL  TEXT", two spaces apart. */
	w = 2 + 5 + 2 + 10 + 2 + chw + 2;
	textw = (size_t)cols > w + 10 ? (size_t)cols - w : 10;
	json_array_foreach (deliveries, i, d) {
		valid = time_parse_rfc3339(ctl_str(d, "due"), &ms) == 0;
		if (valid) {
			t = (time_t)(ms / 1000 - (ms % 1000 < 0));
			valid = localtime_r(&t, &tm) != NULL;
		}
		key = valid ? tm.tm_year * 10000 + tm.tm_mon * 100 + tm.tm_mday
		            : -2;
		if (key != day) {
			/* %a and %b: smmctl never sets a locale, so English. */
			if (!valid)
				snprintf(header, sizeof(header),
				         "(no due time)");
			else if (strftime(wday, sizeof(wday), "%a", &tm) == 0 ||
			         strftime(mon, sizeof(mon), "%b", &tm) == 0)
				snprintf(header, sizeof(header), "?");
			else
				snprintf(header, sizeof(header), "%s %d %s %d",
				         wday, tm.tm_mday, mon,
				         tm.tm_year + 1900);
			printf("%s%s\n", day == -1 ? "" : "\n", header);
			day = key;
		}
		state = ctl_str(d, "state");
		channel = ctl_str(d, "channel");
		text = ctl_str(d, "text");
		if (!valid)
			printf("  --:--  ");
		else
			printf("  %02d:%02d  ", tm.tm_hour, tm.tm_min);
		ctl_put_cell(state ? state : "?", 10, 1);
		fputs("  ", stdout);
		ctl_put_cell(channel ? channel : "?", chw, 1);
		fputs("  ", stdout);
		ctl_put_cell(text ? text : "", textw, 0);
		fputc('\n', stdout);
		cmd_agenda_print_shift(d, 2 + 5 + 2, (size_t)cols);
	}
}

/*
 * Ask smmd for the agenda the options name (full: with whole texts and
 * links). Returns 0 with *result, or an exit status.
 */
static int cmd_agenda_request(struct ctl *c, struct ctl_args *a, int full,
                              json_t **result)
{
	int r;

	if ((r = ctl_args_set_json(a, "full", json_boolean(full))) != 0 ||
	    (json_object_get(a->req, "cancelled") == NULL &&
	     (r = ctl_args_set_json(a, "cancelled", json_false())) != 0) ||
	    /* A calendar file is whole or says it is not. */
	    (full &&
	     (r = ctl_args_set_json(a, "limit", json_integer(100000))) != 0) ||
	    (r = ctl_args_request(c, a, "agenda", result)) != 0)
		return r;
	if (!json_is_array(json_object_get(*result, "deliveries"))) {
		ctl_warnx("protocol error: agenda reply without deliveries");
		json_decref(*result);
		*result = NULL;
		return EX_PROTOCOL;
	}
	if (json_is_true(json_object_get(*result, "truncated")))
		ctl_warnx("%s: more deliveries than smmd returns at once "
		          "(%zu shown): narrow --from/--to or give --channel",
		          a->cmd->name,
		          json_array_size(
		                  json_object_get(*result, "deliveries")));
	return 0;
}

/* calendar: the deliveries ahead, grouped by local day. */
static int cmd_calendar_run(struct ctl *c, struct ctl_args *a)
{
	json_t *result = NULL, *deliveries;
	char from[32], to[32];
	int r;

	if ((r = cmd_agenda_request(c, a, 0, &result)) != 0)
		return r;
	deliveries = json_object_get(result, "deliveries");
	if (a->json)
		r = ctl_print_json(result);
	else if (json_array_size(deliveries) == 0)
		printf("no deliveries from %s to %s\n",
		       ctl_local_time(ctl_str(result, "from"), from),
		       ctl_local_time(ctl_str(result, "to"), to));
	else
		cmd_agenda_print(deliveries);
	json_decref(result);
	return r;
}

/* The range and channel options calendar and export share. */
#define CMD_AGENDA_RANGE                                                  \
	{"from", 0, CTL_DATE, 0, "from", "DATE", "start (default: now)"}, \
	        {"to",                                                    \
	         0,                                                       \
	         CTL_DATE,                                                \
	         0,                                                       \
	         "to",                                                    \
	         "DATE",                                                  \
	         "end, excluded (default: 14 days after the start)"},     \
	{                                                                 \
		"channel", 'c', CTL_CHANNEL, 0, "channel", "CHANNEL",     \
		        "only the deliveries on CHANNEL"                  \
	}

const struct ctl_cmd cmd_calendar_entry = {
        .name = "calendar",
        .help = "the deliveries ahead, day by day in local time",
        .opts =
                (const struct ctl_opt[]){
                        CMD_AGENDA_RANGE,
                        {"cancelled", 0, CTL_FLAG, 0, "cancelled", NULL,
                         "show cancelled deliveries too"},
                        {"tz", 0, CTL_STR, 0, NULL, "ZONE",
                         "local times in ZONE (default: yours, $TZ)"},
                        {0},
                },
        .notes = "DATE is a TIME, or YYYY-MM-DD for the local midnight that\n"
                 "begins that day: --to 2026-12-01 ends with November 30.",
        .flags = CTL_CMD_JSON,
        .run = cmd_calendar_run,
};

/* One CSV field: quoted when it must be, its quotes doubled. */
static void csv_put(const char *s, int last)
{
	int quote = s[0] == ' ' || (s[0] && s[strlen(s) - 1] == ' ') ||
	            strpbrk(s, ",\"\r\n") != NULL;

	if (quote) {
		putchar('"');
		for (; *s; s++) {
			if (*s == '"')
				putchar('"');
			putchar(*s);
		}
		putchar('"');
	} else {
		fputs(s, stdout);
	}
	putchar(last ? '\n' : ',');
}

/* Add " s" (or s, first) to buf, as much as fits. */
static void add_word(char *buf, size_t cap, size_t *used, const char *s)
{
	int n;

	if (*used >= cap - 1)
		return;
	n = snprintf(buf + *used, cap - *used, "%s%s", *used ? " " : "", s);
	*used = n < 0 || (size_t)n >= cap - *used ? cap - 1 : *used + (size_t)n;
}

/* Whether deliveries a and b are one row: a post's same words, same time. */
static int same_row(const json_t *a, const json_t *b)
{
	return b && strcmp(ctl_str(a, "post"), ctl_str(b, "post")) == 0 &&
	       strcmp(ctl_str(a, "due"), ctl_str(b, "due")) == 0 &&
	       json_equal(json_object_get(a, "full_text"),
	                  json_object_get(b, "full_text")) &&
	       json_equal(json_object_get(a, "link"),
	                  json_object_get(b, "link")) &&
	       json_equal(json_object_get(a, "media"),
	                  json_object_get(b, "media"));
}

/*
 * export --csv: what is still to go out, in smmctl import's layout, one
 * row per post (a post whose channels say different things: one row per
 * wording, the later ones with ids POST.2, POST.3, ...).
 */
static void export_csv(const json_t *deliveries)
{
	const json_t *v, *m;
	char id[256], chans[4096];
	const char *post = "";
	size_t i, j, n = json_array_size(deliveries), part = 0;

	printf("at,channels,text,link,media,campaign,id\n");
	for (i = 0; i < n; i = j) {
		const char *state;
		size_t used = 0, k;

		v = json_array_get(deliveries, i);
		state = ctl_str(v, "state");
		for (j = i + 1;
		     j < n && same_row(v, json_array_get(deliveries, j)); j++)
			;
		if (strcmp(state, "scheduled") != 0 &&
		    strcmp(state, "retry_wait") != 0 &&
		    strcmp(state, "held") != 0 && strcmp(state, "draft") != 0)
			continue;
		part = strcmp(post, ctl_str(v, "post")) == 0 ? part + 1 : 1;
		post = ctl_str(v, "post");
		chans[0] = '\0';
		for (k = i; k < j; k++)
			add_word(chans, sizeof(chans), &used,
			         ctl_str(json_array_get(deliveries, k),
			                 "channel"));
		if (part > 1)
			snprintf(id, sizeof(id), "%s.%zu", post, part);
		else
			snprintf(id, sizeof(id), "%s", post);
		csv_put(ctl_str(v, "due"), 0);
		csv_put(chans, 0);
		csv_put(ctl_str(v, "full_text") ? ctl_str(v, "full_text") : "",
		        0);
		csv_put(ctl_str(v, "link") ? ctl_str(v, "link") : "", 0);
		used = 0;
		chans[0] = '\0';
		json_array_foreach (json_object_get(v, "media"), k, m)
			add_word(chans, sizeof(chans), &used,
			         json_string_value(m));
		csv_put(chans, 0);
		csv_put(ctl_str(v, "campaign") ? ctl_str(v, "campaign") : "",
		        0);
		csv_put(id, 1);
	}
}

/* export: the agenda as an iCalendar file, or a CSV, on standard output. */
static int cmd_export_run(struct ctl *c, struct ctl_args *a)
{
	json_t *result = NULL;
	char *ics;
	int r, csv = ctl_args_count(a, "csv") > 0;

	if (csv == (ctl_args_count(a, "ics") > 0)) {
		ctl_warnx("export: give --ics or --csv");
		return EX_USAGE;
	}
	if ((r = cmd_agenda_request(c, a, 1, &result)) != 0)
		return r;
	if (csv) {
		export_csv(json_object_get(result, "deliveries"));
		json_decref(result);
		return 0;
	}
	ics = ics_render(json_object_get(result, "deliveries"), ctl_now_ms());
	if (ics == NULL) {
		ctl_warnx("export: %s",
		          errno == ENOMEM
		                  ? "out of memory"
		                  : "protocol error: smmd sent a delivery "
		                    "without an id, state or due time");
		r = errno == ENOMEM ? EX_OSERR : EX_PROTOCOL;
	} else {
		fputs(ics, stdout);
	}
	free(ics);
	json_decref(result);
	return r;
}

const struct ctl_cmd cmd_export_entry = {
        .name = "export",
        .help = "print the deliveries as iCalendar (RFC 5545) or CSV",
        .opts =
                (const struct ctl_opt[]){
                        {"ics", 0, CTL_FLAG, 0, NULL, NULL,
                         "iCalendar, one event per delivery"},
                        {"csv", 0, CTL_FLAG, 0, NULL, NULL,
                         "CSV in smmctl import's layout: what is still to "
                         "go out, one row per post"},
                        CMD_AGENDA_RANGE,
                        {0},
                },
        .notes =
                "DATE as for calendar. Cancelled deliveries are left out; the\n"
                "others are events \"[state] channel: first line\" with the\n"
                "delivery id as a stable UID, so importing again updates them.",
        .run = cmd_export_run,
};

/* queue: a channel's upcoming slots, one a line, taken or free. */
static int cmd_queue_run(struct ctl *c, struct ctl_args *a)
{
	json_t *result = NULL, *v;
	char local[64];
	size_t i, free_n = 0;
	int r;

	if ((r = ctl_args_set(a, "channel", a->argv[0], "CHANNEL")) != 0 ||
	    (r = ctl_args_request(c, a, NULL, &result)) != 0)
		return r;
	if (a->json) {
		r = ctl_print_json(result);
		json_decref(result);
		return r;
	}
	printf("slots of %s (%s):\n", ctl_str(result, "channel"),
	       ctl_str(result, "timezone"));
	json_array_foreach (json_object_get(result, "slots"), i, v) {
		const char *by = ctl_str(v, "taken_by");
		const char *blackout = ctl_str(v, "blackout");

		free_n += by == NULL && blackout == NULL;
		printf("  %s  %-14s %s\n",
		       ctl_local_time(ctl_str(v, "at"), local),
		       ctl_str(v, "slot"),
		       by         ? by
		       : blackout ? "blacked out"
		                  : "free");
	}
	printf("%zu slots, %zu free\n",
	       json_array_size(json_object_get(result, "slots")), free_n);
	json_decref(result);
	return 0;
}

const struct ctl_cmd cmd_queue_entry = {
        .name = "queue",
        .help = "a channel's upcoming posting slots, taken and free",
        .opts =
                (const struct ctl_opt[]){
                        {"weeks", 0, CTL_INT, 0, "weeks", "N",
                         "how many weeks ahead (default 2, at most 52)"},
                        {"CHANNEL", 0, CTL_ARG, 0, NULL, NULL,
                         "a channel with slots in smmd.yaml"},
                        {0},
                },
        .notes = "Each line: the slot's local time, its rule, and the\n"
                 "delivery that takes it, or free. 'smmctl add --next-slot'\n"
                 "takes the first free one.",
        .min_args = 1,
        .max_args = 1,
        .flags = CTL_CMD_JSON,
        .run = cmd_queue_run,
};
