/*
 * Rows from PostgreSQL into the view (pgrepl.h): other nodes' changes,
 * read in commit order from smmd_change, and the rows of refused groups,
 * read back from their tables. Neither is recorded by the session: they
 * are PostgreSQL's already.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "pgrepl_impl.h"
#include "pgschema.h"

/*
 * At most this many changes a pull; another follows at once if full.
 * With three nodes sharing 500 posts a second, 1,000 a pull applied in
 * one turn of smmd's loop made turns of 30-60 ms and posts due then that
 * late (p99 31-40 ms against 9-15 ms at 100, 15 ms at 50:
 * tests/bench/workbench.sh); a pull is now applied a few at a time
 * (APPLY_CHUNK).
 */
#define PULL_BATCH      100
#define PULL_BATCH_TEXT "100"

int repl_rows_add(struct repl_rows *rs, int table, const char *pk, int64_t v,
                  int deleted)
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 16;
		struct repl_row *nv = realloc(rs->v, cap * sizeof(*nv));

		if (nv == NULL)
			return -ENOMEM;
		rs->v = nv;
		rs->cap = cap;
	}
	if ((rs->v[rs->n].pk = strdup(pk)) == NULL)
		return -ENOMEM;
	rs->v[rs->n].soft = 0;
	rs->v[rs->n].table = table;
	rs->v[rs->n].v = v;
	rs->v[rs->n].deleted = deleted;
	rs->n++;
	return 0;
}

void repl_rows_free(struct repl_rows *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		free(rs->v[i].pk);
	free(rs->v);
	*rs = (struct repl_rows){0};
}

int repl_rows_take(struct repl_rows *to, struct repl_rows *from)
{
	int r = 0;

	for (size_t i = 0; i < from->n && r == 0; i++)
		if ((r = repl_rows_add(to, from->v[i].table, from->v[i].pk,
		                       from->v[i].v, from->v[i].deleted)) == 0)
			to->v[to->n - 1].soft = from->v[i].soft;
	repl_rows_free(from);
	return r;
}

int repl_table_find(const struct pgrepl *r, const char *name)
{
	for (int i = 0; i < r->ntables; i++)
		if (strcmp(r->tables[i].name, name) == 0)
			return i;
	return -1;
}

int64_t repl_get_v(struct pgrepl *r, const char *table, const char *pk,
                   int *dead)
{
	int64_t v = 0;

	sqlite3_bind_text(r->get_v, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(r->get_v, 2, pk, -1, SQLITE_STATIC);
	*dead = 0;
	if (sqlite3_step(r->get_v) == SQLITE_ROW) {
		v = sqlite3_column_int64(r->get_v, 0);
		*dead = sqlite3_column_int(r->get_v, 1);
	}
	sqlite3_reset(r->get_v);
	return v;
}

int repl_set_v(struct pgrepl *r, const char *table, const char *pk, int64_t v,
               int dead)
{
	int rc;

	sqlite3_bind_text(r->set_v, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(r->set_v, 2, pk, -1, SQLITE_STATIC);
	sqlite3_bind_int64(r->set_v, 3, v);
	sqlite3_bind_int(r->set_v, 4, dead);
	rc = sqlite3_step(r->set_v);
	sqlite3_reset(r->set_v);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

char *repl_pk_of_json(const struct repl_table *t, json_t *row)
{
	json_t *a = json_array();
	char *s;

	for (int k = 0; a && k < t->npk; k++) {
		json_t *v = json_object_get(row, t->cols[t->key[k]]);

		json_array_append(a, v ? v : json_null());
	}
	s = a ? json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	json_decref(a);
	return s;
}

int repl_prepare_apply(struct pgrepl *r, struct repl_table *t)
{
	char *sql = NULL;
	size_t len = 0;
	FILE *f;
	int rc, set = 0;

	if (t->upsert)
		return 0;
	if ((f = open_memstream(&sql, &len)) == NULL)
		return -1;
	fprintf(f, "INSERT INTO \"%s\" (", t->name);
	for (int c = 0; c < t->ncol; c++)
		fprintf(f, "%s\"%s\"", c ? ", " : "", t->cols[c]);
	fprintf(f, ") VALUES (");
	for (int c = 0; c < t->ncol; c++)
		fprintf(f, "%s?", c ? ", " : "");
	fprintf(f, ") ON CONFLICT (");
	for (int k = 0; k < t->npk; k++)
		fprintf(f, "%s\"%s\"", k ? ", " : "", t->cols[t->key[k]]);
	fprintf(f, ") DO ");
	for (int c = 0; c < t->ncol; c++)
		if (t->pk[c] == 0)
			fprintf(f, "%s\"%s\" = excluded.\"%s\"",
			        set++ ? ", " : "UPDATE SET ", t->cols[c],
			        t->cols[c]);
	if (set == 0)
		fprintf(f, "NOTHING");
	fclose(f);
	rc = sqlite3_prepare_v2(r->o.db, sql, -1, &t->upsert, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return -1;
	if ((f = open_memstream(&sql, &len)) == NULL)
		return -1;
	fprintf(f, "DELETE FROM \"%s\" WHERE ", t->name);
	for (int k = 0; k < t->npk; k++)
		fprintf(f, "%s\"%s\" = ?", k ? " AND " : "",
		        t->cols[t->key[k]]);
	fclose(f);
	rc = sqlite3_prepare_v2(r->o.db, sql, -1, &t->del, NULL);
	free(sql);
	return rc == SQLITE_OK ? 0 : -1;
}

static void bind_json(sqlite3_stmt *st, int i, json_t *v)
{
	if (json_is_integer(v))
		sqlite3_bind_int64(st, i, json_integer_value(v));
	else if (json_is_real(v))
		sqlite3_bind_double(st, i, json_real_value(v));
	else if (json_is_string(v))
		sqlite3_bind_text(st, i, json_string_value(v),
		                  (int)json_string_length(v), SQLITE_TRANSIENT);
	else if (json_is_boolean(v))
		sqlite3_bind_int(st, i, json_is_true(v));
	else
		sqlite3_bind_null(st, i);
}

/* The row in the view as row says, or gone (row NULL). */
static int write_row(struct pgrepl *r, struct repl_table *t, const char *pk,
                     json_t *row)
{
	sqlite3_stmt *st;
	json_t *key = NULL;
	int rc;

	if (repl_prepare_apply(r, t) < 0)
		return -1;
	if (row) {
		st = t->upsert;
		for (int c = 0; c < t->ncol; c++)
			bind_json(st, c + 1, json_object_get(row, t->cols[c]));
	} else {
		st = t->del;
		key = json_loads(pk, JSON_DECODE_ANY, NULL);
		for (int k = 0; k < t->npk; k++)
			bind_json(st, k + 1, json_array_get(key, (size_t)k));
	}
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	json_decref(key);
	return rc == SQLITE_DONE ? 0 : -1;
}

int repl_apply(struct pgrepl *r, int table, const char *pk, json_t *row,
               int64_t v, int force)
{
	struct repl_table *t = &r->tables[table];
	int dead, rc;

	if (!force && repl_get_v(r, t->name, pk, &dead) >= v)
		return 0;
	viewlog_enable(r->session, 0);
	rc = write_row(r, t, pk, row);
	viewlog_enable(r->session, 1);
	if (rc < 0 || (v > 0 && repl_set_v(r, t->name, pk, v, row == NULL) < 0))
		return -1;
	if (r->o.on_changed)
		r->o.on_changed(r->o.arg, t->name, pk);
	return 1;
}

/*
 * One change a pull read. A row with a change of this node's not decided
 * yet is left alone (the view must keep its own writes until they are
 * decided) and read back afterwards.
 */
static int apply_change(struct pgrepl *r, const struct repl_rows *session,
                        const struct repl_change *c)
{
	json_t *row;
	char *pk;
	int rc;

	if (c->table < 0 || c->v <= r->tables[c->table].read_at)
		return 0; /* not kept, or in the table as read whole */
	if ((row = json_loads(c->row, 0, NULL)) == NULL)
		return -1;
	pk = repl_pk_of_json(&r->tables[c->table], row);
	if (pk && repl_dirty(r, session, c->table, pk))
		rc = repl_rows_add(&r->later, c->table, pk, 0, 0);
	else
		rc = pk ? repl_apply(r, c->table, pk, c->deleted ? NULL : row,
		                     c->v, 0)
		        : -1;
	free(pk);
	json_decref(row);
	return rc < 0 ? -1 : 0;
}

void repl_backlog_drop(struct pgrepl *r)
{
	for (size_t i = 0; i < r->nbacklog; i++)
		free(r->backlog[i].row);
	free(r->backlog);
	r->backlog = NULL;
	r->nbacklog = r->backlog_next = 0;
}

/* The answer's changes (v, tbl, op, row: columns 1 to 4), kept to apply
 * once the pull is over: 0, or -1 out of memory. */
static int keep_changes(struct pgrepl *r, const PGresult *res, int n)
{
	if (n == 0)
		return 0;
	if ((r->backlog = calloc((size_t)n, sizeof(*r->backlog))) == NULL)
		return -1;
	r->nbacklog = (size_t)n;
	for (int i = 0; i < n; i++) {
		struct repl_change *c = &r->backlog[i];

		c->v = strtoll(PQgetvalue(res, i, 1), NULL, 10);
		c->table = repl_table_find(r, PQgetvalue(res, i, 2));
		c->deleted = PQgetvalue(res, i, 3)[0] == 'D';
		if ((c->row = strdup(PQgetvalue(res, i, 4))) == NULL)
			return -1;
	}
	return 0;
}

static void on_pulled(void *arg, const PGresult *res, const char *err)
{
	struct pgrepl *r = arg;
	int n = res ? PQntuples(res) : 0;
	int64_t trimmed;

	if (res == NULL)
		return;
	/* Asked from a position a rollback has undone since: asked again
	 * from the view's (pull_over, again). */
	if (repl_rewind(r)) {
		r->backlog_full = 1;
		return;
	}
	if (n == 0) {
		r->backlog_full = 0; /* no pull at once: a tick later */
		/* Not even the mark: the database is not one smmd made. */
		repl_error(r, "smmd_trim has no row: the change log cannot "
		              "be read");
		return;
	}
	r->answered = r->asks;
	r->newest = PQgetisnull(res, 0, 5)
	                    ? 0
	                    : strtoll(PQgetvalue(res, 0, 5), NULL, 10);
	/* Changes after ours were trimmed: they cannot be read. */
	trimmed = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	if (trimmed > r->pulled) {
		r->behind = 1;
		return;
	}
	if (PQgetisnull(res, 0, 1))
		n = 0; /* the mark alone: no change since */
	r->backlog_full = n == PULL_BATCH;
	if (keep_changes(r, res, n) < 0) {
		repl_backlog_drop(r); /* none applied: the next pull reads */
		r->backlog_full = 0;  /* them again, a tick later */
		repl_error(r, "out of memory reading the changes");
	}
}

/*
 * A pull's changes are applied a few at a time, each few in a turn of
 * smmd's loop of its own (on_backlog), so that a post due meanwhile
 * waits for one few, not for the pull: at most this many, and no more
 * once this long was spent (a change took 100-150 us on a worker of
 * tests/bench/workbench.sh). Applied all in one turn, a pull of 100 made
 * turns of 10-15 ms there, with three nodes sharing 500 posts a second.
 */
#define APPLY_CHUNK     50
#define APPLY_BUDGET_NS 1000000

static void pull_over(struct pgrepl *r, int again)
{
	repl_backlog_drop(r);
	r->applying = 0;
	r->pulling = 0;
	if (again)
		pgrepl_pull(r);
}

int pgrepl_apply_backlog(struct pgrepl *r)
{
	struct repl_rows session = {0};
	size_t i = r->backlog_next, end = i + APPLY_CHUNK < r->nbacklog
	                                          ? i + APPLY_CHUNK
	                                          : r->nbacklog;
	uint64_t t0;
	int failed = 0;

	if (!r->applying)
		return 0; /* no pull's changes wait */
	/* Rolled back with the view's transaction: read them again. */
	if (repl_rewind(r)) {
		pull_over(r, 1);
		return 0;
	}
	if (r->backlog_next >= r->nbacklog) {
		pull_over(r, r->backlog_full);
		return 0;
	}
	repl_session_rows(r, &session);
	sqlite3_exec(r->o.db, "SAVEPOINT smmd_pull", NULL, NULL, NULL);
	/* One change at least, whatever the budget: each call moves on. */
	t0 = uv_hrtime();
	for (; i < end &&
	       (i == r->backlog_next || uv_hrtime() - t0 < APPLY_BUDGET_NS);
	     i++)
		if (apply_change(r, &session, &r->backlog[i]) < 0) {
			/* Stopped here: every pull stops here until fixed. */
			repl_error(r,
			           "change %" PRId64
			           " of %s cannot be applied: %s",
			           r->backlog[i].v,
			           r->backlog[i].table >= 0
			                   ? r->tables[r->backlog[i].table].name
			                   : "?",
			           sqlite3_errmsg(r->o.db));
			failed = 1;
			break;
		}
	/* An error that rolled the whole transaction back (SQLite does on
	 * I/O errors) took the rows: their position must not go on alone. */
	if (i > r->backlog_next && !r->rewound) {
		r->rows_read += (uint64_t)(i - r->backlog_next);
		r->pulled = r->backlog[i - 1].v;
		sqlite3_bind_int64(r->set_pulled, 1, r->pulled);
		sqlite3_step(r->set_pulled);
		sqlite3_reset(r->set_pulled);
	}
	sqlite3_exec(r->o.db, "RELEASE smmd_pull", NULL, NULL, NULL);
	repl_rows_free(&session);
	r->backlog_next = i;
	if (failed || i >= r->nbacklog) {
		/* A full batch, all applied: more wait. */
		pull_over(r, !failed && r->backlog_full);
		return 0;
	}
	return 1;
}

static void on_pull_done(void *arg, const char *err)
{
	struct pgrepl *r = arg;
	char what[160];

	/* A pull that failed read nothing: said, and tried again later. */
	if (err) {
		repl_error(r, "reading the changes: %s", err);
		pull_over(r, 0);
		return;
	}
	if (r->behind) {
		snprintf(what, sizeof(what),
		         "the change log was trimmed past this view's "
		         "position (%" PRId64 "): reading the tables whole",
		         r->pulled);
		if (r->o.on_info)
			r->o.on_info(r->o.arg, what);
		pull_over(r, 1);
		return;
	}
	/* Its changes, by whoever runs them a few a turn, else now. */
	r->applying = 1;
	if (r->o.on_backlog && r->nbacklog > 0)
		r->o.on_backlog(r->o.arg);
	else
		while (pgrepl_apply_backlog(r) > 0)
			;
}

int repl_ask(struct pgrepl *r, int after_writers, const char *sql, int n,
             const char *const *params, pgconn_result_fn *fn,
             pgconn_done_fn *done)
{
	static const char wait_sql[] =
	        "SELECT pg_advisory_xact_lock(" PGSCHEMA_ORDER_LOCK ")";
	int rc;

	if ((after_writers && (rc = pgconn_query(r->o.pg, wait_sql, 0, NULL,
	                                         pgconn_ignore, NULL)) < 0) ||
	    (rc = pgconn_query(r->o.pg, sql, n, params, fn, r)) < 0 ||
	    (rc = pgconn_sync(r->o.pg, done, r)) < 0)
		return rc;
	return 0;
}

static int pull(struct pgrepl *r, int after_writers)
{
	/* The trim's mark, with the changes and the newest change (the
	 * mark when the log is trimmed empty) in the same snapshot: always
	 * one row, the change's columns null when there is none. */
	static const char sql[] =
	        "SELECT t.v, c.v, c.tbl, c.op, c.row::text, greatest((SELECT "
	        "max(v) FROM smmd_change), t.v) FROM smmd_trim t "
	        "LEFT JOIN LATERAL (SELECT v, tbl, op, row FROM smmd_change "
	        "WHERE v > $1 ORDER BY v LIMIT " PULL_BATCH_TEXT ") c ON true "
	        "ORDER BY c.v";
	char after[24];
	const char *params[] = {after};
	int rc;

	if (r->pulling)
		return -EBUSY;
	/* A new view reads the tables, with one row per thing rather than
	 * one per change; a view behind the trim has no other way. */
	if (r->behind || (!r->whole_read && repl_view_new(r)))
		return repl_read_whole(r, after_writers);
	repl_rewind(r);
	snprintf(after, sizeof(after), "%" PRId64, r->pulled);
	if ((rc = repl_ask(r, after_writers, sql, 1, params, on_pulled,
	                   on_pull_done)) < 0)
		return rc;
	r->pulling = 1;
	r->asks++;
	return 0;
}

int pgrepl_pull(struct pgrepl *r)
{
	return pull(r, 0);
}

int pgrepl_pull_after_writers(struct pgrepl *r)
{
	return pull(r, 1);
}

/* A read-back in flight: the rows asked for, in the order asked. */
struct resync {
	struct pgrepl *r;
	struct repl_rows rows;
	size_t answered;
	int found;
	int64_t epoch, shipped;
	/* The chain as this node numbered it when the read was queued. */
	uint64_t own_shipped;
	int64_t own_epoch;
	int failed;
	/* Statements queued and answered; nosync: the sync never was. */
	size_t queued, called;
	int nosync;
	/* Per row: PostgreSQL's image (NULL: gone), applied all at once. */
	json_t **imgs;
};

static void resync_free(struct resync *rs)
{
	for (size_t i = 0; rs->imgs && i < rs->rows.n; i++)
		json_decref(rs->imgs[i]);
	free(rs->imgs);
	repl_rows_free(&rs->rows);
	free(rs);
}

/* A read-back whose sync never went: the rows wait for the next. */
static void resync_abandoned(struct resync *rs)
{
	if (rs->nosync && rs->called == rs->queued) {
		repl_rows_take(&rs->r->refetch, &rs->rows);
		resync_free(rs);
	}
}

static void on_chain(void *arg, const PGresult *res, const char *err)
{
	struct resync *rs = arg;

	rs->called++;
	if (res == NULL) {
		rs->failed = 1;
		resync_abandoned(rs);
		return;
	}
	rs->found = PQntuples(res) == 1;
	if (rs->found) {
		rs->epoch = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		rs->shipped = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	}
}

static void on_refetched(void *arg, const PGresult *res, const char *err)
{
	struct resync *rs = arg;
	size_t i = rs->answered++;

	rs->called++;
	if (res == NULL) {
		rs->failed = 1;
	} else if (PQntuples(res) == 1 &&
	           (rs->imgs[i] = json_loads(PQgetvalue(res, 0, 0), 0, NULL)) ==
	                   NULL) {
		rs->failed = 1;
	}
	resync_abandoned(rs);
}

/*
 * PostgreSQL's rows, whatever the view made of them, in one savepoint: a
 * refused post and its delivery go together, whatever order they were
 * read in (the view checks no keys between tables: view_without_keys).
 */
static int apply_read_back(struct pgrepl *r, struct resync *rs)
{
	struct repl_rows session = {0};
	int ok = 1;

	sqlite3_exec(r->o.db, "SAVEPOINT smmd_read_back", NULL, NULL, NULL);

	repl_session_rows(r, &session);
	for (size_t i = 0; ok && i < rs->rows.n; i++) {
		const struct repl_row *row = &rs->rows.v[i];
		json_t *img = rs->imgs[i];
		int64_t v = json_integer_value(json_object_get(img, "_v"));

		if (row->soft && repl_dirty(r, &session, row->table, row->pk))
			ok = repl_rows_add(&r->later, row->table, row->pk, 0,
			                   0) == 0; /* dirty again: later */
		else
			ok = repl_apply(r, row->table, row->pk, img, v,
			                !row->soft) >= 0;
	}
	repl_rows_free(&session);
	if (ok && sqlite3_exec(r->o.db, "RELEASE smmd_read_back", NULL, NULL,
	                       NULL) == SQLITE_OK)
		return 0;
	sqlite3_exec(r->o.db,
	             "ROLLBACK TO smmd_read_back; RELEASE smmd_read_back", NULL,
	             NULL, NULL);
	return -1;
}

static void on_resync_done(void *arg, const char *err)
{
	struct resync *rs = arg;
	struct pgrepl *r = rs->r;
	int64_t epoch;

	r->resyncing = 0;
	if (err || rs->failed || apply_read_back(r, rs) < 0) {
		/* Again at the next tick: the rows wait in refetch. */
		if (!err && !rs->failed)
			repl_error(r, "reading rows back into the view: %s",
			           sqlite3_errmsg(r->o.db));
		repl_rows_take(&r->refetch, &rs->rows);
		resync_free(rs);
		return;
	}
	/*
	 * The chain goes on from what PostgreSQL holds for this lease,
	 * unless groups went after the read (one of rows a pull left alone
	 * does not stop shipping): they are on top of what it read, and
	 * this node's count is the right one; were one of them refused, its
	 * own read-back reads the chain again.
	 */
	if (r->shipped == rs->own_shipped && r->chain_epoch == rs->own_epoch) {
		epoch = r->o.epoch(r->o.arg);
		r->chain_epoch = rs->found && rs->epoch == epoch ? epoch : 0;
		r->shipped = r->chain_epoch ? (uint64_t)rs->shipped : 0;
	}
	resync_free(rs);
	if (r->refetch.n > 0)
		repl_resync(r); /* refused meanwhile: read those too */
	else
		r->broken = 0;
}

/* A key's value as a statement parameter; malloc'd, NULL for null. */
static char *param_of_json(json_t *v)
{
	char buf[32];

	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (json_is_integer(v))
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
		         json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
	else
		return NULL;
	return strdup(buf);
}

/* Ask for one row by its key. */
static int ask_row(struct pgrepl *r, struct resync *rs,
                   const struct repl_row *row)
{
	const struct repl_table *t = &r->tables[row->table];
	json_t *key = json_loads(row->pk, JSON_DECODE_ANY, NULL);
	char *params[16] = {0}, *sql = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&sql, &len);
	int rc = -ENOMEM;

	if (f == NULL || key == NULL || t->npk > 16) {
		if (f)
			fclose(f);
		free(sql);
		json_decref(key);
		return -ENOMEM;
	}
	fprintf(f, "SELECT to_jsonb(t)::text FROM \"%s\" t WHERE ", t->name);
	for (int k = 0; k < t->npk; k++) {
		fprintf(f, "%s\"%s\" = $%d", k ? " AND " : "",
		        t->cols[t->key[k]], k + 1);
		params[k] = param_of_json(json_array_get(key, (size_t)k));
	}
	if (fclose(f) == 0)
		rc = pgconn_query(r->o.pg, sql, t->npk,
		                  (const char *const *)params, on_refetched,
		                  rs);
	for (int k = 0; k < t->npk; k++)
		free(params[k]);
	free(sql);
	json_decref(key);
	return rc;
}

void repl_resync(struct pgrepl *r)
{
	static const char chain_sql[] =
	        "SELECT n.epoch, coalesce(c.shipped, 0) FROM smmd_node n LEFT "
	        "JOIN smmd_chain c ON c.node_id = n.node_id AND c.epoch = "
	        "n.epoch WHERE n.node_id = $1";
	const char *params[] = {r->node_id};
	struct resync *rs;

	/* Groups still in flight may be refused too: after them. */
	if (r->resyncing || r->head || r->doubt || !pgconn_up(r->o.pg))
		return;
	/* Rows a pull left alone while they were dirty: read them too. */
	for (size_t i = 0; i < r->later.n; i++)
		r->later.v[i].soft = 1;
	repl_rows_take(&r->refetch, &r->later);
	if ((rs = calloc(1, sizeof(*rs))) == NULL ||
	    (rs->imgs = calloc(r->refetch.n + 1, sizeof(*rs->imgs))) == NULL) {
		free(rs);
		return; /* the next tick tries again */
	}
	rs->r = r;
	rs->own_shipped = r->shipped;
	rs->own_epoch = r->chain_epoch;
	rs->rows = r->refetch;
	r->refetch = (struct repl_rows){0};
	if (pgconn_query(r->o.pg, chain_sql, 1, params, on_chain, rs) < 0)
		goto fail;
	rs->queued++;
	for (size_t i = 0; i < rs->rows.n; i++) {
		if (ask_row(r, rs, &rs->rows.v[i]) < 0)
			goto fail;
		rs->queued++;
	}
	if (pgconn_sync(r->o.pg, on_resync_done, rs) < 0)
		goto fail;
	r->resyncing = 1;
	return;
fail:
	/*
	 * The connection broke while asking: what was queued is told so,
	 * and the last of them puts the rows back for the next try.
	 */
	rs->failed = 1;
	rs->nosync = 1;
	pgconn_reset(r->o.pg, "a read-back could not be queued whole");
	if (rs->queued == 0) {
		repl_rows_take(&r->refetch, &rs->rows);
		resync_free(rs);
	}
}
