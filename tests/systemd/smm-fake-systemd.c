/*
 * smm-fake-systemd: the two halves of systemd's service protocol that the
 * end-to-end tests need, without systemd.
 *
 *   smm-fake-systemd activate SOCKET PROGRAM [ARG...]
 *       Bind and listen on the Unix stream socket SOCKET, move it to fd 3,
 *       set LISTEN_FDS=1, LISTEN_PID, LISTEN_FDNAMES (and WATCHDOG_PID
 *       when WATCHDOG_USEC is set) and exec PROGRAM: the same pid, so
 *       LISTEN_PID and WATCHDOG_PID name it, as under systemd. The socket
 *       file stays behind, as systemd's does.
 *
 *   smm-fake-systemd notify-recv PATH
 *       Bind the datagram socket PATH (a NOTIFY_SOCKET) and print each
 *       notification on one line, its "\n"-separated assignments joined by
 *       spaces, until SIGTERM; exit 0 then.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define ACTIVATE_FD 3 /* SD_LISTEN_FDS_START */

static volatile sig_atomic_t fake_stop;

static void fake_die(const char *what)
{
	fprintf(stderr, "smm-fake-systemd: %s: %s\n", what, strerror(errno));
	exit(71);
}

static void fake_on_term(int sig)
{
	(void)sig;
	fake_stop = 1;
}

/* A bound Unix socket of the given type at path. */
static int fake_bind(const char *path, int type)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "smm-fake-systemd: path too long: %s\n", path);
		exit(64);
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, type, 0)) < 0)
		fake_die("socket");
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		fake_die(path);
	return fd;
}

static int fake_activate(char *socket_path, char **argv)
{
	char pid[32];
	int fd;

	/* 0660, as smmd.socket's SocketMode= makes it. */
	umask(0117);
	fd = fake_bind(socket_path, SOCK_STREAM);
	if (listen(fd, 16) < 0)
		fake_die("listen");
	if (fd != ACTIVATE_FD) {
		if (dup2(fd, ACTIVATE_FD) < 0)
			fake_die("dup2");
		close(fd);
	}
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	if (setenv("LISTEN_FDS", "1", 1) < 0 ||
	    setenv("LISTEN_PID", pid, 1) < 0 ||
	    setenv("LISTEN_FDNAMES", "smmd.socket", 1) < 0 ||
	    (getenv("WATCHDOG_USEC") != NULL &&
	     setenv("WATCHDOG_PID", pid, 1) < 0))
		fake_die("setenv");
	execvp(argv[0], argv);
	fake_die(argv[0]);
	return 71;
}

static int fake_notify_recv(const char *path)
{
	struct sigaction sa = {.sa_handler = fake_on_term};
	char buf[4096];
	ssize_t n;
	int fd;

	/* No SA_RESTART: SIGTERM must interrupt recv(). */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	fd = fake_bind(path, SOCK_DGRAM);
	while (!fake_stop) {
		if ((n = recv(fd, buf, sizeof(buf) - 1, 0)) < 0) {
			if (errno == EINTR)
				continue;
			fake_die("recv");
		}
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] == '\n')
				buf[i] = ' ';
		buf[n] = '\0';
		printf("%s\n", buf);
		fflush(stdout);
	}
	close(fd);
	unlink(path);
	return 0;
}

int main(int argc, char *argv[])
{
	if (argc >= 4 && strcmp(argv[1], "activate") == 0)
		return fake_activate(argv[2], argv + 3);
	if (argc == 3 && strcmp(argv[1], "notify-recv") == 0)
		return fake_notify_recv(argv[2]);
	fprintf(stderr, "usage: smm-fake-systemd activate SOCKET PROGRAM "
	                "[ARG...]\n"
	                "       smm-fake-systemd notify-recv PATH\n");
	return 64;
}
