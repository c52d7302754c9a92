/*
 * The SQLite backend's side of Plan B: pauses, held deliveries, and the
 * audit trail (tables from migration 8 in store_sqlite.c). Rarely run,
 * so prepared when used rather than cached.
 */
#include "store_sqlite.h"

static const char *const kind_names[] = {
        [PAUSE_ALL] = "all",
        [PAUSE_CHANNEL] = "channel",
        [PAUSE_CAMPAIGN] = "campaign",
        [PAUSE_AUTH] = "auth",
};

static int kind_parse(const char *s)
{
	for (size_t i = 0; s && i < sizeof(kind_names) / sizeof(*kind_names);
	     i++)
		if (strcmp(s, kind_names[i]) == 0)
			return (int)i;
	return -1;
}

static void bind_opt_int(sqlite3_stmt *st, int i, int64_t v, int64_t none)
{
	if (v == none)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, v);
}

static int prepare(struct store_be *s, const char *sql, sqlite3_stmt **st)
{
	return sqlite3_prepare_v2(s->db, sql, -1, st, NULL) == SQLITE_OK ? 0
	                                                                 : -EIO;
}

/* Step a prepared one-off write to its end and finalize it. */
static int step_once(sqlite3_stmt *st)
{
	int r = sqlite3_step(st);

	sqlite3_finalize(st);
	if (r == SQLITE_CONSTRAINT)
		return -EEXIST;
	return r == SQLITE_DONE ? 0 : -EIO;
}

int sq_pause_add(struct store_be *s, const struct pause_rec *p, int64_t *id)
{
	sqlite3_stmt *st;
	int r;

	if (begin(s, DURABLE) < 0 ||
	    prepare(s,
	            "INSERT INTO pauses (id, kind, scope, since_ms, until_ms, "
	            "uid, user, reason, scenario) VALUES ((SELECT "
	            "coalesce(max(id), ?9) + 1 FROM pauses WHERE id > ?9 AND "
	            "id <= ?9 + ?10), ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	            &st) < 0)
		return -EIO;
	sqlite3_bind_int64(st, 9, s->id_base);
	sqlite3_bind_int64(st, 10, SQ_ID_RANGE);
	bind_text(st, 1, kind_names[p->kind]);
	/* "" for all: the unique index treats NULLs as distinct. */
	bind_text(st, 2, p->kind == PAUSE_ALL ? "" : p->scope);
	sqlite3_bind_int64(st, 3, p->since_ms);
	bind_opt_int(st, 4, p->until_ms, -1);
	bind_opt_int(st, 5, p->uid, -1);
	bind_text(st, 6, p->user);
	bind_text(st, 7, p->reason);
	bind_text(st, 8, p->scenario);
	if ((r = step_once(st)) < 0)
		return r;
	*id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int sq_pause_end(struct store_be *s, int64_t id, int64_t now_ms,
                 const char *resumed_as)
{
	sqlite3_stmt *st;
	int r;

	if (begin(s, DURABLE) < 0 ||
	    prepare(s,
	            "UPDATE pauses SET ended_ms = ?2, resumed_as = ?3 WHERE "
	            "id = ?1 AND ended_ms IS NULL",
	            &st) < 0)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now_ms);
	bind_text(st, 3, resumed_as);
	if ((r = step_once(st)) < 0)
		return r;
	return sqlite3_changes(s->db) == 1 ? 0 : -ENOENT;
}

int sq_pause_resumed(struct store_be *s, int64_t id, char *as, size_t len)
{
	sqlite3_stmt *st;
	int r;

	if (prepare(s,
	            "SELECT ended_ms IS NOT NULL, resumed_as FROM pauses "
	            "WHERE id = ?1",
	            &st) < 0)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	if ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *v = col_text(st, 1);

		snprintf(as, len, "%s", v ? v : "");
		r = sqlite3_column_int(st, 0);
	} else
		r = r == SQLITE_DONE ? -ENOENT : -EIO;
	sqlite3_finalize(st);
	return r;
}

int sq_pauses(struct store_be *s,
              void (*fn)(void *arg, const struct pause_rec *), void *arg)
{
	sqlite3_stmt *st;
	int r;

	if (prepare(s,
	            "SELECT id, kind, scope, since_ms, until_ms, uid, user, "
	            "reason, scenario FROM pauses WHERE ended_ms IS NULL "
	            "ORDER BY since_ms, id",
	            &st) < 0)
		return -EIO;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct pause_rec p = {
		        .id = sqlite3_column_int64(st, 0),
		        .kind = kind_parse(col_text(st, 1)),
		        .scope = col_text(st, 2),
		        .since_ms = sqlite3_column_int64(st, 3),
		        .until_ms = col_int(st, 4, -1),
		        .uid = (long)col_int(st, 5, -1),
		        .user = col_text(st, 6),
		        .reason = col_text(st, 7),
		        .scenario = col_text(st, 8),
		};

		if (p.kind < 0)
			continue;
		if (p.kind == PAUSE_ALL)
			p.scope = NULL;
		fn(arg, &p);
	}
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -EIO;
}

int sq_held_rows(struct store_be *s, int64_t pause_id,
                 void (*fn)(void *arg, const struct held_row *), void *arg)
{
	sqlite3_stmt *st;
	int r;

	if (prepare(s,
	            "SELECT d.id, d.channel, p.campaign, p.source, d.due_ms, "
	            "d.held_by, d.updated_ms, d.last_error "
	            "FROM deliveries d JOIN posts p ON p.id = d.post_id "
	            "WHERE d.state = 'held' AND (?1 = 0 OR d.held_by = ?1 OR "
	            "(?1 = -1 AND d.held_by IN (SELECT id FROM pauses "
	            "WHERE ended_ms IS NOT NULL))) " /* -1: STORE_HELD_ENDED */
	            "ORDER BY d.due_ms, d.id",
	            &st) < 0)
		return -EIO;
	sqlite3_bind_int64(st, 1, pause_id);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct held_row h = {
		        .id = col_text(st, 0),
		        .channel = col_text(st, 1),
		        .campaign = col_text(st, 2),
		        .source = col_text(st, 3),
		        .due_ms = sqlite3_column_int64(st, 4),
		        .held_by = col_int(st, 5, 0),
		        .updated_ms = sqlite3_column_int64(st, 6),
		        .reason = col_text(st, 7),
		};

		fn(arg, &h);
	}
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -EIO;
}

int64_t sq_held_count(struct store_be *s, int64_t pause_id)
{
	sqlite3_stmt *st;
	int64_t n = -EIO;

	if (prepare(s,
	            "SELECT count(*) FROM deliveries WHERE state = 'held' AND "
	            "held_by = ?1",
	            &st) < 0)
		return -EIO;
	sqlite3_bind_int64(st, 1, pause_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

int sq_audit_add(struct store_be *s, const struct audit_rec *a)
{
	sqlite3_stmt *st;

	if (begin(s, DURABLE) < 0 ||
	    prepare(s,
	            "INSERT INTO audit (id, time_ms, uid, user, action, scope, "
	            "reason, detail) VALUES ((SELECT coalesce(max(id), ?8) + 1 "
	            "FROM audit WHERE id > ?8 AND id <= ?8 + ?9), ?1, ?2, ?3, "
	            "?4, ?5, ?6, ?7)",
	            &st) < 0)
		return -EIO;
	sqlite3_bind_int64(st, 8, s->id_base);
	sqlite3_bind_int64(st, 9, SQ_ID_RANGE);
	sqlite3_bind_int64(st, 1, a->time_ms);
	bind_opt_int(st, 2, a->uid, -1);
	bind_text(st, 3, a->user);
	bind_text(st, 4, a->action);
	bind_text(st, 5, a->scope);
	bind_text(st, 6, a->reason);
	bind_text(st, 7, a->detail);
	return step_once(st);
}

int sq_audit_rows(struct store_be *s, int64_t since_ms,
                  void (*fn)(void *arg, const struct audit_rec *), void *arg)
{
	sqlite3_stmt *st;
	int r;

	if (prepare(s,
	            "SELECT time_ms, uid, user, action, scope, reason, detail "
	            "FROM audit WHERE time_ms >= ?1 ORDER BY time_ms, id",
	            &st) < 0)
		return -EIO;
	sqlite3_bind_int64(st, 1, since_ms);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct audit_rec a = {
		        .time_ms = sqlite3_column_int64(st, 0),
		        .uid = (long)col_int(st, 1, -1),
		        .user = col_text(st, 2),
		        .action = col_text(st, 3),
		        .scope = col_text(st, 4),
		        .reason = col_text(st, 5),
		        .detail = col_text(st, 6),
		};

		fn(arg, &a);
	}
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -EIO;
}
