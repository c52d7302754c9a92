/*
 * The CSV reader of smmctl import (lib/csv.c): any bytes as a file. It
 * must end (records or an error), never read past the buffer, and keep
 * its promises: records start on lines that only go forward, each field
 * is NUL-terminated at its length, an error names a line and column.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of its own size: ASan catches a read past the end. */
	char *buf = malloc(size ? size : 1);
	struct csv c;
	struct csv_record r;
	struct csv_error e = {0};
	size_t last = 0;
	int rc;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	csv_init(&c, buf, size);
	while ((rc = csv_next(&c, &r, &e)) == 1) {
		if (r.line < last || r.n == 0 || r.n > CSV_MAX_FIELDS)
			abort();
		for (size_t i = 0; i < r.n; i++)
			if (strlen(r.field[i]) != r.len[i])
				abort();
		last = r.line;
	}
	if (rc < 0 && (e.line == 0 || e.column == 0 || e.msg[0] == '\0'))
		abort();
	csv_free(&c);
	free(buf);
	return 0;
}
