#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"
#include "timeparse.h"

/*
 * Logging is process-wide state by nature (like stderr itself), so it is the
 * one module that keeps statics.
 */
static int log_syslog;
static int log_verbose;
static char log_buf[64 * 1024];

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

void log_flush(void)
{
	if (!log_syslog)
		fflush(stderr);
}

static void log_vwrite(enum log_level level, const char *suffix,
                       const char *fmt, va_list ap)
{
	char msg[8192];
	struct timespec ts;
	char when[TIME_RFC3339_LEN];

	if (level == LOG_LEVEL_DEBUG && !log_verbose)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_syslog) {
		if (suffix)
			syslog(level_syslog[level], "%s: %s", msg, suffix);
		else
			syslog(level_syslog[level], "%s", msg);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	time_format_rfc3339((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
	                    when);
	if (suffix)
		fprintf(stderr, "%s %s %s: %s\n", when, level_names[level], msg,
		        suffix);
	else
		fprintf(stderr, "%s %s %s\n", when, level_names[level], msg);
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
	if (e->latency_ms >= 0)
		log_msg(level,
		        "publish: post '%s' channel '%s' attempt %u: %s in "
		        "%.1f ms, %s",
		        e->post_id, e->channel, e->attempt, e->detail,
		        e->latency_ms, e->outcome);
	else
		log_msg(level,
		        "publish: post '%s' channel '%s' attempt %u: %s, %s",
		        e->post_id, e->channel, e->attempt, e->detail,
		        e->outcome);
}
