/* cmd_admin: running smmd and smmctl itself: reload backup log help. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <jansson.h>

#include "smm/protocol.h"
#include "smmctl.h"
#include "timeparse.h"

/* reload: re-read smmd.yaml and the calendar; print what changed. */
static int cmd_reload_run(struct ctl *c, struct ctl_args *a)
{
	json_t *result = NULL, *cal;
	int r;

	if ((r = ctl_args_request(c, a, NULL, &result)) != 0)
		return r;
	if (a->json) {
		r = ctl_print_json(result);
		json_decref(result);
		return r;
	}
	printf("reloaded %s (%lld channels)\n", ctl_str(result, "config"),
	       ctl_int(result, "channels"));
	cal = json_object_get(result, "calendar");
	if (json_is_object(cal))
		printf("calendar: %lld added, %lld updated, %lld cancelled, "
		       "%lld unchanged, %lld missed",
		       ctl_int(cal, "added"), ctl_int(cal, "updated"),
		       ctl_int(cal, "cancelled"), ctl_int(cal, "unchanged"),
		       ctl_int(cal, "missed"));
	/* Only beside workers: a line like any other node's otherwise. */
	if (json_is_object(cal) && ctl_int(cal, "deferred") > 0)
		printf(", %lld deferred (due this moment on another node's "
		       "channel: synced again in a few seconds)",
		       ctl_int(cal, "deferred"));
	if (json_is_object(cal))
		printf("\n");
	json_decref(result);
	return 0;
}

const struct ctl_cmd cmd_reload_entry = {
        .name = "reload",
        .help = "re-read smmd.yaml and the calendar; print what changed",
        .notes = "A file with errors changes nothing: every error is printed\n"
                 "as FILE:LINE:COLUMN: message and the schedule keeps running.",
        .flags = CTL_CMD_JSON,
        .run = cmd_reload_run,
};

/*
 * backup FILE: smmd copies its store and sends the copy; FILE is made
 * here, as the user who asked, new (never over an existing file) and
 * private, and removed again if anything goes wrong.
 */
static int cmd_backup_run(struct ctl *c, struct ctl_args *a)
{
	const char *path = a->argv[0];
	json_t *result = NULL, *args = json_object();
	int fd, r;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		ctl_warnx("cannot create '%s': %s%s", path, strerror(errno),
		          errno == EEXIST ? " (not overwriting it)" : "");
		json_decref(args);
		return EX_CANTCREAT;
	}
	r = args ? ctl_request_file(c, "backup", args, fd, &result) : EX_OSERR;
	json_decref(args);
	if (r == 0 && fsync(fd) < 0) {
		ctl_warnx("cannot write '%s': %s", path, strerror(errno));
		r = EX_IOERR;
	}
	if (close(fd) < 0 && r == 0) {
		ctl_warnx("cannot write '%s': %s", path, strerror(errno));
		r = EX_IOERR;
	}
	if (r != 0) {
		unlink(path);
		json_decref(result);
		return r;
	}
	if (a->json)
		r = ctl_print_json(result);
	else
		printf("backup: %s: %lld bytes, the store as of %s\n", path,
		       ctl_int(result, "bytes"), ctl_str(result, "taken"));
	json_decref(result);
	return r;
}

static const struct ctl_opt backup_opts[] = {
        {"FILE", 0, CTL_ARG, 0, NULL, NULL,
         "where to write the copy (a new file)"},
        {0},
};

const struct ctl_cmd cmd_backup_entry = {
        .name = "backup",
        .help = "write a consistent copy of smmd's store to FILE",
        .notes = "smmd keeps running and publishing while it copies. To\n"
                 "restore: stop smmd, put FILE in its state_dir as smmd.db\n"
                 "(remove smmd.db-wal and smmd.db-shm), start smmd.",
        .opts = backup_opts,
        .min_args = 1,
        .max_args = 1,
        .flags = CTL_CMD_JSON,
        .run = cmd_backup_run,
};

/* What a log run prints, and whether it follows. */
struct log_out {
	int json;
	int follow;
};

/*
 * The event's reason without the "HTTP 400" that the line shows already:
 * NULL when nothing is left.
 */
static const char *log_reason(const json_t *ev)
{
	const char *s = ctl_str(ev, "reason");
	char http[32];
	size_t n;

	if (s == NULL || ctl_int(ev, "http_status") <= 0)
		return s;
	n = (size_t)snprintf(http, sizeof(http), "HTTP %lld",
	                     ctl_int(ev, "http_status"));
	if (strncmp(s, http, n) != 0)
		return s;
	s += n;
	s += strspn(s, ": ");
	return *s ? s : NULL;
}

/* The details that apply to an event: "attempt 2, HTTP 500, 12 ms". */
static void log_details(const json_t *ev)
{
	const char *sep = "  ", *s;
	char buf[32], t[32];

	if (ctl_int(ev, "attempt") > 0) {
		printf("%sattempt %lld", sep, ctl_int(ev, "attempt"));
		sep = ", ";
	}
	if (ctl_int(ev, "http_status") > 0) {
		printf("%sHTTP %lld", sep, ctl_int(ev, "http_status"));
		sep = ", ";
	}
	if (json_is_number(json_object_get(ev, "latency_ms"))) {
		printf("%s%s", sep,
		       ctl_latency(json_object_get(ev, "latency_ms"), buf,
		                   sizeof(buf)));
		sep = ", ";
	}
	if ((s = ctl_str(ev, "next")) != NULL) {
		printf("%snext %s", sep, ctl_local_time(s, t));
		sep = ", ";
	}
	if ((s = log_reason(ev)) != NULL) {
		fputs(sep, stdout);
		ctl_put_text(stdout, s, 1, 0);
	}
}

/*
 * One event as a line: local time to the millisecond, type, delivery id,
 * from -> state, then the details that apply.
 */
static void log_line(const json_t *ev)
{
	const char *time = ctl_str(ev, "time"), *from = ctl_str(ev, "from");
	const char *type = ctl_str(ev, "type"), *id = ctl_str(ev, "id");
	const char *state = ctl_str(ev, "state");
	char t[32];
	int64_t ms;

	if (time != NULL && time_parse_rfc3339(time, &ms) == 0)
		printf("%s.%03d", time_format_local(ms, t), (int)(ms % 1000));
	else
		fputs(time ? time : "-", stdout);
	fputs("  ", stdout);
	/* Types line up ("cancelled" is the longest); a new one is not cut. */
	type = type ? type : "-";
	ctl_put_text(stdout, type, 1, 0);
	printf("%*s  ", ctl_cols(type) < 9 ? 9 - (int)ctl_cols(type) : 0, "");
	/* A pause's or a resume's: its scope, who, why. */
	if (id == NULL && ctl_str(ev, "scope") != NULL) {
		ctl_put_text(stdout, ctl_str(ev, "scope"), 1, 0);
		if (ctl_str(ev, "by")) {
			fputs("  by ", stdout);
			ctl_put_text(stdout, ctl_str(ev, "by"), 1, 0);
		}
		if (ctl_str(ev, "reason")) {
			fputs(": ", stdout);
			ctl_put_text(stdout, ctl_str(ev, "reason"), 1, 0);
		}
		fputc('\n', stdout);
		return;
	}
	ctl_put_text(stdout, id ? id : "-", 1, 0);
	fputs("  ", stdout);
	/* A new delivery comes from no state. */
	ctl_put_text(stdout, from ? from : "new", 1, 0);
	fputs(" -> ", stdout);
	ctl_put_text(stdout, state ? state : "-", 1, 0);
	log_details(ev);
	fputc('\n', stdout);
}

/* Print one event; a follower flushes it so a pipe sees it at once. */
static int log_event(void *arg, const json_t *ev)
{
	const struct log_out *o = arg;

	if (o->json) {
		if (json_dumpf(ev, stdout, JSON_COMPACT) == -1)
			return EX_IOERR;
		fputc('\n', stdout);
	} else {
		log_line(ev);
	}
	if (o->follow && (fflush(stdout) != 0 || ferror(stdout))) {
		ctl_warnx("cannot write to standard output: %s",
		          strerror(errno));
		return EX_IOERR;
	}
	return 0;
}

/* The recent events of the reply, oldest first. */
static int log_recent(void *arg, const json_t *result)
{
	json_t *events = json_object_get(result, "events"), *ev;
	size_t i;
	int r;

	if (!json_is_array(events)) {
		ctl_warnx("protocol error: smmd's log reply has no events");
		return EX_PROTOCOL;
	}
	json_array_foreach (events, i, ev) {
		if ((r = log_event(arg, ev)) != 0)
			return r;
	}
	return 0;
}

/*
 * log: the recent delivery events; with --follow, then each new one as
 * it happens, until smmd ends the stream or goes away.
 */
static int cmd_log_run(struct ctl *c, struct ctl_args *a)
{
	struct log_out o = {
	        .json = a->json,
	        .follow = ctl_args_count(a, "follow") > 0,
	};

	return ctl_args_stream(c, a, NULL, o.follow, log_recent, log_event, &o);
}

const struct ctl_cmd cmd_log_entry = {
        .name = "log",
        .help = "show recent delivery events; with --follow, each new one",
        .opts =
                (const struct ctl_opt[]){
                        {"follow", 'f', CTL_FLAG, 0, "follow", NULL,
                         "then print each new event as it happens"},
                        {"channel", 'c', CTL_CHANNEL, 0, "channel", "CHANNEL",
                         "only the events of CHANNEL"},
                        {0},
                },
        .notes = "smmd keeps the last 1,000 events. --follow runs until\n"
                 "interrupted; it exits 69 when smmd stops or restarts, and\n"
                 "75 when smmd drops it for not reading fast enough.",
        .flags = CTL_CMD_JSON | CTL_CMD_STREAM,
        .run = cmd_log_run,
};

/*
 * help [COMMAND]: the whole summary, or one command in detail; with
 * --commands, --options [COMMAND] or --states, the lists that bash
 * completion and the man-page check read.
 */
static int cmd_help_run(struct ctl *c, struct ctl_args *a)
{
	const struct ctl_cmd *target = NULL;

	if (a->argc > 0 && (target = ctl_cmd_lookup(a->argv[0])) == NULL) {
		ctl_warnx("unknown command '%s' (try 'smmctl help')",
		          a->argv[0]);
		return EX_USAGE;
	}
	if (ctl_args_count(a, "commands"))
		ctl_help_commands(stdout);
	else if (ctl_args_count(a, "options"))
		ctl_help_options(stdout, target);
	else if (ctl_args_count(a, "states"))
		ctl_help_states(stdout);
	else if (target != NULL)
		ctl_help_usage(stdout, target, 1);
	else
		ctl_help_all(stdout);
	return 0;
}

const struct ctl_cmd cmd_help_entry = {
        .name = "help",
        .help = "show this help, or the details of one command",
        .opts =
                (const struct ctl_opt[]){
                        {.name = "commands",
                         .type = CTL_FLAG,
                         .flags = CTL_HIDDEN},
                        {.name = "options",
                         .type = CTL_FLAG,
                         .flags = CTL_HIDDEN},
                        {.name = "states",
                         .type = CTL_FLAG,
                         .flags = CTL_HIDDEN},
                        {.name = "COMMAND", .type = CTL_ARG},
                        {0},
                },
        .min_args = 0,
        .max_args = 1,
        .run = cmd_help_run,
};
