/*
 * One PostgreSQL connection on the loop (pgconn.h). libpq does the
 * protocol; this file only waits for its socket, in the ways its
 * documentation for non-blocking use asks (libpq-connect.html,
 * libpq-async.html, libpq-pipeline-mode.html), and keeps the queue of
 * what was sent so each answer reaches its caller.
 *
 * In pipeline mode every statement's results end with a NULL from
 * PQgetResult, and every sync is one PGRES_PIPELINE_SYNC result with no
 * NULL after it; after an error, the group's later statements come back
 * PGRES_PIPELINE_ABORTED up to the sync. The queue mirrors that.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "looptime.h"
#include "pgconn.h"

enum { ITEM_STMT, ITEM_SYNC };

struct item {
	struct item *next;
	int kind;
	int sent; /* flushed with its group (pgconn_sync) */
	int got;  /* a result came; the NULL that ends it is next */
	PGresult *res;
	pgconn_result_fn *cb;
	pgconn_done_fn *done;
	void *arg;
	uint64_t sent_ms;
	/* A prepared statement's use, or its prepare (parse): its slot + 1
	 * (0: neither), and its text's hash when it was queued. */
	int slot, parse;
	uint64_t hash;
};

enum { PG_IDLE, PG_RESOLVING, PG_CONNECTING, PG_UP, PG_CLOSED };

/*
 * Statements this connection's server has prepared
 * (pgconn_query_prepared), slot i named smmd_i; sql NULL: a free slot.
 * Gone with the connection: the next one starts with none.
 */
#define PREPARED_MAX 128
struct prepared {
	uint64_t hash;
	char *sql;
};

struct pgconn {
	uv_loop_t *loop;
	struct pgconn_opts o;
	char *conninfo, *name;
	PQconninfoOption *parsed;
	PGconn *pg;
	uv_poll_t *poll; /* on PQsocket; a new one when the socket changes */
	int fd, events;
	int flushing;            /* PQflush had more to write */
	uv_timer_t timer;        /* backoff, connect or result timeout */
	struct resolve *resolve; /* the lookup in flight, if any */
	int gai_busy;
	char **hosts; /* the host list, and the addresses found for it */
	char **addrs;
	size_t nhosts, resolving;
	int state;
	unsigned failures;
	struct item *head, *tail;
	size_t pending;
	char group_err[256]; /* the first error since the last sync */
	/* Callbacks may close or break the connection: see settle. */
	int depth, close_asked, broken;
	char broken_why[256];
	int open_handles;
	unsigned gen; /* connection attempts, to tell stale lookups */
	uint64_t statements;
	struct prepared prepared[PREPARED_MAX];
};

static void start_connect(struct pgconn *c);
static void lost(struct pgconn *c, const char *why);
static void connect_step(struct pgconn *c);
static void on_timer(uv_timer_t *t);

/* libpq's messages end in newlines and may hold several lines. */
static void one_line(char *out, size_t len, const char *what, const char *msg)
{
	size_t n;

	snprintf(out, len, "%s%s%s", what, what[0] ? ": " : "",
	         msg && msg[0] ? msg : "unknown error");
	n = strlen(out);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
	/* Lines and tabs become single spaces. */
	for (char *p = out, *q = out;; p++) {
		if (*p == '\n' || *p == '\t' || *p == ' ') {
			while (p[1] == '\n' || p[1] == '\t' || p[1] == ' ')
				p++;
			*q++ = ' ';
		} else if ((*q++ = *p) == '\0') {
			break;
		}
	}
}

static void handle_closed(uv_handle_t *h)
{
	struct pgconn *c = h->data;

	if (h != (uv_handle_t *)&c->timer)
		free(h);
	if (--c->open_handles == 0 && !c->gai_busy)
		free(c);
}

/* Stop watching the socket, before libpq closes it. */
static void drop_poll(struct pgconn *c)
{
	if (c->poll == NULL)
		return;
	uv_poll_stop(c->poll);
	uv_close((uv_handle_t *)c->poll, handle_closed);
	c->poll = NULL;
	c->fd = -1;
	c->events = 0;
}

static void on_io(uv_poll_t *p, int status, int events);

/* Wait for events on libpq's current socket (it may be a new one). */
static int watch(struct pgconn *c, int events)
{
	int fd = PQsocket(c->pg), r;

	if (fd < 0)
		return -EBADF;
	if (c->poll && fd != c->fd)
		drop_poll(c);
	if (c->poll == NULL) {
		if ((c->poll = malloc(sizeof(*c->poll))) == NULL)
			return -ENOMEM;
		if ((r = uv_poll_init(c->loop, c->poll, fd)) < 0) {
			free(c->poll);
			c->poll = NULL;
			return r;
		}
		c->poll->data = c;
		c->open_handles++;
		c->fd = fd;
		c->events = 0;
	}
	if (events == c->events)
		return 0;
	c->events = events;
	return uv_poll_start(c->poll, events, on_io);
}

static void free_item(struct item *it)
{
	if (it->res)
		PQclear(it->res);
	free(it);
}

static struct item *pop(struct pgconn *c)
{
	struct item *it = c->head;

	if ((c->head = it->next) == NULL)
		c->tail = NULL;
	c->pending--;
	return it;
}

/* Every item still queued learns why it has no answer. */
static void fail_all(struct pgconn *c, const char *why)
{
	char msg[384];

	while (c->head) {
		struct item *it = pop(c);

		snprintf(msg, sizeof(msg), "%s (%s)", why,
		         it->sent ? "it may or may not have run"
		                  : "it was not sent");
		c->depth++;
		if (it->kind == ITEM_SYNC)
			it->done(it->arg, msg);
		else
			it->cb(it->arg, NULL, msg);
		c->depth--;
		free_item(it);
	}
	c->group_err[0] = '\0';
}

/* Run what callbacks asked for once they have all returned. */
static void teardown(struct pgconn *c);

static void settle(struct pgconn *c)
{
	if (c->depth > 0)
		return;
	if (c->close_asked) {
		teardown(c);
		return;
	}
	if (c->broken) {
		c->broken = 0;
		lost(c, c->broken_why);
	}
}

/* Give the connection up; something said it cannot go on. */
static void breaks(struct pgconn *c, const char *what, const char *msg)
{
	if (!c->broken)
		one_line(c->broken_why, sizeof(c->broken_why), what, msg);
	c->broken = 1;
}

static void close_pg(struct pgconn *c)
{
	drop_poll(c);
	if (c->pg) {
		PQfinish(c->pg);
		c->pg = NULL;
	}
	c->flushing = 0;
}

/* The next attempt, after a backoff that grows with each failure. */
static void retry_later(struct pgconn *c)
{
	int64_t ms =
	        backoff_delay_ms(++c->failures, c->o.backoff_min_ms,
	                         c->o.backoff_max_ms, (uint32_t)uv_hrtime());

	c->state = PG_IDLE;
	uv_timer_start(&c->timer, on_timer, (uint64_t)ms, 0);
}

static void lost(struct pgconn *c, const char *why)
{
	int was_up = c->state == PG_UP;
	char msg[300];

	close_pg(c);
	c->state = PG_IDLE;
	uv_timer_stop(&c->timer);
	snprintf(msg, sizeof(msg), "%s %s",
	         was_up ? "connection lost:" : "cannot connect:", why);
	fail_all(c, msg);
	c->depth++;
	if (c->o.on_down)
		c->o.on_down(c->o.arg, msg);
	c->depth--;
	if (c->close_asked) {
		teardown(c);
		return;
	}
	retry_later(c);
}

/* The answer to the oldest statement in flight is overdue. */
static void arm_result_timer(struct pgconn *c)
{
	uint64_t now, due;

	if (c->state != PG_UP)
		return;
	if (c->head == NULL || !c->head->sent) {
		uv_timer_stop(&c->timer);
		return;
	}
	now = uv_now(c->loop);
	due = c->head->sent_ms + (uint64_t)c->o.result_timeout_ms;
	uv_timer_start(&c->timer, on_timer, due > now ? due - now : 0, 0);
}

/*
 * The server disagrees with the cache (pgconn_query_prepared): a name it
 * holds is gone (DEALLOCATE, DISCARD, a pooler that hands out another
 * session), or one it thinks free exists. Only a new connection puts
 * them back in step. A use whose own prepare did not run is no such
 * case: that prepare's answer, which came first, freed its slot.
 */
static int cache_wrong(struct pgconn *c, const struct item *it)
{
	const char *code = PQresultErrorField(it->res, PG_DIAG_SQLSTATE);
	const struct prepared *p = &c->prepared[it->slot - 1];

	if (code == NULL)
		return 0;
	if (it->parse)
		return strcmp(code, "42P05") == 0; /* already exists */
	return strcmp(code, "26000") == 0 && p->sql && p->hash == it->hash;
}

static void deliver(struct pgconn *c, struct item *it)
{
	ExecStatusType st = PQresultStatus(it->res);
	char msg[256];

	c->depth++;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		it->cb(it->arg, it->res, NULL);
	} else if (st == PGRES_PIPELINE_ABORTED) {
		it->cb(it->arg, NULL,
		       "aborted: an earlier statement of its group failed");
	} else {
		one_line(msg, sizeof(msg), "", PQresultErrorMessage(it->res));
		if (c->group_err[0] == '\0')
			snprintf(c->group_err, sizeof(c->group_err), "%s", msg);
		if (it->slot && cache_wrong(c, it))
			breaks(c, "",
			       "its prepared statements are not what "
			       "smmd thought");
		it->cb(it->arg, NULL, msg);
	}
	c->depth--;
	free_item(it);
}

/* A group's sync came: its transaction is over. */
static void end_group(struct pgconn *c, struct item *it)
{
	char err[sizeof(c->group_err)];

	snprintf(err, sizeof(err), "%s", c->group_err);
	c->group_err[0] = '\0';
	c->depth++;
	it->done(it->arg, err[0] ? err : NULL);
	c->depth--;
	free_item(it);
}

/*
 * Hand out every answer libpq has whole, in order. A statement is done at
 * the NULL after its result; a sync is its one result.
 */
static void take_results(struct pgconn *c)
{
	while (c->head && c->head->sent && !c->broken && !c->close_asked &&
	       !PQisBusy(c->pg)) {
		struct item *it = c->head;
		PGresult *res = PQgetResult(c->pg);

		if (it->kind == ITEM_SYNC) {
			if (res == NULL) {
				/* The NULL after an error at commit, once. */
				if (it->got != 1)
					break;
				it->got = 2;
				continue;
			}
			if (PQresultStatus(res) == PGRES_FATAL_ERROR) {
				/* The commit itself failed: rolled back. */
				char msg[256];

				one_line(msg, sizeof(msg), "",
				         PQresultErrorMessage(res));
				if (c->group_err[0] == '\0')
					snprintf(c->group_err,
					         sizeof(c->group_err), "%s",
					         msg);
				PQclear(res);
				it->got = 1;
				continue;
			}
			if (PQresultStatus(res) != PGRES_PIPELINE_SYNC) {
				/* The queue and libpq disagree. */
				PQclear(res);
				breaks(c, "", "an answer out of order");
				break;
			}
			PQclear(res);
			end_group(c, pop(c));
			continue;
		}
		if (res != NULL) {
			if (it->res)
				PQclear(it->res);
			it->res = res;
			it->got = 1;
			continue;
		}
		if (!it->got)
			break;
		deliver(c, pop(c));
	}
}

static void take_notifies(struct pgconn *c)
{
	PGnotify *n;

	while (!c->close_asked && (n = PQnotifies(c->pg)) != NULL) {
		c->depth++;
		if (c->o.on_notify)
			c->o.on_notify(c->o.arg, n->relname, n->extra);
		c->depth--;
		PQfreemem(n);
	}
}

/* Write what libpq holds; wait for the socket to take more if needed. */
static void flush_out(struct pgconn *c)
{
	int r = PQflush(c->pg);

	if (r < 0) {
		breaks(c, "", PQerrorMessage(c->pg));
		return;
	}
	c->flushing = r == 1;
	if (watch(c, UV_READABLE | (c->flushing ? UV_WRITABLE : 0)) < 0)
		breaks(c, "", "cannot watch its socket");
}

static void up_io(struct pgconn *c, int events)
{
	uint64_t t0;

	if (events & UV_READABLE) {
		if (!PQconsumeInput(c->pg)) {
			breaks(c, "", PQerrorMessage(c->pg));
			return;
		}
		t0 = looptime_enter();
		take_results(c);
		looptime_leave(t0, "postgresql answers", NULL);
		if (c->broken || c->close_asked)
			return;
		take_notifies(c);
		if (PQstatus(c->pg) == CONNECTION_BAD) {
			breaks(c, "", PQerrorMessage(c->pg));
			return;
		}
	}
	if ((events & UV_WRITABLE) || c->flushing)
		flush_out(c);
	arm_result_timer(c);
}

static void forget_prepared(struct pgconn *c)
{
	for (size_t i = 0; i < PREPARED_MAX; i++) {
		free(c->prepared[i].sql);
		c->prepared[i] = (struct prepared){0};
	}
}

static void connected(struct pgconn *c)
{
	if (PQsetnonblocking(c->pg, 1) != 0 ||
	    PQenterPipelineMode(c->pg) != 1) {
		lost(c, PQerrorMessage(c->pg));
		return;
	}
	c->state = PG_UP;
	c->failures = 0;
	forget_prepared(c); /* the last connection's */
	uv_timer_stop(&c->timer);
	if (watch(c, UV_READABLE) < 0) {
		lost(c, "cannot watch its socket");
		return;
	}
	c->depth++;
	if (c->o.on_up)
		c->o.on_up(c->o.arg);
	c->depth--;
	settle(c);
}

/* One step of libpq's connection sequence, then wait as it asks. */
static void connect_step(struct pgconn *c)
{
	PostgresPollingStatusType st = PQconnectPoll(c->pg);
	char why[256];
	int r;

	if (st == PGRES_POLLING_OK) {
		connected(c);
		return;
	}
	if (st == PGRES_POLLING_FAILED) {
		one_line(why, sizeof(why), "", PQerrorMessage(c->pg));
		lost(c, why);
		return;
	}
	/* The socket may be another one now, even under the same number. */
	drop_poll(c);
	r = watch(c, st == PGRES_POLLING_READING ? UV_READABLE : UV_WRITABLE);
	if (r < 0)
		lost(c, uv_strerror(r));
}

static void on_io(uv_poll_t *p, int status, int events)
{
	struct pgconn *c = p->data;

	if (status < 0) {
		/*
		 * libuv says UV_EBADF for POLLERR (a refused connect, a
		 * reset) and stops the handle: libpq reads the real error.
		 */
		c->events = 0;
		events = UV_READABLE | UV_WRITABLE;
	}
	if (c->state == PG_CONNECTING)
		connect_step(c);
	else if (c->state == PG_UP)
		up_io(c, events);
	settle(c);
}

/* A name libpq would resolve itself, with a blocking call. */
static int needs_resolving(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return host[0] != '\0' && host[0] != '/' && host[0] != '@' &&
	       inet_pton(AF_INET, host, buf) != 1 &&
	       inet_pton(AF_INET6, host, buf) != 1;
}

static const char *option(const struct pgconn *c, const char *keyword)
{
	for (const PQconninfoOption *o = c->parsed; o->keyword; o++)
		if (strcmp(o->keyword, keyword) == 0)
			return o->val && o->val[0] ? o->val : NULL;
	return NULL;
}

#define MAX_PARAMS 64

/* The connection's keywords: the conninfo's, and what smmd adds. */
static size_t build_params(struct pgconn *c, const char **kw, const char **val,
                           char *hostaddr, size_t len)
{
	static const char *const keepalive[][2] = {
	        {"keepalives", "1"},
	        {"keepalives_idle", "2"},
	        {"keepalives_interval", "1"},
	        {"keepalives_count", "3"},
	};
	size_t n = 0, used = 0;

	for (const PQconninfoOption *o = c->parsed; o->keyword; o++)
		if (o->val && o->val[0] && n < MAX_PARAMS - 8) {
			kw[n] = o->keyword;
			val[n++] = o->val;
		}
	if (c->nhosts > 0) {
		hostaddr[0] = '\0';
		for (size_t i = 0; i < c->nhosts; i++)
			used += (size_t)snprintf(
			        hostaddr + used, used < len ? len - used : 0,
			        "%s%s", i ? "," : "",
			        c->addrs[i] ? c->addrs[i] : "");
		kw[n] = "hostaddr";
		val[n++] = hostaddr;
	}
	if (option(c, "application_name") == NULL && c->name) {
		kw[n] = "application_name";
		val[n++] = c->name;
	}
	/*
	 * A session left idle inside a transaction (its client partitioned
	 * away mid-group) holds its locks: the server ends it; and no
	 * statement waits on a lock for ever.
	 */
	if (option(c, "options") == NULL) {
		kw[n] = "options";
		val[n++] = "-c idle_in_transaction_session_timeout=5000 "
		           "-c lock_timeout=10000";
	}
	for (size_t i = 0; i < sizeof(keepalive) / sizeof(keepalive[0]); i++)
		if (option(c, keepalive[i][0]) == NULL) {
			kw[n] = keepalive[i][0];
			val[n++] = keepalive[i][1];
		}
	kw[n] = val[n] = NULL;
	return n;
}

static void on_pq_notice(void *arg, const char *message)
{
	struct pgconn *c = arg;
	char line[512];

	if (c->o.on_notice == NULL)
		return;
	one_line(line, sizeof(line), "", message);
	/* Inside libpq: a close asked here waits until libpq is done. */
	c->depth++;
	c->o.on_notice(c->o.arg, line);
	c->depth--;
}

static void begin_connect(struct pgconn *c)
{
	const char *kw[MAX_PARAMS + 1], *val[MAX_PARAMS + 1];
	char hostaddr[1024];
	int r;

	build_params(c, kw, val, hostaddr, sizeof(hostaddr));
	c->state = PG_CONNECTING;
	if ((c->pg = PQconnectStartParams(kw, val, 0)) == NULL) {
		lost(c, "out of memory");
		return;
	}
	PQsetNoticeProcessor(c->pg, on_pq_notice, c);
	if (PQstatus(c->pg) == CONNECTION_BAD) {
		char why[256];

		one_line(why, sizeof(why), "", PQerrorMessage(c->pg));
		lost(c, why);
		return;
	}
	/*
	 * libpq-connect.html: at first, act as if it asked to write; but
	 * with no socket left (a refused address), it knows already.
	 */
	if (PQsocket(c->pg) < 0)
		connect_step(c);
	else if ((r = watch(c, UV_WRITABLE)) < 0)
		lost(c, uv_strerror(r));
}

struct resolve {
	uv_getaddrinfo_t req;
	struct pgconn *c;
	unsigned gen; /* c->gen when asked: stale after */
};

static void resolve_next(struct pgconn *c);

static void maybe_free(struct pgconn *c)
{
	if (c->state == PG_CLOSED && c->open_handles == 0 && !c->gai_busy)
		free(c);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct resolve *rs = (struct resolve *)req;
	struct pgconn *c = rs->c;
	char why[300], addr[INET6_ADDRSTRLEN] = "";

	c->gai_busy--;
	if (c->resolve == rs)
		c->resolve = NULL;
	if (c->state != PG_RESOLVING || rs->gen != c->gen) {
		/* Timed out or closed meanwhile. */
		uv_freeaddrinfo(res);
		free(rs);
		maybe_free(c);
		return;
	}
	free(rs);
	if (status == 0 && res) {
		const void *a =
		        res->ai_family == AF_INET6
		                ? (const void *)&(
		                          (struct sockaddr_in6 *)res->ai_addr)
		                          ->sin6_addr
		                : (const void *)&(
		                          (struct sockaddr_in *)res->ai_addr)
		                          ->sin_addr;
		inet_ntop(res->ai_family, a, addr, sizeof(addr));
	}
	uv_freeaddrinfo(res);
	if (addr[0] == '\0') {
		snprintf(why, sizeof(why), "resolving %s: %s",
		         c->hosts[c->resolving],
		         status < 0 ? uv_strerror(status) : "no address");
		lost(c, why);
		settle(c);
		return;
	}
	free(c->addrs[c->resolving]);
	if ((c->addrs[c->resolving] = strdup(addr)) == NULL) {
		lost(c, "out of memory");
		settle(c);
		return;
	}
	c->resolving++;
	resolve_next(c);
	settle(c);
}

/* Resolve the next host name, off the loop; connect once all are. */
static void resolve_next(struct pgconn *c)
{
	struct resolve *rs;
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
	                         .ai_socktype = SOCK_STREAM};
	int r;

	while (c->resolving < c->nhosts &&
	       !needs_resolving(c->hosts[c->resolving]))
		c->resolving++;
	if (c->resolving == c->nhosts) {
		begin_connect(c);
		return;
	}
	if ((rs = calloc(1, sizeof(*rs))) == NULL) {
		lost(c, "out of memory");
		return;
	}
	rs->c = c;
	rs->gen = c->gen;
	c->resolve = rs;
	r = uv_getaddrinfo(c->loop, &rs->req, on_resolved,
	                   c->hosts[c->resolving], NULL, &hints);
	if (r < 0) {
		c->resolve = NULL;
		free(rs);
		lost(c, uv_strerror(r));
		return;
	}
	c->gai_busy++;
}

static void start_connect(struct pgconn *c)
{
	c->gen++;
	c->state = PG_RESOLVING;
	c->resolving = 0;
	uv_timer_start(&c->timer, on_timer, (uint64_t)c->o.connect_timeout_ms,
	               0);
	resolve_next(c);
}

static void on_timer(uv_timer_t *t)
{
	struct pgconn *c = t->data;
	char why[64];

	if (c->broken) {
		settle(c);
		return;
	}
	switch (c->state) {
	case PG_IDLE:
		start_connect(c);
		break;
	case PG_RESOLVING:
	case PG_CONNECTING:
		snprintf(why, sizeof(why), "no connection after %lld ms",
		         (long long)c->o.connect_timeout_ms);
		lost(c, why);
		break;
	case PG_UP:
		snprintf(why, sizeof(why), "no answer after %lld ms",
		         (long long)c->o.result_timeout_ms);
		breaks(c, "", why);
		break;
	}
	settle(c);
}

static void free_hosts(struct pgconn *c)
{
	for (size_t i = 0; i < c->nhosts; i++) {
		free(c->hosts[i]);
		free(c->addrs[i]);
	}
	free(c->hosts);
	free(c->addrs);
	c->hosts = c->addrs = NULL;
	c->nhosts = 0;
}

static void teardown(struct pgconn *c)
{
	if (c->state == PG_CLOSED)
		return;
	c->state = PG_CLOSED;
	c->gen++;
	uv_timer_stop(&c->timer);
	/* A lookup still waiting for the thread pool need not be waited. */
	if (c->resolve)
		uv_cancel((uv_req_t *)&c->resolve->req);
	close_pg(c);
	fail_all(c, "closing");
	uv_close((uv_handle_t *)&c->timer, handle_closed);
	free_hosts(c);
	PQconninfoFree(c->parsed);
	c->parsed = NULL;
	free(c->name);
	c->name = NULL;
	forget_prepared(c);
}

void pgconn_close(struct pgconn *c)
{
	if (c == NULL)
		return;
	c->close_asked = 1;
	settle(c);
}

/* A host list of names libpq would resolve: kept to resolve first. */
static int split_hosts(struct pgconn *c)
{
	/* libpq falls back on PGHOST and PGHOSTADDR: so must we. */
	const char *host =
	        option(c, "host") ? option(c, "host") : getenv("PGHOST");
	const char *addr = option(c, "hostaddr") ? option(c, "hostaddr")
	                                         : getenv("PGHOSTADDR");
	size_t n = 1;

	if (host == NULL || host[0] == '\0' || (addr && addr[0]))
		return 0;
	for (const char *p = host; *p; p++)
		n += *p == ',';
	c->hosts = calloc(n, sizeof(*c->hosts));
	c->addrs = calloc(n, sizeof(*c->addrs));
	if (c->hosts == NULL || c->addrs == NULL)
		return -1;
	c->nhosts = n;
	for (size_t i = 0; i < n; i++) {
		size_t len = strcspn(host, ",");

		if ((c->hosts[i] = strndup(host, len)) == NULL)
			return -1;
		host += len + (host[len] == ',');
	}
	return 0;
}

static void defaults(struct pgconn *c)
{
	const char *t = option(c, "connect_timeout");

	if (c->o.backoff_min_ms <= 0)
		c->o.backoff_min_ms = 100;
	if (c->o.backoff_max_ms <= 0)
		c->o.backoff_max_ms = 5000;
	if (c->o.result_timeout_ms <= 0)
		c->o.result_timeout_ms = 10000;
	if (c->o.connect_timeout_ms <= 0)
		c->o.connect_timeout_ms =
		        t && atoi(t) > 0 ? atoi(t) * 1000LL : 5000;
}

int pgconn_start(uv_loop_t *loop, const struct pgconn_opts *o,
                 struct pgconn **out, char *err, size_t errlen)
{
	struct pgconn *c;
	char *msg = NULL;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->loop = loop;
	c->o = *o;
	c->o.conninfo = NULL;
	c->fd = -1;
	if ((c->parsed = PQconninfoParse(o->conninfo, &msg)) == NULL) {
		one_line(err, errlen, "the PostgreSQL address",
		         msg ? msg : "out of memory");
		PQfreemem(msg);
		free(c);
		return -1;
	}
	if ((o->name && (c->name = strdup(o->name)) == NULL) ||
	    split_hosts(c) < 0) {
		snprintf(err, errlen, "out of memory");
		free_hosts(c);
		free(c->name);
		PQconninfoFree(c->parsed);
		free(c);
		return -1;
	}
	c->o.name = c->name;
	defaults(c);
	uv_timer_init(loop, &c->timer);
	c->timer.data = c;
	c->open_handles = 1;
	c->state = PG_IDLE;
	/* Connect from the loop: no callback before this returns. */
	uv_timer_start(&c->timer, on_timer, 0, 0);
	*out = c;
	return 0;
}

void pgconn_reset(struct pgconn *c, const char *why)
{
	if (c->state != PG_UP)
		return;
	breaks(c, "dropped", why);
	if (c->depth == 0)
		uv_timer_start(&c->timer, on_timer, 0, 0);
}

int pgconn_up(const struct pgconn *c)
{
	return c->state == PG_UP && !c->broken && !c->close_asked;
}

size_t pgconn_pending(const struct pgconn *c)
{
	return c->pending;
}

uint64_t pgconn_statements(const struct pgconn *c)
{
	return c->statements;
}

static struct item *push(struct pgconn *c, int kind)
{
	struct item *it = calloc(1, sizeof(*it));

	if (it == NULL)
		return NULL;
	it->kind = kind;
	if (c->tail)
		c->tail->next = it;
	else
		c->head = it;
	c->tail = it;
	c->pending++;
	return it;
}

/* The item for a statement libpq has just queued: NULL when out of
 * memory, the connection then given up (its answer would have no one
 * to go to). */
static struct item *push_stmt(struct pgconn *c, pgconn_result_fn *cb, void *arg)
{
	struct item *it = push(c, ITEM_STMT);

	if (it == NULL) {
		breaks(c, "", "out of memory");
		return NULL;
	}
	it->cb = cb;
	it->arg = arg;
	return it;
}

/* libpq refused: drop the connection from the loop, not inside a call. */
static int refused(struct pgconn *c)
{
	breaks(c, "", PQerrorMessage(c->pg));
	if (c->depth == 0)
		uv_timer_start(&c->timer, on_timer, 0, 0);
	return -EIO;
}

int pgconn_query(struct pgconn *c, const char *sql, int nparams,
                 const char *const *params, pgconn_result_fn *cb, void *arg)
{
	if (!pgconn_up(c))
		return -ENOTCONN;
	if (!PQsendQueryParams(c->pg, sql, nparams, NULL, params, NULL, NULL,
	                       0) ||
	    push_stmt(c, cb, arg) == NULL)
		return refused(c);
	c->statements++;
	return 0;
}

/* A prepare that did not run (its group failed first, or its text is
 * wrong), or lost with the connection: the slot is free again, and the
 * text prepared anew. */
static void on_prepared(void *arg, const PGresult *res, const char *err)
{
	struct prepared *p = arg;

	if (res == NULL) {
		free(p->sql);
		*p = (struct prepared){0};
	}
}

static uint64_t text_hash(const char *s)
{
	uint64_t h = 14695981039346656037ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* The slot holding sql, else a free one (set to it; *fresh), else -1. */
static int prepared_slot(struct pgconn *c, const char *sql, int *fresh)
{
	uint64_t h = text_hash(sql);
	int free_slot = -1;

	*fresh = 0;
	for (int i = 0; i < PREPARED_MAX; i++) {
		struct prepared *p = &c->prepared[i];

		if (p->sql == NULL) {
			if (free_slot < 0)
				free_slot = i;
		} else if (p->hash == h && strcmp(p->sql, sql) == 0) {
			return i;
		}
	}
	if (free_slot < 0 || (c->prepared[free_slot].sql = strdup(sql)) == NULL)
		return -1;
	c->prepared[free_slot].hash = h;
	*fresh = 1;
	return free_slot;
}

int pgconn_query_prepared(struct pgconn *c, const char *sql, int nparams,
                          const char *const *params, pgconn_result_fn *cb,
                          void *arg)
{
	struct item *it;
	char name[24];
	int slot, fresh;

	if (!pgconn_up(c))
		return -ENOTCONN;
	if ((slot = prepared_slot(c, sql, &fresh)) < 0)
		return pgconn_query(c, sql, nparams, params, cb, arg);
	snprintf(name, sizeof(name), "smmd_%d", slot);
	if (fresh) {
		if (!PQsendPrepare(c->pg, name, sql, nparams, NULL) ||
		    (it = push_stmt(c, on_prepared, &c->prepared[slot])) ==
		            NULL)
			return refused(c);
		it->slot = slot + 1;
		it->parse = 1;
	}
	if (!PQsendQueryPrepared(c->pg, name, nparams, params, NULL, NULL, 0) ||
	    (it = push_stmt(c, cb, arg)) == NULL)
		return refused(c);
	it->slot = slot + 1;
	it->hash = c->prepared[slot].hash;
	c->statements++;
	return 0;
}

int pgconn_sync(struct pgconn *c, pgconn_done_fn *done, void *arg)
{
	uint64_t now;
	struct item *it;

	if (!pgconn_up(c))
		return -ENOTCONN;
	if (PQpipelineSync(c->pg) != 1)
		return refused(c);
	if ((it = push(c, ITEM_SYNC)) == NULL) {
		breaks(c, "", "out of memory");
		return refused(c);
	}
	it->done = done;
	it->arg = arg;
	now = uv_now(c->loop);
	for (struct item *i = c->head; i; i = i->next)
		if (!i->sent) {
			i->sent = 1;
			i->sent_ms = now;
		}
	flush_out(c);
	if (c->broken) {
		refused(c);
		return 0; /* its done says so, from the loop */
	}
	arm_result_timer(c);
	return 0;
}

void pgconn_ignore(void *arg, const PGresult *res, const char *err)
{
	(void)arg;
	(void)res;
	(void)err;
}
