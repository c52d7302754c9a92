/* cmd_auth: channels' credentials: auth, channels. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <jansson.h>

#include "smmctl.h"

static void print_authorized(const json_t *r)
{
	const json_t *res = json_object_get(r, "resumed");
	char t[32];

	printf("channel %s authorized", ctl_str(r, "channel"));
	if (ctl_str(r, "expires"))
		printf("; its token is good until %s",
		       ctl_local_time(ctl_str(r, "expires"), t));
	printf("\n");
	if (json_is_object(res) && ctl_str(res, "scope"))
		printf("resumed %s: %lld published, %lld skipped, %lld still "
		       "held\n",
		       ctl_str(res, "scope"), ctl_int(res, "published"),
		       ctl_int(res, "skipped"), ctl_int(res, "held"));
}

/* One line from standard input, without its newline; NULL at the end. */
static char *read_answer(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, stdin);

	if (n < 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' ||
	                 line[n - 1] == ' '))
		line[--n] = '\0';
	return line;
}

/* The page is shown; the person comes back with the code (or not). */
static int second_half(struct ctl *c, struct ctl_args *a, const json_t *page)
{
	json_t *result = NULL;
	char *answer;
	int r;

	printf("Open this address in a browser and authorize smmd:\n\n  %s\n\n"
	       "The browser then goes to %s. Paste that whole address (or "
	       "only the code) here:\n",
	       ctl_str(page, "url"), ctl_str(page, "redirect_uri"));
	fflush(stdout);
	if ((answer = read_answer()) == NULL || answer[0] == '\0') {
		free(answer);
		ctl_warnx("auth: no address or code given");
		return EX_DATAERR;
	}
	r = ctl_args_set(a, "code", answer, "CODE");
	free(answer);
	if (r != 0 || (r = ctl_args_request(c, a, NULL, &result)) != 0)
		return r;
	print_authorized(result);
	json_decref(result);
	return 0;
}

static int cmd_auth_run(struct ctl *c, struct ctl_args *a)
{
	json_t *result = NULL;
	int r;

	if ((r = ctl_args_set(a, "channel", a->argv[0], "CHANNEL")) != 0 ||
	    (r = ctl_args_request(c, a, NULL, &result)) != 0)
		return r;
	if (a->json)
		r = ctl_print_json(result);
	else if (ctl_str(result, "url") == NULL)
		print_authorized(result);
	else if (ctl_args_count(a, "start"))
		printf("%s\n", ctl_str(result, "url"));
	else
		r = second_half(c, a, result);
	json_decref(result);
	return r;
}

const struct ctl_cmd cmd_auth_entry = {
        .name = "auth",
        .help = "authorize a channel with its network",
        .opts =
                (const struct ctl_opt[]){
                        {"CHANNEL", 0, CTL_ARG, 0, NULL, NULL,
                         "the channel to authorize"},
                        {"start", 's', CTL_FLAG, 0, NULL, NULL,
                         "only print the address to open, then stop"},
                        {"code", 0, CTL_STR, 0, "code", "CODE",
                         "finish: the address the browser ended on, or "
                         "the code"},
                        {0},
                },
        .notes = "A network that needs a person (X, LinkedIn, Threads, "
                 "Instagram) gets an address\nto open; the code it "
                 "gives back is exchanged and the tokens saved. A login\n"
                 "(Bluesky) is done at once. Either way the channel's held "
                 "posts go out\nunder the usual lateness rule.",
        .min_args = 1,
        .max_args = 1,
        .flags = CTL_CMD_JSON,
        .run = cmd_auth_run,
};

static void print_channel(const json_t *ch)
{
	const json_t *auth = json_object_get(ch, "auth");
	const char *reason = ctl_str(ch, "reason");
	char t[32];

	printf("%-16s %-10s %-10s", ctl_str(ch, "name"),
	       ctl_str(ch, "publisher"), ctl_str(ch, "state"));
	if (ctl_str(auth, "state") &&
	    strcmp(ctl_str(auth, "state"), "ok") == 0 &&
	    ctl_str(auth, "expires"))
		printf(" token until %s",
		       ctl_local_time(ctl_str(auth, "expires"), t));
	else if (ctl_str(auth, "state") &&
	         strcmp(ctl_str(auth, "state"), "token_file") != 0)
		printf(" token %s", ctl_str(auth, "state"));
	if (reason)
		printf(" (%s)", reason);
	printf("\n");
}

static int cmd_channels_run(struct ctl *c, struct ctl_args *a)
{
	json_t *result = NULL, *v;
	size_t i;
	int r;

	if ((r = ctl_args_request(c, a, NULL, &result)) != 0)
		return r;
	if (a->json)
		r = ctl_print_json(result);
	else
		json_array_foreach (json_object_get(result, "channels"), i, v)
			print_channel(v);
	json_decref(result);
	return r;
}

const struct ctl_cmd cmd_channels_entry = {
        .name = "channels",
        .help = "every channel: publisher, held or not, its token",
        .opts = (const struct ctl_opt[]){{0}},
        .notes = "state is ok, paused, or needs_auth (held until smmctl "
                 "auth CHANNEL).",
        .flags = CTL_CMD_JSON,
        .run = cmd_channels_run,
};
