/*
 * import: posts from a CSV file, all or nothing. smmctl reads the file
 * (as the user who runs it), checks what it can where it is written
 * (FILE:LINE:COLUMN, LINE where the record starts, COLUMN the field's
 * header), and sends the rows in parts on one connection; smmd checks the
 * rest (channels, ids, slots) and stores them in one transaction, or
 * answers every problem, which smmctl prints at its place in the file.
 *
 * Layouts: smmd's (a header naming at, channels, text, link, media,
 * campaign, id in any order), Publer's 12-column template (Date, Text,
 * Link(s), Media URL(s), ...; a blank date takes the next slot) and
 * Hootsuite's bulk composer (no header: date, text, URL). The last two
 * choose their channels at upload: -c here.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include <jansson.h>

#include "csv.h"
#include "smm/protocol.h"
#include "smmctl.h"
#include "timeparse.h"

#define IMPORT_MAX_FILE (32u * 1024 * 1024)
/* A part's rows, encoded: well inside one protocol line. */
#define IMPORT_PART_BYTES (SMM_MAX_LINE - 4096)

enum field { F_AT, F_CHANNELS, F_TEXT, F_LINK, F_MEDIA, F_CAMPAIGN, F_ID, NF };

static const char *const field_names[NF] = {
        "at", "channels", "text", "link", "media", "campaign", "id",
};

/* One import: the file, its layout, and where each field's column is. */
struct import {
	const char *path;
	const char *format;
	int mdy;             /* Hootsuite dates are mm/dd/yyyy */
	json_t *channels;    /* from -c, or NULL */
	int col[NF];         /* the field's column, or -1 */
	char header[NF][64]; /* its name in the file, for messages */
	int64_t now;
	size_t errors;
};

static void problem(struct import *im, size_t line, enum field f,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void problem(struct import *im, size_t line, enum field f,
                    const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%zu:%s: ", im->path, line,
	        f < NF ? im->header[f] : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	im->errors++;
}

/* The columns of a fixed layout (Publer's, Hootsuite's). */
static void fixed_columns(struct import *im, const char *const *names,
                          const int *fields, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		im->col[fields[i]] = (int)i;
		snprintf(im->header[fields[i]], sizeof(im->header[0]), "%s",
		         names[i]);
	}
}

/* smmd's layout: the header names the fields, in any order. */
static void header_columns(struct import *im, const struct csv_record *r)
{
	for (size_t i = 0; i < r->n; i++) {
		int f = 0;

		while (f < NF && strcasecmp(r->field[i], field_names[f]) != 0)
			f++;
		if (f == NF)
			problem(im, r->line, NF,
			        "unknown column '%s' (known: at, channels, "
			        "text, link, media, campaign, id)",
			        r->field[i]);
		else if (im->col[f] >= 0)
			problem(im, r->line, (enum field)f,
			        "column '%s' given twice", r->field[i]);
		else
			im->col[f] = (int)i;
	}
	if (im->col[F_TEXT] < 0)
		problem(im, r->line, NF, "no 'text' column");
	if (im->col[F_AT] < 0)
		problem(im, r->line, NF, "no 'at' column");
	if (im->col[F_CHANNELS] < 0 && im->channels == NULL)
		problem(im, r->line, NF,
		        "no 'channels' column, and no -c CHANNEL");
}

static int layout(struct import *im, struct csv *csv, struct csv_error *e)
{
	static const char *const publer[] = {"Date", "Text", "Link(s)",
	                                     "Media URL(s)"};
	static const int publer_f[] = {F_AT, F_TEXT, F_LINK, F_MEDIA};
	static const char *const hoot[] = {"A", "B", "C"};
	static const int hoot_f[] = {F_AT, F_TEXT, F_LINK};
	struct csv_record r;
	int rc;

	for (int f = 0; f < NF; f++) {
		im->col[f] = -1;
		snprintf(im->header[f], sizeof(im->header[0]), "%s",
		         field_names[f]);
	}
	if (strcmp(im->format, "hootsuite") == 0) {
		fixed_columns(im, hoot, hoot_f, 3);
		return 0;
	}
	if ((rc = csv_next(csv, &r, e)) <= 0)
		return rc < 0 ? -1
		              : (problem(im, 1, NF, "the file is empty"), 0);
	if (strcmp(im->format, "publer") == 0) {
		for (size_t i = 0; i < 4; i++)
			if (i >= r.n || strcasecmp(r.field[i], publer[i]) != 0)
				problem(im, r.line, NF,
				        "column %zu is '%s', Publer's template "
				        "has '%s' there",
				        i + 1, i < r.n ? r.field[i] : "",
				        publer[i]);
		fixed_columns(im, publer, publer_f, 4);
	} else {
		header_columns(im, &r);
	}
	return 0;
}

/* The cell of field f in r, or "" when its column is absent or short. */
static const char *cell(const struct import *im, const struct csv_record *r,
                        enum field f)
{
	return im->col[f] >= 0 && (size_t)im->col[f] < r->n
	               ? r->field[im->col[f]]
	               : "";
}

/* "a b;c" (Publer: "a||b") as a list of words. */
static json_t *words(const char *s, const char *seps)
{
	json_t *arr = json_array();
	char *copy = strdup(s), *save = NULL;

	for (char *w = copy ? strtok_r(copy, seps, &save) : NULL; w;
	     w = strtok_r(NULL, seps, &save))
		json_array_append_new(arr, json_string(w));
	free(copy);
	return arr;
}

/* Hootsuite's dd/mm/yyyy hh:mm (or mm/dd) as time_parse reads dates. */
static int hootsuite_date(const char *s, int mdy, char *out, size_t len)
{
	unsigned a, b, y, h, m;
	char tail;

	if (sscanf(s, "%2u/%2u/%4u %2u:%2u%c", &a, &b, &y, &h, &m, &tail) != 5)
		return -1;
	snprintf(out, len, "%04u-%02u-%02u %02u:%02u", y, mdy ? a : b,
	         mdy ? b : a, h, m);
	return 0;
}

/* The row's time: a TIME in the user's zone, or the next slot. */
static int row_time(struct import *im, const struct csv_record *r, json_t *row)
{
	const char *at = cell(im, r, F_AT);
	char buf[64], err[128], when[TIME_RFC3339_LEN];
	int64_t ms;

	if (at[0] == '\0' && strcmp(im->format, "publer") == 0)
		at = "next-slot"; /* Publer: a blank date auto-schedules */
	if (strcmp(at, "next-slot") == 0)
		return json_object_set_new(row, "next_slot", json_true());
	if (strcmp(im->format, "hootsuite") == 0) {
		if (hootsuite_date(at, im->mdy, buf, sizeof(buf)) < 0) {
			problem(im, r->line, F_AT,
			        "'%s' is not a date as %s hh:mm", at,
			        im->mdy ? "mm/dd/yyyy" : "dd/mm/yyyy");
			return -1;
		}
		at = buf;
	}
	if (time_parse(at, im->now, &ms, err, sizeof(err)) != 0) {
		problem(im, r->line, F_AT, "'%s': %s", at, err);
		return -1;
	}
	return json_object_set_new(row, "at",
	                           json_string(time_format_rfc3339(ms, when)));
}

/* One record as add's request, with its line; NULL after saying why. */
static json_t *row_of(struct import *im, const struct csv_record *r)
{
	json_t *row = json_pack("{s:I}", "line", (json_int_t)r->line);
	const char *v;

	if (row_time(im, r, row) < 0) {
		json_decref(row);
		return NULL;
	}
	if ((v = cell(im, r, F_TEXT))[0] == '\0')
		problem(im, r->line, F_TEXT, "the text is empty");
	json_object_set_new(row, "text", json_string(v));
	if ((v = cell(im, r, F_CHANNELS))[0] != '\0')
		json_object_set_new(row, "channels", words(v, " ;,"));
	else if (im->channels)
		json_object_set(row, "channels", im->channels);
	else
		problem(im, r->line, F_CHANNELS, "no channel");
	if ((v = cell(im, r, F_LINK))[0] != '\0')
		json_object_set_new(row, "link", json_string(v));
	if ((v = cell(im, r, F_MEDIA))[0] != '\0')
		json_object_set_new(row, "media", words(v, " |"));
	if ((v = cell(im, r, F_CAMPAIGN))[0] != '\0')
		json_object_set_new(row, "campaign", json_string(v));
	if ((v = cell(im, r, F_ID))[0] != '\0')
		json_object_set_new(row, "id", json_string(v));
	return row;
}

/* The whole file, bounded; NULL after saying why. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, got;

	if (f == NULL) {
		ctl_warnx("cannot open '%s': %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (n == cap) {
			char *nb;

			cap = cap ? cap * 2 : 64 * 1024;
			if (cap > IMPORT_MAX_FILE + 1 ||
			    (nb = realloc(buf, cap)) == NULL) {
				ctl_warnx("'%s' is over %u MiB", path,
				          IMPORT_MAX_FILE / (1024 * 1024));
				goto bad;
			}
			buf = nb;
		}
		if ((got = fread(buf + n, 1, cap - n, f)) == 0)
			break;
		n += got;
	}
	if (ferror(f)) {
		ctl_warnx("cannot read '%s': %s", path, strerror(errno));
		goto bad;
	}
	fclose(f);
	*len = n;
	return buf;
bad:
	fclose(f);
	free(buf);
	return NULL;
}

/* Every row of the file, or NULL when any had a problem (all printed). */
static json_t *read_rows(struct import *im, const char *data, size_t len)
{
	struct csv csv;
	struct csv_record r;
	struct csv_error e = {0};
	json_t *rows = json_array(), *row;
	int rc = 0;

	csv_init(&csv, data, len);
	if (layout(im, &csv, &e) == 0)
		while ((rc = csv_next(&csv, &r, &e)) == 1)
			if ((row = row_of(im, &r)) != NULL)
				json_array_append_new(rows, row);
	if (rc < 0 || e.msg[0]) {
		fprintf(stderr, "%s:%zu:%zu: %s\n", im->path, e.line, e.column,
		        e.msg);
		im->errors++;
	}
	csv_free(&csv);
	if (im->errors == 0 && json_array_size(rows) == 0)
		problem(im, 1, NF, "no rows to import");
	if (im->errors) {
		json_decref(rows);
		return NULL;
	}
	return rows;
}

/* smmd's "LINE:FIELD: message" lines, at their place in the file. */
static void print_refusal(const struct import *im, const char *msg)
{
	const char *p = msg;

	while (*p) {
		const char *nl = strchr(p, '\n'),
		           *end = nl ? nl : p + strlen(p);
		const char *colon = memchr(p, ':', (size_t)(end - p));
		const char *colon2 = colon ? memchr(colon + 1, ':',
		                                    (size_t)(end - colon - 1))
		                           : NULL;
		const char *col = NULL;

		for (int f = 0; colon2 && f < NF; f++)
			if ((size_t)(colon2 - colon - 1) ==
			            strlen(field_names[f]) &&
			    strncmp(colon + 1, field_names[f],
			            strlen(field_names[f])) == 0)
				col = im->header[f];
		if (colon2 && col)
			fprintf(stderr, "%s:%.*s:%s%.*s\n", im->path,
			        (int)(colon - p), p, col, (int)(end - colon2),
			        colon2);
		else
			fprintf(stderr, "%s:%.*s\n", im->path, (int)(end - p),
			        p);
		p = nl ? nl + 1 : end;
	}
}

/* Send the rows in parts; the last part's reply is the import's. */
static int send_rows(struct ctl *c, struct import *im, json_t *rows,
                     int dry_run, json_t **result)
{
	char code[64], msg[4096];
	size_t i = 0, n = json_array_size(rows);
	int r;

	do {
		json_t *part = json_array(), *args;
		size_t bytes = 0;

		while (i < n && (bytes == 0 || bytes < IMPORT_PART_BYTES / 2)) {
			json_t *row = json_array_get(rows, i);
			char *text = json_dumps(row, JSON_COMPACT);

			bytes += text ? strlen(text) + 1 : 0;
			free(text);
			if (bytes > IMPORT_PART_BYTES / 2 &&
			    json_array_size(part) > 0)
				break;
			json_array_append(part, row);
			i++;
		}
		args = json_pack("{s:o, s:b, s:b}", "rows", part, "more", i < n,
		                 "dry_run", dry_run);
		json_decref(*result);
		r = ctl_request_msg(c, "import", args, result, code, msg);
		json_decref(args);
		if (r != 0) {
			if (strcmp(code, SMM_ERR_INVALID_ARGUMENT) == 0)
				print_refusal(im, msg);
			else
				ctl_warnx("%s", msg[0] ? msg : code);
			return r;
		}
	} while (i < n);
	return 0;
}

static int cmd_import_run(struct ctl *c, struct ctl_args *a)
{
	struct import im = {.path = a->argv[0], .now = ctl_now_ms()};
	const char *order = NULL;
	json_t *rows, *result = NULL, *v;
	char *data, local[64];
	size_t len, i;
	int r, dry_run = ctl_args_count(a, "dry-run") > 0;

	im.format = ctl_args_get(a, "format");
	im.format = im.format ? im.format : "smmd";
	order = ctl_args_get(a, "date-order");
	im.mdy = order && strcmp(order, "mdy") == 0;
	if (strcmp(im.format, "smmd") != 0 &&
	    strcmp(im.format, "publer") != 0 &&
	    strcmp(im.format, "hootsuite") != 0) {
		ctl_warnx("import: --format is smmd, publer or hootsuite");
		return EX_USAGE;
	}
	if (order && strcmp(order, "dmy") != 0 && !im.mdy) {
		ctl_warnx("import: --date-order is dmy or mdy");
		return EX_USAGE;
	}
	im.channels = json_object_get(a->req, "channels");
	if (strcmp(im.format, "smmd") != 0 && im.channels == NULL) {
		ctl_warnx("import: the %s layout has no channels: give -c "
		          "CHANNEL",
		          im.format);
		return EX_USAGE;
	}
	if ((data = read_file(im.path, &len)) == NULL)
		return EX_NOINPUT;
	rows = read_rows(&im, data, len);
	free(data);
	if (rows == NULL)
		return EX_DATAERR;
	r = send_rows(c, &im, rows, dry_run, &result);
	len = json_array_size(rows);
	json_decref(rows);
	if (r == 0 && a->json)
		r = ctl_print_json(result);
	else if (r == 0 && dry_run)
		json_array_foreach (json_object_get(result, "posts"), i, v)
			printf("%s:%lld  %s  %s\n", im.path, ctl_int(v, "line"),
			       ctl_str(v, "id"),
			       ctl_local_time(ctl_str(v, "due"), local));
	else if (r == 0)
		printf("imported %zu posts from %s\n", len, im.path);
	json_decref(result);
	return r;
}

const struct ctl_cmd cmd_import_entry = {
        .name = "import",
        .help = "queue every post of a CSV file, all or nothing",
        .opts =
                (const struct ctl_opt[]){
                        {"dry-run", 0, CTL_FLAG, 0, NULL, NULL,
                         "check, and print where each post would go"},
                        {"format", 0, CTL_STR, 0, NULL, "LAYOUT",
                         "smmd (default), publer or hootsuite"},
                        {"date-order", 0, CTL_STR, 0, NULL, "ORDER",
                         "hootsuite dates: dmy (default) or mdy"},
                        {"channel", 'c', CTL_CHANNEL, CTL_REPEAT, "channels",
                         "CHANNEL",
                         "channels of rows naming none (publer, hootsuite: "
                         "all)"},
                        {"FILE", 0, CTL_ARG, 0, NULL, NULL,
                         "the CSV file (RFC 4180, UTF-8)"},
                        {0},
                },
        .notes = "smmd layout: a header naming at, channels, text, link,\n"
                 "media, campaign, id (any order); at is a TIME or\n"
                 "next-slot; channels and media are space-separated.\n"
                 "Every problem is printed as FILE:LINE:COLUMN: message\n"
                 "and nothing is queued.",
        .min_args = 1,
        .max_args = 1,
        .flags = CTL_CMD_JSON,
        .run = cmd_import_run,
};
