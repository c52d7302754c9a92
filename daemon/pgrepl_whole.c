/*
 * The change log kept short, and a view read whole (pgrepl.h).
 *
 * smmd_change is what views read on from; nothing else needs it. The
 * working node trims what is older than the time a view may reasonably
 * stay behind (pgrepl_trim), and says how far in smmd_trim in the same
 * transaction. A pull reads that mark with the changes, in one
 * statement (one snapshot): a view whose position is behind it has
 * missed changes, and reads the tables whole instead. So does a new
 * view: the tables hold one row per thing, the log a row per change.
 *
 * Reading whole needs no snapshot across tables. First the newest change
 * number committed (at); then every table through a cursor of its own
 * (its own snapshot), a page a fetch; then the log from at on, as any
 * pull. Writers commit in the order of their numbers (smmd_track's
 * lock), so every change up to at is in the tables by then, and every
 * later one is in the log. Each cursor also returns the newest change
 * number in its own snapshot (read_at): its rows hold exactly that
 * table's changes up to there, so the pull that follows skips those and
 * applies the rest, and each table in the view only ever moves from one
 * state PostgreSQL had to a later one. Rows read in between may refer
 * to rows not read yet (a delivery added after the posts' cursor was
 * opened): the view checks no keys between tables (view_without_keys,
 * pgrepl.c), and has them whole once the pull has caught up.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgrepl_impl.h"

/* The newest change committed; those up to the mark are gone from the
 * log, not from the tables. */
#define AT_SQL                                                            \
	"SELECT greatest(coalesce((SELECT max(v) FROM smmd_change), 0), " \
	"(SELECT v FROM smmd_trim))"

#define WHOLE_PAGE      1000
#define WHOLE_PAGE_TEXT "1000"
/* The most changes one trim removes; a full one is followed soon. */
#define TRIM_BATCH_TEXT "5000" /* PGREPL_TRIM_MAX */
/* ... and the longest it may take: lease renewals wait behind it. */
#define TRIM_TIMEOUT_MS "500"

static void closed(void *arg, const char *err)
{
	(void)arg;
	(void)err;
}

/* The cursor's rows are kept by the server until it is closed. */
static void close_cursor(struct pgrepl *r)
{
	if (pgconn_query(r->o.pg, "CLOSE ALL", 0, NULL, pgconn_ignore, NULL) ==
	    0)
		pgconn_sync(r->o.pg, closed, NULL);
}

/* Tried again by the next pull, from the start: a view emptied already
 * is read whole again (behind says so), not replayed from the log. */
static void whole_failed(struct pgrepl *r, const char *why)
{
	r->pulling = 0;
	close_cursor(r);
	repl_error(r, "reading the tables whole: %s", why);
}

/* Something wrote to the view while it was read: nothing may. */
static int written_meanwhile(struct pgrepl *r)
{
	return !sqlite3_get_autocommit(r->o.db) ||
	       !viewlog_isempty(r->session) || !pgrepl_settled(r);
}

static void on_whole_at(void *arg, const PGresult *res, const char *err)
{
	struct pgrepl *r = arg;

	if (res && PQntuples(res) == 1)
		r->whole_at = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
}

/* The next page of the table read now; open: its cursor first. */
static int ask_page(struct pgrepl *r, int open);

/*
 * Row i of a page into the view: the view's columns in order, then _v,
 * as text; each bound as the view declares it. The key is spelled as
 * repl_pk_of_json spells it.
 */
static int apply_page_row(struct pgrepl *r, struct repl_table *t,
                          const PGresult *res, int i)
{
	sqlite3_stmt *st = t->upsert;
	json_t *key = json_array();
	char *pk = NULL;
	int rc;

	for (int c = 0; c < t->ncol; c++) {
		const char *val = PQgetvalue(res, i, c);

		if (PQgetisnull(res, i, c))
			sqlite3_bind_null(st, c + 1);
		else if (strcmp(t->pgtypes[c], "bigint") == 0)
			sqlite3_bind_int64(st, c + 1, strtoll(val, NULL, 10));
		else if (strcmp(t->pgtypes[c], "double precision") == 0)
			sqlite3_bind_double(st, c + 1, strtod(val, NULL));
		else
			sqlite3_bind_text(st, c + 1, val,
			                  PQgetlength(res, i, c),
			                  SQLITE_STATIC);
	}
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	for (int k = 0; key && k < t->npk; k++) {
		int c = t->key[k];
		const char *val = PQgetvalue(res, i, c);

		json_array_append_new(
		        key, strcmp(t->pgtypes[c], "bigint") == 0
		                     ? json_integer(strtoll(val, NULL, 10))
		                     : json_string(val));
	}
	if (rc != SQLITE_DONE || key == NULL ||
	    (pk = json_dumps(key, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL ||
	    repl_set_v(r, t->name, pk,
	               strtoll(PQgetvalue(res, i, t->ncol), NULL, 10), 0) < 0)
		rc = -1;
	else
		rc = 0;
	if (rc == 0 && r->o.on_changed)
		r->o.on_changed(r->o.arg, t->name, pk);
	free(pk);
	json_decref(key);
	return rc;
}

/* A page's rows into the view: one transaction, keys not checked, and
 * not recorded (PostgreSQL's already). */
static void on_page(void *arg, const PGresult *res, const char *err)
{
	struct pgrepl *r = arg;
	struct repl_table *t = &r->tables[r->whole_table];
	int n = res ? PQntuples(res) : 0, ok;

	if (res == NULL)
		return;
	ok = PQnfields(res) == t->ncol + 2 && !written_meanwhile(r) &&
	     repl_prepare_apply(r, t) == 0;
	/* The log's changes of this table up to its cursor's snapshot are
	 * in these rows: the pull after skips them (pgrepl_apply.c). */
	if (ok && n > 0)
		t->read_at = strtoll(PQgetvalue(res, 0, t->ncol + 1), NULL, 10);
	sqlite3_exec(r->o.db, "SAVEPOINT smmd_whole", NULL, NULL, NULL);
	viewlog_enable(r->session, 0);
	for (int i = 0; ok && i < n; i++)
		ok = apply_page_row(r, t, res, i) == 0;
	viewlog_enable(r->session, 1);
	if (ok && sqlite3_exec(r->o.db, "RELEASE smmd_whole", NULL, NULL,
	                       NULL) != SQLITE_OK)
		ok = 0;
	if (!ok)
		sqlite3_exec(r->o.db,
		             "ROLLBACK TO smmd_whole; RELEASE smmd_whole", NULL,
		             NULL, NULL);
	r->whole_n = ok ? n : -1;
	if (ok)
		r->rows_read += (uint64_t)n;
}

/* The tables read: the position is where they were read, and the log
 * from there brings what changed meanwhile. */
static void whole_done(struct pgrepl *r)
{
	char what[96];

	close_cursor(r);
	sqlite3_bind_int64(r->set_pulled, 1, r->whole_at);
	if (sqlite3_step(r->set_pulled) != SQLITE_DONE) {
		whole_failed(r, sqlite3_errmsg(r->o.db));
		sqlite3_reset(r->set_pulled);
		return;
	}
	sqlite3_reset(r->set_pulled);
	r->pulled = r->whole_at;
	r->whole_read = 1;
	r->behind = 0;
	r->pulling = 0;
	snprintf(what, sizeof(what),
	         "the view was read whole from the tables, at change %" PRId64,
	         r->whole_at);
	if (r->o.on_info)
		r->o.on_info(r->o.arg, what);
	pgrepl_pull(r);
}

static void on_page_done(void *arg, const char *err)
{
	struct pgrepl *r = arg;
	int open = 0;

	if (err || r->whole_n < 0) {
		whole_failed(r, err ? err
		                : written_meanwhile(r)
		                        ? "the view was written "
		                          "to meanwhile"
		                        : sqlite3_errmsg(r->o.db));
		return;
	}
	if (r->whole_n < WHOLE_PAGE) {
		/* This table is read: the next. */
		if (++r->whole_table == r->ntables) {
			whole_done(r);
			return;
		}
		/* An empty table says no number of its own. */
		r->tables[r->whole_table].read_at = r->whole_at;
		open = 1;
	}
	if (ask_page(r, open) < 0)
		whole_failed(r, "the request could not be sent");
}

/*
 * One cursor at a time, held past its statement's transaction: PostgreSQL
 * runs its query once, and each page is a fetch (not a scan that skips
 * the rows read so far). CLOSE ALL first: a read that failed part-way on
 * this connection may have left one.
 */
static int ask_page(struct pgrepl *r, int open)
{
	const struct repl_table *t = &r->tables[r->whole_table];
	char *sql = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	if (open) {
		if ((f = open_memstream(&sql, &len)) == NULL)
			return -ENOMEM;
		fprintf(f, "DECLARE smmd_whole NO SCROLL CURSOR WITH HOLD FOR "
		           "SELECT ");
		for (int c = 0; c < t->ncol; c++)
			fprintf(f, "\"%s\", ", t->cols[c]);
		/* ... and the newest change in the same snapshot. */
		fprintf(f, "_v, (" AT_SQL ") FROM \"%s\"", t->name);
		rc = fclose(f) == 0 ? 0 : -ENOMEM;
		if (rc == 0)
			rc = pgconn_query(r->o.pg, "CLOSE ALL", 0, NULL,
			                  pgconn_ignore, NULL);
		if (rc == 0)
			rc = pgconn_query(r->o.pg, sql, 0, NULL, pgconn_ignore,
			                  NULL);
		free(sql);
		if (rc < 0)
			return rc;
	}
	if ((rc = pgconn_query(r->o.pg,
	                       "FETCH " WHOLE_PAGE_TEXT " FROM smmd_whole", 0,
	                       NULL, on_page, r)) < 0)
		return rc;
	return pgconn_sync(r->o.pg, on_page_done, r);
}

/* The newest change is known: the view is emptied, the pages follow. */
static void on_whole_started(void *arg, const char *err)
{
	struct pgrepl *r = arg;

	if (err || r->whole_at < 0 || written_meanwhile(r)) {
		whole_failed(r, err               ? err
		                : r->whole_at < 0 ? "no change number"
		                                  : "the view was written to "
		                                    "meanwhile");
		return;
	}
	if (pgrepl_forget_view(r) < 0) {
		whole_failed(r, "the view could not be emptied");
		return;
	}
	r->behind = 1; /* until read whole: a retry must not replay */
	r->whole_table = 0;
	r->tables[0].read_at = r->whole_at;
	if (ask_page(r, 1) < 0)
		whole_failed(r, "the request could not be sent");
}

int repl_view_new(struct pgrepl *r)
{
	sqlite3_stmt *st;
	int any = 1;

	if (sqlite3_prepare_v2(r->o.db, "SELECT 1 FROM _smmd_v LIMIT 1", -1,
	                       &st, NULL) != SQLITE_OK)
		return 0;
	any = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return r->pulled == 0 && !any;
}

int repl_read_whole(struct pgrepl *r, int after_writers)
{
	int rc;

	if (written_meanwhile(r)) {
		/* This node's own changes must be shipped and decided first:
		 * emptying the view would lose them. */
		repl_error(r, "the view must be read whole from the tables; "
		              "it waits for this node's writes in flight");
		return -EAGAIN;
	}
	r->whole_at = -1;
	if ((rc = repl_ask(r, after_writers, AT_SQL, 0, NULL, on_whole_at,
	                   on_whole_started)) < 0)
		return rc;
	r->pulling = 1;
	return 0;
}

/* The trim's answer: how many changes went. */
struct trim {
	pgrepl_trimmed_fn *done;
	void *arg;
	int64_t n;
	int orphan; /* the sync was never queued: the statement's call frees */
};

static void on_trimmed(void *arg, const PGresult *res, const char *err)
{
	struct trim *t = arg;

	if (t->orphan)
		free(t);
	else if (res && PQntuples(res) == 1)
		t->n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
}

static void on_trim_done(void *arg, const char *err)
{
	struct trim *t = arg;

	t->done(t->arg, err ? -1 : t->n, err);
	free(t);
}

int pgrepl_trim(struct pgrepl *r, struct pgconn *on, int64_t keep_ms,
                pgrepl_trimmed_fn *done, void *arg)
{
	/*
	 * The oldest changes, by number, up to the newest of them older
	 * than keep_ms; the mark moves in the same transaction. Only the
	 * first TRIM_BATCH by number are looked at, so a trim costs the
	 * same however long the log has grown.
	 */
	static const char sql[] =
	        "WITH b AS (SELECT max(v) AS v FROM (SELECT v, at FROM "
	        "smmd_change ORDER BY v LIMIT " TRIM_BATCH_TEXT ") f WHERE at "
	        "< clock_timestamp() - $1::bigint * interval '1 millisecond'), "
	        "d AS (DELETE FROM smmd_change c USING b WHERE c.v <= b.v "
	        "RETURNING c.v), "
	        "u AS (UPDATE smmd_trim SET v = (SELECT max(v) FROM d) WHERE "
	        "(SELECT max(v) FROM d) > v) "
	        "SELECT count(*) FROM d";
	char keep[24];
	const char *params[] = {keep};
	struct trim *t = calloc(1, sizeof(*t));
	int rc;

	if (t == NULL)
		return -ENOMEM;
	t->done = done;
	t->arg = arg;
	snprintf(keep, sizeof(keep), "%" PRId64, keep_ms);
	if ((rc = pgconn_query(on,
	                       "SELECT set_config('statement_timeout', "
	                       "'" TRIM_TIMEOUT_MS "', true)",
	                       0, NULL, pgconn_ignore, NULL)) < 0 ||
	    (rc = pgconn_query(on, sql, 1, params, on_trimmed, t)) < 0) {
		free(t);
		return rc;
	}
	/* The connection is dropped when a sync fails, and the statement
	 * told so later, from the loop. */
	if ((rc = pgconn_sync(on, on_trim_done, t)) < 0)
		t->orphan = 1;
	return rc;
}
