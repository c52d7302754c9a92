/*
 * smmctl: the command-line client of smmd. Small and synchronous on
 * purpose: one blocking connection to the control socket, a hello to agree
 * on the protocol, one request, one reply, printed for a person (or as JSON
 * for a script). The command table (cmd_table.c) also generates the help
 * text, so the two cannot drift apart.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <getopt.h>
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

int64_t ctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const struct ctl_command *ctl_command_lookup(const char *name)
{
	size_t i;

	for (i = 0; ctl_commands[i].name != NULL; i++)
		if (strcmp(name, ctl_commands[i].name) == 0)
			return &ctl_commands[i];
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
	const struct ctl_command *cmd;
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
			ctl_print_help(stdout);
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
	if ((cmd = ctl_command_lookup(argv[optind])) == NULL) {
		ctl_warnx("unknown command '%s' (try 'smmctl --help')",
		          argv[optind]);
		return EX_USAGE;
	}
	r = cmd->run(&c, cmd, argc - optind, argv + optind);
	ctl_close(&c);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ctl_warnx("cannot write to standard output: %s",
		          strerror(errno));
		if (r == 0)
			r = EX_IOERR;
	}
	return r;
}
