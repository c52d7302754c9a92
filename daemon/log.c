#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <syslog.h>
#include <time.h>

#include "log.h"
#include "numfmt.h"
#include "service.h"
#include "text.h"
#include "timeparse.h"

/* A message is cut here; its JSON form (at most 6 bytes a byte) still fits. */
#define LOG_MSG_MAX  8192
#define LOG_LINE_MAX (LOG_MSG_MAX * 6 + 4096)

/*
 * Logging is process-wide state by nature (like stderr itself), so it is the
 * one module that keeps statics.
 */
static int log_syslog;
static int log_journal; /* stderr is the journal: send entries natively */
static int log_verbose;
static enum log_format log_format;
static char log_buf[64 * 1024];
static char log_line_buf[LOG_LINE_MAX];

static const char *const level_names[] = {
        [LOG_LEVEL_ERROR] = "error",
        [LOG_LEVEL_WARNING] = "warning",
        [LOG_LEVEL_INFO] = "info",
        [LOG_LEVEL_DEBUG] = "debug",
};

static const int level_syslog[] = {
        [LOG_LEVEL_ERROR] = LOG_ERR,
        [LOG_LEVEL_WARNING] = LOG_WARNING,
        [LOG_LEVEL_INFO] = LOG_INFO,
        [LOG_LEVEL_DEBUG] = LOG_DEBUG,
};

void log_init(int to_syslog, int verbose)
{
	log_syslog = to_syslog;
	log_verbose = verbose;
	log_journal = !to_syslog && service_journal_wanted();
	if (to_syslog)
		openlog("smmd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	else
		/*
		 * Full buffering: a delivery burst logs tens of thousands of
		 * lines a second; one write per loop turn instead of one per
		 * line. log_flush() runs at the end of every turn.
		 */
		setvbuf(stderr, log_buf, _IOFBF, sizeof(log_buf));
}

void log_set_verbose(int verbose)
{
	log_verbose = verbose;
}

void log_set_format(enum log_format format)
{
	log_format = format;
}

void log_flush(void)
{
	if (!log_syslog)
		fflush(stderr);
}

/* One log line under construction, in log_line_buf; what won't fit is cut. */
struct line {
	char *p;
	size_t len, cap;
};

static void line_add(struct line *l, const char *s, size_t n)
{
	if (n > l->cap - 1 - l->len)
		n = l->cap - 1 - l->len;
	memcpy(l->p + l->len, s, n);
	l->len += n;
	l->p[l->len] = '\0';
}

static void line_adds(struct line *l, const char *s)
{
	line_add(l, s, strlen(s));
}

/*
 * s as a JSON string. A response body quoted in a message may hold any
 * bytes; invalid UTF-8 becomes U+FFFD so every line stays valid JSON.
 */
static void line_json_string(struct line *l, const char *s)
{
	size_t i = 0, n = strlen(s), used, run;
	char esc[JSON_ESCAPE_MAX];

	line_adds(l, "\"");
	for (; i < n; i += used) {
		used = json_escape_step(s + i, n - i, &run, esc);
		if (run > 0)
			line_add(l, s + i, run);
		else
			line_adds(l, esc);
	}
	line_adds(l, "\"");
}

/* " key=value", the value quoted when a space or quote would split it. */
static void line_kv(struct line *l, const char *key, const char *value)
{
	const char *p;

	/* No printf: it runs for every field of every delivery's line. */
	line_add(l, " ", 1);
	line_adds(l, key);
	line_add(l, "=", 1);
	if (value[0] != '\0' && strpbrk(value, " \"=\\\t\n") == NULL) {
		line_adds(l, value);
		return;
	}
	line_adds(l, "\"");
	for (p = value; *p; p++) {
		if (*p == '"' || *p == '\\')
			line_add(l, "\\", 1);
		if (*p == '\n' || *p == '\t')
			line_add(l, " ", 1);
		else
			line_add(l, p, 1);
	}
	line_adds(l, "\"");
}

/* The fields as JSON members, after "message". */
static void line_json_fields(struct line *l, const struct log_field *f,
                             size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (f[i].value == NULL && !f[i].number)
			continue;
		line_adds(l, ",\"");
		line_adds(l, f[i].key);
		line_adds(l, "\":");
		if (f[i].value == NULL)
			line_adds(l, "null");
		else if (f[i].number)
			line_adds(l, f[i].value);
		else
			line_json_string(l, f[i].value);
	}
}

/* The fields as key=value pairs, after the sentence. */
static void line_text_fields(struct line *l, const struct log_field *f,
                             size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (f[i].value != NULL)
			line_kv(l, f[i].key, f[i].value);
}

/*
 * The journal entry: MESSAGE (already in l, after "MESSAGE="), PRIORITY,
 * SYSLOG_IDENTIFIER and one field per datum, its key in upper case, so
 * that "journalctl -u smmd POST_ID=p1" finds every attempt of post p1 and
 * "journalctl -u smmd EVENT=paused" every pause.
 */
static int journal_send(enum log_level level, struct line *l,
                        const struct log_field *f, size_t n)
{
	char prio[16], fields[LOG_FIELDS_MAX][LOG_FIELD_LEN];
	struct iovec iov[3 + LOG_FIELDS_MAX];
	int k = 0;

	iov[k++] = (struct iovec){l->p, l->len};
	snprintf(prio, sizeof(prio), "PRIORITY=%d", level_syslog[level]);
	iov[k++] = (struct iovec){prio, strlen(prio)};
	iov[k++] = (struct iovec){(char *)"SYSLOG_IDENTIFIER=smmd", 22};
	for (size_t i = 0; i < n && i < LOG_FIELDS_MAX; i++) {
		char *p = fields[i];
		size_t len;

		if (f[i].value == NULL)
			continue;
		len = (size_t)snprintf(p, LOG_FIELD_LEN, "%s=%s", f[i].key,
		                       f[i].value);
		if (len >= LOG_FIELD_LEN)
			len = LOG_FIELD_LEN - 1;
		/* Journal field names are upper case; values as they are. */
		for (; *p != '='; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
		/* A newline would end the field in the native protocol. */
		for (p = fields[i]; p < fields[i] + len; p++)
			if (*p == '\n')
				*p = ' ';
		iov[k++] = (struct iovec){fields[i], len};
	}
	return service_journal_send(iov, k);
}

/*
 * Write one event to wherever logs go, in the configured format. A line
 * for stderr is built whole, its newline included, and written at once:
 * no printf, it runs for every delivery.
 */
static void log_emit(enum log_level level, const char *msg,
                     const struct log_field *f, size_t n)
{
	/* One byte kept back: the newline always fits. */
	struct line l = {log_line_buf, 0, sizeof(log_line_buf) - 1};
	struct timespec ts;
	char when[TIME_RFC3339_LEN];
	size_t body;

	clock_gettime(CLOCK_REALTIME, &ts);
	time_format_rfc3339((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
	                    when);
	log_line_buf[0] = '\0';
	if (log_journal)
		line_adds(&l, "MESSAGE=");
	body = l.len;
	if (log_format == LOG_FORMAT_JSON) {
		line_adds(&l, "{\"time\":\"");
		line_adds(&l, when);
		line_adds(&l, "\",\"level\":\"");
		line_adds(&l, level_names[level]);
		line_adds(&l, "\",\"message\":");
		line_json_string(&l, msg);
		line_json_fields(&l, f, n);
		line_adds(&l, "}");
	} else {
		if (!log_journal && !log_syslog) {
			line_adds(&l, when);
			line_adds(&l, " ");
			line_adds(&l, level_names[level]);
			line_adds(&l, " ");
		}
		line_adds(&l, msg);
		/* The journal gets these as fields instead. */
		if (!log_journal)
			line_text_fields(&l, f, n);
	}
	if (log_syslog) {
		syslog(level_syslog[level], "%s", l.p + body);
		return;
	}
	/* Should the journal be gone, stderr still tells someone. */
	if (log_journal) {
		if (journal_send(level, &l, f, n) == 0)
			return;
		if (log_format != LOG_FORMAT_JSON) {
			fprintf(stderr, "%s %s %s\n", when, level_names[level],
			        l.p + body);
			return;
		}
	}
	l.p[l.len++] = '\n';
	fwrite(l.p + body, 1, l.len - body, stderr);
}

/* printf-like: clang checks each caller's format, and not this call. */
static void log_vwrite(enum log_level level, const char *suffix,
                       const char *fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));

static void log_vwrite(enum log_level level, const char *suffix,
                       const char *fmt, va_list ap)
{
	char msg[LOG_MSG_MAX];
	size_t len;

	if (level == LOG_LEVEL_DEBUG && !log_verbose)
		return;
	/* Room is kept for the reason: it is the part worth reading. */
	vsnprintf(msg, suffix ? sizeof(msg) - 128 : sizeof(msg), fmt, ap);
	if (suffix != NULL) {
		len = strlen(msg);
		snprintf(msg + len, sizeof(msg) - len, ": %s", suffix);
	}
	log_emit(level, msg, NULL, 0);
}

#define LOG_BODY(level, suffix)                     \
	do {                                        \
		va_list ap;                         \
		va_start(ap, fmt);                  \
		log_vwrite(level, suffix, fmt, ap); \
		va_end(ap);                         \
	} while (0)

void log_warn(const char *fmt, ...)
{
	const char *why = strerror(errno);

	LOG_BODY(LOG_LEVEL_WARNING, why);
}

void log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARNING, NULL);
}

void log_error(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_ERROR, NULL);
}

void log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_INFO, NULL);
}

void log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_DEBUG, NULL);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	LOG_BODY(level, NULL);
}

void fatal(const char *fmt, ...)
{
	const char *why = strerror(errno);

	LOG_BODY(LOG_LEVEL_ERROR, why);
	log_flush();
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_ERROR, NULL);
	log_flush();
	exit(1);
}

void log_fields(enum log_level level, const struct log_field *f, size_t n,
                const char *fmt, ...)
{
	char msg[LOG_MSG_MAX];
	va_list ap;

	if (level == LOG_LEVEL_DEBUG && !log_verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_emit(level, msg, f, n);
}

void log_delivery(enum log_level level, const struct delivery_log *e)
{
	char status[NUMFMT_I64_LEN], attempt[NUMFMT_I64_LEN];
	char latency[NUMFMT_TENTHS_LEN];
	char msg[LOG_MSG_MAX];
	struct line m = {msg, 0, sizeof(msg)};
	const struct log_field f[] = {
	        {"post_id", e->post_id, 0},
	        {"channel", e->channel, 0},
	        {"http_status", e->http_status > 0 ? status : NULL, 1},
	        {"attempt", attempt, 1},
	        {"latency_ms", e->latency_ms >= 0 ? latency : NULL, 1},
	        {"outcome", e->outcome, 0},
	};

	if (level == LOG_LEVEL_DEBUG && !log_verbose)
		return;
	numfmt_i64(status, e->http_status);
	numfmt_i64(attempt, e->attempt);
	if (e->latency_ms >= 0)
		numfmt_tenths(latency, e->latency_ms);
	/*
	 * "publish: post 'P' channel 'C' attempt N: DETAIL[ in L ms], OUTCOME"
	 * (people and the e2e tests grep for it), by hand: it is every
	 * delivery's line, and printf's parsing cost more than the rest. The
	 * latency as the field has it: one float formatted, not two.
	 */
	line_adds(&m, "publish: post '");
	line_adds(&m, e->post_id ? e->post_id : "");
	line_adds(&m, "' channel '");
	line_adds(&m, e->channel ? e->channel : "");
	line_adds(&m, "' attempt ");
	line_adds(&m, attempt);
	line_adds(&m, ": ");
	line_adds(&m, e->detail ? e->detail : "");
	if (e->latency_ms >= 0) {
		line_adds(&m, " in ");
		line_adds(&m, latency);
		line_adds(&m, " ms");
	}
	line_adds(&m, ", ");
	line_adds(&m, e->outcome ? e->outcome : "");
	log_emit(level, msg, f, LOG_NFIELDS(f));
}
