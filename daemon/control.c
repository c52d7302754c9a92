#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "command.h"
#include "config.h"
#include "control.h"
#include "events.h"
#include "log.h"
#include "looptime.h"
#include "peergroup.h"
#include "proto.h"
#include "smm/protocol.h"
#include "smmd.h"
#include "store.h"

#define CONTROL_MAX_CLIENTS 64
#define CONTROL_IDLE_MS     (5 * 60 * 1000)
/* A client that stops reading its replies is dropped past this. */
#define CONTROL_MAX_QUEUED (16 * 1024 * 1024)
/*
 * A client that sends requests faster than it reads their replies (a
 * script piping thousands of adds) is not served while more than
 * PAUSE_REPLIES replies or PAUSE_BYTES bytes of them wait for it, until
 * it is down to the RESUME_ marks: it is slowed to its own pace, not
 * dropped part-way with its requests half done and half unanswered.
 * Checked after each request, so one read of 64 KiB of `list`s does not
 * queue gigabytes.
 */
#define CONTROL_PAUSE_REPLIES 4096
/* ... or more than this many reads are being answered off the loop
 * (list, report, show: up to a megabyte of reply each). */
#define CONTROL_PAUSE_WAITING  8
#define CONTROL_PAUSE_BYTES    (1024 * 1024)
#define CONTROL_RESUME_REPLIES 1024
#define CONTROL_RESUME_BYTES   (256 * 1024)
/*
 * A client's requests are served while the loop's turn has run less than
 * this; the rest wait for the next turn, after the timers and the other
 * clients. A read of piped adds holds hundreds of them, 50-100 us each:
 * in one go, every post due meanwhile would wait for all of them.
 */
#define CONTROL_TURN_NS (2 * 1000 * 1000)
/*
 * A `log` follower gets events as fast as deliveries happen. One that
 * stops reading is dropped rather than kept in memory or waited for: when
 * more than FOLLOW_MAX_QUEUED bytes wait for it (beyond what its socket
 * buffer took) and none of its lines was written for FOLLOW_STALL_MS, or
 * at once past FOLLOW_HARD_QUEUED. A reader that keeps up can still be
 * behind by a whole turn's burst (10,000 adds in one read) for a moment.
 */
#define FOLLOW_MAX_QUEUED  (1024 * 1024)
#define FOLLOW_STALL_MS    1000
#define FOLLOW_HARD_QUEUED (8 * 1024 * 1024)
/* How long a dropped follower has to read what was queued, then its end. */
#define FOLLOW_END_GRACE_MS 2000
/*
 * After line_too_long, what the client still sends is read and dropped
 * before the close ("lingering close", as HTTP servers do): closing with
 * its bytes unread would fail its writes with EPIPE, and a client that
 * dies of that never reads why. Until it goes quiet for LINGER_QUIET_MS
 * or LINGER_MAX_MS have passed, whichever comes first.
 */
#define LINGER_QUIET_MS 2000
#define LINGER_MAX_MS   10000

struct client {
	uv_pipe_t pipe;
	uv_timer_t idle;
	uv_timer_t wake; /* a paused client's requests, served again */
	struct control *ctl;
	struct client *prev, *next;
	char *buf; /* SMM_MAX_LINE bytes: one partial line */
	size_t len;
	struct cmd_peer peer;    /* read at accept */
	struct events_sub *sub;  /* a `log` follower's subscription */
	json_int_t follow_id;    /* its request's id, on each event line */
	uint64_t missed;         /* events it did not get since it lagged */
	int lagging;             /* stopped reading: being dropped */
	uint64_t written_ms;     /* the loop's time of its last written line */
	unsigned refs;           /* replies queued or being written */
	unsigned handles_open;   /* pipe, idle and wake timers */
	int dead;                /* closing: ignore input, free at refs 0 */
	int close_when_answered; /* peer sent EOF with replies still due */
	int paused;              /* not served until it reads its replies */
	int yielded;             /* the turn's budget spent: on_wake goes on */
	int reads_done;          /* no more requests: it is being closed */
	int draining;            /* sent line_too_long: input is dropped */
	uint64_t linger_end_ms;  /* ... until then at the latest */
	size_t pending;          /* bytes of its replies not written yet */
	unsigned waiting;        /* reads being answered off the loop */
	struct file_send *sending; /* a file follows its reply: write nothing */
	json_t *staged;            /* an import's rows sent so far */
	size_t staged_bytes;       /* ... and their size */
	/* A request a standby relayed (control_relay): no socket; its one
	 * reply goes to relay(relay_arg, ...). */
	void (*relay)(void *arg, const char *line, size_t len);
	void *relay_arg;
};

struct control {
	struct smmd *d;
	uv_pipe_t server;
	char *path; /* what we bound and unlink; NULL when systemd bound it */
	char *name; /* the socket's path, for messages */
	struct client *clients;
	size_t nclients;
	size_t nfollowers; /* clients following the event stream */
	int closing;
	/* Clients whose turn's budget was spent are served on from here:
	 * an async callback runs in the next turn, after its timers and
	 * poll (a 0 ms timer would run in this one). */
	uv_async_t resume;
	/* Relayed requests not answered yet, and the server and resume
	 * closed: ctl goes once all are over. */
	unsigned relays;
	int server_gone, resume_gone;
};

/* A reply waiting for the store's commit, then for the socket. */
struct reply {
	uv_write_t req;
	struct client *c;
	char *line;
	size_t len;
	int close_after;
	size_t counted;         /* what it adds to its client's pending */
	struct file_send *then; /* bytes that follow the line (a backup) */
	int says_done;          /* a change's success: untrue if not stored */
	json_int_t id;          /* ... its request's id */
};

/*
 * A file sent after a reply, a chunk at a time: read on the thread pool
 * (the loop never waits on the disk), written, then the next. One chunk
 * in flight is the whole buffer a slow reader can cost.
 */
#define FILE_CHUNK (256 * 1024)
struct file_send {
	uv_fs_t fs;
	uv_write_t w;
	struct client *c;
	int fd;
	uint64_t off, len;
	char buf[FILE_CHUNK];
};

static void file_next(struct file_send *f);
static void file_end(struct file_send *f);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b);
static void on_wake(uv_timer_t *t);

static void client_close(struct client *c);
static void queue_reply(struct client *c, char *line, size_t len,
                        int close_after);

/* No more events for c; a follower that lagged counts as dropped. */
static void follow_stop(struct client *c)
{
	struct events *ev = c->ctl->d->events;

	if (c->sub == NULL)
		return;
	events_unsubscribe(ev, c->sub);
	c->sub = NULL;
	c->ctl->nfollowers--;
	if (c->lagging)
		events_follower_dropped(ev, c->missed);
}

/* A lagging follower caught up with its queue: say why it ends, close. */
static void follow_end(struct client *c)
{
	size_t size = 256;
	char *line = malloc(size);
	int n;

	follow_stop(c);
	c->reads_done = 1;
	c->len = 0; /* nothing it sent is served after its end */
	if (line == NULL) {
		client_close(c);
		return;
	}
	n = snprintf(line, size,
	             "{\"id\":%lld,\"end\":{\"reason\":\"too_slow\","
	             "\"missed\":%llu,\"message\":\"not reading events "
	             "fast enough: dropped after missing %llu\"}}\n",
	             (long long)c->follow_id, (unsigned long long)c->missed,
	             (unsigned long long)c->missed);
	queue_reply(c, line, (size_t)n, 1);
}

/* Bytes the kernel would not take yet: what a slow reader costs us. */
static size_t client_backlog(struct client *c)
{
	return uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe);
}

/* A write is done: a lagging follower that caught up gets its end. */
static void client_written(struct client *c)
{
	/*
	 * A dead client's writes finish after control_close, when ctl may
	 * be gone already (libuv closes the server first): touch nothing.
	 */
	if (c->dead)
		return;
	c->written_ms = uv_now(c->pipe.loop);
	if (c->lagging && c->sub && client_backlog(c) == 0)
		follow_end(c);
}

static void control_maybe_free(struct control *ctl)
{
	if (ctl->server_gone && ctl->resume_gone && ctl->relays == 0) {
		free(ctl->path);
		free(ctl->name);
		free(ctl);
	}
}

/* Freed once closed, with its handles gone and no reply pending. */
static void client_maybe_free(struct client *c)
{
	if (c->dead && c->refs == 0 && c->handles_open == 0) {
		if (c->relay) {
			c->ctl->relays--;
			control_maybe_free(c->ctl);
		}
		json_decref(c->staged);
		free(c->buf);
		free(c);
	}
}

/* Too many replies wait for c: serve no more of its requests. */
static int client_pause(struct client *c)
{
	if (c->paused || c->relay ||
	    (c->refs < CONTROL_PAUSE_REPLIES &&
	     c->pending < CONTROL_PAUSE_BYTES &&
	     c->waiting < CONTROL_PAUSE_WAITING))
		return c->paused;
	c->paused = 1;
	uv_read_stop((uv_stream_t *)&c->pipe);
	return 1;
}

/*
 * Down to the marks: its requests read already are served, then reading
 * goes on, from a timer rather than from inside whatever wrote the reply
 * (a commit's callbacks, which a new request would add to).
 */
static void client_resume(struct client *c)
{
	if (!c->paused || c->dead || c->refs > CONTROL_RESUME_REPLIES ||
	    c->pending > CONTROL_RESUME_BYTES ||
	    c->waiting >= CONTROL_PAUSE_WAITING / 2)
		return;
	c->paused = 0;
	uv_timer_start(&c->wake, on_wake, 0, 0);
}

static void client_release(struct client *c)
{
	c->refs--;
	client_resume(c);
	if (c->refs == 0 && c->close_when_answered && !c->dead)
		client_close(c);
	client_maybe_free(c);
}

static void client_handle_closed(uv_handle_t *h)
{
	struct client *c = h->data;

	c->handles_open--;
	client_maybe_free(c);
}

static void client_close(struct client *c)
{
	struct control *ctl = c->ctl;

	if (c->dead)
		return;
	if (c->relay) {
		c->dead = 1; /* no socket, no handles: freed at refs 0 */
		return;
	}
	c->dead = 1;
	follow_stop(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		ctl->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ctl->nclients--;
	uv_close((uv_handle_t *)&c->pipe, client_handle_closed);
	uv_close((uv_handle_t *)&c->idle, client_handle_closed);
	uv_close((uv_handle_t *)&c->wake, client_handle_closed);
}

static void reply_written(uv_write_t *req, int status)
{
	struct reply *r = req->data;
	struct client *c = r->c;

	if ((status < 0 || r->close_after) && !c->dead)
		client_close(c);
	c->pending -= r->counted;
	/* A paused client that reads its replies is not idle. */
	if (c->paused && !c->dead)
		uv_timer_again(&c->idle);
	client_written(c);
	if (r->then)
		file_next(r->then);
	free(r->line);
	free(r);
	client_release(c);
}

/* The file is sent, or given up (the client went): done with it. */
static void file_end(struct file_send *f)
{
	struct client *c = f->c;

	close(f->fd);
	c->sending = NULL;
	if (!c->dead) {
		/* What it sent meanwhile first, then reading on. */
		if (!c->paused)
			uv_timer_start(&c->wake, on_wake, 0, 0);
		uv_timer_again(&c->idle);
	}
	free(f);
	client_release(c);
}

static void file_written(uv_write_t *w, int status)
{
	struct file_send *f = w->data;

	if (status < 0 && !f->c->dead)
		client_close(f->c);
	file_next(f);
}

static void file_read(uv_fs_t *fs)
{
	struct file_send *f = fs->data;
	ssize_t n = fs->result;
	uv_buf_t b;

	uv_fs_req_cleanup(fs);
	if (f->c->dead || n <= 0) {
		/* Short: the reply promised len bytes; only a cut says so. */
		if (!f->c->dead) {
			log_error("control: backup: cannot read the copy: %s",
			          n < 0 ? uv_strerror((int)n) : "end of file");
			client_close(f->c);
		}
		file_end(f);
		return;
	}
	f->off += (uint64_t)n;
	b = uv_buf_init(f->buf, (unsigned)n);
	f->w.data = f;
	/* A reader that stalls for CONTROL_IDLE_MS is cut off (on_idle). */
	uv_timer_again(&f->c->idle);
	if (uv_write(&f->w, (uv_stream_t *)&f->c->pipe, &b, 1, file_written) <
	    0) {
		client_close(f->c);
		file_end(f);
	}
}

static void file_next(struct file_send *f)
{
	uint64_t left = f->len - f->off;
	uv_buf_t b = uv_buf_init(
	        f->buf, (unsigned)(left < FILE_CHUNK ? left : FILE_CHUNK));

	f->fs.data = f;
	if (f->c->dead || left == 0 ||
	    uv_fs_read(f->c->pipe.loop, &f->fs, f->fd, &b, 1, (int64_t)f->off,
	               file_read) < 0)
		file_end(f);
}

/*
 * The turn's writes were not stored: a reply that says a change was made
 * says that it was not, in its place. Other replies (reads, errors,
 * events) stand.
 */
static void reply_undo(struct reply *r)
{
	char *line;
	size_t len;

	line = proto_reply_error(
	        r->id, SMM_ERR_STORE_UNAVAILABLE,
	        "not done: the store cannot be written (disk full, read-only "
	        "or failing); smmd's log says why, and smmd carries on by "
	        "itself once it can write again",
	        &len);
	if (line == NULL)
		return;
	free(r->line);
	r->line = line;
	r->len = len;
}

/* Runs after the commit: what the reply says is now durable. */
static void reply_send(void *arg, int err)
{
	struct reply *r = arg;
	struct client *c = r->c;
	uv_buf_t b;

	if (err < 0 && r->says_done)
		reply_undo(r);
	if (c->relay) {
		/* Its one reply; a later one (none is due) finds it dead. */
		if (!c->dead)
			c->relay(c->relay_arg, r->line, r->len);
		c->dead = 1;
		goto drop;
	}
	b = uv_buf_init(r->line, (unsigned)r->len);

	if (c->dead || uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) >
	                       CONTROL_MAX_QUEUED) {
		if (!c->dead)
			log_warnx("control: client pid %ld is not reading its "
			          "replies; dropping it",
			          (long)c->peer.pid);
		if (c->sub && !c->lagging) {
			/* A follower after all: count it as dropped. */
			c->lagging = 1;
			c->missed = 1;
		}
		client_close(c);
		goto drop;
	}
	r->req.data = r;
	if (uv_write(&r->req, (uv_stream_t *)&c->pipe, &b, 1, reply_written) <
	    0) {
		client_close(c);
		goto drop;
	}
	return;
drop:
	if (r->then)
		file_end(r->then);
	c->pending -= r->counted;
	free(r->line);
	free(r);
	client_release(c);
}

/* A reply for c holding line (ours now), or NULL with c closed. */
static struct reply *reply_new(struct client *c, char *line, size_t len,
                               int close_after)
{
	struct reply *r;

	if (line == NULL || (r = calloc(1, sizeof(*r))) == NULL) {
		free(line);
		client_close(c);
		return NULL;
	}
	r->c = c;
	r->line = line;
	r->len = len;
	r->close_after = close_after;
	r->counted = len;
	c->pending += len;
	c->refs++;
	return r;
}

/* Every reply waits for the turn's commit; that keeps them in order. */
static void reply_queue(struct reply *r)
{
	if (r && store_after_commit(r->c->ctl->d->store, reply_send, r) < 0)
		reply_send(r, 0);
}

static void queue_reply(struct client *c, char *line, size_t len,
                        int close_after)
{
	reply_queue(reply_new(c, line, len, close_after));
}

/* The success of request id; if it changed state, untrue unless stored. */
static void queue_ok(struct client *c, json_int_t id, int changes,
                     const json_t *result)
{
	size_t len;
	char *line = proto_reply_ok(id, result, &len);
	struct reply *r = reply_new(c, line, len, 0);

	if (r) {
		r->says_done = changes;
		r->id = id;
	}
	reply_queue(r);
}

static void reply_error(struct client *c, json_int_t id, const char *code,
                        const char *msg, int close_after)
{
	size_t len;
	char *line = proto_reply_error(id, code, msg, &len);

	queue_reply(c, line, len, close_after);
}

#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* A reply that comes later (reload): it keeps its client alive. */
struct later_reply {
	struct cmd_later base;
	struct client *c;
	json_int_t id;
	int changes;  /* the command changes state (CMD_WRITE) */
	int off_loop; /* a read off the loop: counted in c->waiting */
};

static void later_finish(struct cmd_later *base, json_t *result,
                         const char *code, const char *msg)
{
	struct later_reply *l = container_of(base, struct later_reply, base);
	struct client *c = l->c;

	if (!c->dead && result)
		queue_ok(c, l->id, l->changes, result);
	else if (!c->dead)
		reply_error(c, l->id, code, msg, 0);
	json_decref(result);
	c->waiting -= (unsigned)l->off_loop;
	free(l);
	client_release(c);
}

/* Any thread: the reply line for result (cmd_read.c). */
static char *later_encode(struct cmd_later *base, json_t *result, size_t *len)
{
	struct later_reply *l = container_of(base, struct later_reply, base);
	char *line = proto_reply_ok(l->id, result, len);

	json_decref(result);
	return line;
}

/* The line later_encode made: sent as queue_ok would. */
static void later_finish_line(struct cmd_later *base, char *line, size_t len)
{
	struct later_reply *l = container_of(base, struct later_reply, base);
	struct client *c = l->c;
	struct reply *r;

	if (c->dead) {
		free(line);
	} else if ((r = reply_new(c, line, len, 0)) != NULL) {
		r->says_done = l->changes;
		r->id = l->id;
		reply_queue(r);
	}
	c->waiting -= (unsigned)l->off_loop;
	free(l);
	client_release(c);
}

/*
 * The reply, then the file. Nothing else may be written meanwhile: a
 * client with other replies due or following events is refused, and its
 * requests are not read until the file is sent.
 */
static int later_finish_file(struct cmd_later *base, json_t *result, int fd,
                             uint64_t len)
{
	struct later_reply *l = container_of(base, struct later_reply, base);
	struct client *c = l->c;
	struct file_send *f;
	struct reply *r;
	char *line;
	size_t n;

	if (c->dead || c->sub || c->refs != 1 || c->relay)
		return -EBUSY;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -ENOMEM;
	if ((line = proto_reply_ok(l->id, result, &n)) == NULL ||
	    (r = reply_new(c, line, n, 0)) == NULL) {
		free(f);
		return -ENOMEM;
	}
	json_decref(result);
	*f = (struct file_send){.c = c, .fd = fd, .len = len};
	r->then = f;
	c->sending = f;
	uv_read_stop((uv_stream_t *)&c->pipe);
	/* The later's ref is the file's now; the reply took its own. */
	c->waiting -= (unsigned)l->off_loop;
	free(l);
	reply_queue(r);
	return 0;
}

static void on_idle(uv_timer_t *t);

/* Never wait for a follower that stopped reading, never hold more. */
static void follow_drop(struct client *c)
{
	log_warnx("control: client pid %ld is not reading its events; "
	          "dropping it",
	          (long)c->peer.pid);
	c->lagging = 1;
	c->missed = 1;
	uv_timer_start(&c->idle, on_idle, FOLLOW_END_GRACE_MS, 0);
}

/* Whether a follower stopped reading (see FOLLOW_MAX_QUEUED). */
static int follow_stalled(struct client *c)
{
	size_t backlog = client_backlog(c);

	if (backlog > FOLLOW_HARD_QUEUED)
		return 1;
	return backlog > FOLLOW_MAX_QUEUED &&
	       uv_now(c->ctl->d->loop) - c->written_ms > FOLLOW_STALL_MS;
}

/* One delivery event for a follower: a line, or a miss if it lags. */
static void follow_event(void *arg, const char *json, size_t len)
{
	struct client *c = arg;
	char *line;
	int n;

	if (c->dead || c->lagging) {
		c->missed++;
		return;
	}
	if (follow_stalled(c)) {
		follow_drop(c);
		return;
	}
	/* The id, the framing and the newline fit in 48 bytes. */
	if ((line = malloc(len + 48)) == NULL) {
		client_close(c);
		return;
	}
	n = snprintf(line, len + 48, "{\"id\":%lld,\"event\":%.*s}\n",
	             (long long)c->follow_id, (int)len, json);
	queue_reply(c, line, (size_t)n, 0);
	/* Judged again once it has had FOLLOW_STALL_MS, even if no event
	 * comes meanwhile (the last of a burst). */
	if (!c->dead && client_backlog(c) > FOLLOW_MAX_QUEUED &&
	    !uv_is_active((uv_handle_t *)&c->idle))
		uv_timer_start(&c->idle, on_idle, FOLLOW_STALL_MS + 1, 0);
}

/* `log` with follow: c gets every event from now on, after the reply. */
static int later_follow(struct cmd_later *base, const char *channel)
{
	struct later_reply *l = container_of(base, struct later_reply, base);
	struct client *c = l->c;

	if (c->relay)
		return -ENOTSUP; /* a standby answers log itself */
	if (c->sub)
		return -EALREADY;
	/* A follower holds its slot for good: keep most for operators. */
	if (c->ctl->nfollowers >= CONTROL_MAX_FOLLOWERS)
		return -EBUSY;
	c->sub = events_subscribe(c->ctl->d->events, channel, follow_event, c);
	if (c->sub == NULL)
		return -ENOMEM;
	c->follow_id = l->id;
	c->ctl->nfollowers++;
	c->written_ms = uv_now(c->ctl->d->loop);
	/* It only listens from now on: never idle. */
	uv_timer_stop(&c->idle);
	return 0;
}

static void handle_line(struct client *c, const char *line, size_t len)
{
	struct proto_request req;
	struct later_reply *later;
	const char *code = NULL;
	char msg[8192];
	json_t *result = NULL;
	uint64_t t0;
	int r;

	if (proto_parse_request(line, len, &req, &code, msg, sizeof(msg)) < 0) {
		reply_error(c, req.id, code, msg, 0);
		proto_request_clear(&req);
		return;
	}
	if ((later = calloc(1, sizeof(*later))) == NULL) {
		reply_error(c, req.id, SMM_ERR_INTERNAL, "out of memory", 0);
		proto_request_clear(&req);
		return;
	}
	later->base.finish = later_finish;
	later->base.follow = later_follow;
	later->base.finish_file = later_finish_file;
	later->base.encode = later_encode;
	later->base.finish_line = later_finish_line;
	later->base.staged = &c->staged;
	later->base.staged_bytes = &c->staged_bytes;
	later->c = c;
	later->id = req.id;
	later->changes = command_changes(req.cmd);
	t0 = looptime_enter();
	r = command_run(c->ctl->d, &c->peer, &req, &result, &code, msg,
	                sizeof(msg), &later->base);
	looptime_leave(t0, "command", req.cmd);
	if (r == CMD_WAIT) {
		c->refs++; /* released by later_finish */
		later->off_loop = command_off_loop(req.cmd) != 0;
		c->waiting += (unsigned)later->off_loop;
	} else {
		if (r == CMD_ERROR)
			reply_error(c, req.id, code, msg, 0);
		else
			queue_ok(c, req.id, later->changes, result);
		free(later);
	}
	json_decref(result);
	proto_request_clear(&req);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct client *c = h->data;

	*b = uv_buf_init(c->buf + c->len, (unsigned)(SMM_MAX_LINE - c->len));
}

static void on_idle(uv_timer_t *t)
{
	struct client *c = t->data;

	if (c->lagging || c->draining) {
		/* A dropped follower that still doesn't read, or a client
		 * past its line_too_long gone quiet: cut it off. */
		client_close(c);
		return;
	}
	if (c->sub) {
		/* A follower only listens: dropped if it stopped reading. */
		if (follow_stalled(c))
			follow_drop(c);
		return;
	}
	if (c->sending || c->paused) {
		/* A line now would land inside the file, or behind replies
		 * it does not read: just hang up. */
		log_warnx("control: client pid %ld stopped reading %s; "
		          "dropping it",
		          (long)c->peer.pid,
		          c->sending ? "a backup" : "its replies");
		client_close(c);
		return;
	}

	reply_error(c, 0, SMM_ERR_INVALID_REQUEST,
	            "idle for too long: closing the connection", 1);
	c->reads_done = 1;
	uv_read_stop((uv_stream_t *)&c->pipe);
}

/* The turn has run long enough: c's next requests in the next one. */
static void client_yield(struct client *c)
{
	c->yielded = 1;
	uv_read_stop((uv_stream_t *)&c->pipe);
	uv_async_send(&c->ctl->resume);
}

/*
 * Serve each whole request line in c's buffer, until c is paused or the
 * turn's budget is spent (the rest stays in the buffer for on_wake) or c
 * is closed. One line at least, whatever the turn took before.
 */
static void serve_lines(struct client *c)
{
	char *nl, *start = c->buf;
	int served = 0;

	while (!client_pause(c) &&
	       (nl = memchr(start, '\n', c->len - (size_t)(start - c->buf))) !=
	               NULL) {
		if (served++ > 0 && c->relay == NULL &&
		    looptime_turn_ns() >= CONTROL_TURN_NS) {
			client_yield(c);
			break;
		}
		handle_line(c, start, (size_t)(nl - start));
		start = nl + 1;
		if (c->dead)
			return;
	}
	c->len -= (size_t)(start - c->buf);
	memmove(c->buf, start, c->len);
	if (c->len == SMM_MAX_LINE && !c->paused) {
		char msg[128];

		snprintf(msg, sizeof(msg),
		         "request line longer than %d bytes: closing the "
		         "connection",
		         SMM_MAX_LINE);
		reply_error(c, 0, SMM_ERR_LINE_TOO_LONG, msg, 0);
		c->reads_done = 1;
		c->len = 0;
		c->draining = 1;
		c->linger_end_ms = uv_now(c->pipe.loop) + LINGER_MAX_MS;
		uv_timer_start(&c->idle, on_idle, LINGER_QUIET_MS, 0);
	}
}

/* What a client sends after its line_too_long: dropped, then the close. */
static void drain(struct client *c, ssize_t nread)
{
	c->len = 0;
	if (nread >= 0 && uv_now(c->pipe.loop) < c->linger_end_ms) {
		uv_timer_start(&c->idle, on_idle, LINGER_QUIET_MS, 0);
		return;
	}
	uv_read_stop((uv_stream_t *)&c->pipe);
	if (c->refs > 0)
		c->close_when_answered = 1; /* its reply first */
	else
		client_close(c);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct client *c = s->data;

	if (c->dead)
		return;
	if (c->draining) {
		drain(c, nread);
		return;
	}
	if (nread < 0) {
		/* A half-closed peer can still read why its line was dropped.
		 */
		c->reads_done = 1;
		if (nread == UV_EOF && c->sub && c->len == 0) {
			/* A follower done asking still listens (until a
			 * write fails: a closed peer looks the same). */
			uv_read_stop(s);
			return;
		}
		if (nread == UV_EOF && c->len > 0)
			reply_error(c, 0, SMM_ERR_INVALID_REQUEST,
			            "connection closed in the middle of a "
			            "request line",
			            1);
		else if (nread == UV_EOF && c->refs > 0)
			/* It only shut its write side: answer, then close. */
			c->close_when_answered = 1;
		else
			client_close(c);
		uv_read_stop(s);
		return;
	}
	if (nread == 0)
		return;
	uv_timer_again(&c->idle);
	c->len += (size_t)nread;
	serve_lines(c);
}

/*
 * A paused client's replies went, or a turn ended before all it sent was
 * served: serve the rest, then read on.
 */
static void serve_on(struct client *c)
{
	if (c->dead || c->paused || c->sending)
		return; /* a backup's end wakes it again (file_end) */
	c->yielded = 0;
	uv_timer_again(&c->idle);
	serve_lines(c);
	if (!c->dead && !c->paused && !c->yielded && !c->reads_done &&
	    c->sending == NULL)
		uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
}

static void on_wake(uv_timer_t *t)
{
	serve_on(t->data);
}

static void on_resume(uv_async_t *a)
{
	struct control *ctl = a->data;
	struct client *c, *next;

	for (c = ctl->clients; c; c = next) {
		next = c->next;
		if (c->yielded)
			serve_on(c);
	}
}

enum peer_role { PEER_REFUSED, PEER_READER, PEER_OPERATOR };

/*
 * Root, smmd's own user and members of control_group operate; members of
 * readonly_group may only read (command.c refuses them every CMD_ADMIN
 * command); anyone else is refused. Checked for every connection, so the
 * socket's file mode is only a first gate (see control_listen).
 */
static enum peer_role peer_role(const struct config *cfg, uid_t uid, gid_t gid)
{
	if (uid == 0 || uid == geteuid())
		return PEER_OPERATOR;
	if (cfg->control_group && peergroup_has(uid, gid, cfg->control_gid))
		return PEER_OPERATOR;
	if (cfg->readonly_group && peergroup_has(uid, gid, cfg->readonly_gid))
		return PEER_READER;
	return PEER_REFUSED;
}

static void on_connection(uv_stream_t *server, int status)
{
	struct control *ctl = server->data;
	struct client *c;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	enum peer_role role;
	uv_os_fd_t fd;

	if (status < 0) {
		log_warnx("control: accept: %s", uv_strerror(status));
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->buf = malloc(SMM_MAX_LINE)) == NULL) {
		free(c);
		log_warnx("control: out of memory accepting a client");
		return;
	}
	c->ctl = ctl;
	uv_pipe_init(ctl->d->loop, &c->pipe, 0);
	uv_timer_init(ctl->d->loop, &c->idle);
	uv_timer_init(ctl->d->loop, &c->wake);
	c->pipe.data = c->idle.data = c->wake.data = c;
	c->handles_open = 3;
	c->refs = 0;
	c->next = ctl->clients;
	if (ctl->clients)
		ctl->clients->prev = c;
	ctl->clients = c;
	ctl->nclients++;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0) {
		client_close(c);
		return;
	}
	if (uv_fileno((uv_handle_t *)&c->pipe, &fd) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		log_warn("control: cannot read peer credentials");
		client_close(c);
		return;
	}
	c->peer.uid = cred.uid;
	c->peer.gid = cred.gid;
	c->peer.pid = cred.pid;
	role = peer_role(ctl->d->cfg, c->peer.uid, c->peer.gid);
	if (role == PEER_REFUSED) {
		log_warnx("control: refused uid %ld (pid %ld): not root, "
		          "smmd's user or in control_group%s",
		          (long)c->peer.uid, (long)c->peer.pid,
		          ctl->d->cfg->readonly_group ? " or readonly_group"
		                                      : "");
		reply_error(c, 0, SMM_ERR_PERMISSION,
		            "permission denied: ask to be added to smmd's "
		            "control_group",
		            1);
		return;
	}
	c->peer.readonly = role == PEER_READER;
	if (ctl->nclients > CONTROL_MAX_CLIENTS) {
		reply_error(c, 0, SMM_ERR_INTERNAL,
		            "too many clients: try again shortly", 1);
		return;
	}
	uv_timer_start(&c->idle, on_idle, CONTROL_IDLE_MS, CONTROL_IDLE_MS);
	uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
}

/* A socket file that nobody answers on is stale; a live one is not ours. */
static int clear_stale_socket(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd, r;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path '%s' is too long", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (r == 0) {
		snprintf(err, errlen, "another smmd is listening on '%s'",
		         path);
		return -1;
	}
	if (errno == ECONNREFUSED && unlink(path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "cannot remove stale socket '%s': %s",
		         path, strerror(errno));
		return -1;
	}
	return 0;
}

static int make_parent_dir(const char *path, char *err, size_t errlen)
{
	char *dir = strdup(path), *slash;
	int r = 0;

	if (dir == NULL)
		return -1;
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create '%s': %s", dir,
			         strerror(errno));
			r = -1;
		}
	}
	free(dir);
	return r;
}

static struct control *control_new(struct smmd *d, const char *name)
{
	struct control *ctl;

	if ((ctl = calloc(1, sizeof(*ctl))) == NULL ||
	    (ctl->name = strdup(name)) == NULL) {
		free(ctl);
		return NULL;
	}
	ctl->d = d;
	if (uv_async_init(d->loop, &ctl->resume, on_resume) < 0) {
		free(ctl->name);
		free(ctl);
		return NULL;
	}
	ctl->resume.data = ctl;
	uv_pipe_init(d->loop, &ctl->server, 0);
	ctl->server.data = ctl;
	return ctl;
}

/* Give the socket to control_group, unless it has that group already. */
static void give_to_group(const struct config *cfg, const char *path)
{
	struct stat st;

	if (cfg->control_group == NULL ||
	    (stat(path, &st) == 0 && st.st_gid == cfg->control_gid))
		return;
	if (chown(path, (uid_t)-1, cfg->control_gid) < 0)
		log_warn("control: cannot give '%s' to group '%s'", path,
		         cfg->control_group);
}

int control_listen(struct smmd *d, const char *path, struct control **out,
                   char *err, size_t errlen)
{
	struct control *ctl;
	mode_t old;
	int r;

	if (make_parent_dir(path, err, errlen) < 0 ||
	    clear_stale_socket(path, err, errlen) < 0)
		return -1;
	if ((ctl = control_new(d, path)) == NULL ||
	    (ctl->path = strdup(path)) == NULL) {
		control_close(ctl);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/*
	 * Never world-accessible, not even for the instant before chmod;
	 * unless readonly_group is set: its members are in no one group
	 * with the operators, so the socket is 0666 and every peer is
	 * checked by its credentials at accept instead (peer_role).
	 */
	old = umask(0117);
	r = uv_pipe_bind(&ctl->server, path);
	umask(old);
	if (r < 0)
		goto bad;
	give_to_group(d->cfg, path);
	if (d->cfg->readonly_group && chmod(path, 0666) < 0)
		log_warn("control: cannot open '%s' to readonly_group", path);
	if ((r = uv_listen((uv_stream_t *)&ctl->server, 64, on_connection)) < 0)
		goto bad;
	*out = ctl;
	return 0;
bad:
	snprintf(err, errlen, "cannot listen on '%s': %s", path,
	         uv_strerror(r));
	control_close(ctl);
	return -1;
}

int control_adopt(struct smmd *d, int fd, struct control **out, char *err,
                  size_t errlen)
{
	struct control *ctl;
	char name[256];
	size_t len = sizeof(name);
	int r;

	if ((ctl = control_new(d, "(socket from systemd)")) == NULL) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((r = uv_pipe_open(&ctl->server, fd)) < 0) {
		close(fd);
		goto bad;
	}
	if (uv_pipe_getsockname(&ctl->server, name, &len) == 0 && len > 0) {
		free(ctl->name);
		if ((ctl->name = strndup(name, len)) == NULL) {
			r = UV_ENOMEM;
			goto bad;
		}
	}
	/* listen() again on a listening socket only sets the backlog. */
	if ((r = uv_listen((uv_stream_t *)&ctl->server, 64, on_connection)) < 0)
		goto bad;
	*out = ctl;
	return 0;
bad:
	snprintf(err, errlen, "cannot use the socket systemd passed: %s",
	         uv_strerror(r));
	control_close(ctl);
	return -1;
}

static void server_closed(uv_handle_t *h)
{
	struct control *ctl = h->data;

	ctl->server_gone = 1;
	control_maybe_free(ctl);
}

static void resume_closed(uv_handle_t *h)
{
	struct control *ctl = h->data;

	ctl->resume_gone = 1;
	control_maybe_free(ctl);
}

int control_relay(struct control *ctl, const struct cmd_peer *peer,
                  const char *line, size_t len,
                  void (*answer)(void *arg, const char *line, size_t len),
                  void *arg)
{
	struct client *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -ENOMEM;
	c->ctl = ctl;
	c->peer = *peer;
	c->relay = answer;
	c->relay_arg = arg;
	c->refs = 1; /* ours, while the line runs */
	ctl->relays++;
	handle_line(c, line, len);
	client_release(c);
	return 0;
}

void control_close(struct control *ctl)
{
	if (ctl == NULL)
		return;
	while (ctl->clients)
		client_close(ctl->clients);
	ctl->closing = 1;
	/* A socket systemd bound is systemd's: it stays for the next start. */
	if (ctl->path != NULL)
		unlink(ctl->path);
	/* The handles are embedded: ctl is freed by their close callbacks. */
	uv_close((uv_handle_t *)&ctl->resume, resume_closed);
	uv_close((uv_handle_t *)&ctl->server, server_closed);
}

const char *control_name(const struct control *ctl)
{
	return ctl->name;
}

int control_fd(const struct control *ctl)
{
	uv_os_fd_t fd;

	return uv_fileno((const uv_handle_t *)&ctl->server, &fd) == 0 ? fd : -1;
}

int control_owns_path(const struct control *ctl)
{
	return ctl->path != NULL;
}

int control_own_path(struct control *ctl)
{
	if (ctl->path == NULL && (ctl->path = strdup(ctl->name)) == NULL)
		return -1;
	return 0;
}
