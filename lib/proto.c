/*
 * Control protocol codec: one JSON object per line, both directions.
 * Output is compact and ASCII-only (JSON_ENSURE_ASCII), so a reply can
 * never contain a raw newline or bytes a terminal would misread, whatever
 * the strings inside hold.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "smm/protocol.h"

#define PROTO_DUMP_FLAGS (JSON_COMPACT | JSON_ENSURE_ASCII)

/*
 * No request needs more than a few levels; refusing deep nesting before
 * jansson sees the line bounds its recursion (parse and free) tightly.
 */
#define PROTO_MAX_DEPTH 16

static void set_msg(char *msg, size_t msglen, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void set_msg(char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;

	if (msg == NULL || msglen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
}

/* Copy src into a caller buffer of len bytes, truncating; len may be 0. */
static void copy_out(char *dst, size_t len, const char *src)
{
	if (dst == NULL || len == 0)
		return;
	snprintf(dst, len, "%s", src ? src : "");
}

/* 1 if brackets outside strings nest at most max deep. */
static int depth_ok(const char *s, size_t len, int max)
{
	int depth = 0, in_str = 0, esc = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (in_str) {
			if (esc)
				esc = 0;
			else if (c == '\\')
				esc = 1;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == '[' || c == '{') {
			if (++depth > max)
				return 0;
		} else if (c == ']' || c == '}') {
			depth--;
		}
	}
	return 1;
}

int proto_parse_request(const char *line, size_t len, struct proto_request *req,
                        const char **code, char *msg, size_t msglen)
{
	json_error_t jerr;
	json_t *root = NULL, *id, *cmd, *args;
	const char *c;
	size_t clen;

	req->id = 0;
	req->cmd[0] = '\0';
	req->args = NULL;
	*code = SMM_ERR_INVALID_REQUEST;

	if (len > SMM_MAX_LINE) {
		*code = SMM_ERR_LINE_TOO_LONG;
		set_msg(msg, msglen, "request longer than %d bytes",
		        SMM_MAX_LINE);
		return -1;
	}
	if (!depth_ok(line, len, PROTO_MAX_DEPTH)) {
		set_msg(msg, msglen, "request nested deeper than %d levels",
		        PROTO_MAX_DEPTH);
		return -1;
	}
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		set_msg(msg, msglen, "invalid JSON at column %d: %s",
		        jerr.column, jerr.text);
		return -1;
	}
	if (!json_is_object(root)) {
		set_msg(msg, msglen, "request must be a JSON object");
		goto bad;
	}

	/* Recover the id first, so even a bad request gets a matched reply. */
	id = json_object_get(root, "id");
	if (id != NULL) {
		if (!json_is_integer(id)) {
			set_msg(msg, msglen, "'id' must be an integer");
			goto bad;
		}
		req->id = json_integer_value(id);
	}

	cmd = json_object_get(root, "cmd");
	if (cmd == NULL) {
		set_msg(msg, msglen, "missing 'cmd'");
		goto bad;
	}
	if (!json_is_string(cmd)) {
		set_msg(msg, msglen, "'cmd' must be a string");
		goto bad;
	}
	c = json_string_value(cmd);
	clen = json_string_length(cmd);
	if (clen == 0 || clen >= sizeof(req->cmd)) {
		set_msg(msg, msglen, "'cmd' must be 1 to %zu characters",
		        sizeof(req->cmd) - 1);
		goto bad;
	}

	args = json_object_get(root, "args");
	if (args != NULL && !json_is_object(args)) {
		set_msg(msg, msglen, "'args' must be an object");
		goto bad;
	}
	req->args = args != NULL ? json_incref(args) : json_object();
	if (req->args == NULL) {
		*code = SMM_ERR_INTERNAL;
		set_msg(msg, msglen, "out of memory");
		goto bad;
	}
	memcpy(req->cmd, c, clen + 1);
	json_decref(root);
	return 0;
bad:
	json_decref(root);
	return -1;
}

void proto_request_clear(struct proto_request *req)
{
	if (req == NULL)
		return;
	json_decref(req->args);
	req->args = NULL;
}

/* A growing malloc'd buffer for json_dump_callback. */
struct dumpbuf {
	char *p;
	size_t len;
	size_t cap;
};

static int dump_cb(const char *data, size_t size, void *arg)
{
	struct dumpbuf *b = arg;

	/* +2 keeps room for the final '\n' and NUL. */
	if (b->len + size + 2 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + size + 2)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, size);
	b->len += size;
	return 0;
}

/* Dump root as one '\n'-terminated line; consumes the reference to root. */
static char *dump_line(json_t *root, size_t *len)
{
	struct dumpbuf b = {NULL, 0, 0};

	if (root == NULL)
		return NULL;
	if (json_dump_callback(root, dump_cb, &b, PROTO_DUMP_FLAGS) < 0 ||
	    b.p == NULL) {
		free(b.p);
		json_decref(root);
		return NULL;
	}
	json_decref(root);
	b.p[b.len++] = '\n';
	b.p[b.len] = '\0';
	if (len != NULL)
		*len = b.len;
	return b.p;
}

/*
 * jansson takes references, not copies; the borrowed const value is only
 * referenced for the duration of the dump, never modified.
 */
static json_t *borrow(const json_t *v)
{
	return v != NULL ? json_incref((json_t *)v) : json_object();
}

/*
 * A JSON string from text that may not be valid UTF-8 (error messages can
 * quote anything): invalid input is kept readable with bytes >= 0x80 as
 * '?', rather than losing the whole reply.
 */
static json_t *string_lossy(const char *s)
{
	json_t *v;
	char *copy;

	if (s == NULL)
		s = "";
	if ((v = json_string(s)) != NULL)
		return v;
	if ((copy = strdup(s)) == NULL)
		return NULL;
	for (char *p = copy; *p; p++) {
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	}
	v = json_string(copy);
	free(copy);
	return v;
}

char *proto_reply_ok(json_int_t id, const json_t *result, size_t *len)
{
	return dump_line(json_pack("{s:I, s:b, s:o}", "id", id, "ok", 1,
	                           "result", borrow(result)),
	                 len);
}

char *proto_reply_error(json_int_t id, const char *code, const char *message,
                        size_t *len)
{
	return dump_line(json_pack("{s:I, s:b, s:{s:o, s:o}}", "id", id, "ok",
	                           0, "error", "code", string_lossy(code),
	                           "message", string_lossy(message)),
	                 len);
}

char *proto_request_encode(json_int_t id, const char *cmd, const json_t *args,
                           size_t *len)
{
	if (cmd == NULL)
		return NULL;
	return dump_line(json_pack("{s:I, s:s, s:o}", "id", id, "cmd", cmd,
	                           "args", borrow(args)),
	                 len);
}

int proto_parse_reply(const char *line, size_t len, json_int_t *id, int *ok,
                      json_t **result, char *code, size_t codelen, char *msg,
                      size_t msglen)
{
	json_t *root, *jid, *jok, *res, *err, *c, *m;

	*result = NULL;
	copy_out(code, codelen, "");
	copy_out(msg, msglen, "");
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	if (root == NULL || !json_is_object(root))
		goto bad;
	jid = json_object_get(root, "id");
	jok = json_object_get(root, "ok");
	if (!json_is_integer(jid) || !json_is_boolean(jok))
		goto bad;

	if (json_is_true(jok)) {
		res = json_object_get(root, "result");
		*result = res != NULL ? json_incref(res) : json_object();
		if (*result == NULL)
			goto bad;
	} else {
		err = json_object_get(root, "error");
		c = json_object_get(err, "code");
		m = json_object_get(err, "message");
		if (!json_is_object(err) || !json_is_string(c) ||
		    (m != NULL && !json_is_string(m)))
			goto bad;
		copy_out(code, codelen, json_string_value(c));
		copy_out(msg, msglen, m ? json_string_value(m) : "");
	}
	*id = json_integer_value(jid);
	*ok = json_is_true(jok);
	json_decref(root);
	return 0;
bad:
	json_decref(root);
	return -1;
}

int proto_get_string(const json_t *args, const char *key, const char **out,
                     int required, char *msg, size_t msglen)
{
	/* json_object_get only reads, but is not declared const. */
	json_t *v = json_object_get((json_t *)args, key);

	*out = NULL;
	/* An explicit null means "not given", as on the wire for replies. */
	if (v == NULL || json_is_null(v)) {
		if (!required)
			return 0;
		set_msg(msg, msglen, "missing '%s'", key);
		return -1;
	}
	if (!json_is_string(v)) {
		set_msg(msg, msglen, "'%s' must be a string", key);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}
