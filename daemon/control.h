/*
 * The control socket: a Unix stream socket speaking newline-delimited JSON
 * (include/smm/protocol.h). Fails closed: peer credentials are read at
 * accept and checked before any command runs; line length, clients and
 * idle time are bounded; bad input gets an error reply, never a crash.
 */
#ifndef SMMD_CONTROL_H
#define SMMD_CONTROL_H

/*
 * Connections that may follow the event stream at once: a follower keeps
 * its connection for good, and the rest of CONTROL_MAX_CLIENTS stays
 * for operators.
 */
#define CONTROL_MAX_FOLLOWERS 16

#include <stddef.h>

struct smmd;
struct control;

/* Bind path (refusing if a live smmd answers there). 0 or -1 with err. */
int control_listen(struct smmd *, const char *path, struct control **out,
                   char *err, size_t errlen);
/*
 * Take over fd, a listening socket the service manager bound (socket
 * activation). Closes fd on failure. 0 or -1 with err.
 */
int control_adopt(struct smmd *, int fd, struct control **out, char *err,
                  size_t errlen);
/*
 * Stop accepting, drop every client, unlink the socket (unless adopted);
 * frees itself. Accepts NULL.
 */
void control_close(struct control *);
/* The socket's path, for messages. */
const char *control_name(const struct control *);
/* The listening socket's fd, to hand over to smmd executed afresh. */
int control_fd(const struct control *);
/* Whether smmd made the socket's file (and removes it at exit). */
int control_owns_path(const struct control *);
/* An adopted socket whose file smmd made before it executed afresh. */
int control_own_path(struct control *);
/*
 * Run one request line as a client connected as peer would (a standby
 * relayed it: relay.c), and call answer once with its reply line, once
 * what it changed is stored. 0, or -ENOMEM.
 */
struct cmd_peer;
int control_relay(struct control *, const struct cmd_peer *, const char *line,
                  size_t len,
                  void (*answer)(void *arg, const char *line, size_t len),
                  void *arg);

#endif
