#include "service.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_LIBSYSTEMD
/* CODE_FILE= and CODE_LINE= would all name this wrapper: leave them out. */
#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

int service_listen_fd(int *fd, char *err, size_t errlen)
{
	int n, r;

	*fd = -1;
	/* 1: unset LISTEN_*; the fds themselves are made close-on-exec. */
	if ((n = sd_listen_fds(1)) < 0) {
		snprintf(err, errlen,
		         "cannot take the sockets systemd passed: %s",
		         strerror(-n));
		return -1;
	}
	if (n == 0)
		return 0;
	if (n > 1) {
		snprintf(
		        err, errlen,
		        "systemd passed %d sockets; smmd takes one, the control "
		        "socket (one ListenStream= in smmd.socket)",
		        n);
		return -1;
	}
	r = sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, NULL, 0);
	if (r <= 0) {
		snprintf(err, errlen,
		         "the socket systemd passed is not a listening Unix "
		         "stream socket%s%s (ListenStream= in smmd.socket must "
		         "be a path)",
		         r < 0 ? ": " : "", r < 0 ? strerror(-r) : "");
		return -1;
	}
	*fd = SD_LISTEN_FDS_START;
	return 0;
}

int service_notify_enabled(void)
{
	const char *s = getenv("NOTIFY_SOCKET");

	return s != NULL && s[0] != '\0';
}

/*
 * sd_notify() returns > 0 when sent, 0 when nobody listens; only a failure
 * to send is an error worth reporting.
 */
static int notify(const char *state)
{
	int r = sd_notify(0, state);

	return r < 0 ? r : 0;
}

static int notify_with_status(const char *what, const char *status)
{
	char buf[512];

	if (status == NULL)
		return notify(what);
	snprintf(buf, sizeof(buf), "%s\nSTATUS=%s", what, status);
	return notify(buf);
}

int service_notify_ready(const char *status)
{
	return notify_with_status("READY=1", status);
}

int service_notify_reloading(const char *status)
{
	struct timespec ts;
	char what[64];

	/*
	 * systemd 253 and later match a reload to its RELOADING=1 by the
	 * monotonic time it began; older ones ignore the field.
	 */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(what, sizeof(what), "RELOADING=1\nMONOTONIC_USEC=%llu",
	         (unsigned long long)ts.tv_sec * 1000000ULL +
	                 (unsigned long long)ts.tv_nsec / 1000);
	return notify_with_status(what, status);
}

int service_notify_stopping(const char *status)
{
	return notify_with_status("STOPPING=1", status);
}

int service_notify_status(const char *status)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "STATUS=%s", status);
	return notify(buf);
}

int service_notify_watchdog(const char *status)
{
	return notify_with_status("WATCHDOG=1", status);
}

int service_notify_extend(uint64_t usec)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "EXTEND_TIMEOUT_USEC=%" PRIu64, usec);
	return notify(buf);
}

uint64_t service_watchdog_interval_ms(void)
{
	uint64_t usec = 0;

	/* > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID (if any) is us.
	 */
	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return 0;
	/* Half the period, but never a busy loop. */
	return usec / 2000 > 0 ? usec / 2000 : 1;
}

int service_journal_wanted(void)
{
	const char *s = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char end;

	if (s == NULL || sscanf(s, "%llu:%llu%c", &dev, &ino, &end) != 2 ||
	    fstat(STDERR_FILENO, &st) < 0)
		return 0;
	/* A redirected stderr is not the journal, whatever the env says. */
	if ((unsigned long long)st.st_dev != dev ||
	    (unsigned long long)st.st_ino != ino)
		return 0;
	/*
	 * sd_journal_sendv() drops entries silently when journald's socket is
	 * missing; stderr, even if a dead end, is better than nothing.
	 */
	return access("/run/systemd/journal/socket", W_OK) == 0;
}

int service_journal_send(const struct iovec *fields, int n)
{
	return sd_journal_sendv(fields, n);
}

#else /* !HAVE_LIBSYSTEMD: no service manager integration; all no-ops. */

int service_listen_fd(int *fd, char *err, size_t errlen)
{
	const char *pid = getenv("LISTEN_PID");

	*fd = -1;
	/* Binding our own path beside systemd's socket would split clients. */
	if (pid && getenv("LISTEN_FDS") && atol(pid) == (long)getpid()) {
		snprintf(err, errlen,
		         "systemd passed a socket, but smmd was built without "
		         "libsystemd and cannot take it");
		return -1;
	}
	return 0;
}

int service_notify_enabled(void)
{
	return 0;
}

int service_notify_ready(const char *status)
{
	(void)status;
	return 0;
}

int service_notify_reloading(const char *status)
{
	(void)status;
	return 0;
}

int service_notify_stopping(const char *status)
{
	(void)status;
	return 0;
}

int service_notify_status(const char *status)
{
	(void)status;
	return 0;
}

int service_notify_watchdog(const char *status)
{
	(void)status;
	return 0;
}

int service_notify_extend(uint64_t usec)
{
	(void)usec;
	return 0;
}

uint64_t service_watchdog_interval_ms(void)
{
	return 0;
}

int service_journal_wanted(void)
{
	return 0;
}

int service_journal_send(const struct iovec *fields, int n)
{
	(void)fields;
	(void)n;
	return -ENOSYS;
}

#endif
