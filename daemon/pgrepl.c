/*
 * The view's changes, shipped to PostgreSQL (pgrepl.h). This file reads
 * the view's schema, turns a session's changeset into one fenced group of
 * compare-and-set statements, and decides each group: kept, refused, or
 * (lost with the connection) in doubt until the chain says.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "pgrepl_impl.h"
#include "pgschema.h"

static void rows_of_changeset(struct pgrepl *r, void *buf, int n,
                              struct repl_rows *rows);
static int resend_lost(struct pgrepl *r, int64_t epoch);
static void group_free(struct repl_group *g);

static const char view_sql[] =
        "CREATE TABLE IF NOT EXISTS _smmd_v (tbl TEXT NOT NULL, pk TEXT NOT "
        "NULL, v INTEGER NOT NULL, dead INTEGER NOT NULL DEFAULT 0, PRIMARY "
        "KEY (tbl, pk)) WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS _smmd_pull (id INTEGER PRIMARY KEY "
        "CHECK (id = 1), v INTEGER NOT NULL);"
        "INSERT OR IGNORE INTO _smmd_pull VALUES (1, 0);";

/* SQLite's declared type, as PostgreSQL spells it. */
static const char *pg_type(const char *decl)
{
	if (strcasestr(decl, "INT"))
		return "bigint";
	if (strcasestr(decl, "REAL") || strcasestr(decl, "FLOA") ||
	    strcasestr(decl, "DOUB"))
		return "double precision";
	if (strcasestr(decl, "BLOB"))
		return "bytea";
	return "text";
}

static int load_table(sqlite3 *db, const char *name, struct repl_table *t)
{
	char sql[160];
	sqlite3_stmt *st;
	int r;

	snprintf(sql, sizeof(sql), "PRAGMA table_info(\"%s\")", name);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	t->name = strdup(name);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		int i = t->ncol++;

		t->cols = realloc(t->cols, (size_t)t->ncol * sizeof(*t->cols));
		t->pgtypes = realloc(t->pgtypes,
		                     (size_t)t->ncol * sizeof(*t->pgtypes));
		t->pk = realloc(t->pk, (size_t)t->ncol * sizeof(*t->pk));
		if (!t->cols || !t->pgtypes || !t->pk || !t->name)
			break;
		t->cols[i] = strdup((const char *)sqlite3_column_text(st, 1));
		t->pgtypes[i] = pg_type(
		        sqlite3_column_text(st, 2)
		                ? (const char *)sqlite3_column_text(st, 2)
		                : "");
		t->pk[i] = sqlite3_column_int(st, 5);
		if (t->pk[i] > t->npk)
			t->npk = t->pk[i];
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE || t->ncol == 0 || t->npk == 0)
		return -1;
	if ((t->key = calloc((size_t)t->npk, sizeof(*t->key))) == NULL)
		return -1;
	for (int i = 0; i < t->ncol; i++)
		if (t->pk[i] > 0)
			t->key[t->pk[i] - 1] = i;
	return 0;
}

static void free_table(struct repl_table *t)
{
	for (int i = 0; i < t->ncol; i++)
		free(t->cols ? t->cols[i] : NULL);
	free(t->cols);
	free(t->pgtypes);
	free(t->pk);
	free(t->key);
	free(t->name);
	sqlite3_finalize(t->upsert);
	sqlite3_finalize(t->del);
}

/* What the view logs from now on: its tables' writes since this. */
static int new_session(struct pgrepl *r)
{
	if (r->session) {
		viewlog_clear(r->session);
		return 0;
	}
	if ((r->session = viewlog_new(r->o.db)) == NULL)
		return -1;
	for (int i = 0; i < r->ntables; i++) {
		const struct repl_table *t = &r->tables[i];

		if (viewlog_attach(r->session, t->name, t->ncol,
		                   (const char *const *)t->cols, t->pk) < 0)
			return -1;
	}
	return 0;
}

/*
 * The view checks no foreign keys. PostgreSQL's tables have none between
 * them, and rows come from there in orders the keys would refuse (pages
 * of each table read whole, rows read back one by one, a change left
 * for later while the node's own is undecided); the writers, SQLite's
 * store code, keep them. Deferring the checks instead took a PRAGMA per
 * pull, and every PRAGMA that sets a flag expires all the connection's
 * prepared statements: each pull made the next use of every statement
 * prepare it again (12% of a worker's time in tests/bench/workbench.sh).
 * Set outside a transaction (open), where SQLite honours it.
 */
static int view_without_keys(sqlite3 *db)
{
	int on = 1;

	if (sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_FKEY, 0, &on) !=
	            SQLITE_OK ||
	    on != 0)
		return -1;
	return 0;
}

static int prepare(struct pgrepl *r, const char *sql, sqlite3_stmt **st)
{
	return sqlite3_prepare_v3(r->o.db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	                          st, NULL) == SQLITE_OK
	               ? 0
	               : -1;
}

static int64_t pulled_so_far(sqlite3 *db)
{
	sqlite3_stmt *st;
	int64_t v = 0;

	if (sqlite3_prepare_v2(db, "SELECT v FROM _smmd_pull", -1, &st, NULL) !=
	    SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

void pgrepl_rolled_back(struct pgrepl *r)
{
	r->rewound = 1;
}

int repl_rewind(struct pgrepl *r)
{
	if (!r->rewound)
		return 0;
	r->rewound = 0;
	r->pulled = pulled_so_far(r->o.db);
	repl_backlog_drop(r);
	return 1;
}

int pgrepl_open(const struct pgrepl_opts *o, struct pgrepl **out, char *err,
                size_t errlen)
{
	struct pgrepl *r = calloc(1, sizeof(*r));
	const char *bad = NULL;
	int n = 0;

	*out = NULL;
	while (o->tables[n])
		n++;
	if (r == NULL ||
	    (r->tables = calloc((size_t)n, sizeof(*r->tables))) == NULL ||
	    (r->node_id = strdup(o->node_id)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	r->o = *o;
	r->o.node_id = r->node_id;
	r->tick_pulls = !o->sole_writer;
	for (r->ntables = 0; r->ntables < n; r->ntables++)
		if (load_table(o->db, o->tables[r->ntables],
		               &r->tables[r->ntables]) < 0) {
			bad = o->tables[r->ntables++];
			break;
		}
	if (bad) {
		snprintf(err, errlen, "table %s: no such table, or no key",
		         bad);
		goto fail;
	}
	if (view_without_keys(o->db) < 0 ||
	    sqlite3_exec(o->db, view_sql, NULL, NULL, NULL) != SQLITE_OK ||
	    prepare(r, "SELECT v, dead FROM _smmd_v WHERE tbl = ? AND pk = ?",
	            &r->get_v) < 0 ||
	    prepare(r, "INSERT OR REPLACE INTO _smmd_v VALUES (?, ?, ?, ?)",
	            &r->set_v) < 0 ||
	    prepare(r, "UPDATE _smmd_pull SET v = ? WHERE id = 1",
	            &r->set_pulled) < 0 ||
	    new_session(r) < 0) {
		snprintf(err, errlen, "the view: %s", sqlite3_errmsg(o->db));
		goto fail;
	}
	r->pulled = pulled_so_far(o->db);
	*out = r;
	return 0;
fail:
	pgrepl_free(r);
	return -1;
}

int pgrepl_save_position(struct pgrepl *r, int64_t *out)
{
	int64_t at;
	int rc;

	repl_rewind(r); /* a position a rollback took back is not whole */
	at = r->kept_max > r->pulled ? r->kept_max : r->pulled;
	if (!r->o.sole_writer || !pgrepl_settled(r) || r->unnumbered)
		return -1;
	sqlite3_bind_int64(r->set_pulled, 1, at);
	rc = sqlite3_step(r->set_pulled);
	sqlite3_reset(r->set_pulled);
	if (rc != SQLITE_DONE)
		return -1;
	r->pulled = *out = at;
	return 0;
}

int pgrepl_forget_view(struct pgrepl *r)
{
	char sql[160];
	int rc = SQLITE_OK;

	/* Not a change of this node's: nothing of it may ship. */
	viewlog_enable(r->session, 0);
	for (int i = 0; i < r->ntables && rc == SQLITE_OK; i++) {
		snprintf(sql, sizeof(sql), "DELETE FROM \"%s\"",
		         r->tables[i].name);
		rc = sqlite3_exec(r->o.db, sql, NULL, NULL, NULL);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(r->o.db,
		                  "DELETE FROM _smmd_v; UPDATE _smmd_pull SET "
		                  "v = 0",
		                  NULL, NULL, NULL);
	viewlog_enable(r->session, 1);
	if (rc != SQLITE_OK)
		return -1;
	r->pulled = r->kept_max = 0;
	for (int i = 0; i < r->ntables; i++)
		r->tables[i].read_at = 0;
	return 0;
}

/* Groups no answer will come for (lost, or waiting to be sent again). */
static void free_groups(struct repl_group **list)
{
	while (*list) {
		struct repl_group *g = *list;

		*list = g->next;
		group_free(g);
	}
}

void pgrepl_free(struct pgrepl *r)
{
	if (r == NULL)
		return;
	/* Groups in flight find no one when their answers come. */
	for (struct repl_group *g = r->head; g; g = g->next)
		g->r = NULL;
	free_groups(&r->doubt);
	free_groups(&r->resend);
	for (int i = 0; i < r->ntables; i++)
		free_table(&r->tables[i]);
	free(r->tables);
	viewlog_free(r->session);
	sqlite3_finalize(r->get_v);
	sqlite3_finalize(r->set_v);
	sqlite3_finalize(r->set_pulled);
	repl_rows_free(&r->refetch);
	repl_rows_free(&r->later);
	repl_backlog_drop(r);
	free(r->node_id);
	free(r);
}

void repl_error(struct pgrepl *r, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	if (r->o.on_error == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	r->o.on_error(r->o.arg, why);
}

void repl_session_rows(struct pgrepl *r, struct repl_rows *out)
{
	void *buf = NULL;
	int n = 0;

	/* Most pulls are applied between ships, with nothing logged: no
	 * changeset (a SELECT a row logged) to find that out. */
	if (viewlog_isempty(r->session))
		return;
	if (viewlog_changeset(r->session, &n, &buf) == SQLITE_OK && n > 0)
		rows_of_changeset(r, buf, n, out);
	sqlite3_free(buf);
}

static int rows_have(const struct repl_rows *rs, int table, const char *pk)
{
	for (size_t i = 0; rs && i < rs->n; i++)
		if (rs->v[i].table == table && strcmp(rs->v[i].pk, pk) == 0)
			return 1;
	return 0;
}

int repl_dirty(const struct pgrepl *r, const struct repl_rows *session,
               int table, const char *pk)
{
	for (const struct repl_group *g = r->head; g; g = g->next)
		if (rows_have(&g->rows, table, pk))
			return 1;
	for (const struct repl_group *g = r->doubt; g; g = g->next)
		if (rows_have(&g->rows, table, pk))
			return 1;
	for (const struct repl_group *g = r->resend; g; g = g->next)
		if (rows_have(&g->rows, table, pk))
			return 1;
	return rows_have(session, table, pk);
}

void pgrepl_tick(struct pgrepl *r)
{
	int64_t epoch;

	if (!pgconn_up(r->o.pg))
		return;
	if (r->doubt) {
		pgrepl_reconnected(r);
	} else if (r->resend) {
		/* Decided while the lease was not trusted: now, if it is. */
		if ((epoch = r->o.epoch(r->o.arg)) != 0 &&
		    resend_lost(r, epoch) == -ESTALE)
			repl_resync(r);
	} else if (r->broken) {
		repl_resync(r);
	} else if (r->later.n > 0) {
		/* Pulled while dirty: read those rows now, unforced. */
		repl_resync(r);
	}
	if (r->tick_pulls)
		pgrepl_pull(r);
}

void pgrepl_share(struct pgrepl *r, int each_tick)
{
	r->o.sole_writer = 0;
	r->tick_pulls = each_tick;
}

int pgrepl_set_node(struct pgrepl *r, const char *node_id)
{
	char *id = strdup(node_id);

	if (id == NULL)
		return -ENOMEM;
	free(r->node_id);
	r->node_id = id;
	r->o.node_id = id;
	return 0;
}

int pgrepl_settled(const struct pgrepl *r)
{
	return r->head == NULL && r->doubt == NULL && r->resend == NULL &&
	       !r->broken && !r->resyncing && r->refetch.n == 0 &&
	       r->later.n == 0;
}

uint64_t pgrepl_resent(const struct pgrepl *r)
{
	return r->resent;
}

int pgrepl_pulling(const struct pgrepl *r)
{
	return r->pulling != 0;
}

uint64_t pgrepl_asks(const struct pgrepl *r)
{
	return r->asks;
}

int64_t pgrepl_newest(const struct pgrepl *r, uint64_t *answered)
{
	*answered = r->answered;
	return r->newest;
}

int64_t pgrepl_pulled(const struct pgrepl *r)
{
	int64_t kept;

	/* Rolled back: what the view kept, until the next pull reads on. */
	if (r->rewound && (kept = pulled_so_far(r->o.db)) < r->pulled)
		return kept;
	return r->pulled;
}

uint64_t pgrepl_rows_read(const struct pgrepl *r)
{
	return r->rows_read;
}

size_t pgrepl_in_flight(const struct pgrepl *r)
{
	size_t n = 0;

	for (const struct repl_group *g = r->head; g; g = g->next)
		n++;
	for (const struct repl_group *g = r->doubt; g; g = g->next)
		n++;
	for (const struct repl_group *g = r->resend; g; g = g->next)
		n++;
	return n;
}

char *pgrepl_schema_sql(struct pgrepl *r)
{
	char *sql = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&sql, &len);

	if (f == NULL)
		return NULL;
	fprintf(f, "DO $smmd$ BEGIN PERFORM pg_advisory_xact_lock(%s); ",
	        PGSCHEMA_LOCK);
	for (int i = 0; i < r->ntables; i++) {
		const struct repl_table *t = &r->tables[i];

		fprintf(f, "CREATE TABLE IF NOT EXISTS \"%s\" (", t->name);
		for (int c = 0; c < t->ncol; c++)
			fprintf(f, "\"%s\" %s, ", t->cols[c], t->pgtypes[c]);
		fprintf(f, "_v bigint NOT NULL DEFAULT 0, _w text, "
		           "PRIMARY KEY (");
		for (int k = 0; k < t->npk; k++)
			fprintf(f, "%s\"%s\"", k ? ", " : "",
			        t->cols[t->key[k]]);
		fprintf(f, ")); ");
		fprintf(f,
		        "ALTER TABLE \"%s\" ADD COLUMN IF NOT EXISTS _w "
		        "text; ",
		        t->name);
		/* Columns the view's later migrations added. */
		for (int c = 0; c < t->ncol; c++)
			fprintf(f,
			        "ALTER TABLE \"%s\" ADD COLUMN IF NOT EXISTS "
			        "\"%s\" %s; ",
			        t->name, t->cols[c], t->pgtypes[c]);
		fprintf(f,
		        "DROP TRIGGER IF EXISTS smmd_track ON \"%s\"; "
		        "CREATE TRIGGER smmd_track BEFORE INSERT OR UPDATE OR "
		        "DELETE ON \"%s\" FOR EACH ROW EXECUTE FUNCTION "
		        "smmd_track(); ",
		        t->name, t->name);
	}
	fprintf(f, "END $smmd$");
	if (fclose(f) != 0) {
		free(sql);
		return NULL;
	}
	return sql;
}

/* A changeset value as a statement parameter: malloc'd, NULL for null. */
static char *param_of(sqlite3_value *v)
{
	char buf[32], *s;
	const unsigned char *b;
	int n;

	switch (v ? sqlite3_value_type(v) : SQLITE_NULL) {
	case SQLITE_INTEGER:
		snprintf(buf, sizeof(buf), "%lld",
		         (long long)sqlite3_value_int64(v));
		return strdup(buf);
	case SQLITE_FLOAT:
		snprintf(buf, sizeof(buf), "%.17g", sqlite3_value_double(v));
		return strdup(buf);
	case SQLITE_TEXT:
		return strdup((const char *)sqlite3_value_text(v));
	case SQLITE_BLOB: /* bytea's hex form */
		b = sqlite3_value_blob(v);
		n = sqlite3_value_bytes(v);
		if ((s = malloc(2 * (size_t)n + 3)) == NULL)
			return NULL;
		memcpy(s, "\\x", 2);
		for (int i = 0; i < n; i++)
			snprintf(s + 2 + 2 * i, 3, "%02x", b[i]);
		s[2 + 2 * n] = '\0';
		return s;
	default:
		return NULL;
	}
}

static json_t *json_of(sqlite3_value *v)
{
	switch (v ? sqlite3_value_type(v) : SQLITE_NULL) {
	case SQLITE_INTEGER:
		return json_integer(sqlite3_value_int64(v));
	case SQLITE_FLOAT:
		return json_real(sqlite3_value_double(v));
	case SQLITE_TEXT:
		return json_stringn((const char *)sqlite3_value_text(v),
		                    (size_t)sqlite3_value_bytes(v));
	default:
		return json_null();
	}
}

/* The changed row's key, as repl_row.pk spells it; malloc'd. */
static char *pk_of_change(const struct repl_table *t,
                          sqlite3_changeset_iter *it, int op)
{
	json_t *a = json_array();
	char *s = NULL;

	for (int k = 0; a && k < t->npk; k++) {
		sqlite3_value *v = NULL;

		if (op == SQLITE_INSERT)
			sqlite3changeset_new(it, t->key[k], &v);
		else
			sqlite3changeset_old(it, t->key[k], &v);
		json_array_append_new(a, json_of(v));
	}
	if (a)
		s = json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(a);
	return s;
}

static void group_free(struct repl_group *g)
{
	repl_rows_free(&g->rows);
	sqlite3_free(g->cs);
	free(g);
}

static void group_unref(struct repl_group *g)
{
	if (--g->refs > 0)
		return;
	group_free(g);
}

/* A refused statement rolls its whole group back: remember why. */
static void note_refusal(struct repl_group *g, const char *err)
{
	if (err && strncmp(err, "ERROR", 5) == 0 && !g->refused) {
		g->refused = 1;
		snprintf(g->why, sizeof(g->why), "%s", err);
	}
}

static void on_fence(void *arg, const PGresult *res, const char *err)
{
	struct repl_group *g = arg;

	note_refusal(g, err);
	group_unref(g);
}

static void on_row(void *arg, const PGresult *res, const char *err)
{
	struct repl_group *g = arg;
	struct repl_row *row = &g->rows.v[g->answered++];

	note_refusal(g, err);
	if (res && PQntuples(res) == 1)
		row->v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	group_unref(g);
}

/* Every row a changeset touches, into rows (to read back). */
static void rows_of_changeset(struct pgrepl *r, void *buf, int n,
                              struct repl_rows *rows)
{
	sqlite3_changeset_iter *it;
	const char *tname;
	int ncol, op, indirect;

	if (sqlite3changeset_start(&it, n, buf) != SQLITE_OK)
		return;
	while (sqlite3changeset_next(it) == SQLITE_ROW) {
		int t;
		char *pk;

		sqlite3changeset_op(it, &tname, &ncol, &op, &indirect);
		if ((t = repl_table_find(r, tname)) < 0)
			continue;
		if ((pk = pk_of_change(&r->tables[t], it, op)) != NULL)
			repl_rows_add(rows, t, pk, 0, 0);
		free(pk);
	}
	sqlite3changeset_finalize(it);
}

/* INSERT ... ON CONFLICT DO NOTHING: a row the view is first to make. */
static void write_insert(FILE *f, const struct repl_table *t,
                         sqlite3_changeset_iter *it, char **params, int *np)
{
	fprintf(f, "WITH w AS (INSERT INTO \"%s\" (", t->name);
	for (int c = 0; c < t->ncol; c++)
		fprintf(f, "%s\"%s\"", c ? ", " : "", t->cols[c]);
	fprintf(f, ") VALUES (");
	for (int c = 0; c < t->ncol; c++) {
		sqlite3_value *val = NULL;

		sqlite3changeset_new(it, c, &val);
		params[(*np)++] = param_of(val);
		fprintf(f, "%s$%d", c ? ", " : "", *np);
	}
	fprintf(f, ") ON CONFLICT DO NOTHING RETURNING _v)");
}

/*
 * UPDATE or DELETE of the row with the number the view last saw, or
 * that this node's lease (me: node/epoch) wrote it last: a change of
 * ours still in flight, whose number the view does not know yet. Groups
 * commit in chain order, so when this one runs the rows of those before
 * it are written; a stamp of ours still on the row means nobody wrote
 * it since.
 */
static void write_cas(FILE *f, const struct repl_table *t,
                      sqlite3_changeset_iter *it, int op, int64_t v,
                      const char *me, char **params, int *np)
{
	char num[24];

	if (op == SQLITE_UPDATE) {
		fprintf(f, "WITH w AS (UPDATE \"%s\" SET ", t->name);
		for (int c = 0, n = 0; c < t->ncol; c++) {
			sqlite3_value *val = NULL;

			if (sqlite3changeset_new(it, c, &val) != SQLITE_OK ||
			    val == NULL)
				continue; /* unchanged */
			params[(*np)++] = param_of(val);
			fprintf(f, "%s\"%s\" = $%d", n++ ? ", " : "",
			        t->cols[c], *np);
		}
	} else {
		fprintf(f, "WITH w AS (DELETE FROM \"%s\"", t->name);
	}
	fprintf(f, " WHERE ");
	for (int k = 0; k < t->npk; k++) {
		sqlite3_value *val = NULL;

		sqlite3changeset_old(it, t->key[k], &val);
		params[(*np)++] = param_of(val);
		fprintf(f, "\"%s\" = $%d AND ", t->cols[t->key[k]], *np);
	}
	snprintf(num, sizeof(num), "%lld", (long long)v);
	params[(*np)++] = strdup(num);
	params[(*np)++] = strdup(me);
	/* A delete's number is its log entry's, which smmd_track drew. */
	fprintf(f, "(_v = $%d OR _w = $%d) RETURNING %s)", *np - 1, *np,
	        op == SQLITE_DELETE ? "currval('smmd_v_seq') AS _v" : "_v");
}

/* One statement per change: a compare-and-set on the row's number. */
static int ship_change(struct pgrepl *r, struct repl_group *g,
                       sqlite3_changeset_iter *it, const char *me)
{
	const struct repl_table *t;
	const char *tname;
	int ncol, op, indirect, np = 0, ti, dead, rc = -ENOMEM;
	char *sql = NULL, *pk, **params, what[160];
	size_t len = 0;
	int64_t have;
	FILE *f;

	sqlite3changeset_op(it, &tname, &ncol, &op, &indirect);
	if ((ti = repl_table_find(r, tname)) < 0)
		return 0;
	t = &r->tables[ti];
	if ((pk = pk_of_change(t, it, op)) == NULL)
		return -ENOMEM;
	have = repl_get_v(r, t->name, pk, &dead);
	params = calloc((size_t)t->ncol + (size_t)t->npk + 3, sizeof(*params));
	if (params == NULL || (f = open_memstream(&sql, &len)) == NULL)
		goto out;
	if (op == SQLITE_INSERT)
		write_insert(f, t, it, params, &np);
	else /* 0 when the view never learnt it: never matches */
		write_cas(f, t, it, op, dead ? 0 : have, me, params, &np);
	snprintf(what, sizeof(what), "%s %s %s",
	         op == SQLITE_INSERT   ? "insert into"
	         : op == SQLITE_UPDATE ? "update of"
	                               : "delete from",
	         t->name, pk);
	params[np++] = strdup(what);
	fprintf(f, " SELECT smmd_cas(count(*), $%d, max(_v)) FROM w", np);
	if (fclose(f) != 0 || (rc = repl_rows_add(&g->rows, ti, pk, have,
	                                          op == SQLITE_DELETE)) < 0)
		goto out;
	/* A delivery's changes repeat a few shapes: parsed and planned once
	 * per connection. A prepare lost with a failed group fails only
	 * groups the chain refuses anyway (pgconn.h). */
	rc = pgconn_query_prepared(r->o.pg, sql, np,
	                           (const char *const *)params, on_row, g);
	if (rc < 0) /* never asked: no answer will come for it */
		free(g->rows.v[--g->rows.n].pk);
	else
		g->refs++;
out:
	for (int i = 0; params && i < np; i++)
		free(params[i]);
	free(params);
	free(sql);
	free(pk);
	return rc;
}

/*
 * The group committed: the view learns its rows' new numbers, in one
 * transaction of the view's (a burst's groups made each number its own,
 * a fifth of the loop's time), or in the one a turn holds open.
 */
static void group_kept(struct pgrepl *r, struct repl_group *g)
{
	int own = sqlite3_get_autocommit(r->o.db) &&
	          sqlite3_exec(r->o.db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;

	for (size_t i = 0; i < g->rows.n; i++) {
		const struct repl_row *row = &g->rows.v[i];

		repl_set_v(r, r->tables[row->table].name, row->pk, row->v,
		           row->deleted);
		if (row->v > r->kept_max)
			r->kept_max = row->v;
	}
	if (own &&
	    sqlite3_exec(r->o.db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		/* The rows' numbers are lost: their next writes are refused
		 * and read back (the CAS), so say why once, here. */
		repl_error(r,
		           "the view could not keep a group's row numbers: %s",
		           sqlite3_errmsg(r->o.db));
		sqlite3_exec(r->o.db, "ROLLBACK", NULL, NULL, NULL);
	}
	g->done(g->arg, 0, NULL);
}

/* Nothing of it was kept: read its rows back before shipping more. */
static void group_refused(struct pgrepl *r, struct repl_group *g,
                          const char *why)
{
	r->broken = 1;
	for (size_t i = 0; i < g->rows.n; i++)
		repl_rows_add(&r->refetch, g->rows.v[i].table, g->rows.v[i].pk,
		              0, 0);
	g->done(g->arg, -ESTALE, why);
}

static void on_group_done(void *arg, const char *err)
{
	struct repl_group *g = arg;
	struct pgrepl *r = g->r;

	if (r != NULL) {
		/* Groups end in the order they were sent. */
		if ((r->head = g->next) == NULL)
			r->tail = NULL;
		g->next = NULL;
		if (err == NULL) {
			group_kept(r, g);
		} else if (g->refused || strncmp(err, "ERROR", 5) == 0) {
			group_refused(r, g, g->refused ? g->why : err);
		} else {
			/* Lost with the connection: the chain will say. */
			struct repl_group **p = &r->doubt;

			while (*p)
				p = &(*p)->next;
			*p = g;
			g->refs++;
		}
		if (r->broken)
			repl_resync(r);
	}
	group_unref(g);
}

/* Refuse the changes now (a refused group is being read back). */
static int refuse_now(struct pgrepl *r)
{
	void *buf = NULL;
	int n = 0;

	if (viewlog_changeset(r->session, &n, &buf) != SQLITE_OK)
		return -EIO;
	if (n == 0) {
		sqlite3_free(buf);
		repl_resync(r); /* in case an earlier try could not start */
		return 1;
	}
	rows_of_changeset(r, buf, n, &r->refetch);
	sqlite3_free(buf);
	r->broken = 1;
	if (new_session(r) < 0)
		return -EIO;
	repl_resync(r);
	return -ESTALE;
}

/*
 * A group's fence may tell the other nodes it committed (NOTIFY
 * smmd_change: the working node beside workers pulls at its next beat
 * when told). Told by every group, the listening node and its backend
 * were signalled and woken at each commit: with three nodes sharing 500
 * posts a second, PostgreSQL took 60% of a core rather than 40%, and
 * posts went out 10-12 ms late at p99 rather than 7 (tests/bench/
 * workbench.sh). The first group of a burst tells at once; those after
 * it within this long, together (pgrepl_tell_untold).
 */
#define TELL_EVERY_MS 200

static int tell_now(struct pgrepl *r)
{
	uint64_t now = uv_hrtime();

	if (r->told_ns && now - r->told_ns < TELL_EVERY_MS * 1000000ULL) {
		r->untold = 1;
		return 0;
	}
	r->told_ns = now;
	r->untold = 0;
	return 1;
}

int64_t pgrepl_untold_in(const struct pgrepl *r)
{
	uint64_t since_ms;

	if (!r->untold)
		return -1;
	since_ms = (uv_hrtime() - r->told_ns) / 1000000;
	return since_ms >= TELL_EVERY_MS ? 0
	                                 : (int64_t)(TELL_EVERY_MS - since_ms);
}

static void on_told(void *arg, const char *err)
{
	(void)arg;
	(void)err; /* not heard: the working node pulls within 5 s anyway */
}

void pgrepl_tell_untold(struct pgrepl *r)
{
	char me[160];
	const char *params[] = {me};

	if (!r->untold || r->chain_epoch == 0)
		return;
	/* After the groups shipped so far, so it commits after them. */
	snprintf(me, sizeof(me), "%s/%" PRId64, r->node_id, r->chain_epoch);
	if (pgconn_query_prepared(r->o.pg,
	                          "SELECT pg_notify('smmd_change', $1)", 1,
	                          params, pgconn_ignore, NULL) < 0 ||
	    pgconn_sync(r->o.pg, on_told, NULL) < 0)
		return; /* the connection is going: tried with the next group */
	r->told_ns = uv_hrtime();
	r->untold = 0;
}

/*
 * Send a changeset (buf, n bytes: the group's from now on) as a group.
 * Not sent whole, the connection is reset and what it held is read back,
 * unless it is resending (resend_lost keeps it to send again).
 */
static int send_group(struct pgrepl *r, int64_t epoch, void *buf, int n,
                      pgrepl_done_fn *done, void *arg, int resending)
{
	struct repl_group *g = calloc(1, sizeof(*g));
	char ep[24], margin[24], num[24];
	const char *fence[] = {r->node_id, ep, margin, num,
	                       tell_now(r) ? "true" : "false"};
	char me[160];
	sqlite3_changeset_iter *it = NULL;
	int rc = -ENOMEM;

	if (g == NULL) {
		sqlite3_free(buf);
		return -ENOMEM;
	}
	*g = (struct repl_group){.r = r,
	                         .n = r->shipped + 1,
	                         .epoch = epoch,
	                         .done = done,
	                         .arg = arg,
	                         .cs = buf,
	                         .ncs = n};
	snprintf(ep, sizeof(ep), "%" PRId64, epoch);
	snprintf(margin, sizeof(margin), "%" PRId64, r->o.margin_ms);
	snprintf(num, sizeof(num), "%" PRIu64, g->n);
	/* smmd_fence's stamp: the trigger writes it on the group's rows. */
	snprintf(me, sizeof(me), "%s/%s", r->node_id, ep);
	if ((rc = pgconn_query_prepared(r->o.pg,
	                                "SELECT smmd_fence($1, $2, $3, $4, $5)",
	                                5, fence, on_fence, g)) < 0)
		goto fail;
	g->refs++;
	if ((rc = sqlite3changeset_start(&it, n, buf)) != SQLITE_OK) {
		rc = -EIO;
		goto fail;
	}
	while (sqlite3changeset_next(it) == SQLITE_ROW)
		if ((rc = ship_change(r, g, it, me)) < 0)
			goto fail;
	sqlite3changeset_finalize(it);
	it = NULL;
	if ((rc = pgconn_sync(r->o.pg, on_group_done, g)) < 0)
		goto fail;
	g->refs++;
	r->shipped = g->n;
	if (r->tail)
		r->tail->next = g;
	else
		r->head = g;
	r->tail = g;
	return 0;
fail:
	/*
	 * Half asked, never synced: it cannot commit, and the connection
	 * is going (or memory is). What was queued is told, then g goes.
	 */
	if (it)
		sqlite3changeset_finalize(it);
	/* Never let a later sync commit the part that was queued. */
	pgconn_reset(r->o.pg, "a group could not be queued whole");
	g->r = NULL;
	if (!resending) {
		r->broken = 1;
		rows_of_changeset(r, buf, n, &r->refetch);
	}
	if (g->refs == 0)
		group_free(g);
	return -ESTALE;
}

/*
 * Send again, in order, the groups lost with the connection that the
 * chain said were not committed: nothing of them was kept, and nothing
 * was shipped after them, so they go as they were, under the same lease.
 * One that cannot be sent whole stays first, with those after it: the
 * connection was reset, so the ones just sent are decided first, as
 * groups lost with it. Under another lease they are refused (their rows
 * read back). 0, -ENOTCONN (some wait), -ENOMEM or -ESTALE.
 */
static int resend_lost(struct pgrepl *r, int64_t epoch)
{
	while (r->resend) {
		struct repl_group *g = r->resend;
		void *copy;

		if (g->epoch != epoch || epoch != r->chain_epoch)
			break;
		if ((copy = sqlite3_malloc(g->ncs)) == NULL)
			return -ENOMEM;
		memcpy(copy, g->cs, (size_t)g->ncs);
		if (send_group(r, epoch, copy, g->ncs, g->done, g->arg, 1) < 0)
			return -ENOTCONN;
		r->resend = g->next;
		r->resent++;
		group_unref(g);
	}
	if (r->resend == NULL)
		return 0;
	while (r->resend) {
		struct repl_group *g = r->resend;

		r->resend = g->next;
		rows_of_changeset(r, g->cs, g->ncs, &r->refetch);
		g->done(g->arg, -ESTALE,
		        "lost with the connection, and the lease with it");
		group_unref(g);
	}
	r->broken = 1;
	return -ESTALE;
}

int pgrepl_ship(struct pgrepl *r, pgrepl_done_fn *done, void *arg)
{
	void *buf = NULL;
	int n = 0, rc;
	int64_t epoch;

	if (r->broken)
		return refuse_now(r);
	/* Groups lost with the connection: decided first, sent again. */
	if (r->doubt)
		return -ENOTCONN;
	epoch = r->o.epoch(r->o.arg);
	if (epoch == 0 || !pgconn_up(r->o.pg))
		return -ENOTCONN; /* the session keeps them for later */
	if ((rc = resend_lost(r, epoch)) < 0)
		return rc;
	if (viewlog_changeset(r->session, &n, &buf) != SQLITE_OK)
		return -EIO;
	if (n == 0) {
		sqlite3_free(buf);
		return 1;
	}
	if (new_session(r) < 0) {
		sqlite3_free(buf);
		return -EIO;
	}
	if (epoch != r->chain_epoch) {
		if (r->head) {
			/* A new lease while groups of the old one fly. */
			rows_of_changeset(r, buf, n, &r->refetch);
			sqlite3_free(buf);
			r->broken = 1;
			return -ESTALE;
		}
		r->chain_epoch = epoch;
		r->shipped = 0;
	}
	return send_group(r, epoch, buf, n, done, arg, 0);
}

static void on_doubt_chain(void *arg, const PGresult *res, const char *err)
{
	struct pgrepl *r = arg;

	r->doubt_found = res && PQntuples(res) == 1;
	if (r->doubt_found)
		r->doubt_shipped = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
}

/* The chain says which groups lost with the connection were kept. */
static void on_doubt_done(void *arg, const char *err)
{
	struct pgrepl *r = arg;

	struct repl_group *lost = NULL, **tail = &lost;
	/* No group was numbered past r->shipped: more, and an earlier bar
	 * committed whose answer was lost. What it barred is not known. */
	int unknown = r->doubt_found && r->doubt_shipped > (int64_t)r->shipped;

	r->deciding = 0;
	if (err)
		return; /* again at the next reconnection */
	/* The chain has moved one past the last group sent (bar_sql). */
	if (r->doubt_found && r->doubt_epoch == r->chain_epoch && !unknown)
		r->shipped++;
	else
		r->broken = 1; /* the chain is read back with the rows */
	while (r->doubt) {
		struct repl_group *g = r->doubt;
		int kept = r->doubt_found && !unknown &&
		           r->doubt_epoch == g->epoch &&
		           r->doubt_shipped >= (int64_t)g->n;

		r->doubt = g->next;
		g->next = NULL;
		if (kept) {
			/*
			 * Its rows' numbers never came back: the view keeps
			 * the ones before. Its stamp (_w) is on the rows, so
			 * this lease's next change to them still matches.
			 */
			r->unnumbered = 1;
			g->done(g->arg, 0, NULL);
			group_unref(g);
			continue;
		}
		*tail = g; /* sent again, with the doubt list's reference */
		tail = &g->next;
	}
	/* Before any kept to send again: these were sent before them. */
	*tail = r->resend;
	r->resend = lost;
	if (r->broken) {
		resend_lost(r, 0); /* refused: their rows are read back */
		repl_resync(r);
	} else if (r->resend && pgconn_up(r->o.pg)) {
		int64_t epoch = r->o.epoch(r->o.arg);

		if (epoch != 0 && resend_lost(r, epoch) == -ESTALE)
			repl_resync(r);
	}
}

void pgrepl_reconnected(struct pgrepl *r)
{
	/*
	 * The old connection's backend may still be running a group (the
	 * Sync had left): wait for its lock on the chain, read how far the
	 * chain got, and move the chain past every group this node sent,
	 * so that none still on its way can commit after the decision.
	 */
	static const char read_sql[] =
	        "SELECT shipped FROM smmd_chain WHERE node_id = $1 AND epoch = "
	        "$2 FOR UPDATE";
	static const char bar_sql[] = "UPDATE smmd_chain SET shipped = $3 "
	                              "WHERE node_id = $1 AND epoch = $2";
	char epoch[24], past[24];
	const char *params[] = {r->node_id, epoch, past};

	if (r->doubt == NULL) {
		if (r->broken)
			repl_resync(r);
		return;
	}
	if (r->deciding || r->head)
		return;
	/* Groups in doubt are of one lease: one connection was lost. */
	r->doubt_epoch = r->doubt->epoch;
	snprintf(epoch, sizeof(epoch), "%" PRId64, r->doubt_epoch);
	snprintf(past, sizeof(past), "%" PRIu64, r->shipped + 1);
	if (pgconn_query(r->o.pg, read_sql, 2, params, on_doubt_chain, r) ==
	            0 &&
	    pgconn_query(r->o.pg, bar_sql, 3, params, pgconn_ignore, NULL) ==
	            0 &&
	    pgconn_sync(r->o.pg, on_doubt_done, r) == 0)
		r->deciding = 1;
}
