/*
 * smmctl: the command-line client of smmd. Small and synchronous on
 * purpose: one blocking connection to the control socket, a hello to agree
 * on the protocol, one request, one reply, printed for a person (or as JSON
 * for a script). This file reads the global options, finds the command in
 * the table (cmd_table.c) and runs it; the same table makes the help and
 * the completion lists, so they cannot drift apart.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include <jansson.h>

#include "smm/protocol.h"
#include "smmctl.h"

/* Print "smmctl: <message>" on stderr: the one line every error gets. */
void __attribute__((format(printf, 1, 2))) ctl_warnx(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("smmctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The wall clock in ms: TIME and DATE values count from it. */
int64_t ctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The command named name, or NULL. */
const struct ctl_cmd *ctl_cmd_lookup(const char *name)
{
	size_t i;

	for (i = 0; ctl_cmds[i] != NULL; i++)
		if (strcmp(name, ctl_cmds[i]->name) == 0)
			return ctl_cmds[i];
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"socket", required_argument, NULL, 's'},
	        {"version", no_argument, NULL, 'V'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	struct ctl c = {.fd = -1, .next_id = 1};
	const struct ctl_cmd *cmd;
	struct ctl_args a;
	int ch, r;

	tzset();
	c.socket_path = getenv(SMM_SOCKET_ENV);
	if (c.socket_path == NULL || c.socket_path[0] == '\0')
		c.socket_path = SMM_DEFAULT_SOCKET;

	/* '+': stop at the command name; its options are its own. */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:s:Vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			c.socket_path = optarg;
			break;
		case 'V':
			printf("smmctl %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			ctl_help_all(stdout);
			return 0;
		case ':':
			ctl_warnx("option '%s' needs an argument (try 'smmctl "
			          "--help')",
			          argv[optind - 1]);
			return EX_USAGE;
		default:
			if (optopt != 0)
				ctl_warnx("unknown option '-%c' (try 'smmctl "
				          "--help')",
				          optopt);
			else
				ctl_warnx("unknown option '%s' (try 'smmctl "
				          "--help')",
				          argv[optind - 1]);
			return EX_USAGE;
		}
	}
	if (optind == argc) {
		ctl_warnx("missing COMMAND (try 'smmctl --help')");
		return EX_USAGE;
	}
	if ((cmd = ctl_cmd_lookup(argv[optind])) == NULL) {
		ctl_warnx("unknown command '%s' (try 'smmctl --help')",
		          argv[optind]);
		return EX_USAGE;
	}
	r = ctl_args_parse(&c, cmd, argc - optind, argv + optind, &a);
	if (r == 0)
		r = cmd->run(&c, &a);
	else if (r == CTL_ARGS_HELP)
		r = 0;
	ctl_args_free(&a);
	ctl_close(&c);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ctl_warnx("cannot write to standard output: %s",
		          strerror(errno));
		if (r == 0)
			r = EX_IOERR;
	}
	return r;
}
