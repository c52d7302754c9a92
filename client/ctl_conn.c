/*
 * ctl_conn: the connection to smmd: connect, hello, then one request and
 * its reply, which a streamed command's event lines may follow.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "smm/protocol.h"
#include "smmctl.h"
#include "proto.h"

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
	        {SMM_ERR_STORE_UNAVAILABLE, EX_TEMPFAIL},
	        {SMM_ERR_AUTH, EX_NOPERM},
	        {SMM_ERR_STANDBY, EX_UNAVAILABLE},
	        {SMM_ERR_OUTCOME_UNKNOWN, EX_TEMPFAIL},
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

void ctl_close(struct ctl *c)
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
		/* Between events, EOF is smmd going away, not a cut reply. */
		if (n == 0 && c->following && c->len == 0) {
			ctl_warnx("smmd closed the connection (it stopped or "
			          "restarted)");
			return EX_UNAVAILABLE;
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
 * Encode and send one request; its id goes to *idp (when not NULL).
 * Returns 0 or an exit status; a hang-up is left to the reply's reader,
 * since smmd's last words are still readable.
 */
static int ctl_send_request(struct ctl *c, const char *cmd, const json_t *args,
                            json_int_t *idp)
{
	json_int_t id = c->next_id++;
	size_t len;
	char *req;
	int r;

	if (idp != NULL)
		*idp = id;
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
	return r > 0 ? r : 0;
}

/*
 * Check the reply line to request id. On success *result is the reply's result
 * (owned by the caller). An error reply is printed as the daemon worded it
 * and mapped to an exit status; when code_out is not NULL (64 bytes) it
 * also receives the error code, and msg_out (4096 bytes) the message, and
 * nothing is printed. Returns 0 or an exit status.
 */
static int ctl_check_reply(const char *cmd, json_int_t id, const char *line,
                           size_t linelen, json_t **result, char *code_out,
                           char *msg_out)
{
	char code[64] = "", msg[4096] = "";
	json_int_t rid;
	int ok, r;

	*result = NULL;
	r = proto_parse_reply(line, linelen, &rid, &ok, result, code,
	                      sizeof(code), msg, sizeof(msg));
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

/* Read the reply line to request id and check it (ctl_check_reply). */
static int ctl_reply(struct ctl *c, const char *cmd, json_int_t id,
                     json_t **result, char *code_out, char *msg_out)
{
	size_t linelen, consumed;
	char *line;
	int r;

	*result = NULL;
	if ((r = ctl_recv_line(c, &line, &linelen, &consumed)) != 0)
		return r;
	r = ctl_check_reply(cmd, id, line, linelen, result, code_out, msg_out);
	ctl_consume(c, consumed);
	return r;
}

/* One request/reply round trip: send, read a line, check it. */
static int ctl_call(struct ctl *c, const char *cmd, const json_t *args,
                    json_t **result, char *code_out, char *msg_out)
{
	json_int_t id;
	int r;

	*result = NULL;
	if ((r = ctl_send_request(c, cmd, args, &id)) != 0)
		return r;
	return ctl_reply(c, cmd, id, result, code_out, msg_out);
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

/*
 * Connect and say hello (unless connected already), run one command;
 * returns 0 or an exit status.
 */
int ctl_request(struct ctl *c, const char *cmd, const json_t *args,
                json_t **result)
{
	return ctl_request_msg(c, cmd, args, result, NULL, NULL);
}

int ctl_request_msg(struct ctl *c, const char *cmd, const json_t *args,
                    json_t **result, char *code, char *msg)
{
	int r;

	*result = NULL;
	if (c->fd < 0 && ((r = ctl_connect(c)) != 0 || (r = ctl_hello(c)) != 0))
		return r;
	return ctl_call(c, cmd, args, result, code, msg);
}

/* Write all of buf to fd; 0 or -1 with errno. */
static int write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * The bytes after a reply: first what the line's read took in already,
 * then the socket, into out and into the hash. 0 or an exit status.
 */
static int ctl_recv_bytes(struct ctl *c, uint64_t len, int out, EVP_MD_CTX *md)
{
	char buf[64 * 1024];
	size_t take;
	ssize_t n;

	while (len > 0) {
		if (c->len > 0) {
			take = c->len < len ? c->len : (size_t)len;
			memcpy(buf, c->buf, take);
			ctl_consume(c, take);
			n = (ssize_t)take;
		} else if ((n = recv(c->fd, buf,
		                     len < sizeof(buf) ? (size_t)len
		                                       : sizeof(buf),
		                     0)) <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			ctl_warnx("smmd %s in the middle of the backup",
			          n == 0 ? "closed the connection"
			                 : "stopped sending");
			return n < 0 && (errno == EAGAIN ||
			                 errno == EWOULDBLOCK)
			               ? EX_TEMPFAIL
			               : EX_PROTOCOL;
		}
		if (!EVP_DigestUpdate(md, buf, (size_t)n))
			return EX_SOFTWARE;
		if (write_all(out, buf, (size_t)n) < 0) {
			ctl_warnx("cannot write the backup: %s",
			          strerror(errno));
			return EX_IOERR;
		}
		len -= (uint64_t)n;
	}
	return 0;
}

int ctl_request_file(struct ctl *c, const char *cmd, const json_t *args,
                     int out, json_t **result)
{
	unsigned char md[32];
	char hex[2 * sizeof(md) + 1];
	unsigned mdlen = 0;
	json_int_t bytes;
	EVP_MD_CTX *ctx;
	int r;

	if ((r = ctl_request(c, cmd, args, result)) != 0)
		return r;
	bytes = json_integer_value(json_object_get(*result, "bytes"));
	if (bytes < 0 || !json_is_string(json_object_get(*result, "sha256"))) {
		ctl_warnx("protocol error: smmd's reply to %s has no size",
		          cmd);
		return EX_PROTOCOL;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(ctx);
		return EX_SOFTWARE;
	}
	r = ctl_recv_bytes(c, (uint64_t)bytes, out, ctx);
	if (r == 0 &&
	    (!EVP_DigestFinal_ex(ctx, md, &mdlen) || mdlen != sizeof(md)))
		r = EX_SOFTWARE;
	EVP_MD_CTX_free(ctx);
	if (r != 0)
		return r;
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	if (strcmp(hex, json_string_value(
	                        json_object_get(*result, "sha256"))) != 0) {
		ctl_warnx("the backup's SHA-256 does not match what smmd sent");
		return EX_PROTOCOL;
	}
	return 0;
}

/*
 * Read one line after the reply of a streamed command (request id): an
 * event goes to on_event; an "end" line is smmd dropping this follower,
 * its message printed; EOF is smmd going away (ctl_recv_line). Returns 0
 * to read on, or an exit status.
 */
static int ctl_stream_line(struct ctl *c, const char *cmd, json_int_t id,
                           int (*on_event)(void *, const json_t *), void *arg)
{
	size_t linelen, consumed;
	json_t *msg, *ev, *end;
	json_error_t jerr;
	char *line;
	int r;

	if ((r = ctl_recv_line(c, &line, &linelen, &consumed)) != 0)
		return r;
	msg = json_loadb(line, linelen, 0, &jerr);
	ctl_consume(c, consumed);
	ev = json_object_get(msg, "event");
	end = json_object_get(msg, "end");
	if (!json_is_object(msg) ||
	    json_integer_value(json_object_get(msg, "id")) != id) {
		json_decref(msg);
		ctl_warnx("protocol error: smmd sent a malformed line in the "
		          "%s stream",
		          cmd);
		return EX_PROTOCOL;
	}
	if (json_is_object(end)) {
		ctl_warnx("%s", ctl_str(end, "message")
		                        ? ctl_str(end, "message")
		                        : "smmd ended the stream");
		json_decref(msg);
		return EX_TEMPFAIL;
	}
	/* A kind of line this smmctl does not know yet: not for it. */
	r = json_is_object(ev) ? on_event(arg, ev) : 0;
	json_decref(msg);
	return r;
}

/*
 * A streamed command: connect, hello, send the request; its reply's result
 * goes to on_reply (an error reply is printed as smmd worded it). With
 * follow, each event line then goes to on_event until smmd ends the
 * stream. The callbacks return 0 to go on, or an exit status to stop.
 * Returns an exit status: 0 only without follow. args is borrowed.
 */
int ctl_stream(struct ctl *c, const char *cmd, const json_t *args, int follow,
               int (*on_reply)(void *arg, const json_t *result),
               int (*on_event)(void *arg, const json_t *event), void *arg)
{
	struct timeval forever = {0};
	json_t *result = NULL;
	json_int_t id;
	int r;

	if ((r = ctl_connect(c)) != 0 || (r = ctl_hello(c)) != 0)
		return r;
	if ((r = ctl_send_request(c, cmd, args, &id)) != 0)
		return r;
	if ((r = ctl_reply(c, cmd, id, &result, NULL, NULL)) != 0)
		return r;
	r = on_reply(arg, result);
	json_decref(result);
	if (r != 0 || !follow)
		return r;
	/* A follower waits for events as long as they take. */
	c->following = 1;
	(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &forever,
	                 sizeof(forever));
	while ((r = ctl_stream_line(c, cmd, id, on_event, arg)) == 0)
		;
	return r;
}
