/*
 * The control commands: one table of entries {name, flags, handler, help}
 * (cmd_post.c: add cancel retry resolve; cmd_query.c: list show status
 * agenda; cmd_admin.c: hello reload log; cmd_planb.c: pause resume held
 * release skip audit; cmd_approve.c: approve; queue.c: queue; cmd_plan.c:
 * plan_check; cmd_goals.c: goals; cmd_report.c: report;
 * cmd_stats.c: stats). command_run looks a request up,
 * checks the entry's flags against the peer and the daemon once, and runs
 * the handler.
 * Transport-free so it can be driven by control.c or a test.
 */
#ifndef SMMD_COMMAND_H
#define SMMD_COMMAND_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "store.h"

struct smmd;
struct proto_request;

/* Who sent the request, read from the socket at accept (SO_PEERCRED). */
struct cmd_peer {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	int readonly; /* in readonly_group only: may not change state */
	int routed; /* sent here as the node that fires its channel (relay.h) */
};

/* Changes state: refused while stopping; acknowledged after the commit. */
#define CMD_WRITE 0x1
/* Operators only: refused for a read-only peer. */
#define CMD_ADMIN 0x2
/* May keep the client as a subscriber (log with follow). */
#define CMD_STREAM 0x4
/*
 * Reads the store off the loop (cmd_read.c), when given a connection:
 * its reader sees what the loop has committed, not its open turn.
 */
#define CMD_OFFLOOP 0x8
/*
 * A standby answers it (main.c): it reads nothing a standby lacks. So
 * does every CMD_OFFLOOP command, which reads the store alone.
 */
#define CMD_STANDBY 0x10
/*
 * Runs only where its client is connected (a stream, a file after the
 * reply, rows staged on the connection): a standby neither answers nor
 * relays it (relay.c relays the others to the node that works).
 */
#define CMD_LOCAL 0x20

/* What a handler and command_run return (tmux's CMD_RETURN_*). */
enum cmd_retval {
	CMD_ERROR = -1, /* *code and msg say why */
	CMD_DONE,       /* *result is the reply */
	CMD_WAIT,       /* the reply comes through later->finish */
	CMD_FOLLOW,     /* *result is the reply; then events follow */
};

/*
 * How the connection lets a command answer later (reload) or keep
 * streaming (log with follow). finish is called exactly once, with a
 * result (stolen) or an error code and text. follow subscribes the client
 * to delivery events (channel NULL: every channel) once the reply is
 * sent; 0 or -errno. Either may be NULL where no connection is (tests).
 */
struct cmd_later {
	void (*finish)(struct cmd_later *, json_t *result, const char *code,
	               const char *msg);
	int (*follow)(struct cmd_later *, const char *channel);
	/*
	 * finish with result, then len bytes of fd right after the reply
	 * line (a backup); fd is closed once sent or abandoned. -EBUSY when
	 * the connection has other replies coming or follows events (they
	 * would land inside the bytes): then nothing is sent and fd is
	 * still the caller's.
	 */
	int (*finish_file)(struct cmd_later *, json_t *result, int fd,
	                   uint64_t len);
	/*
	 * A big reply encoded off the loop (cmd_read.c): encode turns
	 * result (stolen) into the reply's line, on any thread (it reads
	 * only what the request fixed, its id), NULL when out of memory;
	 * finish_line then sends the line (taken), on the loop, instead of
	 * finish. Both NULL where no connection is: finish is used.
	 */
	char *(*encode)(struct cmd_later *, json_t *result, size_t *len);
	void (*finish_line)(struct cmd_later *, char *line, size_t len);
	/*
	 * What a request sent in parts left for the next on the same
	 * connection (an import's rows); the connection frees it when it
	 * closes. NULL where no connection is.
	 */
	json_t **staged;
	size_t *staged_bytes; /* ... and their size as JSON, to bound it */
};

/*
 * Run req for peer. Returns CMD_DONE or CMD_FOLLOW with *result (owned by
 * the caller), CMD_ERROR with *code (an SMM_ERR_* string) and msg set, or
 * CMD_WAIT when the reply will come through later->finish.
 */
enum cmd_retval command_run(struct smmd *, const struct cmd_peer *,
                            const struct proto_request *req, json_t **result,
                            const char **code, char *msg, size_t msglen,
                            struct cmd_later *later);

/*
 * cmd_post.c: an add's parts, shared with import (cmd_import.c). add_check
 * reads the request's args into a post (strings borrowed from them),
 * placed in a free slot for next_slot (not one claimed already); add_store
 * stores it and queues its deliveries, and returns what add replies.
 */
#define ADD_MAX_CHANNELS 64
struct cmd_ctx;
struct slot_claims;
struct add_req {
	struct post_new p;
	const char *channels[ADD_MAX_CHANNELS];
	unsigned char drafts[ADD_MAX_CHANNELS]; /* channel needs approval */
	char gen_id[32];
	json_t *empty;     /* owned: the media list when none is given */
	const char *field; /* the one add_check found wrong */
};
int add_check(struct cmd_ctx *, int64_t now, const struct slot_claims *,
              struct add_req *);
json_t *add_store(struct cmd_ctx *, struct add_req *, int64_t now);
void add_req_clear(struct add_req *);

/* Whether the command called name changes state (CMD_WRITE); 0 if none. */
int command_changes(const char *name);
/* Whether it reads off the loop (CMD_OFFLOOP); 0 if none. */
int command_off_loop(const char *name);

/* What the handlers in cmd_*.c share: the request being answered. */
struct cmd_ctx {
	struct smmd *d;
	const struct cmd_peer *peer;
	struct cmd_later *later;
	const json_t *args;
	json_t **result;
	const char **code;
	char *msg;
	size_t msglen;
};

/* One command: what the table says about it. */
struct cmd_entry {
	const char *name;
	unsigned flags; /* CMD_WRITE, CMD_ADMIN, CMD_STREAM */
	enum cmd_retval (*run)(struct cmd_ctx *);
	const char *help;
};

/* The command groups' entries, collected in command.c's table. */
extern const struct cmd_entry cmd_hello_entry, cmd_reload_entry, cmd_log_entry,
        cmd_backup_entry, cmd_queue_entry, cmd_import_entry,
        cmd_plan_check_entry;
extern const struct cmd_entry cmd_goals_entry;  /* cmd_goals.c */
extern const struct cmd_entry cmd_report_entry; /* cmd_report.c */
extern const struct cmd_entry cmd_stats_entry;  /* cmd_stats.c */
extern const struct cmd_entry cmd_auth_entry,
        cmd_channels_entry; /* cmd_auth.c */
extern const struct cmd_entry cmd_add_entry, cmd_cancel_entry, cmd_retry_entry,
        cmd_resolve_entry;
extern const struct cmd_entry cmd_approve_entry; /* cmd_approve.c */
extern const struct cmd_entry cmd_list_entry, cmd_show_entry, cmd_status_entry,
        cmd_agenda_entry;
extern const struct cmd_entry cmd_pause_entry, cmd_resume_entry, cmd_held_entry,
        cmd_release_entry, cmd_skip_entry, cmd_audit_entry,
        cmd_planb_list_entry, cmd_planb_activate_entry, cmd_planb_drill_entry,
        cmd_planb_end_entry;
/* The active pauses as status shows them (cmd_planb.c). */
json_t *cmd_pauses_json(struct smmd *);

/*
 * The peer as the audit trail names it: its uid (smmd's own when there is
 * no peer) and user name, written to name, which a points to. A command
 * routed here carries the name the node asked gave it, in the argument
 * ROUTE_ACTOR_ARG (route.c's send_to).
 */
#define ROUTE_ACTOR_ARG "routed_actor"
struct pause_actor;
void cmd_actor(const struct cmd_ctx *, struct pause_actor *a, char *name,
               size_t len);

/*
 * A read command's store work, off the loop (cmd_read.c): a report over
 * a busy month reads for half a second, and no post may wait that long.
 * The command reads its arguments on the loop into a job that embeds
 * struct cmd_read, with copies of whatever it needs of the loop's state
 * (the calendar's zone and goals, ...), and hands it to cmd_read_later.
 * run is then called on a worker thread with a reader (store.h) and a
 * context of which only the reply's fields are set (d, peer, later and
 * args are NULL): it touches nothing of the loop's, and answers as a
 * handler does (*x->result, or cmd_fail). The pure modules it may use
 * keep no state of their own, and caltime.h's zones are libical's, which
 * (from libical 3.0) guards its zone tables with mutexes. The reply goes
 * out from the loop through the request's later; free then releases the
 * job there.
 */
struct cmd_read {
	enum cmd_retval (*run)(struct cmd_ctx *, struct store *reader,
	                       struct cmd_read *);
	void (*free)(struct cmd_read *);
	/* cmd_read.c's own */
	uv_work_t work;
	struct store *store;
	struct cmd_later *later;
	json_t *result;
	const char *code;
	enum cmd_retval r;
	struct smmd *d;
	struct cmd_read *next; /* waiting for a turn on the thread pool */
	int read_failed;       /* no reader: to be logged, on the loop */
	char *line;            /* the reply, encoded by the worker */
	size_t len;
	char msg[1024];
};
/*
 * At most this many reads run at once: libuv's pool has four threads, and
 * a reload's parse or a backup must find one free however many reports
 * are asked for. The others wait their turn, in order.
 */
#define CMD_READS_AT_ONCE 2
/*
 * Queue job, which is the caller's no longer: CMD_WAIT, or CMD_ERROR.
 * Without a connection to answer on (later NULL), or a backend without
 * readers, run is called at once, on the loop, with the loop's store.
 */
enum cmd_retval cmd_read_later(struct cmd_ctx *, struct cmd_read *job);

/* Set the error reply; returns CMD_ERROR. */
enum cmd_retval cmd_fail(struct cmd_ctx *, const char *code, const char *fmt,
                         ...) __attribute__((format(printf, 3, 4)));
/*
 * A store error as a reply: -ENOENT not_found, -EALREADY conflict, -EEXIST
 * exists (keeping the message already in msg), -ENOMEM out of memory,
 * anything else "cannot <doing> the store". Returns CMD_ERROR.
 */
enum cmd_retval cmd_store_error(struct cmd_ctx *, int r, const char *doing);

/* Typed arguments. Each returns 0, or -1 with the error reply set. */
int cmd_arg_string(struct cmd_ctx *, const char *key, const char **out,
                   int required);
/* An optional RFC 3339 time; *out keeps its value when absent. */
int cmd_arg_time(struct cmd_ctx *, const char *key, int64_t *out);
/* An optional integer from 1 to max; *out keeps its value when absent. */
int cmd_arg_limit(struct cmd_ctx *, const char *key, unsigned max,
                  unsigned *out);
/* An optional boolean, false when absent. */
int cmd_arg_bool(struct cmd_ctx *, const char *key, int *out);
/* An optional configured channel's name (NULL when absent). */
int cmd_arg_channel(struct cmd_ctx *, const char *key, const char **out);
/* 0 if name is a configured channel, else -1 with unknown_channel. */
int cmd_check_channel(struct cmd_ctx *, const char *name);

#endif
