/* ctl_help: the usage and help text, from the command table. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <jansson.h>

#include "smm/protocol.h"
#include "smmctl.h"

/* "smmctl NAME USAGE", continuation lines aligned under the arguments. */
void ctl_print_usage(FILE *out, const struct ctl_command *cmd, int with_options)
{
	int indent = (int)strlen("  smmctl ") + (int)strlen(cmd->name) + 1;
	const char *p;

	fprintf(out, "  smmctl %s ", cmd->name);
	for (p = cmd->usage; *p; p++) {
		if (*p == '\n')
			fprintf(out, "\n%*s", indent, "");
		else
			fputc(*p, out);
	}
	fprintf(out, "\n      %s\n", cmd->help);
	if (with_options && cmd->options != NULL)
		fprintf(out, "\n%s", cmd->options);
}

void ctl_print_help(FILE *out)
{
	size_t i;

	fprintf(out, "usage: smmctl [-s SOCKET] COMMAND [ARGS...]\n"
	             "       smmctl --version | --help\n"
	             "\n"
	             "Control smmd, the social-media publishing daemon.\n"
	             "\n"
	             "Commands:\n");
	for (i = 0; ctl_commands[i].name != NULL; i++)
		ctl_print_usage(out, &ctl_commands[i], 0);
	fprintf(out,
	        "\n"
	        "Options:\n"
	        "  -s, --socket SOCKET  smmd's control socket (default: $%s,\n"
	        "                       else %s)\n"
	        "  -V, --version        print smmctl's version\n"
	        "  -h, --help           print this help\n"
	        "\n"
	        "TIME is one of: 2026-11-22T10:00:00Z or with an offset (+01:00),\n"
	        "\"2026-11-22 10:00[:SS]\" in local time, +90s, +10m, +2h, +1d, now.\n"
	        "\n"
	        "Exit status: 0 ok, 64 usage, 65 refused data (bad argument, unknown\n"
	        "channel or id, too late, id exists), 69 smmd unavailable, 70 smmd\n"
	        "error, 75 temporary failure, 76 protocol error, 77 permission denied.\n",
	        SMM_SOCKET_ENV, SMM_DEFAULT_SOCKET);
}
