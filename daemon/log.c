#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <syslog.h>
#include <time.h>

#include "log.h"
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

static void __attribute__((format(printf, 2, 3)))
line_addf(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(l->p + l->len, l->cap - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len += (size_t)n < l->cap - l->len ? (size_t)n
		                                      : l->cap - 1 - l->len;
}

/*
 * s as a JSON string. A response body quoted in a message may hold any
 * bytes; invalid UTF-8 becomes U+FFFD so every line stays valid JSON.
 */
static void line_json_string(struct line *l, const char *s)
{
	size_t i = 0, n = strlen(s), len;

	line_adds(l, "\"");
	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		len = 1;
		if (c == '"' || c == '\\') {
			line_add(l, "\\", 1);
			line_add(l, s + i, 1);
		} else if (c == '\n') {
			line_adds(l, "\\n");
		} else if (c == '\t') {
			line_adds(l, "\\t");
		} else if (c < 0x20 || c == 0x7f) {
			line_addf(l, "\\u%04x", c);
		} else if (utf8_next(s + i, n - i, &len) == UTF8_INVALID) {
			line_adds(l, "\\ufffd");
		} else {
			line_add(l, s + i, len);
		}
		i += len;
	}
	line_adds(l, "\"");
}

/* " key=value", the value quoted when a space or quote would split it. */
static void line_kv(struct line *l, const char *key, const char *value)
{
	const char *p;

	line_addf(l, " %s=", key);
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

/* The delivery's fields as JSON members, after "message". */
static void line_json_delivery(struct line *l, const struct delivery_log *e)
{
	line_adds(l, ",\"post_id\":");
	line_json_string(l, e->post_id);
	line_adds(l, ",\"channel\":");
	line_json_string(l, e->channel);
	line_addf(l, ",\"attempt\":%u", e->attempt);
	if (e->http_status > 0)
		line_addf(l, ",\"http_status\":%ld", e->http_status);
	else
		line_adds(l, ",\"http_status\":null");
	if (e->latency_ms >= 0)
		line_addf(l, ",\"latency_ms\":%.1f", e->latency_ms);
	else
		line_adds(l, ",\"latency_ms\":null");
	line_adds(l, ",\"outcome\":");
	line_json_string(l, e->outcome);
}

/* The delivery's fields as key=value pairs, after the sentence. */
static void line_text_delivery(struct line *l, const struct delivery_log *e)
{
	char num[32];

	line_kv(l, "post_id", e->post_id);
	line_kv(l, "channel", e->channel);
	if (e->http_status > 0) {
		snprintf(num, sizeof(num), "%ld", e->http_status);
		line_kv(l, "http_status", num);
	}
	snprintf(num, sizeof(num), "%u", e->attempt);
	line_kv(l, "attempt", num);
	if (e->latency_ms >= 0) {
		snprintf(num, sizeof(num), "%.1f", e->latency_ms);
		line_kv(l, "latency_ms", num);
	}
	line_kv(l, "outcome", e->outcome);
}

/*
 * The journal entry: MESSAGE (already in l, after "MESSAGE="), PRIORITY,
 * SYSLOG_IDENTIFIER and, for a delivery, one field per datum so that
 * "journalctl -u smmd POST_ID=p1" finds every attempt of post p1.
 */
static int journal_send(enum log_level level, struct line *l,
                        const struct delivery_log *e)
{
	char prio[16], post[256], chan[256], status[32], attempt[32],
	        latency[48], outcome[256];
	struct iovec iov[9];
	int n = 0;

#define IOV_STR(s) (iov[n++] = (struct iovec){(char *)(s), strlen(s)})
	iov[n++] = (struct iovec){l->p, l->len};
	snprintf(prio, sizeof(prio), "PRIORITY=%d", level_syslog[level]);
	IOV_STR(prio);
	IOV_STR("SYSLOG_IDENTIFIER=smmd");
	if (e != NULL) {
		snprintf(post, sizeof(post), "POST_ID=%s", e->post_id);
		IOV_STR(post);
		snprintf(chan, sizeof(chan), "CHANNEL=%s", e->channel);
		IOV_STR(chan);
		snprintf(attempt, sizeof(attempt), "ATTEMPT=%u", e->attempt);
		IOV_STR(attempt);
		if (e->http_status > 0) {
			snprintf(status, sizeof(status), "HTTP_STATUS=%ld",
			         e->http_status);
			IOV_STR(status);
		}
		if (e->latency_ms >= 0) {
			snprintf(latency, sizeof(latency), "LATENCY_MS=%.1f",
			         e->latency_ms);
			IOV_STR(latency);
		}
		snprintf(outcome, sizeof(outcome), "OUTCOME=%s", e->outcome);
		IOV_STR(outcome);
	}
#undef IOV_STR
	return service_journal_send(iov, n);
}

/* Write one event to wherever logs go, in the configured format. */
static void log_emit(enum log_level level, const char *msg,
                     const struct delivery_log *e)
{
	struct line l = {log_line_buf, 0, sizeof(log_line_buf)};
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
		line_addf(&l, "\",\"level\":\"%s\",\"message\":",
		          level_names[level]);
		line_json_string(&l, msg);
		if (e != NULL)
			line_json_delivery(&l, e);
		line_adds(&l, "}");
	} else {
		line_adds(&l, msg);
		/* The journal gets these as fields instead. */
		if (e != NULL && !log_journal)
			line_text_delivery(&l, e);
	}
	if (log_syslog) {
		syslog(level_syslog[level], "%s", l.p + body);
		return;
	}
	/* Should the journal be gone, stderr still tells someone. */
	if (log_journal && journal_send(level, &l, e) == 0)
		return;
	if (log_format == LOG_FORMAT_JSON)
		fprintf(stderr, "%s\n", l.p + body);
	else
		fprintf(stderr, "%s %s %s\n", when, level_names[level],
		        l.p + body);
}

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
	log_emit(level, msg, NULL);
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

void log_delivery(enum log_level level, const struct delivery_log *e)
{
	char msg[LOG_MSG_MAX];

	if (level == LOG_LEVEL_DEBUG && !log_verbose)
		return;
	/* The sentence first: people and the e2e tests grep for it. */
	if (e->latency_ms >= 0)
		snprintf(msg, sizeof(msg),
		         "publish: post '%s' channel '%s' attempt %u: %s in "
		         "%.1f ms, %s",
		         e->post_id, e->channel, e->attempt, e->detail,
		         e->latency_ms, e->outcome);
	else
		snprintf(msg, sizeof(msg),
		         "publish: post '%s' channel '%s' attempt %u: %s, %s",
		         e->post_id, e->channel, e->attempt, e->detail,
		         e->outcome);
	log_emit(level, msg, e);
}
