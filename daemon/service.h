/*
 * Talking to the service manager (systemd) when smmd runs under one: it
 * says when it is ready, reloading or stopping, feeds the watchdog, takes
 * a socket-activated control socket and writes journal entries with
 * fields. Built on libsystemd when configure found it; without it every
 * call is a cheap no-op that reports "nothing there", so callers never
 * test for it. Not loop glue: no uv.h, the caller owns the timers.
 */
#ifndef SMMD_SERVICE_H
#define SMMD_SERVICE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/*
 * The listening control socket systemd passed (LISTEN_FDS, LISTEN_PID), or
 * -1 in *fd when none was passed. -1 with err when what was passed is not
 * one listening Unix stream socket. Call once: it clears LISTEN_* so no
 * child inherits them.
 */
int service_listen_fd(int *fd, char *err, size_t errlen);

/* 1 when a service manager listens for notifications (NOTIFY_SOCKET). */
int service_notify_enabled(void);
/* Each returns 0 (also when nobody listens) or a negative errno. */
int service_notify_ready(const char *status);
int service_notify_reloading(const char *status);
int service_notify_stopping(const char *status);
int service_notify_status(const char *status);
/* WATCHDOG=1, with STATUS= too unless status is NULL. */
int service_notify_watchdog(const char *status);
/* EXTEND_TIMEOUT_USEC=: a start (or stop) still going, usec more. */
int service_notify_extend(uint64_t usec);
/*
 * How often to feed the watchdog: half of WatchdogSec=, in milliseconds, so
 * one late turn is not a restart; 0 when there is no watchdog for us.
 */
uint64_t service_watchdog_interval_ms(void);

/*
 * 1 when entries can go to the journal natively: smmd was built with
 * libsystemd and its stderr is the journal (JOURNAL_STREAM names
 * stderr's device and inode, as systemd sets it for StandardError=journal).
 */
int service_journal_wanted(void);
/* One journal entry from "FIELD=value" pieces. 0 or a negative errno. */
int service_journal_send(const struct iovec *fields, int n);

#endif
