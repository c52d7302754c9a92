/*
 * The view's own writes since the last ship (viewlog.h).
 *
 * A row is logged at its first change: its table, its key and, unless
 * that change made it, every value it had. Keys and values are kept in
 * the changeset's own encoding, in one buffer emptied at each clear, so
 * logging a change allocates nothing once the buffers have grown, and a
 * changeset is mostly copies of bytes already encoded.
 *
 * The changeset format (SQLite's, as sqlite3session.c writes it):
 *  - per table: 'T', varint column count, one byte per column (its place
 *    in the key from 1, or 0), the name and its NUL;
 *  - per change: the operation (SQLITE_INSERT, _UPDATE, _DELETE), an
 *    indirect flag, then a record: an INSERT's new values, a DELETE's old
 *    ones, an UPDATE's old then new, where a column neither changed nor
 *    in the key is "undefined" (0) in both and a key column is
 *    undefined in the new one;
 *  - per value: its type (SQLITE_INTEGER, _FLOAT, _TEXT, _BLOB, _NULL),
 *    then 8 bytes big-endian for a number, or a varint length and the
 *    bytes for text and blobs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "viewlog.h"

struct vl_table {
	char *name;
	int ncol;
	char **cols;
	unsigned char *pk; /* per column: its place in the key from 1, or 0 */
	int npk;
	int *key;          /* the key's columns, in key order */
	sqlite3_stmt *now; /* the row as it is, by key */
};

/* A row logged: its key and old values are bytes of the arena. */
struct vl_row {
	int table;
	int made;     /* its first change made it: no old values */
	int indirect; /* every change of it was a trigger's */
	uint32_t hash;
	size_t key_at, nkey;
	size_t old_at; /* ncol values, if !made */
};

struct vl_buf {
	unsigned char *p;
	size_t n, cap;
};

struct viewlog {
	sqlite3 *db;
	int on;
	int failed; /* out of memory in the hook: changesets fail */
	struct vl_table *t;
	int nt;
	struct vl_row *rows;
	size_t nrows, caprows;
	struct vl_buf arena;   /* keys and old values */
	struct vl_buf scratch; /* a key or a value being encoded */
	uint32_t *slots;       /* rows' index + 1 by hash, 0 free */
	size_t nslots;         /* a power of two, or 0 */
};

static int buf_reserve(struct vl_buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 256;
	unsigned char *p;

	if (b->n + more <= b->cap)
		return 0;
	while (cap < b->n + more)
		cap *= 2;
	/* sqlite3's allocator: a changeset is handed on as sqlite3_malloc'd */
	if ((p = sqlite3_realloc64(b->p, cap)) == NULL)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

static int buf_put(struct vl_buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->p + b->n, p, n);
	b->n += n;
	return 0;
}

/* SQLite's varint, for lengths (below 2^56: at most 8 bytes). */
static int put_varint(unsigned char *p, uint64_t v)
{
	unsigned char tmp[10];
	int n = 0;

	do {
		tmp[n++] = (unsigned char)((v & 0x7f) | 0x80);
		v >>= 7;
	} while (v);
	tmp[0] &= 0x7f;
	for (int i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

static int get_varint(const unsigned char *p, uint64_t *v)
{
	uint64_t x = 0;

	for (int i = 0; i < 8; i++) {
		x = (x << 7) | (p[i] & 0x7f);
		if ((p[i] & 0x80) == 0) {
			*v = x;
			return i + 1;
		}
	}
	*v = (x << 8) | p[8];
	return 9;
}

/* An encoded value's length in bytes. */
static size_t value_len(const unsigned char *p)
{
	uint64_t n;
	int k;

	switch (p[0]) {
	case SQLITE_INTEGER:
	case SQLITE_FLOAT:
		return 9;
	case SQLITE_TEXT:
	case SQLITE_BLOB:
		k = get_varint(p + 1, &n);
		return 1 + (size_t)k + (size_t)n;
	default:
		return 1;
	}
}

/* One value, from a pre-update value (st NULL) or st's column i. */
static int put_value(struct vl_buf *b, sqlite3_value *v, sqlite3_stmt *st,
                     int i)
{
	unsigned char hdr[10];
	int type = v    ? sqlite3_value_type(v)
	           : st ? sqlite3_column_type(st, i)
	                : SQLITE_NULL;
	const void *data;
	uint64_t u;
	double d;
	int n, k;

	switch (type) {
	case SQLITE_INTEGER:
	case SQLITE_FLOAT:
		if (type == SQLITE_INTEGER) {
			u = (uint64_t)(v ? sqlite3_value_int64(v)
			                 : sqlite3_column_int64(st, i));
		} else {
			d = v ? sqlite3_value_double(v)
			      : sqlite3_column_double(st, i);
			memcpy(&u, &d, sizeof(u));
		}
		hdr[0] = (unsigned char)type;
		for (k = 0; k < 8; k++)
			hdr[1 + k] = (unsigned char)(u >> (56 - 8 * k));
		return buf_put(b, hdr, 9);
	case SQLITE_TEXT:
	case SQLITE_BLOB:
		/* The text first, then its length in bytes (SQLite's rule). */
		if (type == SQLITE_TEXT)
			data = v ? (const void *)sqlite3_value_text(v)
			         : (const void *)sqlite3_column_text(st, i);
		else
			data = v ? sqlite3_value_blob(v)
			         : sqlite3_column_blob(st, i);
		n = v ? sqlite3_value_bytes(v) : sqlite3_column_bytes(st, i);
		if (data == NULL && n > 0)
			return -1; /* out of memory converting it */
		hdr[0] = (unsigned char)type;
		k = put_varint(hdr + 1, (uint64_t)n);
		if (buf_put(b, hdr, 1 + (size_t)k) < 0)
			return -1;
		return buf_put(b, data, (size_t)n);
	default:
		hdr[0] = SQLITE_NULL;
		return buf_put(b, hdr, 1);
	}
}

static void bind_value(sqlite3_stmt *st, int i, const unsigned char *p)
{
	uint64_t u = 0, n;
	double d;
	int k;

	if (p[0] == SQLITE_INTEGER || p[0] == SQLITE_FLOAT)
		for (k = 0; k < 8; k++)
			u = (u << 8) | p[1 + k];
	switch (p[0]) {
	case SQLITE_INTEGER:
		sqlite3_bind_int64(st, i, (sqlite3_int64)u);
		break;
	case SQLITE_FLOAT:
		memcpy(&d, &u, sizeof(d));
		sqlite3_bind_double(st, i, d);
		break;
	case SQLITE_TEXT:
		k = get_varint(p + 1, &n);
		sqlite3_bind_text(st, i, (const char *)p + 1 + k, (int)n,
		                  SQLITE_STATIC);
		break;
	case SQLITE_BLOB:
		k = get_varint(p + 1, &n);
		sqlite3_bind_blob(st, i, p + 1 + k, (int)n, SQLITE_STATIC);
		break;
	default:
		sqlite3_bind_null(st, i);
	}
}

static uint32_t hash_key(int table, const unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u ^ (uint32_t)table;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static int grow_slots(struct viewlog *vl)
{
	size_t n = vl->nslots ? vl->nslots * 2 : 64;
	uint32_t *s = calloc(n, sizeof(*s));

	if (s == NULL)
		return -1;
	for (size_t i = 0; i < vl->nrows; i++) {
		size_t at = vl->rows[i].hash & (n - 1);

		while (s[at])
			at = (at + 1) & (n - 1);
		s[at] = (uint32_t)i + 1;
	}
	free(vl->slots);
	vl->slots = s;
	vl->nslots = n;
	return 0;
}

/* The row of table ti whose key is in vl->scratch, logged once. */
static int log_row(struct viewlog *vl, int ti, int made, int indirect)
{
	const struct vl_table *t = &vl->t[ti];
	const unsigned char *key = vl->scratch.p;
	size_t nkey = vl->scratch.n, at;
	uint32_t h = hash_key(ti, key, nkey);
	struct vl_row *row;

	if (vl->nslots) {
		for (at = h & (vl->nslots - 1); vl->slots[at];
		     at = (at + 1) & (vl->nslots - 1)) {
			row = &vl->rows[vl->slots[at] - 1];
			if (row->hash == h && row->table == ti &&
			    row->nkey == nkey &&
			    memcmp(vl->arena.p + row->key_at, key, nkey) == 0) {
				if (!indirect)
					row->indirect = 0;
				return 0;
			}
		}
	}
	if ((vl->nrows + 1) * 2 > vl->nslots && grow_slots(vl) < 0)
		return -1;
	if (vl->nrows == vl->caprows) {
		size_t cap = vl->caprows ? vl->caprows * 2 : 32;
		struct vl_row *nv = realloc(vl->rows, cap * sizeof(*nv));

		if (nv == NULL)
			return -1;
		vl->rows = nv;
		vl->caprows = cap;
	}
	row = &vl->rows[vl->nrows];
	*row = (struct vl_row){.table = ti,
	                       .made = made,
	                       .indirect = indirect,
	                       .hash = h,
	                       .key_at = vl->arena.n,
	                       .nkey = nkey};
	if (buf_put(&vl->arena, key, nkey) < 0)
		return -1;
	row->old_at = vl->arena.n;
	for (int c = 0; !made && c < t->ncol; c++) {
		sqlite3_value *v = NULL;

		if (sqlite3_preupdate_old(vl->db, c, &v) != SQLITE_OK ||
		    put_value(&vl->arena, v, NULL, 0) < 0)
			return -1;
	}
	for (at = h & (vl->nslots - 1); vl->slots[at];
	     at = (at + 1) & (vl->nslots - 1))
		;
	vl->slots[at] = (uint32_t)++vl->nrows;
	return 0;
}

/* The key of the row before (old) or after the change, in scratch. */
static int key_of_change(struct viewlog *vl, const struct vl_table *t, int old)
{
	vl->scratch.n = 0;
	for (int k = 0; k < t->npk; k++) {
		sqlite3_value *v = NULL;
		int rc = old ? sqlite3_preupdate_old(vl->db, t->key[k], &v)
		             : sqlite3_preupdate_new(vl->db, t->key[k], &v);

		if (rc != SQLITE_OK || put_value(&vl->scratch, v, NULL, 0) < 0)
			return -1;
	}
	return 0;
}

static void on_preupdate(void *arg, sqlite3 *db, int op, const char *zdb,
                         const char *name, sqlite3_int64 k1, sqlite3_int64 k2)
{
	struct viewlog *vl = arg;
	const struct vl_table *t;
	int ti, indirect;

	(void)db;
	(void)k1;
	(void)k2;
	if (!vl->on || vl->failed || strcmp(zdb, "main") != 0)
		return;
	for (ti = 0; ti < vl->nt; ti++)
		if (strcmp(vl->t[ti].name, name) == 0)
			break;
	if (ti == vl->nt)
		return;
	t = &vl->t[ti];
	indirect = sqlite3_preupdate_depth(vl->db) > 0;
	if (sqlite3_preupdate_count(vl->db) != t->ncol) {
		vl->failed = 1; /* the table changed shape under us */
		return;
	}
	if (op == SQLITE_INSERT) {
		if (key_of_change(vl, t, 0) < 0 || log_row(vl, ti, 1, indirect))
			vl->failed = 1;
		return;
	}
	if (key_of_change(vl, t, 1) < 0 || log_row(vl, ti, 0, indirect) < 0) {
		vl->failed = 1;
		return;
	}
	/* An update that moved the row to another key made a row there. */
	if (op == SQLITE_UPDATE &&
	    (key_of_change(vl, t, 0) < 0 || log_row(vl, ti, 1, indirect) < 0))
		vl->failed = 1;
}

struct viewlog *viewlog_new(sqlite3 *db)
{
	struct viewlog *vl = calloc(1, sizeof(*vl));

	if (vl == NULL)
		return NULL;
	vl->db = db;
	vl->on = 1;
	sqlite3_preupdate_hook(db, on_preupdate, vl);
	return vl;
}

static int prepare_now(sqlite3 *db, struct vl_table *t)
{
	char *sql = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&sql, &len);
	int rc;

	if (f == NULL)
		return -1;
	fprintf(f, "SELECT ");
	for (int c = 0; c < t->ncol; c++)
		fprintf(f, "%s\"%s\"", c ? ", " : "", t->cols[c]);
	fprintf(f, " FROM main.\"%s\" WHERE ", t->name);
	for (int k = 0; k < t->npk; k++)
		fprintf(f, "%s\"%s\" IS ?", k ? " AND " : "",
		        t->cols[t->key[k]]);
	if (fclose(f) != 0) {
		free(sql);
		return -1;
	}
	rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &t->now,
	                        NULL);
	free(sql);
	return rc == SQLITE_OK ? 0 : -1;
}

int viewlog_attach(struct viewlog *vl, const char *name, int ncol,
                   const char *const *cols, const int *pk)
{
	struct vl_table *nt, *t;

	if (ncol <= 0 || ncol > 255 ||
	    (nt = realloc(vl->t, (size_t)(vl->nt + 1) * sizeof(*nt))) == NULL)
		return -1;
	vl->t = nt;
	t = &vl->t[vl->nt];
	*t = (struct vl_table){.ncol = ncol};
	if ((t->name = strdup(name)) == NULL ||
	    (t->cols = calloc((size_t)ncol, sizeof(*t->cols))) == NULL ||
	    (t->pk = calloc((size_t)ncol, 1)) == NULL ||
	    (t->key = calloc((size_t)ncol, sizeof(*t->key))) == NULL)
		goto fail;
	for (int c = 0; c < ncol; c++) {
		if ((t->cols[c] = strdup(cols[c])) == NULL || pk[c] < 0 ||
		    pk[c] > ncol)
			goto fail;
		t->pk[c] = (unsigned char)pk[c];
		if (pk[c] > 0) {
			t->key[pk[c] - 1] = c;
			t->npk++;
		}
	}
	if (t->npk == 0 || prepare_now(vl->db, t) < 0)
		goto fail;
	vl->nt++;
	return 0;
fail:
	for (int c = 0; t->cols && c < ncol; c++)
		free(t->cols[c]);
	free(t->cols);
	free(t->pk);
	free(t->key);
	free(t->name);
	return -1;
}

void viewlog_enable(struct viewlog *vl, int on)
{
	vl->on = on;
}

int viewlog_isempty(const struct viewlog *vl)
{
	return vl->nrows == 0 && !vl->failed;
}

/* An UPDATE of row, whose values now are st's: nothing if none moved. */
static int put_update(struct viewlog *vl, struct vl_buf *cs,
                      const struct vl_table *t, const struct vl_row *row,
                      sqlite3_stmt *st)
{
	const unsigned char *old = vl->arena.p + row->old_at;
	struct vl_buf *nw = &vl->scratch;
	size_t rewind = cs->n;
	unsigned char op[2] = {SQLITE_UPDATE, (unsigned char)row->indirect};
	int changed_any = 0;

	nw->n = 0;
	if (buf_put(cs, op, 2) < 0)
		return -1;
	for (int c = 0; c < t->ncol; c++) {
		size_t olen = value_len(old), at = nw->n;
		int changed;

		if (put_value(nw, NULL, st, c) < 0)
			return -1;
		changed = nw->n - at != olen || memcmp(nw->p + at, old, olen);
		if (!changed)
			nw->n = at;
		if ((changed || t->pk[c]) ? buf_put(cs, old, olen) < 0
		                          : buf_put(cs, "", 1) < 0)
			return -1;
		if (!changed && buf_put(nw, "", 1) < 0)
			return -1;
		changed_any |= changed;
		old += olen;
	}
	if (!changed_any) {
		cs->n = rewind;
		return 0;
	}
	return buf_put(cs, nw->p, nw->n);
}

static int put_row(struct viewlog *vl, struct vl_buf *cs,
                   const struct vl_table *t, const struct vl_row *row)
{
	const unsigned char *p = vl->arena.p + row->key_at;
	sqlite3_stmt *st = t->now;
	int rc, r = 0;

	for (int k = 0; k < t->npk; k++) {
		bind_value(st, k + 1, p);
		p += value_len(p);
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && row->made) {
		unsigned char op[2] = {SQLITE_INSERT,
		                       (unsigned char)row->indirect};

		r = buf_put(cs, op, 2);
		for (int c = 0; r == 0 && c < t->ncol; c++)
			r = put_value(cs, NULL, st, c);
	} else if (rc == SQLITE_ROW) {
		r = put_update(vl, cs, t, row, st);
	} else if (rc == SQLITE_DONE && !row->made) {
		unsigned char op[2] = {SQLITE_DELETE,
		                       (unsigned char)row->indirect};
		const unsigned char *old = vl->arena.p + row->old_at,
		                    *end = old;

		for (int c = 0; c < t->ncol; c++)
			end += value_len(end);
		r = buf_put(cs, op, 2) < 0
		            ? -1
		            : buf_put(cs, old, (size_t)(end - old));
	} else if (rc != SQLITE_DONE) {
		r = rc;
	}
	sqlite3_reset(st);
	return r < 0 ? SQLITE_NOMEM : r;
}

int viewlog_changeset(struct viewlog *vl, int *n, void **buf)
{
	struct vl_buf cs = {0};
	int rc = SQLITE_OK;

	*n = 0;
	*buf = NULL;
	if (vl->failed)
		return SQLITE_NOMEM;
	for (int ti = 0; ti < vl->nt && rc == SQLITE_OK; ti++) {
		const struct vl_table *t = &vl->t[ti];
		size_t head = cs.n, body;
		unsigned char hdr[10];
		int k;

		hdr[0] = 'T';
		k = put_varint(hdr + 1, (uint64_t)t->ncol);
		if (buf_put(&cs, hdr, 1 + (size_t)k) < 0 ||
		    buf_put(&cs, t->pk, (size_t)t->ncol) < 0 ||
		    buf_put(&cs, t->name, strlen(t->name) + 1) < 0) {
			rc = SQLITE_NOMEM;
			break;
		}
		body = cs.n;
		for (size_t i = 0; i < vl->nrows && rc == SQLITE_OK; i++)
			if (vl->rows[i].table == ti)
				rc = put_row(vl, &cs, t, &vl->rows[i]);
		if (cs.n == body)
			cs.n = head; /* no change of this table's */
	}
	if (rc != SQLITE_OK || cs.n == 0 || cs.n > INT32_MAX) {
		sqlite3_free(cs.p);
		return rc != SQLITE_OK ? rc : cs.n ? SQLITE_TOOBIG : SQLITE_OK;
	}
	*n = (int)cs.n;
	*buf = cs.p;
	return SQLITE_OK;
}

void viewlog_clear(struct viewlog *vl)
{
	vl->nrows = 0;
	vl->arena.n = 0;
	vl->failed = 0;
	if (vl->slots)
		memset(vl->slots, 0, vl->nslots * sizeof(*vl->slots));
}

void viewlog_free(struct viewlog *vl)
{
	if (vl == NULL)
		return;
	sqlite3_preupdate_hook(vl->db, NULL, NULL);
	for (int i = 0; i < vl->nt; i++) {
		struct vl_table *t = &vl->t[i];

		for (int c = 0; c < t->ncol; c++)
			free(t->cols[c]);
		free(t->cols);
		free(t->pk);
		free(t->key);
		free(t->name);
		sqlite3_finalize(t->now);
	}
	free(vl->t);
	free(vl->rows);
	free(vl->slots);
	sqlite3_free(vl->arena.p);
	sqlite3_free(vl->scratch.p);
	free(vl);
}
