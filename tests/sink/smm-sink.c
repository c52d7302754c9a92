/*
 * smm-sink: a small, fast HTTP/1.1 webhook receiver on libuv for the
 * end-to-end tests, the benchmark and the demo.
 *
 * It listens on 127.0.0.1 only, keeps connections alive, answers pipelined
 * requests in order, logs every POST as one JSON line and replies with a
 * scripted sequence of statuses ("500,500,200", "hold", "close") so tests can
 * drive smmd through retries, timeouts and dropped connections.
 *
 * --rule makes it speak a network's API: per METHOD+PATH a list of replies
 * (status, headers, body with a {{n}} counter) used one per request, the
 * last one repeating, so a test can script "429, then 200 with an id".
 *
 * --chaos gives a seeded random share of POSTs a fault instead (500, 429,
 * a hang, a reset connection), for tests/e2e/chaos.sh: the same seed gives
 * the same faults to the same sequence of requests.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "text.h"

#define SINK_VERSION "smm-sink 0.1.0"

/* Limits: a header section, a body, headers per request. */
#define SINK_HDR_MAX  (64 * 1024)
#define SINK_BODY_MAX (1024 * 1024)
#define SINK_NHDR_MAX 100
/* Read buffer: one whole request of maximal size always fits. */
#define SINK_BUF_INIT (16 * 1024)
#define SINK_BUF_MAX  (SINK_HDR_MAX + SINK_BODY_MAX + 16 * 1024)
/* Stop reading from a peer that does not read its replies. */
#define SINK_WQ_HIGH (4 * 1024 * 1024)

/* Special --status-seq entries. */
#define SINK_HOLD  (-1)
#define SINK_CLOSE (-2)

/* The faults of --chaos, drawn with equal odds; CHAOS_NONE: answer as usual. */
enum chaos_fault { CHAOS_NONE, CHAOS_500, CHAOS_429, CHAOS_HANG, CHAOS_RESET };
#define CHAOS_NKINDS 5
/* What the log and the summary call each fault. */
static const char *const chaos_name[CHAOS_NKINDS] = {NULL, "500", "429", "hang",
                                                     "reset"};

/* The fault a request got, for its log line. */
struct chaos_note {
	enum chaos_fault fault;
	unsigned retry_after; /* seconds, on a 429 */
};

struct sink;

/* One scripted reply of a --rule. */
struct rule_reply {
	int status;    /* 100..599, SINK_HOLD or SINK_CLOSE */
	char *headers; /* pre-rendered "Name: Value\r\n" lines */
	size_t headers_len;
	int has_ctype; /* an H:Content-Type replaces the JSON default */
	char *body;    /* template; "{{n}}" is the route's request counter */
	size_t body_len;
	size_t ncounter; /* how many "{{n}}" the body holds */
};

/* The replies for one METHOD+PATH, in the order given. */
struct route {
	char *method, *path;
	size_t method_len, path_len;
	int prefix; /* PATH ended in '*': match any path starting so */
	struct rule_reply *replies;
	size_t nreplies, pos;
	uint64_t count; /* requests matched so far: the {{n}} value */
};

struct conn {
	uv_tcp_t tcp; /* first: the handle pointer is the conn pointer */
	struct sink *sink;
	struct conn *prev, *next;
	uint64_t serial;

	char *buf; /* unparsed input: buf[0..len) */
	size_t len, cap;
	size_t scan; /* where to resume looking for the end of the header */
	size_t need; /* full size of the current request once known, else 0 */
	int sent_continue;

	char *out; /* replies not yet handed to the kernel or libuv */
	size_t out_len, out_cap;
	unsigned pending_writes;

	uv_timer_t delay; /* --delay-ms: the reply waiting to be sent */
	int open_handles; /* freed when both handles' close callbacks ran */
	int paused;       /* a delayed reply is pending: parse no further */
	int delayed_status, delayed_keep_alive;
	const struct rule_reply *delayed_rule; /* or NULL: the plain reply */
	uint64_t delayed_n;

	int held;              /* a request was held: answer nothing more */
	int reset;             /* --chaos: close with an RST, not a FIN */
	int close_after_write; /* close once pending writes are done */
	int read_stopped;
	int eof; /* the peer is done sending; answer what was read, close */
	int closing;
};

struct write_req {
	uv_write_t req;
	struct conn *conn;
	size_t len;
	char data[];
};

struct header {
	const char *name, *value;
	size_t name_len, value_len;
};

struct request {
	const char *method, *path;
	size_t method_len, path_len;
	int http10;
	struct header hdr[SINK_NHDR_MAX];
	size_t nhdr;
	const char *body;
	size_t body_len;
	int keep_alive;
};

/* The loop's root object: everything the sink owns hangs from here. */
struct sink {
	uv_loop_t loop;
	uv_tcp_t server;
	uv_signal_t sigterm, sigint;
	struct conn *conns;
	uint64_t nconn;
	int stopping;

	FILE *log;
	int log_dirty;
	int log_get;
	int print;

	/*
	 * --notify-at N --notify FILE: "N" goes to FILE once N requests are
	 * in the log, so a bench blocks on a FIFO instead of polling (its
	 * polling took a third of a CPU from what it measured).
	 */
	uint64_t logged;
	int notify_at;
	const char *notify_path;

	int *seq;
	size_t nseq, seq_pos;
	int default_status;
	const char *retry_after;
	const char *body;
	size_t body_len;
	int delay_ms;

	/*
	 * --chaos: the percentage of POSTs that get a fault, and the state of
	 * the generator that picks them (seeded, so a run can be replayed).
	 */
	int chaos_pct;
	uint64_t chaos_seed, chaos_rng;
	uint64_t chaos_count[CHAOS_NKINDS];

	/* --rule routes, in order of first appearance; rules never change. */
	struct route *routes;
	size_t nroutes;

	/* Canned GET replies, the benchmark's hot path. */
	char *get_ka, *get_close;
	size_t get_ka_len, get_close_len;
};

static void conn_close(struct conn *c);
static void conn_flush(struct conn *c);

__attribute__((format(printf, 1, 2))) static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("smm-sink: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL)
		die("out of memory");
	return p;
}

static const char *reason(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 410:
		return "Gone";
	case 411:
		return "Length Required";
	case 413:
		return "Content Too Large";
	case 422:
		return "Unprocessable Content";
	case 425:
		return "Too Early";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Status";
	}
}

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Make room for n more bytes of output; replies are small, so no limit. */
static void out_reserve(struct conn *c, size_t n)
{
	size_t cap;

	if (c->out_cap - c->out_len >= n)
		return;
	cap = c->out_cap ? c->out_cap : 4096;
	while (cap - c->out_len < n)
		cap *= 2;
	c->out = realloc(c->out, cap);
	if (c->out == NULL)
		die("out of memory");
	c->out_cap = cap;
}

static void out_append(struct conn *c, const char *p, size_t n)
{
	out_reserve(c, n);
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
}

/* Append a status line, our headers and the body to the output. */
static void out_reply(struct conn *c, int status, const char *body,
                      size_t body_len, int keep_alive)
{
	struct sink *s = c->sink;
	char head[512];
	int n;

	n = snprintf(head, sizeof(head),
	             "HTTP/1.1 %d %s\r\n"
	             "Server: smm-sink\r\n"
	             "Content-Type: application/json\r\n"
	             "Content-Length: %zu\r\n"
	             "%s%s%s"
	             "Connection: %s\r\n\r\n",
	             status, reason(status), body_len,
	             (status == 429 || status == 503) && s->retry_after
	                     ? "Retry-After: "
	                     : "",
	             (status == 429 || status == 503) && s->retry_after
	                     ? s->retry_after
	                     : "",
	             (status == 429 || status == 503) && s->retry_after ? "\r\n"
	                                                                : "",
	             keep_alive ? "keep-alive" : "close");
	if (n < 0 || (size_t)n >= sizeof(head))
		die("reply header too long");
	out_append(c, head, (size_t)n);
	out_append(c, body, body_len);
}

static int name_is(const struct header *h, const char *name)
{
	size_t n = strlen(name);

	return h->name_len == n && strncasecmp(h->name, name, n) == 0;
}

static int value_has_token(const struct header *h, const char *tok)
{
	size_t n = strlen(tok);
	const char *p = h->value, *end = h->value + h->value_len;

	/* Comma-separated token list, e.g. "keep-alive, Upgrade". */
	while (p < end) {
		const char *q;

		while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		q = p;
		while (q < end && *q != ',')
			q++;
		while (q > p && (q[-1] == ' ' || q[-1] == '\t'))
			q--;
		if ((size_t)(q - p) == n && strncasecmp(p, tok, n) == 0)
			return 1;
		p = q;
		while (p < end && *p != ',')
			p++;
	}
	return 0;
}

/*
 * The request line "METHOD SP target SP HTTP/1.x" at *p into r, *p moved
 * past it. 0, or the status to refuse it with.
 */
static int parse_request_line(const char **p, const char *end,
                              struct request *r)
{
	const char *eol = memchr(*p, '\n', (size_t)(end - *p)), *sp, *q = *p;

	if (eol == NULL || eol == q || eol[-1] != '\r')
		return 400;
	sp = memchr(q, ' ', (size_t)(eol - q));
	if (sp == NULL || sp == q)
		return 400;
	r->method = q;
	r->method_len = (size_t)(sp - q);
	q = sp + 1;
	sp = memchr(q, ' ', (size_t)(eol - q));
	if (sp == NULL || sp == q)
		return 400;
	r->path = q;
	r->path_len = (size_t)(sp - q);
	q = sp + 1;
	if ((size_t)(eol - 1 - q) != 8 || memcmp(q, "HTTP/1.", 7) != 0)
		return 400;
	if (q[7] == '0')
		r->http10 = 1;
	else if (q[7] != '1')
		return 505;
	r->keep_alive = !r->http10;
	*p = eol + 1;
	return 0;
}

/* The header lines from p up to the empty line into r->hdr. 0 or a status. */
static int parse_fields(const char *p, const char *end, struct request *r)
{
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *colon, *v, *ve, *c;
		struct header *h;

		if (eol == NULL || eol[-1] != '\r')
			return 400;
		if (eol - 1 == p)
			break;
		/* Obsolete line folding is refused (RFC 9112 5.2). */
		if (*p == ' ' || *p == '\t')
			return 400;
		colon = memchr(p, ':', (size_t)(eol - p));
		if (colon == NULL || colon == p)
			return 400;
		for (c = p; c < colon; c++)
			if (*c == ' ' || *c == '\t')
				return 400;
		if (r->nhdr == SINK_NHDR_MAX)
			return 431;
		v = colon + 1;
		ve = eol - 1;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		h = &r->hdr[r->nhdr++];
		h->name = p;
		h->name_len = (size_t)(colon - p);
		h->value = v;
		h->value_len = (size_t)(ve - v);
		p = eol + 1;
	}
	return 0;
}

/* Content-Length's value into *out: 0, or 400 when it is not one. */
static int parse_content_length(const struct header *h, int *have, size_t *out)
{
	size_t v = 0, k;

	if (h->value_len == 0 || h->value_len > 12)
		return 400;
	for (k = 0; k < h->value_len; k++) {
		if (h->value[k] < '0' || h->value[k] > '9')
			return 400;
		v = v * 10 + (size_t)(h->value[k] - '0');
	}
	/* Differing duplicates are a smuggling vector. */
	if (*have && v != *out)
		return 400;
	*have = 1;
	*out = v;
	return 0;
}

/*
 * Parse the header section buf[0..hdr_len) into r. Returns 0, or an HTTP
 * status to reply before closing the connection.
 */
static int parse_head(const char *buf, size_t hdr_len, struct request *r,
                      size_t *content_length, int *expect_continue)
{
	const char *p = buf, *end = buf + hdr_len;
	int have_cl = 0, st;

	memset(r, 0, offsetof(struct request, hdr));
	r->nhdr = 0;
	*content_length = 0;
	*expect_continue = 0;
	if ((st = parse_request_line(&p, end, r)) != 0 ||
	    (st = parse_fields(p, end, r)) != 0)
		return st;
	for (size_t i = 0; i < r->nhdr; i++) {
		const struct header *h = &r->hdr[i];

		if (name_is(h, "content-length")) {
			if (parse_content_length(h, &have_cl, content_length))
				return 400;
		} else if (name_is(h, "transfer-encoding")) {
			/* smmd always sends Content-Length; no chunking. */
			return 411;
		} else if (name_is(h, "connection")) {
			if (value_has_token(h, "close"))
				r->keep_alive = 0;
			else if (value_has_token(h, "keep-alive"))
				r->keep_alive = 1;
		} else if (name_is(h, "expect")) {
			if (h->value_len == 12 &&
			    strncasecmp(h->value, "100-continue", 12) == 0)
				*expect_continue = 1;
		}
	}
	if (*content_length > SINK_BODY_MAX)
		return 413;
	return 0;
}

/*
 * A JSON string of raw bytes, as is: valid UTF-8 (a multipart body's text
 * parts included) is kept, each invalid byte becomes U+FFFD.
 */
static json_t *json_bytes(const char *p, size_t n)
{
	json_t *j = json_stringn(p, n);
	char *tmp;
	size_t i = 0, o = 0;

	if (j != NULL)
		return j;
	tmp = xmalloc(n * 3 + 1);
	while (i < n) {
		size_t k;

		if (utf8_next(p + i, n - i, &k) != UTF8_INVALID) {
			memcpy(tmp + o, p + i, k);
			o += k;
			i += k;
			continue;
		}
		tmp[o++] = (char)0xef;
		tmp[o++] = (char)0xbf;
		tmp[o++] = (char)0xbd;
		i++;
	}
	j = json_stringn(tmp, o);
	free(tmp);
	return j;
}

/*
 * One JSON line for a request; status 0 means none was sent, chaos is the
 * --chaos fault it got (or NULL).
 */
static void log_request(struct sink *s, const struct request *r, int64_t t_us,
                        int status, const char *action,
                        const struct chaos_note *chaos, uint64_t conn_serial)
{
	json_t *o, *h;
	const char *q;
	size_t i, plen;

	if (s->log == NULL)
		return;
	q = memchr(r->path, '?', r->path_len);
	plen = q != NULL ? (size_t)(q - r->path) : r->path_len;
	o = json_object();
	h = json_object();
	for (i = 0; i < r->nhdr; i++) {
		const struct header *hd = &r->hdr[i];
		char name[256];
		size_t k, n = hd->name_len;
		json_t *old, *v;

		if (n >= sizeof(name))
			n = sizeof(name) - 1;
		for (k = 0; k < n; k++) {
			char ch = hd->name[k];

			name[k] =
			        (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
		}
		name[n] = '\0';
		old = json_object_get(h, name);
		if (old != NULL) {
			/* Repeated fields join with ", " (RFC 9110 5.3). */
			size_t ol = json_string_length(old);
			char *cat = xmalloc(ol + 2 + hd->value_len);

			memcpy(cat, json_string_value(old), ol);
			memcpy(cat + ol, ", ", 2);
			memcpy(cat + ol + 2, hd->value, hd->value_len);
			v = json_bytes(cat, ol + 2 + hd->value_len);
			free(cat);
		} else {
			v = json_bytes(hd->value, hd->value_len);
		}
		json_object_set_new(h, name, v);
	}
	json_object_set_new(o, "t_us", json_integer(t_us));
	json_object_set_new(o, "method", json_bytes(r->method, r->method_len));
	/* "path" without the query, which has a field of its own (or null). */
	json_object_set_new(o, "path", json_bytes(r->path, plen));
	json_object_set_new(o, "query",
	                    q != NULL
	                            ? json_bytes(q + 1, r->path_len - plen - 1)
	                            : json_null());
	json_object_set_new(o, "headers", h);
	json_object_set_new(o, "body", json_bytes(r->body, r->body_len));
	json_object_set_new(o, "status",
	                    status > 0 ? json_integer(status) : json_null());
	if (action != NULL)
		json_object_set_new(o, "action", json_string(action));
	if (chaos != NULL)
		json_object_set_new(o, "chaos",
		                    json_string(chaos_name[chaos->fault]));
	/* So a test can check the client waited that long. */
	if (chaos != NULL && chaos->retry_after > 0)
		json_object_set_new(o, "retry_after",
		                    json_integer(chaos->retry_after));
	json_object_set_new(o, "conn", json_integer((json_int_t)conn_serial));
	if (json_dumpf(o, s->log, JSON_COMPACT) == 0)
		fputc('\n', s->log);
	json_decref(o);
	s->log_dirty = 1;
	s->logged++;
}

/* The human line of --print, so a newcomer sees posts arrive. */
static void print_request(const struct request *r, int64_t t_us, int status)
{
	time_t sec = (time_t)(t_us / 1000000);
	struct tm tm;
	char clock[16], what[32] = "";
	json_t *j;

	localtime_r(&sec, &tm);
	strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	if (status == SINK_HOLD)
		snprintf(what, sizeof(what), " [holding, no reply]");
	else if (status == SINK_CLOSE)
		snprintf(what, sizeof(what), " [closing, no reply]");
	else if (status < 200 || status > 299)
		snprintf(what, sizeof(what), " [replied %d]", status);

	j = json_loadb(r->body, r->body_len, 0, NULL);
	if (json_is_object(j)) {
		const char *id = json_string_value(json_object_get(j, "id"));
		const char *ch =
		        json_string_value(json_object_get(j, "channel"));
		const char *text =
		        json_string_value(json_object_get(j, "text"));
		json_t *att = json_object_get(j, "attempt");
		const char *p;

		printf("%s.%03d received '%s' on %s (attempt %" JSON_INTEGER_FORMAT
		       ")%s: ",
		       clock, (int)(t_us / 1000 % 1000), id ? id : "?",
		       ch ? ch : "?",
		       json_is_integer(att) ? json_integer_value(att) : 0,
		       what);
		/* One line per post: newlines in the text print as spaces. */
		for (p = text ? text : ""; *p != '\0'; p++)
			putchar(*p == '\n' || *p == '\r' ? ' ' : *p);
		putchar('\n');
	} else {
		printf("%s.%03d received %.*s %.*s with a non-JSON body (%zu "
		       "bytes)%s\n",
		       clock, (int)(t_us / 1000 % 1000), (int)r->method_len,
		       r->method, (int)r->path_len, r->path, r->body_len, what);
	}
	json_decref(j);
	fflush(stdout);
}

/* Decimal digits of v. */
static size_t ndigits(uint64_t v)
{
	size_t n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/* Append a --rule reply, its body's "{{n}}" replaced by n. */
static void out_rule_reply(struct conn *c, const struct rule_reply *rr,
                           uint64_t n, int keep_alive)
{
	char head[256], num[24];
	size_t blen, nlen, i;
	char *o;
	int k;

	nlen = ndigits(n);
	snprintf(num, sizeof(num), "%" PRIu64, n);
	blen = rr->body_len - rr->ncounter * 5 + rr->ncounter * nlen;
	k = snprintf(head, sizeof(head),
	             "HTTP/1.1 %d %s\r\nServer: smm-sink\r\n%s", rr->status,
	             reason(rr->status),
	             rr->has_ctype ? "" : "Content-Type: application/json\r\n");
	out_append(c, head, (size_t)k);
	out_append(c, rr->headers, rr->headers_len);
	k = snprintf(head, sizeof(head),
	             "Content-Length: %zu\r\nConnection: %s\r\n\r\n", blen,
	             keep_alive ? "keep-alive" : "close");
	out_append(c, head, (size_t)k);
	if (rr->ncounter == 0) {
		out_append(c, rr->body, rr->body_len);
		return;
	}
	out_reserve(c, blen);
	o = c->out + c->out_len;
	for (i = 0; i < rr->body_len;) {
		if (rr->body_len - i >= 5 &&
		    memcmp(rr->body + i, "{{n}}", 5) == 0) {
			memcpy(o, num, nlen);
			o += nlen;
			i += 5;
		} else {
			*o++ = rr->body[i++];
		}
	}
	c->out_len += blen;
}

/*
 * The route for a request, or NULL: an exact PATH first, else the longest
 * matching prefix rule, so a prefix rule for "/api/" can sit beside
 * one for "/api/v1/statuses".
 */
static struct route *route_match(struct sink *s, const struct request *r)
{
	struct route *best = NULL;
	const char *q = memchr(r->path, '?', r->path_len);
	size_t plen = q != NULL ? (size_t)(q - r->path) : r->path_len, i;

	for (i = 0; i < s->nroutes; i++) {
		struct route *rt = &s->routes[i];

		if (rt->method_len != r->method_len ||
		    memcmp(rt->method, r->method, r->method_len) != 0)
			continue;
		if (!rt->prefix) {
			if (rt->path_len == plen &&
			    memcmp(rt->path, r->path, plen) == 0)
				return rt;
			continue;
		}
		if (rt->path_len <= plen &&
		    memcmp(rt->path, r->path, rt->path_len) == 0 &&
		    (best == NULL || rt->path_len > best->path_len))
			best = rt;
	}
	return best;
}

/* The status for the next POST: the scripted sequence, then the default. */
static int next_status(struct sink *s)
{
	if (s->seq_pos < s->nseq)
		return s->seq[s->seq_pos++];
	return s->default_status;
}

static void on_delay(uv_timer_t *t);

/* Answer r by the next reply of its route rt (see handle_request). */
static int handle_rule(struct conn *c, struct request *r, struct route *rt)
{
	struct sink *s = c->sink;
	const struct rule_reply *rr = &rt->replies[rt->pos];
	uint64_t n = ++rt->count;
	int64_t t;

	/* One reply per request; the last one repeats forever. */
	if (rt->pos + 1 < rt->nreplies)
		rt->pos++;
	t = now_us();
	if (rr->status == SINK_HOLD || rr->status == SINK_CLOSE) {
		log_request(s, r, t, 0,
		            rr->status == SINK_HOLD ? "hold" : "close", NULL,
		            c->serial);
		if (s->print)
			print_request(r, t, rr->status);
		if (rr->status == SINK_HOLD)
			c->held = 1;
		return -1;
	}
	log_request(s, r, t, rr->status, NULL, NULL, c->serial);
	if (s->print)
		print_request(r, t, rr->status);
	if (s->delay_ms > 0) {
		c->paused = 1;
		c->delayed_rule = rr;
		c->delayed_n = n;
		c->delayed_keep_alive = r->keep_alive;
		uv_timer_start(&c->delay, on_delay, (uint64_t)s->delay_ms, 0);
		return 1;
	}
	out_rule_reply(c, rr, n, r->keep_alive);
	return r->keep_alive ? 0 : -1;
}

/* splitmix64: small, fast, and the same sequence from the same seed. */
static uint64_t chaos_next(struct sink *s)
{
	uint64_t z = (s->chaos_rng += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* Whether the next POST gets a fault, and which: one draw, then another. */
static enum chaos_fault chaos_pick(struct sink *s)
{
	if (s->chaos_pct == 0 || chaos_next(s) % 100 >= (uint64_t)s->chaos_pct)
		return CHAOS_NONE;
	return (enum chaos_fault)(CHAOS_500 + chaos_next(s) % 4);
}

/*
 * Answer r with a --chaos fault: 500; 429 with a Retry-After of 1 or 2 s;
 * a hang (no answer until the client gives up and closes); or a reset (an
 * RST, no answer). Each is logged like any request: a hung or reset request
 * was received, and a real endpoint may have acted on it. Returns as
 * handle_request does.
 */
static int handle_chaos(struct conn *c, struct request *r, enum chaos_fault f)
{
	struct sink *s = c->sink;
	struct chaos_note note = {.fault = f};
	int64_t t = now_us();
	char head[256], body[64], ra[32] = "";
	int status = f == CHAOS_500 ? 500 : 429, n, bn;

	s->chaos_count[f]++;
	if (f == CHAOS_HANG || f == CHAOS_RESET) {
		log_request(s, r, t, 0, f == CHAOS_HANG ? "hold" : "reset",
		            &note, c->serial);
		if (s->print)
			print_request(r, t,
			              f == CHAOS_HANG ? SINK_HOLD : SINK_CLOSE);
		if (f == CHAOS_HANG)
			c->held = 1;
		else
			c->reset = 1;
		return -1;
	}
	if (f == CHAOS_429) {
		note.retry_after = 1 + (unsigned)(chaos_next(s) % 2);
		snprintf(ra, sizeof(ra), "Retry-After: %u\r\n",
		         note.retry_after);
	}
	log_request(s, r, t, status, NULL, &note, c->serial);
	if (s->print)
		print_request(r, t, status);
	bn = snprintf(body, sizeof(body), "{\"error\":\"chaos %d\"}", status);
	n = snprintf(head, sizeof(head),
	             "HTTP/1.1 %d %s\r\n"
	             "Server: smm-sink\r\n"
	             "Content-Type: application/json\r\n"
	             "Content-Length: %d\r\n"
	             "%s"
	             "Connection: %s\r\n\r\n",
	             status, reason(status), bn, ra,
	             r->keep_alive ? "keep-alive" : "close");
	out_append(c, head, (size_t)n);
	out_append(c, body, (size_t)bn);
	return r->keep_alive ? 0 : -1;
}

/*
 * Answer one complete request. Returns 0 to go on with the next pipelined
 * request, 1 when its reply is delayed, -1 when the connection must not
 * answer anything more.
 */
static int handle_request(struct conn *c, struct request *r)
{
	struct sink *s = c->sink;
	int is_get = r->method_len == 3 && memcmp(r->method, "GET", 3) == 0;
	int is_head = r->method_len == 4 && memcmp(r->method, "HEAD", 4) == 0;
	int is_post = r->method_len == 4 && memcmp(r->method, "POST", 4) == 0;
	struct route *rt;
	enum chaos_fault f;
	int status;
	int64_t t;

	/* Before the rules: a fault does not use up a scripted reply. */
	if (is_post && (f = chaos_pick(s)) != CHAOS_NONE)
		return handle_chaos(c, r, f);
	if (s->nroutes > 0 && (rt = route_match(s, r)) != NULL)
		return handle_rule(c, r, rt);

	if (is_get || is_head) {
		if (s->log_get)
			log_request(s, r, now_us(), 200, NULL, NULL, c->serial);
		if (is_head)
			out_reply(c, 200, "", 0, r->keep_alive);
		else if (r->keep_alive)
			out_append(c, s->get_ka, s->get_ka_len);
		else
			out_append(c, s->get_close, s->get_close_len);
		return r->keep_alive ? 0 : -1;
	}

	t = now_us();
	status = is_post ? next_status(s) : 405;
	if (status == SINK_HOLD || status == SINK_CLOSE) {
		log_request(s, r, t, 0, status == SINK_HOLD ? "hold" : "close",
		            NULL, c->serial);
		if (s->print && is_post)
			print_request(r, t, status);
		if (status == SINK_HOLD)
			c->held = 1;
		return -1;
	}
	log_request(s, r, t, status, NULL, NULL, c->serial);
	if (s->print && is_post)
		print_request(r, t, status);
	if (s->delay_ms > 0) {
		/* Replies go out in order: nothing more until this one. */
		c->paused = 1;
		c->delayed_status = status;
		c->delayed_keep_alive = r->keep_alive;
		uv_timer_start(&c->delay, on_delay, (uint64_t)s->delay_ms, 0);
		return 1;
	}
	out_reply(c, status, s->body, s->body_len, r->keep_alive);
	return r->keep_alive ? 0 : -1;
}

/* Reply with an error to an unparseable request and close afterwards. */
static void reject(struct conn *c, int status)
{
	char body[64];
	int n = snprintf(body, sizeof(body), "{\"error\":\"%s\"}",
	                 reason(status));

	out_reply(c, status, body, (size_t)n, 0);
	c->close_after_write = 1;
}

/* Parse and answer every complete request in the buffer. */
static void conn_process(struct conn *c)
{
	size_t off = 0;

	while (!c->held && !c->paused && !c->close_after_write &&
	       off < c->len) {
		const char *base = c->buf + off;
		size_t avail = c->len - off;
		struct request r;
		size_t cl, hdr_len;
		int expect, st;
		const char *e;

		/* Tolerate CRLFs between requests (RFC 9112 2.2). */
		if (c->need == 0 && c->scan == 0 &&
		    (*base == '\r' || *base == '\n')) {
			off++;
			continue;
		}
		if (c->need == 0) {
			size_t from = c->scan;

			e = memmem(base + from, avail - from, "\r\n\r\n", 4);
			if (e == NULL) {
				if (avail >= SINK_HDR_MAX) {
					reject(c, 431);
					break;
				}
				c->scan = avail >= 3 ? avail - 3 : 0;
				break;
			}
			hdr_len = (size_t)(e - base) + 4;
			if (hdr_len > SINK_HDR_MAX) {
				reject(c, 431);
				break;
			}
			st = parse_head(base, hdr_len, &r, &cl, &expect);
			if (st != 0) {
				reject(c, st);
				break;
			}
			c->need = hdr_len + cl;
			if (avail < c->need && expect && !c->sent_continue) {
				/* curl waits a second for this otherwise. */
				out_append(c, "HTTP/1.1 100 Continue\r\n\r\n",
				           25);
				c->sent_continue = 1;
			}
		}
		if (avail < c->need)
			break;

		/* Complete: parse the head again, pointers are now stable. */
		e = memmem(base, avail, "\r\n\r\n", 4);
		hdr_len = (size_t)(e - base) + 4;
		parse_head(base, hdr_len, &r, &cl, &expect);
		r.body = base + hdr_len;
		r.body_len = cl;
		off += c->need;
		c->need = 0;
		c->scan = 0;
		c->sent_continue = 0;
		st = handle_request(c, &r);
		if (st > 0)
			break;
		if (st < 0) {
			if (!c->held)
				c->close_after_write = 1;
			break;
		}
	}
	if (c->held || c->close_after_write) {
		c->len = 0;
		c->need = 0;
		c->scan = 0;
	} else if (off > 0) {
		memmove(c->buf, c->buf + off, c->len - off);
		c->len -= off;
	}
}

static void on_conn_closed(uv_handle_t *h)
{
	struct conn *c = h->data;

	if (--c->open_handles > 0)
		return;
	free(c->buf);
	free(c->out);
	free(c);
}

static void conn_close(struct conn *c)
{
	struct sink *s = c->sink;

	if (c->closing)
		return;
	c->closing = 1;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	/* An RST (SO_LINGER 0): the peer's read fails, as on a crash. */
	if (!c->reset || uv_tcp_close_reset(&c->tcp, on_conn_closed) < 0)
		uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
	uv_close((uv_handle_t *)&c->delay, on_conn_closed);
}

static void on_write(uv_write_t *req, int status)
{
	struct write_req *w = (struct write_req *)req;
	struct conn *c = w->conn;

	free(w);
	c->pending_writes--;
	if (c->closing)
		return;
	if (status < 0) {
		conn_close(c);
		return;
	}
	if (c->pending_writes == 0 && c->close_after_write) {
		conn_close(c);
		return;
	}
	/* Resumes reading if backpressure had stopped it. */
	if (c->read_stopped)
		conn_flush(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);

/* Hand queued replies to the kernel; what does not fit goes to libuv. */
static void conn_flush(struct conn *c)
{
	struct write_req *w;
	uv_buf_t b;
	int n = 0;

	if (c->closing)
		return;
	if (c->out_len > 0) {
		b = uv_buf_init(c->out, (unsigned)c->out_len);
		/* Fails with EAGAIN while earlier writes are queued. */
		n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
		if (n < 0 && n != UV_EAGAIN) {
			conn_close(c);
			return;
		}
		if (n < 0)
			n = 0;
		if ((size_t)n < c->out_len) {
			size_t rest = c->out_len - (size_t)n;

			w = xmalloc(sizeof(*w) + rest);
			w->conn = c;
			w->len = rest;
			memcpy(w->data, c->out + n, rest);
			b = uv_buf_init(w->data, (unsigned)rest);
			if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1,
			             on_write) < 0) {
				free(w);
				conn_close(c);
				return;
			}
			c->pending_writes++;
		}
		c->out_len = 0;
	}
	if (c->close_after_write && c->pending_writes == 0) {
		conn_close(c);
		return;
	}
	if (c->close_after_write || c->held) {
		/* A held connection keeps reading only to notice EOF. */
		if (c->close_after_write && !c->read_stopped) {
			uv_read_stop((uv_stream_t *)&c->tcp);
			c->read_stopped = 1;
		}
		return;
	}
	if (c->tcp.write_queue_size > SINK_WQ_HIGH) {
		if (!c->read_stopped) {
			uv_read_stop((uv_stream_t *)&c->tcp);
			c->read_stopped = 1;
		}
	} else if (c->read_stopped && !c->eof) {
		c->read_stopped = 0;
		if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) <
		    0)
			conn_close(c);
	}
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = (struct conn *)h;

	if (c->held) {
		/* Input after a held request is read and dropped. */
		c->len = 0;
	}
	if (c->cap - c->len < 4096 && c->cap < SINK_BUF_MAX) {
		size_t cap = c->cap * 2;
		char *nb;

		if (cap > SINK_BUF_MAX)
			cap = SINK_BUF_MAX;
		nb = realloc(c->buf, cap);
		if (nb != NULL) {
			c->buf = nb;
			c->cap = cap;
		}
	}
	*buf = uv_buf_init(c->buf + c->len, (unsigned)(c->cap - c->len));
}

/* Once, when the N-th request is on disk: "N" to the --notify file. */
static void sink_notify(struct sink *s)
{
	char line[32];
	int fd, n;

	if (s->notify_at <= 0 || s->logged < (uint64_t)s->notify_at)
		return;
	s->notify_at = 0;
	/* A FIFO with a reader, or a plain file: neither blocks. */
	fd = open(s->notify_path, O_WRONLY | O_CREAT | O_NONBLOCK | O_CLOEXEC,
	          0644);
	if (fd < 0) {
		fprintf(stderr, "smm-sink: %s: %s\n", s->notify_path,
		        strerror(errno));
		return;
	}
	n = snprintf(line, sizeof(line), "%" PRIu64 "\n", s->logged);
	if (write(fd, line, (size_t)n) != n)
		fprintf(stderr, "smm-sink: %s: %s\n", s->notify_path,
		        strerror(errno));
	close(fd);
}

static void sink_flush_log(struct sink *s)
{
	if (s->log != NULL && s->log_dirty) {
		fflush(s->log);
		s->log_dirty = 0;
		sink_notify(s);
	}
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = (struct conn *)st;

	if (nread == 0)
		return;
	if (nread < 0) {
		/* EOF or error: finish what is being written, then close. */
		uv_read_stop(st);
		c->read_stopped = 1;
		c->eof = 1;
		if (c->paused)
			return; /* on_delay finishes the work */
		if (c->pending_writes == 0)
			conn_close(c);
		else
			c->close_after_write = 1;
		return;
	}
	c->len += (size_t)nread;
	if (c->held) {
		c->len = 0;
		return;
	}
	if (c->paused)
		return;
	conn_process(c);
	/* Log lines reach the file before the reply reaches the client. */
	sink_flush_log(c->sink);
	conn_flush(c);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct sink *s = server->data;
	struct conn *c;

	if (status < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		die("out of memory");
	c->sink = s;
	c->serial = ++s->nconn;
	c->buf = xmalloc(SINK_BUF_INIT);
	c->cap = SINK_BUF_INIT;
	uv_tcp_init(&s->loop, &c->tcp);
	uv_timer_init(&s->loop, &c->delay);
	c->tcp.data = c;
	c->delay.data = c;
	c->open_handles = 2;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
		uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
		uv_close((uv_handle_t *)&c->delay, on_conn_closed);
		return;
	}
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	uv_tcp_nodelay(&c->tcp, 1);
	if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0)
		conn_close(c);
}

/* The delay of --delay-ms is over: reply, then go on with what was read. */
static void on_delay(uv_timer_t *t)
{
	struct conn *c = t->data;
	struct sink *s = c->sink;

	c->paused = 0;
	if (c->delayed_rule != NULL)
		out_rule_reply(c, c->delayed_rule, c->delayed_n,
		               c->delayed_keep_alive);
	else
		out_reply(c, c->delayed_status, s->body, s->body_len,
		          c->delayed_keep_alive);
	c->delayed_rule = NULL;
	if (!c->delayed_keep_alive)
		c->close_after_write = 1;
	else
		conn_process(c);
	if (c->eof && !c->paused)
		c->close_after_write = 1;
	sink_flush_log(s);
	conn_flush(c);
}

/* SIGTERM/SIGINT: close every handle so the loop ends and exit 0. */
static void on_signal(uv_signal_t *sig, int signum)
{
	struct sink *s = sig->data;

	if (s->stopping)
		return;
	s->stopping = 1;
	uv_close((uv_handle_t *)&s->server, NULL);
	while (s->conns != NULL)
		conn_close(s->conns);
	uv_close((uv_handle_t *)&s->sigterm, NULL);
	uv_close((uv_handle_t *)&s->sigint, NULL);
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

static void parse_seq(struct sink *s, const char *list)
{
	char *copy = strdup(list), *tok, *save = NULL;
	size_t n = 1;
	const char *p;

	if (copy == NULL)
		die("out of memory");
	for (p = list; *p; p++)
		if (*p == ',')
			n++;
	s->seq = xmalloc(n * sizeof(*s->seq));
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		int v;

		while (*tok == ' ')
			tok++;
		if (strcmp(tok, "hold") == 0)
			v = SINK_HOLD;
		else if (strcmp(tok, "close") == 0)
			v = SINK_CLOSE;
		else if (parse_int(tok, 100, 599, &v) < 0)
			die("--status-seq: bad entry '%s'", tok);
		s->seq[s->nseq++] = v;
	}
	free(copy);
}

static char *xstrndup(const char *p, size_t n)
{
	char *d = xmalloc(n + 1);

	memcpy(d, p, n);
	d[n] = '\0';
	return d;
}

/*
 * --chaos PERCENT[,seed=N]: without a seed, one from the clock and the pid,
 * printed at start-up so that a failing run can be replayed.
 */
static void parse_chaos(struct sink *s, const char *v)
{
	const char *comma = strchr(v, ',');
	char *pct = xstrndup(v, comma ? (size_t)(comma - v) : strlen(v)), *end;

	if (parse_int(pct, 0, 100, &s->chaos_pct) < 0)
		die("--chaos: bad percentage '%s'", pct);
	free(pct);
	s->chaos_seed = (uint64_t)now_us() ^ (uint64_t)getpid() << 32;
	if (comma != NULL) {
		if (strncmp(comma + 1, "seed=", 5) != 0)
			die("--chaos: want PERCENT[,seed=N], got '%s'", v);
		errno = 0;
		s->chaos_seed = strtoull(comma + 6, &end, 10);
		if (errno != 0 || end == comma + 6 || *end != '\0')
			die("--chaos: bad seed in '%s'", v);
	}
	s->chaos_rng = s->chaos_seed;
}

/* The end of the space-delimited token at p. */
static const char *token_end(const char *p)
{
	while (*p != '\0' && *p != ' ')
		p++;
	return p;
}

static int is_tchar(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || strchr("!#$%&'*+-.^_`|~", ch);
}

/* The spaces at p skipped. */
static const char *skip_spaces(const char *p)
{
	while (*p == ' ')
		p++;
	return p;
}

/* A rule's STATUS token, the n bytes at p: a code, "hold" or "close". */
static int rule_status(const char *p, size_t n, const char *spec)
{
	char *st = xstrndup(p, n);
	int status;

	if (strcmp(st, "hold") == 0)
		status = SINK_HOLD;
	else if (strcmp(st, "close") == 0)
		status = SINK_CLOSE;
	else if (parse_int(st, 100, 599, &status) < 0)
		die("--rule: bad status '%s' in '%s'", st, spec);
	free(st);
	return status;
}

/* Append "name: value\r\n" to rr's headers, growing them as needed. */
static void rule_add_header(struct rule_reply *rr, size_t *cap,
                            const char *name, size_t nlen, const char *v,
                            size_t vlen)
{
	size_t need = rr->headers_len + nlen + vlen + 5;

	if (need > *cap) {
		*cap = need * 2;
		if ((rr->headers = realloc(rr->headers, *cap)) == NULL)
			die("out of memory");
	}
	memcpy(rr->headers + rr->headers_len, name, nlen);
	rr->headers_len += nlen;
	memcpy(rr->headers + rr->headers_len, ": ", 2);
	rr->headers_len += 2;
	memcpy(rr->headers + rr->headers_len, v, vlen);
	rr->headers_len += vlen;
	memcpy(rr->headers + rr->headers_len, "\r\n", 2);
	rr->headers_len += 2;
}

/* The H:Name=Value tokens at p into rr; returns where the body starts. */
static const char *rule_headers(struct rule_reply *rr, const char *p)
{
	size_t cap = 0;

	while (strncmp(p, "H:", 2) == 0) {
		const char *name = p + 2, *e = token_end(p), *eq, *c;
		size_t nlen;

		eq = memchr(name, '=', (size_t)(e - name));
		if (eq == NULL || eq == name)
			die("--rule: want H:Name=Value, got '%.*s'",
			    (int)(e - p), p);
		nlen = (size_t)(eq - name);
		for (c = name; c < eq; c++)
			if (!is_tchar(*c))
				die("--rule: bad header name '%.*s'", (int)nlen,
				    name);
		if (nlen == 12 && strncasecmp(name, "content-type", 12) == 0)
			rr->has_ctype = 1;
		rule_add_header(rr, &cap, name, nlen, eq + 1,
		                (size_t)(e - eq - 1));
		p = skip_spaces(e);
	}
	if (rr->headers == NULL)
		rr->headers = xstrndup("", 0);
	return p;
}

/* The route for METHOD+PATH (prefix or exact), made if it is new. */
static struct route *rule_route(struct sink *s, const char *m, size_t mlen,
                                const char *path, size_t plen, int prefix)
{
	struct route *rt;

	for (size_t i = 0; i < s->nroutes; i++) {
		rt = &s->routes[i];
		if (rt->method_len == mlen &&
		    memcmp(rt->method, m, mlen) == 0 && rt->path_len == plen &&
		    memcmp(rt->path, path, plen) == 0 && rt->prefix == prefix)
			return rt;
	}
	s->routes = realloc(s->routes, (s->nroutes + 1) * sizeof(*s->routes));
	if (s->routes == NULL)
		die("out of memory");
	rt = &s->routes[s->nroutes++];
	memset(rt, 0, sizeof(*rt));
	rt->method = xstrndup(m, mlen);
	rt->method_len = mlen;
	rt->path = xstrndup(path, plen);
	rt->path_len = plen;
	rt->prefix = prefix;
	return rt;
}

/*
 * Parse one --rule 'METHOD PATH STATUS [H:Name=Value ...] BODY' and add it
 * to its route (a new route when METHOD+PATH is new).
 */
static void parse_rule(struct sink *s, const char *spec)
{
	const char *p, *e, *m, *path, *c;
	size_t mlen, plen, i;
	struct rule_reply rr;
	struct route *rt;
	int prefix = 0;

	memset(&rr, 0, sizeof(rr));
	if (strpbrk(spec, "\r\n") != NULL)
		die("--rule: no newlines: '%s'", spec);
	m = skip_spaces(spec);
	e = token_end(m);
	mlen = (size_t)(e - m);
	for (i = 0; i < mlen; i++)
		if (!is_tchar(m[i]))
			die("--rule: bad method in '%s'", spec);
	path = skip_spaces(e);
	e = token_end(path);
	plen = (size_t)(e - path);
	if (mlen == 0 || plen == 0 || path[0] != '/')
		die("--rule: want 'METHOD /PATH STATUS [H:Name=Value ...] "
		    "BODY', got '%s'",
		    spec);
	if (path[plen - 1] == '*') {
		prefix = 1;
		plen--;
	}
	if (memchr(path, '?', plen) != NULL)
		die("--rule: PATH matches without the query: '%s'", spec);
	p = skip_spaces(e);
	e = token_end(p);
	rr.status = rule_status(p, (size_t)(e - p), spec);
	/* Header tokens, then the body: the rest of the line, as is. */
	p = rule_headers(&rr, skip_spaces(e));
	rr.body_len = strlen(p);
	rr.body = xstrndup(p, rr.body_len);
	for (c = rr.body; (c = strstr(c, "{{n}}")) != NULL; c += 5)
		rr.ncounter++;
	rt = rule_route(s, m, mlen, path, plen, prefix);
	rt->replies =
	        realloc(rt->replies, (rt->nreplies + 1) * sizeof(*rt->replies));
	if (rt->replies == NULL)
		die("out of memory");
	rt->replies[rt->nreplies++] = rr;
}

static void free_routes(struct sink *s)
{
	size_t i, k;

	for (i = 0; i < s->nroutes; i++) {
		struct route *rt = &s->routes[i];

		for (k = 0; k < rt->nreplies; k++) {
			free(rt->replies[k].headers);
			free(rt->replies[k].body);
		}
		free(rt->replies);
		free(rt->method);
		free(rt->path);
	}
	free(s->routes);
}

static char *canned_get(const char *body, size_t body_len, int keep_alive,
                        size_t *len)
{
	char head[256];
	char *p;
	int n = snprintf(head, sizeof(head),
	                 "HTTP/1.1 200 OK\r\n"
	                 "Server: smm-sink\r\n"
	                 "Content-Type: application/json\r\n"
	                 "Content-Length: %zu\r\n"
	                 "Connection: %s\r\n\r\n",
	                 body_len, keep_alive ? "keep-alive" : "close");

	p = xmalloc((size_t)n + body_len);
	memcpy(p, head, (size_t)n);
	memcpy(p + n, body, body_len);
	*len = (size_t)n + body_len;
	return p;
}

/* Write the port to FILE.tmp and rename it into place: readers never see
 * a partial file. */
static void write_port_file(const char *path, int port)
{
	size_t n = strlen(path) + 32;
	char *tmp = xmalloc(n);
	FILE *f;

	snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
	f = fopen(tmp, "w");
	if (f == NULL)
		die("%s: %s", tmp, strerror(errno));
	fprintf(f, "%d\n", port);
	if (fclose(f) != 0)
		die("%s: %s", tmp, strerror(errno));
	if (rename(tmp, path) < 0)
		die("rename %s: %s", path, strerror(errno));
	free(tmp);
}

static void usage(FILE *f)
{
	fputs("usage: smm-sink [--port N] [--port-file FILE] [--log FILE] "
	      "[--log-get]\n"
	      "                [--status-seq LIST] [--default-status N] "
	      "[--retry-after VALUE]\n"
	      "                [--body TEXT] [--delay-ms N] [--rule RULE]...\n"
	      "                [--chaos PERCENT[,seed=N]] [--print] "
	      "[--version]\n"
	      "                [--notify-at N --notify FILE]\n"
	      "  --status-seq LIST  statuses for successive POSTs, e.g. "
	      "500,500,200;\n"
	      "                     'hold' = never reply, 'close' = close "
	      "without reply\n"
	      "  --default-status N status once the sequence is used up "
	      "(200)\n"
	      "  --retry-after V    Retry-After header on 429 and 503 "
	      "replies\n"
	      "  --body TEXT        reply body (default {\"ok\":true})\n"
	      "  --delay-ms N       answer each request N ms after it "
	      "arrived\n"
	      "  --log FILE         one JSON line per request: t_us, method, "
	      "path, query,\n"
	      "                     headers, body (as is), status, action, "
	      "conn\n"
	      "  --log-get          log GET and HEAD requests too\n"
	      "  --rule 'METHOD PATH STATUS [H:Name=Value ...] BODY'\n"
	      "                     reply to METHOD PATH (the path without "
	      "the query;\n"
	      "                     a trailing '*' matches a prefix, an exact "
	      "path wins,\n"
	      "                     then the longest prefix). Rules for the "
	      "same METHOD\n"
	      "                     and PATH answer one request each in the "
	      "order given;\n"
	      "                     the last repeats. STATUS: 100-599, 'hold' "
	      "or 'close'.\n"
	      "                     H:Name=Value adds a header (no spaces in "
	      "it); the\n"
	      "                     default Content-Type is application/json. "
	      "BODY is\n"
	      "                     the rest of the line; {{n}} in it is "
	      "the route's\n"
	      "                     request counter (1, 2, ...). Requests "
	      "matching no\n"
	      "                     rule get the --status-seq replies.\n"
	      "  --chaos PERCENT[,seed=N]\n"
	      "                     that share of POSTs, drawn at random "
	      "(seeded; the seed\n"
	      "                     is printed on stderr), gets a fault "
	      "instead, with equal\n"
	      "                     odds: 500; 429 with Retry-After 1 or 2; "
	      "a hang (no\n"
	      "                     answer, ever); a reset (RST, no answer). "
	      "Logged with\n"
	      "                     \"chaos\": \"500\", \"429\", \"hang\" or "
	      "\"reset\", and a 429's\n"
	      "                     \"retry_after\" (seconds)\n"
	      "  --print            print each POST as a human line on "
	      "stdout\n"
	      "  --notify-at N --notify FILE\n"
	      "                     once N requests are in the --log, write "
	      "\"N\" to FILE\n"
	      "                     (a FIFO to block on, or a plain file)\n"
	      "example: --rule 'POST /api/webhooks/* 429 "
	      "H:Retry-After=2 {\"retry_after\":2}'\n"
	      "         --rule 'POST /api/webhooks/* 200 {\"id\":\"{{n}}\"}'\n",
	      f);
}

/* The options that say where the sink listens and logs. */
struct sink_opts {
	const char *port_file, *log_path;
	int port;
};

/*
 * One option with a value v into s or o. 0, or -1 for an unknown option.
 */
static int parse_opt(struct sink *s, struct sink_opts *o, const char *a,
                     const char *v)
{
	if (strcmp(a, "--port") == 0) {
		if (parse_int(v, 0, 65535, &o->port) < 0)
			die("--port: bad value '%s'", v);
	} else if (strcmp(a, "--port-file") == 0) {
		o->port_file = v;
	} else if (strcmp(a, "--log") == 0) {
		o->log_path = v;
	} else if (strcmp(a, "--status-seq") == 0) {
		free(s->seq);
		s->seq = NULL;
		s->nseq = 0;
		parse_seq(s, v);
	} else if (strcmp(a, "--default-status") == 0) {
		if (parse_int(v, 100, 599, &s->default_status) < 0)
			die("--default-status: bad value '%s'", v);
	} else if (strcmp(a, "--retry-after") == 0) {
		s->retry_after = v;
		if (strpbrk(v, "\r\n") != NULL)
			die("--retry-after: no newlines");
	} else if (strcmp(a, "--delay-ms") == 0) {
		if (parse_int(v, 0, 3600 * 1000, &s->delay_ms) < 0)
			die("--delay-ms: bad value '%s'", v);
	} else if (strcmp(a, "--body") == 0) {
		s->body = v;
	} else if (strcmp(a, "--rule") == 0) {
		parse_rule(s, v);
	} else if (strcmp(a, "--chaos") == 0) {
		parse_chaos(s, v);
	} else if (strcmp(a, "--notify-at") == 0) {
		if (parse_int(v, 1, INT_MAX, &s->notify_at) < 0)
			die("--notify-at: bad value '%s'", v);
	} else if (strcmp(a, "--notify") == 0) {
		s->notify_path = v;
	} else {
		return -1;
	}
	return 0;
}

/* The command line into s and o: -1 to go on, else an exit status. */
static int parse_args(struct sink *s, struct sink_opts *o, int argc,
                      char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--version") == 0) {
			puts(SINK_VERSION);
			return 0;
		} else if (strcmp(a, "--print") == 0) {
			s->print = 1;
		} else if (strcmp(a, "--log-get") == 0) {
			s->log_get = 1;
		} else if (v == NULL || parse_opt(s, o, a, v) < 0) {
			usage(stderr);
			return 2;
		} else {
			i++;
		}
	}
	return -1;
}

/* Listen on 127.0.0.1:port (0: any free port); returns the port bound. */
static int sink_listen(struct sink *s, int port)
{
	struct sockaddr_in addr;
	struct sockaddr_storage bound;
	int r, namelen;

	uv_tcp_init(&s->loop, &s->server);
	s->server.data = s;
	uv_ip4_addr("127.0.0.1", port, &addr);
	if ((r = uv_tcp_bind(&s->server, (const struct sockaddr *)&addr, 0)) <
	            0 ||
	    (r = uv_listen((uv_stream_t *)&s->server, 511, on_connection)) < 0)
		die("listen on 127.0.0.1:%d: %s", port, uv_strerror(r));
	namelen = sizeof(bound);
	uv_tcp_getsockname(&s->server, (struct sockaddr *)&bound, &namelen);
	return ntohs(((struct sockaddr_in *)&bound)->sin_port);
}

/* What --chaos did, on stderr at exit: the log has each request. */
static void chaos_summary(const struct sink *s)
{
	fprintf(stderr, "smm-sink: chaos: seed %" PRIu64, s->chaos_seed);
	for (int f = CHAOS_500; f < CHAOS_NKINDS; f++)
		fprintf(stderr, ", %" PRIu64 " %s", s->chaos_count[f],
		        chaos_name[f]);
	fputc('\n', stderr);
}

int main(int argc, char **argv)
{
	struct sink s;
	struct sink_opts o = {0};
	int port, r;

	memset(&s, 0, sizeof(s));
	s.default_status = 200;
	s.body = "{\"ok\":true}";
	if ((r = parse_args(&s, &o, argc, argv)) >= 0)
		return r;
	if ((s.notify_at > 0) != (s.notify_path != NULL) ||
	    (s.notify_at > 0 && o.log_path == NULL)) {
		fprintf(stderr, "smm-sink: --notify-at and --notify go "
		                "together, with --log\n");
		return 2;
	}
	s.body_len = strlen(s.body);
	s.get_ka = canned_get(s.body, s.body_len, 1, &s.get_ka_len);
	s.get_close = canned_get(s.body, s.body_len, 0, &s.get_close_len);

	if (o.log_path != NULL) {
		s.log = fopen(o.log_path, "a");
		if (s.log == NULL)
			die("%s: %s", o.log_path, strerror(errno));
		/* Buffered; flushed once per batch of requests read. */
		setvbuf(s.log, NULL, _IOFBF, 64 * 1024);
	}

	if ((r = uv_loop_init(&s.loop)) < 0)
		die("uv_loop_init: %s", uv_strerror(r));
	port = sink_listen(&s, o.port);

	uv_signal_init(&s.loop, &s.sigterm);
	uv_signal_init(&s.loop, &s.sigint);
	s.sigterm.data = &s;
	s.sigint.data = &s;
	uv_signal_start(&s.sigterm, on_signal, SIGTERM);
	uv_signal_start(&s.sigint, on_signal, SIGINT);

	if (o.port_file != NULL)
		write_port_file(o.port_file, port);
	if (s.print) {
		printf("smm-sink listening on http://127.0.0.1:%d/\n", port);
		fflush(stdout);
	}
	if (s.chaos_pct > 0)
		fprintf(stderr,
		        "smm-sink: chaos: %d%% of POSTs get a fault, seed "
		        "%" PRIu64 "\n",
		        s.chaos_pct, s.chaos_seed);

	uv_run(&s.loop, UV_RUN_DEFAULT);
	r = uv_loop_close(&s.loop);
	if (r != 0)
		fprintf(stderr, "smm-sink: uv_loop_close: %s\n",
		        uv_strerror(r));
	if (s.chaos_pct > 0)
		chaos_summary(&s);

	if (s.log != NULL)
		fclose(s.log);
	free(s.get_ka);
	free(s.get_close);
	free(s.seq);
	free_routes(&s);
	return r == 0 ? 0 : 1;
}
