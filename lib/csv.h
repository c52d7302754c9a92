/*
 * RFC 4180 CSV, read from a buffer one record at a time, for smmctl
 * import: fields separated by commas, records by CRLF or LF, a field in
 * double quotes may hold commas, newlines and doubled quotes. A UTF-8
 * byte order mark (what spreadsheets write) is skipped; text that is not
 * UTF-8, a NUL, a stray quote or an unclosed one is an error with its
 * line and column. Pure: no I/O.
 */
#ifndef SMM_CSV_H
#define SMM_CSV_H

#include <stddef.h>

#define CSV_MAX_FIELDS 64

struct csv {
	const char *p, *end;
	size_t line, column; /* where p is, 1-based; column in bytes */
	char *buf;           /* the current record's fields, unquoted */
	size_t cap;
};

/* One record: its fields (NUL-terminated, valid until the next call). */
struct csv_record {
	size_t line; /* the line it starts on */
	const char *field[CSV_MAX_FIELDS];
	size_t len[CSV_MAX_FIELDS];
	size_t n;
};

/* The problem csv_next found, and where. */
struct csv_error {
	size_t line, column;
	char msg[160];
};

/* Read data (len bytes; not copied: it must outlive the reads). */
void csv_init(struct csv *, const char *data, size_t len);
/*
 * The next record: 1, 0 at the end, or -1 with *err set (the reader then
 * stops: a broken quote leaves nothing after it that can be trusted).
 * A blank line is no record.
 */
int csv_next(struct csv *, struct csv_record *, struct csv_error *err);
void csv_free(struct csv *);

#endif
