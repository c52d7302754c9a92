/*
 * Logging in the OpenBSD shape. One line per event:
 *   2026-11-22T10:00:00.123Z info publish: post 'p1' channel 'demo' ...
 * to stderr (buffered, flushed once per loop turn by log_flush), to syslog
 * when smmd runs detached, or straight to the journal, with fields, when
 * stderr is the journal (see service.h). log_format json makes each event
 * one JSON object instead, for log shippers. Library-ish code returns
 * errors; the caller that decides what to do logs them, once.
 */
#ifndef SMMD_LOG_H
#define SMMD_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

enum log_format {
	LOG_FORMAT_TEXT, /* "TIME LEVEL message key=value..." */
	LOG_FORMAT_JSON, /* {"time":...,"level":...,"message":...} */
};

/* to_syslog: after daemonizing; verbose: include debug messages. */
void log_init(int to_syslog, int verbose);
void log_set_verbose(int verbose);
/* Kept across log_init(); the configuration's log_format. */
void log_set_format(enum log_format);
/* Write what is buffered; called at the end of every loop turn. */
void log_flush(void);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_msg(enum log_level, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/*
 * One datum of an event, beside its sentence: " key=value" in text, a
 * member in JSON, KEY=value in the journal (journalctl EVENT=paused).
 * value NULL: left out (JSON null when number). number: a JSON number.
 */
struct log_field {
	const char *key; /* lower case; the journal's is upper case */
	const char *value;
	int number;
};
#define LOG_FIELDS_MAX 12
#define LOG_FIELD_LEN  512 /* a journal field is cut here */
#define LOG_NFIELDS(f) (sizeof(f) / sizeof((f)[0]))
void log_fields(enum log_level, const struct log_field *, size_t n,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/*
 * One delivery attempt's result: a log line with every field an operator
 * greps for, and the same as fields: key=value after the sentence in text,
 * members in JSON, journal fields (POST_ID, CHANNEL, HTTP_STATUS, ATTEMPT,
 * LATENCY_MS, OUTCOME) in the journal.
 */
struct delivery_log {
	const char *post_id;
	const char *channel;
	unsigned attempt;
	long http_status;    /* 0: no HTTP response */
	double latency_ms;   /* < 0: no request was made */
	const char *detail;  /* "HTTP 503", curl's error, ... */
	const char *outcome; /* "published", "retry in 2s", "failed", ... */
};
void log_delivery(enum log_level, const struct delivery_log *);

/* Before the loop runs or on a broken invariant only. */
void fatal(const char *fmt, ...)
        __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
        __attribute__((format(printf, 1, 2), noreturn));

#endif
