#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "log.h"

struct checkpointer {
	uv_loop_t *loop;
	uv_work_t work;
	char *path;
	sqlite3 *db; /* opened by the first run, used by one run at a time */
	int running;
	int rc;     /* the last run's SQLite result */
	int warned; /* a failure is logged once until one succeeds */
	char err[200];
};

struct checkpointer *checkpointer_new(uv_loop_t *loop, const char *path)
{
	struct checkpointer *c = calloc(1, sizeof(*c));

	if (c == NULL || (c->path = strdup(path)) == NULL) {
		free(c);
		return NULL;
	}
	c->loop = loop;
	c->work.data = c;
	return c;
}

/* On a pool thread: nothing here may touch the loop or the store. */
static void run(uv_work_t *w)
{
	struct checkpointer *c = w->data;

	if (c->db == NULL &&
	    (c->rc = sqlite3_open_v2(
	             c->path, &c->db,
	             SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL)) !=
	            SQLITE_OK) {
		snprintf(c->err, sizeof(c->err), "%s",
		         c->db ? sqlite3_errmsg(c->db) : "out of memory");
		sqlite3_close(c->db);
		c->db = NULL;
		return;
	}
	c->rc = sqlite3_wal_checkpoint_v2(
	        c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	if (c->rc != SQLITE_OK)
		snprintf(c->err, sizeof(c->err), "%s", sqlite3_errmsg(c->db));
}

static void done(uv_work_t *w, int status)
{
	struct checkpointer *c = w->data;

	c->running = 0;
	if (status == 0 && c->rc == SQLITE_OK) {
		c->warned = 0;
		return;
	}
	/* The writer's own checkpoints take over from here. */
	if (!c->warned)
		log_warnx("store: checkpoint of '%s' failed: %s", c->path,
		          status < 0 ? uv_strerror(status) : c->err);
	c->warned = 1;
}

void checkpointer_start(struct checkpointer *c)
{
	int r;

	if (c->running)
		return;
	if ((r = uv_queue_work(c->loop, &c->work, run, done)) < 0) {
		log_warnx("store: cannot start a checkpoint: %s",
		          uv_strerror(r));
		return;
	}
	c->running = 1;
}

void checkpointer_free(struct checkpointer *c)
{
	if (c == NULL)
		return;
	sqlite3_close(c->db);
	free(c->path);
	free(c);
}
