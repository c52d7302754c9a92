/*
 * viewlog.c beside SQLite's session extension, whose work it does: the
 * same writes on two databases, one logged by each, must give the same
 * changes (compared change by change, in any order), through inserts,
 * updates, deletes, rows made and removed again, keys moved, savepoints
 * rolled back, triggers' writes and writes while logging is off.
 */
#define SQLITE_ENABLE_SESSION        1
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "viewlog.h"

static const char schema[] =
        "CREATE TABLE a (id TEXT PRIMARY KEY, n INTEGER, x REAL, s TEXT, "
        "b BLOB) WITHOUT ROWID;"
        /* A key whose order is not the columns'. */
        "CREATE TABLE c (k1 TEXT NOT NULL, k2 INTEGER NOT NULL, v TEXT, "
        "PRIMARY KEY (k2, k1));"
        "CREATE TABLE r (id INTEGER PRIMARY KEY, v TEXT);"
        "CREATE TABLE other (id INTEGER PRIMARY KEY, v TEXT);"
        /* A trigger's writes: indirect changes. */
        "CREATE TRIGGER a_gone AFTER DELETE ON a BEGIN INSERT OR REPLACE "
        "INTO c VALUES (old.id, 0, 'gone'); END;";

static const char *const a_cols[] = {"id", "n", "x", "s", "b"};
static const int a_pk[] = {1, 0, 0, 0, 0};
static const char *const c_cols[] = {"k1", "k2", "v"};
static const int c_pk[] = {2, 1, 0};
static const char *const r_cols[] = {"id", "v"};
static const int r_pk[] = {1, 0};

static sqlite3 *db_s, *db_v; /* logged by a session, by a viewlog */
static sqlite3_session *session;
static struct viewlog *vlog;

static void exec_both(const char *sql)
{
	char *msg = NULL;

	ck_assert_msg(sqlite3_exec(db_s, sql, NULL, NULL, &msg) == SQLITE_OK,
	              "%s: %s", sql, msg ? msg : "?");
	ck_assert_msg(sqlite3_exec(db_v, sql, NULL, NULL, &msg) == SQLITE_OK,
	              "%s: %s", sql, msg ? msg : "?");
}

static void new_session(void)
{
	if (session)
		sqlite3session_delete(session);
	ck_assert_int_eq(sqlite3session_create(db_s, "main", &session),
	                 SQLITE_OK);
	ck_assert_int_eq(sqlite3session_attach(session, "a"), SQLITE_OK);
	ck_assert_int_eq(sqlite3session_attach(session, "c"), SQLITE_OK);
	ck_assert_int_eq(sqlite3session_attach(session, "r"), SQLITE_OK);
}

static void setup(void)
{
	ck_assert_int_eq(sqlite3_open(":memory:", &db_s), SQLITE_OK);
	ck_assert_int_eq(sqlite3_open(":memory:", &db_v), SQLITE_OK);
	exec_both(schema);
	session = NULL;
	new_session();
	ck_assert_ptr_nonnull(vlog = viewlog_new(db_v));
	ck_assert_int_eq(viewlog_attach(vlog, "a", 5, a_cols, a_pk), 0);
	ck_assert_int_eq(viewlog_attach(vlog, "c", 3, c_cols, c_pk), 0);
	ck_assert_int_eq(viewlog_attach(vlog, "r", 2, r_cols, r_pk), 0);
}

static void teardown(void)
{
	sqlite3session_delete(session);
	viewlog_free(vlog);
	sqlite3_close(db_s);
	sqlite3_close(db_v);
}

static void print_value(FILE *f, sqlite3_value *v)
{
	const unsigned char *b;

	if (v == NULL) {
		fputs(" -", f);
		return;
	}
	switch (sqlite3_value_type(v)) {
	case SQLITE_INTEGER:
		fprintf(f, " i%lld", (long long)sqlite3_value_int64(v));
		break;
	case SQLITE_FLOAT:
		fprintf(f, " f%.17g", sqlite3_value_double(v));
		break;
	case SQLITE_TEXT:
		fprintf(f, " t'%s'", sqlite3_value_text(v));
		break;
	case SQLITE_BLOB:
		b = sqlite3_value_blob(v);
		fputs(" b", f);
		for (int i = 0; i < sqlite3_value_bytes(v); i++)
			fprintf(f, "%02x", b[i]);
		break;
	default:
		fputs(" null", f);
	}
}

static int cmp_lines(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* A changeset as sorted lines, one per change: "table op indirect
 * | old values | new values", "-" for a value not given. */
static char *canonical(int n, void *buf)
{
	sqlite3_changeset_iter *it;
	char *lines[512], *out = NULL;
	size_t nl = 0, len = 0;
	FILE *all = open_memstream(&out, &len);

	ck_assert_ptr_nonnull(all);
	if (n > 0) {
		ck_assert_int_eq(sqlite3changeset_start(&it, n, buf),
		                 SQLITE_OK);
		while (sqlite3changeset_next(it) == SQLITE_ROW) {
			const char *t;
			int ncol, op, ind;
			size_t l = 0;
			FILE *f;

			ck_assert_uint_lt(nl, 512);
			f = open_memstream(&lines[nl], &l);
			sqlite3changeset_op(it, &t, &ncol, &op, &ind);
			fprintf(f, "%s %d %d |", t, op, ind);
			for (int c = 0; c < ncol; c++) {
				sqlite3_value *v = NULL;

				if (op != SQLITE_INSERT)
					sqlite3changeset_old(it, c, &v);
				print_value(f, v);
			}
			fputs(" |", f);
			for (int c = 0; c < ncol; c++) {
				sqlite3_value *v = NULL;

				if (op != SQLITE_DELETE)
					sqlite3changeset_new(it, c, &v);
				print_value(f, v);
			}
			fclose(f);
			nl++;
		}
		ck_assert_int_eq(sqlite3changeset_finalize(it), SQLITE_OK);
	}
	qsort(lines, nl, sizeof(*lines), cmp_lines);
	for (size_t i = 0; i < nl; i++) {
		fprintf(all, "%s\n", lines[i]);
		free(lines[i]);
	}
	fclose(all);
	return out;
}

/* Both logs give the same changes (returned, the caller's); both then
 * start again. */
static char *compare_and_clear(void)
{
	void *bs = NULL, *bv = NULL;
	int ns = 0, nv = 0;
	char *cs, *cv;

	ck_assert_int_eq(sqlite3session_changeset(session, &ns, &bs),
	                 SQLITE_OK);
	ck_assert_int_eq(viewlog_changeset(vlog, &nv, &bv), SQLITE_OK);
	cs = canonical(ns, bs);
	cv = canonical(nv, bv);
	ck_assert_msg(strcmp(cs, cv) == 0, "session:\n%s\nviewlog:\n%s", cs,
	              cv);
	ck_assert_int_eq(nv == 0, bv == NULL);
	sqlite3_free(bs);
	sqlite3_free(bv);
	free(cv);
	new_session();
	viewlog_clear(vlog);
	ck_assert(viewlog_isempty(vlog));
	return cs;
}

static void expect(const char *want)
{
	char *got = compare_and_clear();

	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(test_shapes)
{
	ck_assert(viewlog_isempty(vlog));
	exec_both("INSERT INTO a VALUES ('p', 1, 1.5, 'x', x'00ff')");
	ck_assert(!viewlog_isempty(vlog));
	exec_both("UPDATE a SET n = 2 WHERE id = 'p'");
	exec_both("INSERT INTO r VALUES (7, 'seven')");
	/* Made and gone again: nothing. */
	exec_both("INSERT INTO r VALUES (8, 'eight'); DELETE FROM r WHERE "
	          "id = 8");
	expect("a 18 0 | - - - - - | t'p' i2 f1.5 t'x' b00ff\n"
	       "r 18 0 | - - | i7 t'seven'\n");

	/* An update gives the key and what changed, old and new. */
	exec_both("UPDATE a SET s = 'y', x = 2.5 WHERE id = 'p'");
	/* Changed and changed back: nothing. */
	exec_both("UPDATE r SET v = 'VII' WHERE id = 7; UPDATE r SET v = "
	          "'seven' WHERE id = 7");
	expect("a 23 0 | t'p' - f1.5 t'x' - | - - f2.5 t'y' -\n");

	/* A key moved: the old row goes, a new one is made. */
	exec_both("UPDATE r SET id = 9 WHERE id = 7");
	expect("r 18 0 | - - | i9 t'seven'\n"
	       "r 9 0 | i7 t'seven' | - -\n");

	/* A delete; the trigger's write is indirect. */
	exec_both("DELETE FROM a WHERE id = 'p'");
	expect("a 9 0 | t'p' i2 f2.5 t'y' b00ff | - - - - -\n"
	       "c 18 1 | - - - | t'p' i0 t'gone'\n");
}
END_TEST

START_TEST(test_rollback_and_off)
{
	exec_both("INSERT INTO c VALUES ('k', 1, 'one')");
	expect("c 18 0 | - - - | t'k' i1 t'one'\n");
	/* Undone by a savepoint rolled back: nothing ships. */
	exec_both("BEGIN; SAVEPOINT s; UPDATE c SET v = 'uno'; INSERT INTO r "
	          "VALUES (1, 'x'); ROLLBACK TO s; RELEASE s; COMMIT");
	expect("");
	/* Written while off (another node's change): not logged. */
	sqlite3session_enable(session, 0);
	viewlog_enable(vlog, 0);
	exec_both("UPDATE c SET v = 'theirs'; INSERT INTO r VALUES (2, 'y')");
	sqlite3session_enable(session, 1);
	viewlog_enable(vlog, 1);
	ck_assert(viewlog_isempty(vlog));
	expect("");
	/* A table not attached is never logged. */
	exec_both("INSERT INTO other VALUES (1, 'z')");
	ck_assert(viewlog_isempty(vlog));
	/* Deleted, then made again with other values: an update. */
	exec_both("DELETE FROM c; INSERT INTO c VALUES ('k', 1, 'again')");
	expect("c 23 0 | t'k' i1 t'theirs' | - - t'again'\n");
}
END_TEST

/* A value of any type, drawn: ints, reals, texts, blobs, nulls. */
static void draw_value(FILE *f, unsigned *seed)
{
	switch (rand_r(seed) % 6) {
	case 0:
		fprintf(f, "%d", rand_r(seed) % 5 - 2);
		break;
	case 1:
		fprintf(f, "%d.25", rand_r(seed) % 3);
		break;
	case 2:
		fprintf(f, "'%.*s'", rand_r(seed) % 4, "abcd");
		break;
	case 3:
		fprintf(f, "x'%.*s'", 2 * (rand_r(seed) % 3), "00ff10");
		break;
	case 4:
		fputs("NULL", f);
		break;
	default:
		fprintf(f, "%lld", 1LL << (rand_r(seed) % 63));
	}
}

/* One write drawn on a small set of keys, so that rows collide. */
static char *draw_write(unsigned *seed)
{
	char *sql = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&sql, &len);
	int key = rand_r(seed) % 4;

	switch (rand_r(seed) % 9) {
	case 0:
	case 1:
		fprintf(f, "INSERT OR REPLACE INTO a VALUES ('%d', ", key);
		draw_value(f, seed);
		fputs(", ", f);
		draw_value(f, seed);
		fputs(", ", f);
		draw_value(f, seed);
		fputs(", ", f);
		draw_value(f, seed);
		fputs(")", f);
		break;
	case 2:
		fputs("UPDATE a SET s = ", f);
		draw_value(f, seed);
		fprintf(f, " WHERE id = '%d'", key);
		break;
	case 3:
		fprintf(f, "DELETE FROM a WHERE id = '%d'", key);
		break;
	case 4:
		fprintf(f, "INSERT OR REPLACE INTO c VALUES ('%d', %d, ", key,
		        rand_r(seed) % 2);
		draw_value(f, seed);
		fputs(")", f);
		break;
	case 5:
		fprintf(f, "DELETE FROM c WHERE k2 = %d", rand_r(seed) % 2);
		break;
	case 6:
		fprintf(f, "INSERT OR REPLACE INTO r VALUES (%d, ", key);
		draw_value(f, seed);
		fputs(")", f);
		break;
	case 7:
		fprintf(f, "UPDATE OR REPLACE r SET id = %d WHERE id = %d",
		        rand_r(seed) % 4, key);
		break;
	default:
		fprintf(f, "UPDATE r SET v = v || 'x' WHERE id = %d", key);
	}
	fclose(f);
	return sql;
}

START_TEST(test_drawn_writes)
{
	unsigned seed = 20261206u + (unsigned)_i;

	for (int round = 0; round < 200; round++) {
		int n = rand_r(&seed) % 12, txn = rand_r(&seed) % 3 == 0;

		if (txn)
			exec_both("BEGIN; SAVEPOINT s");
		for (int i = 0; i < n; i++) {
			char *sql = draw_write(&seed);
			int off = rand_r(&seed) % 10 == 0;

			if (off) {
				sqlite3session_enable(session, 0);
				viewlog_enable(vlog, 0);
			}
			exec_both(sql);
			if (off) {
				sqlite3session_enable(session, 1);
				viewlog_enable(vlog, 1);
			}
			free(sql);
		}
		if (txn)
			exec_both(rand_r(&seed) % 2 ? "ROLLBACK TO s; RELEASE "
			                              "s; COMMIT"
			                            : "RELEASE s; COMMIT");
		ck_assert_int_eq(viewlog_isempty(vlog),
		                 sqlite3session_isempty(session));
		free(compare_and_clear());
	}
}
END_TEST

static Suite *viewlog_suite(void)
{
	Suite *s = suite_create("viewlog");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_shapes);
	tcase_add_test(tc, test_rollback_and_off);
	tcase_add_loop_test(tc, test_drawn_writes, 0, 8);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(viewlog_suite)
