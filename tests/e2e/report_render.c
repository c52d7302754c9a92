/*
 * report-render FILE.json OUT.html: smmctl report's renderer fed a report
 * from a file instead of smmd, for tests/e2e/report.sh to render a page
 * with every section filled (engagement, goals, audience: what no sink
 * run fills yet) and look at it in a browser. Times in the report's zone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <jansson.h>

#include "report.h"

int main(int argc, char **argv)
{
	json_error_t jerr;
	json_t *report;
	FILE *out;
	int r;

	if (argc != 3) {
		fprintf(stderr, "usage: report-render FILE.json OUT.html\n");
		return 64;
	}
	if ((report = json_load_file(argv[1], 0, &jerr)) == NULL) {
		fprintf(stderr, "report-render: %s:%d: %s\n", argv[1],
		        jerr.line, jerr.text);
		return 65;
	}
	if (json_is_string(json_object_get(report, "zone")) &&
	    setenv("TZ", json_string_value(json_object_get(report, "zone")),
	           1) == 0)
		tzset();
	if ((out = fopen(argv[2], "w")) == NULL) {
		perror(argv[2]);
		json_decref(report);
		return 73;
	}
	r = report_html(out, report, "test");
	if (fclose(out) != 0)
		r = -1;
	json_decref(report);
	if (r != 0) {
		perror(argv[2]);
		return 74;
	}
	return 0;
}
