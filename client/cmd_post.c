/* cmd_post: the commands that queue or settle posts: add cancel retry resolve.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <jansson.h>

#include "smm/protocol.h"
#include "smmctl.h"
#include "postid.h"
#include "timeparse.h"

/* add: queue a post; prints its id. */
int ctl_cmd_add(struct ctl *c, const struct ctl_command *cmd, int argc,
                char **argv)
{
	enum { OPT_AT = 256, OPT_LINK, OPT_CAMPAIGN, OPT_ID, OPT_MEDIA };
	static const struct option longopts[] = {
	        {"channel", required_argument, NULL, 'c'},
	        {"at", required_argument, NULL, OPT_AT},
	        {"link", required_argument, NULL, OPT_LINK},
	        {"campaign", required_argument, NULL, OPT_CAMPAIGN},
	        {"id", required_argument, NULL, OPT_ID},
	        {"media", required_argument, NULL, OPT_MEDIA},
	        {"socket", required_argument, NULL, 's'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	char err[128], when[TIME_RFC3339_LEN], *stdin_text = NULL;
	const char *at = NULL, *text;
	json_t *args, *result = NULL;
	int64_t due;
	int ch, r = 0;

	if ((args = json_object()) == NULL) {
		ctl_warnx("out of memory");
		return EX_OSERR;
	}
	ctl_getopt_reset();
	while (r == 0 &&
	       (ch = getopt_long(argc, argv, ":c:s:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			r = ctl_append_string(args, "channels", optarg,
			                      "channel name");
			break;
		case OPT_AT:
			at = optarg;
			break;
		case OPT_LINK:
			r = ctl_set_string(args, "link", optarg, "--link");
			break;
		case OPT_CAMPAIGN:
			r = ctl_set_string(args, "campaign", optarg,
			                   "--campaign");
			break;
		case OPT_ID:
			if (!postid_valid(optarg)) {
				ctl_warnx("invalid post id '%s': use 1 to %d "
				          "of A-Z a-z 0-9 . _ : @ + -",
				          optarg, POSTID_MAX);
				r = EX_DATAERR;
				break;
			}
			r = ctl_set_string(args, "id", optarg, "--id");
			break;
		case OPT_MEDIA:
			r = ctl_append_string(args, "media", optarg, "--media");
			break;
		case 's':
			c->socket_path = optarg;
			break;
		case 'h':
			json_decref(args);
			return ctl_command_help(cmd);
		default:
			json_decref(args);
			return ctl_bad_option(cmd, ch, optopt, argv);
		}
	}
	if (r != 0)
		goto out;
	if (json_object_get(args, "channels") == NULL) {
		ctl_warnx("add: at least one -c CHANNEL is required (try "
		          "'smmctl help add')");
		r = EX_USAGE;
		goto out;
	}
	if (argc - optind != 1) {
		ctl_warnx("add: %s; try 'smmctl help add'",
		          argc - optind == 0
		                  ? "missing TEXT (use - to read it from "
		                    "standard input)"
		                  : "give TEXT as one argument (quote it)");
		r = EX_USAGE;
		goto out;
	}
	text = argv[optind];
	if (strcmp(text, "-") == 0) {
		if ((r = ctl_read_stdin(&stdin_text)) != 0)
			goto out;
		text = stdin_text;
	}
	if ((r = ctl_set_string(args, "text", text, "TEXT")) != 0)
		goto out;
	/*
	 * The time is read here, in the user's own time zone, once the text
	 * is in (so "+10m" counts from then), and sent as UTC; whether it is
	 * too far in the past is smmd's call. Without --at smmd uses its own
	 * "now": a slow stdin must not make a post late.
	 */
	if (at != NULL) {
		if (time_parse(at, ctl_now_ms(), &due, err, sizeof(err)) != 0) {
			ctl_warnx("invalid time '%s': %s", at, err);
			r = EX_DATAERR;
			goto out;
		}
		time_format_rfc3339(due, when);
		if ((r = ctl_set_string(args, "at", when, "--at")) != 0)
			goto out;
	}

	if ((r = ctl_request(c, "add", args, &result)) != 0)
		goto out;
	if ((text = ctl_str(result, "id")) == NULL) {
		ctl_warnx("protocol error: add reply without a post id");
		r = EX_PROTOCOL;
		goto out;
	}
	printf("%s\n", text);
out:
	free(stdin_text);
	json_decref(args);
	json_decref(result);
	return r;
}

/* cancel: stop a post's (or one delivery's) pending deliveries. */
int ctl_cmd_cancel(struct ctl *c, const struct ctl_command *cmd, int argc,
                   char **argv)
{
	json_t *result = NULL, *cancelled, *v;
	const char *id;
	int json = 0, r;
	size_t i;

	if ((r = ctl_parse_id_args(c, cmd, argc, argv, 0, &json, &id)) != 0)
		return r == -1 ? 0 : r;
	r = ctl_request_id(c, "cancel", id, &result);
	if (r != 0)
		return r;
	cancelled = json_object_get(result, "cancelled");
	json_array_foreach(cancelled, i, v)
	{
		if (json_is_string(v))
			printf("cancelled %s\n", json_string_value(v));
	}
	json_decref(result);
	return 0;
}

/* retry: send an unknown or failed delivery again, now. */
int ctl_cmd_retry(struct ctl *c, const struct ctl_command *cmd, int argc,
                  char **argv)
{
	json_t *result = NULL;
	const char *id;
	int json = 0, r;

	if ((r = ctl_parse_id_args(c, cmd, argc, argv, 0, &json, &id)) != 0)
		return r == -1 ? 0 : r;
	r = ctl_request_id(c, "retry", id, &result);
	if (r != 0)
		return r;
	printf("retrying %s\n",
	       ctl_str(result, "id") ? ctl_str(result, "id") : id);
	json_decref(result);
	return 0;
}

/* resolve: record by hand what happened to an unknown or failed delivery. */
int ctl_cmd_resolve(struct ctl *c, const struct ctl_command *cmd, int argc,
                    char **argv)
{
	enum { OPT_PUBLISHED = 256, OPT_FAILED, OPT_URL };
	static const struct option longopts[] = {
	        {"published", no_argument, NULL, OPT_PUBLISHED},
	        {"failed", no_argument, NULL, OPT_FAILED},
	        {"url", required_argument, NULL, OPT_URL},
	        {"socket", required_argument, NULL, 's'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *outcome = NULL, *url = NULL;
	json_t *args, *result = NULL;
	int ch, r;

	ctl_getopt_reset();
	while ((ch = getopt_long(argc, argv, ":s:h", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_PUBLISHED:
		case OPT_FAILED:
			if (outcome) {
				ctl_warnx("resolve: give --published or "
				          "--failed, once");
				return EX_USAGE;
			}
			outcome = ch == OPT_PUBLISHED ? "published" : "failed";
			break;
		case OPT_URL:
			url = optarg;
			break;
		case 's':
			c->socket_path = optarg;
			break;
		case 'h':
			ctl_command_help(cmd);
			return 0;
		default:
			return ctl_bad_option(cmd, ch, optopt, argv);
		}
	}
	if (outcome == NULL || argc - optind != 1 ||
	    (url && strcmp(outcome, "published") != 0)) {
		ctl_warnx("resolve: usage: smmctl resolve ID --published "
		          "[--url URL] | --failed");
		return EX_USAGE;
	}
	if ((args = json_object()) == NULL) {
		ctl_warnx("out of memory");
		return EX_OSERR;
	}
	if ((r = ctl_set_string(args, "id", argv[optind], "ID")) == 0 &&
	    (r = ctl_set_string(args, "outcome", outcome, "outcome")) == 0 &&
	    (url == NULL ||
	     (r = ctl_set_string(args, "url", url, "--url")) == 0))
		r = ctl_request(c, "resolve", args, &result);
	json_decref(args);
	if (r != 0)
		return r;
	printf("%s %s\n",
	       ctl_str(result, "id") ? ctl_str(result, "id") : argv[optind],
	       outcome);
	json_decref(result);
	return 0;
}
