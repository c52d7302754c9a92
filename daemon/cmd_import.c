/*
 * import: many posts at once, all or nothing (smmctl import reads the CSV
 * and sends its rows). A row is what add takes, plus "line", the file's
 * line where it starts, for the messages. The rows come in parts of at
 * most a protocol line each ("more": true), kept on the connection; the
 * last part checks every row as add would, placing next-slot rows in
 * slots no earlier row took, and then either answers every problem at
 * once ("LINE: message" a line) and stores nothing, or stores them all in
 * this turn, which is one transaction. "dry_run" checks and says where
 * each would go, and stores nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "command.h"
#include "log.h"
#include "postid.h"
#include "queue.h"
#include "smm/protocol.h"
#include "smmd.h"
#include "store.h"
#include "timeparse.h"
#include "wallclock.h"

#define IMPORT_MAX_ROWS 100000
/* What a connection may hold of one import, its rows as JSON. */
#define IMPORT_MAX_BYTES  (64 * 1024 * 1024)
#define IMPORT_MAX_ERRORS 25 /* listed; the rest counted (a reply's room) */

/*
 * Take this part's rows into what the connection holds: at most
 * IMPORT_MAX_ROWS rows and IMPORT_MAX_BYTES of them, or the import is
 * dropped whole.
 */
static int stage(struct cmd_ctx *x, json_t **staged, size_t *bytes)
{
	json_t *rows = json_object_get(x->args, "rows");
	size_t part = json_is_array(rows) ? json_dumpb(rows, NULL, 0, 0) : 0;

	if (!json_is_array(rows))
		return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
		                "'rows' must be a list of posts");
	if (*staged == NULL && (*staged = json_array()) == NULL)
		return cmd_fail(x, SMM_ERR_INTERNAL, "out of memory");
	if (json_array_size(*staged) + json_array_size(rows) >
	            IMPORT_MAX_ROWS ||
	    *bytes + part > IMPORT_MAX_BYTES) {
		json_decref(*staged);
		*staged = NULL;
		*bytes = 0;
		return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
		                "more than %d rows or %d MiB in one import",
		                IMPORT_MAX_ROWS, IMPORT_MAX_BYTES >> 20);
	}
	*bytes += part;
	if (json_array_extend(*staged, rows) < 0)
		return cmd_fail(x, SMM_ERR_INTERNAL, "out of memory");
	return 0;
}

/* A row's problem, as "LINE:FIELD: message", into the list of them. */
static void row_error(FILE *errs, size_t *n, const json_t *row,
                      const char *field, const char *msg)
{
	if ((*n)++ < IMPORT_MAX_ERRORS)
		fprintf(errs, "%s%lld:%s: %s", *n > 1 ? "\n" : "",
		        (long long)json_integer_value(
		                json_object_get(row, "line")),
		        field ? field : "", msg);
}

/*
 * A row without an id gets one here: sortable by now like add's, with the
 * random part counted up from one draw, so that ten thousand rows made in
 * the same millisecond never share one (30 random bits would, 5% of the
 * time).
 */
static void give_id(json_t *row, int64_t now, uint64_t base, size_t i)
{
	char id[POSTID_GEN_LEN];

	if (json_object_get(row, "id") != NULL)
		return;
	postid_generate(now, base + i, id);
	json_object_set_new(row, "id", json_string(id));
}

/* Check every row; reqs[i] is row i's post. Returns the problems. */
static size_t check_rows(struct cmd_ctx *x, json_t *rows, int64_t now,
                         struct add_req *reqs, struct slot_claims *claims,
                         FILE *errs)
{
	json_t *seen = json_object(), *row;
	uint64_t base = 0;
	char msg[8192];
	const char *code;
	size_t n = 0, i;

	if (getrandom(&base, sizeof(base), 0) != sizeof(base))
		base = (uint64_t)now * 2654435761u;
	json_array_foreach (rows, i, row) {
		struct cmd_ctx rx = *x;
		json_t *none = NULL;

		rx.args = row;
		rx.msg = msg;
		rx.msglen = sizeof(msg);
		rx.code = &code;
		rx.result = &none;
		msg[0] = '\0';
		if (!json_is_object(row)) {
			row_error(errs, &n, row, NULL,
			          "a row must be an object");
			continue;
		}
		give_id(row, now, base, i);
		if (add_check(&rx, now, claims, &reqs[i]) < 0) {
			row_error(errs, &n, row, reqs[i].field,
			          msg[0] ? msg : code);
			continue;
		}
		if (json_object_get(seen, reqs[i].p.id))
			row_error(errs, &n, row, "id",
			          "the same post id as an earlier row");
		else if (store_post_exists(x->d->store, reqs[i].p.id) > 0)
			row_error(errs, &n, row, "id",
			          "a post with this id exists");
		json_object_set_new(seen, reqs[i].p.id, json_true());
		for (size_t c = 0; c < reqs[i].p.nchannels; c++)
			if (slot_claims_add(claims, reqs[i].channels[c],
			                    reqs[i].p.due_ms) < 0)
				row_error(errs, &n, row, NULL, "out of memory");
	}
	json_decref(seen);
	return n;
}

/* Store every row: one turn, so one transaction. */
static json_t *store_rows(struct cmd_ctx *x, json_t *rows, int64_t now,
                          struct add_req *reqs, int dry_run)
{
	json_t *out = json_array(), *one;
	char when[TIME_RFC3339_LEN];

	for (size_t i = 0; i < json_array_size(rows); i++) {
		reqs[i].p.source = "import";
		if (dry_run)
			one = json_pack(
			        "{s:s, s:s}", "id", reqs[i].p.id, "due",
			        time_format_rfc3339(reqs[i].p.due_ms, when));
		else if ((one = add_store(x, &reqs[i], now)) == NULL) {
			/*
			 * Checked, yet the store refused it: a write failed,
			 * and the outage gives the whole turn up.
			 */
			json_decref(out);
			return NULL;
		}
		json_object_set(
		        one, "line",
		        json_object_get(json_array_get(rows, i), "line"));
		json_array_append_new(out, one);
	}
	return out;
}

static enum cmd_retval cmd_import(struct cmd_ctx *x)
{
	struct slot_claims claims = {0};
	json_t *rows, *posts = NULL;
	struct add_req *reqs;
	int more, dry_run;
	size_t nerr, n;
	int64_t now = wallclock_now_ms();
	char *errtext = NULL;
	size_t errlen = 0;
	FILE *errs;

	if (x->later == NULL || x->later->staged == NULL ||
	    x->later->staged_bytes == NULL)
		return cmd_fail(x, SMM_ERR_INTERNAL,
		                "import needs a connection to answer on");
	if (cmd_arg_bool(x, "more", &more) < 0 ||
	    cmd_arg_bool(x, "dry_run", &dry_run) < 0 ||
	    stage(x, x->later->staged, x->later->staged_bytes) < 0)
		return CMD_ERROR;
	if (more) {
		*x->result = json_pack(
		        "{s:I}", "staged",
		        (json_int_t)json_array_size(*x->later->staged));
		return CMD_DONE;
	}
	rows = *x->later->staged;
	*x->later->staged = NULL;
	*x->later->staged_bytes = 0;
	n = json_array_size(rows);
	if ((reqs = calloc(n ? n : 1, sizeof(*reqs))) == NULL ||
	    (errs = open_memstream(&errtext, &errlen)) == NULL) {
		free(reqs);
		json_decref(rows);
		return cmd_fail(x, SMM_ERR_INTERNAL, "out of memory");
	}
	nerr = check_rows(x, rows, now, reqs, &claims, errs);
	if (nerr > IMPORT_MAX_ERRORS)
		fprintf(errs, "\n... and %zu more problems",
		        nerr - IMPORT_MAX_ERRORS);
	fclose(errs);
	if (nerr == 0)
		posts = store_rows(x, rows, now, reqs, dry_run);
	for (size_t i = 0; i < n; i++)
		add_req_clear(&reqs[i]);
	free(reqs);
	slot_claims_free(&claims);
	json_decref(rows);
	if (nerr > 0) {
		cmd_fail(x, SMM_ERR_INVALID_ARGUMENT, "%s", errtext);
		free(errtext);
		return CMD_ERROR;
	}
	free(errtext);
	if (posts == NULL)
		return CMD_ERROR;
	if (!dry_run)
		log_info("control: %zu posts imported", n);
	*x->result =
	        json_pack("{s:b, s:o}", "dry_run", dry_run, "posts", posts);
	return CMD_DONE;
}

const struct cmd_entry cmd_import_entry = {
        .name = "import",
        .flags = CMD_LOCAL | CMD_WRITE | CMD_ADMIN,
        .run = cmd_import,
        .help = "many posts at once, all or nothing",
};
