/*
 * smmctl: the command-line client of smmd. Small and synchronous on
 * purpose: one blocking connection to the control socket, a hello to agree
 * on the protocol, one request, one reply, printed for a person (or as JSON
 * for a script). The command table below also generates the help text, so
 * the two cannot drift apart.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "smm/protocol.h"
#include "ics.h"
#include "postid.h"
#include "proto.h"
#include "states.h"
#include "timeparse.h"

/* PACKAGE_VERSION comes from configure, on the compiler's command line. */
#ifndef PACKAGE_VERSION
#error "PACKAGE_VERSION is not defined: build smmctl with the autotools build"
#endif

/* A reply bigger than this is refused: smmctl never buffers without bound. */
#define CTL_MAX_REPLY (64u * 1024 * 1024)
/* TEXT read from standard input ("-") is capped like any other input. */
#define CTL_MAX_STDIN_TEXT (1024u * 1024)
/* Seconds a send or a receive may stall before smmctl gives up on smmd. */
#define CTL_IO_TIMEOUT_S 60

/* One connection to smmd. */
struct ctl {
	const char *socket_path;
	int fd;
	json_int_t next_id;
	char *buf;  /* received bytes not yet consumed */
	size_t len; /* bytes used in buf */
	size_t cap; /* bytes allocated for buf */
};

struct ctl_command {
	const char *name;
	const char *usage;   /* arguments; '\n' continues on an indented line */
	const char *help;    /* one line */
	const char *options; /* option descriptions for "smmctl help CMD" */
	int (*run)(struct ctl *, const struct ctl_command *, int, char **);
};

static const struct ctl_command *ctl_command_lookup(const char *name);

/* Print "smmctl: <message>" on stderr: the one line every error gets. */
static void __attribute__((format(printf, 1, 2)))
ctl_warnx(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("smmctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int64_t ctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Map a daemon error code to an exit status (sysexits.h), so scripts can
 * tell "you asked for something wrong" from "smmd is unwell".
 */
static int ctl_exit_for_code(const char *code)
{
	static const struct {
		const char *code;
		int status;
	} map[] = {
	        {SMM_ERR_INVALID_ARGUMENT, EX_DATAERR},
	        {SMM_ERR_UNKNOWN_CHANNEL, EX_DATAERR},
	        {SMM_ERR_NOT_FOUND, EX_DATAERR},
	        {SMM_ERR_CONFLICT, EX_DATAERR},
	        {SMM_ERR_EXISTS, EX_DATAERR},
	        {SMM_ERR_TOO_LATE, EX_DATAERR},
	        {SMM_ERR_LINE_TOO_LONG, EX_DATAERR},
	        {SMM_ERR_PERMISSION, EX_NOPERM},
	        {SMM_ERR_SHUTTING_DOWN, EX_TEMPFAIL},
	        {SMM_ERR_INCOMPATIBLE, EX_PROTOCOL},
	        {SMM_ERR_INVALID_REQUEST, EX_PROTOCOL},
	        {SMM_ERR_UNKNOWN_COMMAND, EX_PROTOCOL},
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(code, map[i].code) == 0)
			return map[i].status;
	return EX_SOFTWARE;
}

/* Connect to the control socket; returns 0 or an exit status. */
static int ctl_connect(struct ctl *c)
{
	struct sockaddr_un sun;
	struct timeval tv = {.tv_sec = CTL_IO_TIMEOUT_S};
	const char *hint;
	int saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(c->socket_path) >= sizeof(sun.sun_path)) {
		ctl_warnx("socket path too long (at most %zu bytes): %s",
		          sizeof(sun.sun_path) - 1, c->socket_path);
		return EX_USAGE;
	}
	memcpy(sun.sun_path, c->socket_path, strlen(c->socket_path));

	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		ctl_warnx("socket: %s", strerror(errno));
		return EX_OSERR;
	}
	/* A wedged daemon must not hang a script forever. */
	(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

	while (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == EINTR)
			continue;
		saved = errno;
		close(c->fd);
		c->fd = -1;
		if (saved == EACCES || saved == EPERM) {
			ctl_warnx("cannot connect to smmd at %s: %s (only root "
			          "and smmd's control_group may use it)",
			          c->socket_path, strerror(saved));
			return EX_NOPERM;
		}
		hint = (saved == ENOENT || saved == ECONNREFUSED)
		               ? " (is smmd running?)"
		               : "";
		ctl_warnx("cannot connect to smmd at %s: %s%s", c->socket_path,
		          strerror(saved), hint);
		return EX_UNAVAILABLE;
	}
	return 0;
}

static void ctl_close(struct ctl *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

/*
 * Send all of buf; returns 0, an exit status, or -1 (nothing printed) when
 * smmd has hung up, which it does after refusing a client.
 */
static int ctl_send(struct ctl *c, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		/* MSG_NOSIGNAL: a daemon that hangs up is an error, not a kill.
		 */
		n = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				ctl_warnx("smmd did not accept the request "
				          "within %ds",
				          CTL_IO_TIMEOUT_S);
				return EX_TEMPFAIL;
			}
			/* Leave it to the caller: smmd may have said why. */
			if (errno == EPIPE || errno == ECONNRESET)
				return -1;
			ctl_warnx("cannot send to smmd: %s", strerror(errno));
			return EX_PROTOCOL;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Receive one reply line. On success *line points into c->buf (valid until
 * the next call), NUL-terminated without its '\n', and *linelen is its
 * length. Returns 0 or an exit status.
 */
static int ctl_recv_line(struct ctl *c, char **line, size_t *linelen,
                         size_t *consumed)
{
	char *nl, *nbuf;
	size_t ncap, scanned = 0;
	ssize_t n;

	for (;;) {
		nl = c->len > scanned
		             ? memchr(c->buf + scanned, '\n', c->len - scanned)
		             : NULL;
		if (nl != NULL)
			break;
		scanned = c->len;
		if (c->len >= CTL_MAX_REPLY) {
			ctl_warnx("reply from smmd too long (over %u MiB)",
			          CTL_MAX_REPLY / (1024 * 1024));
			return EX_PROTOCOL;
		}
		if (c->cap - c->len < 4096) {
			ncap = c->cap ? c->cap * 2 : 64 * 1024;
			if (ncap > CTL_MAX_REPLY + 1)
				ncap = CTL_MAX_REPLY + 1;
			if ((nbuf = realloc(c->buf, ncap)) == NULL) {
				ctl_warnx("out of memory");
				return EX_OSERR;
			}
			c->buf = nbuf;
			c->cap = ncap;
		}
		n = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				ctl_warnx("no reply from smmd within %ds",
				          CTL_IO_TIMEOUT_S);
				return EX_TEMPFAIL;
			}
			ctl_warnx("cannot read from smmd: %s", strerror(errno));
			return EX_PROTOCOL;
		}
		if (n == 0) {
			ctl_warnx("smmd closed the connection %s",
			          c->len ? "in the middle of a reply"
			                 : "without replying");
			return EX_PROTOCOL;
		}
		c->len += (size_t)n;
	}
	*nl = '\0';
	*line = c->buf;
	*linelen = (size_t)(nl - c->buf);
	*consumed = *linelen + 1;
	return 0;
}

/* Drop a consumed line from the front of the receive buffer. */
static void ctl_consume(struct ctl *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

/*
 * One request/reply round trip. On success *result is the reply's result
 * (owned by the caller). An error reply is printed as the daemon worded it
 * and mapped to an exit status; when code_out is not NULL (64 bytes) it
 * also receives the error code, and msg_out (4096 bytes) the message, and
 * nothing is printed. Returns 0 or an exit status. args is borrowed.
 */
static int ctl_call(struct ctl *c, const char *cmd, const json_t *args,
                    json_t **result, char *code_out, char *msg_out)
{
	char code[64] = "", msg[4096] = "", *req, *line;
	json_int_t id = c->next_id++, rid;
	size_t len, linelen, consumed;
	int ok, r;

	*result = NULL;
	if ((req = proto_request_encode(id, cmd, args, &len)) == NULL) {
		ctl_warnx("cannot encode the request (out of memory)");
		return EX_OSERR;
	}
	/* smmd refuses longer lines and hangs up; say why before sending. */
	if (len > SMM_MAX_LINE) {
		free(req);
		ctl_warnx("request too long: %zu bytes, smmd accepts at most "
		          "%d (shorten the text)",
		          len, SMM_MAX_LINE);
		return EX_DATAERR;
	}
	r = ctl_send(c, req, len);
	free(req);
	if (r > 0)
		return r;
	/* Even after a hang-up, smmd's last words are still readable. */
	if ((r = ctl_recv_line(c, &line, &linelen, &consumed)) != 0)
		return r;
	r = proto_parse_reply(line, linelen, &rid, &ok, result, code,
	                      sizeof(code), msg, sizeof(msg));
	ctl_consume(c, consumed);
	if (r != 0) {
		ctl_warnx("protocol error: smmd sent a malformed reply to %s",
		          cmd);
		return EX_PROTOCOL;
	}
	/*
	 * An error with id 0 answers no request: smmd refusing the
	 * connection itself (permission, too many clients). Report it.
	 */
	if (rid != id && (ok || rid != 0)) {
		json_decref(*result);
		*result = NULL;
		ctl_warnx(
		        "protocol error: reply to request %lld, expected %lld",
		        (long long)rid, (long long)id);
		return EX_PROTOCOL;
	}
	if (!ok) {
		json_decref(*result);
		*result = NULL;
		if (code_out != NULL && msg_out != NULL) {
			snprintf(code_out, 64, "%s", code);
			snprintf(msg_out, 4096, "%s", msg);
		} else {
			ctl_warnx("%s", msg[0] ? msg : code);
		}
		return ctl_exit_for_code(code);
	}
	if (*result == NULL)
		*result = json_object();
	return 0;
}

/* Print the refusal that an old client or an old daemon must produce. */
static int ctl_incompatible(const char *daemon_protocol)
{
	ctl_warnx("incompatible smmctl and smmd (client %d, daemon %s)",
	          SMM_PROTOCOL_VERSION, daemon_protocol);
	return EX_PROTOCOL;
}

/* Agree on the protocol before anything else is said. */
static int ctl_hello(struct ctl *c)
{
	char code[64] = "", msg[4096] = "", proto[32];
	json_t *args, *result = NULL, *p;
	int r;

	args = json_pack("{s:i, s:s}", "protocol", SMM_PROTOCOL_VERSION,
	                 "client", "smmctl/" PACKAGE_VERSION);
	if (args == NULL) {
		ctl_warnx("out of memory");
		return EX_OSERR;
	}
	r = ctl_call(c, "hello", args, &result, code, msg);
	json_decref(args);
	if (r != 0 && code[0] != '\0') {
		/*
		 * The daemon words its own refusal, with its own protocol
		 * number; a daemon that does not know hello is older still.
		 */
		if (strcmp(code, SMM_ERR_INCOMPATIBLE) == 0 &&
		    strncmp(msg, "incompatible", 12) == 0)
			ctl_warnx("%s", msg);
		else if (strcmp(code, SMM_ERR_INCOMPATIBLE) == 0 ||
		         strcmp(code, SMM_ERR_UNKNOWN_COMMAND) == 0)
			return ctl_incompatible("unknown");
		else
			ctl_warnx("%s", msg[0] ? msg : code);
	}
	if (r != 0)
		return r;
	p = json_object_get(result, "protocol");
	if (!json_is_integer(p)) {
		json_decref(result);
		return ctl_incompatible("unknown");
	}
	if (json_integer_value(p) != SMM_PROTOCOL_VERSION) {
		snprintf(proto, sizeof(proto), "%lld",
		         (long long)json_integer_value(p));
		json_decref(result);
		return ctl_incompatible(proto);
	}
	json_decref(result);
	return 0;
}

/* Connect, say hello, run one command; returns 0 or an exit status. */
static int ctl_request(struct ctl *c, const char *cmd, const json_t *args,
                       json_t **result)
{
	int r;

	*result = NULL;
	if ((r = ctl_connect(c)) != 0)
		return r;
	if ((r = ctl_hello(c)) != 0)
		return r;
	return ctl_call(c, cmd, args, result, NULL, NULL);
}

/* Print a JSON document for scripts: indented, one document, one newline. */
static int ctl_print_json(const json_t *v)
{
	if (json_dumpf(v, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY) == -1)
		return EX_IOERR;
	fputc('\n', stdout);
	return 0;
}

/* A string member or NULL (absent, null or not a string). */
static const char *ctl_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/*
 * Format a wire timestamp as local time "2026-11-22 11:00:05" into buf
 * (32 bytes); unparsable values are shown as they came, absent ones as "-".
 */
static const char *ctl_local_time(const char *rfc3339, char *buf)
{
	int64_t ms;

	if (rfc3339 == NULL)
		return "-";
	if (time_parse_rfc3339(rfc3339, &ms) != 0)
		return rfc3339;
	return time_format_local(ms, buf);
}

/*
 * Write s to out with control characters replaced, so text queued by
 * someone else cannot drive the terminal. With oneline, newlines and tabs
 * become spaces; otherwise a newline continues on a line indented by
 * `indent` columns.
 */
static void ctl_put_textn(FILE *out, const char *s, size_t n, int oneline,
                          int indent)
{
	const unsigned char *p, *end = (const unsigned char *)s + n;

	for (p = (const unsigned char *)s; p < end; p++) {
		if (*p == '\n' && !oneline)
			fprintf(out, "\n%*s", indent, "");
		else if (*p == '\t' || *p == '\n' || *p == '\r')
			fputc(' ', out);
		else if (*p < 0x20 || *p == 0x7f)
			fputc('?', out);
		else
			fputc(*p, out);
	}
}

static void ctl_put_text(FILE *out, const char *s, int oneline, int indent)
{
	ctl_put_textn(out, s, strlen(s), oneline, indent);
}

/* Number of UTF-8 code points in s: an approximation of display width. */
static size_t ctl_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/*
 * Byte length of the longest prefix of s that holds at most `cols` code
 * points, never cutting a UTF-8 sequence in two.
 */
static size_t ctl_prefix_bytes(const char *s, size_t cols)
{
	size_t i, n = 0;

	for (i = 0; s[i]; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80) {
			if (n == cols)
				break;
			n++;
		}
	}
	return i;
}

/* Width of the terminal on stdout, or 80 when it is not a terminal. */
static int ctl_columns(void)
{
	struct winsize ws;

	if (isatty(STDOUT_FILENO) &&
	    ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
		return ws.ws_col;
	return 80;
}

/* Report an option getopt_long refused, in one line. */
static int ctl_bad_option(const struct ctl_command *cmd, int ch, int opt,
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

static void ctl_print_usage(FILE *out, const struct ctl_command *cmd,
                            int with_options);

/* "-h" inside a subcommand: its usage on stdout. */
static int ctl_command_help(const struct ctl_command *cmd)
{
	ctl_print_usage(stdout, cmd, 1);
	return 0;
}

/* Reset getopt for a subcommand's own argv (glibc: optind 0 re-initialises). */
static void ctl_getopt_reset(void)
{
	optind = 0;
	opterr = 0;
}

/*
 * Read TEXT from standard input: at most CTL_MAX_STDIN_TEXT bytes, one
 * trailing newline dropped (what `echo` and editors add). *out is malloc'd.
 */
static int ctl_read_stdin(char **out)
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
static int ctl_set_string(json_t *args, const char *key, const char *s,
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
static int ctl_append_string(json_t *args, const char *key, const char *s,
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

/* add: queue a post; prints its id. */
static int ctl_cmd_add(struct ctl *c, const struct ctl_command *cmd, int argc,
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

/* The aligned table of "list": one delivery a line, for 80 columns. */
static void ctl_print_list(const json_t *deliveries)
{
	size_t i, idw = strlen("DELIVERY"), w;
	int textw, cols = ctl_columns();
	const json_t *d;
	const char *id, *text, *state;
	char due[32];

	json_array_foreach(deliveries, i, d)
	{
		id = ctl_str(d, "id");
		if (id != NULL && (w = ctl_width(id)) > idw)
			idw = w;
	}
	/* DUE(19) STATE(10) ATTEMPTS(8) DELIVERY TEXT, two spaces apart. */
	textw = cols - (19 + 2 + 10 + 2 + 8 + 2 + (int)idw + 2);
	if (textw < 10)
		textw = 10;
	printf("%-19s  %-10s  %8s  %-*s  %s\n", "DUE", "STATE", "ATTEMPTS",
	       (int)idw, "DELIVERY", "TEXT");
	json_array_foreach(deliveries, i, d)
	{
		id = ctl_str(d, "id");
		state = ctl_str(d, "state");
		text = ctl_str(d, "text");
		if (id == NULL)
			id = "?";
		printf("%-19s  %-10s  %8lld  %s%*s  ",
		       ctl_local_time(ctl_str(d, "due"), due),
		       state ? state : "?",
		       (long long)json_integer_value(
		               json_object_get(d, "attempts")),
		       id, (int)(idw - ctl_width(id)), "");
		if (text == NULL)
			text = "";
		if (ctl_width(text) > (size_t)textw) {
			ctl_put_textn(stdout, text,
			              ctl_prefix_bytes(text, (size_t)textw - 3),
			              1, 0);
			fputs("...", stdout);
		} else {
			ctl_put_text(stdout, text, 1, 0);
		}
		fputc('\n', stdout);
	}
}

/* list: deliveries ordered by due time. */
static int ctl_cmd_list(struct ctl *c, const struct ctl_command *cmd, int argc,
                        char **argv)
{
	enum { OPT_STATUS = 256, OPT_JSON };
	static const struct option longopts[] = {
	        {"status", required_argument, NULL, OPT_STATUS},
	        {"json", no_argument, NULL, OPT_JSON},
	        {"socket", required_argument, NULL, 's'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *status = NULL;
	json_t *args = NULL, *result = NULL, *deliveries;
	int ch, json = 0, r;

	ctl_getopt_reset();
	while ((ch = getopt_long(argc, argv, ":s:h", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_STATUS:
			status = optarg;
			break;
		case OPT_JSON:
			json = 1;
			break;
		case 's':
			c->socket_path = optarg;
			break;
		case 'h':
			return ctl_command_help(cmd);
		default:
			return ctl_bad_option(cmd, ch, optopt, argv);
		}
	}
	if (optind != argc) {
		ctl_warnx("list: unexpected argument '%s' (try 'smmctl help "
		          "list')",
		          argv[optind]);
		return EX_USAGE;
	}
	if (status != NULL && state_parse(status) < 0) {
		ctl_warnx("list: unknown status '%s' (one of %s)", status,
		          state_list());
		return EX_USAGE;
	}
	args = status ? json_pack("{s:s}", "status", status) : json_object();
	if (args == NULL) {
		ctl_warnx("out of memory");
		return EX_OSERR;
	}
	r = ctl_request(c, "list", args, &result);
	json_decref(args);
	if (r != 0)
		return r;
	deliveries = json_object_get(result, "deliveries");
	if (json) {
		r = ctl_print_json(result);
	} else if (!json_is_array(deliveries)) {
		ctl_warnx("protocol error: list reply without deliveries");
		r = EX_PROTOCOL;
	} else if (json_array_size(deliveries) == 0) {
		if (status != NULL)
			printf("no deliveries in state %s\n", status);
		else
			printf("no deliveries\n");
	} else {
		ctl_print_list(deliveries);
	}
	json_decref(result);
	return r;
}

/* One "label  value" line of show, the value sanitised. */
static void ctl_field(int indent, const char *label, const char *value)
{
	printf("%*s%-14s", indent, "", label);
	ctl_put_text(stdout, value ? value : "-", 0, indent + 14);
	fputc('\n', stdout);
}

/* A latency in ms as "12 ms", "1.2 ms" or "3.40 s". */
static const char *ctl_latency(const json_t *v, char *buf, size_t len)
{
	double ms;

	if (!json_is_number(v))
		return "-";
	ms = json_number_value(v);
	if (ms >= 1000)
		snprintf(buf, len, "%.2f s", ms / 1000);
	else if (json_is_integer(v) || ms >= 100)
		snprintf(buf, len, "%.0f ms", ms);
	else
		snprintf(buf, len, "%.1f ms", ms);
	return buf;
}

/* The attempts of one delivery as a small table. */
static void ctl_print_attempts(const json_t *attempts)
{
	const json_t *a, *status;
	char started[32], lat[32], http[16];
	const char *error;
	size_t i;

	if (!json_is_array(attempts) || json_array_size(attempts) == 0) {
		printf("  attempts      none yet\n");
		return;
	}
	printf("  attempts\n");
	printf("    %3s  %-19s  %4s  %9s  %s\n", "N", "STARTED", "HTTP",
	       "LATENCY", "ERROR");
	json_array_foreach(attempts, i, a)
	{
		status = json_object_get(a, "http_status");
		if (json_is_integer(status))
			snprintf(http, sizeof(http), "%lld",
			         (long long)json_integer_value(status));
		else
			snprintf(http, sizeof(http), "-");
		error = ctl_str(a, "error");
		printf("    %3lld  %-19s  %4s  %9s  ",
		       (long long)json_integer_value(json_object_get(a, "n")),
		       ctl_local_time(ctl_str(a, "started"), started), http,
		       ctl_latency(json_object_get(a, "latency_ms"), lat,
		                   sizeof(lat)));
		ctl_put_text(stdout, error ? error : "-", 1, 0);
		fputc('\n', stdout);
	}
}

/* The human form of "show": the post, then each delivery and its attempts. */
static void ctl_print_show(const json_t *result)
{
	const json_t *post = json_object_get(result, "post"), *media, *m, *d;
	const json_t *deliveries = json_object_get(result, "deliveries");
	char t1[32];
	size_t i;

	ctl_field(0, "post", ctl_str(post, "id"));
	ctl_field(0, "source", ctl_str(post, "source"));
	ctl_field(0, "created", ctl_local_time(ctl_str(post, "created"), t1));
	ctl_field(0, "text", ctl_str(post, "text"));
	ctl_field(0, "link", ctl_str(post, "link"));
	ctl_field(0, "campaign", ctl_str(post, "campaign"));
	media = json_object_get(post, "media");
	if (!json_is_array(media) || json_array_size(media) == 0)
		ctl_field(0, "media", NULL);
	json_array_foreach(media, i, m)
	{
		ctl_field(0, i == 0 ? "media" : "", json_string_value(m));
	}
	json_array_foreach(deliveries, i, d)
	{
		fputc('\n', stdout);
		ctl_field(0, "delivery", ctl_str(d, "id"));
		ctl_field(2, "state", ctl_str(d, "state"));
		ctl_field(2, "due", ctl_local_time(ctl_str(d, "due"), t1));
		ctl_field(2, "next attempt",
		          ctl_local_time(ctl_str(d, "next_attempt"), t1));
		ctl_field(2, "webhook id", ctl_str(d, "webhook_id"));
		ctl_field(2, "network id", ctl_str(d, "remote_id"));
		ctl_field(2, "network url", ctl_str(d, "remote_url"));
		ctl_field(2, "last error", ctl_str(d, "last_error"));
		ctl_print_attempts(json_object_get(d, "attempts"));
	}
}

/* Parse "ID [--json]" for show and cancel. */
static int ctl_parse_id_args(struct ctl *c, const struct ctl_command *cmd,
                             int argc, char **argv, int allow_json, int *json,
                             const char **id)
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
static int ctl_request_id(struct ctl *c, const char *cmd, const char *id,
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

/* show: one post (or one delivery) with its attempts. */
static int ctl_cmd_show(struct ctl *c, const struct ctl_command *cmd, int argc,
                        char **argv)
{
	json_t *result = NULL;
	const char *id;
	int json = 0, r;

	if ((r = ctl_parse_id_args(c, cmd, argc, argv, 1, &json, &id)) != 0)
		return r == -1 ? 0 : r;
	r = ctl_request_id(c, "show", id, &result);
	if (r != 0)
		return r;
	if (json)
		r = ctl_print_json(result);
	else
		ctl_print_show(result);
	json_decref(result);
	return r;
}

/* cancel: stop a post's (or one delivery's) pending deliveries. */
static int ctl_cmd_cancel(struct ctl *c, const struct ctl_command *cmd,
                          int argc, char **argv)
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
static int ctl_cmd_retry(struct ctl *c, const struct ctl_command *cmd, int argc,
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
static int ctl_cmd_resolve(struct ctl *c, const struct ctl_command *cmd,
                           int argc, char **argv)
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

static int ctl_parse_flags(struct ctl *c, const struct ctl_command *cmd,
                           int argc, char **argv, int *json);

/* reload: re-read smmd.yaml and the calendar; print what changed. */
static int ctl_cmd_reload(struct ctl *c, const struct ctl_command *cmd,
                          int argc, char **argv)
{
	json_t *args, *result = NULL, *cal;
	int json = 0, r;

	if ((r = ctl_parse_flags(c, cmd, argc, argv, &json)) != 0)
		return r == -1 ? 0 : r;
	if ((args = json_object()) == NULL) {
		ctl_warnx("out of memory");
		return EX_OSERR;
	}
	r = ctl_request(c, "reload", args, &result);
	json_decref(args);
	if (r != 0)
		return r;
	if (json) {
		r = ctl_print_json(result);
		json_decref(result);
		return r;
	}
	printf("reloaded %s (%lld channels)\n", ctl_str(result, "config"),
	       (long long)json_integer_value(
	               json_object_get(result, "channels")));
	cal = json_object_get(result, "calendar");
	if (json_is_object(cal))
		printf("calendar: %lld added, %lld updated, %lld cancelled, "
		       "%lld unchanged, %lld missed\n",
		       (long long)json_integer_value(
		               json_object_get(cal, "added")),
		       (long long)json_integer_value(
		               json_object_get(cal, "updated")),
		       (long long)json_integer_value(
		               json_object_get(cal, "cancelled")),
		       (long long)json_integer_value(
		               json_object_get(cal, "unchanged")),
		       (long long)json_integer_value(
		               json_object_get(cal, "missed")));
	json_decref(result);
	return 0;
}

/* "in 2m", "3s ago": how far an instant is from now, to the second. */
static const char *ctl_relative(int64_t ms, int64_t now, char *buf, size_t len)
{
	int64_t delta = ms - now, abs_s;
	char d[32];

	abs_s = (delta < 0 ? -delta : delta + 999) / 1000;
	if (abs_s == 0)
		return "now";
	duration_format(abs_s * 1000, d, sizeof(d));
	snprintf(buf, len, delta < 0 ? "%s ago" : "in %s", d);
	return buf;
}

/* The human form of "status". */
/*
 * As many channel names as fit an 80-column line, then how many more:
 * a calendar may name a thousand, and --json lists them all.
 */
static void ctl_print_channels(const json_t *channels)
{
	size_t i, n = json_array_size(channels), col = 14;

	printf("  %-12s", "channels");
	for (i = 0; i < n; i++) {
		const char *name =
		        json_string_value(json_array_get(channels, i));
		size_t w = strlen(name ? name : "") + (i ? 2 : 0);
		int last = i + 1 == n;

		/* Room for this name, and for " and N more" if not last. */
		if (i > 0 && col + w + (last ? 0 : 16) > 80)
			break;
		printf("%s", i ? ", " : "");
		ctl_put_text(stdout, name, 1, 0);
		col += w;
	}
	if (i < n)
		printf(" and %zu more", n - i);
	printf("\n");
}

static void ctl_print_status(const json_t *r)
{
	const json_t *counts = json_object_get(r, "counts");
	const char *version = ctl_str(r, "version"),
	           *next = ctl_str(r, "next_due");
	char up[32], t[32], rel[48];
	int64_t next_ms;
	size_t i;

	duration_format(
	        (int64_t)json_integer_value(json_object_get(r, "uptime_s")) *
	                1000,
	        up, sizeof(up));
	printf("smmd %s (protocol %lld), pid %lld, up %s\n",
	       version ? version : "?",
	       (long long)json_integer_value(json_object_get(r, "protocol")),
	       (long long)json_integer_value(json_object_get(r, "pid")), up);
	for (i = 0; i < DS_COUNT; i++)
		printf("  %-12s%lld\n", state_name(i),
		       (long long)json_integer_value(
		               json_object_get(counts, state_name(i))));
	printf("  %-12s%lld\n", "in flight",
	       (long long)json_integer_value(json_object_get(r, "in_flight")));
	if (next != NULL && time_parse_rfc3339(next, &next_ms) == 0)
		printf("  %-12s%s (%s)\n", "next due",
		       time_format_local(next_ms, t),
		       ctl_relative(next_ms, ctl_now_ms(), rel, sizeof(rel)));
	else
		printf("  %-12s%s\n", "next due", next ? next : "-");
	printf("  %-12s%.1f ms at most\n", "loop turn",
	       json_real_value(json_object_get(json_object_get(r, "loop"),
	                                       "max_turn_ms")));
	ctl_print_channels(json_object_get(r, "channels"));
}

/* status: the daemon's health in a few lines. */
/*
 * Parse "[--json]" and no other argument (status, reload). Returns 0, -1
 * when --help was printed, or an exit code.
 */
static int ctl_parse_flags(struct ctl *c, const struct ctl_command *cmd,
                           int argc, char **argv, int *json)
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
	if (optind != argc) {
		ctl_warnx("%s: unexpected argument '%s'", cmd->name,
		          argv[optind]);
		return EX_USAGE;
	}
	return 0;
}

static int ctl_cmd_status(struct ctl *c, const struct ctl_command *cmd,
                          int argc, char **argv)
{
	json_t *args, *result = NULL;
	int json = 0, r;

	if ((r = ctl_parse_flags(c, cmd, argc, argv, &json)) != 0)
		return r == -1 ? 0 : r;
	if ((args = json_object()) == NULL) {
		ctl_warnx("out of memory");
		return EX_OSERR;
	}
	r = ctl_request(c, "status", args, &result);
	json_decref(args);
	if (r != 0)
		return r;
	if (json)
		r = ctl_print_json(result);
	else
		ctl_print_status(result);
	json_decref(result);
	return r;
}

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

/*
 * The next code point of UTF-8 s (n bytes left), and its length in *len.
 * A malformed byte counts as one code point of its own.
 */
static uint32_t ctl_utf8_next(const unsigned char *s, size_t n, size_t *len)
{
	uint32_t cp = s[0];
	size_t k, want = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0;

	*len = 1;
	if (want == 0)
		return cp;
	if (want == 1)
		want = 2;
	if (want > n)
		return 0xfffd;
	cp = s[0] & (0x7f >> want);
	for (k = 1; k < want; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0xfffd;
		cp = cp << 6 | (s[k] & 0x3f);
	}
	*len = want;
	return cp;
}

/*
 * Columns a code point takes in a terminal: 0 for combining marks, 2 for
 * East Asian wide characters and emoji, else 1. An approximation of
 * wcwidth that does not depend on the locale smmctl runs in.
 */
static int ctl_cp_width(uint32_t cp)
{
	if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) ||
	    (cp >= 0xfe00 && cp <= 0xfe0f))
		return 0;
	if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
	    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
	    (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
	    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x2600 && cp <= 0x27bf) ||
	    (cp >= 0x1f300 && cp <= 0x1faff) ||
	    (cp >= 0x20000 && cp <= 0x3fffd))
		return 2;
	return 1;
}

/*
 * Byte length of the longest prefix of s that fits in cols terminal
 * columns, never cutting a UTF-8 sequence; its width goes to *width.
 */
static size_t ctl_fit(const char *s, size_t cols, size_t *width)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n = strlen(s), len, w = 0;
	int cw;

	while (i < n) {
		cw = ctl_cp_width(ctl_utf8_next(p + i, n - i, &len));
		if (w + (size_t)cw > cols)
			break;
		w += (size_t)cw;
		i += len;
	}
	*width = w;
	return i;
}

/*
 * Print s in exactly cols columns: cut with "..." when it is wider,
 * padded with spaces (unless pad is 0) when narrower.
 */
static void ctl_put_cell(const char *s, size_t cols, int pad)
{
	size_t w, n = ctl_fit(s, cols, &w);

	if (n < strlen(s) && cols >= 3) {
		n = ctl_fit(s, cols - 3, &w);
		ctl_put_textn(stdout, s, n, 1, 0);
		fputs("...", stdout);
		w += 3;
	} else {
		ctl_put_textn(stdout, s, n, 1, 0);
	}
	if (pad && w < cols)
		printf("%*s", (int)(cols - w), "");
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
static int ctl_cmd_calendar(struct ctl *c, const struct ctl_command *cmd,
                            int argc, char **argv)
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
static int ctl_cmd_export(struct ctl *c, const struct ctl_command *cmd,
                          int argc, char **argv)
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

static void ctl_print_help(FILE *out);

/* help [COMMAND]: the whole summary, or one command in detail. */
static int ctl_cmd_help(struct ctl *c, const struct ctl_command *cmd, int argc,
                        char **argv)
{
	const struct ctl_command *target;

	if (argc > 2) {
		ctl_warnx("help: give at most one COMMAND");
		return EX_USAGE;
	}
	if (argc < 2) {
		ctl_print_help(stdout);
		return 0;
	}
	if ((target = ctl_command_lookup(argv[1])) == NULL) {
		ctl_warnx("unknown command '%s' (try 'smmctl help')", argv[1]);
		return EX_USAGE;
	}
	ctl_print_usage(stdout, target, 1);
	return 0;
}

/* The command table: dispatch, usage and help all come from here. */
static const struct ctl_command ctl_commands[] = {
        {
                .name = "add",
                .usage =
                        "-c CHANNEL [-c CHANNEL ...] [--at TIME] [--link URL]\n"
                        "[--campaign NAME] [--id ID] [--media URL ...] TEXT",
                .help = "queue a post on one or more channels; prints its id",
                .options =
                        "  -c, --channel CHANNEL  publish on CHANNEL (repeat for more)\n"
                        "  --at TIME              when to publish (default: now)\n"
                        "  --link URL             link sent with the post\n"
                        "  --campaign NAME        campaign the post belongs to\n"
                        "  --id ID                the post id (default: a generated, sortable one)\n"
                        "  --media URL            attach a media URL (repeat for more)\n"
                        "  TEXT                   the text; \"-\" reads it from standard input\n",
                .run = ctl_cmd_add,
        },
        {
                .name = "list",
                .usage = "[--status STATE] [--json]",
                .help = "list deliveries, ordered by due time",
                .options =
                        "  --status STATE  only deliveries in STATE: scheduled, publishing,\n"
                        "                  retry_wait, published, failed, cancelled, unknown,\n"
                        "                  held, skipped or missed\n"
                        "  --json          print smmd's reply as JSON\n",
                .run = ctl_cmd_list,
        },
        {
                .name = "calendar",
                .usage =
                        "[--from DATE] [--to DATE] [-c CHANNEL] [--cancelled]\n"
                        "[--json]",
                .help = "the deliveries ahead, day by day in local time",
                .options =
                        "  --from DATE         start (default: now)\n"
                        "  --to DATE           end, excluded (default: 14 days after the start)\n"
                        "  -c, --channel NAME  only the deliveries on channel NAME\n"
                        "  --cancelled         show cancelled deliveries too\n"
                        "  --json              print smmd's reply as JSON\n"
                        "  DATE is a TIME, or YYYY-MM-DD for the local midnight that\n"
                        "  begins that day: --to 2026-12-01 ends with November 30.\n",
                .run = ctl_cmd_calendar,
        },
        {
                .name = "export",
                .usage = "--ics [--from DATE] [--to DATE] [-c CHANNEL]",
                .help = "print the deliveries as an iCalendar (RFC 5545) file",
                .options =
                        "  --ics               iCalendar, one event per delivery (the only format)\n"
                        "  --from DATE         start (default: now)\n"
                        "  --to DATE           end, excluded (default: 14 days after the start)\n"
                        "  -c, --channel NAME  only the deliveries on channel NAME\n"
                        "  DATE as for calendar. Cancelled deliveries are left out; the\n"
                        "  others are events \"[state] channel: first line\" with the\n"
                        "  delivery id as a stable UID, so importing again updates them.\n",
                .run = ctl_cmd_export,
        },
        {
                .name = "show",
                .usage = "[--json] ID",
                .help = "show a post (or one delivery) with every attempt",
                .options =
                        "  ID      a post id, or a delivery id POST/CHANNEL\n"
                        "  --json  print smmd's reply as JSON\n",
                .run = ctl_cmd_show,
        },
        {
                .name = "cancel",
                .usage = "ID",
                .help = "cancel the pending deliveries of a post (or one delivery)",
                .options =
                        "  ID  a post id, or a delivery id POST/CHANNEL; only\n"
                        "      scheduled and retry_wait deliveries can be cancelled\n",
                .run = ctl_cmd_cancel,
        },
        {
                .name = "retry",
                .usage = "ID",
                .help = "send an unknown or failed delivery again, now",
                .options =
                        "  ID  a delivery id POST/CHANNEL (or a post id with a "
                        "single delivery)\n",
                .run = ctl_cmd_retry,
        },
        {
                .name = "resolve",
                .usage = "ID --published [--url URL] | --failed",
                .help = "record by hand what became of an unknown or failed "
                        "delivery",
                .options =
                        "  ID           a delivery id POST/CHANNEL (or a post "
                        "id with a single delivery)\n"
                        "  --published  it did go out (--url: where it is)\n"
                        "  --failed     it did not go out and must not be "
                        "retried\n",
                .run = ctl_cmd_resolve,
        },
        {
                .name = "reload",
                .usage = "[--json]",
                .help = "re-read smmd.yaml and the calendar; print what changed",
                .options =
                        "  --json  print smmd's reply as JSON\n"
                        "  A file with errors changes nothing: every error is printed\n"
                        "  as FILE:LINE:COLUMN: message and the schedule keeps running.\n",
                .run = ctl_cmd_reload,
        },
        {
                .name = "status",
                .usage = "[--json]",
                .help = "show smmd's version, uptime, counts per state and channels",
                .options = "  --json  print smmd's reply as JSON\n",
                .run = ctl_cmd_status,
        },
        {
                .name = "help",
                .usage = "[COMMAND]",
                .help = "show this help, or the details of one command",
                .options = NULL,
                .run = ctl_cmd_help,
        },
};
#define CTL_NCOMMANDS (sizeof(ctl_commands) / sizeof(ctl_commands[0]))

static const struct ctl_command *ctl_command_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < CTL_NCOMMANDS; i++)
		if (strcmp(name, ctl_commands[i].name) == 0)
			return &ctl_commands[i];
	return NULL;
}

/* "smmctl NAME USAGE", continuation lines aligned under the arguments. */
static void ctl_print_usage(FILE *out, const struct ctl_command *cmd,
                            int with_options)
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

static void ctl_print_help(FILE *out)
{
	size_t i;

	fprintf(out, "usage: smmctl [-s SOCKET] COMMAND [ARGS...]\n"
	             "       smmctl --version | --help\n"
	             "\n"
	             "Control smmd, the social-media publishing daemon.\n"
	             "\n"
	             "Commands:\n");
	for (i = 0; i < CTL_NCOMMANDS; i++)
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
