/*
 * ctl_help: usage, help and the lists bash completion and the man-page
 * check read, all made from the command table, so an option is spelled in
 * one place.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "smm/protocol.h"
#include "smmctl.h"
#include "states.h"

/* Usage and help lines that wrap stay within this many columns. */
#define CTL_HELP_COLS 72

/* The help row of --json, which every CTL_CMD_JSON command shares. */
static const struct ctl_opt ctl_json_opt = {
        .name = "json",
        .type = CTL_FLAG,
        .help = "print smmd's reply as JSON",
};
/* A streamed command's --json: lines that a pipe can read one by one. */
static const struct ctl_opt ctl_json_lines_opt = {
        .name = "json",
        .type = CTL_FLAG,
        .help = "print each event as one line of JSON",
};

/* "-c CHANNEL", "--at TIME" or "--ics": how an option is written. */
static void ctl_help_spell(const struct ctl_opt *o, char *buf, size_t len)
{
	const char *meta =
	        o->type == CTL_FLAG || o->meta == NULL ? "" : o->meta;

	if (o->letter)
		snprintf(buf, len, "-%c%s%s", o->letter, meta[0] ? " " : "",
		         meta);
	else
		snprintf(buf, len, "--%s%s%s", o->name, meta[0] ? " " : "",
		         meta);
}

/* Print word at *col, first on a new line indented by indent if too long. */
static void ctl_help_word(FILE *out, const char *word, size_t indent,
                          size_t *col)
{
	size_t n = strlen(word);

	if (*col > indent && *col + 1 + n > CTL_HELP_COLS) {
		fprintf(out, "\n%*s", (int)indent, "");
		*col = indent;
	}
	if (*col > indent) {
		fputc(' ', out);
		(*col)++;
	}
	fputs(word, out);
	*col += n;
}

/* The synopsis made from the options: "[--at TIME] ... TEXT". */
static void ctl_help_synopsis(FILE *out, const struct ctl_cmd *cmd,
                              size_t indent)
{
	const struct ctl_opt *o;
	char spell[96], word[128];
	size_t col = indent;
	int i, nargs = 0;

	for (i = 0; cmd->opts != NULL && cmd->opts[i].name != NULL; i++) {
		o = &cmd->opts[i];
		if (o->type == CTL_ARG || (o->flags & CTL_HIDDEN))
			continue;
		ctl_help_spell(o, spell, sizeof(spell));
		if (o->flags & CTL_REQUIRED)
			ctl_help_word(out, spell, indent, &col);
		snprintf(word, sizeof(word), "[%s%s]", spell,
		         o->flags & CTL_REPEAT ? " ..." : "");
		if (!(o->flags & CTL_REQUIRED) || (o->flags & CTL_REPEAT))
			ctl_help_word(out, word, indent, &col);
	}
	if (cmd->flags & CTL_CMD_JSON)
		ctl_help_word(out, "[--json]", indent, &col);
	for (i = 0; cmd->opts != NULL && cmd->opts[i].name != NULL; i++) {
		if (cmd->opts[i].type != CTL_ARG)
			continue;
		snprintf(word, sizeof(word),
		         nargs < cmd->min_args ? "%s" : "[%s]",
		         cmd->opts[i].name);
		ctl_help_word(out, word, indent, &col);
		nargs++;
	}
}

/* An option's label in the help rows: "-c, --channel CHANNEL". */
static void ctl_help_label(const struct ctl_opt *o, char *buf, size_t len)
{
	const char *meta =
	        o->type == CTL_FLAG || o->meta == NULL ? "" : o->meta;

	if (o->type == CTL_ARG)
		snprintf(buf, len, "%s", o->name);
	else if (o->letter)
		snprintf(buf, len, "-%c, --%s%s%s", o->letter, o->name,
		         meta[0] ? " " : "", meta);
	else
		snprintf(buf, len, "--%s%s%s", o->name, meta[0] ? " " : "",
		         meta);
}

/* One help row; a state's row goes on with the list of states. */
static void ctl_help_row(FILE *out, const struct ctl_opt *o, int width)
{
	char label[96], state[32];
	size_t col = (size_t)width + 4;
	const char *p;
	int i;

	ctl_help_label(o, label, sizeof(label));
	fprintf(out, "  %-*s  ", width, label);
	for (p = o->help; *p; p++) {
		if (*p == '\n') {
			fprintf(out, "\n%*s", width + 4, "");
			col = (size_t)width + 4;
		} else {
			fputc(*p, out);
			col++;
		}
	}
	for (i = 0; o->type == CTL_STATE && i < DS_COUNT; i++) {
		snprintf(state, sizeof(state), "%s%s", state_name(i),
		         i + 2 < DS_COUNT ? "," : "");
		ctl_help_word(out, state, (size_t)width + 4, &col);
		if (i + 2 == DS_COUNT)
			ctl_help_word(out, "or", (size_t)width + 4, &col);
	}
	fputc('\n', out);
}

/* The option rows of "smmctl help CMD", then the command's notes. */
static void ctl_help_options_text(FILE *out, const struct ctl_cmd *cmd)
{
	const struct ctl_opt *o;
	char label[96];
	int i, width = 0, rows = 0;
	const char *p;

	for (i = 0; cmd->opts != NULL && cmd->opts[i].name != NULL; i++) {
		o = &cmd->opts[i];
		if (o->help == NULL || (o->flags & CTL_HIDDEN))
			continue;
		ctl_help_label(o, label, sizeof(label));
		if ((int)strlen(label) > width)
			width = (int)strlen(label);
		rows++;
	}
	if ((cmd->flags & CTL_CMD_JSON) && width < 6)
		width = 6;
	if (rows == 0 && !(cmd->flags & CTL_CMD_JSON) && cmd->notes == NULL)
		return;
	fputc('\n', out);
	for (i = 0; cmd->opts != NULL && cmd->opts[i].name != NULL; i++)
		if (cmd->opts[i].help != NULL &&
		    !(cmd->opts[i].flags & CTL_HIDDEN))
			ctl_help_row(out, &cmd->opts[i], width);
	if (cmd->flags & CTL_CMD_JSON)
		ctl_help_row(out,
		             cmd->flags & CTL_CMD_STREAM ? &ctl_json_lines_opt
		                                         : &ctl_json_opt,
		             width);
	for (p = cmd->notes; p != NULL && *p; p += strcspn(p, "\n") + 1) {
		fprintf(out, "  %.*s\n", (int)strcspn(p, "\n"), p);
		if (p[strcspn(p, "\n")] == '\0')
			break;
	}
}

/* "smmctl NAME USAGE", continuation lines aligned under the arguments. */
void ctl_help_usage(FILE *out, const struct ctl_cmd *cmd, int with_options)
{
	size_t indent = strlen("  smmctl ") + strlen(cmd->name) + 1;

	fprintf(out, "  smmctl %s ", cmd->name);
	if (cmd->usage != NULL)
		fputs(cmd->usage, out);
	else
		ctl_help_synopsis(out, cmd, indent);
	fprintf(out, "\n      %s\n", cmd->help);
	if (with_options)
		ctl_help_options_text(out, cmd);
}

/* "smmctl help" and "smmctl --help". */
void ctl_help_all(FILE *out)
{
	size_t i;

	fprintf(out, "usage: smmctl [-s SOCKET] COMMAND [ARGS...]\n"
	             "       smmctl --version | --help\n"
	             "\n"
	             "Control smmd, the social-media publishing daemon.\n"
	             "\n"
	             "Commands:\n");
	for (i = 0; ctl_cmds[i] != NULL; i++)
		ctl_help_usage(out, ctl_cmds[i], 0);
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

/* "help --commands": one command name a line. */
void ctl_help_commands(FILE *out)
{
	size_t i;

	for (i = 0; ctl_cmds[i] != NULL; i++)
		fprintf(out, "%s\n", ctl_cmds[i]->name);
}

/* What completion offers after an option of this type. */
static const char *ctl_help_type(enum ctl_type t)
{
	static const char *const names[] = {
	        [CTL_FLAG] = "flag",   [CTL_STR] = "string",
	        [CTL_TIME] = "time",   [CTL_DATE] = "date",
	        [CTL_STATE] = "state", [CTL_CHANNEL] = "channel",
	        [CTL_INT] = "int",     [CTL_POSTID] = "string",
	        [CTL_ARG] = "arg",     [CTL_FILE] = "file",
	};

	return names[t];
}

/*
 * "help --options [CMD]": "SPELLING TYPE" a line, every way to write
 * each option of CMD (or smmctl's own, without CMD), --socket and --help
 * included: what completion offers and check-man.sh checks.
 */
void ctl_help_options(FILE *out, const struct ctl_cmd *cmd)
{
	const struct ctl_opt *o;
	int i;

	if (cmd == NULL) {
		fputs("--socket file\n-s file\n--version flag\n-V flag\n"
		      "--help flag\n-h flag\n",
		      out);
		return;
	}
	for (i = 0; cmd->opts != NULL && cmd->opts[i].name != NULL; i++) {
		o = &cmd->opts[i];
		if (o->type == CTL_ARG || (o->flags & CTL_HIDDEN))
			continue;
		fprintf(out, "--%s %s\n", o->name, ctl_help_type(o->type));
		if (o->letter)
			fprintf(out, "-%c %s\n", o->letter,
			        ctl_help_type(o->type));
	}
	if (cmd->flags & CTL_CMD_JSON)
		fputs("--json flag\n", out);
	fputs("--socket file\n-s file\n--help flag\n-h flag\n", out);
}

/* "help --states": the delivery states, one a line. */
void ctl_help_states(FILE *out)
{
	int i;

	for (i = 0; i < DS_COUNT; i++)
		fprintf(out, "%s\n", state_name(i));
}
