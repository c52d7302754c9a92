/* ctl_args: reading a command's arguments into a request. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <jansson.h>

#include "smm/protocol.h"
#include "smmctl.h"

/* Report an option getopt_long refused, in one line. */
int ctl_bad_option(const struct ctl_command *cmd, int ch, int opt, char **argv)
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

/* "-h" inside a subcommand: its usage on stdout. */
int ctl_command_help(const struct ctl_command *cmd)
{
	ctl_print_usage(stdout, cmd, 1);
	return 0;
}

/* Reset getopt for a subcommand's own argv (glibc: optind 0 re-initialises). */
void ctl_getopt_reset(void)
{
	optind = 0;
	opterr = 0;
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

/* Set args[key] to the string s; jansson refuses invalid UTF-8. */
int ctl_set_string(json_t *args, const char *key, const char *s,
                   const char *what)
{
	json_t *v;

	if ((v = json_string(s)) == NULL) {
		ctl_warnx("%s is not valid UTF-8", what);
		return EX_DATAERR;
	}
	if (json_object_set_new(args, key, v) != 0) {
		ctl_warnx("out of memory");
		return EX_OSERR;
	}
	return 0;
}

/* Append s to the array args[key], creating it on first use. */
int ctl_append_string(json_t *args, const char *key, const char *s,
                      const char *what)
{
	json_t *arr, *v;

	if ((arr = json_object_get(args, key)) == NULL) {
		if ((arr = json_array()) == NULL ||
		    json_object_set_new(args, key, arr) != 0) {
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

/* Parse "ID [--json]" for show and cancel. */
int ctl_parse_id_args(struct ctl *c, const struct ctl_command *cmd, int argc,
                      char **argv, int allow_json, int *json, const char **id)
{
	enum { OPT_JSON = 256 };
	static const struct option longopts[] = {
	        {"json", no_argument, NULL, OPT_JSON},
	        {"socket", required_argument, NULL, 's'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	int ch;

	ctl_getopt_reset();
	while ((ch = getopt_long(argc, argv, ":s:h", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_JSON:
			if (!allow_json) {
				ctl_warnx("%s: unknown option '--json' (try "
				          "'smmctl help %s')",
				          cmd->name, cmd->name);
				return EX_USAGE;
			}
			*json = 1;
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
	if (argc - optind != 1) {
		ctl_warnx("%s: %s (try 'smmctl help %s')", cmd->name,
		          argc == optind ? "missing ID" : "give exactly one ID",
		          cmd->name);
		return EX_USAGE;
	}
	*id = argv[optind];
	return 0;
}

/* Send {"id": ID} as cmd (show, cancel, retry). */
int ctl_request_id(struct ctl *c, const char *cmd, const char *id,
                   json_t **result)
{
	json_t *args;
	int r;

	if ((args = json_object()) == NULL) {
		ctl_warnx("out of memory");
		return EX_OSERR;
	}
	if ((r = ctl_set_string(args, "id", id, "ID")) == 0)
		r = ctl_request(c, cmd, args, result);
	json_decref(args);
	return r;
}
