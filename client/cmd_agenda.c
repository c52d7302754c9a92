/* cmd_agenda: the deliveries ahead: calendar export. */
#include <errno.h>
#include <getopt.h>
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

/*
 * A --from or --to bound: a TIME, or a bare date YYYY-MM-DD meaning the
 * local midnight that begins that day. Returns 0, or -1 with a reason in
 * err.
 */
static int ctl_parse_date(const char *s, int64_t now, int64_t *out, char *err,
                          size_t errlen)
{
	static const char shape[] = "dddd-dd-dd";
	int y, m, d, i;
	struct tm tm;
	time_t t;

	for (i = 0; shape[i] && s[i]; i++)
		if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != '-')
			break;
	if (shape[i] != '\0' || s[i] != '\0')
		return time_parse(s, now, out, err, errlen);
	y = atoi(s);
	m = atoi(s + 5);
	d = atoi(s + 8);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_isdst = -1;
	/*
	 * mktime normalises: a date that does not exist comes back as
	 * another day, and a midnight skipped by a daylight saving change
	 * becomes the first instant the day has, which is what "from that
	 * day" means.
	 */
	t = mktime(&tm);
	if (t == (time_t)-1 || tm.tm_year != y - 1900 || tm.tm_mon != m - 1 ||
	    tm.tm_mday != d) {
		snprintf(err, errlen, "no such date");
		return -1;
	}
	*out = (int64_t)t * 1000;
	return 0;
}

/* Widest channel column the agenda gives before it cuts names short. */
#define CTL_AGENDA_CHANNEL_MAX 20

/*
 * The agenda for a person: a header per local day ("Mon 23 Nov 2026"),
 * then one line per delivery: local time, state, channel, first line of
 * the text, cut to the terminal's width (80 columns when not a terminal).
 */
static void ctl_print_calendar(const json_t *deliveries)
{
	size_t i, chw = 0, w, textw;
	int cols = ctl_columns(), day = -1, key, valid;
	const json_t *d;
	const char *channel, *state, *text;
	char header[64], wday[16], mon[16];
	struct tm tm;
	int64_t ms;
	time_t t;

	json_array_foreach(deliveries, i, d)
	{
		channel = ctl_str(d, "channel");
		if (channel != NULL) {
			ctl_fit(channel, CTL_AGENDA_CHANNEL_MAX + 1, &w);
			if (w > chw)
				chw = w;
		}
	}
	if (chw > CTL_AGENDA_CHANNEL_MAX)
		chw = CTL_AGENDA_CHANNEL_MAX;
	if (chw == 0)
		chw = 1; /* room for "?" */
	/* "  HH:MM  STATE       CHANNEL  TEXT", two spaces apart. */
	w = 2 + 5 + 2 + 10 + 2 + chw + 2;
	textw = (size_t)cols > w + 10 ? (size_t)cols - w : 10;
	json_array_foreach(deliveries, i, d)
	{
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
	}
}

/* What calendar and export ask: a range and a channel, as typed. */
struct ctl_agenda_opts {
	const char *from;
	const char *to;
	const char *channel;
	int json;
	int ics;
	int cancelled;
};

/*
 * Parse the options of calendar (allow_ics 0) or export (allow_ics 1).
 * Returns 0, -1 when --help was printed, or an exit status.
 */
static int ctl_parse_agenda(struct ctl *c, const struct ctl_command *cmd,
                            int argc, char **argv, int allow_ics,
                            struct ctl_agenda_opts *o)
{
	enum { OPT_FROM = 256, OPT_TO, OPT_JSON, OPT_ICS, OPT_CANCELLED };
	static const struct option calendar_opts[] = {
	        {"from", required_argument, NULL, OPT_FROM},
	        {"to", required_argument, NULL, OPT_TO},
	        {"channel", required_argument, NULL, 'c'},
	        {"cancelled", no_argument, NULL, OPT_CANCELLED},
	        {"json", no_argument, NULL, OPT_JSON},
	        {"socket", required_argument, NULL, 's'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	static const struct option export_opts[] = {
	        {"ics", no_argument, NULL, OPT_ICS},
	        {"from", required_argument, NULL, OPT_FROM},
	        {"to", required_argument, NULL, OPT_TO},
	        {"channel", required_argument, NULL, 'c'},
	        {"socket", required_argument, NULL, 's'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	int ch;

	memset(o, 0, sizeof(*o));
	ctl_getopt_reset();
	while ((ch = getopt_long(argc, argv, ":c:s:h",
	                         allow_ics ? export_opts : calendar_opts,
	                         NULL)) != -1) {
		switch (ch) {
		case OPT_FROM:
			o->from = optarg;
			break;
		case OPT_TO:
			o->to = optarg;
			break;
		case 'c':
			o->channel = optarg;
			break;
		case OPT_CANCELLED:
			o->cancelled = 1;
			break;
		case OPT_JSON:
			o->json = 1;
			break;
		case OPT_ICS:
			o->ics = 1;
			break;
		case 's':
			c->socket_path = optarg;
			break;
		case 'h':
			ctl_command_help(cmd);
			return -1;
		default:
			return ctl_bad_option(cmd, ch, optopt, argv);
		}
	}
	if (optind != argc) {
		ctl_warnx("%s: unexpected argument '%s' (try 'smmctl help "
		          "%s')",
		          cmd->name, argv[optind], cmd->name);
		return EX_USAGE;
	}
	return 0;
}

/*
 * Ask smmd for the agenda of o's range (full: with whole texts and links).
 * Bounds are read in the user's time zone and sent as UTC. Returns 0 with
 * *result, or an exit status.
 */
static int ctl_agenda(struct ctl *c, const struct ctl_command *cmd,
                      const struct ctl_agenda_opts *o, int full,
                      json_t **result)
{
	const char *bound[2] = {o->from, o->to}, *key[2] = {"from", "to"};
	char err[128], when[TIME_RFC3339_LEN];
	int64_t now = ctl_now_ms(), ms[2];
	json_t *args;
	int i, r = 0;

	*result = NULL;
	if ((args = json_object()) == NULL) {
		ctl_warnx("out of memory");
		return EX_OSERR;
	}
	for (i = 0; i < 2 && r == 0; i++) {
		if (bound[i] == NULL)
			continue;
		if (ctl_parse_date(bound[i], now, &ms[i], err, sizeof(err)) !=
		    0) {
			ctl_warnx("%s: invalid --%s '%s': %s", cmd->name,
			          key[i], bound[i], err);
			r = EX_DATAERR;
			break;
		}
		r = ctl_set_string(args, key[i],
		                   time_format_rfc3339(ms[i], when), key[i]);
	}
	if (r == 0 && o->channel)
		r = ctl_set_string(args, "channel", o->channel, "--channel");
	if (r == 0 && (json_object_set_new(args, "full", json_boolean(full)) ||
	               json_object_set_new(args, "cancelled",
	                                   json_boolean(o->cancelled)) ||
	               /* A calendar file is whole or says it is not. */
	               (full && json_object_set_new(args, "limit",
	                                            json_integer(100000))))) {
		ctl_warnx("out of memory");
		r = EX_OSERR;
	}
	if (r == 0)
		r = ctl_request(c, "agenda", args, result);
	json_decref(args);
	if (r == 0 && !json_is_array(json_object_get(*result, "deliveries"))) {
		ctl_warnx("protocol error: agenda reply without deliveries");
		json_decref(*result);
		*result = NULL;
		r = EX_PROTOCOL;
	}
	if (r == 0 && json_is_true(json_object_get(*result, "truncated")))
		ctl_warnx("%s: more deliveries than smmd returns at once "
		          "(%zu shown): narrow --from/--to or give --channel",
		          cmd->name,
		          json_array_size(
		                  json_object_get(*result, "deliveries")));
	return r;
}

/* calendar: the deliveries ahead, grouped by local day. */
int ctl_cmd_calendar(struct ctl *c, const struct ctl_command *cmd, int argc,
                     char **argv)
{
	struct ctl_agenda_opts o;
	json_t *result = NULL, *deliveries;
	char from[32], to[32];
	int r;

	if ((r = ctl_parse_agenda(c, cmd, argc, argv, 0, &o)) != 0)
		return r == -1 ? 0 : r;
	if ((r = ctl_agenda(c, cmd, &o, 0, &result)) != 0)
		return r;
	deliveries = json_object_get(result, "deliveries");
	if (o.json)
		r = ctl_print_json(result);
	else if (json_array_size(deliveries) == 0)
		printf("no deliveries from %s to %s\n",
		       ctl_local_time(ctl_str(result, "from"), from),
		       ctl_local_time(ctl_str(result, "to"), to));
	else
		ctl_print_calendar(deliveries);
	json_decref(result);
	return r;
}

/* export --ics: the agenda as an iCalendar file on standard output. */
int ctl_cmd_export(struct ctl *c, const struct ctl_command *cmd, int argc,
                   char **argv)
{
	struct ctl_agenda_opts o;
	json_t *result = NULL;
	char *ics;
	int r;

	if ((r = ctl_parse_agenda(c, cmd, argc, argv, 1, &o)) != 0)
		return r == -1 ? 0 : r;
	if (!o.ics) {
		ctl_warnx("export: give the format: --ics (try 'smmctl help "
		          "export')");
		return EX_USAGE;
	}
	if ((r = ctl_agenda(c, cmd, &o, 1, &result)) != 0)
		return r;
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
