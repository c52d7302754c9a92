/*
 * The SQLite backend's side of approvals (the columns of migration 9 in
 * store_sqlite.c): approving a post's deliveries, or one. Rarely run, so
 * prepared when used rather than cached.
 */
#include "postid.h"
#include "store_sqlite.h"

/* One delivery the id names, copied out before anything is written. */
struct found {
	char *id, *channel, *user;
	int state;
	int64_t due_ms;
	int needs;
	int64_t approved_ms;
};

struct found_list {
	struct found *v;
	size_t n, cap;
};

static void found_free(struct found_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].id);
		free(l->v[i].channel);
		free(l->v[i].user);
	}
	free(l->v);
}

/* The deliveries of post_id (did: only that one), in channel order. */
static int collect(struct store_be *s, const char *post_id, const char *did,
                   struct found_list *l)
{
	static const char sql[] =
	        "SELECT id, channel, state, due_ms, needs_approval, "
	        "approved_ms, approved_by_user FROM deliveries "
	        "WHERE post_id = ?1 AND (?2 IS NULL OR id = ?2) "
	        "ORDER BY channel";
	sqlite3_stmt *st;
	int r;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	bind_text(st, 1, post_id);
	bind_text(st, 2, did);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct found *f;

		if (l->n == l->cap) {
			size_t cap = l->cap ? l->cap * 2 : 8;
			struct found *v = realloc(l->v, cap * sizeof(*v));

			if (v == NULL)
				break;
			l->v = v;
			l->cap = cap;
		}
		f = &l->v[l->n++];
		*f = (struct found){
		        .id = col_strdup(st, 0),
		        .channel = col_strdup(st, 1),
		        .state = state_parse(col_text(st, 2)),
		        .due_ms = sqlite3_column_int64(st, 3),
		        .needs = sqlite3_column_int(st, 4) != 0,
		        .approved_ms = col_int(st, 5, -1),
		        .user = col_strdup(st, 6),
		};
		if (f->id == NULL || f->channel == NULL)
			break;
	}
	sqlite3_finalize(st);
	if (r == SQLITE_ROW)
		return -ENOMEM;
	return r == SQLITE_DONE ? 0 : -EIO;
}

/* Whether f awaits an approval that can still make a difference. */
static int approvable(const struct found *f)
{
	return f->needs && f->approved_ms < 0 &&
	       (f->state == DS_DRAFT || f->state == DS_HELD);
}

static int approve_one(struct store_be *s, const char *id,
                       const struct approval *a)
{
	static const char sql[] =
	        "UPDATE deliveries SET approved_ms = ?2, approved_by_uid = ?3, "
	        "approved_by_user = ?4, updated_ms = ?2, "
	        "state = CASE WHEN state = 'draft' THEN 'scheduled' "
	        "ELSE state END WHERE id = ?1";
	sqlite3_stmt *st;
	int r;

	if (begin(s, DURABLE) < 0 ||
	    sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	bind_text(st, 1, id);
	sqlite3_bind_int64(st, 2, a->now_ms);
	if (a->uid >= 0)
		sqlite3_bind_int64(st, 3, a->uid);
	bind_text(st, 4, a->user);
	r = sqlite3_step(st);
	if (r != SQLITE_DONE)
		note_failure(s);
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -EIO;
}

int sq_approve(struct store_be *s, const char *id, const struct approval *a,
               void (*fn)(void *arg, const struct approval_row *), void *arg)
{
	const char *slash = strchr(id, '/');
	char post_id[POSTID_MAX + 1];
	struct found_list l = {0};
	int r, n = 0;

	snprintf(post_id, sizeof(post_id), "%.*s",
	         slash ? (int)(slash - id) : (int)strlen(id), id);
	if ((r = collect(s, post_id, slash ? id : NULL, &l)) < 0)
		goto out;
	r = -ENOENT;
	if (l.n == 0)
		goto out;
	for (size_t i = 0; i < l.n; i++) {
		const struct found *f = &l.v[i];
		int now = approvable(f);

		if (now && (r = approve_one(s, f->id, a)) < 0)
			goto out;
		n += now;
		fn(arg, &(struct approval_row){
		                .id = f->id,
		                .channel = f->channel,
		                .state = f->state,
		                .due_ms = f->due_ms,
		                .needs_approval = f->needs,
		                .approved_ms = f->approved_ms,
		                .approved_by_user = f->user,
		                .approved = now,
		        });
	}
	r = n;
out:
	found_free(&l);
	return r;
}
