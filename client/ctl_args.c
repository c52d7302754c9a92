/*
 * ctl_args: the one option parser of smmctl. getopt_long's table is built
 * from the command's typed options, plus --socket, --help and (where the
 * command takes it) --json; values are checked by type and fill the
 * request, so a command's handler only sends it and prints the reply.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sysexits.h>

#include <jansson.h>

#include "postid.h"
#include "smm/protocol.h"
#include "smmctl.h"
#include "states.h"
#include "timeparse.h"

/* getopt_long values: options by index, then the common ones. */
#define CTL_OPT_BASE 256
#define CTL_OPT_JSON (CTL_OPT_BASE + CTL_MAX_OPTS)

/* Report an option getopt_long refused, in one line. */
static int ctl_bad_option(const struct ctl_cmd *cmd, int ch, int opt,
                          char **argv)
{
	const char *what = argv[optind - 1];
	char shortopt[3] = {'-', (char)opt, '\0'};

	/* A long option is named as typed; a short one may sit in a cluster. */
	if (strncmp(what, "--", 2) != 0 && opt > 0 && opt < 128)
		what = shortopt;
	if (ch == ':')
		ctl_warnx("%s: option '%s' needs an argument (try 'smmctl "
		          "help %s')",
		          cmd->name, what, cmd->name);
	else
		ctl_warnx("%s: unknown option '%s' (try 'smmctl help %s')",
		          cmd->name, what, cmd->name);
	return EX_USAGE;
}

/*
 * Read TEXT from standard input: at most CTL_MAX_STDIN_TEXT bytes, one
 * trailing newline dropped (what `echo` and editors add). *out is malloc'd.
 */
int ctl_read_stdin(char **out)
{
	size_t len = 0, cap = 4096;
	char *buf, *nbuf;
	size_t n;

	if ((buf = malloc(cap)) == NULL) {
		ctl_warnx("out of memory");
		return EX_OSERR;
	}
	for (;;) {
		if (cap - len < 2) {
			cap *= 2;
			if ((nbuf = realloc(buf, cap)) == NULL) {
				free(buf);
				ctl_warnx("out of memory");
				return EX_OSERR;
			}
			buf = nbuf;
		}
		n = fread(buf + len, 1, cap - len - 1, stdin);
		len += n;
		if (len > CTL_MAX_STDIN_TEXT) {
			free(buf);
			ctl_warnx("text on standard input too long (at most "
			          "%u bytes)",
			          CTL_MAX_STDIN_TEXT);
			return EX_DATAERR;
		}
		if (n == 0)
			break;
	}
	if (ferror(stdin)) {
		free(buf);
		ctl_warnx("cannot read standard input: %s", strerror(errno));
		return EX_IOERR;
	}
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	buf[len] = '\0';
	if (memchr(buf, '\0', len) != NULL) {
		free(buf);
		ctl_warnx("text on standard input contains a NUL byte");
		return EX_DATAERR;
	}
	*out = buf;
	return 0;
}

/* Set args[key] to v (stolen), creating the request on first use. */
int ctl_args_set_json(struct ctl_args *a, const char *key, json_t *v)
{
	if (v == NULL || json_object_set_new(a->req, key, v) != 0) {
		ctl_warnx("out of memory");
		return EX_OSERR;
	}
	return 0;
}

/* Set args[key] to the string s; jansson refuses invalid UTF-8. */
int ctl_args_set(struct ctl_args *a, const char *key, const char *s,
                 const char *what)
{
	json_t *v;

	if ((v = json_string(s)) == NULL) {
		ctl_warnx("%s is not valid UTF-8", what);
		return EX_DATAERR;
	}
	return ctl_args_set_json(a, key, v);
}

/* Append s to the array args[key], creating it on first use. */
static int ctl_args_append(struct ctl_args *a, const char *key, const char *s,
                           const char *what)
{
	json_t *arr, *v;

	if ((arr = json_object_get(a->req, key)) == NULL) {
		if ((arr = json_array()) == NULL ||
		    json_object_set_new(a->req, key, arr) != 0) {
			ctl_warnx("out of memory");
			return EX_OSERR;
		}
	}
	if ((v = json_string(s)) == NULL) {
		ctl_warnx("%s is not valid UTF-8: %s", what, s);
		return EX_DATAERR;
	}
	if (json_array_append_new(arr, v) != 0) {
		ctl_warnx("out of memory");
		return EX_OSERR;
	}
	return 0;
}

/* A decimal integer, all of s; 0 or -1. */
static int ctl_parse_int(const char *s, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return s[0] == '\0' || *end != '\0' || errno != 0 ? -1 : 0;
}

/*
 * Check one option's value by its type and put it in the request. TIME
 * and DATE wait for ctl_args_request: they are read once the command has
 * everything else (add's "+10m" counts from after a slow stdin).
 */
static int ctl_args_value(struct ctl_args *a, const struct ctl_opt *o,
                          const char *v)
{
	char what[64];
	long long n;

	snprintf(what, sizeof(what), "--%s", o->name);
	switch (o->type) {
	case CTL_STATE:
		if (state_parse(v) < 0) {
			ctl_warnx("%s: unknown %s '%s' (one of %s)",
			          a->cmd->name, o->name, v, state_list());
			return EX_USAGE;
		}
		break;
	case CTL_POSTID:
		if (!postid_valid(v)) {
			ctl_warnx("invalid post id '%s': use 1 to %d of A-Z "
			          "a-z 0-9 . _ : @ + -",
			          v, POSTID_MAX);
			return EX_DATAERR;
		}
		break;
	case CTL_INT:
		if (ctl_parse_int(v, &n) != 0) {
			ctl_warnx("%s: %s wants an integer, not '%s'",
			          a->cmd->name, what, v);
			return EX_USAGE;
		}
		return o->key ? ctl_args_set_json(a, o->key, json_integer(n))
		              : 0;
	case CTL_FLAG:
		return o->key ? ctl_args_set_json(a, o->key, json_true()) : 0;
	case CTL_TIME:
	case CTL_DATE:
		return 0;
	default:
		break;
	}
	if (o->key == NULL)
		return 0;
	if (o->flags & CTL_REPEAT)
		return ctl_args_append(a, o->key, v, what);
	return ctl_args_set(a, o->key, v, what);
}

/* getopt_long's table and short options for cmd; 0 or an exit status. */
static int ctl_args_getopt_table(const struct ctl_cmd *cmd, struct option *lo,
                                 char *so)
{
	const struct ctl_opt *o;
	size_t n = 0, k = 0;
	int i;

	so[k++] = ':';
	for (i = 0; cmd->opts != NULL && cmd->opts[i].name != NULL; i++) {
		o = &cmd->opts[i];
		if (i >= CTL_MAX_OPTS) {
			ctl_warnx("%s: too many options in the table",
			          cmd->name);
			return EX_SOFTWARE;
		}
		if (o->type == CTL_ARG)
			continue;
		lo[n++] = (struct option){
		        o->name,
		        o->type == CTL_FLAG ? no_argument : required_argument,
		        NULL, CTL_OPT_BASE + i};
		if (o->letter != 0) {
			so[k++] = o->letter;
			if (o->type != CTL_FLAG)
				so[k++] = ':';
		}
	}
	if (cmd->flags & CTL_CMD_JSON)
		lo[n++] = (struct option){"json", no_argument, NULL,
		                          CTL_OPT_JSON};
	lo[n++] = (struct option){"socket", required_argument, NULL, 's'};
	lo[n++] = (struct option){"help", no_argument, NULL, 'h'};
	lo[n] = (struct option){NULL, 0, NULL, 0};
	memcpy(so + k, "s:h", 4);
	return 0;
}

/* The index of the option with short letter ch, or -1. */
static int ctl_args_letter(const struct ctl_cmd *cmd, int ch)
{
	int i;

	for (i = 0; cmd->opts != NULL && cmd->opts[i].name != NULL; i++)
		if (cmd->opts[i].letter == ch && cmd->opts[i].type != CTL_ARG)
			return i;
	return -1;
}

/* The name of the first positional argument, for messages. */
static const char *ctl_args_arg_name(const struct ctl_cmd *cmd)
{
	int i;

	for (i = 0; cmd->opts != NULL && cmd->opts[i].name != NULL; i++)
		if (cmd->opts[i].type == CTL_ARG)
			return cmd->opts[i].name;
	return "argument";
}

/* Required options and argument counts, once the options are read. */
static int ctl_args_check(struct ctl_args *a)
{
	const struct ctl_cmd *cmd = a->cmd;
	const struct ctl_opt *o;
	const char *what = ctl_args_arg_name(cmd);
	char flag[64];
	int i;

	for (i = 0; cmd->opts != NULL && cmd->opts[i].name != NULL; i++) {
		o = &cmd->opts[i];
		if (!(o->flags & CTL_REQUIRED) || a->count[i] > 0)
			continue;
		if (o->letter)
			snprintf(flag, sizeof(flag), "-%c", o->letter);
		else
			snprintf(flag, sizeof(flag), "--%s", o->name);
		ctl_warnx("%s: %s%s%s%s is required (try 'smmctl help %s')",
		          cmd->name,
		          o->flags & CTL_REPEAT ? "at least one " : "", flag,
		          o->meta ? " " : "", o->meta ? o->meta : "",
		          cmd->name);
		return EX_USAGE;
	}
	if (a->argc < cmd->min_args)
		ctl_warnx("%s: missing %s (try 'smmctl help %s')", cmd->name,
		          what, cmd->name);
	else if (a->argc > cmd->max_args && cmd->max_args == 0)
		ctl_warnx("%s: unexpected argument '%s' (try 'smmctl help "
		          "%s')",
		          cmd->name, a->argv[0], cmd->name);
	else if (a->argc > cmd->max_args && cmd->max_args == 1)
		ctl_warnx("%s: give %s one %s (try 'smmctl help %s')",
		          cmd->name, cmd->min_args == 1 ? "exactly" : "at most",
		          what, cmd->name);
	else if (a->argc > cmd->max_args)
		ctl_warnx("%s: give at most %d arguments (try 'smmctl help "
		          "%s')",
		          cmd->name, cmd->max_args, cmd->name);
	else
		return 0;
	return EX_USAGE;
}

/*
 * Parse a command's argv (argv[0] is its name) into a, which the caller
 * frees with ctl_args_free whatever this returns. Returns 0, CTL_ARGS_HELP
 * when --help was printed, or an exit status.
 */
int ctl_args_parse(struct ctl *c, const struct ctl_cmd *cmd, int argc,
                   char **argv, struct ctl_args *a)
{
	struct option lo[CTL_MAX_OPTS + 4];
	char so[2 * CTL_MAX_OPTS + 8];
	int ch, i, r;

	memset(a, 0, sizeof(*a));
	a->cmd = cmd;
	if ((a->req = json_object()) == NULL) {
		ctl_warnx("out of memory");
		return EX_OSERR;
	}
	if ((r = ctl_args_getopt_table(cmd, lo, so)) != 0)
		return r;
	/* glibc: optind 0 starts over on a new argv. */
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		/* A command's own -s (audit --since) comes first in so. */
		if (ch == 's' && ctl_args_letter(cmd, 's') < 0) {
			c->socket_path = optarg;
			continue;
		}
		if (ch == 'h') {
			ctl_help_usage(stdout, cmd, 1);
			return CTL_ARGS_HELP;
		}
		if (ch == CTL_OPT_JSON) {
			a->json = 1;
			continue;
		}
		i = ch >= CTL_OPT_BASE ? ch - CTL_OPT_BASE
		                       : ctl_args_letter(cmd, ch);
		if (i < 0 || i >= CTL_MAX_OPTS)
			return ctl_bad_option(cmd, ch, optopt, argv);
		a->count[i]++;
		a->value[i] = optarg;
		if ((r = ctl_args_value(a, &cmd->opts[i], optarg)) != 0)
			return r;
	}
	a->argc = argc - optind;
	a->argv = argv + optind;
	return ctl_args_check(a);
}

void ctl_args_free(struct ctl_args *a)
{
	json_decref(a->req);
	a->req = NULL;
}

/* The index of option name in a's command, or -1. */
static int ctl_args_find(const struct ctl_args *a, const char *name)
{
	int i;

	for (i = 0; a->cmd->opts != NULL && a->cmd->opts[i].name != NULL; i++)
		if (strcmp(a->cmd->opts[i].name, name) == 0)
			return i;
	return -1;
}

/* How many times option name was given. */
int ctl_args_count(const struct ctl_args *a, const char *name)
{
	int i = ctl_args_find(a, name);

	return i < 0 ? 0 : a->count[i];
}

/* The last value of option name, or NULL. */
const char *ctl_args_get(const struct ctl_args *a, const char *name)
{
	int i = ctl_args_find(a, name);

	return i < 0 ? NULL : a->value[i];
}

/*
 * --tz ZONE: read and show local times in ZONE instead of the user's,
 * for the dates given and the times printed alike. An IANA name of the
 * system's tz database.
 */
static int ctl_args_zone(struct ctl_args *a)
{
	const char *tz = ctl_args_get(a, "tz");
	char path[512];

	if (tz == NULL)
		return 0;
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", tz);
	if (tz[0] == '\0' || tz[0] == '/' || strstr(tz, "..") != NULL ||
	    access(path, R_OK) != 0) {
		ctl_warnx("%s: unknown time zone '%s' (an IANA name such as "
		          "Europe/Madrid)",
		          a->cmd->name, tz);
		return EX_USAGE;
	}
	if (setenv("TZ", tz, 1) != 0) {
		ctl_warnx("out of memory");
		return EX_OSERR;
	}
	tzset();
	return 0;
}

/* Read the TIME and DATE values, in the user's zone, into UTC. */
static int ctl_args_times(struct ctl_args *a)
{
	const struct ctl_opt *o;
	char err[128], when[TIME_RFC3339_LEN];
	int64_t ms;
	int i, r;

	a->now = ctl_now_ms();
	if ((r = ctl_args_zone(a)) != 0)
		return r;
	for (i = 0; a->cmd->opts != NULL && a->cmd->opts[i].name != NULL; i++) {
		o = &a->cmd->opts[i];
		if ((o->type != CTL_TIME && o->type != CTL_DATE) ||
		    a->value[i] == NULL)
			continue;
		if (o->type == CTL_TIME && time_parse(a->value[i], a->now, &ms,
		                                      err, sizeof(err)) != 0) {
			ctl_warnx("invalid time '%s': %s", a->value[i], err);
			return EX_DATAERR;
		}
		if (o->type == CTL_DATE &&
		    time_parse_date(a->value[i], a->now, &ms, err,
		                    sizeof(err)) != 0) {
			ctl_warnx("%s: invalid --%s '%s': %s", a->cmd->name,
			          o->name, a->value[i], err);
			return EX_DATAERR;
		}
		if (o->key != NULL &&
		    (r = ctl_args_set(a, o->key, time_format_rfc3339(ms, when),
		                      o->name)) != 0)
			return r;
	}
	return 0;
}

/*
 * Send the request the options filled as smmd's command wire (NULL: the
 * command's own name); times are read now. Returns 0 with *result (the
 * caller's), or an exit status.
 */
int ctl_args_request(struct ctl *c, struct ctl_args *a, const char *wire,
                     json_t **result)
{
	int r;

	*result = NULL;
	if ((r = ctl_args_times(a)) != 0)
		return r;
	return ctl_request(c, wire ? wire : a->cmd->name, a->req, result);
}

/*
 * ctl_args_request for a CTL_CMD_STREAM command: the reply's result goes
 * to on_reply, then with follow each event smmd streams to on_event.
 */
int ctl_args_stream(struct ctl *c, struct ctl_args *a, const char *wire,
                    int follow,
                    int (*on_reply)(void *arg, const json_t *result),
                    int (*on_event)(void *arg, const json_t *event), void *arg)
{
	int r;

	if ((r = ctl_args_times(a)) != 0)
		return r;
	return ctl_stream(c, wire ? wire : a->cmd->name, a->req, follow,
	                  on_reply, on_event, arg);
}
